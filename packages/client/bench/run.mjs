/**
 * `pnpm bench`: this client beside basic-ftp, Python's ftplib, curl, and the raw limit of a Node
 * socket, on the same loopback servers (vsftpd for transfers, since it sends with sendfile;
 * pure-ftpd for listings, since vsftpd has no MLSD and proftpd lists at a tenth of the speed),
 * in one run. Listings are measured twice: from pure-ftpd, and from a server that sends the
 * same listing bytes from memory (./listing-server.mjs), which leaves only the clients' work.
 *
 * Each run of a contender is its own process, timing only the work (login excluded); contenders
 * take turns in a rotating order; one warm-up round, then ROUNDS counted; medians and ratios.
 * Writes reports/benchmarks.md and prints it.
 *
 *   FTPLIB_BENCH_MIB=512 FTPLIB_BENCH_ROUNDS=5 pnpm --filter @ftplib/client bench
 */
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { realServers } from "@ftplib/test-servers";

const MIB = Number(process.env.FTPLIB_BENCH_MIB ?? 512);
const ROUNDS = Number(process.env.FTPLIB_BENCH_ROUNDS ?? 5);
const SIZE = MIB * 1024 * 1024;
const SMALL_FILES = 500;
const SMALL_SIZE = 4096;
const ENTRIES = 100_000;
const POOL = 8;

const repo = fileURLToPath(new URL("../../../", import.meta.url));
const script = `${repo}servers/servers.sh`;
const local = `${repo}.tmp/bench`;
const here = (file) => fileURLToPath(new URL(file, import.meta.url));

// --- servers and fixtures -------------------------------------------------------------------
const wanted = ["vsftpd", "pure-ftpd"];
const running = realServers().map((s) => s.name);
const toStart = wanted.filter((name) => !running.includes(name) || !isUp(name));
if (toStart.length > 0) {
  execFileSync("bash", [script, "install"], { stdio: "inherit" });
  execFileSync("bash", [script, "start", ...toStart], { stdio: "inherit" });
}
function isUp(name) {
  try {
    execFileSync("bash", [script, "status", name], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
const server = (name) => {
  const s = realServers().find((x) => x.name === name);
  const e = s.endpoints.find((x) => x.tls === "explicit" && x.family === 4);
  return {
    root: s.root,
    config: { host: e.host, port: e.port, user: s.user, password: s.password, ca: readFileSync(s.ca, "utf8") },
  };
};
const vsftpd = server("vsftpd");
const pureFtpd = server("pure-ftpd");

mkdirSync(local, { recursive: true });
mkdirSync(`${vsftpd.root}/bench/small`, { recursive: true });
chmodSync(`${vsftpd.root}/bench`, 0o777); // the servers' users upload here
const big = `${vsftpd.root}/bench/big.bin`;
if (!existsSync(big) || statSync(big).size !== SIZE) writeFileSync(big, randomBytes(SIZE));
const source = `${local}/upload.bin`;
if (!existsSync(source) || statSync(source).size !== SIZE) writeFileSync(source, randomBytes(SIZE));
const smallFiles = Array.from({ length: SMALL_FILES }, (_, i) => `bench/small/f${i}.bin`);
for (const f of smallFiles)
  if (!existsSync(`${vsftpd.root}/${f}`)) writeFileSync(`${vsftpd.root}/${f}`, randomBytes(SMALL_SIZE));
for (const count of [ENTRIES, ENTRIES / 10]) {
  const dir = `${pureFtpd.root}/bench/list${count}`;
  if (existsSync(`${dir}/entry-${String(count - 1).padStart(6, "0")}.txt`)) continue;
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < count; i++) writeFileSync(`${dir}/entry-${String(i).padStart(6, "0")}.txt`, "");
}

// The listings as pure-ftpd sends them, served again from memory by ./listing-server.mjs.
const { FTP } = await import("../dist/index.js");
const expected = {};
{
  const ftp = await FTP.open(pureFtpd.config);
  for (const verb of ["MLSD", "LIST"]) {
    for (const count of [ENTRIES, ENTRIES / 10]) {
      const lines = [];
      await ftp.retrLines(`${verb} bench/list${count}`, (line) => void lines.push(line));
      writeFileSync(`${local}/${verb}-list${count}.txt`, `${lines.join("\r\n")}\r\n`);
      // Entries, not counting the listing itself, its parent, or a "total" line.
      expected[`${verb} ${count}`] = lines.filter((line) => !/ \.\.?$/.test(line) && !/^total /.test(line)).length;
    }
  }
  ftp.close();
}
// A million entries, from memory only: the 100,000 ten times over, each copy's names changed.
for (const verb of ["MLSD", "LIST"]) {
  const lines = readFileSync(`${local}/${verb}-list${ENTRIES}.txt`, "latin1")
    .split("\r\n")
    .filter((line) => line !== "" && !/ \.\.?$/.test(line));
  const copies = Array.from({ length: 10 }, (_, copy) =>
    lines.map((line) => line.replace(/\.txt$/, `-${copy}.txt`)).join("\r\n"),
  );
  writeFileSync(`${local}/${verb}-list${ENTRIES * 10}.txt`, `${copies.join("\r\n")}\r\n`, "latin1");
  expected[`${verb} ${ENTRIES * 10}`] = lines.filter((line) => !/^total /.test(line)).length * 10;
}
const listingServer = spawn(process.execPath, [here("listing-server.mjs"), local], {
  stdio: ["ignore", "pipe", "inherit"],
});
const listingPort = await new Promise((resolve) =>
  listingServer.stdout.once("data", (d) => resolve(Number(String(d).trim()))),
);
const memoryServer = { config: { ...pureFtpd.config, port: listingPort } };

// --- contenders -------------------------------------------------------------------------------
function runProcess(command, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(failure(err) || `exit ${code}`))));
  });
}
const lastLine = (text) => text.trim().split("\n").filter(Boolean).pop() ?? "";
/** Why a contender failed: V8's fatal error if there is one (a stack dump follows it), else its last line. */
const failure = (stderr) => (/^FATAL ERROR: .*$/m.exec(stderr)?.[0] ?? lastLine(stderr)).slice(0, 120);
const node =
  (file, flags = []) =>
  (scenario, config) =>
    runProcess(process.execPath, [...flags, here(`contenders/${file}`), scenario, JSON.stringify(config)]).then((out) =>
      JSON.parse(lastLine(out)),
    );
const python = (scenario, config) =>
  runProcess("/usr/bin/python3", [here("contenders/python-ftplib.py"), scenario, JSON.stringify(config)]).then((out) =>
    JSON.parse(lastLine(out)),
  );

/** curl: one process; its own per-transfer times (`time_total`, summed) leave out its start-up. */
async function curl(scenario, c) {
  const url = (path) => `ftp://${c.user}:${c.password}@${c.host}:${c.port}/${path}`;
  const tls = scenario === "ftps-download" ? ["--ssl-reqd", "--cacert", c.caFile] : [];
  const args = {
    download: () => ["-o", "/dev/null", url(c.remote)],
    "ftps-download": () => ["-o", "/dev/null", url(c.remote)],
    "download-file": () => ["-o", c.local, url(c.remote)],
    upload: () => ["-T", c.local, url(c.remote)],
    small: () => c.files.flatMap((f) => ["-o", "/dev/null", url(f)]),
  }[scenario]();
  const out = await runProcess("curl", [
    "-sS",
    "--fail",
    ...tls,
    "-w",
    "%{time_total} %{size_download} %{size_upload}\\n",
    ...args,
  ]);
  const lines = out
    .trim()
    .split("\n")
    .map((l) => l.split(" ").map(Number));
  const seconds = lines.reduce((s, l) => s + l[0], 0);
  const bytes = lines.reduce((s, l) => s + l[1] + l[2], 0);
  return { ns: seconds * 1e9, bytes, items: scenario === "small" ? lines.length : undefined };
}

const ours = node("ftplib-ts.mjs");
const basic = node("basic-ftp.mjs");
const raw = node("raw-socket.mjs");
const OURS = "@ftplib/client";
const BASIC = `basic-ftp ${JSON.parse(readFileSync(fileURLToPath(import.meta.resolve("basic-ftp/package.json")), "utf8")).version}`;
const PYTHON = `Python ${execFileSync("/usr/bin/python3", ["-c", "import sys; print(sys.version.split()[0])"]).toString().trim()} ftplib`;
const CURL = `curl ${execFileSync("curl", ["--version"]).toString().split(" ")[1]}`;
const RAW = "raw Node socket (limit)";

// --- scenarios ----------------------------------------------------------------------------------
const caFile = `${local}/ca.pem`;
writeFileSync(caFile, vsftpd.config.ca);
const bulk = (remote, extra = {}) => ({ ...vsftpd.config, remote, caFile, ...extra });
const mb = (r) => (r.bytes / r.ns) * 1e3;
const perSecond = (r) => (r.items / r.ns) * 1e9;
const expectBytes = (n) => (r) => {
  if (r.bytes !== n) throw new Error(`moved ${r.bytes} bytes, not ${n}`);
};
const expectItems = (n) => (r) => {
  if (r.items !== n) throw new Error(`got ${r.items} entries, not ${n}`);
};
/** The directory a listing contender asks for: "…, 10,000 entries" and the like, or the 100,000. */
const listingPath = (name) =>
  `bench/list${[ENTRIES / 10, ENTRIES * 10].find((n) => name.includes(`, ${n.toLocaleString("en")} entries`)) ?? ENTRIES}`;
/** The old generation's cap of the rows that show what a listing needs to hold: V8 fails beyond it. */
const HEAP_CAP_MIB = 8;
const capped = (name, entries) =>
  `${name}, ${entries.toLocaleString("en")} entries, heap capped at ${HEAP_CAP_MIB} MiB`;
const localFile = (name) => `${local}/download-${name.replace(/[^a-z0-9]+/gi, "-")}.bin`;

/** A listing of `verb` from `origin` ("pure-ftpd" or "from memory", as `where` says). */
function listingScenario(verb, where, origin, note, extraContenders = {}) {
  const scenario = verb.toLowerCase();
  return {
    title: `${verb} of a directory of ${ENTRIES.toLocaleString("en")} entries (${where})`,
    key: `${scenario} ${where}`,
    scenario,
    unit: "entries/s",
    metric: perSecond,
    memory: true,
    note,
    contenders: {
      [OURS]: ours,
      [`${OURS}, ${(ENTRIES / 10).toLocaleString("en")} entries`]: ours,
      ...(where === "from memory" ? { [`${OURS}, ${(ENTRIES * 10).toLocaleString("en")} entries`]: ours } : {}),
      ...extraContenders,
      [BASIC]: basic,
      [PYTHON]: python,
      ...(where === "from memory"
        ? {
            [capped(OURS, ENTRIES * 10)]: node("ftplib-ts.mjs", [`--max-old-space-size=${HEAP_CAP_MIB}`]),
            // (basic-ftp refuses listings over 40 MiB, a million entries among them, whatever the memory.)
            [capped(BASIC, ENTRIES)]: node("basic-ftp.mjs", [`--max-old-space-size=${HEAP_CAP_MIB}`]),
          }
        : {}),
    },
    // A million entries is more listing text than the 64 MiB a listing may be by default.
    config: (name) => ({ ...origin.config, remote: listingPath(name), maxBytes: 2 ** 30 }),
    check: (r, config) => expectItems(expected[`${verb} ${config.remote.slice("bench/list".length)}`])(r),
  };
}

const scenarios = [
  {
    title: `Download of ${MIB} MiB, discarding consumer (vsftpd)`,
    key: "download",
    unit: "MB/s",
    metric: mb,
    contenders: { [OURS]: ours, [BASIC]: basic, [PYTHON]: python, [CURL]: curl, [RAW]: raw },
    config: () => bulk("bench/big.bin"),
    check: expectBytes(SIZE),
  },
  {
    title: `Download of ${MIB} MiB to a file (vsftpd)`,
    key: "download-file",
    unit: "MB/s",
    metric: mb,
    note: `${OURS} writes to a temporary name and renames it when the size matches (its default, atomic download); the others write the file in place. None of them syncs the file to disk (${OURS}: \`fsync: true\`).`,
    contenders: { [OURS]: ours, [BASIC]: basic, [PYTHON]: python, [CURL]: curl },
    config: (name) => bulk("bench/big.bin", { local: localFile(name) }),
    check: (r, config) => {
      expectBytes(SIZE)(r);
      const size = statSync(config.local).size;
      rmSync(config.local);
      if (size !== SIZE) throw new Error(`file of ${size} bytes`);
    },
  },
  {
    title: `Upload of ${MIB} MiB from a file (vsftpd)`,
    key: "upload",
    unit: "MB/s",
    metric: mb,
    contenders: { [OURS]: ours, [BASIC]: basic, [PYTHON]: python, [CURL]: curl, [RAW]: raw },
    config: (name) => bulk(`bench/up-${name.replace(/[^a-z0-9]+/gi, "-")}.bin`, { local: source }),
    check: (r, config) => {
      expectBytes(SIZE)(r);
      const size = statSync(`${vsftpd.root}/${config.remote}`).size;
      if (size !== SIZE) throw new Error(`server has ${size} bytes`);
    },
  },
  {
    title: `${SMALL_FILES} downloads of 4 KiB on one connection (vsftpd)`,
    key: "small",
    unit: "files/s",
    metric: perSecond,
    contenders: { [OURS]: ours, [BASIC]: basic, [PYTHON]: python, [CURL]: curl, [RAW]: raw },
    config: () => bulk("", { files: smallFiles }),
    check: expectBytes(SMALL_FILES * SMALL_SIZE),
  },
  {
    title: `${SMALL_FILES} downloads of 4 KiB on ${POOL} connections (vsftpd)`,
    key: "small-pool",
    unit: "files/s",
    metric: perSecond,
    note: `${OURS} through \`FtpPool\` (size ${POOL}); ${BASIC} has no pool: ${POOL} clients each take the next file. The ratio to one connection is against the previous table's ${OURS} median.`,
    contenders: { [OURS]: ours, [BASIC]: basic },
    config: () => bulk("", { files: smallFiles, connections: POOL }),
    check: expectBytes(SMALL_FILES * SMALL_SIZE),
  },
  ...[
    ["pure-ftpd", pureFtpd],
    ["from memory", memoryServer],
  ].flatMap(([where, origin]) => [
    listingScenario(
      "MLSD",
      where,
      origin,
      `${OURS} iterates \`ftp.listStream()\` (parsed entries, in memory that holds one received chunk); \`ftp.mlsd()\` is ftplib's, which receives the whole listing before its first entry. ` +
        `${BASIC} returns an array from \`list()\` (MLSD on this server); ftplib iterates \`mlsd()\`. Memory: peak resident memory (VmHWM) above what the process used before the listing. The rows of 10,000 and 1,000,000 entries show how it grows with the listing: for \`listStream()\` only by what the garbage collector lets pile up between collections, since one received chunk is all it holds. ` +
        `From memory, the capped rows run with V8's old generation capped at ${HEAP_CAP_MIB} MiB (\`--max-old-space-size\`): a client that holds the listing fails there.`,
      { [`${OURS} \`mlsd()\``]: (key, config) => ours("mlsd-buffered", config) },
    ),
    listingScenario(
      "LIST",
      where,
      origin,
      `${OURS} iterates \`ftp.listStream(path, { command: "LIST" })\` (parsed entries); ${BASIC} returns an array of parsed entries; ftplib has no LIST parser: \`retrlines("LIST")\` hands out lines.`,
    ),
  ]),
  {
    title: `Download of ${MIB} MiB over FTPS (vsftpd: AUTH TLS, PROT P, TLS 1.3, session reuse required)`,
    key: "ftps-download",
    unit: "MB/s",
    metric: mb,
    contenders: { [OURS]: ours, [BASIC]: basic, [PYTHON]: python, [CURL]: curl, [RAW]: raw },
    config: () => bulk("bench/big.bin"),
    check: expectBytes(SIZE),
  },
];

// --- runs ---------------------------------------------------------------------------------------
const only = process.argv.slice(2);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
/** The median of the samples a contender reported (undefined for a measure it does not report). */
const medianOf = (xs) => (xs.length > 0 && xs[0] !== undefined ? median(xs) : undefined);
const results = {};
for (const scenario of scenarios) {
  if (only.length > 0 && !only.includes(scenario.scenario ?? scenario.key)) continue;
  const names = Object.keys(scenario.contenders);
  const samples = Object.fromEntries(
    names.map((n) => [n, { values: [], memory: [], cpu: [], machine: [], error: undefined }]),
  );
  process.stderr.write(`${scenario.title}\n`);
  for (let round = 0; round <= ROUNDS; round++) {
    const order = names.map((_, i) => names[(i + round) % names.length]);
    for (const name of order) {
      const sample = samples[name];
      if (sample.error !== undefined) continue;
      const config = scenario.config(name);
      try {
        const r = await scenario.contenders[name](scenario.scenario ?? scenario.key, config);
        scenario.check(r, config);
        if (round > 0) {
          sample.values.push(scenario.metric(r));
          sample.memory.push(r.rssGrowth);
          if (r.cpuNs !== undefined) sample.cpu.push(r.cpuNs / r.ns);
          if (r.machineCores !== undefined) sample.machine.push(r.machineCores);
        }
      } catch (error) {
        sample.error = error.message;
      }
    }
    process.stderr.write(round === 0 ? "  warm-up" : ` ${round}`);
  }
  process.stderr.write("\n");
  results[scenario.key] = Object.fromEntries(
    names.map((n) => {
      const s = samples[n];
      return [
        n,
        s.error ?? {
          median: median(s.values),
          min: Math.min(...s.values),
          max: Math.max(...s.values),
          memory: medianOf(s.memory),
          cpu: medianOf(s.cpu),
          machine: medianOf(s.machine),
        },
      ];
    }),
  );
}

// --- report -------------------------------------------------------------------------------------
const fixed = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const ratioTo = (a, b) => (typeof a === "object" && typeof b === "object" ? a.median / b.median : undefined);
const lines = [
  "# Benchmarks",
  "",
  `\`pnpm bench\` on ${new Date().toISOString().slice(0, 10)}: Node ${process.version}, ${cpus().length} cores (${cpus()[0].model.trim()}), loopback. ` +
    `Each run is its own process and times the work only (login excluded; curl's own per-transfer times). ` +
    `Contenders take turns in a rotating order; one warm-up round, then ${ROUNDS} counted: the median, and the range. ` +
    `The last column is the median of ${OURS} divided by the contender's: above 1, ${OURS} is faster. ` +
    `CPU: the cores the contender's process kept busy while it worked (its CPU time over the time taken; curl's is not measured); ` +
    `machine: the cores busy on the whole machine meanwhile (of ${cpus().length}), servers and kernel included.`,
  "",
];
for (const scenario of scenarios) {
  const r = results[scenario.key];
  if (r === undefined) continue;
  lines.push(`## ${scenario.title}`, "");
  if (scenario.note) lines.push(scenario.note, "");
  lines.push(
    `| contender | ${scenario.unit} | range |${scenario.memory ? " memory |" : ""} CPU | machine | ${OURS} ÷ this |`,
  );
  lines.push(`|---|---:|---:|${scenario.memory ? "---:|" : ""}---:|---:|---:|`);
  for (const [name, v] of Object.entries(r)) {
    if (typeof v === "string") {
      lines.push(`| ${name} | fails: ${v.replace(/\|/g, "/")} | |${scenario.memory ? " |" : ""} | | |`);
      continue;
    }
    const memory = scenario.memory
      ? ` ${v.memory === undefined ? "" : `${(v.memory / 2 ** 20).toFixed(0)} MiB`} |`
      : "";
    const coresText = (x) => (x === undefined ? "" : x.toFixed(2));
    let ratio = ratioTo(r[OURS], v);
    if (scenario.key === "small-pool" && name === OURS) ratio = ratioTo(v, results.small?.[OURS]);
    const ratioText =
      ratio === undefined || (name === OURS && scenario.key !== "small-pool") ? "" : `${ratio.toFixed(2)}x`;
    lines.push(
      `| ${name} | ${fixed(v.median)} | ${fixed(v.min)}–${fixed(v.max)} |${memory} ${coresText(v.cpu)} | ${coresText(v.machine)} | ${scenario.key === "small-pool" && name === OURS ? `${ratioText} of one connection` : ratioText} |`,
    );
  }
  lines.push("");
}

// The targets, each a ratio from this run, with what this run measured of the limit it meets.
const target = (label, value, goal, bound = "") =>
  value === undefined
    ? `| ${label} | not measured | ${goal}x | | |`
    : `| ${label} | ${value.toFixed(2)}x | ${goal}x | ${value >= goal ? "met" : "**missed**"} | ${bound} |`;
const get = (key, a, b) => ratioTo(results[key]?.[a], results[key]?.[b]);
const of = (key, name, field) => (typeof results[key]?.[name] === "object" ? results[key][name][field] : undefined);
const say = (template, ...values) =>
  values.some((v) => v === undefined || Number.isNaN(v)) ? "" : template(...values.map((v) => v.toFixed(2)));
const cores = cpus().length;
/** CPU milliseconds per file (or entry): the cores busy over the items per second. */
const cpuPerItem = (key, name) => ((of(key, name, "cpu") ?? NaN) / (of(key, name, "median") ?? NaN)) * 1000;
lines.push("## Targets", "", "| target | measured | goal | | what bounds it, in this run |", "|---|---:|---:|---|---|");
lines.push(target("bulk download, share of the raw socket limit", get("download", OURS, RAW), 0.9));
lines.push(
  target(
    "bulk download against basic-ftp (what 0.9 of the limit comes to here)",
    get("download", OURS, BASIC),
    1.8,
    say((x) => `the raw socket itself: ${x}x basic-ftp`, get("download", RAW, BASIC)),
  ),
);
lines.push(target("bulk upload against basic-ftp", get("upload", OURS, BASIC), 1.5));
lines.push(
  target(
    "4 KiB files on one connection against basic-ftp",
    get("small", OURS, BASIC),
    1.3,
    say(
      (raw, ours, python) => `the raw socket: ${raw}x basic-ftp; CPU per file: ${OURS} ${ours} ms, Python ${python} ms`,
      get("small", RAW, BASIC),
      cpuPerItem("small", OURS),
      cpuPerItem("small", PYTHON),
    ),
  ),
);
lines.push(
  target(
    `pool of ${POOL} against one connection (small files)`,
    ratioTo(results["small-pool"]?.[OURS], results.small?.[OURS]),
    4,
    say(
      (one, most, client, machine) =>
        `one connection keeps ${one} of ${cores} cores busy (client, server, kernel): no pool can pass ${most}x here; the pool's client used ${client} cores, the machine ${machine}`,
      of("small", OURS, "machine"),
      cores / of("small", OURS, "machine"),
      of("small-pool", OURS, "cpu"),
      of("small-pool", OURS, "machine"),
    ),
  ),
);
for (const [verb, where] of [
  ["MLSD", "from memory"],
  ["LIST", "from memory"],
  ["MLSD", "pure-ftpd"],
  ["LIST", "pure-ftpd"],
]) {
  const key = `${verb.toLowerCase()} ${where}`;
  // From memory the client is the only work; from pure-ftpd, the server's own pace shows in how
  // little faster Python's ftplib is, which parses nothing (LIST) or only splits facts (MLSD).
  const bound =
    where === "from memory"
      ? say(
          (cpu) => `${OURS}'s process: ${cpu} cores of CPU (its one thread, and the garbage collector's)`,
          of(key, OURS, "cpu"),
        )
      : say(
          (python, machine) =>
            `the server: Python's ftplib gets ${python}x basic-ftp; the machine ${machine} of ${cores} cores busy`,
          get(key, PYTHON, BASIC),
          of(key, OURS, "machine"),
        );
  lines.push(
    target(
      `${verb} of ${ENTRIES.toLocaleString("en")} entries against basic-ftp (${where})`,
      get(key, OURS, BASIC),
      3,
      bound,
    ),
  );
}
lines.push(
  target(
    "FTPS download against basic-ftp",
    get("ftps-download", OURS, BASIC),
    1.2,
    say(
      (client, others) =>
        `this client: ${client} cores of CPU; the server and the kernel: ${others} (vsftpd encrypts on one core)`,
      of("ftps-download", OURS, "cpu"),
      of("ftps-download", OURS, "machine") - of("ftps-download", OURS, "cpu"),
    ),
  ),
);
lines.push("");

const report = lines.join("\n");
console.log(report);
if (only.length === 0) writeFileSync(`${repo}reports/benchmarks.md`, report);
listingServer.kill();
if (toStart.length > 0) execFileSync("bash", [script, "stop", ...toStart], { stdio: "inherit" });
