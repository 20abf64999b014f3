/**
 * A pool against a server that kills idle sessions (421, then it closes the connection, as
 * vsftpd's and proftpd's idle timeouts do): the pool replaces the dead connections and every task
 * succeeds, with whole files on disk, however many of its idle connections died.
 */
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FTP, FtpPool } from "@ftplib/client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type HostileServer,
  type HostileServerOptions,
  patternBytes,
  sendData,
  startHostileServer,
} from "@ftplib/testing";

const IDLE = 150;
const FILE = Buffer.from(patternBytes(64 * 1024));

let tmp: string;
const servers: HostileServer[] = [];
const pools: FtpPool[] = [];
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "ftplib-hostile-pool-"));
});
afterEach(async () => {
  for (const pool of pools.splice(0)) await pool.close().catch(() => undefined);
  for (const server of servers.splice(0)) await server.close();
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function idleKiller(options: HostileServerOptions = {}): Promise<HostileServer> {
  const server = await startHostileServer(
    { SIZE: `213 ${FILE.length}`, RETR: sendData(FILE) },
    { idleTimeout: IDLE, ...options },
  );
  servers.push(server);
  return server;
}

function poolFor(server: HostileServer, size: number): { pool: FtpPool; opened: () => number } {
  let opened = 0;
  const pool = new FtpPool({
    size,
    connect: () => {
      opened++;
      return FTP.open({ host: server.host, port: server.port, user: "me", password: "secret", timeout: 2000 });
    },
  });
  pools.push(pool);
  return { pool, opened: () => opened };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the server has closed every session (its idle timeout struck them all). */
async function allKilled(server: HostileServer): Promise<void> {
  expect(await server.settled(IDLE * 10)).toBe(0);
}

async function expectFiles(dir: string, names: readonly string[]): Promise<void> {
  expect((await readdir(dir)).sort()).toEqual([...names].sort());
  for (const name of names) expect((await readFile(join(dir, name))).equals(FILE)).toBe(true);
}

describe.each([
  ["421, then close", {}],
  ["close without a reply", { idleReply: false as const }],
])("a pool whose idle sessions the server kills (%s)", (_, options) => {
  it("replaces them all: every download of the next batch succeeds", async () => {
    const server = await idleKiller(options);
    const { pool, opened } = poolFor(server, 3);
    const out = await mkdtemp(join(tmp, "batch-"));
    const first = ["a", "b", "c", "d", "e", "f"];
    expect(await pool.downloadMany(first.map((n) => [n, join(out, n)] as const))).toBe(first.length * FILE.length);
    const before = opened();
    await allKilled(server);
    const second = ["g", "h", "i", "j", "k", "l"];
    expect(await pool.downloadMany(second.map((n) => [n, join(out, n)] as const))).toBe(second.length * FILE.length);
    await expectFiles(out, [...first, ...second]);
    // New sessions replaced the dead ones.
    expect(opened()).toBeGreaterThan(before);
    expect(server.errors).toEqual([]);
  });

  it("a single task after every idle connection died succeeds, on a new connection", async () => {
    const server = await idleKiller(options);
    const { pool, opened } = poolFor(server, 4);
    // Four connections open at once, then idle.
    await Promise.all(Array.from({ length: 4 }, () => pool.run(async (ftp) => (await sleep(50), ftp.pwd()))));
    expect(opened()).toBe(4);
    await allKilled(server);
    const out = await mkdtemp(join(tmp, "single-"));
    expect(await pool.run((ftp) => ftp.download("file", join(out, "file")))).toBe(FILE.length);
    await expectFiles(out, ["file"]);
    expect(await pool.run((ftp) => ftp.pwd())).toBe("/");
  });

  it("tasks keep succeeding across several rounds of idle kills", async () => {
    const server = await idleKiller(options);
    const { pool } = poolFor(server, 2);
    for (let round = 0; round < 3; round++) {
      const results = await Promise.all(Array.from({ length: 4 }, () => pool.run((ftp) => ftp.pwd())));
      expect(results).toEqual(["/", "/", "/", "/"]);
      await allKilled(server);
    }
  });
});

describe("a pool and a session killed while idle, then a task that fails for its own reason", () => {
  it("the task's own error is reported, not retried forever", async () => {
    const server = await idleKiller();
    servers.push(server);
    const { pool } = poolFor(server, 1);
    expect(await pool.run((ftp) => ftp.pwd())).toBe("/");
    await allKilled(server);
    let calls = 0;
    const error = await pool
      .run(async (ftp) => {
        calls++;
        await ftp.pwd();
        throw new Error("the task's own failure");
      })
      .catch((e: unknown) => e);
    expect((error as Error).message).toBe("the task's own failure");
    // Once on the dead connection, once on its replacement.
    expect(calls).toBe(2);
  });
});
