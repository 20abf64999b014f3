/**
 * The pool, keep-alive, and FXP (ftpcp) where two Debian servers run. (downloadDir against a
 * hostile listing is in packages/integration/test/pool.test.ts, on the testing kit.)
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type EmbeddedServer, realServers, startEmbeddedServer } from "@ftplib/test-servers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FTP, FtpPool, ftpcp } from "../src/index.js";

let server: EmbeddedServer;
let tmp: string;
beforeAll(async () => {
  server = await startEmbeddedServer();
  tmp = await mkdtemp(join(tmpdir(), "ftplib-pool-"));
});
afterAll(async () => {
  await server?.close();
  await rm(tmp, { recursive: true, force: true });
});
const login = () => ({
  host: server.host,
  port: server.port,
  user: server.user,
  password: server.password,
  timeout: 5000,
});

describe("FtpPool", () => {
  it("downloads 200 small files with 8 connections, no more open at once", async () => {
    const files = Array.from({ length: 200 }, (_, i) => [`small-${i}.bin`, randomBytes(4096)] as const);
    await Promise.all(files.map(([name, data]) => writeFile(join(server.root, name), data)));
    let opened = 0;
    const pool = new FtpPool({
      size: 8,
      connect: async () => {
        opened++;
        return FTP.open(login());
      },
    });
    const out = join(tmp, "many");
    await rm(out, { recursive: true, force: true });
    await (await import("node:fs/promises")).mkdir(out);
    const bytes = await pool.downloadMany(files.map(([name]) => [name, join(out, name)] as const));
    expect(bytes).toBe(200 * 4096);
    expect(opened).toBeLessThanOrEqual(8);
    for (const [name, data] of files.slice(0, 20)) expect(await readFile(join(out, name))).toEqual(data);
    expect((await readdir(out)).length).toBe(200);
    await pool.close();
  });

  it("replaces a connection that broke while idle, transparently", async () => {
    const pool = new FtpPool({ size: 1, connect: () => FTP.open(login()) });
    expect(await pool.run((ftp) => ftp.pwd())).toBe("/");
    // The idle connection dies (as after a server's idle timeout).
    await pool.run((ftp) => {
      (ftp as unknown as { session: { channel: { destroy(): void } } }).session.channel.destroy();
      return Promise.resolve();
    });
    expect(await pool.run((ftp) => ftp.pwd())).toBe("/");
    await pool.close();
    await expect(pool.run((ftp) => ftp.pwd())).rejects.toThrow(/closed/);
  });

  it("uploads many", async () => {
    const pool = new FtpPool({ size: 4, connect: () => FTP.open(login()) });
    const sources = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const path = join(tmp, `up-${i}.txt`);
        await writeFile(path, `file ${i}`);
        return [path, `up-${i}.txt`] as const;
      }),
    );
    expect(await pool.uploadMany(sources, { concurrency: 3 })).toBe(
      sources.reduce((n, [, name]) => n + `file ${name.slice(3, -4)}`.length, 0),
    );
    expect(await readFile(join(server.root, "up-11.txt"), "utf8")).toBe("file 11");
    await pool[Symbol.asyncDispose]();
  });

  it("opens more than 64 connections, at most 16 at a time", async () => {
    let opening = 0;
    let most = 0;
    const pool = new FtpPool({
      size: 100,
      connect: async () => {
        most = Math.max(most, ++opening);
        try {
          return await FTP.open(login());
        } finally {
          opening--;
        }
      },
    });
    // 100 tasks that each hold their connection until all 100 are open.
    let arrived = 0;
    let all!: () => void;
    const together = new Promise<void>((resolve) => (all = resolve));
    const pwds = await Promise.all(
      Array.from({ length: 100 }, () =>
        pool.run(async (ftp) => {
          if (++arrived === 100) all();
          await together;
          return ftp.pwd();
        }),
      ),
    );
    expect(pwds).toEqual(Array(100).fill("/"));
    expect(most).toBe(16);
    await pool.close();
    expect(() => new FtpPool({ size: 65_537, connect: () => FTP.open(login()) })).toThrow(RangeError);
  });
});

describe("keep-alive", () => {
  it("sends NOOP when idle", async () => {
    const lines: string[] = [];
    const ftp = await FTP.open({ ...login(), keepAlive: 100, debugLevel: 1, debugOutput: (line) => lines.push(line) });
    await new Promise((r) => setTimeout(r, 350));
    expect(lines.filter((line) => line === '*cmd* "NOOP"').length).toBeGreaterThanOrEqual(2);
    ftp.close();
  });
});

const debian = realServers();
const fxpPair = ["pure-ftpd", "proftpd"].flatMap((name) => debian.filter((s) => s.name === name));
describe.runIf(process.env.FTPLIB_REAL_SERVERS === "1" && fxpPair.length === 2)(
  "ftpcp (FXP) between two servers",
  () => {
    it("copies pure-ftpd -> proftpd without the bytes passing through the client", async () => {
      const [from, to] = fxpPair as [(typeof fxpPair)[number], (typeof fxpPair)[number]];
      const open = (s: (typeof fxpPair)[number]) => {
        const e = s.endpoints.find((x) => x.tls === "explicit" && x.family === 4)!;
        return FTP.open({ host: e.host, port: e.port, user: s.user, password: s.password, timeout: 5000 });
      };
      const data = randomBytes(300_000);
      await writeFile(join(from.root, "fxp-source.bin"), data);
      const source = await open(from);
      const target = await open(to);
      await ftpcp(source, "fxp-source.bin", target, "fxp-copy.bin");
      expect(await readFile(join(to.root, "fxp-copy.bin"))).toEqual(data);
      await source.quit();
      await target.quit();
    });
  },
);
