/**
 * Names in listings that are not one path segment ("a/b", "..", ".", an absolute path, a
 * backslash, NUL, CR, LF), through LIST and MLSD, against walk, downloadDir, removeDir and the
 * command line's mirror: each is refused with a typed error (or, for LIST's own `.` and `..`,
 * skipped), nothing is written outside the target (nor inside it), nothing is downloaded or
 * removed, and the connection stays usable.
 */
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ErrorProto, FTP, allErrors } from "@ftplib/client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type CommandHandlers,
  type HostileServer,
  type HostileSession,
  sendData,
  startHostileServer,
} from "@ftplib/testing";

const CLI = fileURLToPath(new URL("../../cli/dist/bin.js", import.meta.url));

let tmp: string;
/** Where an escaping name would land: a directory beside the targets, which must stay empty. */
let outside: string;
const servers: HostileServer[] = [];
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "ftplib-hostile-names-"));
  outside = join(tmp, "outside");
  await mkdir(outside);
});
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
  expect(await readdir(outside)).toEqual([]);
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const MLST_FEAT = "211-Features:\r\n MLST type*;size*;modify*;\r\n SIZE\r\n211 End\r\n";
const NO_FEAT = "502 FEAT not implemented";
const unixLine = (type: "d" | "-", name: string, size = 3) =>
  `${type}rw-r--r--    1 ftp      ftp      ${String(size).padStart(8)} Jan 01  2024 ${name}\r\n`;
const mlsdLine = (type: "dir" | "file", name: string) => `type=${type};size=3;modify=20240101000000; ${name}\r\n`;

/**
 * Bad names: each would leave the directory listed, or cannot be one local file name or one
 * argument of a command. `{outside}` stands for the directory beside the target.
 */
const BAD_NAMES = [
  "a/b",
  "../outside/escaped",
  "../../outside/escaped",
  "{outside}/absolute",
  "/etc/ftplib-hostile",
  "sub\\..\\..\\outside\\x",
  "a\\b",
  "C:evil",
  "nul\0byte",
  "carriage\rreturn",
];
const named = (name: string) => name.replace("{outside}", outside);

/** A listing handler answering `/` with `root`, the directory `/sub` with `sub`, anything else empty. */
const tree =
  (root: string, sub = ""): CommandHandlers[string] =>
  (session: HostileSession, argument: string) =>
    sendData(argument === "/" || argument === "" ? root : argument === "/sub" ? sub : "")(session, argument, "");

async function hostile(handlers: CommandHandlers): Promise<HostileServer> {
  const server = await startHostileServer({ SIZE: "213 3", RETR: sendData("abc"), ...handlers });
  servers.push(server);
  return server;
}

async function client(server: HostileServer): Promise<FTP> {
  const ftp = new FTP({ timeout: 2000 });
  await ftp.connect(server.host, server.port);
  await ftp.login("me", "secret");
  return ftp;
}

async function failure(work: Promise<unknown>): Promise<unknown> {
  return work.then(
    () => new Error("expected a failure, got success"),
    (e: unknown) => e,
  );
}

function expectUnsafe(error: unknown): void {
  expect(ErrorProto.isInstance(error), String(error)).toBe(true);
  expect(allErrors.some((kind) => kind.isInstance(error))).toBe(true);
  expect((error as ErrorProto).code).toBe("ERR_FTP_UNSAFE_NAME");
}

const transfersAndRemovals = (server: HostileServer) =>
  server.commands.filter((c) => /^(RETR|DELE|RMD|STOR)\b/.test(c));

describe.each([
  [
    "LIST",
    (name: string) => ({ FEAT: NO_FEAT, LIST: tree(`${unixLine("-", "good.txt")}${unixLine("-", named(name))}`) }),
  ],
  [
    "MLSD",
    (name: string) => ({
      FEAT: MLST_FEAT,
      MLSD: tree(`${mlsdLine("file", "good.txt")}${mlsdLine("file", named(name))}`),
    }),
  ],
] as const)("a name that is not one path segment, through %s", (_, handlers) => {
  it.each(BAD_NAMES)("%j: walk refuses it", async (name) => {
    const server = await hostile(handlers(name));
    const ftp = await client(server);
    expectUnsafe(await failure(ftp.walk("/")));
    expect(await ftp.voidCmd("NOOP")).toMatch(/^200/);
    await ftp.quit();
  });

  it.each(BAD_NAMES)("%j: downloadDir refuses it and writes nothing", async (name) => {
    const server = await hostile(handlers(name));
    const ftp = await client(server);
    const target = await mkdtemp(join(tmp, "target-"));
    expectUnsafe(await failure(ftp.downloadDir("/", target)));
    expect(await readdir(target)).toEqual([]);
    expect(transfersAndRemovals(server)).toEqual([]);
    expect(await ftp.voidCmd("NOOP")).toMatch(/^200/);
    await ftp.quit();
  });

  it.each(BAD_NAMES)("%j: removeDir refuses it before any DELE or RMD", async (name) => {
    const server = await hostile(handlers(name));
    const ftp = await client(server);
    expectUnsafe(await failure(ftp.removeDir("/")));
    expect(transfersAndRemovals(server)).toEqual([]);
    await ftp.quit();
  });
});

describe("names that are not one path segment, more ways", () => {
  it("MLSD names a file or directory . or ..: refused", async () => {
    for (const line of [mlsdLine("dir", ".."), mlsdLine("dir", "."), mlsdLine("file", "..")]) {
      const server = await hostile({ FEAT: MLST_FEAT, MLSD: tree(`${mlsdLine("file", "good.txt")}${line}`) });
      const ftp = await client(server);
      const target = await mkdtemp(join(tmp, "dots-"));
      expectUnsafe(await failure(ftp.downloadDir("/", target)));
      expect(await readdir(target)).toEqual([]);
      await ftp.quit();
    }
  });

  it("LIST's own . and .. are skipped, and the rest copied", async () => {
    const server = await hostile({
      FEAT: NO_FEAT,
      LIST: tree(`${unixLine("d", ".")}${unixLine("d", "..")}${unixLine("-", "good.txt")}`),
    });
    const ftp = await client(server);
    const target = await mkdtemp(join(tmp, "list-dots-"));
    expect(await ftp.downloadDir("/", target)).toBe(1);
    expect(await readdir(target)).toEqual(["good.txt"]);
    await ftp.quit();
  });

  it("names that only start with dots are ordinary names, copied", async () => {
    const server = await hostile({
      FEAT: MLST_FEAT,
      MLSD: tree(`${mlsdLine("file", "..hidden")}${mlsdLine("file", "...")}${mlsdLine("file", ".profile")}`),
    });
    const ftp = await client(server);
    const target = await mkdtemp(join(tmp, "dotted-"));
    expect(await ftp.downloadDir("/", target)).toBe(3);
    expect((await readdir(target)).sort()).toEqual(["...", "..hidden", ".profile"]);
    await ftp.quit();
  });

  it("a bad name deep in the tree: refused before the first file is written", async () => {
    const server = await hostile({
      FEAT: MLST_FEAT,
      MLSD: tree(`${mlsdLine("file", "good.txt")}${mlsdLine("dir", "sub")}`, mlsdLine("file", "../../outside/x")),
    });
    const ftp = await client(server);
    const target = await mkdtemp(join(tmp, "deep-"));
    expectUnsafe(await failure(ftp.downloadDir("/", target)));
    expect(await readdir(target)).toEqual([]);
    expect(transfersAndRemovals(server)).toEqual([]);
    await ftp.quit();
  });

  it("a name listed twice (a file and a directory): refused", async () => {
    const server = await hostile({
      FEAT: MLST_FEAT,
      MLSD: tree(`${mlsdLine("file", "twice")}${mlsdLine("dir", "twice")}`),
    });
    const ftp = await client(server);
    expectUnsafe(await failure(ftp.walk("/")));
    await ftp.quit();
  });

  it("a link to a path outside is listed, never followed or written", async () => {
    const server = await hostile({
      FEAT: NO_FEAT,
      LIST: tree(
        `lrwxrwxrwx    1 ftp      ftp            11 Jan 01  2024 evil -> ${outside}\r\n${unixLine("-", "good.txt")}`,
      ),
    });
    const ftp = await client(server);
    const target = await mkdtemp(join(tmp, "link-"));
    expect(await ftp.downloadDir("/", target)).toBe(1);
    expect(await readdir(target)).toEqual(["good.txt"]);
    expect(server.commands.filter((c) => c.startsWith("RETR"))).toEqual(["RETR /good.txt"]);
    await ftp.quit();
  });
});

function runCli(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH, HOME: "/nonexistent" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

describe("mirror and names that are not one path segment", () => {
  it.each(["../outside/escaped", "{outside}/absolute", "a\\b", "nul\0byte"])(
    "%j: exits with the protocol code, nothing written",
    async (name) => {
      const server = await hostile({
        FEAT: MLST_FEAT,
        MLSD: tree(`${mlsdLine("file", "good.txt")}${mlsdLine("file", named(name))}`),
      });
      const target = await mkdtemp(join(tmp, "mirror-"));
      const result = await runCli(["mirror", `ftp://me:secret@${server.host}:${server.port}/`, join(target, "copy")]);
      expect(result.code, result.stderr).toBe(8);
      expect(result.stderr).toMatch(/not one path segment/);
      expect(await readdir(target)).toEqual([]);
      expect(transfersAndRemovals(server)).toEqual([]);
    },
  );
});
