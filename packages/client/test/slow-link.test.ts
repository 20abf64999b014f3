/**
 * A slow link and a dead one, for real: pyftpdlib and a client process run inside a network
 * namespace of their own whose loopback is shaped with `tc` (a token bucket at 32 Mbit/s). The
 * transfers must end byte for byte identical although each takes longer than the timeout (the
 * timeout is for silence, not for the whole transfer); then the link dies (`ip link set lo down`)
 * in the middle of a download, which must end in FtpTimeoutError with no file presented as whole.
 * Needs root and iproute2; runs in the hardening run (FTPLIB_HARDENING=1). The kernel here has
 * no netem, so packet loss is not simulated.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const NS = `ftplib-slow-${process.pid}`;
const PORT = 24021;
const SIZE = 16 * 1024 * 1024;
/** A quarter of the time each transfer takes over the link. */
const TIMEOUT = 1000;

function netnsWorks(): boolean {
  if (process.env.FTPLIB_HARDENING !== "1" || process.getuid?.() !== 0) return false;
  const made = spawnSync("ip", ["netns", "add", `${NS}-probe`]).status === 0;
  if (made) spawnSync("ip", ["netns", "del", `${NS}-probe`]);
  return made && spawnSync("/usr/bin/python3", ["-c", "import pyftpdlib"]).status === 0;
}

const inNs = (...command: string[]) => execFileSync("ip", ["netns", "exec", NS, ...command]);

const SERVER = `
import sys, logging
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer
logging.basicConfig(level=logging.ERROR)
a = DummyAuthorizer(); a.add_user("ftplib", "secret-pass", sys.argv[1], perm="elradfmwMT")
FTPHandler.authorizer = a
FTPHandler.passive_ports = range(${PORT + 1}, ${PORT + 40})
FTPServer(("127.0.0.1", ${PORT}), FTPHandler).serve_forever()
`;

describe.skipIf(!netnsWorks())("a slow link and a dead link (tc in a network namespace)", () => {
  let dir: string;
  let server: ReturnType<typeof spawn> | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ftplib-slow-"));
    execFileSync("ip", ["netns", "add", NS]);
    inNs("ip", "link", "set", "lo", "up");
    // A bucket larger than a packet, or tbf drops every packet: loopback packets shrink to Ethernet size.
    inNs("ip", "link", "set", "lo", "mtu", "1500");
    inNs("tc", "qdisc", "add", "dev", "lo", "root", "tbf", "rate", "32mbit", "burst", "64kb", "latency", "100ms");
    server = spawn("ip", ["netns", "exec", NS, "/usr/bin/python3", "-c", SERVER, dir], { stdio: "ignore" });
    await new Promise((resolve) => setTimeout(resolve, 800));
  });
  afterAll(async () => {
    server?.kill("SIGKILL");
    spawnSync("ip", ["netns", "del", NS]);
    await rm(dir, { recursive: true, force: true });
  });

  it("moves files intact over a link slower than the timeout, and times out when the link dies", async () => {
    const client = spawn(
      "ip",
      [
        "netns",
        "exec",
        NS,
        process.execPath,
        join(import.meta.dirname, "slow-link/client.mjs"),
        String(PORT),
        dir,
        String(SIZE),
        String(TIMEOUT),
      ],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    let result: Record<string, unknown> | undefined;
    for await (const line of createInterface({ input: client.stdout! })) {
      const message = JSON.parse(line) as Record<string, unknown>;
      if (message.kill) inNs("ip", "link", "set", "lo", "down");
      else result = message;
    }
    console.log("slow link:", JSON.stringify(result));
    expect(result).toBeDefined();
    expect(result!.identical).toBe(true);
    // 16 MiB at 32 Mbit/s take about 4 s each way: four times the 1 s timeout, and no timeout fired.
    expect(result!.uploadSeconds).toBeGreaterThan(3);
    expect(result!.downloadSeconds).toBeGreaterThan(3);
    expect(result!.deadLinkTimeout).toBe(true);
    expect(result!.deadLinkSeconds).toBeLessThan((4 * TIMEOUT) / 1000 + 3);
    expect(result!.deadLinkFile).toBe(false);
  });
});
