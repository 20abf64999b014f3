/**
 * MODE Z on loopback, against proftpd (mod_deflate): one text file (a web server's log, 32 MiB by
 * default) and one file of random bytes, each downloaded with and without MODE Z, alternately.
 * Reports the bytes the data connections carried (counted under the client), the wall time and
 * the client's CPU time (user + system), medians of ROUNDS. Loopback shows the CPU cost only; on a
 * capped link the wire bytes decide.
 *
 *   FTPLIB_BENCH_MIB=32 FTPLIB_BENCH_ROUNDS=5 node packages/client/bench/mode-z.mjs
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { realServers } from "@ftplib/test-servers";
import { nodeTransport } from "@ftplib/transport";
import { FTP } from "../dist/index.js";

const MIB = Number(process.env.FTPLIB_BENCH_MIB ?? 32);
const ROUNDS = Number(process.env.FTPLIB_BENCH_ROUNDS ?? 5);
const server = realServers().find((s) => s.name === "proftpd");
if (server === undefined) throw new Error("proftpd is not running (bash servers/servers.sh start proftpd)");
const endpoint = server.endpoints.find((e) => e.family === 4 && e.tls !== "implicit");

function logText(bytes) {
  const lines = [];
  for (let i = 0, size = 0; size < bytes; i++) {
    const line = `127.0.0.${i % 250} - - [02/Dec/2026:00:${String(i % 60).padStart(2, "0")}:${String((i * 7) % 60).padStart(2, "0")} +0000] "GET /pub/files/${(i * 31) % 5000}.tar.gz HTTP/1.1" ${i % 17 === 0 ? 404 : 200} ${(i * 7919) % 100000}\n`;
    lines.push(line);
    size += line.length;
  }
  return Buffer.from(lines.join("")).subarray(0, bytes);
}

const dir = `${server.root}/bench-mode-z-${process.pid}`;
mkdirSync(dir, { recursive: true });
writeFileSync(`${dir}/log.txt`, logText(MIB << 20));
writeFileSync(`${dir}/random.bin`, randomBytes(MIB << 20));

/** Bytes read on data connections. */
let wire = 0;
const counting = {
  async connect(request) {
    const stream = await nodeTransport.connect(request);
    const connectData = stream.connectData.bind(stream);
    stream.connectData = async (r) => {
      const conn = await connectData(r);
      const read = conn.read.bind(conn);
      conn.read = async () => {
        const chunk = await read();
        wire += chunk?.length ?? 0;
        return chunk;
      };
      return conn;
    };
    return stream;
  },
};

const ftp = await FTP.open({
  host: endpoint.host,
  port: endpoint.port,
  user: server.user,
  password: server.password,
  transport: counting,
});
await ftp.cwd(dir.slice(server.root.length + 1));

async function once(file, modeZ) {
  wire = 0;
  let bytes = 0;
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  await ftp.retrBinary(`RETR ${file}`, (block) => void (bytes += block.length), { modeZ });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const used = process.cpuUsage(cpu);
  if (bytes !== MIB << 20) throw new Error(`${file}: got ${bytes} bytes`);
  return { wire, ms, cpu: (used.user + used.system) / 1000 };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const rows = [];
for (const file of ["log.txt", "random.bin"]) {
  const runs = { stream: [], z: [] };
  await once(file, true);
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? [false, true] : [true, false];
    for (const modeZ of order) runs[modeZ ? "z" : "stream"].push(await once(file, modeZ));
  }
  for (const [mode, list] of Object.entries(runs)) {
    rows.push({
      file,
      mode: mode === "z" ? "MODE Z" : "stream",
      wire: median(list.map((r) => r.wire)),
      ms: median(list.map((r) => r.ms)),
      cpu: median(list.map((r) => r.cpu)),
    });
  }
}
await ftp.quit();
rmSync(dir, { recursive: true, force: true });

console.log(`${MIB} MiB each, proftpd on loopback, medians of ${ROUNDS}, Node ${process.version}\n`);
console.log("| file | mode | bytes on the wire | of the file | wall ms | client CPU ms |");
console.log("|---|---|---:|---:|---:|---:|");
for (const r of rows) {
  const share = ((100 * r.wire) / (MIB << 20)).toFixed(1);
  console.log(`| ${r.file} | ${r.mode} | ${r.wire} | ${share}% | ${r.ms.toFixed(0)} | ${r.cpu.toFixed(0)} |`);
}
