/**
 * The progress bar as the binary draws it, against the embedded server (ftp-srv) and, with
 * FTPLIB_REAL_SERVERS=1, the servers servers/servers.sh runs: every redraw fits the terminal's
 * width ($COLUMNS, stderr being a pipe here), a resumed transfer counts from its part already
 * there, and a complete transfer ends with one summary line (a failed one with none), for get,
 * get -n (segments), put and mirror.
 */
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type EmbeddedServer, realServers, startEmbeddedServer } from "@ftplib/test-servers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { displayWidth } from "../src/progress.js";
import { runCli, sha256 } from "./run-cli.js";

const real = process.env.FTPLIB_REAL_SERVERS === "1";
const MiB = 1 << 20;
const DATA = randomBytes(5 * MiB + 77);
const tag = `cli-progress-${process.pid}`;
/** A name of wide and combining characters, longer than a narrow terminal. */
const WIDE_NAME = `${tag}-日本語のファイル名-cafe\u0301-データ.bin`;

interface Target {
  name: string;
  root: string;
  base: string;
}

let embedded: EmbeddedServer | undefined;
let targets: Target[] = [];
let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "ftplib-cli-progress-"));
  embedded = await startEmbeddedServer("127.0.0.1");
  const auth = (user: string, password: string) => `${encodeURIComponent(user)}:${encodeURIComponent(password)}@`;
  targets = [
    {
      name: "ftp-srv",
      root: embedded.root,
      base: `ftp://${auth(embedded.user, embedded.password)}127.0.0.1:${embedded.port}`,
    },
  ];
  if (real) {
    for (const server of realServers()) {
      const e = server.endpoints.find((x) => x.family === 4 && x.tls !== "implicit");
      if (e === undefined) continue;
      targets.push({
        name: server.name,
        root: server.root,
        base: `ftp://${auth(server.user, server.password)}${e.host}:${e.port}`,
      });
    }
  }
  for (const target of targets) {
    await writeFile(join(target.root, `${tag}-big.bin`), DATA, { mode: 0o644 });
    await writeFile(join(target.root, WIDE_NAME), DATA.subarray(0, MiB), { mode: 0o644 });
  }
});

afterAll(async () => {
  await embedded?.close();
  if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
  for (const target of targets) {
    for (const name of await readdir(target.root).catch(() => [])) {
      if (name.startsWith(tag)) await rm(join(target.root, name), { recursive: true, force: true });
    }
  }
});

const url = (target: Target, name: string) => `${target.base}/${encodeURIComponent(name)}`;

/** stderr as the terminal would show it: each redraw of the bar, and the lines after it. */
function screen(stderr: string) {
  const lines = stderr.split("\n");
  const redraws = lines.flatMap((line) =>
    line
      .split("\r")
      .filter((part) => part.endsWith("\x1b[K"))
      .map((part) => part.slice(0, -3)),
  );
  const plain = lines.filter((line) => !line.includes("\r") && line !== "");
  return { redraws, plain };
}

function expectFits(redraws: string[], columns: number): void {
  expect(redraws.length).toBeGreaterThan(0);
  for (const line of redraws) expect(displayWidth(line), JSON.stringify(line)).toBeLessThanOrEqual(columns - 1);
}

const SUMMARY =
  /^(.+): ([\d.]+ (?:B|KiB|MiB)) in [\d.]+s \(([\d.]+ (?:B|KiB|MiB|GiB))\/s\)(, after .* already there)?$/;

describe("the progress bar of the ftplib binary", { timeout: 120_000 }, () => {
  it.runIf(real)("has the real servers too (bash servers/servers.sh start)", () => {
    expect(targets.length).toBeGreaterThan(1);
  });

  it("get: fits 50 and 120 columns, a wide name shortened by its cells, one summary line", async () => {
    for (const target of targets) {
      for (const columns of [50, 120]) {
        const dir = await mkdtemp(join(tmp, "get-"));
        const result = await runCli(["get", "--progress", url(target, WIDE_NAME), dir], {
          env: { COLUMNS: String(columns) },
        });
        expect(result.code, `${target.name}: ${result.stderr}`).toBe(0);
        expect(sha256(await readFile(join(dir, WIDE_NAME)))).toBe(sha256(DATA.subarray(0, MiB)));
        const { redraws, plain } = screen(result.stderr);
        expectFits(redraws, columns);
        expect(redraws.at(-1)).toContain("100%");
        if (columns === 50) expect(redraws.at(-1)!.startsWith("...")).toBe(true);
        else expect(redraws.at(-1)!.startsWith(WIDE_NAME)).toBe(true);
        expect(plain).toHaveLength(1);
        expect(plain[0]).toMatch(SUMMARY);
        // The summary fits too: its name gives way where the line would not.
        expectFits(plain, columns);
        if (columns === 50) expect(plain[0]!.startsWith("...")).toBe(true);
        else expect(plain[0]!.startsWith(`${WIDE_NAME}: 1.0 MiB in `)).toBe(true);
      }
    }
  });

  it("get --resume: from the part already there to 100%, and the summary says so", async () => {
    for (const target of targets) {
      const dir = await mkdtemp(join(tmp, "resume-"));
      const there = 3 * MiB;
      await writeFile(join(dir, `${tag}-big.bin.part`), DATA.subarray(0, there));
      const result = await runCli(["get", "--progress", "--resume", url(target, `${tag}-big.bin`), dir], {
        env: { COLUMNS: "100" },
      });
      expect(result.code, `${target.name}: ${result.stderr}`).toBe(0);
      expect(sha256(await readFile(join(dir, `${tag}-big.bin`)))).toBe(sha256(DATA));
      const { redraws, plain } = screen(result.stderr);
      expectFits(redraws, 100);
      // 3 MiB of 5 MiB are there: the bar starts at 58 %, not 0 %, and ends at 100 %.
      const percents = redraws.map((line) => Number(/(\d+)%/.exec(line)![1]));
      expect(percents[0]).toBeGreaterThanOrEqual(58);
      expect(percents.at(-1)).toBe(100);
      expect(plain).toHaveLength(1);
      const [, , moved, , resumed] = SUMMARY.exec(plain[0]!)!;
      expect(moved).toBe("2.0 MiB");
      expect(resumed).toBe(", after 3.0 MiB already there");
    }
  });

  it("get -n 4 and put --resume: one summary line each; a failed get none", async () => {
    for (const target of targets) {
      const dir = await mkdtemp(join(tmp, "seg-"));
      const segmented = await runCli(["get", "--progress", "-n", "4", url(target, `${tag}-big.bin`), dir]);
      expect(segmented.code, `${target.name}: ${segmented.stderr}`).toBe(0);
      expect(sha256(await readFile(join(dir, `${tag}-big.bin`)))).toBe(sha256(DATA));
      const seg = screen(segmented.stderr);
      expectFits(seg.redraws, 80);
      expect(seg.redraws.at(-1)).toContain("100%");
      expect(seg.plain).toHaveLength(1);
      expect(seg.plain[0]).toMatch(new RegExp(`^${tag}-big\\.bin: 5\\.0 MiB in `));

      const source = join(dir, `${tag}-big.bin`);
      // The server's part, sent by the server's own user (who may append to it).
      const head = join(dir, "head.bin");
      await writeFile(head, DATA.subarray(0, 2 * MiB));
      expect((await runCli(["put", head, url(target, `${tag}-up.bin`)])).code).toBe(0);
      const put = await runCli(["put", "--progress", "--resume", source, url(target, `${tag}-up.bin`)]);
      expect(put.code, `${target.name}: ${put.stderr}`).toBe(0);
      expect(sha256(await readFile(join(target.root, `${tag}-up.bin`)))).toBe(sha256(DATA));
      const up = screen(put.stderr);
      expect(up.plain).toHaveLength(1);
      const [, , moved, , resumed] = SUMMARY.exec(up.plain[0]!)!;
      expect([moved, resumed]).toEqual(["3.0 MiB", ", after 2.0 MiB already there"]);

      const missing = await runCli(["get", "--progress", url(target, `${tag}-missing.bin`), dir]);
      expect(missing.code).not.toBe(0);
      expect(missing.stderr).not.toMatch(/ in [\d.]+s \(/);
    }
  });

  it("mirror: one bar for the tree, fitting the terminal, and one summary line for it", async () => {
    for (const target of targets) {
      const tree = `${tag}-tree`;
      await mkdir(join(target.root, tree, "sub"), { recursive: true, mode: 0o777 });
      await writeFile(join(target.root, tree, "a.bin"), DATA.subarray(0, 2 * MiB), { mode: 0o644 });
      await writeFile(join(target.root, tree, "sub", "b.bin"), DATA.subarray(0, MiB), { mode: 0o644 });
      const local = join(tmp, `${target.name}-mirror`);
      const result = await runCli(["mirror", "--progress", `${target.base}/${tree}`, local], {
        env: { COLUMNS: "60" },
      });
      expect(result.code, `${target.name}: ${result.stderr}`).toBe(0);
      const { redraws, plain } = screen(result.stderr);
      expectFits(redraws, 60);
      expect(redraws.at(-1)).toContain("100%");
      expect(plain[0]).toMatch(/^download 2 files: 3\.0 MiB in [\d.]+s \([\d.]+ (KiB|MiB|GiB)\/s\)$/);
      await rm(join(target.root, tree), { recursive: true, force: true });
    }
  });
});
