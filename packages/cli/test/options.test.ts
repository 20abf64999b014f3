/**
 * The command line's options: each command's help, options refused where they mean nothing, our
 * own messages for unknown ones, --timeout 0, the netrc permission warning, and --retry and
 * --limit-rate against a flaky server in front of the embedded one.
 */
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type EmbeddedServer, startEmbeddedServer } from "@ftplib/test-servers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FlakyServer, startFlakyServer } from "./flaky-server.js";
import { runCli, sha256 } from "./run-cli.js";

let server: EmbeddedServer;
let tmp: string;
let base: string;
const DATA = Buffer.alloc(200 * 1024, "ftplib ");

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "ftplib-cli-options-"));
  server = await startEmbeddedServer("127.0.0.1");
  base = `ftp://${server.user}:${server.password}@127.0.0.1:${server.port}`;
  await mkdir(join(server.root, "pub"), { recursive: true });
  await writeFile(join(server.root, "pub", "data.bin"), DATA);
});

afterAll(async () => {
  await server?.close();
  if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
});

const COMMANDS = ["ls", "get", "put", "cat", "rm", "mkdir", "rmdir", "mv", "mirror"];

describe("help and options", () => {
  it("prints each command's help for ftplib <command> --help and ftplib help <command>", async () => {
    for (const command of COMMANDS) {
      const help = await runCli([command, "--help"]);
      expect([help.code, help.stderr]).toEqual([0, ""]);
      expect(help.stdout).toMatch(new RegExp(`^Usage: ftplib ${command} `));
      expect(help.stdout).toContain("Options of every command:");
      expect(help.stdout).not.toContain("Exit codes:");
      expect((await runCli(["help", command])).stdout).toBe(help.stdout);
      expect((await runCli(["-h", command])).stdout).toBe(help.stdout);
    }
    expect((await runCli(["get", "--help"])).stdout).toMatch(/-n, --segments <n> +the file over n connections/);
    expect((await runCli(["get", "--help"])).stdout).toContain("--limit-rate <rate>");
    expect((await runCli(["rm", "--help"])).stdout).not.toContain("--resume");
    expect((await runCli(["mirror", "--help"])).stdout).toMatch(/-n, --dry-run +print what would be transferred/);
    const global = await runCli(["help"]);
    expect([global.code, global.stdout]).toEqual([0, expect.stringContaining("Exit codes:")]);
    expect((await runCli(["--help"])).stdout).toBe(global.stdout);
    const unknown = await runCli(["help", "frobnicate"]);
    expect([unknown.code, unknown.stderr]).toEqual([1, 'ftplib: unknown command "frobnicate". See ftplib --help.\n']);
  });

  it("refuses an option that means nothing for the command, naming it", async () => {
    const cases: [string[], string][] = [
      [
        ["rm", "--resume", `${base}/x`],
        "ftplib: --resume is not an option for rm (it is one of get, put). See ftplib rm --help.\n",
      ],
      [
        ["ls", "--segments", "4", `${base}/`],
        "ftplib: --segments is not an option for ls (it is one of get, mirror). See ftplib ls --help.\n",
      ],
      [
        ["mkdir", "-r", `${base}/x`],
        "ftplib: -r is not an option for mkdir (it is one of rm). See ftplib mkdir --help.\n",
      ],
      [
        ["cat", "--limit-rate", "1k", "--verify", `${base}/x`],
        "ftplib: --verify is not an option for cat (it is one of get, put, mirror). See ftplib cat --help.\n",
      ],
      [["get", "--foo", `${base}/x`], "ftplib: unknown option --foo for get. See ftplib get --help.\n"],
      [["--foo"], "ftplib: unknown option --foo. See ftplib --help.\n"],
      [["get", `${base}/x`, "--timeout"], "ftplib: --timeout needs a value. See ftplib get --help.\n"],
      [["ls", "--json=yes", `${base}/`], "ftplib: --json takes no value. See ftplib ls --help.\n"],
      [["get", "--limit-rate", "fast", `${base}/x`], expect.stringContaining("--limit-rate must be bytes per second")],
      [["get", "--retry", "-1", `${base}/x`], expect.stringContaining("--retry must be a whole number from 0 to 100")],
      [["ls", "--timeout", "-1", `${base}/`], expect.stringContaining("--timeout must be a number from 0 to 86400")],
    ] as [string[], string][];
    for (const [args, message] of cases) {
      const result = await runCli(args);
      expect([result.code, result.stderr], args.join(" ")).toEqual([1, message]);
      expect(result.stderr).not.toContain("To specify a positional argument");
    }
    // ls's recursive listing is -R; -r is rm's alone (put takes files, mirror directories).
    for (const command of ["ls", "put"]) {
      const result = await runCli([command, "-r", `${base}/`]);
      expect([result.code, result.stderr]).toEqual([
        1,
        `ftplib: -r is not an option for ${command} (it is one of rm). See ftplib ${command} --help.\n`,
      ]);
    }
    // The usage messages that quote the line keep its password out.
    for (const args of [["ls", "--timeout", `${base}/`], [`${base}/`], ["mirror", "--parallel", `${base}/pub`, tmp]]) {
      const result = await runCli(args);
      expect([result.code, result.stderr.includes(server.password)], args.join(" ")).toEqual([1, false]);
      expect(result.stderr).toContain(`ftp://${server.user}:***@127.0.0.1:${server.port}/`);
    }
    // -n is the segments of get and the dry run of mirror, wherever it stands.
    const dir = await mkdtemp(join(tmp, "n-"));
    expect((await runCli(["get", "-n", "2", `${base}/pub/data.bin`, dir])).code).toBe(0);
    expect(sha256(await readFile(join(dir, "data.bin")))).toBe(sha256(DATA));
    const dry = await runCli(["-q", "mirror", "-n", `${base}/pub`, join(dir, "copy")]);
    expect([dry.code, dry.stdout]).toEqual([0, `get data.bin ${DATA.length}\n`]);
    // Options of every command before the command, with their values.
    expect(
      (
        await runCli([
          "--timeout",
          "10",
          "-u",
          server.user,
          "--password",
          server.password,
          "ls",
          `ftp://127.0.0.1:${server.port}/pub`,
        ])
      ).stdout,
    ).toBe("data.bin\n");
  });

  it("takes --timeout 0 for no timeout, as the library does", async () => {
    const result = await runCli(["ls", "--timeout", "0", `${base}/pub`]);
    expect([result.code, result.stdout, result.stderr]).toEqual([0, "data.bin\n", ""]);
  });

  it("warns when the netrc file is open to others, and not when it is the owner's only", async () => {
    const netrc = join(tmp, "netrc");
    await writeFile(netrc, `machine 127.0.0.1 login ${server.user} password ${server.password}\n`);
    const url = `ftp://127.0.0.1:${server.port}/pub`;
    await chmod(netrc, 0o644);
    const open = await runCli(["ls", "--netrc", netrc, url]);
    expect([open.code, open.stdout]).toEqual([0, "data.bin\n"]);
    expect(open.stderr).toBe(
      `ftplib: WARNING: ${netrc} is open to others than its owner (mode 644): chmod 600 ${netrc}\n`,
    );
    expect(open.stderr).not.toContain(server.password);
    await chmod(netrc, 0o600);
    expect(await runCli(["ls", "--netrc", netrc, url])).toMatchObject({ code: 0, stderr: "" });
    const home = await mkdtemp(join(tmp, "home-"));
    await writeFile(join(home, ".netrc"), `default login ${server.user} password ${server.password}\n`, {
      mode: 0o640,
    });
    const fromHome = await runCli(["ls", url], { env: { HOME: home } });
    expect([fromHome.code, fromHome.stderr]).toEqual([0, expect.stringContaining("(mode 640): chmod 600")]);
  });
});

describe("--retry against a flaky server", () => {
  let flaky: FlakyServer | undefined;
  afterAll(async () => flaky?.close());
  const url = (proxy: FlakyServer, path: string) =>
    `ftp://${server.user}:${server.password}@127.0.0.1:${proxy.port}/${path}`;
  const start = async (options: Omit<Parameters<typeof startFlakyServer>[0], "target">) => {
    await flaky?.close();
    flaky = await startFlakyServer({ target: { host: "127.0.0.1", port: server.port }, ...options });
    return flaky;
  };

  it("tries again after a 421 greeting and a reset, waiting longer each time", async () => {
    const flakyServer = await start({ connections: ["421", "reset"] });
    const started = Date.now();
    const result = await runCli(["cat", "--retry", "3", "--retry-delay", "0.2", url(flakyServer, "pub/data.bin")]);
    expect([result.code, result.stderr.match(/trying again in [\d.]+ s/g)]).toEqual([
      0,
      ["trying again in 0.2 s", "trying again in 0.4 s"],
    ]);
    expect(result.stderr).toMatch(/^ftplib: 421 Service not available/);
    expect(result.stderr).toContain("(3 retries left)");
    expect(result.stderr).toContain("(2 retries left)");
    expect(sha256(result.stdoutBytes)).toBe(sha256(DATA));
    expect(flakyServer.connections).toBe(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
  });

  it("tries again after a 450 to RETR, and gives up with exit code 7 when the tries run out", async () => {
    const flakyServer = await start({ refuse: { verb: "RETR", reply: "450 file busy, try later", times: 2 } });
    const dir = await mkdtemp(join(tmp, "retry-"));
    const result = await runCli([
      "get",
      "--retry",
      "2",
      "--retry-delay",
      "0",
      `${url(flakyServer, "pub/data.bin")}`,
      dir,
    ]);
    expect([result.code, flakyServer.refused, flakyServer.connections]).toEqual([0, 2, 3]);
    expect(sha256(await readFile(join(dir, "data.bin")))).toBe(sha256(DATA));
    const again = await start({ refuse: { verb: "RETR", reply: "450 file busy, try later", times: 5 } });
    const out = await runCli(["get", "--retry", "1", "--retry-delay", "0", url(again, "pub/data.bin"), join(dir, "x")]);
    expect([out.code, again.connections]).toEqual([7, 2]);
    expect(out.stderr.endsWith("ftplib: 450 file busy, try later\n")).toBe(true);
    // Without --retry, one try.
    const once = await start({ refuse: { verb: "RETR", reply: "450 file busy, try later", times: 5 } });
    expect((await runCli(["cat", url(once, "pub/data.bin")])).code).toBe(7);
    expect(once.connections).toBe(1);
  });

  it("tries again after a timeout (a server that never greets)", async () => {
    const flakyServer = await start({ connections: ["silent"] });
    const result = await runCli([
      "ls",
      "--timeout",
      "1",
      "--retry",
      "1",
      "--retry-delay",
      "0",
      url(flakyServer, "pub"),
    ]);
    expect([result.code, result.stdout, flakyServer.connections]).toEqual([0, "data.bin\n", 2]);
    expect(result.stderr).toMatch(/^ftplib: no greeting from the server within 1000 ms/);
  });

  it("does not try again after a 5xx reply or a refused login", async () => {
    const missing = await start({});
    const result = await runCli(["cat", "--retry", "3", "--retry-delay", "0", url(missing, "pub/no-such-file")]);
    expect([result.code, missing.connections]).toEqual([6, 1]);
    expect(result.stderr).not.toContain("trying again");
    const refusedLogin = await start({});
    const login = await runCli([
      "ls",
      "--retry",
      "3",
      "--retry-delay",
      "0",
      `ftp://${server.user}:wrong@127.0.0.1:${refusedLogin.port}/`,
    ]);
    expect([login.code, refusedLogin.connections]).toEqual([5, 1]);
    const busy = await start({ refuse: { verb: "STOR", reply: "552 quota exceeded", times: 5 } });
    const put = await runCli(["put", "--retry", "3", "--retry-delay", "0", "-", url(busy, "up.txt")], { input: "x" });
    expect([put.code, busy.connections]).toEqual([6, 1]);
  });

  it("does not try again once stdin was read (put -)", async () => {
    const flakyServer = await start({ abortTransfers: 1 });
    const put = await runCli(["put", "--retry", "3", "--retry-delay", "0", "-", url(flakyServer, "from-stdin.txt")], {
      input: "read once\n",
    });
    expect([put.code, flakyServer.connections, flakyServer.aborted]).toEqual([7, 1, 1]);
    // Refused before a byte was read: tried again, the whole input sent.
    const refused = await start({ refuse: { verb: "STOR", reply: "452 no room now", times: 1 } });
    const again = await runCli(["put", "--retry", "3", "--retry-delay", "0", "-", url(refused, "from-stdin.txt")], {
      input: "read once\n",
    });
    expect([again.code, refused.connections]).toEqual([0, 2]);
    expect(await readFile(join(server.root, "from-stdin.txt"), "utf8")).toBe("read once\n");
  });

  it("does not try again once data went to stdout, but does for a file", async () => {
    // A 426 after the data: the transfer failed, and what is on stdout cannot be taken back.
    const piped = await start({ abortTransfers: 1 });
    const cat = await runCli(["cat", "--retry", "3", "--retry-delay", "0", url(piped, "pub/data.bin")]);
    expect([cat.code, piped.connections, piped.aborted]).toEqual([7, 1, 1]);
    expect(cat.stderr).toBe("ftplib: 426 Connection closed; transfer aborted\n");
    const toFile = await start({ abortTransfers: 1 });
    const dir = await mkdtemp(join(tmp, "aborted-"));
    const get = await runCli(["get", "--retry", "3", "--retry-delay", "0", url(toFile, "pub/data.bin"), dir]);
    expect([get.code, toFile.connections, toFile.aborted]).toEqual([0, 2, 1]);
    expect(sha256(await readFile(join(dir, "data.bin")))).toBe(sha256(DATA));
  });
});

describe("--limit-rate", () => {
  it("throttles a download to about size / rate", async () => {
    const dir = await mkdtemp(join(tmp, "rate-"));
    const started = Date.now();
    const result = await runCli(["get", "--limit-rate", "200k", `${base}/pub/data.bin`, dir]);
    const seconds = (Date.now() - started) / 1000;
    expect(result.code).toBe(0);
    expect(sha256(await readFile(join(dir, "data.bin")))).toBe(sha256(DATA));
    // 200 KiB at 200 KiB/s: a second, plus the connection's own time.
    expect(seconds).toBeGreaterThan(0.9);
    expect(seconds).toBeLessThan(3);
  });
});
