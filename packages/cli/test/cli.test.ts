/**
 * The binary against the embedded server (ftp-srv): every command, URL forms, credentials from the
 * URL, options, the environment and netrc, active mode, explicit and implicit TLS, JSON output,
 * exit codes, and quiet output when piped.
 */
import { randomBytes } from "node:crypto";
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type EmbeddedServer, freePort, startEmbeddedServer, testTls } from "@ftplib/test-servers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, sha256, spawnCli } from "./run-cli.js";

let server: EmbeddedServer;
let explicit: EmbeddedServer;
let implicit: EmbeddedServer;
let tmp: string;
let caFile: string;
let base: string;
const BIG = randomBytes(3 * 1024 * 1024 + 17);

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "ftplib-cli-"));
  caFile = join(tmp, "ca.pem");
  await writeFile(caFile, testTls.ca);
  server = await startEmbeddedServer("127.0.0.1");
  explicit = await startEmbeddedServer("127.0.0.1", { tls: { key: testTls.key, cert: testTls.cert } });
  implicit = await startEmbeddedServer("127.0.0.1", { tls: { key: testTls.key, cert: testTls.cert }, implicit: true });
  base = `ftp://${server.user}:${server.password}@127.0.0.1:${server.port}`;
  await mkdir(join(server.root, "pub", "deep"), { recursive: true });
  await writeFile(join(server.root, "pub", "hello.txt"), "hello, world\n");
  await writeFile(join(server.root, "pub", "big.bin"), BIG);
  await writeFile(join(server.root, "pub", "with space.txt"), "spaced\n");
  await writeFile(join(server.root, "pub", "deep", "leaf.txt"), "leaf\n");
});

afterAll(async () => {
  await Promise.all([server?.close(), explicit?.close(), implicit?.close()]);
  if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
});

describe("ftplib on the command line", () => {
  it("prints its help with the exit codes, and refuses bad command lines with 1", async () => {
    const help = await runCli(["--help"]);
    expect(help.code).toBe(0);
    for (const word of [
      "ls",
      "get",
      "put",
      "rm",
      "mkdir",
      "rmdir",
      "mv",
      "cat",
      "mirror",
      "Exit codes",
      "--insecure",
      "DANGEROUS",
      "--include G",
      "--exclude G",
      "--delete",
      "-R the whole tree",
    ])
      expect(help.stdout).toContain(word);
    // Each command's own options in its own help.
    const mirrorHelp = (await runCli(["mirror", "--help"])).stdout;
    for (const word of ["--include <glob>", "--exclude <glob>", "--delete", "(and deleted)", "-q: none"])
      expect(mirrorHelp).toContain(word);
    const lsHelp = (await runCli(["ls", "--help"])).stdout;
    expect(lsHelp).toMatch(/^Usage: ftplib ls \[-l\] \[-R\] /);
    expect(lsHelp).toMatch(/-R, --recursive +the whole tree/);
    expect(lsHelp).toContain("a glob in\nthe last segment");
    expect((await runCli(["get", "--help"])).stdout).toMatch(/<url>\.\.\. \[local\][^]*Several URLs, or a glob/);
    expect((await runCli(["put", "--help"])).stdout).toMatch(/<local>\.\.\. <url>[^]*quoted glob/);
    expect((await runCli([])).code).toBe(1);
    const unknown = await runCli(["frobnicate", base]);
    expect([unknown.code, unknown.stderr]).toEqual([1, expect.stringContaining("unknown command")]);
    expect((await runCli(["ls", "--no-such-option", base])).code).toBe(1);
    expect((await runCli(["ls", "http://example.com/"])).code).toBe(1);
    expect((await runCli(["get"])).code).toBe(1);
    expect((await runCli(["mirror", "a", "b"])).code).toBe(1);
    expect((await runCli(["ls", "--parallel", "0", base])).code).toBe(1);
    expect((await runCli(["ls", "--parallel", "0.5", base])).code).toBe(1);
    expect((await runCli(["--version"])).stdout).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("lists names, details and JSON", async () => {
    const names = await runCli(["ls", `${base}/pub`]);
    expect([names.code, names.stderr]).toEqual([0, ""]);
    expect(names.stdout).toBe("big.bin\ndeep\nhello.txt\nwith space.txt\n");
    const long = await runCli(["ls", "-l", `${base}/pub/`]);
    // Owner and group as the listing gives them (ftp-srv: uid and gid 1).
    expect(long.stdout).toMatch(
      new RegExp(`^-rw\\S+ 1 1 +${BIG.length} \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d big\\.bin$`, "m"),
    );
    expect(long.stdout).toMatch(/^d\S+ .* deep$/m);
    const json = await runCli(["ls", "--json", `${base}/pub`]);
    const entries = JSON.parse(json.stdout) as { name: string; type: string; size: number; modifiedAt: string }[];
    expect(entries.map((e) => [e.name, e.type])).toEqual([
      ["big.bin", "file"],
      ["deep", "dir"],
      ["hello.txt", "file"],
      ["with space.txt", "file"],
    ]);
    expect(entries[0]!.size).toBe(BIG.length);
    expect(Number.isNaN(Date.parse(entries[0]!.modifiedAt))).toBe(false);
  });

  it("downloads to a path, a directory and stdout, quietly when piped, with a bar when asked", async () => {
    const dir = await mkdtemp(join(tmp, "get-"));
    const quiet = await runCli(["get", `${base}/pub/big.bin`], { cwd: dir });
    expect([quiet.code, quiet.stdout, quiet.stderr]).toEqual([0, "", ""]);
    expect(sha256(await readFile(join(dir, "big.bin")))).toBe(sha256(BIG));
    const bar = await runCli(["get", "--progress", `${base}/pub/with%20space.txt`, dir]);
    expect(bar.code).toBe(0);
    expect(bar.stderr).toContain("with space.txt");
    expect(bar.stderr).toContain("100%");
    expect(await readFile(join(dir, "with space.txt"), "utf8")).toBe("spaced\n");
    const toStdout = await runCli(["get", `${base}/pub/hello.txt`, "-"]);
    expect(toStdout.stdout).toBe("hello, world\n");
    const cat = await runCli(["cat", `${base}/pub/big.bin`]);
    expect(cat.code).toBe(0);
    expect(sha256(cat.stdoutBytes)).toBe(sha256(BIG));
    expect((await runCli(["cat", `${base}/pub/hello.txt`])).stdout).toBe("hello, world\n");
  });

  it("uploads from a path and from stdin, and resumes", async () => {
    const src = join(tmp, "upload.bin");
    await writeFile(src, BIG);
    const put = await runCli(["put", src, `${base}/`]);
    expect([put.code, put.stderr]).toEqual([0, ""]);
    expect(sha256(await readFile(join(server.root, "upload.bin")))).toBe(sha256(BIG));
    const piped = await runCli(["put", "-", `${base}/from-stdin.txt`], { input: "through a pipe\n" });
    expect(piped.code).toBe(0);
    expect(await readFile(join(server.root, "from-stdin.txt"), "utf8")).toBe("through a pipe\n");
    await writeFile(join(server.root, "partial.bin"), BIG.subarray(0, 1000));
    expect((await runCli(["put", "--resume", src, `${base}/partial.bin`])).code).toBe(0);
    expect(sha256(await readFile(join(server.root, "partial.bin")))).toBe(sha256(BIG));
    expect((await runCli(["put", "-", `${base}/`])).code).toBe(1);
    expect((await runCli(["put", join(tmp, "nothing-here"), `${base}/`])).code).toBe(2);
  });

  it("makes, renames and removes files and directories", async () => {
    expect((await runCli(["mkdir", "-p", `${base}/tree/a/b`])).code).toBe(0);
    expect((await stat(join(server.root, "tree", "a", "b"))).isDirectory()).toBe(true);
    expect((await runCli(["mkdir", `${base}/tree/c`])).code).toBe(0);
    expect((await runCli(["rmdir", `${base}/tree/c`])).code).toBe(0);
    await writeFile(join(server.root, "tree", "a", "file.txt"), "x");
    expect((await runCli(["mv", `${base}/tree/a/file.txt`, "renamed.txt"])).code).toBe(0);
    expect(await readdir(join(server.root, "tree", "a"))).toEqual(["b", "renamed.txt"].sort());
    expect((await runCli(["mv", `${base}/tree/a/renamed.txt`, `${base}/tree/moved.txt`])).code).toBe(0);
    expect((await runCli(["rm", `${base}/tree/moved.txt`])).code).toBe(0);
    expect((await runCli(["rm", "-r", `${base}/tree`])).code).toBe(0);
    expect((await readdir(server.root)).includes("tree")).toBe(false);
  });

  it("fails with the documented exit codes and leaves no partial file", async () => {
    const dir = await mkdtemp(join(tmp, "fail-"));
    const missing = await runCli(["get", `${base}/pub/no-such-file`], { cwd: dir });
    expect(missing.code).toBe(6);
    expect(missing.stderr).toMatch(/^ftplib: 5\d\d /);
    expect(await readdir(dir)).toEqual([]);
    const badPassword = await runCli(["ls", `ftp://${server.user}:wrong@127.0.0.1:${server.port}/`]);
    expect([badPassword.code, badPassword.stderr]).toEqual([5, expect.stringContaining("login refused")]);
    expect(badPassword.stderr).not.toContain("wrong");
    const closedPort = await freePort("127.0.0.1");
    expect((await runCli(["ls", "--timeout", "10", `ftp://127.0.0.1:${closedPort}/`])).code).toBe(3);
    const rmdir = await runCli(["rmdir", `${base}/pub/no-such-dir`]);
    expect([rmdir.code, rmdir.stderr]).toEqual([6, expect.stringMatching(/^ftplib: 55\d /)]);
  });

  it("takes credentials from options, the environment and netrc", async () => {
    const plain = `ftp://127.0.0.1:${server.port}/pub`;
    expect((await runCli(["ls", "-u", server.user, "--password", server.password, plain])).stdout).toContain(
      "hello.txt",
    );
    expect((await runCli(["ls", "-u", server.user, plain], { env: { FTPLIB_PASSWORD: server.password } })).code).toBe(
      0,
    );
    const netrc = join(tmp, "netrc");
    await writeFile(netrc, `machine 127.0.0.1\n  login ${server.user}\n  password ${server.password}\n`);
    await chmod(netrc, 0o600);
    const fromFile = await runCli(["--debug", "ls", "--netrc", netrc, plain]);
    expect(fromFile.code).toBe(0);
    expect(fromFile.stderr).toContain(`USER ${server.user}`);
    const home = await mkdtemp(join(tmp, "home-"));
    await writeFile(join(home, ".netrc"), `default login ${server.user} password ${server.password}\n`, {
      mode: 0o600,
    });
    const fromHome = await runCli(["--debug", "ls", plain], { env: { HOME: home } });
    expect(fromHome.stderr).toContain(`USER ${server.user}`);
    const ignored = await runCli(["--debug", "ls", "--no-netrc", plain], { env: { HOME: home } });
    expect(ignored.stderr).toContain("USER anonymous");
  });

  it("masks the password in --debug output", async () => {
    const debug = await runCli(["--debug", "ls", `${base}/`]);
    expect(debug.code).toBe(0);
    expect(debug.stderr).toContain('*cmd* "PASS ********"');
    expect(debug.stderr).not.toContain(server.password);
    expect(debug.stdout).toContain("pub");
  });

  it("works in active mode", async () => {
    const active = await runCli(["--debug", "-a", "get", `${base}/pub/big.bin`, "-"]);
    expect(active.code).toBe(0);
    expect(active.stderr).toMatch(/\*cmd\* "(PORT|EPRT) /);
    expect(sha256(active.stdoutBytes)).toBe(sha256(BIG));
  });

  it("speaks explicit and implicit TLS, checks certificates, and says --insecure is dangerous", async () => {
    const explicitUrl = `ftp://${explicit.user}:${explicit.password}@127.0.0.1:${explicit.port}/`;
    const put = await runCli(["--tls", "--ca", caFile, "put", "-", `${explicitUrl}secret.txt`], {
      input: "over TLS\n",
    });
    expect([put.code, put.stderr]).toEqual([0, ""]);
    expect(await readFile(join(explicit.root, "secret.txt"), "utf8")).toBe("over TLS\n");
    const ftpes = await runCli(["--ca", caFile, "cat", explicitUrl.replace("ftp://", "ftpes://") + "secret.txt"]);
    expect(ftpes.stdout).toBe("over TLS\n");
    const debug = await runCli(["--ca", caFile, "--debug", "ls", explicitUrl.replace("ftp://", "ftpes://")]);
    expect(debug.stderr).toContain('*cmd* "AUTH TLS"');
    expect(debug.stderr).toContain('*cmd* "PROT P"');
    // The plain server refuses AUTH TLS: that is no refused login.
    const refused = await runCli(["--tls", "--ca", caFile, "ls", `${base}/`]);
    expect([refused.code, refused.stderr]).toEqual([4, expect.stringContaining("the server refused TLS (AUTH TLS)")]);
    const untrusted = await runCli(["--tls", "ls", explicitUrl]);
    expect([untrusted.code, untrusted.stderr]).toEqual([4, expect.stringContaining("--ca")]);
    const insecure = await runCli(["--tls", "--insecure", "ls", explicitUrl]);
    expect(insecure.code).toBe(0);
    expect(insecure.stderr).toMatch(/WARNING: --insecure: the server's certificate is NOT checked/);
    const implicitUrl = `ftps://${implicit.user}:${implicit.password}@127.0.0.1:${implicit.port}/`;
    await writeFile(join(implicit.root, "implicit.txt"), "implicit\n");
    const cat = await runCli(["--ca", caFile, "cat", `${implicitUrl}implicit.txt`]);
    expect([cat.code, cat.stdout]).toEqual([0, "implicit\n"]);
    expect((await runCli(["cat", `${implicitUrl}implicit.txt`])).code).toBe(4);
  });

  it("stops at Ctrl-C with exit code 130: the transfer with ABOR, then QUIT", async () => {
    await writeFile(join(server.root, "huge.bin"), Buffer.alloc(64 * 1024 * 1024, 1));
    /** Interrupts a download that stalls on a full pipe (stdout is not read until then). */
    const interrupted = async (args: string[]) => {
      const child = spawnCli([...args, "cat", `${base}/huge.bin`]);
      child.stdin.end();
      child.stdout.pause();
      let stderr = "";
      child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
      const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
      await new Promise<void>((resolve) => child.stdout.once("readable", () => resolve()));
      child.kill("SIGINT");
      child.stdout.resume();
      return { code: await exited, stderr };
    };
    expect(await interrupted([])).toEqual({ code: 130, stderr: "ftplib: interrupted\n" });
    const debug = await interrupted(["--debug"]);
    expect(debug.code).toBe(130);
    const commands = [...debug.stderr.matchAll(/\*cmd\* "(\w+)/g)].map((m) => m[1]);
    // (The client may send a NOOP after ABOR, to find the end of the server's replies.)
    expect(commands.slice(commands.indexOf("RETR"), commands.indexOf("RETR") + 2)).toEqual(["RETR", "ABOR"]);
    expect(commands.at(-1)).toBe("QUIT");
    expect(debug.stderr.endsWith("ftplib: interrupted\n")).toBe(true);
    await rm(join(server.root, "huge.bin"));
  });

  it("mirrors a tree down and up, only what changed, in parallel", async () => {
    const local = join(tmp, "mirror-down");
    const first = await runCli(["mirror", "--json", "-j", "3", `${base}/pub`, local]);
    expect(first.code).toBe(0);
    const summary = JSON.parse(first.stdout) as { transferred: string[]; unchanged: number; failed: unknown[] };
    expect(summary.transferred.sort()).toEqual(["big.bin", "deep/leaf.txt", "hello.txt", "with space.txt"]);
    expect(sha256(await readFile(join(local, "big.bin")))).toBe(sha256(BIG));
    expect(await readFile(join(local, "deep", "leaf.txt"), "utf8")).toBe("leaf\n");
    const again = JSON.parse((await runCli(["mirror", "--json", `${base}/pub`, local])).stdout) as typeof summary;
    expect([again.transferred, again.unchanged]).toEqual([[], 4]);
    // A file changed on the server (another size) comes down again; the others do not.
    await writeFile(join(server.root, "pub", "hello.txt"), "hello again, world\n");
    const changed = JSON.parse((await runCli(["mirror", "--json", `${base}/pub`, local])).stdout) as typeof summary;
    expect([changed.transferred, changed.unchanged]).toEqual([["hello.txt"], 3]);

    // Up: into a directory that does not exist yet, then only the file touched since.
    const dryRun = await runCli(["mirror", "-n", local, `${base}/backup/today`]);
    expect(dryRun.stdout.split("\n").sort().filter(Boolean)).toEqual([
      "mkdir deep",
      `put big.bin ${BIG.length}`,
      "put deep/leaf.txt 5",
      "put hello.txt 19",
      "put with space.txt 7",
    ]);
    expect((await readdir(server.root)).includes("backup")).toBe(false);
    const up = await runCli(["mirror", "--json", local, `${base}/backup/today`]);
    expect(up.code).toBe(0);
    expect((JSON.parse(up.stdout) as typeof summary).transferred).toHaveLength(4);
    expect(sha256(await readFile(join(server.root, "backup", "today", "big.bin")))).toBe(sha256(BIG));
    const future = new Date(Date.now() + 10 * 60_000);
    await writeFile(join(local, "deep", "leaf.txt"), "leaf");
    await utimes(join(local, "deep", "leaf.txt"), future, future);
    const upAgain = JSON.parse(
      (await runCli(["mirror", "--json", local, `${base}/backup/today`])).stdout,
    ) as typeof summary;
    expect([upAgain.transferred, upAgain.unchanged]).toEqual([["deep/leaf.txt"], 3]);
    // Piped: no bar, no line per file, a summary on stderr; -q: nothing.
    const piped = await runCli(["mirror", local, `${base}/backup/today`]);
    expect([piped.code, piped.stdout]).toEqual([0, ""]);
    expect(piped.stderr).toMatch(/^mirror: \d+ files? uploaded \(.*\) in \d+\.\ds, \d+ unchanged\n$/);
    const quietPipe = await runCli(["mirror", "-q", local, `${base}/backup/today`]);
    expect([quietPipe.code, quietPipe.stdout, quietPipe.stderr]).toEqual([0, "", ""]);
  });

  it("gets and puts several files and globs, lists trees and single files, never prints the password", async () => {
    const dir = await mkdtemp(join(tmp, "several-"));
    await mkdir(join(server.root, "globs", "sub"), { recursive: true });
    for (const name of ["a.csv", "b.csv", "c.txt", "sub/d.csv"])
      await writeFile(join(server.root, "globs", name), name);
    const got = await runCli(["get", `${base}/globs/*.csv`, dir]);
    expect([got.code, got.stderr]).toEqual([0, ""]);
    expect((await readdir(dir)).sort()).toEqual(["a.csv", "b.csv"]);
    const two = await runCli(["get", `${base}/globs/c.txt`, `${base}/globs/sub/d.csv`], { cwd: dir });
    expect(two.code).toBe(0);
    expect((await readdir(dir)).sort()).toEqual(["a.csv", "b.csv", "c.txt", "d.csv"]);
    const missing = await runCli(["get", `${base}/globs/a.csv`, `${base}/globs/nope.csv`, dir]);
    expect(missing.code).toBe(6);
    expect(missing.stderr).toContain(`ftp://${server.user}:***@127.0.0.1:${server.port}/globs/nope.csv`);
    expect(missing.stderr).not.toContain(server.password);
    const notDir = await runCli(["get", `${base}/globs/a.csv`, `${base}/globs/b.csv`, join(dir, "a.csv")]);
    expect([notDir.code, notDir.stderr.includes(server.password)]).toEqual([2, false]);

    await mkdir(join(dir, "logs"));
    await writeFile(join(dir, "logs", "1.log"), "one");
    await writeFile(join(dir, "logs", "2.log"), "two");
    expect((await runCli(["put", "logs/*.log", "c.txt", `${base}/globs/sub`], { cwd: dir })).code).toBe(0);
    expect((await readdir(join(server.root, "globs", "sub"))).sort()).toEqual(["1.log", "2.log", "c.txt", "d.csv"]);

    expect((await runCli(["ls", "-R", `${base}/globs`])).stdout).toBe(
      "a.csv\nb.csv\nc.txt\nsub\nsub/1.log\nsub/2.log\nsub/c.txt\nsub/d.csv\n",
    );
    expect((await runCli(["ls", `${base}/globs/sub/*.log`])).stdout).toBe("1.log\n2.log\n");
    const one = await runCli(["ls", "-l", `${base}/globs/c.txt`], { env: { TZ: "Pacific/Chatham" } });
    expect(one.stdout).toMatch(/^-rw\S+ +1 1 5 \d{4}-\d\d-\d\d \d\d:\d\d c\.txt\n$/);
    const mtime = (await stat(join(server.root, "globs", "c.txt"))).mtime;
    // Chatham: 12:45 or 13:45 ahead of UTC, minutes no other zone has.
    const utc = `${mtime.toISOString().slice(11, 16)} c.txt`;
    expect(one.stdout).not.toContain(utc);
    await rm(join(server.root, "globs"), { recursive: true });

    // A matched name that is no single path segment on every platform is refused, nothing written.
    await mkdir(join(server.root, "odd"));
    await writeFile(join(server.root, "odd", "fine.csv"), "fine");
    await writeFile(join(server.root, "odd", "x\\..\\up.csv"), "up");
    const odd = await mkdtemp(join(tmp, "odd-"));
    const refused = await runCli(["get", `${base}/odd/*.csv`, odd]);
    expect([refused.code, refused.stderr]).toEqual([8, expect.stringContaining("not one path segment")]);
    expect(await readdir(odd)).toEqual([]);
    await rm(join(server.root, "odd"), { recursive: true });
  });

  it("mirrors with --include, --exclude and --delete, down and up", async () => {
    const src = join(tmp, "mirror-filter-src");
    await mkdir(join(src, "keep"), { recursive: true });
    await mkdir(join(src, "cache"), { recursive: true });
    await writeFile(join(src, "a.txt"), "a");
    await writeFile(join(src, "keep", "b.txt"), "b");
    await writeFile(join(src, "cache", "c.txt"), "c");
    const up = await runCli(["mirror", "--json", "--exclude", "cache", src, `${base}/filtered`]);
    expect((JSON.parse(up.stdout) as { transferred: string[] }).transferred.sort()).toEqual(["a.txt", "keep/b.txt"]);
    expect((await readdir(join(server.root, "filtered"))).sort()).toEqual(["a.txt", "keep"]);
    await rm(join(src, "keep"), { recursive: true });
    const dry = await runCli(["mirror", "-n", "--delete", "--exclude", "cache", src, `${base}/filtered`]);
    expect(dry.stdout).toBe("rm keep/b.txt\nrmdir keep\n");
    expect((await readdir(join(server.root, "filtered"))).sort()).toEqual(["a.txt", "keep"]);
    const deleted = await runCli(["mirror", "--delete", "--exclude", "cache", src, `${base}/filtered`]);
    expect([deleted.code, deleted.stderr]).toEqual([
      0,
      expect.stringMatching(/, 1 unchanged, 2 deleted, 1 excluded\n$/),
    ]);
    expect(await readdir(join(server.root, "filtered"))).toEqual(["a.txt"]);

    const down = join(tmp, "mirror-filter-down");
    await mkdir(down);
    await writeFile(join(down, "old.txt"), "old");
    await writeFile(join(down, "mine.keep"), "mine");
    const back = await runCli(["mirror", "--json", "--delete", "--exclude", "*.keep", `${base}/filtered`, down]);
    expect((JSON.parse(back.stdout) as { deleted: string[] }).deleted).toEqual(["old.txt"]);
    expect((await readdir(down)).sort()).toEqual(["a.txt", "mine.keep"]);
    const verbose = await runCli(["mirror", "-v", "--include", "*.txt", src, `${base}/filtered2`]);
    expect(verbose.stderr).toMatch(/^put a\.txt \(1 B\)\nput cache\/c\.txt \(1 B\)\nmirror: 2 files uploaded/);
  });
});
