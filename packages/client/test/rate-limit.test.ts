/**
 * `rateLimit`: binary transfers at most so many bytes per second, one limiter shared by several
 * clients. Against the embedded server, and vsftpd where the Debian servers run.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type EmbeddedServer, realServers, startEmbeddedServer } from "@ftplib/test-servers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FTP, FtpPool, RateLimiter } from "../src/index.js";

const KIB = 1024;
const DATA = randomBytes(192 * KIB);
let server: EmbeddedServer;
let tmp: string;
beforeAll(async () => {
  server = await startEmbeddedServer();
  tmp = await mkdtemp(join(tmpdir(), "ftplib-rate-"));
  await writeFile(join(server.root, "data.bin"), DATA);
});
afterAll(async () => {
  await server?.close();
  await rm(tmp, { recursive: true, force: true });
});

async function seconds(task: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await task();
  return (performance.now() - started) / 1000;
}

describe("RateLimiter", () => {
  it("refuses a rate that is no number of bytes per second", () => {
    expect(() => new RateLimiter(0)).toThrow(RangeError);
    expect(() => new RateLimiter(Number.NaN)).toThrow(RangeError);
    expect(() => new FTP({ rateLimit: "fast" as unknown as number })).toThrow(TypeError);
  });

  it("takes bytes at the rate, and saves up no idle time", async () => {
    const limiter = new RateLimiter(100 * KIB);
    expect(limiter.pieceSize).toBe(10 * KIB);
    expect(await seconds(() => limiter.take(30 * KIB))).toBeGreaterThan(0.25);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // After a pause, the next bytes still wait their time: no burst.
    expect(await seconds(() => limiter.take(20 * KIB))).toBeGreaterThan(0.15);
  });
});

describe("rateLimit on a client", { timeout: 20_000 }, () => {
  const login = (rateLimit?: number | RateLimiter) =>
    FTP.open({ host: server.host, port: server.port, user: server.user, password: server.password, rateLimit });

  it("download and upload take about size / rate; without it, far less", async () => {
    const ftp = await login(192 * KIB);
    try {
      const local = join(tmp, "down.bin");
      const down = await seconds(() => ftp.download("data.bin", local));
      expect(down).toBeGreaterThan(0.9);
      expect(down).toBeLessThan(2.5);
      expect(await readFile(local)).toEqual(DATA);
      const up = await seconds(() => ftp.upload(local, "up.bin"));
      expect(up).toBeGreaterThan(0.9);
      expect(await readFile(join(server.root, "up.bin"))).toEqual(DATA);
      ftp.rateLimit = undefined;
      expect(await seconds(() => ftp.download("data.bin", join(tmp, "fast.bin")))).toBeLessThan(0.5);
    } finally {
      ftp.close();
    }
  });

  it("one limiter shared by a pool's connections is one rate for all of them", async () => {
    const limiter = new RateLimiter(192 * KIB);
    const pool = new FtpPool({ size: 3, connect: () => login(limiter) });
    try {
      const items = [0, 1, 2].map((i) => ["data.bin", join(tmp, `pooled-${i}.bin`)] as const);
      // Three files of 192 KiB at 192 KiB/s together: three seconds, not one.
      const took = await seconds(() => pool.downloadMany(items));
      expect(took).toBeGreaterThan(2.7);
      expect(took).toBeLessThan(7);
      for (const [, local] of items) expect(await readFile(local)).toEqual(DATA);
    } finally {
      await pool.close();
    }
  });
});

describe.runIf(process.env.FTPLIB_REAL_SERVERS === "1")("rateLimit against vsftpd", () => {
  it("a segmented download over four connections keeps to the one rate", async () => {
    const vsftpd = realServers().find((s) => s.name === "vsftpd");
    expect(vsftpd, "vsftpd is running (servers/servers.sh)").toBeDefined();
    const endpoint = vsftpd!.endpoints.find((e) => e.family === 4 && e.tls !== "implicit")!;
    const limiter = new RateLimiter(512 * KIB);
    const open = () =>
      FTP.open({
        host: endpoint.host,
        port: endpoint.port,
        user: vsftpd!.user,
        password: vsftpd!.password,
        rateLimit: limiter,
      });
    const big = randomBytes(3 * 1024 * KIB);
    const name = `ftplib-rate-${process.pid}.bin`;
    const ftp = await open();
    const pool = new FtpPool({ size: 4, connect: open });
    try {
      await writeFile(join(tmp, "big.bin"), big);
      ftp.rateLimit = undefined;
      await ftp.upload(join(tmp, "big.bin"), name);
      // 3 MiB at 512 KiB/s: six seconds, however many connections.
      const took = await seconds(() => pool.download(name, join(tmp, "big-down.bin"), { segments: 4 }));
      expect(took).toBeGreaterThan(5.5);
      expect(took).toBeLessThan(9);
      expect((await readFile(join(tmp, "big-down.bin"))).equals(big)).toBe(true);
    } finally {
      await pool.close();
      await ftp.delete(name).catch(() => undefined);
      ftp.close();
    }
  }, 30_000);
});
