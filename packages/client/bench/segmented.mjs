/**
 * One file over one connection, then over N segments of a pool, against a real server of
 * servers/servers.sh: wall time, the process's CPU time, and the bytes checked. Optionally
 * through a slow link (SLOW_LINK=<path to tooling/slow-link/index.js>, DELAY_MS, RATE in bytes a
 * second per data connection). Build first (dist/).
 *
 *   node packages/client/bench/segmented.mjs [server=vsftpd] [MiB=64] [segments=8]
 */
import { createHash, randomBytes } from "node:crypto";
import { readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { realServers } from "@ftplib/test-servers";
import { FTP, FtpPool } from "../dist/index.js";

const [name = "vsftpd", mib = "64", segmentsText = "8"] = process.argv.slice(2);
const segments = Number(segmentsText);
const server = realServers({ all: true }).find((s) => s.name === name);
if (server === undefined) throw new Error(`${name} is not running (bash servers/servers.sh start ${name})`);
const endpoint = server.endpoints.find((e) => e.family === 4 && e.tls !== "implicit");
let target = { host: endpoint.host, port: endpoint.port };
let link;
if (process.env.SLOW_LINK) {
  const { SlowLink } = await import(process.env.SLOW_LINK);
  const rate = process.env.RATE === undefined ? undefined : Number(process.env.RATE);
  link = await SlowLink.start({ target, delayMs: Number(process.env.DELAY_MS ?? 10), rate });
  target = { host: link.host, port: link.port };
}
const data = randomBytes(Number(mib) << 20);
const remote = `bench-segmented-${process.pid}.bin`;
await writeFile(join(server.root, remote), data, { mode: 0o644 });
const local = join(tmpdir(), remote);
const login = { ...target, user: server.user, password: server.password, timeout: 30_000 };
const sha = (bytes) => createHash("sha256").update(bytes).digest("hex");

async function measure(label, run) {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await run();
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const ok = sha(await readFile(local)) === sha(data);
  console.log(
    `${label.padEnd(22)} ${(ms / 1000).toFixed(2)} s  ${(((data.length / ms) * 1000) / 1e6).toFixed(0)} MB/s  ` +
      `cpu ${((used.user + used.system) / 1e6).toFixed(2)} s  bytes ${ok ? "match" : "DIFFER"}`,
  );
  await rm(local, { force: true });
}

try {
  console.log(
    `${name}, ${mib} MiB${link ? `, slow link ${process.env.DELAY_MS ?? 10} ms each way, rate ${process.env.RATE ?? "uncapped"}` : ", loopback"}`,
  );
  await measure("one connection", async () => {
    const ftp = await FTP.open(login);
    await ftp.download(remote, local);
    await ftp.quit();
  });
  await measure(`${segments} segments`, async () => {
    const pool = new FtpPool({ size: segments, connect: () => FTP.open(login) });
    await pool.download(remote, local, { segments });
    await pool.close();
  });
} finally {
  await rm(join(server.root, remote), { force: true });
  await link?.close();
}
