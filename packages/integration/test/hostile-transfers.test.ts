/**
 * Hostile transfers: downloads short of the size the server gave, downloads the server never
 * confirms (the control connection closed right after the data), a download fed a byte at a time
 * under an AbortSignal deadline. Each ends in a typed error, in bounded time, with no file under
 * the final name (a download to a path is atomic: a temporary name, renamed only when complete)
 * and no temporary file left behind.
 */
import { mkdtemp, readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { ErrorProto, ErrorTemp, FTP, FtpConnectionError, FtpTimeoutError, allErrors } from "@ftplib/client";
import { describe, expect, it } from "vitest";
import { hostileFixture } from "./hostile-fixture.js";
import {
  type CommandHandler,
  type CommandHandlers,
  HANG_UP,
  type HostileServer,
  type HostileSession,
  dripData,
  patternBytes,
  sendData,
} from "@ftplib/testing";

const TIMEOUT = 1000;
const FILE = Buffer.from(patternBytes(200 * 1024));
const SIZE = `213 ${FILE.length}`;

const fixture = hostileFixture("hostile-transfers");

async function hostile(handlers: CommandHandlers): Promise<HostileServer> {
  const server = await fixture.server(handlers);
  return server;
}

async function client(server: HostileServer, passive = true): Promise<FTP> {
  const ftp = new FTP({ timeout: TIMEOUT, passive });
  fixture.track(ftp);
  await ftp.connect(server.host, server.port);
  await ftp.login("me", "secret");
  return ftp;
}

async function failure(work: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  const error = await work.then(
    () => new Error("expected a failure, got success"),
    (e: unknown) => e,
  );
  return { error, ms: Date.now() - started };
}

type ErrorClass = { isInstance(value: unknown): boolean; name: string };

function expectError(error: unknown, kinds: ErrorClass[], code?: string): void {
  expect(
    kinds.some((kind) => kind.isInstance(error)),
    `expected ${kinds.map((k) => k.name).join(" or ")}, got ${String(error)}`,
  ).toBe(true);
  expect(allErrors.some((kind) => kind.isInstance(error))).toBe(true);
  if (code !== undefined) expect((error as { code?: string }).code).toBe(code);
}

/** Sends `bytes` of the file (all of it by default), closes the data connection, then `then`. */
const dataThen =
  (
    then: (session: HostileSession) => Promise<unknown> | unknown,
    bytes = FILE.length,
    preliminary = "150 Opening BINARY mode data connection",
  ): CommandHandler =>
  async (session) => {
    await session.send(`${preliminary}\r\n`);
    const data = await session.data();
    await new Promise<void>((resolve) => data.end(FILE.subarray(0, bytes), () => resolve()));
    await new Promise((resolve) => data.once("close", resolve));
    const result = await then(session);
    return result === HANG_UP ? HANG_UP : undefined;
  };

interface Case {
  name: string;
  handlers: CommandHandlers;
  kinds: ErrorClass[];
  code?: string;
  /** The connection survives (a reply error): NOOP works afterwards. */
  survives?: boolean;
}

const short = 150_000;
const cases: Case[] = [
  // --- Short of SIZE --------------------------------------------------------------------------
  {
    name: "short of SIZE, then 226",
    handlers: { SIZE, RETR: sendData(FILE, { cutAfter: short }) },
    kinds: [ErrorProto],
    code: "ERR_FTP_SHORT_TRANSFER",
    survives: true,
  },
  {
    name: "short of the size in its 150 reply (SIZE refused), then 226",
    handlers: {
      SIZE: "550 SIZE not allowed",
      RETR: sendData(FILE, {
        cutAfter: short,
        preliminary: `150 Opening BINARY mode data connection for file (${FILE.length} bytes)`,
      }),
    },
    kinds: [ErrorProto],
    code: "ERR_FTP_SHORT_TRANSFER",
    survives: true,
  },
  {
    name: "short of SIZE, one byte, then 226",
    handlers: { SIZE, RETR: sendData(FILE, { cutAfter: FILE.length - 1 }) },
    kinds: [ErrorProto],
    code: "ERR_FTP_SHORT_TRANSFER",
    survives: true,
  },
  {
    name: "short of SIZE, then the control connection closed",
    handlers: { SIZE, RETR: dataThen(() => HANG_UP, short) },
    kinds: [FtpConnectionError, ErrorProto],
  },
  {
    name: "short of SIZE, the data connection reset, then 426",
    handlers: { SIZE, RETR: sendData(FILE, { cutAfter: short, reset: true, final: "426 Connection reset" }) },
    kinds: [FtpConnectionError, ErrorTemp],
    survives: true,
  },
  {
    name: "nothing at all of SIZE, then 226",
    handlers: { SIZE, RETR: sendData(FILE, { cutAfter: 0 }) },
    kinds: [ErrorProto],
    code: "ERR_FTP_SHORT_TRANSFER",
    survives: true,
  },
  // --- Never confirmed ------------------------------------------------------------------------
  {
    name: "all the data, then the control connection closed (no 226)",
    handlers: { SIZE, RETR: dataThen(() => HANG_UP) },
    kinds: [FtpConnectionError],
  },
  {
    name: "all the data, no SIZE, then the control connection closed (no 226)",
    handlers: { SIZE: "550 no SIZE here", RETR: dataThen(() => HANG_UP, FILE.length, "150 Opening data connection") },
    kinds: [FtpConnectionError],
  },
  {
    name: "all the data, then the control connection reset (no 226)",
    handlers: { SIZE, RETR: dataThen((session) => session.hangUp(true)) },
    kinds: [FtpConnectionError],
  },
  {
    name: "all the data, then 421 and the control connection closed",
    handlers: {
      SIZE,
      RETR: dataThen(async (session) => (await session.send("421 Service not available, closing\r\n"), HANG_UP)),
    },
    kinds: [ErrorTemp, FtpConnectionError],
  },
  {
    name: "all the data, then no final reply ever",
    handlers: { SIZE, RETR: dataThen((session) => session.stall()) },
    kinds: [FtpTimeoutError],
  },
];

describe.each([
  ["passive", true],
  ["active", false],
] as const)("downloads that must not count as complete (%s mode)", (_, passive) => {
  it.each(cases)("$name: a typed error, no file at the destination", async (c) => {
    const server = await hostile(c.handlers);
    const ftp = await client(server, passive);
    const to = await mkdtemp(join(fixture.tmp, "case-"));
    const { error, ms } = await failure(ftp.download("file", join(to, "file")));
    expectError(error, c.kinds, c.code);
    expect(ms).toBeLessThan(TIMEOUT * 3 + 2500);
    // Neither the file nor its temporary name.
    expect(await readdir(to)).toEqual([]);
    if (c.survives) expect(await ftp.voidCmd("NOOP")).toMatch(/^200/);
    else await expect(ftp.voidCmd("NOOP")).rejects.toSatisfy((e) => allErrors.some((kind) => kind.isInstance(e)));
    expect(server.errors).toEqual([]);
  });

  it.each(cases)("$name: to a stream, a typed error", async (c) => {
    const server = await hostile(c.handlers);
    const ftp = await client(server, passive);
    const sink = new PassThrough();
    sink.resume();
    expectError((await failure(ftp.download("file", sink))).error, c.kinds, c.code);
  });
});

describe("downloads that must not count as complete, more ways", () => {
  it("a resumed download short of SIZE keeps its part, and never the final name", async () => {
    const server = await hostile({ SIZE, RETR: sendData(FILE, { cutAfter: short }) });
    const ftp = await client(server);
    const to = await mkdtemp(join(fixture.tmp, "resume-"));
    expectError(
      (await failure(ftp.download("file", join(to, "file"), { resume: true }))).error,
      [ErrorProto],
      "ERR_FTP_SHORT_TRANSFER",
    );
    expect(await readdir(to)).toEqual(["file.part"]);
    expect((await readFile(join(to, "file.part"))).equals(FILE.subarray(0, short))).toBe(true);
  });

  it("a download that replaces a file and fails leaves the old file as it was", async () => {
    let attempt = 0;
    const server = await hostile({
      SIZE,
      RETR: (session, ...rest) =>
        attempt++ === 0 ? sendData(FILE)(session, ...rest) : dataThen(() => HANG_UP, short)(session, ...rest),
    });
    const ftp = await client(server);
    const to = await mkdtemp(join(fixture.tmp, "replace-"));
    await ftp.download("file", join(to, "file"));
    expect((await readFile(join(to, "file"))).equals(FILE)).toBe(true);
    const other = await client(server);
    await expect(other.download("file", join(to, "file"))).rejects.toSatisfy((e) => FtpConnectionError.isInstance(e));
    expect(await readdir(to)).toEqual(["file"]);
    expect((await readFile(join(to, "file"))).equals(FILE)).toBe(true);
  });

  it("downloadDir with one file never confirmed: that file is not there", async () => {
    const server = await hostile({
      FEAT: "211-Features:\r\n MLST type*;size*;\r\n211 End\r\n",
      MLSD: sendData(`type=file;size=${FILE.length}; a\r\ntype=file;size=${FILE.length}; b\r\n`),
      SIZE,
      RETR: (session, argument, line) =>
        argument.endsWith("/b")
          ? dataThen(() => HANG_UP)(session, argument, line)
          : sendData(FILE)(session, argument, line),
    });
    const ftp = await client(server);
    const to = await mkdtemp(join(fixture.tmp, "dir-"));
    expectError((await failure(ftp.downloadDir("/", to))).error, [FtpConnectionError]);
    expect(await readdir(to)).toEqual(["a"]);
    expect((await readFile(join(to, "a"))).equals(FILE)).toBe(true);
  });
});

describe("a download fed a byte every 100 ms, under an AbortSignal deadline", () => {
  const SLOW = Buffer.from("x".repeat(10_000));
  const isAbort = (error: unknown, signal: AbortSignal) =>
    error === signal.reason && error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError");

  it("to a path: the signal's reason, in bounded time, no file, the connection usable", async () => {
    let attempt = 0;
    const server = await hostile({
      SIZE: `213 ${SLOW.length}`,
      RETR: (session, ...rest) => (attempt++ === 0 ? dripData(SLOW) : sendData(SLOW))(session, ...rest),
    });
    const ftp = await client(server);
    const to = await mkdtemp(join(fixture.tmp, "drip-"));
    const signal = AbortSignal.timeout(700);
    const { error, ms } = await failure(ftp.download("file", join(to, "file"), { signal }));
    expect(isAbort(error, signal), String(error)).toBe(true);
    expect(ms).toBeLessThan(700 + TIMEOUT + 2000);
    expect(await readdir(to)).toEqual([]);
    expect(server.commands).toContain("ABOR");
    expect(await ftp.voidCmd("NOOP")).toMatch(/^200/);
    // And a transfer after it is whole.
    const sink: Buffer[] = [];
    await ftp.retrBinary("RETR again", (block) => void sink.push(Buffer.from(block)));
    expect(Buffer.concat(sink).toString()).toBe(SLOW.toString());
  }, 30_000);

  it("aborted by hand, to a stream: AbortError, in bounded time", async () => {
    const server = await hostile({ SIZE: `213 ${SLOW.length}`, RETR: dripData(SLOW) });
    const ftp = await client(server);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 500);
    const sink = new PassThrough();
    let received = 0;
    sink.on("data", (b: Buffer) => (received += b.length));
    const { error, ms } = await failure(ftp.download("file", sink, { signal: controller.signal }));
    expect(isAbort(error, controller.signal), String(error)).toBe(true);
    expect((error as Error).name).toBe("AbortError");
    expect(ms).toBeLessThan(500 + TIMEOUT + 2000);
    expect(received).toBeLessThan(20);
    expect(await ftp.voidCmd("NOOP")).toMatch(/^200/);
  }, 30_000);

  it.each(["stall", "ignore"] as const)(
    "a server that answers ABOR never (%s): the signal's reason in bounded time, no file, the connection closed",
    async (onAbort) => {
      const server = await hostile({ SIZE: `213 ${SLOW.length}`, RETR: dripData(SLOW, { onAbort }) });
      const ftp = await client(server);
      const to = await mkdtemp(join(fixture.tmp, "drip-stall-"));
      const signal = AbortSignal.timeout(500);
      const { error, ms } = await failure(ftp.download("file", join(to, "file"), { signal }));
      expect(isAbort(error, signal), String(error)).toBe(true);
      expect(ms).toBeLessThan(500 + TIMEOUT * 3 + 2500);
      expect(await readdir(to)).toEqual([]);
      // The session could not be saved: it is closed, every socket of it.
      await expect(ftp.voidCmd("NOOP")).rejects.toSatisfy((e) => FtpConnectionError.isInstance(e));
      expect(await server.settled()).toBe(0);
    },
    30_000,
  );

  it("a signal that fires before the transfer starts sends no RETR", async () => {
    const server = await hostile({ SIZE: `213 ${SLOW.length}`, RETR: dripData(SLOW) });
    const ftp = await client(server);
    const to = await mkdtemp(join(fixture.tmp, "drip-early-"));
    const signal = AbortSignal.abort();
    expect(isAbort((await failure(ftp.download("file", join(to, "file"), { signal }))).error, signal)).toBe(true);
    expect(server.commands.filter((c) => c.startsWith("RETR"))).toEqual([]);
    expect(await readdir(to)).toEqual([]);
  });
});
