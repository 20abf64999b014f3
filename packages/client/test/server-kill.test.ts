/**
 * Faults with a real server: pyftpdlib (Debian's, a process of its own on a loopback port of this
 * test) is killed with SIGKILL in the middle of a download and of an upload, restarted, and the
 * transfer resumed (REST for the download, SIZE then APPE for the upload) until the file is byte
 * for byte the original. The server's data rate is capped so that the kill lands mid-transfer.
 * FTPLIB_HARDENING=1 kills it several times in one file.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FTP, allErrors } from "../src/index.js";

const PYTHON = "/usr/bin/python3";
const HARDENING = process.env.FTPLIB_HARDENING === "1";
const KILLS = HARDENING ? 3 : 1;
const FILE_SIZE = (HARDENING ? 2 : 1) * 1024 * 1024;
/** Bytes per second the server's data connections move (pyftpdlib throttles in one-second steps). */
const RATE = 256 * 1024;

const available = existsSync(PYTHON) && spawnSync(PYTHON, ["-c", "import pyftpdlib"]).status === 0;

const SERVER = `
import sys, logging
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler, ThrottledDTPHandler
from pyftpdlib.servers import FTPServer
root, port, rate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
logging.basicConfig(level=logging.ERROR)
authorizer = DummyAuthorizer()
authorizer.add_user("ftplib", "secret-pass", root, perm="elradfmwMT")
class Throttled(ThrottledDTPHandler):
    read_limit = rate
    write_limit = rate
class Handler(FTPHandler):
    pass
Handler.authorizer = authorizer
Handler.dtp_handler = Throttled
Handler.passive_ports = range(port + 1, port + 40)
server = FTPServer(("127.0.0.1", port), Handler)
print("ready", flush=True)
server.serve_forever()
`;

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer().once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

/** A control port in 24000-24999 with the 39 ports after it free for passive connections. */
async function freePortBlock(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 24000 + 40 * Math.floor(Math.random() * 24);
    if (await portIsFree(port)) return port;
  }
  throw new Error("no free port in 24000-24999");
}

class KillableServer {
  private process: ChildProcess | undefined;
  constructor(
    readonly root: string,
    readonly port: number,
  ) {}

  async start(): Promise<void> {
    const child = spawn(PYTHON, ["-c", SERVER, this.root, String(this.port), String(RATE)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.process = child;
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr += String(d)));
    await new Promise<void>((resolve, reject) => {
      child.stdout!.once("data", () => resolve());
      child.once("exit", (code) => reject(new Error(`pyftpdlib exited (${code}): ${stderr}`)));
    });
  }

  /** SIGKILL: no goodbye on any connection. */
  async kill(): Promise<void> {
    const child = this.process;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  }
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

describe.skipIf(!available)("a real server killed in the middle of a transfer (pyftpdlib, SIGKILL)", () => {
  let dir: string;
  let server: KillableServer;
  const original = randomBytes(FILE_SIZE);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ftplib-kill-"));
    await mkdir(join(dir, "root"));
    server = new KillableServer(join(dir, "root"), await freePortBlock());
    await server.start();
  });
  afterAll(async () => {
    await server?.kill();
    await rm(dir, { recursive: true, force: true });
  });

  const open = () =>
    FTP.open({ host: "127.0.0.1", port: server.port, user: "ftplib", password: "secret-pass", timeout: 5000 });

  /**
   * Runs `transfer` and kills the server once the file being written (the download's part file,
   * the upload's file on the server) holds `killAt` bytes; returns the transfer's error.
   */
  async function killedDuring(
    written: string,
    killAt: number,
    transfer: (ftp: FTP) => Promise<unknown>,
  ): Promise<unknown> {
    const ftp = await open();
    let done = false;
    const watch = (async () => {
      while (!done) {
        const size = await stat(written).then(
          (s) => s.size,
          () => 0,
        );
        if (size >= killAt) return server.kill();
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    const error = await transfer(ftp).then(
      () => undefined,
      (e: unknown) => e,
    );
    done = true;
    await watch;
    ftp.close();
    await server.start();
    return error;
  }

  it(`resumes a download after ${KILLS} kill(s) and ends byte for byte identical`, async () => {
    await writeFile(join(dir, "root", "down.bin"), original);
    const local = join(dir, "down.bin");
    const part = `${local}.part`;
    let previous = 0;
    for (let kill = 1; kill <= KILLS; kill++) {
      const killAt = Math.floor((FILE_SIZE * kill) / (KILLS + 1));
      const error = await killedDuring(part, killAt, (ftp) => ftp.download("down.bin", local, { resume: true }));
      expect(
        allErrors.some((kind) => kind.isInstance(error)),
        String(error),
      ).toBe(true);
      // Never presented as whole: only the part file exists, shorter than the original.
      expect(existsSync(local)).toBe(false);
      const partial = (await stat(part)).size;
      expect(partial).toBeGreaterThan(previous);
      expect(partial).toBeLessThan(FILE_SIZE);
      previous = partial;
    }
    const ftp = await open();
    const moved = await ftp.download("down.bin", local, { resume: true });
    await ftp.quit();
    // Only the rest moved (REST), and the result is the original.
    expect(moved).toBe(FILE_SIZE - previous);
    expect(existsSync(part)).toBe(false);
    expect(sha256(await readFile(local))).toBe(sha256(original));
  });

  it(`resumes an upload after ${KILLS} kill(s) and ends byte for byte identical`, async () => {
    const local = join(dir, "up.bin");
    await writeFile(local, original);
    const remote = join(dir, "root", "up.bin");
    let previous = 0;
    for (let kill = 1; kill <= KILLS; kill++) {
      const killAt = Math.floor((FILE_SIZE * kill) / (KILLS + 1));
      const error = await killedDuring(remote, killAt, (ftp) => ftp.upload(local, "up.bin", { resume: true }));
      expect(
        allErrors.some((kind) => kind.isInstance(error)),
        String(error),
      ).toBe(true);
      const stored = existsSync(remote) ? (await stat(remote)).size : 0;
      expect(stored).toBeLessThan(FILE_SIZE);
      // Whatever the server kept is the start of the file, not garbage.
      expect(sha256((await readFile(remote)).subarray(0, stored))).toBe(sha256(original.subarray(0, stored)));
      previous = stored;
    }
    const ftp = await open();
    const moved = await ftp.upload(local, "up.bin", { resume: true });
    await ftp.quit();
    expect(moved).toBe(FILE_SIZE - previous);
    expect(sha256(await readFile(remote))).toBe(sha256(original));
  });
});
