/**
 * Hostile directory trees against walk, downloadDir, removeDir and the command line's mirror: a
 * tree that never ends (a directory that contains itself, through LIST and through MLSD, with
 * and without MLSD's `unique` fact) ends in bounded time with a typed error and nothing written,
 * and names that are not one path segment are refused before anything is written or removed.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
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

const TIMEOUT = 2000;
/** Milliseconds a test may take: a tree that never ends is listed up to the depth limit first. */
const LONG = 60_000;
const CLI = fileURLToPath(new URL("../../cli/dist/bin.js", import.meta.url));

let tmp: string;
const servers: HostileServer[] = [];
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "ftplib-hostile-trees-"));
});
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function hostile(handlers: CommandHandlers): Promise<HostileServer> {
  const server = await startHostileServer(handlers);
  servers.push(server);
  return server;
}

async function client(server: HostileServer): Promise<FTP> {
  const ftp = new FTP({ timeout: TIMEOUT });
  await ftp.connect(server.host, server.port);
  await ftp.login("me", "secret");
  return ftp;
}

const unixLine = (type: "d" | "-", name: string, size = 4096) =>
  `${type}rwxr-xr-x    2 ftp      ftp      ${String(size).padStart(8)} Jan 01  2024 ${name}\r\n`;
const MLST_FEAT = "211-Features:\r\n MLST type*;size*;modify*;unique*;\r\n SIZE\r\n211 End\r\n";
const NO_FEAT = "502 FEAT not implemented";

/** A listing handler that answers each path (the argument, "" for none) with `listing(path)`. */
const byPath = (listing: (path: string) => string) => (session: HostileSession, argument: string) =>
  sendData(listing(argument))(session, argument, "");

/** Every path lists a directory `name` (itself) and a file: through LIST, forever. */
const listLoop = (name = "loop"): CommandHandlers => ({
  FEAT: NO_FEAT,
  LIST: sendData(`${unixLine("d", name)}${unixLine("-", "f.txt", 3)}`),
  SIZE: "213 3",
  RETR: sendData("abc"),
});

/** The same through MLSD: `unique(path)` gives the directory's unique fact (undefined: none). */
const mlsdLoop = (unique: (path: string) => string | undefined, name = "loop"): CommandHandlers => ({
  FEAT: MLST_FEAT,
  MLSD: byPath((path) => {
    const fact = (u: string | undefined) => (u === undefined ? "" : `unique=${u};`);
    return `type=cdir;${fact(unique(path))} ${path || "."}\r\ntype=dir;${fact(unique(`${path}/${name}`))}modify=20240101000000; ${name}\r\ntype=file;size=3;modify=20240101000000; f.txt\r\n`;
  }),
  SIZE: "213 3",
  RETR: sendData("abc"),
});

const count = (server: HostileServer, verb: string) =>
  server.commands.filter((c) => c === verb || c.startsWith(`${verb} `)).length;

/** The error of `work`, which must fail; and the milliseconds it took. */
async function failure(work: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  const error = await work.then(
    () => new Error("expected a failure, got success"),
    (e: unknown) => e,
  );
  return { error, ms: Date.now() - started };
}

function expectTyped(error: unknown, code: string): void {
  expect(ErrorProto.isInstance(error), String(error)).toBe(true);
  expect(allErrors.some((kind) => kind.isInstance(error))).toBe(true);
  expect((error as ErrorProto).code, String(error)).toBe(code);
}

describe("a tree that never ends", () => {
  it(
    "through LIST: walk stops at the default depth (64) with ERR_FTP_TREE_TOO_DEEP",
    async () => {
      const server = await hostile(listLoop());
      const ftp = await client(server);
      const { error, ms } = await failure(ftp.walk("/"));
      expectTyped(error, "ERR_FTP_TREE_TOO_DEEP");
      // 64 levels listed, and the 65th to find that it goes on.
      expect(count(server, "LIST")).toBe(65);
      expect(ms).toBeLessThan(20_000);
      expect(await ftp.voidCmd("NOOP")).toMatch(/^200/);
      await ftp.quit();
    },
    LONG,
  );

  it(
    "through LIST: maxDepth sets the limit, and a tree exactly that deep is walked whole",
    async () => {
      const server = await hostile(listLoop());
      const ftp = await client(server);
      expectTyped((await failure(ftp.walk("/", { maxDepth: 3 }))).error, "ERR_FTP_TREE_TOO_DEEP");
      expect(count(server, "LIST")).toBe(4);
      // Three levels, the deepest empty: within the limit.
      const finite = await hostile({
        FEAT: NO_FEAT,
        LIST: byPath((path) => (path.split("/").length > 3 ? "" : unixLine("d", "d"))),
      });
      const other = await client(finite);
      const tree = await other.walk("/", { maxDepth: 3 });
      expect(tree.map((e) => e.relativePath)).toEqual(["d", "d/d", "d/d/d"]);
      await expect(other.walk("/", { maxDepth: 0 })).rejects.toMatchObject({ code: "ERR_FTP_INVALID_OPTION" });
      await other.quit();
      await ftp.quit();
    },
    LONG,
  );

  it(
    "through MLSD with the unique fact: walk finds the loop at once (ERR_FTP_TREE_LOOP)",
    async () => {
      const server = await hostile(mlsdLoop(() => "801g2a"));
      const ftp = await client(server);
      const { error } = await failure(ftp.walk("/"));
      expectTyped(error, "ERR_FTP_TREE_LOOP");
      expect(String(error)).toMatch(/\/loop\/loop/);
      expect(count(server, "MLSD")).toBe(2);
      await ftp.quit();
    },
    LONG,
  );

  it(
    "through MLSD, the unique fact of a grandparent: a loop of two",
    async () => {
      const unique = (path: string) => (path.split("/").filter(Boolean).length % 2 === 0 ? "aaaa" : "bbbb");
      const server = await hostile(mlsdLoop(unique));
      const ftp = await client(server);
      expectTyped((await failure(ftp.walk("/"))).error, "ERR_FTP_TREE_LOOP");
      expect(count(server, "MLSD")).toBeLessThanOrEqual(3);
      await ftp.quit();
    },
    LONG,
  );

  it(
    "through MLSD with no unique fact, or a new one every time: the depth limit",
    async () => {
      for (const unique of [() => undefined, (path: string) => `u${path.length}`]) {
        const server = await hostile(mlsdLoop(unique));
        const ftp = await client(server);
        expectTyped((await failure(ftp.walk("/"))).error, "ERR_FTP_TREE_TOO_DEEP");
        expect(count(server, "MLSD")).toBe(65);
        await ftp.quit();
      }
    },
    LONG,
  );

  it(
    "downloadDir refuses it before writing anything (LIST and MLSD)",
    async () => {
      for (const [handlers, code] of [
        [listLoop(), "ERR_FTP_TREE_TOO_DEEP"],
        [mlsdLoop(() => "801g2a"), "ERR_FTP_TREE_LOOP"],
      ] as const) {
        const server = await hostile(handlers);
        const ftp = await client(server);
        const target = await mkdtemp(join(tmp, "dl-"));
        const { error, ms } = await failure(ftp.downloadDir("/", join(target, "copy")));
        expectTyped(error, code);
        expect(ms).toBeLessThan(20_000);
        expect(await readdir(join(target, "copy"))).toEqual([]);
        expect(count(server, "RETR")).toBe(0);
        await ftp.quit();
      }
    },
    LONG,
  );

  it(
    "downloadDir with long names: ERR_FTP_PATH_TOO_LONG, never a raw ENAMETOOLONG",
    async () => {
      const long = "n".repeat(200);
      // A finite tree of 30 levels, within the depth limit, whose local path would be 6000 bytes.
      const server = await hostile({
        FEAT: NO_FEAT,
        LIST: byPath((path) => (path.split("/").length > 30 ? unixLine("-", "f.txt", 3) : unixLine("d", long))),
        SIZE: "213 3",
        RETR: sendData("abc"),
      });
      const ftp = await client(server);
      const target = await mkdtemp(join(tmp, "long-"));
      const { error } = await failure(ftp.downloadDir("/", target));
      expectTyped(error, "ERR_FTP_PATH_TOO_LONG");
      expect(await readdir(target)).toEqual([]);
      // One name longer than a file system takes (255 bytes).
      const tooLong = await hostile({
        FEAT: NO_FEAT,
        LIST: sendData(unixLine("-", "x".repeat(300), 3)),
        SIZE: "213 3",
        RETR: sendData("abc"),
      });
      const other = await client(tooLong);
      expectTyped((await failure(other.downloadDir("/", target))).error, "ERR_FTP_PATH_TOO_LONG");
      expect(await readdir(target)).toEqual([]);
      await other.quit();
      await ftp.quit();
    },
    LONG,
  );

  it(
    "removeDir refuses it before any DELE or RMD",
    async () => {
      for (const handlers of [listLoop(), mlsdLoop(() => "801g2a")]) {
        const server = await hostile(handlers);
        const ftp = await client(server);
        const { error } = await failure(ftp.removeDir("/tree"));
        expect(["ERR_FTP_TREE_TOO_DEEP", "ERR_FTP_TREE_LOOP"]).toContain((error as ErrorProto).code);
        expect(server.commands.filter((c) => /^(DELE|RMD)/.test(c))).toEqual([]);
        await ftp.quit();
      }
    },
    LONG,
  );
});

/** Runs the built command line; resolves with its exit code, output and how long it took. */
function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH, HOME: "/nonexistent" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

describe("mirror over a tree that never ends", () => {
  const PROTOCOL = 8;
  const cases: [string, () => CommandHandlers, RegExp][] = [
    ["LIST", () => listLoop(), /deeper than 64 levels/],
    ["MLSD with unique", () => mlsdLoop(() => "801g2a"), /loops/],
    ["MLSD without unique", () => mlsdLoop(() => undefined), /deeper than 64 levels/],
  ];
  it.each(cases)(
    "through %s: exits with the protocol code in bounded time, nothing written",
    async (_, handlers, message) => {
      const server = await hostile(handlers());
      const target = await mkdtemp(join(tmp, "mirror-"));
      const result = await runCli([
        "mirror",
        "-j",
        "2",
        `ftp://me:secret@${server.host}:${server.port}/`,
        join(target, "copy"),
      ]);
      expect(result.code, result.stderr).toBe(PROTOCOL);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/ENAMETOOLONG|at .*\.js/);
      expect(result.ms).toBeLessThan(30_000);
      expect(await readdir(target)).toEqual([]);
      expect(count(server, "RETR")).toBe(0);
    },
    LONG,
  );

  it(
    "with names too long for a local path: the protocol code, not a raw ENAMETOOLONG",
    async () => {
      const long = "n".repeat(200);
      const server = await hostile({
        FEAT: NO_FEAT,
        LIST: byPath((path) => (path.split("/").length > 30 ? unixLine("-", "f.txt", 3) : unixLine("d", long))),
        SIZE: "213 3",
        RETR: sendData("abc"),
      });
      const target = await mkdtemp(join(tmp, "mirror-long-"));
      const result = await runCli(["mirror", `ftp://me:secret@${server.host}:${server.port}/`, join(target, "copy")]);
      expect(result.code, result.stderr).toBe(PROTOCOL);
      expect(result.stderr).not.toMatch(/ENAMETOOLONG|at .*\.js/);
      expect(await readdir(target)).toEqual([]);
      expect(count(server, "RETR")).toBe(0);
    },
    LONG,
  );
});
