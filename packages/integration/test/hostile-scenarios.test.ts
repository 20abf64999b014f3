/**
 * Hostile servers against the client, one scenario per misbehaviour: each ends in the typed error
 * it should (an error of `allErrors`) within the timeout, with no unhandled rejection, with the
 * sockets of a broken connection closed (and a connection that survives still usable), no socket
 * left open in this process afterwards, and no download reported complete when it is not.
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import net from "node:net";
import {
  ErrorPerm,
  ErrorProto,
  ErrorTemp,
  FTP,
  FTP_TLS,
  FtpConnectionError,
  FtpTimeoutError,
  FtpTlsError,
  allErrors,
} from "@ftplib/client";
import { parsePortArgument } from "@ftplib/protocol";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type CommandHandlers,
  HANG_UP,
  type HostileServerOptions,
  type HostileSession,
  type Scenario,
  closedPort,
  epsvReply,
  overlongReply,
  pasvReply,
  patternBytes,
  sendData,
  startHostileServer,
} from "@ftplib/testing";

const TIMEOUT = 500;
/** A file big enough to span many reads, with a pattern that shows a shifted or missing byte. */
const FILE = Buffer.from(patternBytes(256 * 1024));
const SIZE = `213 ${FILE.length}`;

type ErrorClass = { isInstance(value: unknown): boolean; name: string };

interface Case {
  name: string;
  scenario: Scenario;
  options?: HostileServerOptions;
  /** What the client does (after connect and login, unless `connectOnly`). */
  action: (ftp: FTP, dir: string) => Promise<unknown>;
  /** The error expected, and its code when it matters; `null` for a scenario the client must get right. */
  error: ErrorClass | ErrorClass[] | null;
  code?: string;
  connectOnly?: boolean;
  passive?: boolean;
  /** The connection must survive the error (a reply error): NOOP still works afterwards. */
  survives?: boolean;
  /** Milliseconds the scenario may take at most (default: twice the timeout and the client's short waits). */
  within?: number;
  /** After a download to `dir/file`, the result that must (or must not) be there. */
  download?: "absent" | "whole";
}

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);
let dir: string;
beforeAll(async () => {
  process.on("unhandledRejection", onUnhandled);
  dir = await mkdtemp(join(tmpdir(), "ftplib-hostile-"));
});
afterAll(async () => {
  process.off("unhandledRejection", onUnhandled);
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  expect(unhandled).toEqual([]);
});

/** Sockets and listeners open in this process (the hostile server runs here too). */
const openHandles = () =>
  process.getActiveResourcesInfo().filter((r) => r === "TCPSocketWrap" || r === "TCPServerWrap").length;

/** Waits (up to 2 s) until no more sockets are open than `baseline`; returns how many are. */
async function handlesBackTo(baseline: number): Promise<number> {
  for (let i = 0; i < 100 && openHandles() > baseline; i++) await new Promise((r) => setTimeout(r, 20));
  return openHandles();
}

/** Stalls a download after `bytes` bytes of the file. */
const stallAfter = (bytes: number) => async (session: HostileSession) => {
  await session.send(`150 Opening BINARY mode data connection (${FILE.length} bytes)\r\n`);
  (await session.data()).write(FILE.subarray(0, bytes));
  await session.stall();
};

/** Sends part of the file, then `then` (a reply, a hang-up) while the data connection is open. */
const partThen = (then: (session: HostileSession, data: net.Socket) => unknown) => async (session: HostileSession) => {
  await session.send("150 Opening BINARY mode data connection\r\n");
  const data = await session.data();
  await new Promise<void>((resolve) => data.write(FILE.subarray(0, 64 * 1024), () => resolve()));
  await then(session, data);
};

/** A download that never ends: `chunk` again and again until the client sends ABOR. */
const endless = (chunk: Buffer) => async (session: HostileSession) => {
  await session.send("150 Opening BINARY mode data connection\r\n");
  const data = await session.data();
  let aborted = false;
  const abort = session.command().then((line) => {
    aborted = true;
    return line;
  });
  while (data.writable && !aborted) {
    await new Promise<void>((resolve) => data.write(chunk, () => resolve()));
    await new Promise((resolve) => setImmediate(resolve));
  }
  expect(await abort).toBe("ABOR");
  data.destroy();
  await session.send("426 Connection closed; transfer aborted\r\n226 ABOR successful\r\n");
};

const feat = "211-Features:\r\n MLST type*;size*;modify*;\r\n SIZE\r\n211 End\r\n";
const download = (ftp: FTP, to: string) => ftp.download("file", join(to, "file"));

const cases: Case[] = [
  // --- The control connection ------------------------------------------------------------------
  {
    name: "stalls before the greeting",
    scenario: async (session) => void (await session.stall()),
    action: () => Promise.resolve(),
    connectOnly: true,
    error: FtpTimeoutError,
  },
  {
    name: "stalls in the middle of a reply line",
    scenario: { PWD: async (session) => void (await session.send('257 "/ho'), await session.stall()) },
    action: (ftp) => ftp.pwd(),
    error: FtpTimeoutError,
  },
  {
    name: "stalls in the middle of a multi-line reply",
    scenario: {
      FEAT: async (session) => void (await session.send("211-Features:\r\n MDTM\r\n"), await session.stall()),
    },
    action: (ftp) => ftp.features(),
    error: FtpTimeoutError,
  },
  {
    name: "sends an endless multi-line reply",
    scenario: {
      HELP: async (session) => {
        await session.send("214-Help follows\r\n");
        const lines = " more help\r\n".repeat(1000);
        // Until the client hangs up; a pause per write lets the socket's close event in.
        while (session.socket.writable) {
          await session.send(lines);
          await new Promise((resolve) => setImmediate(resolve));
        }
      },
    },
    action: (ftp) => ftp.sendCmd("HELP"),
    error: ErrorProto,
    code: "ERR_FTP_REPLY_TOO_LARGE",
  },
  {
    name: "sends a reply line longer than maxline",
    scenario: { PWD: overlongReply(257, 100_000) },
    action: (ftp) => ftp.pwd(),
    error: ErrorProto,
    code: "ERR_FTP_LINE_TOO_LONG",
  },
  {
    name: "greets without a valid code",
    scenario: {},
    options: { greeting: "hello, I am an FTP server" },
    action: () => Promise.resolve(),
    connectOnly: true,
    error: ErrorProto,
    code: "ERR_FTP_BAD_REPLY",
  },
  {
    name: "answers without a valid code",
    scenario: { PWD: "OK /home" },
    action: (ftp) => ftp.pwd(),
    error: ErrorProto,
    code: "ERR_FTP_BAD_REPLY",
  },
  {
    name: "answers with a code out of range (600)",
    scenario: { PWD: "600 what" },
    action: (ftp) => ftp.pwd(),
    error: ErrorProto,
    code: "ERR_FTP_BAD_REPLY",
  },
  {
    name: "closes the control connection after a command",
    scenario: { CWD: () => HANG_UP },
    action: (ftp) => ftp.cwd("x"),
    error: FtpConnectionError,
  },
  {
    name: "resets the control connection after a command",
    scenario: { CWD: (session) => void session.hangUp(true) },
    action: (ftp) => ftp.cwd("x"),
    error: FtpConnectionError,
  },
  {
    name: "sends 421 after login and hangs up before the next command",
    scenario: {
      PASS: async (session) =>
        void (await session.send("230 ok\r\n421 Service not available, closing\r\n"), session.hangUp()),
    },
    action: (ftp) => ftp.pwd(),
    error: ErrorTemp,
  },
  // --- Passive addresses ------------------------------------------------------------------------
  {
    name: "answers PASV with a number over 255",
    scenario: { EPSV: "502 no EPSV", PASV: "227 Entering Passive Mode (127,0,0,1,300,1)" },
    action: (ftp) => ftp.nlst(),
    error: ErrorProto,
    code: "ERR_FTP_BAD_PASV",
    survives: true,
  },
  {
    name: "answers PASV with port 0",
    scenario: { EPSV: "502 no EPSV", PASV: "227 Entering Passive Mode (127,0,0,1,0,0)" },
    action: (ftp) => ftp.nlst(),
    error: ErrorProto,
    code: "ERR_FTP_BAD_PASV",
    survives: true,
  },
  {
    name: "answers PASV with no address",
    scenario: { EPSV: "502 no EPSV", PASV: "227 Entering Passive Mode" },
    action: (ftp) => ftp.nlst(),
    error: ErrorProto,
    code: "ERR_FTP_BAD_PASV",
    survives: true,
  },
  {
    name: "answers EPSV with a port out of range",
    scenario: { EPSV: "229 Entering Extended Passive Mode (|||70000|)" },
    action: (ftp) => ftp.nlst(),
    error: ErrorProto,
    code: "ERR_FTP_BAD_EPSV",
    survives: true,
  },
  {
    name: "answers EPSV with garbage",
    scenario: { EPSV: "229 Entering Extended Passive Mode (|x|y|z)" },
    action: (ftp) => ftp.nlst(),
    error: ErrorProto,
    code: "ERR_FTP_BAD_EPSV",
    survives: true,
  },
  {
    name: "answers EPSV with 421",
    scenario: { EPSV: "421 Too many connections" },
    action: (ftp) => ftp.nlst(),
    error: ErrorTemp,
    survives: true,
  },
  {
    name: "points a 227 to another host (ignored: the control peer is used)",
    scenario: {
      EPSV: "502 no EPSV",
      PASV: async (session) => pasvReply("10.11.12.13", (await session.passive()).port),
      NLST: sendData("a\r\nb\r\n"),
    },
    action: async (ftp) => expect(await ftp.nlst()).toEqual(["a", "b"]),
    error: null,
  },
  // --- Active mode ---------------------------------------------------------------------------
  {
    name: "lets another host connect first to the active-mode data port (refused)",
    passive: false,
    scenario: {
      NLST: async (session) => {
        const [host, port] = parsePortArgument(
          [...session.commands]
            .reverse()
            .find((c) => c.startsWith("PORT"))!
            .slice(5),
        );
        const intruder = net.connect({ host, port, localAddress: "127.0.0.2" });
        const got: Buffer[] = [];
        await new Promise<void>((resolve) =>
          intruder
            .on("close", () => resolve())
            .on("error", () => undefined)
            .on("data", (d: Buffer) => got.push(d)),
        );
        if (got.length > 0) throw new Error("the intruder got data");
        return sendData("real\r\n")(session, "", "NLST");
      },
    },
    action: async (ftp) => expect(await ftp.nlst()).toEqual(["real"]),
    error: null,
  },
  // --- Transfers -----------------------------------------------------------------------------
  {
    name: "stalls in the middle of a download",
    scenario: { SIZE, RETR: stallAfter(100_000) },
    action: download,
    error: FtpTimeoutError,
    download: "absent",
  },
  {
    name: "closes the data connection in the middle of a download (226 all the same)",
    scenario: { SIZE, RETR: sendData(FILE, { cutAfter: 100_000 }) },
    action: download,
    error: ErrorProto,
    code: "ERR_FTP_SHORT_TRANSFER",
    download: "absent",
    survives: true,
  },
  {
    name: "resets the data connection in the middle of a download",
    scenario: { SIZE, RETR: sendData(FILE, { cutAfter: 100_000, reset: true, final: "426 Connection reset" }) },
    action: download,
    // The reset or the 426, whichever the client reads first.
    error: [FtpConnectionError, ErrorTemp],
    download: "absent",
    survives: true,
  },
  {
    name: "closes the control connection in the middle of a download",
    scenario: { SIZE, RETR: partThen((session, data) => (session.hangUp(), data.destroy())) },
    action: download,
    error: FtpConnectionError,
    download: "absent",
  },
  {
    name: "answers a download with 426 instead of 150",
    scenario: { SIZE, RETR: "426 Connection closed; transfer aborted" },
    action: download,
    error: ErrorTemp,
    download: "absent",
    survives: true,
  },
  {
    name: "sends 426 in the middle of a download",
    scenario: { SIZE, RETR: partThen(async (session) => session.send("426 Connection closed; transfer aborted\r\n")) },
    action: download,
    error: ErrorTemp,
    download: "absent",
    survives: true,
  },
  {
    name: "sends all the data, then 426",
    scenario: { SIZE, RETR: sendData(FILE, { final: "426 Transfer aborted" }) },
    action: download,
    error: ErrorTemp,
    download: "absent",
    survives: true,
  },
  {
    name: "sends 421 in the middle of a download and hangs up",
    scenario: {
      SIZE,
      RETR: partThen(
        async (session, data) => (await session.send("421 Shutting down\r\n"), session.hangUp(), data.destroy()),
      ),
    },
    action: download,
    error: ErrorTemp,
    download: "absent",
  },
  {
    name: "sends the final reply before the data (the data is still read whole)",
    scenario: { SIZE, RETR: sendData(FILE, { finalFirst: true, pieceSize: 16 * 1024 }) },
    action: download,
    error: null,
    download: "whole",
  },
  {
    name: "sends the final reply before the data, then cuts the data short",
    scenario: { SIZE, RETR: sendData(FILE, { finalFirst: true, cutAfter: 100_000 }) },
    action: download,
    error: ErrorProto,
    code: "ERR_FTP_SHORT_TRANSFER",
    download: "absent",
    survives: true,
  },
  {
    name: "sends data after the final reply (more than the size it gave)",
    scenario: { SIZE, RETR: sendData(FILE, { afterFinal: "trailing junk" }) },
    action: download,
    error: ErrorProto,
    code: "ERR_FTP_SIZE_MISMATCH",
    download: "absent",
    survives: true,
  },
  {
    name: "resets the data connection in the middle of an upload",
    scenario: {
      STOR: async (session) => {
        await session.send("150 Ok to send data\r\n");
        const data = await session.data();
        await new Promise((resolve) => data.once("data", resolve));
        data.resetAndDestroy();
        return "426 Connection reset";
      },
    },
    // Which comes first, the reset (EPIPE, ECONNRESET) or the 426, is up to the kernel.
    action: (ftp) =>
      ftp.storBinary(
        "STOR up",
        (async function* () {
          for (;;) {
            yield FILE;
            await new Promise((r) => setTimeout(r, 5));
          }
        })(),
      ),
    error: [FtpConnectionError, ErrorTemp],
    survives: true,
  },
  {
    name: "sends 451 in the middle of an upload",
    scenario: {
      STOR: async (session) => {
        await session.send("150 Ok to send data\r\n");
        const data = await session.data();
        data.resume();
        await new Promise((resolve) => data.once("data", resolve));
        await session.send("451 Local error in processing\r\n");
        data.destroy();
      },
    },
    action: (ftp) =>
      ftp.storBinary(
        "STOR up",
        (async function* () {
          for (;;) {
            yield FILE;
            await new Promise((r) => setTimeout(r, 5));
          }
        })(),
      ),
    error: ErrorTemp,
    survives: true,
  },
  {
    name: "stalls in the middle of an upload (stops reading)",
    scenario: {
      STOR: async (session) => {
        await session.send("150 Ok to send data\r\n");
        const data = await session.data();
        data.pause();
        await session.stall();
        // Paused, the server's own socket would never see the client's FIN.
        data.destroy();
      },
    },
    action: (ftp) => ftp.storBinary("STOR up", Buffer.alloc(64 * 1024 * 1024)),
    error: FtpTimeoutError,
    // A stalled data connection is dropped at once, not given time to end kindly.
    within: TIMEOUT * 4,
  },
  {
    name: "sends a file without end (more than the size it gave)",
    scenario: { SIZE, RETR: endless(FILE) },
    action: download,
    error: ErrorProto,
    code: "ERR_FTP_SIZE_MISMATCH",
    download: "absent",
    survives: true,
  },
  // --- Listings ------------------------------------------------------------------------------
  {
    name: "sends a listing without end",
    scenario: { FEAT: feat, MLSD: endless(Buffer.from("type=file;size=1; a file\r\n".repeat(1000))) },
    action: (ftp) => ftp.list("", { maxBytes: 1024 * 1024 }),
    error: ErrorProto,
    code: "ERR_FTP_LISTING_TOO_LARGE",
    survives: true,
  },
  {
    name: "sends a listing line longer than maxline",
    scenario: { NLST: sendData(`${"x".repeat(20_000)}\r\n`) },
    action: (ftp) => ftp.nlst(),
    error: ErrorProto,
    survives: true,
  },
  {
    name: "lists names that leave the target directory in a recursive download",
    scenario: { FEAT: feat, MLSD: sendData("type=file;size=1; ../escaped\r\ntype=file;size=1; a/../../b\r\n") },
    action: (ftp, to) => ftp.downloadDir("/", join(to, "tree")),
    error: ErrorProto,
    code: "ERR_FTP_UNSAFE_NAME",
    survives: true,
  },
  {
    name: "refuses a command with 550 (the ordinary case, for contrast)",
    scenario: { DELE: "550 No such file" },
    action: (ftp) => ftp.delete("x"),
    error: ErrorPerm,
    survives: true,
  },
];

/** Passive mode always; active mode too in the hardening run, for the scenarios not about passive addresses. */
const modes = process.env.FTPLIB_HARDENING === "1" ? ["passive", "active"] : ["passive"];
const inMode = (mode: string) =>
  mode === "passive"
    ? cases
    : cases
        .filter(
          (c) =>
            c.passive === undefined &&
            !(typeof c.scenario === "object" && ("EPSV" in c.scenario || "PASV" in c.scenario)),
        )
        .map((c) => ({ ...c, passive: false }));

describe.each(modes)("hostile servers (%s mode)", (mode) => {
  it.each(inMode(mode))("a server that $name", async (c) => {
    const baseline = await handlesBackTo(0);
    const to = await mkdtemp(join(dir, "case-"));
    const server = await startHostileServer(c.scenario, c.options);
    const ftp = new FTP({ timeout: TIMEOUT, passive: c.passive ?? true });
    const started = Date.now();
    let error: unknown;
    try {
      await ftp.connect(server.host, server.port);
      if (!c.connectOnly) {
        await ftp.login("me", "secret");
        await c.action(ftp, to);
      }
    } catch (e) {
      error = e;
    }
    const elapsed = Date.now() - started;
    try {
      if (c.error === null) {
        expect(error).toBeUndefined();
      } else {
        const kinds = Array.isArray(c.error) ? c.error : [c.error];
        expect(
          kinds.some((kind) => kind.isInstance(error)),
          `expected ${kinds.map((k) => k.name).join(" or ")}, got ${String(error)}`,
        ).toBe(true);
        expect(allErrors.some((kind) => kind.isInstance(error))).toBe(true);
        if (c.code !== undefined) expect((error as { code: string }).code).toBe(c.code);
      }
      // Within the timeout, give or take the client's own short waits for a data connection to end.
      expect(elapsed).toBeLessThan(c.within ?? TIMEOUT * 2 + 2500);
      if (c.survives || c.error === null) {
        expect(await ftp.voidCmd("NOOP")).toMatch(/^200/);
        // Only the control connection is left on the server's side.
        expect(await server.settled(300)).toBeLessThanOrEqual(1);
      } else if (c.error !== null) {
        // A broken connection: the client closed every socket of it.
        await expect(ftp.voidCmd("NOOP")).rejects.toSatisfy(
          (e) => FtpConnectionError.isInstance(e) || ErrorTemp.isInstance(e),
        );
        expect(await server.settled()).toBe(0);
      }
      if (c.download === "absent") expect(await readdir(to)).toEqual([]);
      if (c.download === "whole") {
        expect(await readdir(to)).toEqual(["file"]);
        expect((await readFile(join(to, "file"))).equals(FILE)).toBe(true);
      }
      expect(server.errors).toEqual([]);
    } finally {
      ftp.close();
      await server.close();
    }
    // No socket of this scenario is left open in this process (earlier ones may still be closing).
    expect(await handlesBackTo(baseline)).toBeLessThanOrEqual(baseline);
  });
});

describe("hostile servers, more than once on one connection", () => {
  it("a connection that survived a reply error transfers a whole file next", async () => {
    let attempt = 0;
    const handlers: CommandHandlers = {
      SIZE,
      RETR: (session, ...rest) =>
        attempt++ === 0 ? partThen(async (s) => s.send("426 aborted\r\n"))(session) : sendData(FILE)(session, ...rest),
    };
    await using server = await startHostileServer(handlers);
    const ftp = new FTP({ timeout: TIMEOUT });
    await ftp.connect(server.host, server.port);
    await ftp.login();
    const to = await mkdtemp(join(dir, "again-"));
    await expect(download(ftp, to)).rejects.toSatisfy((e) => ErrorTemp.isInstance(e));
    expect(await readdir(to)).toEqual([]);
    await download(ftp, to);
    expect((await readFile(join(to, "file"))).equals(FILE)).toBe(true);
    await ftp.quit();
  });

  it("an EPSV answered with a port where the server does not listen fails fast", async () => {
    await using server = await startHostileServer({ EPSV: epsvReply(await closedPort()) });
    const ftp = new FTP({ timeout: TIMEOUT });
    await ftp.connect(server.host, server.port);
    await ftp.login();
    await expect(ftp.nlst()).rejects.toSatisfy((e) => FtpConnectionError.isInstance(e));
    ftp.close();
  });
});

describe("hostile listings and removeDir", () => {
  it.each(["../victim", "sub/../../victim", ".."])(
    "a listed name %j is refused before any DELE or RMD",
    async (name) => {
      await using server = await startHostileServer({
        FEAT: feat,
        MLSD: sendData(`type=file;size=1; ok.txt\r\ntype=file;size=1; ${name}\r\n`),
      });
      const ftp = new FTP({ timeout: TIMEOUT });
      await ftp.connect(server.host, server.port);
      await ftp.login();
      const error = await ftp.removeDir("tree").catch((e: unknown) => e);
      expect(ErrorProto.isInstance(error), String(error)).toBe(true);
      expect((error as ErrorProto).code).toBe("ERR_FTP_UNSAFE_NAME");
      expect(server.commands.filter((c) => /^(DELE|RMD)/.test(c))).toEqual([]);
      expect(await ftp.voidCmd("NOOP")).toMatch(/^200/);
      await ftp.quit();
    },
  );
});

describe("hostile servers and TLS", () => {
  it("a reply injected in the clear after 234 fails AUTH with FtpTlsError, and the password is never sent", async () => {
    await using server = await startHostileServer({
      AUTH: async (session) => {
        // The forged 230 arrives in the same segment as the 234: before any TLS.
        await session.send("234 AUTH TLS ok\r\n230 you are in\r\n");
        await session.stall();
      },
    });
    const ftps = new FTP_TLS({ timeout: TIMEOUT });
    await ftps.connect(server.host, server.port);
    const error = await ftps.login("me", "secret").catch((e: unknown) => e);
    expect(FtpTlsError.isInstance(error), String(error)).toBe(true);
    expect((error as FtpTlsError).code).toBe("ERR_FTP_TLS_INJECTION");
    expect(server.commands).toEqual(["AUTH TLS"]);
    expect(await server.settled()).toBe(0);
  });
});
