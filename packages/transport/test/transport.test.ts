/**
 * The Node transport on real loopback sockets: pulled reads into a reused buffer, EOF, timeouts,
 * backpressure, and the active-mode listener's peer check.
 */
import { createHash, randomBytes } from "node:crypto";
import net from "node:net";
import { FtpConnectionError, FtpTimeoutError } from "@ftplib/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { NodeTransport } from "../src/index.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** A loopback server; each connection goes to `onConnection`. */
async function server(
  onConnection: (socket: net.Socket) => void,
  host = "127.0.0.1",
): Promise<{ host: string; port: number; sockets: Set<net.Socket> }> {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    onConnection(socket);
  });
  await new Promise<void>((resolve) => srv.listen(0, host, resolve));
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
    srv.close();
  });
  return { host, port: (srv.address() as net.AddressInfo).port, sockets };
}

async function control(transport = new NodeTransport(), timeout = 1000) {
  const ctl = await server(() => undefined);
  const stream = await transport.connect({ host: ctl.host, port: ctl.port, timeout });
  cleanups.push(() => stream.destroy());
  return stream;
}

async function readAll(
  stream: { read(): Promise<Uint8Array | null> },
  onChunk?: (c: Uint8Array) => void,
): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let chunk = await stream.read(); chunk !== null; chunk = await stream.read()) {
    onChunk?.(chunk);
    parts.push(Buffer.from(chunk));
  }
  return Buffer.concat(parts);
}

describe("NodeTransport", () => {
  it("reads a passive data connection into one reused buffer, byte-exact", async () => {
    const payload = randomBytes(10 * 1024 * 1024);
    const data = await server((socket) => socket.end(payload));
    const ctl = await control(new NodeTransport({ readBufferSize: 64 * 1024 }));
    const conn = await ctl.connectData({ host: data.host, port: data.port, secure: false, timeout: 1000 });
    const buffers = new Set<ArrayBufferLike>();
    const got = await readAll(conn, (chunk) => {
      buffers.add(chunk.buffer);
      expect(chunk.length).toBeLessThanOrEqual(64 * 1024);
    });
    expect(createHash("sha256").update(got).digest("hex")).toBe(createHash("sha256").update(payload).digest("hex"));
    expect(buffers.size).toBe(1);
  });

  it("with ownChunks, hands over chunks that later reads never overwrite", async () => {
    const payload = randomBytes(10 * 1024 * 1024);
    const data = await server((socket) => {
      // Large writes (reads that fill the buffer: handed over) and small ones (copied out).
      socket.write(payload.subarray(0, 5 * 1024 * 1024));
      setTimeout(() => {
        for (let at = 5 * 1024 * 1024; at < payload.length; at += 100_000)
          socket.write(payload.subarray(at, at + 100_000));
        socket.end();
      }, 20);
    });
    const ctl = await control(new NodeTransport({ readBufferSize: 64 * 1024 }));
    const conn = await ctl.connectData({
      host: data.host,
      port: data.port,
      secure: false,
      timeout: 1000,
      ownChunks: true,
    });
    expect(conn.ownsChunks).toBe(true);
    const kept: Uint8Array[] = [];
    for (let chunk = await conn.read(); chunk !== null; chunk = await conn.read()) kept.push(chunk);
    expect(Buffer.compare(Buffer.concat(kept), payload)).toBe(0);
    expect(new Set(kept.map((chunk) => chunk.buffer)).size).toBeGreaterThan(1);
  });

  it("does not miss data and EOF that arrive before the first read", async () => {
    const data = await server((socket) => socket.end("early"));
    const ctl = await control();
    const conn = await ctl.connectData({ host: data.host, port: data.port, secure: false });
    await new Promise((r) => setTimeout(r, 100));
    expect((await readAll(conn)).toString()).toBe("early");
    expect(await conn.read()).toBeNull();
  });

  it("times out a read that waits too long, and closes the socket", async () => {
    const data = await server((socket) => socket.write("a"));
    const ctl = await control();
    const conn = await ctl.connectData({ host: data.host, port: data.port, secure: false, timeout: 200 });
    expect((await conn.read())?.length).toBe(1);
    const started = Date.now();
    await expect(conn.read()).rejects.toBeInstanceOf(FtpTimeoutError);
    expect(Date.now() - started).toBeLessThan(1000);
    await new Promise((r) => setTimeout(r, 50));
    expect(data.sockets.size).toBe(0);
  });

  it("never times out a slow consumer", async () => {
    const data = await server((socket) => socket.end(Buffer.alloc(1000)));
    const ctl = await control();
    const conn = await ctl.connectData({ host: data.host, port: data.port, secure: false, timeout: 100 });
    await new Promise((r) => setTimeout(r, 300));
    expect((await readAll(conn)).length).toBe(1000);
  });

  it("honours backpressure: writes resolve as the peer reads, and time out when it stops", async () => {
    let peer: net.Socket | undefined;
    const data = await server((socket) => {
      peer = socket;
      socket.pause();
    });
    const ctl = await control();
    const conn = await ctl.connectData({ host: data.host, port: data.port, secure: false, timeout: 300 });
    const block = Buffer.alloc(1024 * 1024);
    let written = 0;
    const error = await (async () => {
      for (let i = 0; i < 200; i++) {
        await conn.write(block);
        written += block.length;
      }
    })().catch((e: unknown) => e);
    expect(FtpTimeoutError.isInstance(error)).toBe(true);
    // The kernel buffers some, but far from all of it.
    expect(written).toBeLessThan(100 * block.length);
    expect(peer).toBeDefined();
  });

  it("rejects a pending read with the reason given to destroy()", async () => {
    const data = await server(() => undefined);
    const ctl = await control();
    const conn = await ctl.connectData({ host: data.host, port: data.port, secure: false });
    const pending = conn.read();
    conn.destroy(new FtpConnectionError("gone", { code: "ERR_TEST" }));
    await expect(pending).rejects.toMatchObject({ code: "ERR_TEST" });
  });

  it("reports a refused connection with Node's code", async () => {
    const transport = new NodeTransport();
    const error = await transport.connect({ host: "127.0.0.1", port: 1, timeout: 1000 }).catch((e: unknown) => e);
    expect(FtpConnectionError.isInstance(error)).toBe(true);
    expect((error as FtpConnectionError).code).toBe("ECONNREFUSED");
    expect((error as FtpConnectionError).cause).toBeInstanceOf(Error);
  });

  it("accepts an active data connection from the control peer only", async () => {
    const ctl = await control();
    const listener = await ctl.listenData({ secure: false, timeout: 2000 });
    expect(listener.address.host).toBe("127.0.0.1");
    const intruder = net.connect({ host: "127.0.0.1", port: listener.address.port, localAddress: "127.0.0.2" });
    const intruderClosed = new Promise<void>((resolve) =>
      intruder.on("close", () => resolve()).on("error", () => undefined),
    );
    await intruderClosed;
    const real = net.connect({ host: "127.0.0.1", port: listener.address.port }, () => real.end("ok"));
    const conn = await listener.accept();
    expect((await readAll(conn)).toString()).toBe("ok");
  });

  it("times out an active data connection that never comes", async () => {
    const ctl = await control();
    const listener = await ctl.listenData({ secure: false, timeout: 200 });
    await expect(listener.accept()).rejects.toBeInstanceOf(FtpTimeoutError);
  });

  it("leaves no timer behind when an active listener is closed unused", async () => {
    const ctl = await control();
    const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length;
    const before = timers();
    const listener = await ctl.listenData({ secure: false, timeout: 60_000 });
    expect(timers()).toBe(before + 1);
    listener.close();
    await expect(listener.accept()).rejects.toBeInstanceOf(FtpConnectionError);
    expect(timers()).toBe(before);
  });

  it("listens and connects over IPv6", async () => {
    const ctl6 = await server(() => undefined, "::1");
    const stream = await new NodeTransport().connect({ host: "::1", port: ctl6.port, timeout: 1000 });
    cleanups.push(() => stream.destroy());
    expect(stream.remoteAddress).toMatchObject({ host: "::1", family: "IPv6" });
    const listener = await stream.listenData({ secure: false, timeout: 1000 });
    expect(listener.address.host).toBe("::1");
    listener.close();
  });

  it("validates its options", () => {
    expect(() => new NodeTransport({ readBufferSize: 10 })).toThrow(RangeError);
  });
});

describe("read buffers", () => {
  it("are reused by the next data connection only once the previous one is finished", async () => {
    const data = await server((socket) => socket.end(Buffer.alloc(100, 1)));
    const ctl = await control(new NodeTransport({ readBufferSize: 4096 }));
    const first = await ctl.connectData({ host: data.host, port: data.port, secure: false });
    const chunk = await first.read();
    // Not finished yet (the consumer holds `chunk`): a second connection gets another buffer.
    const second = await ctl.connectData({ host: data.host, port: data.port, secure: false });
    const other = await second.read();
    expect(other!.buffer).not.toBe(chunk!.buffer);
    expect(await first.read()).toBeNull();
    expect(await second.read()).toBeNull();
    await new Promise((r) => setTimeout(r, 20));
    const third = await ctl.connectData({ host: data.host, port: data.port, secure: false });
    const reused = await third.read();
    expect([chunk!.buffer, other!.buffer]).toContain(reused!.buffer);
  });
});
