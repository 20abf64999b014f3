/**
 * Downloads from vsftpd (started by servers/servers.sh) with this client and with basic-ftp, plain
 * and over TLS (PROT P), to a consumer that discards the bytes. Contenders alternate, one warm-up
 * and five counted runs each; medians and ratios.
 *
 *   pnpm --filter @ftplib/client bench     (starts vsftpd with servers/servers.sh if needed)
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { Client } from "basic-ftp";
import { realServers } from "@ftplib/test-servers";
import { FTP, FTP_TLS, FtpPool } from "../dist/index.js";

const SIZE = 256 * 1024 * 1024;
const script = fileURLToPath(new URL("../../../servers/servers.sh", import.meta.url));
let server = realServers().find((s) => s.name === "vsftpd");
const started = server === undefined;
if (started) {
  execFileSync("bash", [script, "install"], { stdio: "inherit" });
  execFileSync("bash", [script, "start", "vsftpd"], { stdio: "inherit" });
  server = realServers().find((s) => s.name === "vsftpd");
}
const endpoint = server.endpoints.find((e) => e.tls === "explicit" && e.family === 4);
const ca = readFileSync(server.ca, "utf8");
writeFileSync(`${server.root}/bench.bin`, randomBytes(SIZE));
const login = { host: endpoint.host, port: endpoint.port, user: server.user, password: server.password };

async function ours(secure) {
  const ftp = secure ? await FTP_TLS.open({ ...login, tls: { ca } }) : await FTP.open(login);
  if (secure) await ftp.protP();
  let n = 0;
  const started = process.hrtime.bigint();
  await ftp.retrBinary("RETR bench.bin", (block) => {
    n += block.length;
  });
  const ns = Number(process.hrtime.bigint() - started);
  ftp.close();
  if (n !== SIZE) throw new Error(`ours: ${n} bytes`);
  return ns;
}

async function basicFtp(secure) {
  const client = new Client(0);
  await client.access({ ...login, secure, secureOptions: { ca } });
  let n = 0;
  const sink = new Writable({
    write(chunk, _enc, done) {
      n += chunk.length;
      done();
    },
  });
  const started = process.hrtime.bigint();
  await client.downloadTo(sink, "bench.bin");
  const ns = Number(process.hrtime.bigint() - started);
  client.close();
  if (n !== SIZE) throw new Error(`basic-ftp: ${n} bytes`);
  return ns;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const rows = [];
for (const secure of [false, true]) {
  const contenders = { "@ftplib/client": () => ours(secure), "basic-ftp 6.2.3": () => basicFtp(secure) };
  const samples = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
  for (let round = 0; round < 6; round++) {
    const names = round % 2 ? Object.keys(contenders).reverse() : Object.keys(contenders);
    for (const name of names) {
      const ns = await contenders[name]();
      if (round > 0) samples[name].push((SIZE / ns) * 1e3);
    }
  }
  const [a, b] = Object.keys(contenders).map((k) => median(samples[k]));
  rows.push(`| ${secure ? "FTPS (PROT P, TLS 1.3)" : "plain FTP"} | ${a.toFixed(0)} | ${b.toFixed(0)} | ${(a / b).toFixed(2)}x |`);
}
// 200 small files: one connection against a pool of 8 (issue: the pool at least 4x).
const SMALL_FILES = 200;
mkdirSync(`${server.root}/small`, { recursive: true });
for (let i = 0; i < SMALL_FILES; i++) writeFileSync(`${server.root}/small/f${i}.bin`, randomBytes(4096));
async function smallFiles(connections) {
  const pool = new FtpPool({ size: connections, connect: () => FTP.open(login) });
  // Connections are opened before the clock starts: the pool keeps them.
  await Promise.all(Array.from({ length: connections }, () => pool.run((ftp) => ftp.pwd())));
  const started = process.hrtime.bigint();
  let n = 0;
  await Promise.all(
    Array.from({ length: SMALL_FILES }, (_, i) =>
      pool.run((ftp) => ftp.retrBinary(`RETR small/f${i}.bin`, (b) => void (n += b.length))),
    ),
  );
  const ns = Number(process.hrtime.bigint() - started);
  await pool.close();
  if (n !== SMALL_FILES * 4096) throw new Error(`small files: ${n} bytes`);
  return ns;
}
const smallSamples = { 1: [], 8: [] };
for (let round = 0; round < 6; round++) {
  for (const size of round % 2 ? [8, 1] : [1, 8]) {
    const ns = await smallFiles(size);
    if (round > 0) smallSamples[size].push((SMALL_FILES / ns) * 1e9);
  }
}
const one = median(smallSamples[1]);
const eight = median(smallSamples[8]);

const report = [
  "## Download of 256 MiB from vsftpd (loopback), discarding consumer",
  "",
  `Node ${process.version}, ${new Date().toISOString().slice(0, 10)}; passive mode; median of 5 runs after a warm-up, contenders alternated.`,
  "",
  "| mode | @ftplib/client MB/s | basic-ftp MB/s | ratio |",
  "|---|---:|---:|---:|",
  ...rows,
  "",
  "## 200 downloads of 4 KiB from vsftpd: one connection against a pool of 8",
  "",
  "| connections | files/s | ratio |",
  "|---|---:|---:|",
  `| 1 | ${one.toFixed(0)} | 1.00x |`,
  `| 8 (FtpPool) | ${eight.toFixed(0)} | ${(eight / one).toFixed(2)}x |`,
  "",
].join("\n");
console.log(report);
const out = fileURLToPath(new URL("../../../reports/", import.meta.url));
mkdirSync(out, { recursive: true });
writeFileSync(`${out}transfer-bench.md`, report);
if (started) execFileSync("bash", [script, "stop", "vsftpd"], { stdio: "inherit" });
