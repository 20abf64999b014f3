/**
 * The hostile-server kit against the real client: each misbehaviour ends in a typed error (or the
 * right result), and every socket is closed afterwards.
 */
import { ErrorProto, ErrorTemp, FTP, FtpConnectionError, FtpTimeoutError } from "@ftplib/client";
import { testTls } from "@ftplib/test-servers";
import { afterEach, describe, expect, it } from "vitest";
import {
  HANG_UP,
  type HostileServer,
  type Scenario,
  closedPort,
  epsvReply,
  multilineReply,
  overlongReply,
  pasvReply,
  receiveData,
  sendData,
  startHostileServer,
} from "@ftplib/testing";

const servers: HostileServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function hostile(scenario: Scenario, options?: Parameters<typeof startHostileServer>[1]) {
  const server = await startHostileServer(scenario, options);
  servers.push(server);
  return server;
}

async function client(server: HostileServer, options: { timeout?: number; passive?: boolean } = {}): Promise<FTP> {
  const ftp = new FTP({ timeout: options.timeout ?? 1000 });
  if (options.passive === false) ftp.setPasv(false);
  await ftp.connect(server.host, server.port);
  await ftp.login("me", "secret");
  return ftp;
}

describe("command handlers over the defaults", () => {
  it("serves a listing in passive mode and records the commands", async () => {
    const server = await hostile({ NLST: sendData("a\r\nb\r\n") });
    const ftp = await client(server);
    expect(await ftp.nlst()).toEqual(["a", "b"]);
    await ftp.quit();
    expect(server.commands).toEqual(["USER me", "PASS secret", "TYPE A", "EPSV", "NLST", "QUIT"]);
    expect(await server.settled()).toBe(0);
  });

  it("serves active mode (PORT) and takes an upload", async () => {
    let stored: Buffer = Buffer.alloc(0);
    const server = await hostile({ STOR: receiveData((bytes) => (stored = bytes)), RETR: sendData("hello") });
    const ftp = await client(server, { passive: false });
    await ftp.storBinary("STOR x", new TextEncoder().encode("uploaded"));
    expect(stored.toString()).toBe("uploaded");
    const chunks: Uint8Array[] = [];
    await ftp.retrBinary("RETR x", (b) => void chunks.push(Uint8Array.from(b)));
    expect(Buffer.concat(chunks).toString()).toBe("hello");
    expect(server.commands.filter((c) => c.startsWith("PORT"))).toHaveLength(2);
    ftp.close();
  });

  it("a reply split into pieces and a multi-line reply are put together", async () => {
    const server = await hostile({
      HELP: async (session) => {
        await session.sendInPieces(
          multilineReply(214, ["The commands are:", "USER PASS", "Direct comments to nobody."]),
          3,
          5,
        );
      },
    });
    const ftp = await client(server);
    expect(await ftp.sendCmd("HELP")).toBe("214-The commands are:\n USER PASS\n214 Direct comments to nobody.");
    ftp.close();
  });
});

describe("misbehaviour", () => {
  it("a stalled reply: FtpTimeoutError, socket closed", async () => {
    const server = await hostile({ PWD: (session) => session.stall() });
    const ftp = await client(server, { timeout: 300 });
    const error = await ftp.pwd().catch((e: unknown) => e);
    expect(FtpTimeoutError.isInstance(error)).toBe(true);
    expect(await server.settled()).toBe(0);
  });

  it("a hang-up after a command: FtpConnectionError", async () => {
    const server = await hostile({ CWD: () => HANG_UP });
    const ftp = await client(server);
    const error = await ftp.cwd("x").catch((e: unknown) => e);
    expect(FtpConnectionError.isInstance(error)).toBe(true);
    expect(await server.settled()).toBe(0);
  });

  it("a reset in the middle of a download: an error, never a partial file presented as whole", async () => {
    const server = await hostile({
      RETR: sendData(Buffer.alloc(100_000, 7), { cutAfter: 30_000, reset: true, final: "426 aborted" }),
    });
    const ftp = await client(server);
    let received = 0;
    const error = await ftp.retrBinary("RETR big", (b) => void (received += b.length)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(received).toBeLessThanOrEqual(30_000);
    ftp.close();
    expect(await server.settled()).toBe(0);
  });

  it("a data connection that goes quiet midway: FtpTimeoutError, every socket closed", async () => {
    const server = await hostile({ RETR: sendData(Buffer.alloc(50_000, 3), { cutAfter: 1000, stall: true }) });
    const ftp = await client(server, { timeout: 400 });
    let received = 0;
    const error = await ftp.retrBinary("RETR x", (b) => void (received += b.length)).catch((e: unknown) => e);
    expect(FtpTimeoutError.isInstance(error)).toBe(true);
    expect(received).toBe(1000);
    expect(await server.settled()).toBe(0);
  });

  it("a transfer whose final reply is an error fails with that reply", async () => {
    const server = await hostile({ RETR: sendData("partial", { final: "451 local error in processing" }) });
    const ftp = await client(server);
    const error = await ftp.retrBinary("RETR x", () => undefined).catch((e: unknown) => e);
    expect(ErrorTemp.isInstance(error)).toBe(true);
    expect(await ftp.voidCmd("NOOP")).toMatch(/^200/);
    ftp.close();
  });

  it("data after the final reply is read before the transfer resolves", async () => {
    const server = await hostile({ RETR: sendData("first", { afterFinal: "-late" }) });
    const ftp = await client(server);
    const chunks: Uint8Array[] = [];
    await ftp.retrBinary("RETR x", (b) => void chunks.push(Uint8Array.from(b)));
    expect(Buffer.concat(chunks).toString()).toBe("first-late");
    ftp.close();
  });

  it("a bogus PASV target is not trusted; the refused EPSV falls back to it", async () => {
    const server = await hostile({
      EPSV: "500 no EPSV here",
      PASV: async (session) => {
        const listener = await session.passive();
        // Another host: an untrusting client connects to the control peer instead, as it should.
        return pasvReply("10.255.255.1", listener.port);
      },
      NLST: sendData("x\r\n"),
    });
    const ftp = await client(server);
    expect(await ftp.nlst()).toEqual(["x"]);
    ftp.close();
  });

  it("an EPSV port where nothing listens: FtpConnectionError", async () => {
    const port = await closedPort();
    const server = await hostile({ EPSV: epsvReply(port) });
    const ftp = await client(server);
    const error = await ftp.nlst().catch((e: unknown) => e);
    expect(FtpConnectionError.isInstance(error)).toBe(true);
    ftp.close();
  });

  it("an overlong reply line: ErrorProto with ERR_FTP_LINE_TOO_LONG", async () => {
    const server = await hostile({ SYST: overlongReply(215, 20_000) });
    const ftp = await client(server);
    const error = await ftp.sendCmd("SYST").catch((e: unknown) => e);
    expect(ErrorProto.isInstance(error)).toBe(true);
    expect((error as ErrorProto).code).toBe("ERR_FTP_LINE_TOO_LONG");
    expect(await server.settled()).toBe(0);
  });

  it("a script drives a session by hand, TLS included", async () => {
    const server = await hostile(
      async (session) => {
        await session.send("220 scripted\r\n");
        await session.until("AUTH");
        await session.reply(234, "go ahead");
        await session.startTls();
        expect(await session.until("USER")).toBe("USER me");
        await session.reply(230, "in");
        await session.until("QUIT");
        await session.reply(221, "bye");
        session.hangUp();
      },
      { tls: { key: testTls.key, cert: testTls.cert } },
    );
    const { FTP_TLS } = await import("@ftplib/client");
    const ftps = new FTP_TLS({ timeout: 2000, tls: { ca: testTls.ca } });
    await ftps.connect(server.host, server.port);
    await ftps.login("me", "secret");
    expect(ftps.secure).toBe(true);
    await ftps.quit();
    expect(server.errors).toEqual([]);
    expect(await server.settled()).toBe(0);
  });
});
