/**
 * Timeouts and misbehaving servers, scripted: each ends in a typed error within the timeout, with
 * every socket the client opened closed.
 */
import { spawn } from "node:child_process";
import net from "node:net";
import { parsePortArgument } from "@ftplib/protocol";
import { afterEach, describe, expect, it } from "vitest";
import {
  ErrorPerm,
  ErrorProto,
  ErrorReply,
  ErrorTemp,
  FTP,
  FtpConnectionError,
  FtpTimeoutError,
  LocalProtocolError,
} from "@ftplib/client";
import { type HostileServer, type HostileSession, startHostileServer } from "@ftplib/testing";
import { greetAndLogin, passiveTransfer } from "./scripts.js";

const servers: HostileServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function scripted(script: (session: HostileSession) => Promise<void>) {
  const server = await startHostileServer(script);
  servers.push(server);
  return server;
}

async function client(server: HostileServer, timeout = 500): Promise<FTP> {
  const ftp = new FTP({ timeout });
  await ftp.connect(server.host, server.port);
  await ftp.login();
  return ftp;
}

/** Runs `action`, expecting a rejection of `kind` within `limit` ms. */
async function failsWithin(limit: number, action: () => Promise<unknown>): Promise<unknown> {
  const started = Date.now();
  const error = await action().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(Date.now() - started).toBeLessThan(limit);
  return error;
}

describe("timeouts", () => {
  it("a server that never greets: FtpTimeoutError, socket closed", async () => {
    const server = await scripted(() => Promise.resolve());
    const ftp = new FTP({ timeout: 300 });
    const error = await failsWithin(2000, () => ftp.connect(server.host, server.port));
    expect(FtpTimeoutError.isInstance(error)).toBe(true);
    expect((error as FtpTimeoutError).code).toBe("ERR_FTP_NO_GREETING");
    expect((error as Error).message).toMatch(/^no greeting from the server within 300 ms/);
    expect(await server.settled()).toBe(0);
  });

  it("a server that stops answering: FtpTimeoutError, socket closed", async () => {
    const server = await scripted(async (session) => {
      await session.send("220 hello\r\n");
      await session.command();
    });
    const ftp = new FTP({ timeout: 300 });
    await ftp.connect(server.host, server.port);
    const error = await failsWithin(2000, () => ftp.login());
    expect(FtpTimeoutError.isInstance(error)).toBe(true);
    expect(await server.settled()).toBe(0);
    await expect(ftp.pwd()).rejects.toBeInstanceOf(FtpConnectionError);
  });

  it("a data connection that goes quiet: FtpTimeoutError, both sockets closed", async () => {
    const server = await scripted(async (session) => {
      await greetAndLogin(session);
      const { data } = await passiveTransfer(session, "RETR");
      await session.send("150 here it comes\r\n");
      (await data()).write(Buffer.alloc(1000));
      // ... and nothing more, on either connection.
    });
    const ftp = await client(server, 400);
    let received = 0;
    const error = await failsWithin(3000, () => ftp.retrBinary("RETR x", (b) => void (received += b.length)));
    expect(FtpTimeoutError.isInstance(error)).toBe(true);
    expect(received).toBe(1000);
    expect(await server.settled()).toBe(0);
  });

  it("a connect that is never accepted: FtpTimeoutError", async () => {
    // A listener with a full accept queue drops new SYNs, so the connect hangs.
    const python = spawn("python3", [
      "-c",
      [
        "import socket, sys, time",
        "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(0)",
        "print(s.getsockname()[1], flush=True)",
        "time.sleep(20)",
      ].join("\n"),
    ]);
    try {
      const port = Number(
        await new Promise<string>((resolve) => python.stdout.once("data", (d) => resolve(String(d)))),
      );
      const fillers = Array.from({ length: 4 }, () => net.connect(port, "127.0.0.1").on("error", () => undefined));
      await new Promise((r) => setTimeout(r, 200));
      const ftp = new FTP({ timeout: 300 });
      const error = await failsWithin(3000, () => ftp.connect("127.0.0.1", port));
      expect(FtpTimeoutError.isInstance(error) || FtpConnectionError.isInstance(error)).toBe(true);
      for (const f of fillers) f.destroy();
    } finally {
      python.kill();
    }
  });
});

describe("ftplib cases on the wire", () => {
  /** A server that answers `250 ok` to everything, and NLST with `nlst` when given. */
  function okServer(nlst?: Buffer) {
    return scripted(async (session) => {
      await greetAndLogin(session);
      for (;;) {
        const line = await session.command();
        if (line === null) return;
        if (line === "EPSV" && nlst !== undefined) {
          const data = await session.passive();
          await session.send(`229 (|||${data.port}|)\r\n`);
          await session.until("NLST");
          await session.send("150 ok\r\n");
          (await data.connection()).end(nlst);
          await session.send("226 done\r\n");
          continue;
        }
        await session.send("250 ok\r\n");
      }
    });
  }

  it("sends names in latin-1 when asked (test_encoding_param)", async () => {
    const server = await okServer();
    const ftp = new FTP({ timeout: 1000, encoding: "latin-1" });
    await ftp.connect(server.host, server.port);
    await ftp.login();
    await ftp.cwd("café");
    // The raw bytes of the last command line the server received.
    expect(server.commandBytes.at(-1)).toEqual(Buffer.from([0x43, 0x57, 0x44, 0x20, 0x63, 0x61, 0x66, 0xe9]));
    await expect(ftp.cwd("世界")).rejects.toBeInstanceOf(LocalProtocolError);
    expect(await ftp.voidCmd("NOOP")).toMatch(/^250/);
  });

  it("sends a name read from a listing back byte for byte, even when it is not UTF-8", async () => {
    const name = Buffer.from([0x61, 0xff, 0xe9, 0x62]);
    const server = await okServer(Buffer.concat([name, Buffer.from("\r\n")]));
    const ftp = await client(server, 1000);
    const [listed] = await ftp.nlst();
    expect(listed).toBe("a\udcff\udce9b");
    await ftp.delete(listed!);
    expect(server.commandBytes.at(-1)).toEqual(Buffer.concat([Buffer.from("DELE "), name]));
  });

  it("raises ErrorProto for a reply line longer than maxline (test_line_too_long)", async () => {
    const server = await scripted(async (session) => {
      await greetAndLogin(session);
      await session.command();
      await session.send(`500 ${"x".repeat(20000)}\r\n`);
    });
    const ftp = await client(server);
    const error = await ftp.sendCmd(`HELP ${"x".repeat(ftp.maxline * 2)}`).catch((e: unknown) => e);
    expect(ErrorProto.isInstance(error)).toBe(true);
    expect((error as ErrorProto).code).toBe("ERR_FTP_LINE_TOO_LONG");
    await expect(ftp.voidCmd("NOOP")).rejects.toBeInstanceOf(FtpConnectionError);
  });

  it.each([
    [false, "127.0.0.1"],
    [true, "127.0.0.2"],
  ])(
    "uses the 227 host only when trusted (trustServerPasvIpv4Address: %s, test_makepasv_issue43285)",
    async (trust, expected) => {
      let connectedTo = "";
      const server = await scripted(async (session) => {
        await greetAndLogin(session);
        await session.until("EPSV");
        await session.send("500 no EPSV\r\n");
        await session.until("PASV");
        // The reply names another loopback host, where the only listener is.
        const data = await session.passive("127.0.0.2");
        await session.send(`227 Entering Passive Mode (127,0,0,2,${data.port >> 8},${data.port & 255})\r\n`);
        await session.until("NLST");
        await session.send("150 ok\r\n");
        const socket = await data.connection();
        connectedTo = socket.localAddress ?? "";
        socket.end("x\r\n");
        await session.send("226 done\r\n");
      });
      const ftp = new FTP({ timeout: 1000, trustServerPasvIpv4Address: trust });
      await ftp.connect(server.host, server.port);
      await ftp.login();
      const result = await ftp.nlst().catch((e: unknown) => e);
      if (trust) {
        expect(result).toEqual(["x"]);
        expect(connectedTo).toBe(expected);
      } else {
        // The untrusting client connects to 127.0.0.1, where nothing listens on that port.
        expect(FtpConnectionError.isInstance(result), String(result)).toBe(true);
        expect(connectedTo).toBe("");
      }
    },
  );
});

describe("misbehaving servers", () => {
  it("ignores the host of a 227 reply and connects to the control peer", async () => {
    let dataFrom = "";
    const server = await scripted(async (session) => {
      await greetAndLogin(session);
      await session.until("EPSV", () => "200 ok\r\n").catch(() => undefined);
      await session.send("502 EPSV not implemented\r\n");
      await session.until("PASV");
      const data = await session.passive();
      // Points to another host: a client that trusted it would connect there.
      await session.send(`227 Entering Passive Mode (10,11,12,13,${data.port >> 8},${data.port & 255})\r\n`);
      await session.until("NLST");
      await session.send("150 ok\r\n");
      const socket = await data.connection();
      dataFrom = socket.remoteAddress ?? "";
      socket.end("a\r\nb\r\n");
      await session.send("226 done\r\n");
      // A second listing: EPSV is not tried again on this server (and TYPE A is still set).
      const again = await session.command();
      await session.send(again === "PASV" ? "421 bye\r\n" : `500 got ${again}\r\n`);
    });
    const ftp = await client(server);
    expect(await ftp.nlst()).toEqual(["a", "b"]);
    expect(dataFrom).toMatch(/127\.0\.0\.1$/);
    await expect(ftp.nlst()).rejects.toMatchObject({ replyCode: 421 });
  });

  it("accepts a data connection that closes before the 1xx reply (empty transfer)", async () => {
    const server = await scripted(async (session) => {
      await greetAndLogin(session);
      const { data } = await passiveTransfer(session, "NLST");
      (await data()).end();
      await new Promise((r) => setTimeout(r, 50));
      await session.send("150 ok\r\n226 done\r\n");
    });
    const ftp = await client(server);
    expect(await ftp.nlst()).toEqual([]);
  });

  it("tolerates a 2xx before the 1xx, as ftplib does", async () => {
    const server = await scripted(async (session) => {
      await greetAndLogin(session);
      const { data } = await passiveTransfer(session, "NLST");
      await session.send("200 odd\r\n150 ok\r\n");
      (await data()).end("x\r\n");
      await session.send("226 done\r\n");
    });
    const ftp = await client(server);
    expect(await ftp.nlst()).toEqual(["x"]);
  });

  it("never reports a download complete when the data ends short of the announced size", async () => {
    const server = await scripted(async (session) => {
      await greetAndLogin(session);
      const { data } = await passiveTransfer(session, "RETR");
      await session.send("150 Opening BINARY mode data connection for f (5000 bytes)\r\n");
      (await data()).end(Buffer.alloc(3000));
      await session.send("226 Transfer complete\r\n");
      await session.until("NOOP");
      await session.send("200 ok\r\n");
    });
    const ftp = await client(server);
    const error = await ftp.retrBinary("RETR f", () => undefined).catch((e: unknown) => e);
    expect(ErrorProto.isInstance(error)).toBe(true);
    expect((error as ErrorProto).code).toBe("ERR_FTP_SHORT_TRANSFER");
    expect(await ftp.voidCmd("NOOP")).toMatch(/^200/);
  });

  it("rejects a transfer whose final reply is 4xx while data still flows, and closes the data connection", async () => {
    const server = await scripted(async (session) => {
      await greetAndLogin(session);
      const { data } = await passiveTransfer(session, "RETR");
      await session.send("150 ok\r\n");
      (await data()).write(Buffer.alloc(100));
      await session.send("451 Local error in processing\r\n");
      await session.until("NOOP");
      await session.send("200 still here\r\n");
    });
    const ftp = await client(server, 2000);
    const started = Date.now();
    await expect(ftp.retrBinary("RETR f", () => undefined)).rejects.toBeInstanceOf(ErrorTemp);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(await ftp.voidCmd("NOOP")).toMatch(/^200/);
    expect(await server.settled(500)).toBe(1);
  });

  it("fails a transfer when the server hangs up the control connection", async () => {
    const server = await scripted(async (session) => {
      await greetAndLogin(session);
      const { data } = await passiveTransfer(session, "RETR");
      await session.send("150 ok\r\n");
      const socket = await data();
      socket.write(Buffer.alloc(100));
      session.socket.destroy();
      socket.destroy();
    });
    const ftp = await client(server);
    const error = await ftp.retrBinary("RETR f", () => undefined).catch((e: unknown) => e);
    expect(FtpConnectionError.isInstance(error)).toBe(true);
    expect(await server.settled()).toBe(0);
  });

  it("raises ErrorReply for a 3xx where a 1xx must come", async () => {
    const server = await scripted(async (session) => {
      await greetAndLogin(session);
      await passiveTransfer(session, "RETR");
      await session.send("350 what?\r\n");
      await session.until("NOOP");
      await session.send("200 ok\r\n");
    });
    const ftp = await client(server);
    await expect(ftp.retrBinary("RETR f", () => undefined)).rejects.toBeInstanceOf(ErrorReply);
    expect(await ftp.voidCmd("NOOP")).toMatch(/^200/);
  });

  it("refuses an active-mode data connection from another host and waits for the server's", async () => {
    let intruderRefused = false;
    const server = await scripted(async (session) => {
      await greetAndLogin(session);
      const port = await session.until("PORT");
      await session.send("200 ok\r\n");
      const n = port.slice(5).split(",").map(Number);
      const target = { host: n.slice(0, 4).join("."), port: n[4]! * 256 + n[5]! };
      await session.until("LIST");
      // An intruder from 127.0.0.2 (still loopback) gets in first; it must be dropped.
      const intruder = net.connect({ ...target, localAddress: "127.0.0.2" });
      await new Promise<void>((resolve) =>
        intruder
          .on("close", () => resolve())
          .on("error", () => undefined)
          .on("data", () => undefined),
      );
      intruderRefused = true;
      await session.send("150 ok\r\n");
      const real = net.connect(target, () => real.end("real\r\n"));
      real.on("close", () => void session.send("226 done\r\n"));
    });
    const ftp = await client(server);
    ftp.setPasv(false);
    const lines: string[] = [];
    await ftp.dir((line) => lines.push(line));
    expect(intruderRefused).toBe(true);
    expect(lines).toEqual(["real"]);
  });

  it("closes an active-mode data connection made before a refusal (pyftpdlib connects on PORT)", async () => {
    let dataClosed: Promise<void> | undefined;
    const server = await scripted(async (session) => {
      await greetAndLogin(session);
      const [host, port] = parsePortArgument((await session.until("PORT")).slice(5));
      const early = net.connect({ host, port });
      dataClosed = new Promise<void>((resolve) =>
        early
          .on("close", () => resolve())
          .on("error", () => undefined)
          .resume(),
      );
      await new Promise<void>((resolve) => early.on("connect", () => resolve()));
      await session.send("200 ok\r\n");
      await session.until("RETR");
      await session.send("550 No such file or directory.\r\n");
      await session.until("NOOP");
      await session.send("200 ok\r\n");
    });
    const ftp = await client(server, 20_000);
    ftp.setPasv(false);
    await expect(ftp.retrBinary("RETR missing", () => undefined)).rejects.toBeInstanceOf(ErrorPerm);
    // The client hangs up the unused data connection at once, not after the 20 s timeout.
    const started = Date.now();
    await dataClosed;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await ftp.voidCmd("NOOP")).toMatch(/^200/);
  });
});
