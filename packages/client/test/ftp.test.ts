/**
 * The FTP class against the embedded server (ftp-srv), in passive and active mode, over IPv4 and
 * IPv6: every method, byte-exact round trips, resume, abort, UTF-8 names, and the cases of
 * CPython's test_ftplib.py that apply.
 */
import { createHash, randomBytes } from "node:crypto";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { readFile, writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ErrorPerm,
  ErrorProto,
  ErrorReply,
  FTP,
  FtpConnectionError,
  FtpError,
  FtpTimeoutError,
  LocalProtocolError,
  allErrors,
  isFtpError,
} from "../src/index.js";
import { type EmbeddedServer, startEmbeddedServer } from "@ftplib/test-servers";

const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");
const BIG = randomBytes(50 * 1024 * 1024);
const SMALL = randomBytes(1500);

async function download(ftp: FTP, name: string, rest?: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  await ftp.retrBinary(`RETR ${name}`, (block) => {
    parts.push(Buffer.from(block));
  }, rest === undefined ? {} : { rest });
  return Buffer.concat(parts);
}

const modes = [
  { family: "IPv4", host: "127.0.0.1", passive: true },
  { family: "IPv4", host: "127.0.0.1", passive: false },
  { family: "IPv6", host: "::1", passive: true },
  { family: "IPv6", host: "::1", passive: false },
] as const;

describe.each(modes)("FTP over $family, passive: $passive", ({ host, passive }) => {
  let server: EmbeddedServer;
  let ftp: FTP;

  beforeAll(async () => {
    server = await startEmbeddedServer(host);
    ftp = await FTP.open({ host: server.host, port: server.port, user: server.user, password: server.password, timeout: 10_000, passive });
  });
  afterAll(async () => {
    ftp?.close();
    await server?.close();
  });

  it("greets, logs in, and knows where it is", async () => {
    expect(ftp.getWelcome()).toMatch(/^220/);
    expect(ftp.welcome).toBe(ftp.getWelcome());
    expect(ftp.host).toBe(host);
    expect(ftp.port).toBe(server.port);
    expect(await ftp.pwd()).toBe("/");
    expect(ftp.lastResp).toBe("257");
  });

  it.each([
    ["empty", Buffer.alloc(0)],
    ["small", SMALL],
    ["50 MB", BIG],
  ])("round-trips a %s file byte for byte", async (label, data) => {
    const name = `round-trip-${label.replace(/ /g, "")}.bin`;
    const resp = await ftp.storBinary(`STOR ${name}`, data);
    expect(resp).toMatch(/^2/);
    expect(sha256(await readFile(join(server.root, name)))).toBe(sha256(data));
    const back = await download(ftp, name);
    expect(back.length).toBe(data.length);
    expect(sha256(back)).toBe(sha256(data));
  });

  it("uploads from a stream and an async iterable, with a callback per block", async () => {
    const blocks: number[] = [];
    async function* source() {
      yield SMALL.subarray(0, 1000);
      yield SMALL.subarray(1000);
    }
    await ftp.storBinary("STOR iter.bin", source(), { blocksize: 256, callback: (b) => blocks.push(b.length) });
    expect(blocks.every((n) => n <= 256)).toBe(true);
    expect(blocks.reduce((a, b) => a + b, 0)).toBe(SMALL.length);
    expect(sha256(await download(ftp, "iter.bin"))).toBe(sha256(SMALL));
  });

  it("resumes a download with rest", async () => {
    await writeFile(join(server.root, "resume.bin"), SMALL);
    const tail = await download(ftp, "resume.bin", 1000);
    expect(sha256(tail)).toBe(sha256(SMALL.subarray(1000)));
  });

  it("resumes an upload with APPE (ftp-srv truncates on REST + STOR; the real-server suite covers that)", async () => {
    await ftp.storBinary("STOR partial.bin", SMALL.subarray(0, 700));
    await ftp.storBinary("APPE partial.bin", SMALL.subarray(700));
    expect(sha256(await readFile(join(server.root, "partial.bin")))).toBe(sha256(SMALL));
  });

  it("hands blocks of at most blocksize bytes to retrBinary's callback", async () => {
    const sizes: number[] = [];
    await ftp.retrBinary("RETR round-trip-small.bin", (b) => sizes.push(b.length), { blocksize: 100 });
    expect(Math.max(...sizes)).toBeLessThanOrEqual(100);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(SMALL.length);
  });

  // ftp-srv stops serving a session whose passive data connection the client closes during RETR
  // (it forgets the socket and waits for writes that never complete): there, abort must end in a
  // typed timeout, not a hang. The real-server suite checks passive abort against vsftpd and others.
  it.runIf(passive)("ends a passive abort that the server never answers with a timeout, not a hang", async () => {
    await writeFile(join(server.root, "abort-me.bin"), BIG);
    const slow = await FTP.open({ host: server.host, port: server.port, user: server.user, password: server.password, timeout: 1500 });
    const started = Date.now();
    let abortError: unknown;
    const error = await slow
      .retrBinary("RETR abort-me.bin", async () => {
        if (abortError === undefined) abortError = await slow.abort().catch((e: unknown) => e);
      })
      .catch((e: unknown) => e);
    expect(FtpTimeoutError.isInstance(error), String(error)).toBe(true);
    expect(FtpTimeoutError.isInstance(abortError)).toBe(true);
    expect(Date.now() - started).toBeLessThan(5000);
    await expect(slow.pwd()).rejects.toBeInstanceOf(FtpConnectionError);
  });

  it.runIf(!passive)("aborts a download in the middle and stays usable", async () => {
    let received = 0;
    let abortReply = "";
    const resp = await ftp.retrBinary("RETR round-trip-50MB.bin", async (block) => {
      received += block.length;
      if (abortReply === "") abortReply = await ftp.abort();
    });
    expect(abortReply).toMatch(/^(225|226|426)/);
    expect(resp).toMatch(/^[2-5]\d\d/);
    expect(received).toBeLessThan(BIG.length);
    expect(await ftp.pwd()).toBe("/");
    expect(sha256(await download(ftp, "round-trip-small.bin"))).toBe(sha256(SMALL));
  });

  it("transfers lines in text mode, converting line endings both ways", async () => {
    const text = "first line\nsecond line\r\n\nlast line without newline";
    await ftp.storLines("STOR lines.txt", text);
    expect(await readFile(join(server.root, "lines.txt"), "latin1")).toBe(
      "first line\r\nsecond line\r\n\r\nlast line without newline\r\n",
    );
    const lines: string[] = [];
    const resp = await ftp.retrLines("RETR lines.txt", (line) => lines.push(line));
    expect(resp).toMatch(/^226/);
    expect(lines).toEqual(["first line", "second line", "", "last line without newline"]);
  });

  it("lists with nlst and dir", async () => {
    const names = await ftp.nlst();
    expect(names).toEqual(expect.arrayContaining(["round-trip-small.bin", "lines.txt"]));
    const listing: string[] = [];
    await ftp.dir("/", (line) => listing.push(line));
    expect(listing.some((line) => line.endsWith("lines.txt"))).toBe(true);
  });

  it("makes, enters, leaves and removes directories", async () => {
    const made = await ftp.mkd("sub dir");
    expect(made).toContain("sub dir");
    expect(await ftp.cwd("sub dir")).toMatch(/^250/);
    expect(await ftp.pwd()).toBe("/sub dir");
    expect(await ftp.cwd("..")).toMatch(/^2/);
    expect(await ftp.pwd()).toBe("/");
    expect(await ftp.rmd("sub dir")).toMatch(/^250/);
    await expect(ftp.cwd("sub dir")).rejects.toBeInstanceOf(ErrorPerm);
  });

  it("renames, sizes and deletes files", async () => {
    await ftp.storBinary("STOR before.bin", SMALL);
    expect(await ftp.rename("before.bin", "after.bin")).toMatch(/^250/);
    expect(await ftp.size("after.bin")).toBe(SMALL.length);
    expect(await ftp.delete("after.bin")).toMatch(/^250/);
    await expect(ftp.size("after.bin")).rejects.toBeInstanceOf(ErrorPerm);
    await expect(ftp.delete("after.bin")).rejects.toBeInstanceOf(ErrorPerm);
  });

  it("keeps UTF-8 names intact", async () => {
    const name = "héllo wörld 世界 😀.txt";
    await ftp.storBinary(`STOR ${name}`, SMALL);
    expect(await ftp.nlst()).toContain(name);
    expect(sha256(await readFile(join(server.root, name)))).toBe(sha256(SMALL));
    expect(sha256(await download(ftp, name))).toBe(sha256(SMALL));
    await mkdir(join(server.root, "répertoire"), { recursive: true });
    expect(await ftp.cwd("répertoire")).toMatch(/^250/);
    expect(await ftp.pwd()).toBe("/répertoire");
    await ftp.cwd("/");
  });

  it("queues calls made while another is in flight, in order", async () => {
    const order: string[] = [];
    const calls = [
      ftp.pwd().then(() => order.push("pwd")),
      download(ftp, "round-trip-small.bin").then(() => order.push("retr")),
      ftp.voidCmd("NOOP").then(() => order.push("noop")),
      ftp.nlst().then(() => order.push("nlst")),
      ftp.size("round-trip-small.bin").then(() => order.push("size")),
    ];
    await Promise.all(calls);
    expect(order).toEqual(["pwd", "retr", "noop", "nlst", "size"]);
  });

  it("maps server errors to ftplib's classes and stays usable", async () => {
    const error = await ftp.sendCmd("RETR").catch((e: unknown) => e);
    expect(isFtpError(error)).toBe(true);
    await expect(ftp.voidCmd("XYZZY")).rejects.toBeInstanceOf(ErrorPerm);
    await expect(download(ftp, "no-such-file")).rejects.toBeInstanceOf(ErrorPerm);
    await expect(ftp.cwd("no-such-dir")).rejects.toMatchObject({ replyCode: 550 });
    expect(await ftp.pwd()).toBe("/");
  });

  it("refuses CR, LF and NUL in commands before sending, and stays usable (test_exceptions)", async () => {
    for (const bad of ["echo 40\r\n0", "echo 40\n0", "echo 40\r0", "RETR a\0b"]) {
      await expect(ftp.sendCmd(bad)).rejects.toBeInstanceOf(LocalProtocolError);
    }
    await expect(ftp.delete("x\r\nDELE round-trip-small.bin")).rejects.toBeInstanceOf(LocalProtocolError);
    expect(await ftp.size("round-trip-small.bin")).toBe(SMALL.length);
    expect(await ftp.voidCmd("NOOP")).toMatch(/^200/);
  });

  it("refuses lines longer than maxline in text transfers (test_retrlines_too_long, test_storlines_too_long)", async () => {
    await writeFile(join(server.root, "long.txt"), `${"x".repeat(ftp.maxline * 2)}\r\n`);
    await expect(ftp.retrLines("RETR long.txt", () => undefined)).rejects.toBeInstanceOf(ErrorProto);
    await expect(ftp.storLines("STOR long-up.txt", "y".repeat(ftp.maxline * 2))).rejects.toBeInstanceOf(FtpError);
    expect(await ftp.pwd()).toBe("/");
  });

  it("gives a transfer connection and its reply to the caller (transferCmd, ntransferCmd, voidResp)", async () => {
    await ftp.voidCmd("TYPE I");
    const [conn, size] = await ftp.ntransferCmd("RETR round-trip-small.bin");
    expect(size === null || size === SMALL.length).toBe(true);
    const parts: Buffer[] = [];
    for (let chunk = await conn.read(); chunk !== null; chunk = await conn.read()) parts.push(Buffer.from(chunk));
    conn.destroy();
    expect(await ftp.voidResp()).toMatch(/^226/);
    expect(sha256(Buffer.concat(parts))).toBe(sha256(SMALL));
    const upload = await ftp.transferCmd("STOR manual.bin");
    await upload.write(SMALL);
    await upload.end();
    expect(await ftp.voidResp()).toMatch(/^2/);
    expect(sha256(await readFile(join(server.root, "manual.bin")))).toBe(sha256(SMALL));
  });

  it("publishes ftplib.sendcmd with passwords masked", async () => {
    const seen: string[] = [];
    const listener = (message: unknown) => seen.push((message as { command: string }).command);
    subscribe("ftplib.sendcmd", listener);
    try {
      await ftp.voidCmd("NOOP");
      await ftp.sendCmd("PASS hunter2").catch(() => undefined);
    } finally {
      unsubscribe("ftplib.sendcmd", listener);
    }
    expect(seen).toContain("NOOP");
    expect(seen.join(" ")).not.toContain("hunter2");
  });
});

describe("FTP sessions (test_ftplib cases)", () => {
  let server: EmbeddedServer;
  beforeAll(async () => {
    server = await startEmbeddedServer();
  });
  afterAll(() => server?.close());

  it("logs in anonymously by default (test_login)", async () => {
    const ftp = new FTP({ timeout: 5000 });
    const welcome = await ftp.connect(server.host, server.port);
    expect(welcome).toMatch(/^220/);
    expect(await ftp.login()).toMatch(/^230/);
    await ftp.quit();
  });

  it("refuses bad credentials with ErrorPerm", async () => {
    await expect(FTP.open({ host: server.host, port: server.port, user: server.user, password: "wrong", timeout: 5000 })).rejects.toBeInstanceOf(ErrorPerm);
  });

  it("quits on dispose (test_with_statement)", async () => {
    let closedAfter: FTP | undefined;
    {
      await using ftp = await FTP.open({ host: server.host, port: server.port, timeout: 5000 });
      closedAfter = ftp;
      expect(await ftp.pwd()).toBe("/");
    }
    await expect(closedAfter.pwd()).rejects.toBeInstanceOf(FtpConnectionError);
  });

  it("closes on dispose even when QUIT fails", async () => {
    const ftp = await FTP.open({ host: server.host, port: server.port, timeout: 5000 });
    ftp.close();
    await ftp[Symbol.asyncDispose]();
    await expect(ftp.voidCmd("NOOP")).rejects.toBeInstanceOf(FtpConnectionError);
  });

  it("connects from a source address (test_source_address)", async () => {
    const ftp = new FTP({ timeout: 5000, sourceAddress: ["127.0.0.1", 0] });
    await ftp.connect(server.host, server.port);
    await ftp.login();
    expect(await ftp.pwd()).toBe("/");
    ftp.close();
  });

  it("prints commands and replies at debug level 1 and 2, password masked (test_sanitize)", async () => {
    const lines: string[] = [];
    const ftp = new FTP({ timeout: 5000, debugOutput: (line) => lines.push(line) });
    ftp.setDebugLevel(2);
    await ftp.connect(server.host, server.port);
    await ftp.login(server.user, server.password);
    ftp.close();
    expect(lines.some((line) => line.startsWith("*put* \"USER ftplib\\r\\n\""))).toBe(true);
    expect(lines.some((line) => line.startsWith("*get*"))).toBe(true);
    expect(lines.join("\n")).not.toContain(server.password);
    expect(lines.some((line) => line.includes("PASS ********"))).toBe(true);
    expect(ftp.sanitize("pass 12345")).toBe(JSON.stringify("pass ********"));
    expect(ftp.sanitize("foo")).toBe(JSON.stringify("foo"));
  });

  it("publishes ftplib.connect", async () => {
    const seen: unknown[] = [];
    const listener = (message: unknown) => seen.push(message);
    subscribe("ftplib.connect", listener);
    const ftp = new FTP({ timeout: 5000 });
    try {
      await ftp.connect(server.host, server.port);
    } finally {
      unsubscribe("ftplib.connect", listener);
      ftp.close();
    }
    expect(seen).toEqual([{ ftp, host: server.host, port: server.port }]);
  });

  it("fails to connect with a typed error in allErrors (refused port)", async () => {
    const ftp = new FTP({ timeout: 5000 });
    const error = await ftp.connect("127.0.0.1", 1).catch((e: unknown) => e);
    expect(FtpConnectionError.isInstance(error)).toBe(true);
    expect((error as FtpConnectionError).code).toBe("ECONNREFUSED");
    expect(allErrors.some((kind) => kind.isInstance(error))).toBe(true);
  });

  it("raises FtpConnectionError for calls before connect", async () => {
    await expect(new FTP().pwd()).rejects.toBeInstanceOf(FtpConnectionError);
  });

  it("covers every ftplib error in allErrors (test_all_errors)", () => {
    for (const error of [new ErrorReply("150 x"), new ErrorPerm("550 x"), new ErrorProto("x"), new FtpConnectionError("x")]) {
      expect(allErrors.some((kind) => kind.isInstance(error))).toBe(true);
    }
    expect(isFtpError(new LocalProtocolError("x", "y"))).toBe(false);
  });

  it("rejects absurd options at construction", () => {
    expect(() => new FTP({ timeout: -1 })).toThrow(RangeError);
    expect(() => new FTP({ maxline: 2 })).toThrow(RangeError);
    expect(() => new FTP({ encoding: "no-such-encoding" })).toThrow(LocalProtocolError);
  });
});
