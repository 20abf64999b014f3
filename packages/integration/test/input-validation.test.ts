/**
 * Input from the caller: a name or command with CR, LF or NUL in it is refused before a byte of
 * the call goes out (checked on the bytes the server receives), and absurd options are refused at
 * construction with an error that names them.
 */
import { mkdtemp, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FTP, FTP_TLS, FtpPool, LocalProtocolError, ftpcp } from "@ftplib/client";
import { type HostileServer, startHostileServer } from "@ftplib/testing";

const BAD = ["a\r\nDELE victim", "a\nb", "a\rb", "a\0b"];

describe("CR, LF and NUL in names and commands", () => {
  let server: HostileServer;
  /** Every byte the server received on control connections since a test last emptied it. */
  let received = Buffer.alloc(0);
  let sessions = 0;
  let local: string;
  let ftp: FTP;

  beforeAll(async () => {
    local = await mkdtemp(join(tmpdir(), "ftplib-input-"));
    await writeFile(join(local, "file.txt"), "x");
    server = await startHostileServer(async (session) => {
      sessions++;
      session.socket.on("data", (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
      await session.send("220 scripted\r\n");
      for (;;) {
        const line = await session.command();
        if (line === null) return;
        await session.send(line.startsWith("USER") ? "230 ok\r\n" : "200 ok\r\n");
      }
    });
    ftp = new FTP({ timeout: 2000 });
    await ftp.connect(server.host, server.port);
    await ftp.login();
  });
  afterAll(async () => {
    ftp?.close();
    await server?.close();
    await rm(local, { recursive: true, force: true });
  });

  const sink = () => new Writable({ write: (_chunk, _encoding, done) => done() });
  const drain = async (iterable: AsyncIterable<unknown>) => {
    for await (const _ of iterable);
  };

  /** Every path-taking call, with `bad` in the name (or in the command) it would send. */
  const calls: [string, (bad: string) => Promise<unknown>][] = [
    ["sendCmd", (bad) => ftp.sendCmd(`NOOP ${bad}`)],
    ["voidCmd", (bad) => ftp.voidCmd(`NOOP ${bad}`)],
    ["login (user)", (bad) => ftp.login(bad, "p")],
    ["login (password)", (bad) => ftp.login("user", bad)],
    ["login (acct)", (bad) => ftp.login("user", "p", bad)],
    ["acct", (bad) => ftp.acct(bad)],
    ["cwd", (bad) => ftp.cwd(bad)],
    ["delete", (bad) => ftp.delete(bad)],
    ["size", (bad) => ftp.size(bad)],
    ["mkd", (bad) => ftp.mkd(bad)],
    ["rmd", (bad) => ftp.rmd(bad)],
    ["lastMod", (bad) => ftp.lastMod(bad)],
    ["setLastMod", (bad) => ftp.setLastMod(bad, new Date())],
    ["mlst", (bad) => ftp.mlst(bad)],
    ["rename (from)", (bad) => ftp.rename(bad, "ok")],
    ["rename (to)", (bad) => ftp.rename("ok", bad)],
    ["nlst", (bad) => ftp.nlst(bad)],
    ["dir", (bad) => ftp.dir(bad, () => undefined)],
    ["retrBinary", (bad) => ftp.retrBinary(`RETR ${bad}`, () => undefined)],
    ["retrLines", (bad) => ftp.retrLines(`LIST ${bad}`, () => undefined)],
    ["storBinary", (bad) => ftp.storBinary(`STOR ${bad}`, new Uint8Array(1))],
    ["storLines", (bad) => ftp.storLines(`STOR ${bad}`, "line\n")],
    ["transferCmd", (bad) => ftp.transferCmd(`RETR ${bad}`)],
    ["ntransferCmd", (bad) => ftp.ntransferCmd(`RETR ${bad}`)],
    ["mlsd (path)", (bad) => drain(ftp.mlsd(bad))],
    ["mlsd (facts)", (bad) => drain(ftp.mlsd("", ["type", bad]))],
    ["list", (bad) => ftp.list(bad)],
    ["listStream", (bad) => drain(ftp.listStream(bad))],
    ["download to a stream", (bad) => ftp.download(bad, sink())],
    ["download to a path", (bad) => ftp.download(bad, join(local, "out"))],
    ["upload", (bad) => ftp.upload(join(local, "file.txt"), bad)],
    ["upload (resume)", (bad) => ftp.upload(join(local, "file.txt"), bad, { resume: true })],
    ["append", (bad) => ftp.append(join(local, "file.txt"), bad)],
    ["ensureDir", (bad) => ftp.ensureDir(`ok/${bad}/deeper`)],
    ["removeDir", (bad) => ftp.removeDir(bad)],
    ["walk", (bad) => ftp.walk(bad)],
    ["downloadDir", (bad) => ftp.downloadDir(bad, join(local, "tree"))],
    ["uploadDir", (bad) => ftp.uploadDir(local, `ok/${bad}`)],
    ["ftpcp (source name)", (bad) => ftpcp(ftp, bad, ftp, "ok")],
    ["ftpcp (target name)", (bad) => ftpcp(ftp, "ok", ftp, bad)],
  ];

  it.each(calls)("%s refuses it before sending a byte, and the connection stays usable", async (_name, call) => {
    for (const bad of BAD) {
      received = Buffer.alloc(0);
      const error = await call(bad).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(LocalProtocolError.isInstance(error), `${JSON.stringify(bad)}: ${String(error)}`).toBe(true);
      expect((error as LocalProtocolError).code).toBe("ERR_FTP_INVALID_COMMAND");
      // The next command is the first thing the server sees.
      expect(await ftp.voidCmd("NOOP")).toBe("200 ok");
      expect(received.toString("latin1")).toBe("NOOP\r\n");
    }
  });

  it("uploadDir reads the local tree first: a local name with LF fails before any upload", async () => {
    const tree = await mkdtemp(join(tmpdir(), "ftplib-tree-"));
    try {
      await mkdir(join(tree, "sub"));
      await writeFile(join(tree, "a.txt"), "a");
      await writeFile(join(tree, "sub", "evil\nDELE x"), "b");
      received = Buffer.alloc(0);
      const error = await ftp.uploadDir(tree, "remote").catch((e: unknown) => e);
      expect(LocalProtocolError.isInstance(error), String(error)).toBe(true);
      expect(await ftp.voidCmd("NOOP")).toBe("200 ok");
      expect(received.toString("latin1")).toBe("NOOP\r\n");
    } finally {
      await rm(tree, { recursive: true, force: true });
    }
  });

  it("FTP_TLS.login refuses bad credentials before AUTH TLS", async () => {
    const ftps = new FTP_TLS({ timeout: 2000 });
    await ftps.connect(server.host, server.port);
    try {
      for (const bad of BAD) {
        received = Buffer.alloc(0);
        await expect(ftps.login("user", bad)).rejects.toMatchObject({ code: "ERR_FTP_INVALID_COMMAND" });
        expect(await ftps.voidCmd("NOOP")).toBe("200 ok");
        expect(received.toString("latin1")).toBe("NOOP\r\n");
      }
    } finally {
      ftps.close();
    }
  });

  it("refuses a name the encoding cannot hold before sending a byte", async () => {
    const latin = new FTP({ timeout: 2000, encoding: "latin-1" });
    await latin.connect(server.host, server.port);
    try {
      received = Buffer.alloc(0);
      const error = await latin.ensureDir("ok/世界").catch((e: unknown) => e);
      expect((error as LocalProtocolError).code).toBe("ERR_FTP_UNENCODABLE");
      expect(await latin.voidCmd("NOOP")).toBe("200 ok");
      expect(received.toString("latin1")).toBe("NOOP\r\n");
    } finally {
      latin.close();
    }
  });

  it("FTP.open and the pool refuse bad names before connecting at all", async () => {
    const before = sessions;
    const open = { host: server.host, port: server.port, timeout: 2000 };
    for (const bad of BAD) {
      await expect(FTP.open({ ...open, user: "u", password: bad })).rejects.toMatchObject({
        code: "ERR_FTP_INVALID_COMMAND",
      });
      const pool = new FtpPool({ connect: () => FTP.open(open), size: 2 });
      await expect(
        pool.downloadMany([
          ["ok", join(local, "x")],
          [bad, join(local, "y")],
        ]),
      ).rejects.toMatchObject({ code: "ERR_FTP_INVALID_COMMAND" });
      await expect(pool.uploadMany([[join(local, "file.txt"), bad]])).rejects.toMatchObject({
        code: "ERR_FTP_INVALID_COMMAND",
      });
      await pool.close();
    }
    expect(sessions).toBe(before);
  });
});

describe("absurd options are refused at construction, naming the option", () => {
  const cases: [string, () => unknown][] = [
    ["timeout", () => new FTP({ timeout: -1 })],
    ["timeout", () => new FTP({ timeout: Number.NaN })],
    ["timeout", () => new FTP({ timeout: Infinity })],
    ["timeout", () => new FTP({ timeout: 2 ** 40 })],
    ["timeout", () => new FTP({ timeout: "30" as unknown as number })],
    ["keepAlive", () => new FTP({ keepAlive: -5 })],
    ["maxline", () => new FTP({ maxline: 2 })],
    ["maxline", () => new FTP({ maxline: 1.5 })],
    ["maxline", () => new FTP({ maxline: 2 ** 30 })],
    ["debugLevel", () => new FTP({ debugLevel: -1 })],
    ["debugLevel", () => new FTP({ debugLevel: 0.5 })],
    ["debugOutput", () => new FTP({ debugOutput: "stderr" as unknown as () => void })],
    ["passive", () => new FTP({ passive: "no" as unknown as boolean })],
    ["trustServerPasvIpv4Address", () => new FTP({ trustServerPasvIpv4Address: 1 as unknown as boolean })],
    ["transport", () => new FTP({ transport: {} as never })],
    ["sourceAddress.host", () => new FTP({ sourceAddress: { host: "" } })],
    ["sourceAddress.host", () => new FTP({ sourceAddress: ["127.0.0.1\r\n", 0] })],
    ["sourceAddress.port", () => new FTP({ sourceAddress: ["127.0.0.1", 70000] })],
    ["sourceAddress.port", () => new FTP({ sourceAddress: { host: "127.0.0.1", port: -1 } })],
    ["implicit", () => new FTP_TLS({ implicit: "yes" as unknown as boolean })],
    ["tls", () => new FTP_TLS({ tls: "insecure" as never })],
    ["size", () => new FtpPool({ connect: () => FTP.open({ host: "127.0.0.1" }), size: 0 })],
    ["size", () => new FtpPool({ connect: () => FTP.open({ host: "127.0.0.1" }), size: 70_000 })],
    ["connect", () => new FtpPool({} as never)],
  ];

  it.each(cases)("%s", (option, make) => {
    let error: unknown;
    try {
      make();
    } catch (e) {
      error = e;
    }
    expect(error instanceof RangeError || error instanceof TypeError, String(error)).toBe(true);
    expect(error).toMatchObject({ code: "ERR_FTP_INVALID_OPTION", option });
    expect(String(error)).toContain(option);
  });

  it("refuses absurd call options before queueing the call", async () => {
    const ftp = new FTP();
    const expectOption = (promise: Promise<unknown>, option: string) =>
      expect(promise).rejects.toMatchObject({ code: "ERR_FTP_INVALID_OPTION", option });
    await expectOption(ftp.connect("127.0.0.1", 70000), "port");
    await expectOption(ftp.connect("bad host\r\n"), "host");
    await expectOption(ftp.connect("127.0.0.1", 21, { timeout: -1 }), "timeout");
    await expectOption(
      ftp.retrBinary("RETR x", () => undefined, { blocksize: -1 }),
      "blocksize",
    );
    await expectOption(
      ftp.retrBinary("RETR x", () => undefined, { rest: -3 }),
      "rest",
    );
    await expectOption(
      ftp.retrBinary("RETR x", () => undefined, { rest: "1\r\nDELE x" }),
      "rest",
    );
    await expectOption(ftp.storBinary("STOR x", new Uint8Array(1), { blocksize: 0 }), "blocksize");
    await expectOption(ftp.storBinary("STOR x", new Uint8Array(1), { blocksize: 2 ** 31 }), "blocksize");
    await expectOption(ftp.ntransferCmd("RETR x", 1.5), "rest");
    await expectOption(ftp.download("x", "/tmp/never", { onProgress: 5 as never }), "onProgress");
    await expectOption(ftp.download("x", "/tmp/never", { signal: {} as never }), "signal");
    await expectOption(ftp.download("x", "/tmp/never", { size: -1 }), "size");
    await expectOption(ftp.download("x", "/tmp/never", { size: 1.5 }), "size");
    await expectOption(ftp.download("x", "/tmp/never", { fsync: "yes" as never }), "fsync");
    await expectOption(
      ftp.retrBinary("RETR x", () => undefined, { onStart: 5 as never }),
      "onStart",
    );
    await expectOption(ftp.listStream("", { maxBytes: 0 }).next(), "maxBytes");
    const pool = new FtpPool({ connect: () => Promise.reject(new Error("not reached")) });
    await expectOption(pool.downloadMany([["a", "/tmp/never"]], { concurrency: 0 }), "concurrency");
    expect(() => ftp.setDebugLevel(-1)).toThrow(RangeError);
  });
});
