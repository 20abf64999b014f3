/**
 * The binary against the Debian servers started by `servers/servers.sh` (vsftpd, pure-ftpd,
 * proftpd, pyftpdlib): every command in plain FTP (passive and active, IPv4 and IPv6), explicit
 * TLS and implicit TLS where the server has it, certificates checked with --ca. Runs when
 * FTPLIB_REAL_SERVERS=1 (`pnpm --filter @ftplib/cli test:real`), and fails, rather than skips,
 * when the servers are missing then. Works in a directory of its own on each server, removed at
 * the end.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type RealEndpoint, type RealServer, realServers } from "@ftplib/test-servers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FlakyServer, startFlakyServer } from "./flaky-server.js";
import { runCli, sha256 } from "./run-cli.js";

const wanted = process.env.FTPLIB_REAL_SERVERS === "1";
const only = process.env.FTPLIB_SERVERS?.split(",").filter(Boolean);
const DATA = randomBytes(300 * 1024 + 3);

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "ftplib-cli-real-"));
});
afterAll(async () => {
  if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
});

interface Mode {
  name: string;
  /** The URL up to the path, credentials in it (percent-encoded). */
  base: string;
  /** Options for every command of this mode. */
  options: string[];
}

function hostOf(endpoint: RealEndpoint): string {
  return endpoint.family === 6 ? `[${endpoint.host}]` : endpoint.host;
}

function modes(server: RealServer): Mode[] {
  const auth = `${encodeURIComponent(server.user)}:${encodeURIComponent(server.password)}@`;
  const v4 = server.endpoints.filter((e) => e.family === 4);
  const plain = v4.find((e) => e.tls !== "implicit")!;
  const v6 = server.endpoints.find((e) => e.family === 6 && e.tls !== "implicit");
  const implicit = v4.find((e) => e.tls === "implicit");
  const ca = ["--ca", server.ca!];
  const found: Mode[] = [
    { name: "plain, passive", base: `ftp://${auth}${hostOf(plain)}:${plain.port}`, options: [] },
    { name: "plain, active", base: `ftp://${auth}${hostOf(plain)}:${plain.port}`, options: ["--active"] },
  ];
  if (v6 !== undefined) found.push({ name: "plain, IPv6", base: `ftp://${auth}${hostOf(v6)}:${v6.port}`, options: [] });
  if (plain.tls === "explicit")
    found.push({ name: "explicit TLS (ftpes://)", base: `ftpes://${auth}${hostOf(plain)}:${plain.port}`, options: ca });
  if (implicit !== undefined)
    found.push({
      name: "implicit TLS (ftps://)",
      base: `ftps://${auth}${hostOf(implicit)}:${implicit.port}`,
      options: ca,
    });
  return found;
}

describe.runIf(wanted)("ftplib against the Debian servers", () => {
  const servers = realServers().filter((s) => only === undefined || only.includes(s.name));

  it("are running (bash servers/servers.sh install && bash servers/servers.sh start)", () => {
    expect(servers.length).toBeGreaterThan(0);
  });

  for (const server of servers) {
    describe(server.name, () => {
      for (const mode of modes(server)) {
        it(`every command, ${mode.name}`, async () => {
          const dir = `ftplib-cli-${process.pid}-${mode.name.replace(/\W+/g, "-")}`;
          const url = (path: string) => `${mode.base}/${path.split("/").map(encodeURIComponent).join("/")}`;
          const cli = async (args: string[], input?: string, expected = 0) => {
            const result = await runCli([...mode.options, ...args], { input, cwd: tmp });
            expect(result.code, `ftplib ${args.join(" ")}\n${result.stderr}`).toBe(expected);
            return result;
          };
          const local = await mkdtemp(join(tmp, "case-"));
          const source = join(local, "data.bin");
          await writeFile(source, DATA);
          try {
            await cli(["mkdir", "-p", url(`${dir}/sub/deeper`)]);
            await cli(["put", source, `${url(dir)}/`]);
            await cli(["put", "-", url(`${dir}/sub/from stdin.txt`)], "piped in\n");
            const listing = JSON.parse((await cli(["ls", "--json", url(dir)])).stdout) as {
              name: string;
              type: string;
              size?: number;
            }[];
            expect(listing.map((e) => `${e.type} ${e.name}`).sort()).toEqual(["dir sub", "file data.bin"]);
            expect(listing.find((e) => e.name === "data.bin")?.size).toBe(DATA.length);
            expect((await cli(["ls", url(`${dir}/sub`)])).stdout).toBe("deeper\nfrom stdin.txt\n");

            const got = join(local, "got.bin");
            const quiet = await cli(["get", url(`${dir}/data.bin`), got]);
            expect([quiet.stdout, quiet.stderr]).toEqual(["", ""]);
            expect(sha256(await readFile(got))).toBe(sha256(DATA));
            expect((await cli(["cat", url(`${dir}/sub/from stdin.txt`)])).stdout).toBe("piped in\n");
            await cli(["mv", url(`${dir}/data.bin`), "renamed.bin"]);
            expect((await cli(["ls", url(dir)])).stdout).toBe("renamed.bin\nsub\n");

            // mirror down, then again: nothing changed. pyftpdlib 1.5.7 loses a PORT sent while
            // another session's active data connection closes (its connect is never completed
            // nor answered): one transfer at a time there.
            const down = join(local, "down");
            const parallel =
              server.name === "pyftpdlib" && mode.options.includes("--active") ? ["-j", "1"] : ["-j", "2"];
            const first = JSON.parse((await cli(["mirror", "--json", ...parallel, url(dir), down])).stdout) as {
              transferred: string[];
              unchanged: number;
            };
            expect(first.transferred.sort()).toEqual(["renamed.bin", "sub/from stdin.txt"]);
            expect(sha256(await readFile(join(down, "renamed.bin")))).toBe(sha256(DATA));
            const second = JSON.parse((await cli(["mirror", "--json", url(dir), down])).stdout) as typeof first;
            expect([second.transferred, second.unchanged]).toEqual([[], 2]);

            // mirror up into a new directory, then again: only the file touched since.
            const first2 = JSON.parse(
              (await cli(["mirror", "--json", ...parallel, down, url(`${dir}/up`)])).stdout,
            ) as typeof first;
            expect(first2.transferred.sort()).toEqual(["renamed.bin", "sub/from stdin.txt"]);
            const later = new Date(Date.now() + 10 * 60_000);
            await utimes(join(down, "renamed.bin"), later, later);
            const second2 = JSON.parse(
              (await cli(["mirror", "--json", down, url(`${dir}/up`)])).stdout,
            ) as typeof first;
            expect([second2.transferred, second2.unchanged]).toEqual([["renamed.bin"], 1]);
            expect((await cli(["cat", url(`${dir}/up/sub/from stdin.txt`)])).stdout).toBe("piped in\n");

            const missing = await cli(["get", url(`${dir}/no-such-file`), join(local, "missing")], undefined, 6);
            expect(missing.stderr).toMatch(/^ftplib: 5\d\d /);
            await cli(["rm", url(`${dir}/sub/from stdin.txt`)]);
            await cli(["rmdir", url(`${dir}/sub/deeper`)]);
            await cli(["rmdir", url(`${dir}/sub/deeper`)], undefined, 6);
          } finally {
            await runCli([...mode.options, "rm", "-r", url(dir)], { cwd: tmp });
          }
          expect((await cli(["ls", `${mode.base}/`])).stdout.split("\n")).not.toContain(dir);
        });
      }

      it("exit codes: a refused login is 5, an untrusted certificate 4", async () => {
        const endpoint = server.endpoints.find((e) => e.family === 4 && e.tls !== "implicit")!;
        const badLogin = await runCli([
          "ls",
          `ftp://${server.user}:not-the-password@${endpoint.host}:${endpoint.port}/`,
        ]);
        expect([badLogin.code, badLogin.stderr]).toEqual([5, expect.stringContaining("login refused")]);
        if (endpoint.tls === "explicit") {
          const untrusted = await runCli([
            "ls",
            `ftpes://${server.user}:${encodeURIComponent(server.password)}@${endpoint.host}:${endpoint.port}/`,
          ]);
          expect([untrusted.code, untrusted.stderr]).toEqual([4, expect.stringContaining("--ca")]);
        }
      });
    });
  }
});

describe.runIf(wanted)("ftplib -z (MODE Z)", () => {
  const servers = realServers().filter((s) => ["proftpd", "vsftpd"].includes(s.name));
  const TEXT = Array.from({ length: 40_000 }, (_, i) => `${i} a line of a log, much like the one before\n`).join("");
  for (const server of servers) {
    it(`${server.name}: get, cat, ls and mirror with -z; deflated where FEAT offers MODE Z`, async () => {
      const auth = `${encodeURIComponent(server.user)}:${encodeURIComponent(server.password)}@`;
      const endpoint = server.endpoints.find((e) => e.family === 4 && e.tls !== "implicit")!;
      const dir = `ftplib-cli-z-${process.pid}`;
      const base = `ftp://${auth}${hostOf(endpoint)}:${endpoint.port}/${dir}`;
      const local = await mkdtemp(join(tmp, "z-"));
      await writeFile(join(local, "log.txt"), TEXT);
      const cli = async (args: string[]) => {
        const result = await runCli(args, { cwd: tmp });
        expect(result.code, `ftplib ${args.join(" ")}\n${result.stderr}`).toBe(0);
        return result;
      };
      try {
        await cli(["mkdir", "-p", base]);
        await cli(["put", join(local, "log.txt"), `${base}/`]);
        const got = await cli(["get", "-z", "--debug", `${base}/log.txt`, join(local, "got.txt")]);
        expect(await readFile(join(local, "got.txt"), "utf8")).toBe(TEXT);
        const offered = server.name === "proftpd";
        expect(got.stderr.includes('*cmd* "MODE Z"')).toBe(offered);
        expect(got.stderr.includes("MODE Z not offered")).toBe(!offered);
        expect((await cli(["cat", "-z", `${base}/log.txt`])).stdout).toBe(TEXT);
        expect((await cli(["ls", "-z", base])).stdout).toBe("log.txt\n");
        await cli(["mirror", "-z", base, join(local, "down")]);
        expect(await readFile(join(local, "down", "log.txt"), "utf8")).toBe(TEXT);
      } finally {
        await runCli(["rm", "-r", base], { cwd: tmp });
      }
    });
  }
});

describe.runIf(wanted)("ftplib's hints against the Debian servers", () => {
  const servers = realServers().filter((s) => only === undefined || only.includes(s.name));
  for (const server of servers) {
    const auth = () => `${encodeURIComponent(server.user)}:${encodeURIComponent(server.password)}@`;
    it(`${server.name}: ftp:// to the implicit TLS port fails at once with a hint to use ftps://`, async () => {
      const implicit = server.endpoints.find((e) => e.family === 4 && e.tls === "implicit");
      if (implicit === undefined) return;
      const started = Date.now();
      const result = await runCli(["ls", `ftp://${auth()}${implicit.host}:${implicit.port}/`]);
      expect(Date.now() - started).toBeLessThan(5000);
      expect([result.code, result.stdout]).toEqual([3, ""]);
      expect(result.stderr).toContain("the server speaks implicit TLS; use ftps://");
      expect(result.stderr).not.toContain(server.password);
    });

    it(`${server.name}: ftps:// to a port that greets in clear text fails at once with a hint`, async () => {
      const plain = server.endpoints.find((e) => e.family === 4 && e.tls !== "implicit")!;
      const started = Date.now();
      const result = await runCli(["ls", `ftps://${auth()}${plain.host}:${plain.port}/`]);
      expect(Date.now() - started).toBeLessThan(5000);
      expect([result.code, result.stdout]).toEqual([4, ""]);
      expect(result.stderr).toMatch(/the server answered in clear text, not TLS: "220[ -]/);
      expect(result.stderr).toContain("use ftpes:// (AUTH TLS), or ftp:// for plain FTP");
    });
  }

  it("vsftpd: an untrusted certificate hints at --ca; a refused login does not", async () => {
    const vsftpd = servers.find((s) => s.name === "vsftpd");
    if (vsftpd === undefined) return;
    const endpoint = vsftpd.endpoints.find((e) => e.family === 4 && e.tls === "explicit")!;
    const auth = `${encodeURIComponent(vsftpd.user)}:${encodeURIComponent(vsftpd.password)}@`;
    const untrusted = await runCli(["ls", `ftpes://${auth}${endpoint.host}:${endpoint.port}/`]);
    expect([untrusted.code, untrusted.stderr]).toEqual([4, expect.stringContaining("needs --ca <file>")]);
    const wrongName = await runCli(["--ca", vsftpd.ca!, "ls", `ftpes://${auth}127.0.0.2:${endpoint.port}/`]);
    if (wrongName.code !== 3) {
      // (127.0.0.2 reaches the server where it listens on all loopback addresses.)
      expect([wrongName.code, wrongName.stderr]).toEqual([
        4,
        expect.stringContaining("the certificate is for another name"),
      ]);
      expect(wrongName.stderr).not.toContain("--ca");
    }
    // A failure of TLS that is not the certificate's: no --ca hint.
    const plain = await runCli(["--ca", vsftpd.ca!, "ls", `ftps://${auth}${endpoint.host}:${endpoint.port}/`]);
    expect([plain.code, plain.stderr]).toEqual([4, expect.not.stringContaining("--ca")]);
  });
});

describe.runIf(wanted)("ftplib --limit-rate and --retry against vsftpd", () => {
  const KIB = 1024;
  const FILE = randomBytes(256 * KIB);
  let server: RealServer | undefined;
  let base = "";
  let dir = "";
  let local = "";
  const timed = async (args: string[], input?: string) => {
    const started = Date.now();
    const result = await runCli(args, { cwd: tmp, input });
    expect(result.code, `ftplib ${args.join(" ")}\n${result.stderr}`).toBe(0);
    return { ...result, seconds: (Date.now() - started) / 1000 };
  };

  beforeAll(async () => {
    server = realServers().find((s) => s.name === "vsftpd");
    if (server === undefined) return;
    const endpoint = server.endpoints.find((e) => e.family === 4 && e.tls !== "implicit")!;
    dir = `ftplib-cli-rate-${process.pid}`;
    base = `ftp://${encodeURIComponent(server.user)}:${encodeURIComponent(server.password)}@${endpoint.host}:${endpoint.port}`;
    local = await mkdtemp(join(tmp, "rate-"));
    await writeFile(join(local, "file.bin"), FILE);
    await mkdir(join(local, "tree"));
    await writeFile(join(local, "tree", "a.bin"), FILE.subarray(0, 128 * KIB));
    await writeFile(join(local, "tree", "b.bin"), FILE.subarray(128 * KIB));
    await timed(["mkdir", "-p", `${base}/${dir}`]);
  });
  afterAll(async () => {
    if (server !== undefined) await runCli(["rm", "-r", `${base}/${dir}`], { cwd: tmp });
  });

  it("is here", () => expect(server).toBeDefined());

  it("get, put, cat and mirror take about size / rate with --limit-rate, and far less without", async () => {
    // 256 KiB at 256k: a second each, the connection's own time on top.
    const put = await timed(["put", "--limit-rate", "256k", join(local, "file.bin"), `${base}/${dir}/`]);
    expect(put.seconds).toBeGreaterThan(0.9);
    expect(put.seconds).toBeLessThan(3);
    const get = await timed(["get", "--limit-rate", "256k", `${base}/${dir}/file.bin`, join(local, "got.bin")]);
    expect(get.seconds).toBeGreaterThan(0.9);
    expect(get.seconds).toBeLessThan(3);
    expect(sha256(await readFile(join(local, "got.bin")))).toBe(sha256(FILE));
    const cat = await timed(["cat", "--limit-rate", "0.25M", `${base}/${dir}/file.bin`]);
    expect(cat.seconds).toBeGreaterThan(0.9);
    expect(sha256(cat.stdoutBytes)).toBe(sha256(FILE));
    const fast = await timed(["get", `${base}/${dir}/file.bin`, join(local, "fast.bin")]);
    expect(fast.seconds).toBeLessThan(put.seconds / 2);
    // Segments share the rate too.
    const segmented = await timed([
      "get",
      "-n",
      "4",
      "--limit-rate",
      "256k",
      `${base}/${dir}/file.bin`,
      join(local, "seg.bin"),
    ]);
    expect(segmented.seconds).toBeGreaterThan(0.9);
    // mirror: two files of 128 KiB on two connections share the one rate: a second in all.
    const up = await timed(["mirror", "-j", "2", "--limit-rate", "256k", join(local, "tree"), `${base}/${dir}/tree`]);
    expect(up.seconds).toBeGreaterThan(0.9);
    expect(up.seconds).toBeLessThan(3);
    const down = await timed([
      "mirror",
      "--json",
      "-j",
      "2",
      "--limit-rate",
      "256k",
      `${base}/${dir}/tree`,
      join(local, "down"),
    ]);
    expect(down.seconds).toBeGreaterThan(0.9);
    expect((JSON.parse(down.stdout) as { transferred: string[] }).transferred.sort()).toEqual(["a.bin", "b.bin"]);
    expect(sha256(await readFile(join(local, "down", "b.bin")))).toBe(sha256(FILE.subarray(128 * KIB)));
  });

  it("--retry gets through a 421 greeting, a reset and a 450 to RETR, STOR and a mirror's RETR", async () => {
    const endpoint = server!.endpoints.find((e) => e.family === 4 && e.tls !== "implicit")!;
    const target = { host: endpoint.host, port: endpoint.port };
    const through = (flaky: FlakyServer) => base.replace(`:${endpoint.port}`, `:${flaky.port}`);
    const retry = ["--retry", "3", "--retry-delay", "0.1"];
    const greeting = await startFlakyServer({ target, connections: ["421", "reset"] });
    try {
      const ls = await timed(["ls", ...retry, `${through(greeting)}/${dir}`]);
      expect(ls.stdout).toContain("file.bin");
      expect(greeting.connections).toBe(3);
    } finally {
      await greeting.close();
    }
    const retr = await startFlakyServer({ target, refuse: { verb: "RETR", reply: "450 busy", times: 1 } });
    try {
      const cat = await timed(["cat", ...retry, `${through(retr)}/${dir}/file.bin`]);
      expect(sha256(cat.stdoutBytes)).toBe(sha256(FILE));
      expect([retr.refused, retr.connections]).toEqual([1, 2]);
      expect(cat.stderr).toBe(
        "ftplib: 450 busy\nftplib: a transient failure: trying again in 0.1 s (3 retries left)\n",
      );
    } finally {
      await retr.close();
    }
    const stor = await startFlakyServer({ target, refuse: { verb: "STOR", reply: "452 no room now", times: 2 } });
    try {
      await timed(["put", ...retry, "-", `${through(stor)}/${dir}/retried.txt`], "after two tries\n");
      expect([stor.refused, stor.connections]).toEqual([2, 3]);
      expect((await timed(["cat", `${base}/${dir}/retried.txt`])).stdout).toBe("after two tries\n");
    } finally {
      await stor.close();
    }
    const mirrorRetr = await startFlakyServer({ target, refuse: { verb: "RETR", reply: "450 busy", times: 1 } });
    try {
      const down = join(local, "retried-down");
      const mirror = await timed(["mirror", "--json", "-j", "1", ...retry, `${through(mirrorRetr)}/${dir}/tree`, down]);
      // The second run found the file the first one got, and got the other.
      expect((JSON.parse(mirror.stdout) as { transferred: string[]; unchanged: number }).unchanged).toBe(1);
      expect(sha256(await readFile(join(down, "a.bin")))).toBe(sha256(FILE.subarray(0, 128 * KIB)));
      expect(sha256(await readFile(join(down, "b.bin")))).toBe(sha256(FILE.subarray(128 * KIB)));
    } finally {
      await mirrorRetr.close();
    }
  });
});

describe.runIf(wanted)("ftplib: several files, globs, listings and mirror's filters", () => {
  const servers = realServers().filter(
    (s) =>
      ["vsftpd", "pure-ftpd", "proftpd", "pyftpdlib"].includes(s.name) && (only === undefined || only.includes(s.name)),
  );
  const hasScript = existsSync("/usr/bin/script");

  for (const server of servers) {
    it(`${server.name}: get and put several files and globs, ls -l/-R/a file, mirror --include/--exclude/--delete`, async () => {
      const endpoint = server.endpoints.find((e) => e.family === 4 && e.tls !== "implicit")!;
      const auth = `${encodeURIComponent(server.user)}:${encodeURIComponent(server.password)}@`;
      const dir = `ftplib-cli-glob-${process.pid}`;
      const base = `ftp://${auth}${hostOf(endpoint)}:${endpoint.port}/${dir}`;
      const local = await mkdtemp(join(tmp, "glob-"));
      /** Every run: the expected exit code, and never the password on stdout or stderr. */
      const cli = async (
        args: string[],
        expected = 0,
        options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
      ) => {
        const result = await runCli(args, { cwd: local, ...options });
        expect(result.code, `ftplib ${args.join(" ")}\n${result.stderr}`).toBe(expected);
        expect(result.stderr + result.stdout).not.toContain(server.password);
        return result;
      };
      await mkdir(join(local, "logs"));
      await writeFile(join(local, "a.csv"), "a\n");
      await writeFile(join(local, "b.csv"), "bb\n");
      await writeFile(join(local, "notes.txt"), "notes\n");
      await writeFile(join(local, "logs", "x.log"), "x\n");
      await writeFile(join(local, "logs", "y.log"), "y\n");
      try {
        await cli(["mkdir", "-p", `${base}/up`]);
        // put: several files, then a glob the shell left quoted (into a URL without its slash).
        await cli(["put", "a.csv", "b.csv", "notes.txt", `${base}/`]);
        await cli(["put", "logs/*.log", `${base}/up`]);
        expect((await cli(["ls", base])).stdout).toBe("a.csv\nb.csv\nnotes.txt\nup\n");
        expect((await cli(["ls", `${base}/up/`])).stdout).toBe("x.log\ny.log\n");
        expect((await cli(["put", "none*.zip", `${base}/`], 2)).stderr).toContain("no local file matches none*.zip");

        // get: a remote glob into a directory; several URLs into the current directory.
        const out = join(local, "out");
        await mkdir(out);
        await cli(["get", `${base}/*.csv`, out]);
        expect((await readdir(out)).sort()).toEqual(["a.csv", "b.csv"]);
        expect(await readFile(join(out, "b.csv"), "utf8")).toBe("bb\n");
        await cli(["get", `${base}/notes.txt`, `${base}/up/x.log`], 0, { cwd: out });
        expect((await readdir(out)).sort()).toEqual(["a.csv", "b.csv", "notes.txt", "x.log"]);
        const noMatch = await cli(["get", `${base}/*.zip`, out], 6);
        expect(noMatch.stderr).toContain(`no file matches ftp://${server.user}:***@`);
        // One missing of several: the others still come, the missing one is named (no password), exit 6.
        await rm(join(out, "a.csv"));
        const oneMissing = await cli(["get", `${base}/missing.txt`, `${base}/a.csv`, out], 6);
        expect(oneMissing.stderr).toContain(`ftplib: get ftp://${server.user}:***@`);
        expect(oneMissing.stderr).toContain("missing.txt: 5");
        expect(await readFile(join(out, "a.csv"), "utf8")).toBe("a\n");
        const notDir = await cli(["get", `${base}/a.csv`, `${base}/b.csv`, join(local, "no-dir/")], 2);
        expect(notDir.stderr).toContain("is not a directory");

        // ls: one file, a glob, the tree; -l in local time, owner and group where the server says.
        expect((await cli(["ls", `${base}/a.csv`])).stdout).toBe("a.csv\n");
        expect((await cli(["ls", `${base}/*.csv`])).stdout).toBe("a.csv\nb.csv\n");
        expect((await cli(["ls", "-R", base])).stdout).toBe("a.csv\nb.csv\nnotes.txt\nup\nup/x.log\nup/y.log\n");
        const [fact] = JSON.parse((await cli(["ls", "--json", `${base}/b.csv`])).stdout) as {
          name: string;
          size: number;
          modifiedAt: string;
          permissions?: string;
          owner?: string;
          group?: string;
        }[];
        expect([fact?.name, fact?.size]).toEqual(["b.csv", 3]);
        const long = (await cli(["ls", "-l", `${base}/b.csv`], 0, { env: { TZ: "Asia/Kolkata" } })).stdout;
        const kolkata = new Date(Date.parse(fact!.modifiedAt) + 330 * 60_000).toISOString();
        expect(long).toContain(` 3 ${kolkata.slice(0, 10)} ${kolkata.slice(11, 16)} b.csv\n`);
        expect(long.startsWith(`-${(fact!.permissions ?? "").padEnd(9)} `)).toBe(true);
        if (fact!.owner !== undefined) expect(long).toContain(` ${fact!.owner} ${fact!.group ?? ""}`);
        if (server.name !== "pyftpdlib") expect(fact!.owner).toBeDefined();
        // A missing path fails (vsftpd lists one as empty: its parent's listing tells), an empty
        // directory lists nothing.
        expect((await cli(["ls", `${base}/nope`], 6)).stderr).toMatch(/^ftplib: /);
        await cli(["mkdir", `${base}/empty`]);
        expect((await cli(["ls", `${base}/empty`])).stdout).toBe("");
        await cli(["rmdir", `${base}/empty`]);
        const longDir = (await cli(["ls", "-l", base])).stdout.split("\n");
        expect(longDir.find((l) => l.endsWith(" up"))).toMatch(/^d/);
        expect(longDir.join("\n")).not.toContain("----------");

        // mirror down with --include and --exclude (exclude wins); with --include, only the
        // directories that hold a file are made.
        const down = join(local, "down");
        const filtered = JSON.parse(
          (
            await cli([
              "mirror",
              "--json",
              "--include",
              "*.csv",
              "--include",
              "up/x.log",
              "--exclude",
              "b*",
              base,
              down,
            ])
          ).stdout,
        ) as { transferred: string[]; excluded: number; deleted: string[] };
        expect([filtered.transferred.sort(), filtered.excluded]).toEqual([["a.csv", "up/x.log"], 3]);
        await cli(["mirror", "--include", "*.csv", "--exclude", "up", base, join(local, "down-csv")]);
        expect((await readdir(join(local, "down-csv"))).sort()).toEqual(["a.csv", "b.csv"]);

        // --delete, down: what the server no longer has goes; under -n it is only said.
        await cli(["mirror", base, down]);
        await cli(["rm", `${base}/notes.txt`]);
        await writeFile(join(down, "up", "stray.log"), "stray\n");
        const dry = await cli(["mirror", "-n", "--delete", base, down]);
        expect(dry.stdout.split("\n").filter(Boolean).sort()).toEqual(["rm notes.txt", "rm up/stray.log"]);
        expect((await readdir(down)).sort()).toEqual(["a.csv", "b.csv", "notes.txt", "up"]);
        const kept = JSON.parse(
          (await cli(["mirror", "--json", "--delete", "--exclude", "stray.log", base, down])).stdout,
        ) as typeof filtered;
        expect(kept.deleted).toEqual(["notes.txt"]);
        // Piped: the summary on stderr, with what was deleted.
        const piped = await cli(["mirror", "--delete", base, down]);
        expect(piped.stderr).toMatch(/^mirror: 0 files downloaded \(0 B\) in \d+\.\ds, 4 unchanged, 1 deleted\n$/);
        expect((await readdir(join(down, "up"))).sort()).toEqual(["x.log", "y.log"]);

        // --delete, up: what the local tree no longer has goes from the server, directories too.
        await cli(["mirror", down, `${base}/copy`]);
        await rm(join(down, "up"), { recursive: true });
        const dryUp = await cli(["mirror", "-n", "--delete", down, `${base}/copy`]);
        expect(dryUp.stdout.split("\n").filter(Boolean)).toEqual(["rm up/x.log", "rm up/y.log", "rmdir up"]);
        expect((await cli(["ls", "-R", `${base}/copy`])).stdout).toBe("a.csv\nb.csv\nup\nup/x.log\nup/y.log\n");
        const up = JSON.parse(
          (await cli(["mirror", "--json", "--delete", down, `${base}/copy`])).stdout,
        ) as typeof filtered;
        expect(up.deleted).toEqual(["up/x.log", "up/y.log", "up"]);
        expect((await cli(["ls", "-R", `${base}/copy`])).stdout).toBe("a.csv\nb.csv\n");
        if (server.name === "vsftpd") {
          // A removal the server refuses (a root-owned directory the session's user cannot
          // write): named, the others done, the directory left, the exit code the refusal's.
          const locked = join(server.root, dir, "copy", "locked");
          await mkdir(locked, { mode: 0o755 });
          await writeFile(join(locked, "f.txt"), "f");
          await cli(["put", "-", `${base}/copy/extra.txt`], 0, { input: "extra" });
          const refused = await cli(["mirror", "--json", "--delete", down, `${base}/copy`], 6);
          const summary = JSON.parse(refused.stdout) as typeof filtered & { failed: { path: string }[] };
          expect([summary.deleted, summary.failed.map((f) => f.path)]).toEqual([["extra.txt"], ["locked/f.txt"]]);
          expect(refused.stderr).toMatch(/^ftplib: mirror: locked\/f\.txt: 550 /m);
          expect((await cli(["ls", "-R", `${base}/copy`])).stdout).toBe("a.csv\nb.csv\nlocked\nlocked/f.txt\n");
          await rm(locked, { recursive: true });
        }

        // A line per file where someone watches: --progress, and a real terminal.
        const watched = await cli(["mirror", "--progress", `${base}/copy`, join(local, "down2")]);
        expect(watched.stderr).toContain("get a.csv (2 B)\n");
        expect(watched.stderr).toContain("get b.csv (3 B)\n");
        expect(watched.stderr).toMatch(/mirror: 2 files downloaded \(5 B\) in \d+\.\ds, 0 unchanged\n$/);
        if (hasScript) {
          const bin = fileURLToPath(new URL("../dist/bin.js", import.meta.url));
          const command = `'${process.execPath}' '${bin}' mirror '${base}/copy' '${join(local, "down3")}'`;
          const tty = await new Promise<string>((resolve, reject) =>
            execFile(
              "/usr/bin/script",
              ["-qec", command, "/dev/null"],
              { env: { PATH: process.env.PATH, HOME: "/nonexistent" } },
              (error, stdout) => (error ? reject(error) : resolve(stdout)),
            ),
          );
          expect(tty).toContain("get a.csv (2 B)");
          expect(tty).toMatch(/mirror: 2 files downloaded \(5 B\)/);
          expect(tty).not.toContain(server.password);
        }
      } finally {
        await runCli(["rm", "-r", base], { cwd: tmp });
      }
    });
  }
});
