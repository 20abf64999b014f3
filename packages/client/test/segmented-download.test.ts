/**
 * Segmented downloads (FtpPool.download with `segments`) against every server servers/servers.sh
 * runs: bytes compared with the source, the connections reusable after ABOR or RANG, resume after
 * an aborted call and after a killed process, retries on broken connections, and the fallback to
 * one stream (a server without REST or SIZE, a file too small to split). Runs when
 * FTPLIB_REAL_SERVERS=1; the killed-process case runs the built client (dist/).
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type RealServer, realServers } from "@ftplib/test-servers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FTP, FtpPool, type Progress, type Verification } from "../src/index.js";

const wanted = process.env.FTPLIB_REAL_SERVERS === "1";
const servers = realServers({ all: true });
const MiB = 1 << 20;
/** Not a multiple of any segment size. */
const DATA = randomBytes(9 * MiB + 12_345);
const tag = `seg-${process.pid}`;
/** Large buffers compared by digest: a deep comparison of megabytes takes minutes. */
const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "ftplib-seg-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
  for (const server of servers) {
    for (const name of await readdir(server.root).catch(() => [])) {
      if (name.startsWith(tag)) await rm(join(server.root, name), { force: true });
    }
  }
});

function login(server: RealServer) {
  const e = server.endpoints.find((x) => x.family === 4 && x.tls !== "implicit") ?? server.endpoints[0]!;
  return { host: e.host, port: e.port, user: server.user, password: server.password, timeout: 5000 };
}

/** A pool that records the commands its connections send, and can break a connection on RETR. */
function recordingPool(server: RealServer, size: number, onRetr?: (ftp: FTP) => void) {
  const commands: string[] = [];
  const pool = new FtpPool({
    size,
    connect: async () => {
      let ftp: FTP | undefined = undefined;
      const debugOutput = (line: string) => {
        if (!line.startsWith("*cmd*")) return;
        commands.push(line.slice(7, -1));
        if (ftp !== undefined && line.startsWith('*cmd* "RETR')) onRetr?.(ftp);
      };
      ftp = await FTP.open({ ...login(server), debugLevel: 1, debugOutput });
      return ftp;
    },
  });
  return { pool, commands };
}

async function put(server: RealServer, name: string, data: Uint8Array): Promise<string> {
  const remote = `${tag}-${name}`;
  await writeFile(join(server.root, remote), data, { mode: 0o644 });
  return remote;
}

/** Breaks a connection as a network would: its control connection drops as its transfer starts. */
function breakSoon(ftp: FTP): void {
  setImmediate(() => (ftp as unknown as { session: { channel: { destroy(): void } } }).session.channel.destroy());
}

/** Bytes the resume state of a download to `local` counts as written. */
async function savedBytes(local: string): Promise<number> {
  try {
    const state = JSON.parse(await readFile(`${local}.part-segments.json`, "utf8")) as { segments: number[][] };
    return state.segments.reduce((n, s) => n + s[2]!, 0);
  } catch {
    return 0;
  }
}

describe.runIf(wanted)("segmented download", { timeout: 60_000 }, () => {
  it("has servers running (bash servers/servers.sh start)", () => {
    expect(servers.length).toBeGreaterThan(0);
  });

  for (const server of servers) {
    describe(server.name, () => {
      it("downloads a file over 4 connections, byte for byte, and leaves them in step", async () => {
        const remote = await put(server, "whole.bin", DATA);
        const { pool, commands } = recordingPool(server, 4);
        const local = join(tmp, `${server.name}-whole.bin`);
        const reports: Progress[] = [];
        expect(await pool.download(remote, local, { segments: 4, onProgress: (p) => reports.push(p) })).toBe(
          DATA.length,
        );
        expect(sha256(await readFile(local))).toBe(sha256(DATA));
        // aioftp has no SIZE: the total is unknown there.
        const total = server.name === "aioftp" ? null : DATA.length;
        expect(reports.at(-1)).toMatchObject({ bytes: DATA.length, total });
        // Every connection answers the next command: none is out of step after ABOR.
        expect(await Promise.all([1, 2, 3, 4].map(() => pool.run((ftp) => ftp.pwd())))).toHaveLength(4);
        // And a second download reuses them.
        expect(await pool.download(remote, local, { segments: 4 })).toBe(DATA.length);
        expect(sha256(await readFile(local))).toBe(sha256(DATA));
        await pool.close();
        const retrs = commands.filter((c) => c.startsWith("RETR")).length;
        const refusesRest = ["twisted", "nodeftpd"].includes(server.name);
        // aioftp has no SIZE, Twisted and nodeftpd no REST: one stream.
        expect(retrs).toBe(refusesRest || server.name === "aioftp" ? 2 : 8);
        if (server.name === "proftpd") expect(commands.filter((c) => c === "ABOR")).toEqual([]);
        expect((await readdir(tmp)).filter((n) => n.startsWith(`${server.name}-whole.bin.`))).toEqual([]);
      });

      it("takes one stream for 1 byte, however many segments are asked for", async () => {
        const remote = await put(server, "one.bin", Buffer.from("x"));
        const { pool, commands } = recordingPool(server, 8);
        const local = join(tmp, `${server.name}-one.bin`);
        expect(await pool.download(remote, local, { segments: 8 })).toBe(1);
        expect(await readFile(local, "utf8")).toBe("x");
        expect(commands.filter((c) => c.startsWith("RETR"))).toHaveLength(1);
        await pool.close();
      });
    });
  }

  for (const server of servers.filter((s) => s.endpoints.some((e) => e.tls === "explicit" && e.family === 4))) {
    it(`${server.name}: over explicit TLS with PROT P, twice on the same pool`, async () => {
      const remote = await put(server, "tls.bin", DATA);
      const e = server.endpoints.find((x) => x.tls === "explicit" && x.family === 4)!;
      const ca = await readFile(server.ca!, "utf8");
      const pool = FtpPool.open({ ...login(server), host: e.host, port: e.port, secure: true, tls: { ca }, size: 4 });
      const local = join(tmp, `${server.name}-tls.bin`);
      for (let i = 0; i < 2; i++) {
        expect(await pool.download(remote, local, { segments: 4 })).toBe(DATA.length);
        expect(sha256(await readFile(local))).toBe(sha256(DATA));
      }
      await pool.close();
    });
  }

  const splitting = servers.filter((s) => !["aioftp", "twisted", "nodeftpd"].includes(s.name));
  for (const server of splitting.filter((s) => ["vsftpd", "proftpd"].includes(s.name))) {
    describe(`${server.name}: failures and resume`, () => {
      it("splits a file just over two segments into two, whatever `segments` says", async () => {
        const data = randomBytes(2 * MiB + 1);
        const remote = await put(server, "two.bin", data);
        const { pool, commands } = recordingPool(server, 8);
        const local = join(tmp, `${server.name}-two.bin`);
        expect(await pool.download(remote, local, { segments: 8 })).toBe(data.length);
        expect(sha256(await readFile(local))).toBe(sha256(data));
        expect(commands.filter((c) => c.startsWith("RETR"))).toHaveLength(2);
        await pool.close();
      });

      it("stops every segment on a signal, keeps the part, and resumes only what is missing", async () => {
        const data = randomBytes(48 * MiB + 7);
        const remote = await put(server, "resume.bin", data);
        const { pool } = recordingPool(server, 4);
        const local = join(tmp, `${server.name}-resume.bin`);
        const controller = new AbortController();
        const first = pool.download(remote, local, {
          segments: 4,
          resume: true,
          onProgress: (p) => {
            if (p.bytes > 0) controller.abort(new Error("stop here"));
          },
          signal: controller.signal,
        });
        await expect(first).rejects.toThrow("stop here");
        expect(existsSync(local)).toBe(false);
        expect(existsSync(`${local}.part-segments.json`)).toBe(true);
        const again = await pool.download(remote, local, { segments: 4, resume: true });
        expect(again).toBeGreaterThan(0);
        expect(again).toBeLessThan(data.length);
        expect(sha256(await readFile(local))).toBe(sha256(data));
        expect((await readdir(tmp)).filter((n) => n.startsWith(`${server.name}-resume.bin.`))).toEqual([]);
        await pool.close();
      });

      it("continues a segmented part with one stream from its gapless first bytes", async () => {
        const remote = await put(server, "collapse.bin", DATA);
        const { pool } = recordingPool(server, 4);
        const local = join(tmp, `${server.name}-collapse.bin`);
        const controller = new AbortController();
        const first = pool.download(remote, local, {
          segments: 4,
          resume: true,
          signal: controller.signal,
          onProgress: () => controller.abort(new Error("stop here")),
        });
        await expect(first).rejects.toThrow("stop here");
        expect(await pool.download(remote, local, { segments: 1, resume: true })).toBeLessThanOrEqual(DATA.length);
        expect(sha256(await readFile(local))).toBe(sha256(DATA));
        expect((await readdir(tmp)).filter((n) => n.startsWith(`${server.name}-collapse.bin.`))).toEqual([]);
        await pool.close();
      });

      it("resumes after the process downloading was killed", async () => {
        const data = randomBytes(64 * MiB + 3);
        const remote = await put(server, "killed.bin", data);
        const local = join(tmp, `${server.name}-killed.bin`);
        const client = fileURLToPath(new URL("../dist/index.js", import.meta.url));
        // The process kills itself as a user's kill -9 would, once its state counts some bytes;
        // its progress callback stalls it a little each time so that this happens midway.
        const script = `
          const { readFileSync } = await import("node:fs");
          const { FTP, FtpPool } = await import(${JSON.stringify(client)});
          const saved = () => {
            try {
              const state = JSON.parse(readFileSync(${JSON.stringify(`${local}.part-segments.json`)}, "utf8"));
              return state.segments.reduce((n, s) => n + s[2], 0);
            } catch { return 0; }
          };
          const pool = new FtpPool({ size: 4, connect: () => FTP.open(${JSON.stringify(login(server))}) });
          await pool.download(${JSON.stringify(remote)}, ${JSON.stringify(local)}, {
            segments: 4, resume: true, onProgress: () => {
              if (saved() > 0) process.kill(process.pid, "SIGKILL");
              Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
            },
          });`;
        const child = spawn(process.execPath, ["--input-type=module", "-e", script]);
        const [, signal] = (await once(child, "exit")) as [number | null, string | null];
        expect(signal).toBe("SIGKILL");
        expect(existsSync(local)).toBe(false);
        const { pool } = recordingPool(server, 4);
        const saved = await savedBytes(local);
        const again = await pool.download(remote, local, { segments: 4, resume: true });
        expect(again).toBeLessThanOrEqual(data.length - saved);
        expect(sha256(await readFile(local))).toBe(sha256(data));
        await pool.close();
      });

      it("verifies the assembled file: by hash where the server hashes, else by size", async () => {
        const remote = await put(server, "verify.bin", DATA);
        const { pool } = recordingPool(server, 4);
        const local = join(tmp, `${server.name}-verify.bin`);
        const checks: Verification[] = [];
        const bytes = await pool.download(remote, local, {
          segments: 4,
          verify: true,
          onVerify: (v) => checks.push(v),
        });
        expect(bytes).toBe(DATA.length);
        expect(sha256(await readFile(local))).toBe(sha256(DATA));
        // proftpd has HASH (mod_digest); vsftpd none.
        expect(checks.map((c) => c.method)).toEqual([server.name === "proftpd" ? "hash" : "size"]);
        await pool.close();
      });

      it("retries a segment whose connection broke, on another connection", async () => {
        const remote = await put(server, "retry.bin", DATA);
        let broken = 0;
        const { pool } = recordingPool(server, 4, (ftp) => {
          if (broken++ < 2) breakSoon(ftp);
        });
        const local = join(tmp, `${server.name}-retry.bin`);
        expect(await pool.download(remote, local, { segments: 4 })).toBe(DATA.length);
        expect(sha256(await readFile(local))).toBe(sha256(DATA));
        await pool.close();
      });

      it("fails with ERR_FTP_SEGMENT and no file when every connection breaks", async () => {
        const remote = await put(server, "broken.bin", DATA);
        const { pool } = recordingPool(server, 4, breakSoon);
        const dir = join(tmp, `${server.name}-broken`);
        await (await import("node:fs/promises")).mkdir(dir);
        await expect(pool.download(remote, join(dir, "broken.bin"), { segments: 4 })).rejects.toMatchObject({
          code: "ERR_FTP_SEGMENT",
        });
        expect(await readdir(dir)).toEqual([]);
        await pool.close();
      });
    });
  }

  it("writes in place with atomic: false, and a part file from one stream is continued", async () => {
    const server = splitting[0];
    if (server === undefined) return;
    const remote = await put(server, "prefix.bin", DATA);
    const local = join(tmp, "prefix.bin");
    // What an interrupted one-stream download leaves: the first bytes under the part name.
    await writeFile(`${local}.part`, DATA.subarray(0, 3 * MiB));
    const { pool } = recordingPool(server, 4);
    expect(await pool.download(remote, local, { segments: 4, resume: true })).toBe(DATA.length - 3 * MiB);
    expect(sha256(await readFile(local))).toBe(sha256(DATA));
    const inPlace = join(tmp, "in-place.bin");
    expect(await pool.download(remote, inPlace, { segments: 3, atomic: false })).toBe(DATA.length);
    expect((await stat(inPlace)).size).toBe(DATA.length);
    expect(sha256(await readFile(inPlace))).toBe(sha256(DATA));
    await pool.close();
  });
});
