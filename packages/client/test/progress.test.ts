/**
 * Progress reports on every path, against the embedded server (ftp-srv) and, with
 * FTPLIB_REAL_SERVERS=1, the servers servers/servers.sh runs: `bytes` counts the whole file (a
 * resumed part included) up to `total`, and the final report comes exactly once, last, for a
 * download (to a path, resumed, to a stream), an upload (resumed), a segmented download (resumed
 * after a cancelled call), downloadDir and uploadDir.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { type EmbeddedServer, realServers, startEmbeddedServer } from "@ftplib/test-servers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FTP, FtpPool, type Progress } from "../src/index.js";

const real = process.env.FTPLIB_REAL_SERVERS === "1";
const MiB = 1 << 20;
const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");
const DATA = randomBytes(3 * MiB + 4321);
const tag = `progress-${process.pid}`;

interface Target {
  name: string;
  root: string;
  login: { host: string; port: number; user: string; password: string; timeout: number };
}

let embedded: EmbeddedServer | undefined;
let targets: Target[] = [];
let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "ftplib-progress-"));
  embedded = await startEmbeddedServer("127.0.0.1");
  const login = { host: "127.0.0.1", port: embedded.port, user: embedded.user, password: embedded.password };
  targets = [{ name: "ftp-srv", root: embedded.root, login: { ...login, timeout: 10_000 } }];
  if (real) {
    for (const server of realServers()) {
      // Plain FTP: the explicit-TLS endpoints take it too.
      const e = server.endpoints.find((x) => x.family === 4 && x.tls !== "implicit");
      if (e === undefined) continue;
      targets.push({
        name: server.name,
        root: server.root,
        login: { host: e.host, port: e.port, user: server.user, password: server.password, timeout: 10_000 },
      });
    }
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

/** What every report sequence must be: counting up to the total, one final report, last. */
function expectWellFormed(reports: Progress[], total: number | null, resumed: number): void {
  expect(reports.length).toBeGreaterThan(0);
  expect(reports.filter((p) => p.final)).toHaveLength(1);
  expect(reports.at(-1)).toMatchObject({ final: true, resumed, total });
  if (total !== null) {
    expect(reports.at(-1)!.bytes).toBe(total);
    // A complete count is reported once, not by a throttled report and the final one both.
    expect(reports.filter((p) => p.bytes === total)).toHaveLength(1);
  }
  let previous = resumed;
  for (const p of reports) {
    expect(p.resumed).toBe(resumed);
    expect(p.bytes).toBeGreaterThanOrEqual(previous);
    if (p.total !== null) expect(p.bytes).toBeLessThanOrEqual(p.total);
    expect(p.rate).toBeGreaterThanOrEqual(0);
    previous = p.bytes;
  }
}

/** A report handler that takes 110 ms a call: every report after the first is due by the time of the next block. */
function slowRecorder(reports: Progress[]): (p: Progress) => void {
  return (p) => {
    reports.push(p);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 110);
  };
}

async function serve(target: Target, name: string, data: Uint8Array): Promise<string> {
  const remote = `${tag}-${name}`;
  await writeFile(join(target.root, remote), data, { mode: 0o644 });
  return remote;
}

describe("progress reports", { timeout: 120_000 }, () => {
  it.runIf(real)("has the real servers too (bash servers/servers.sh start)", () => {
    expect(targets.length).toBeGreaterThan(1);
  });

  it("a download to a path: one final report, even with a report handler that is slow", async () => {
    for (const target of targets) {
      const ftp = await FTP.open(target.login);
      const data = DATA.subarray(0, 600_000);
      const remote = await serve(target, "slow.bin", data);
      const reports: Progress[] = [];
      const local = join(tmp, `${target.name}-slow.bin`);
      expect(await ftp.download(remote, local, { onProgress: slowRecorder(reports) }), target.name).toBe(data.length);
      expect(sha256(await readFile(local))).toBe(sha256(data));
      expectWellFormed(reports, data.length, 0);
      expect(reports.length, target.name).toBeGreaterThan(1);
      await ftp.quit();
    }
  });

  it("a resumed download counts the part already there, from the first report to the last", async () => {
    for (const target of targets) {
      const ftp = await FTP.open(target.login);
      const remote = await serve(target, "resume.bin", DATA);
      const local = join(tmp, `${target.name}-resume.bin`);
      const there = 2 * MiB + 7;
      await writeFile(`${local}.part`, DATA.subarray(0, there));
      const reports: Progress[] = [];
      const moved = await ftp.download(remote, local, { resume: true, onProgress: (p) => reports.push(p) });
      expect(moved, target.name).toBe(DATA.length - there);
      expect(sha256(await readFile(local))).toBe(sha256(DATA));
      expectWellFormed(reports, DATA.length, there);
      expect(reports[0]!.bytes).toBeGreaterThanOrEqual(there);
      // A file already complete: nothing moves, and the one report says it is all there.
      await writeFile(`${local}2.part`, DATA);
      const complete: Progress[] = [];
      expect(await ftp.download(remote, `${local}2`, { resume: true, onProgress: (p) => complete.push(p) })).toBe(0);
      expect(complete).toEqual([
        { bytes: DATA.length, resumed: DATA.length, total: DATA.length, rate: 0, final: true },
      ]);
      await ftp.quit();
    }
  });

  it("a download to a stream, and a resumed upload that counts what the server has", async () => {
    for (const target of targets) {
      const ftp = await FTP.open(target.login);
      const small = DATA.subarray(0, 600_000);
      const remote = await serve(target, "stream.bin", small);
      const parts: Buffer[] = [];
      const sink = new Writable({
        write(chunk: Buffer, _encoding, done) {
          parts.push(chunk);
          done();
        },
      });
      const reports: Progress[] = [];
      expect(await ftp.download(remote, sink, { onProgress: slowRecorder(reports) })).toBe(small.length);
      expect(sha256(Buffer.concat(parts))).toBe(sha256(small));
      expectWellFormed(reports, small.length, 0);

      const source = join(tmp, `${target.name}-up.bin`);
      await writeFile(source, DATA);
      const there = MiB + 3;
      await ftp.storBinary(`STOR ${tag}-up.bin`, DATA.subarray(0, there));
      const up: Progress[] = [];
      const sent = await ftp.upload(source, `${tag}-up.bin`, { resume: true, onProgress: (p) => up.push(p) });
      expect(sent, target.name).toBe(DATA.length - there);
      expect(sha256(await readFile(join(target.root, `${tag}-up.bin`)))).toBe(sha256(DATA));
      expectWellFormed(up, DATA.length, there);
      await ftp.quit();
    }
  });

  it("downloadDir and uploadDir: the whole tree's bytes, one final report", async () => {
    for (const target of targets) {
      const ftp = await FTP.open(target.login);
      const tree = join(tmp, `${target.name}-tree`);
      await mkdir(join(tree, "sub"), { recursive: true });
      const files = { "a.bin": DATA.subarray(0, 700_000), "sub/b.bin": DATA.subarray(5), "sub/c.txt": "c\n" };
      for (const [path, data] of Object.entries(files)) await writeFile(join(tree, path), data);
      const total = Object.values(files).reduce((n, d) => n + d.length, 0);
      const up: Progress[] = [];
      expect(await ftp.uploadDir(tree, `${tag}-tree`, { onProgress: slowRecorder(up) }), target.name).toBe(3);
      expectWellFormed(up, total, 0);
      const down: Progress[] = [];
      const copy = join(tmp, `${target.name}-copy`);
      expect(await ftp.downloadDir(`${tag}-tree`, copy, { onProgress: (p) => down.push(p) })).toBe(3);
      expectWellFormed(down, total, 0);
      for (const [path, data] of Object.entries(files))
        expect(sha256(await readFile(join(copy, path)))).toBe(sha256(Buffer.from(data)));
      await ftp.quit();
    }
  });

  it("a segmented download resumed after a cancelled call counts its saved segments", async () => {
    for (const target of targets) {
      const data = randomBytes(8 * MiB + 99);
      const remote = await serve(target, "segments.bin", data);
      const local = join(tmp, `${target.name}-segments.bin`);
      const pool = new FtpPool({ size: 4, connect: () => FTP.open(target.login) });
      const controller = new AbortController();
      const first = await pool
        .download(remote, local, {
          segments: 4,
          resume: true,
          signal: controller.signal,
          // The first report comes with the first block: some of each segment is saved by then.
          onProgress: (p) => {
            if (p.bytes > 0) controller.abort();
          },
        })
        .catch((e: unknown) => e);
      expect((first as Error).name, target.name).toBe("AbortError");
      const state = JSON.parse(await readFile(`${local}.part-segments.json`, "utf8")) as { segments: number[][] };
      const saved = state.segments.reduce((n, s) => n + s[2]!, 0);
      expect(saved).toBeGreaterThan(0);
      const reports: Progress[] = [];
      const moved = await pool.download(remote, local, {
        segments: 4,
        resume: true,
        onProgress: (p) => reports.push(p),
      });
      expect(moved, target.name).toBe(data.length - saved);
      expect(sha256(await readFile(local))).toBe(sha256(data));
      expectWellFormed(reports, data.length, saved);
      await pool.close();
    }
  });
});
