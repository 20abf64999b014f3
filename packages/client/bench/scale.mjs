/**
 * `pnpm bench:scale`: scale in one process, against a vsftpd of its own (never the shared ones):
 *  - idle sessions: a pool of N logged-in connections held open at once (N = 100, 500 and 1,000, plain
 *    and with a TLS control connection), and the heap after a full GC and the RSS per session;
 *  - many transfers: RETR of a 4 KiB file, one STOR in ten, on one connection and on a pool of 8,
 *    sampling the heap after GC, the RSS, Node's active handles and the listeners on live sockets
 *    as it goes: flat memory and nothing left behind.
 * Writes reports/scale.md and prints it. Needs root (vsftpd) and `servers.sh install` done.
 *
 *   FTPLIB_SCALE_SESSIONS=100,500,1000 FTPLIB_SCALE_TRANSFERS=100000 pnpm --filter @ftplib/client bench:scale
 */
import { execFileSync, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import diagnostics from "node:diagnostics_channel";
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import v8 from "node:v8";
import { startDedicatedVsftpd } from "@ftplib/test-servers";

const SESSIONS = (process.env.FTPLIB_SCALE_SESSIONS ?? "100,500,1000").split(",").map(Number);
const TRANSFERS = Number(process.env.FTPLIB_SCALE_TRANSFERS ?? 100_000);
const POOL = 8;
const SAMPLES = 20;
const SMALL = 4096;

const gc = globalThis.gc;
if (typeof gc !== "function") throw new Error("run with node --expose-gc");
const repo = fileURLToPath(new URL("../../../", import.meta.url));
const { FTP, FTP_TLS, FtpPool } = await import("../dist/index.js");

// --- what is measured -----------------------------------------------------------------------
function heapAfterGc() {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}
const rss = () => process.memoryUsage().rss;
const fds = () => readdirSync("/proc/self/fd").length;
function handles() {
  const counts = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}
const handleText = (counts) =>
  Object.entries(counts)
    .sort()
    .map(([kind, n]) => `${kind} ${n}`)
    .join(", ");

// Every TCP socket this process makes (control and data), held weakly: listeners on the live ones,
// and how many socket objects are still reachable after a GC (a leak keeps closed ones alive).
const sockets = new Set();
const collected = new FinalizationRegistry(() => liveObjects--);
let liveObjects = 0;
diagnostics.subscribe("net.client.socket", ({ socket }) => {
  const ref = new WeakRef(socket);
  sockets.add(ref);
  liveObjects++;
  collected.register(socket, undefined);
  socket.once("close", () => sockets.delete(ref));
});
function listeners() {
  let total = 0;
  let open = 0;
  for (const ref of sockets) {
    const socket = ref.deref();
    if (socket === undefined || socket.destroyed) continue;
    open++;
    for (const event of socket.eventNames()) total += socket.listenerCount(event);
  }
  return { open, total };
}
/**
 * What the heap holds after a GC, from a heap snapshot: bytes and objects by kind and constructor
 * (strings by kind only; V8's compiled code and its metadata as one), saved to `file`. The
 * snapshot is read in another process, so that neither its text nor the census is in this one's
 * heap or RSS afterwards.
 */
function heapCensus(file) {
  gc();
  gc();
  const snapshot = v8.writeHeapSnapshot(`${file}.heapsnapshot`);
  execFileSync(process.execPath, ["--expose-gc", fileURLToPath(import.meta.url)], {
    env: { ...process.env, FTPLIB_SCALE_CENSUS: JSON.stringify({ snapshot, file }) },
    stdio: "inherit",
  });
}
function writeCensus({ snapshot: snapshotFile, file }) {
  const { snapshot, nodes, strings } = JSON.parse(readFileSync(snapshotFile, "utf8"));
  rmSync(snapshotFile);
  const fields = snapshot.meta.node_fields;
  const [type, name, size] = ["type", "name", "self_size"].map((field) => fields.indexOf(field));
  const types = snapshot.meta.node_types[0];
  const named = new Set(["object", "closure", "native", "hidden", "object shape"]);
  const census = {};
  for (let i = 0; i < nodes.length; i += fields.length) {
    const kind = types[nodes[i + type]];
    const key =
      kind === "code"
        ? "V8 compiled code and its metadata"
        : named.has(kind)
          ? `${kind}: ${strings[nodes[i + name]].slice(0, 50) || "(anonymous)"}`
          : kind;
    const entry = (census[key] ??= { count: 0, size: 0 });
    entry.count++;
    entry.size += nodes[i + size];
  }
  writeFileSync(file, JSON.stringify(census));
}
if (process.env.FTPLIB_SCALE_CENSUS !== undefined) {
  writeCensus(JSON.parse(process.env.FTPLIB_SCALE_CENSUS));
  process.exit(0);
}
/** The kinds that grew most from one saved census to another. */
function censusGrowth(beforeFile, afterFile, top = 6) {
  const [before, after] = [beforeFile, afterFile].map((file) => JSON.parse(readFileSync(file, "utf8")));
  return Object.entries(after)
    .map(([key, { count, size }]) => ({
      key,
      count: count - (before[key]?.count ?? 0),
      size: size - (before[key]?.size ?? 0),
    }))
    .sort((a, b) => b.size - a.size)
    .slice(0, top);
}
const settle = () => new Promise((r) => setTimeout(r, 50));
const mib = (bytes) => (bytes / 2 ** 20).toFixed(1);
const kib = (bytes) => (bytes / 1024).toFixed(1);

// --- idle sessions, each count in a process of its own ---------------------------------------
/**
 * Opens a pool of `n` and holds all n at once (n tasks, each waiting until all have logged in),
 * then measures with all n idle: the heap after GC and the RSS, as differences from before the
 * pool (after one connection opened and closed, so that code and TLS are loaded already).
 */
async function idleSessions({ n, secure, ...options }, held) {
  const connect = () => (secure ? FTP_TLS : FTP).open(options);
  await (await connect()).quit();
  await settle();
  const heap0 = heapAfterGc();
  const rss0 = rss();
  const pool = secure ? FtpPool.open({ ...options, secure: true, size: n }) : new FtpPool({ connect, size: n });
  const started = performance.now();
  let arrived = 0;
  let all;
  const together = new Promise((resolve) => (all = resolve));
  await Promise.all(
    Array.from({ length: n }, () =>
      pool.run(async (ftp) => {
        if (++arrived === n) all();
        await together;
        if (!(ftp instanceof (secure ? FTP_TLS : FTP))) throw new Error("not the class asked for");
      }),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  await settle();
  const heap = heapAfterGc() - heap0;
  const resident = rss() - rss0;
  const open = listeners().open;
  await held();
  // Every session still answers.
  await Promise.all(Array.from({ length: n }, () => pool.run((ftp) => ftp.voidCmd("NOOP"))));
  await pool.close();
  return { seconds, heap, resident, open };
}

if (process.env.FTPLIB_SCALE_CHILD !== undefined) {
  // The parent counts the server's processes while the sessions are held, then answers a line.
  const held = () =>
    new Promise((resolve) => {
      process.stdout.write("held\n");
      process.stdin.once("data", resolve);
    });
  const result = await idleSessions(JSON.parse(process.env.FTPLIB_SCALE_CHILD), held);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

/** Runs idleSessions in a fresh process: each count starts from the same empty heap and RSS. */
function inChild(options) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--expose-gc", fileURLToPath(import.meta.url)], {
      env: { ...process.env, FTPLIB_SCALE_CHILD: JSON.stringify(options) },
      stdio: ["pipe", "pipe", "inherit"],
    });
    let processes = 0;
    let text = "";
    child.stdout.on("data", (data) => {
      text += data;
      if (text.startsWith("held\n") && processes === 0) {
        processes = server.processes();
        child.stdin.write("\n");
      }
    });
    child.once("exit", (code) => {
      const last = text.trim().split("\n").at(-1);
      if (code === 0 && last?.startsWith("{")) resolve({ ...JSON.parse(last), processes });
      else reject(new Error(`idle sessions ${JSON.stringify({ ...options, password: "***" })}: exit ${code}`));
    });
  });
}

// --- the server -----------------------------------------------------------------------------
const scratch = join(repo, `.tmp/scale/bench-${process.pid}`);
const server = await startDedicatedVsftpd({ scratch, passive: [31000, 31999], maxClients: 2000 });
const small = randomBytes(SMALL);
writeFileSync(join(server.root, "small.bin"), small);
const login = { host: server.host, port: server.port, user: server.user, password: server.password, timeout: 60_000 };
const tlsLogin = { ...login, tls: { ca: server.ca, servername: "localhost" } };

const lines = [];
const out = (line = "") => {
  lines.push(line);
  console.log(line);
};

try {
  out("# Scale in one process");
  out();
  out(
    `\`pnpm --filter @ftplib/client bench:scale\` on ${new Date().toISOString().slice(0, 10)}: Node ${process.version}, ` +
      `${cpus().length} cores (${cpus()[0]?.model.trim()}), ${mib(totalmem())} MiB RAM, fd limit ` +
      `${execFileSync("sh", ["-c", "ulimit -n"], { encoding: "utf8" }).trim()} (\`bench:scale\` raises it to the hard limit), ` +
      `loopback, against a vsftpd of its own (servers.sh's binary, its own config: ${server.port}/tcp, passive ` +
      `31000-31999, max_clients and max_per_ip 2000). FTPLIB_SCALE_SESSIONS=${SESSIONS.join(",")} ` +
      `FTPLIB_SCALE_TRANSFERS=${TRANSFERS}. The machine was shared with other work while it ran.`,
  );

  // --- idle sessions ------------------------------------------------------------------------
  out();
  out("## Idle sessions");
  out();
  out(
    "Each count in a process of its own: a pool of N, N tasks run at once (each waits until all N have logged in), " +
      "then all N idle in the pool. Heap: used after two full GCs; heap and RSS are differences from before the " +
      "pool was opened (after one connection was opened and closed). TLS: FTP_TLS, AUTH TLS and PROT P, every " +
      "session after the first resuming the first one's TLS session (FtpPool.open with secure). Server processes: " +
      "vsftpd's, while the sessions were held.",
  );
  out();
  out("| control | sessions | open all (s) | heap / session | RSS / session | sockets | server processes |");
  out("|---|---:|---:|---:|---:|---:|---:|");
  const perSession = {};
  for (const secure of [false, true]) {
    for (const n of SESSIONS) {
      const r = await inChild({ ...(secure ? tlsLogin : login), n, secure });
      perSession[`${secure}-${n}`] = r;
      out(
        `| ${secure ? "TLS" : "plain"} | ${n} | ${r.seconds.toFixed(1)} | ${kib(r.heap / n)} KiB | ${kib(r.resident / n)} KiB | ${r.open} | ${r.processes} |`,
      );
    }
  }
  if (SESSIONS.length >= 2) {
    const [a, b] = [Math.min(...SESSIONS), Math.max(...SESSIONS)];
    out();
    out(`Slope between ${a} and ${b} sessions (the cost of one more session, fixed costs removed):`);
    out();
    out("| control | heap / session | RSS / session |");
    out("|---|---:|---:|");
    for (const secure of [false, true]) {
      const lo = perSession[`${secure}-${a}`];
      const hi = perSession[`${secure}-${b}`];
      out(
        `| ${secure ? "TLS" : "plain"} | ${kib((hi.heap - lo.heap) / (b - a))} KiB | ${kib((hi.resident - lo.resident) / (b - a))} KiB |`,
      );
    }
  }
  await settle();

  // --- many transfers -----------------------------------------------------------------------
  /** One transfer: mostly RETR of the 4 KiB file, checked; every tenth a STOR of 4 KiB. */
  const transfer = async (ftp, i, worker) => {
    if (i % 10 === 9) {
      await ftp.storBinary(`STOR up-${worker}.bin`, small);
      return;
    }
    const hash = createHash("sha1");
    let bytes = 0;
    await ftp.retrBinary("RETR small.bin", (block) => {
      bytes += block.length;
      hash.update(block);
    });
    if (bytes !== SMALL || hash.digest("hex") !== smallHash) throw new Error(`RETR ${i}: ${bytes} bytes, wrong data`);
  };
  const smallHash = createHash("sha1").update(small).digest("hex");

  const runTransfers = async (label, run) => {
    out();
    out(`## ${TRANSFERS.toLocaleString("en")} transfers, ${label}`);
    out();
    out(
      "| transfers | heap after GC | RSS | fds | handles | open sockets | listeners on them | socket objects alive |",
    );
    out("|---:|---:|---:|---:|---|---:|---:|---:|");
    const samples = [];
    const sample = async (done) => {
      await settle();
      const heap = heapAfterGc();
      await settle(); // finalizers run after the GC
      const row = { done, heap, rss: rss(), fds: fds(), handles: handles(), ...listeners(), alive: liveObjects };
      samples.push(row);
      // The steady part starts after the first sample: a heap snapshot there and at the end.
      if (samples.length === 2) heapCensus(join(scratch, "census-first.json"));
      out(
        `| ${done} | ${mib(row.heap)} MiB | ${mib(row.rss)} MiB | ${row.fds} | ${handleText(row.handles)} | ${row.open} | ${row.total} | ${row.alive} |`,
      );
    };
    const started = performance.now();
    await run(sample);
    heapCensus(join(scratch, "census-last.json"));
    const seconds = (performance.now() - started) / 1000;
    // The first sample is after the warm-up tenth: JIT, pools and caches are filled by then.
    const steady = samples.slice(1);
    const afterSnapshot = samples.slice(2);
    const heaps = steady.map((s) => s.heap);
    const grew = heaps.at(-1) - heaps[0];
    out();
    out(
      `${(TRANSFERS / seconds).toFixed(0)} transfers/s (${seconds.toFixed(1)} s, samples included). From the ` +
        `${steady[0].done.toLocaleString("en")}th transfer on: heap ${mib(Math.min(...heaps))}–${mib(Math.max(...heaps))} MiB ` +
        `(last − first ${grew >= 0 ? "+" : ""}${kib(grew)} KiB, ${(grew / (TRANSFERS - steady[0].done)).toFixed(2)} bytes ` +
        `per transfer), RSS ${mib(Math.min(...afterSnapshot.map((s) => s.rss)))}–` +
        `${mib(Math.max(...afterSnapshot.map((s) => s.rss)))} MiB from the sample after the first heap snapshot on ` +
        `(writing one leaves some 25 MiB with malloc: ${mib(steady[0].rss)} MiB before it), ` +
        `fds ${Math.min(...steady.map((s) => s.fds))}–${Math.max(...steady.map((s) => s.fds))}, listeners ` +
        `${Math.min(...steady.map((s) => s.total))}–${Math.max(...steady.map((s) => s.total))}.`,
    );
    out();
    out("Heap after GC through the run (one column a sample, scaled from its minimum to its maximum):");
    out();
    const lo = Math.min(...heaps);
    const span = Math.max(...heaps) - lo || 1;
    out("```");
    out(heaps.map((h) => "▁▂▃▄▅▆▇█"[Math.round(((h - lo) / span) * 7)]).join(""));
    out("```");
    out();
    out(
      `What grew on the heap from the ${samples[1].done.toLocaleString("en")}th transfer to the last (heap snapshots ` +
        "compared, the largest growth first):",
    );
    out();
    out("| what | objects | bytes |");
    out("|---|---:|---:|");
    for (const { key, count, size } of censusGrowth(
      join(scratch, "census-first.json"),
      join(scratch, "census-last.json"),
    ))
      out(`| ${key} | ${count >= 0 ? "+" : ""}${count} | ${size >= 0 ? "+" : ""}${size} |`);
    return samples;
  };

  const every = Math.max(1, Math.floor(TRANSFERS / SAMPLES));
  const before = { fds: fds(), handles: handles() };
  await runTransfers("one connection", async (sample) => {
    const ftp = await FTP.open(login);
    for (let i = 0; i < TRANSFERS; i++) {
      await transfer(ftp, i, 0);
      if ((i + 1) % every === 0) await sample(i + 1);
    }
    await ftp.quit();
  });
  await runTransfers(`a pool of ${POOL}`, async (sample) => {
    const pool = new FtpPool({ connect: () => FTP.open(login), size: POOL });
    // In batches of one sample's worth, so that each sample sees the pool at rest.
    for (let start = 0; start < TRANSFERS; start += every) {
      const end = Math.min(TRANSFERS, start + every);
      let next = start;
      const worker = async (w) => {
        while (next < end) {
          const i = next++;
          await pool.run((ftp) => transfer(ftp, i, w));
        }
      };
      await Promise.all(Array.from({ length: POOL }, (_, w) => worker(w)));
      if (end % every === 0) await sample(end);
    }
    await pool.close();
  });
  await settle();
  heapAfterGc();
  await settle();
  const after = { fds: fds(), handles: handles() };
  out();
  out(
    `Before the transfers: ${before.fds} fds, handles ${handleText(before.handles)}; after (all connections closed): ` +
      `${after.fds} fds, handles ${handleText(after.handles)}; ${listeners().open} sockets open, ${liveObjects} socket objects alive.`,
  );
} finally {
  await server.close();
  rmSync(scratch, { recursive: true, force: true });
}

mkdirSync(join(repo, "reports"), { recursive: true });
writeFileSync(join(repo, "reports/scale.md"), `${lines.join("\n")}\n`);
