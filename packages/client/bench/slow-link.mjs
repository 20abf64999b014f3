/**
 * `pnpm --filter @ftplib/client bench:slow`: this client beside lftp, rclone, aria2c, curl,
 * basic-ftp and Python's ftplib, through a simulated slow link (@ftplib/slow-link: a forwarder of
 * the control and passive data connections with a delay each way, 10 ms by default, and for some
 * scenarios a rate cap per connection), and a loopback pair without it. vsftpd serves transfers,
 * pure-ftpd the listing, proftpd (mod_deflate) MODE Z.
 *
 * Each run of a contender is its own process and gets a link of its own, whose counts give the
 * round trips and data connections per file; contenders take turns in a rotating order; one
 * warm-up round (on 20 files where a scenario moves 200), then ROUNDS counted; medians and
 * ratios. Writes reports/slow-link.md (when no scenario is picked) and prints it.
 *
 *   FTPLIB_BENCH_ROUNDS=1 FTPLIB_BENCH_DELAY_MS=10 FTPLIB_BENCH_RATE=8000000 FTPLIB_BENCH_MIB=512 \
 *     pnpm --filter @ftplib/client bench:slow [scenario key...]
 */
import { execFileSync, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { SlowLink } from "@ftplib/slow-link";
import { realServers } from "@ftplib/test-servers";

const ROUNDS = Number(process.env.FTPLIB_BENCH_ROUNDS ?? 1);
const DELAY_MS = Number(process.env.FTPLIB_BENCH_DELAY_MS ?? 10);
const RATE = Number(process.env.FTPLIB_BENCH_RATE ?? 8_000_000);
const LOOP_MIB = Number(process.env.FTPLIB_BENCH_MIB ?? 512);
const BIG = 64 * 1024 * 1024;
const LOOP = LOOP_MIB * 1024 * 1024;
const FILES = 200;
const WARM_FILES = 20;
const SMALL = 4096;
const ENTRIES = 5000;
const TEXT = 8 * 1024 * 1024;
const POOL = 8;

const repo = fileURLToPath(new URL("../../../", import.meta.url));
const local = `${repo}.tmp/bench-slow`;
const here = (file) => fileURLToPath(new URL(file, import.meta.url));
const cliBin = `${repo}packages/cli/dist/bin.js`;

// --- servers and fixtures -------------------------------------------------------------------
// The servers belong to the checkout that owns .tmp/servers (in a git worktree, a link to the main
// checkout's): only its own servers.sh recognizes them. Started when stopped, and left running.
const serversScript = `${dirname(dirname(realpathSync(`${repo}.tmp/servers`)))}/servers/servers.sh`;
for (const name of ["vsftpd", "pure-ftpd", "proftpd"]) {
  try {
    execFileSync("bash", [serversScript, "status", name], { stdio: "ignore" });
  } catch {
    execFileSync("bash", [serversScript, "install"], { stdio: "inherit" });
    execFileSync("bash", [serversScript, "start", name], { stdio: "inherit" });
  }
}
const server = (name) => {
  const s = realServers().find((x) => x.name === name);
  const e = s.endpoints.find((x) => x.tls === "explicit" && x.family === 4);
  return { name, root: s.root, login: { host: e.host, port: e.port, user: s.user, password: s.password } };
};
const vsftpd = server("vsftpd");
const pureFtpd = server("pure-ftpd");
const proftpd = server("proftpd");

const sha = (path) => createHash("sha256").update(readFileSync(path)).digest("hex");
const writeOnce = (path, size, make) => {
  if (!existsSync(path) || statSync(path).size !== size) writeFileSync(path, make(size));
};
const openDir = (path) => {
  mkdirSync(path, { recursive: true });
  chmodSync(path, 0o777); // the servers' users write here
};
mkdirSync(local, { recursive: true });
openDir(`${vsftpd.root}/bench-slow`);
openDir(`${vsftpd.root}/bench-slow/up`);
writeOnce(`${vsftpd.root}/bench-slow/big.bin`, BIG, randomBytes);
const bigSha = sha(`${vsftpd.root}/bench-slow/big.bin`);
// A file of its own: the loopback bench (run.mjs) rewrites bench/big.bin at the size it is asked for.
const loopRemote = "bench-slow/loop.bin";
writeOnce(`${vsftpd.root}/${loopRemote}`, LOOP, randomBytes);
const loopSource = `${local}/loop-upload.bin`;
writeOnce(loopSource, LOOP, randomBytes);
/** Directories of small files: the 200, and the 20 of the warm-up round. */
const smallDirs = { all: ["small", FILES], warm: ["warm", WARM_FILES] };
for (const [dir, count] of Object.values(smallDirs)) {
  mkdirSync(`${vsftpd.root}/bench-slow/${dir}`, { recursive: true });
  mkdirSync(`${local}/source-${dir}`, { recursive: true });
  for (let i = 0; i < count; i++) {
    const name = `f${String(i).padStart(3, "0")}.bin`;
    writeOnce(`${vsftpd.root}/bench-slow/${dir}/${name}`, SMALL, randomBytes);
    writeOnce(`${local}/source-${dir}/${name}`, SMALL, randomBytes);
  }
}
const listDir = `${pureFtpd.root}/bench-slow/list${ENTRIES}`;
if (!existsSync(`${listDir}/entry-${String(ENTRIES - 1).padStart(5, "0")}.txt`)) {
  mkdirSync(listDir, { recursive: true });
  for (let i = 0; i < ENTRIES; i++) writeFileSync(`${listDir}/entry-${String(i).padStart(5, "0")}.txt`, "");
}
/** Log-like text: repeated structure, varying numbers (deflate makes it about an eighth). */
function logText(size) {
  const levels = ["INFO", "INFO", "INFO", "WARN", "DEBUG", "ERROR"];
  const paths = ["/api/items", "/api/users", "/static/app.js", "/health", "/api/orders/search"];
  const lines = [];
  let bytes = 0;
  for (let i = 0; bytes < size; i++) {
    const t = new Date(Date.UTC(2026, 0, 1) + i * 137).toISOString();
    const line = `${t} ${levels[i % levels.length]} [worker-${i % 7}] GET ${paths[(i * 7) % paths.length]}/${(i * 7919) % 100000} ${i % 13 === 0 ? 404 : 200} ${(i * 31) % 9000} bytes ${(i * 17) % 250} ms user=u${i % 97}\n`;
    lines.push(line);
    bytes += line.length;
  }
  return Buffer.from(lines.join(""), "latin1").subarray(0, size);
}
mkdirSync(`${proftpd.root}/bench-slow`, { recursive: true });
writeOnce(`${proftpd.root}/bench-slow/text.log`, TEXT, logText);
const textSha = sha(`${proftpd.root}/bench-slow/text.log`);

// --- contenders -------------------------------------------------------------------------------
/** Runs a command; resolves to its stdout and the wall time it took, start-up included. */
function runProcess(command, args, env = {}) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("close", (code) => {
      const ns = Number(process.hrtime.bigint() - started);
      if (code === 0) resolve({ out, ns });
      else reject(new Error((lastLine(err) || lastLine(out) || `exit ${code}`).replace(/^[\s*]+/, "").slice(0, 160)));
    });
  });
}
const lastLine = (text) => text.trim().split("\n").filter(Boolean).pop() ?? "";
/** A Node or Python contender: times its own work, login excluded (./contenders/contender.mjs). */
const library = (command, file) => (scenario) => async (c) =>
  JSON.parse(lastLine((await runProcess(command, [here(`contenders/${file}`), scenario, JSON.stringify(c)])).out));
const ours = library(process.execPath, "slow-link-ftplib-ts.mjs");
const basic = library(process.execPath, "slow-link-basic-ftp.mjs");
const python = library("/usr/bin/python3", "slow-link-python-ftplib.py");
const url = (c, path) => `ftp://${c.user}@${c.host}:${c.port}/${path}`;
const urlWithPassword = (c, path) => `ftp://${c.user}:${c.password}@${c.host}:${c.port}/${path}`;
/** A command-line client: the whole command is timed, start-up and login included. */
const command = (make) => async (c) => {
  const [bin, args, env] = make(c);
  const { out, ns } = await runProcess(bin, args, env);
  return { ns, out };
};
const cli = (args) => command((c) => [process.execPath, [cliBin, "-q", ...args(c)], { FTPLIB_PASSWORD: c.password }]);
const lftp = (commands) =>
  command((c) => [
    "lftp",
    [
      "-c",
      [
        // Plain FTP as the others (the link relays TLS unread), no retries to hide a failure.
        "set cmd:fail-exit yes; set ftp:ssl-allow no; set net:max-retries 1; set xfer:clobber on",
        `open -u ${c.user},${c.password} -p ${c.port} ${c.host}`,
        commands(c),
      ].join("; "),
    ],
  ]);
const obscured = execFileSync("rclone", ["obscure", vsftpd.login.password]).toString().trim();
const rclone = (args) =>
  command((c) => [
    "rclone",
    [
      ...args(c),
      "-q",
      "--ftp-host",
      c.host,
      "--ftp-port",
      String(c.port),
      "--ftp-user",
      c.user,
      "--ftp-pass",
      obscured,
    ],
    { RCLONE_CONFIG: `${local}/rclone.conf` }, // none there: no remote but the flags'
  ]);
const aria2c = command((c) => [
  "aria2c",
  [
    "-q",
    "-x8",
    "-s8",
    "-k1M",
    "--file-allocation=none",
    "--allow-overwrite=true",
    "--auto-file-renaming=false",
    "-d",
    c.local.slice(0, c.local.lastIndexOf("/")),
    "-o",
    c.local.slice(c.local.lastIndexOf("/") + 1),
    urlWithPassword(c, c.remote),
  ],
]);
const curl = (args) => command((c) => ["curl", ["-sS", "--fail", ...args(c)]]);

const OURS = "@ftplib/client";
const CLI = "ftplib CLI";
const version = (cmd, args, pick) => {
  try {
    return pick(execFileSync(cmd, args).toString());
  } catch {
    return "";
  }
};
const BASIC = `basic-ftp ${JSON.parse(readFileSync(fileURLToPath(import.meta.resolve("basic-ftp/package.json")), "utf8")).version}`;
const PYTHON = `Python ${version("/usr/bin/python3", ["-c", "import sys; print(sys.version.split()[0])"], (s) => s.trim())} ftplib`;
const LFTP = `lftp ${version("lftp", ["--version"], (s) => /Version ([\d.]+)/.exec(s)?.[1])}`;
const RCLONE = `rclone ${version("rclone", ["version"], (s) => /v[\d.]+/.exec(s)?.[0])}`;
const ARIA = `aria2c ${version("aria2c", ["--version"], (s) => /version ([\d.]+)/.exec(s)?.[1])}`;
const CURL = `curl ${version("curl", ["--version"], (s) => s.split(" ")[1])}`;

// --- scenarios ----------------------------------------------------------------------------------
const slug = (name) => name.replace(/[^a-z0-9]+/gi, "-").replace(/^-|-$/g, "");
let runs = 0;
/** Files the run moves: [remote, local] pairs under fresh directories of its own. */
function smallFiles(name, warm, direction) {
  const [dir, count] = warm ? smallDirs.warm : smallDirs.all;
  const run = `r${++runs}-${slug(name)}`;
  const localDir = direction === "down" ? `${local}/down/${run}` : `${local}/source-${dir}`;
  const remoteDir = direction === "down" ? `bench-slow/${dir}` : `bench-slow/up/${run}`;
  if (direction === "down") {
    rmSync(localDir, { recursive: true, force: true });
    mkdirSync(localDir, { recursive: true });
  } else openDir(`${vsftpd.root}/${remoteDir}`);
  const names = Array.from({ length: count }, (_, i) => `f${String(i).padStart(3, "0")}.bin`);
  return {
    localDir,
    remoteDir,
    count,
    files: names.map((n) => [`${remoteDir}/${n}`, `${localDir}/${n}`]),
  };
}
/** The files a run left: every one of the 4 KiB, in the directory it wrote. */
function checkSmall(dir, count) {
  const names = readdirSync(dir).filter((n) => /^f\d{3}\.bin$/.test(n));
  const bytes = names.reduce((sum, n) => sum + statSync(`${dir}/${n}`).size, 0);
  if (names.length !== count || bytes !== count * SMALL)
    throw new Error(`${names.length} files of ${bytes} bytes in ${dir}, not ${count} of ${SMALL}`);
}
const checkFile = (path, size, hash) => {
  const actual = statSync(path, { throwIfNoEntry: false })?.size;
  if (actual !== size) throw new Error(`${path}: ${actual} bytes, not ${size}`);
  if (hash !== undefined && sha(path) !== hash)
    throw new Error("the file differs from the server's (same size, other bytes)");
};

/** Contenders of the small-file downloads, one connection or `n`. */
const smallDownloads = (n) => ({
  ...(n === 1
    ? {
        [`${OURS} \`ftp.download\` a file at a time`]: ours("small"),
        [`${CLI} \`mirror -j 1\``]: cli((c) => ["mirror", "-j", "1", url(c, `${c.remoteDir}/`), c.localDir]),
        [BASIC]: basic("small"),
        [PYTHON]: python("small"),
        [`${LFTP} \`mirror\``]: lftp((c) => `mirror ${c.remoteDir} ${c.localDir}`),
        [`${RCLONE} \`--transfers 1\``]: rclone((c) => [
          "copy",
          `:ftp:${c.remoteDir}`,
          c.localDir,
          "--transfers",
          "1",
          "--checkers",
          "1",
        ]),
        [CURL]: curl((c) => c.files.flatMap(([remote, file]) => ["-o", file, urlWithPassword(c, remote)])),
      }
    : {
        [`${OURS} pool of ${n}, \`downloadMany\``]: ours("small-pool"),
        [`${CLI} \`mirror -j ${n}\``]: cli((c) => ["mirror", "-j", String(n), url(c, `${c.remoteDir}/`), c.localDir]),
        [`${BASIC}, ${n} clients`]: basic("small-pool"),
        [`${LFTP} \`mirror -P ${n}\``]: lftp((c) => `mirror -P ${n} ${c.remoteDir} ${c.localDir}`),
        [`${RCLONE} \`--transfers ${n}\``]: rclone((c) => [
          "copy",
          `:ftp:${c.remoteDir}`,
          c.localDir,
          "--transfers",
          String(n),
          "--checkers",
          String(n),
        ]),
      }),
});
const smallUploads = (n) => ({
  ...(n === 1
    ? {
        [`${OURS} \`ftp.upload\` a file at a time`]: ours("upload"),
        [`${CLI} \`mirror -j 1\``]: cli((c) => ["mirror", "-j", "1", c.localDir, url(c, `${c.remoteDir}/`)]),
        [BASIC]: basic("upload"),
        [PYTHON]: python("upload"),
        [`${LFTP} \`mirror -R\``]: lftp((c) => `mirror -R ${c.localDir} ${c.remoteDir}`),
        [`${RCLONE} \`--transfers 1\``]: rclone((c) => [
          "copy",
          c.localDir,
          `:ftp:${c.remoteDir}`,
          "--transfers",
          "1",
          "--checkers",
          "1",
        ]),
        [CURL]: curl((c) => c.files.flatMap(([remote, file]) => ["-T", file, urlWithPassword(c, remote)])),
      }
    : {
        [`${OURS} pool of ${n}, \`uploadMany\``]: ours("upload-pool"),
        [`${CLI} \`mirror -j ${n}\``]: cli((c) => ["mirror", "-j", String(n), c.localDir, url(c, `${c.remoteDir}/`)]),
        [`${BASIC}, ${n} clients`]: basic("upload-pool"),
        [`${LFTP} \`mirror -R -P ${n}\``]: lftp((c) => `mirror -R -P ${n} ${c.localDir} ${c.remoteDir}`),
        [`${RCLONE} \`--transfers ${n}\``]: rclone((c) => [
          "copy",
          c.localDir,
          `:ftp:${c.remoteDir}`,
          "--transfers",
          String(n),
          "--checkers",
          String(n),
        ]),
      }),
});
const smallScenario = (key, title, direction, n) => ({
  key,
  title,
  origin: vsftpd,
  link: {},
  perFile: true,
  contenders: direction === "down" ? smallDownloads(n) : smallUploads(n),
  config: (name, warm) => ({ connections: n, ...smallFiles(name, warm, direction) }),
  check: (_r, c) => checkSmall(direction === "down" ? c.localDir : `${vsftpd.root}/${c.remoteDir}`, c.count),
  cleanup: (c) => rmSync(direction === "down" ? c.localDir : `${vsftpd.root}/${c.remoteDir}`, { recursive: true }),
});
/** A download of one file to `local/<slug>.bin`, checked against the server's bytes. */
const oneFile = (remote, size, hash) => ({
  config: (name) => ({ remote, local: `${local}/${slug(name)}.bin`, connections: POOL }),
  check: (_r, c) => checkFile(c.local, size, hash),
  cleanup: (c) => {
    rmSync(c.local, { force: true });
    // What one contender wrote is flushed before the next runs: otherwise whoever comes next pays
    // for the disk's writeback of the previous file (0.6 s against 0.9 s for the same 512 MiB).
    execFileSync("sync");
  },
});
const listed = (out) => out.split("\n").filter((line) => /entry-\d{5}\.txt/.test(line)).length;

const scenarios = [
  {
    key: "segmented",
    title: `Download of 64 MiB, each connection capped at ${RATE / 1e6} MB/s (vsftpd)`,
    origin: vsftpd,
    link: { rate: RATE },
    note: "Every file is hashed against the server's. rclone's streams stop early by closing their data connections, which vsftpd answers with 426; rclone retries, and has been seen to exit 0 with a file of the right size and other bytes.",
    contenders: {
      [`${OURS}, one connection`]: ours("download"),
      [`${OURS} \`pool.download(…, { segments: ${POOL} })\``]: ours("segmented"),
      [`${LFTP} \`pget -n ${POOL}\``]: lftp((c) => `pget -n ${POOL} ${c.remote} -o ${c.local}`),
      [`${RCLONE}, ${POOL} streams`]: rclone((c) => [
        "copyto",
        `:ftp:${c.remote}`,
        c.local,
        "--multi-thread-streams",
        String(POOL),
        "--multi-thread-cutoff",
        "1M",
      ]),
      [`${ARIA} \`-x8 -s8 -k1M\``]: aria2c,
      [`${CURL} (one stream)`]: curl((c) => ["-o", c.local, urlWithPassword(c, c.remote)]),
    },
    ...oneFile("bench-slow/big.bin", BIG, bigSha),
  },
  smallScenario("small", `${FILES} downloads of 4 KiB, one connection (vsftpd)`, "down", 1),
  smallScenario("small-8", `${FILES} downloads of 4 KiB, ${POOL} connections (vsftpd)`, "down", POOL),
  {
    key: "listing",
    title: `Listing of a directory of ${ENTRIES.toLocaleString("en")} entries (pure-ftpd), each client's usual way`,
    origin: pureFtpd,
    link: {},
    note: "MLSD for the libraries (this client's `listStream()`, basic-ftp's `list()`, Python's `mlsd()`), `ftplib ls`, lftp `cls -1`, rclone `lsf`; curl asks for LIST.",
    contenders: {
      [`${OURS} \`listStream()\``]: ours("listing"),
      [`${CLI} \`ls\``]: cli((c) => ["ls", url(c, `${c.remote}/`)]),
      [BASIC]: basic("listing"),
      [PYTHON]: python("listing"),
      [`${LFTP} \`cls -1\``]: lftp((c) => `cls -1 ${c.remote}/`),
      [`${RCLONE} \`lsf\``]: rclone((c) => ["lsf", `:ftp:${c.remote}`]),
      [CURL]: curl((c) => [urlWithPassword(c, `${c.remote}/`)]),
    },
    config: () => ({ remote: `bench-slow/list${ENTRIES}` }),
    check: (r) => {
      const items = r.items ?? listed(r.out);
      if (items !== ENTRIES) throw new Error(`${items} entries, not ${ENTRIES}`);
    },
  },
  smallScenario("upload", `${FILES} uploads of 4 KiB, one connection (vsftpd)`, "up", 1),
  smallScenario("upload-8", `${FILES} uploads of 4 KiB, ${POOL} connections (vsftpd)`, "up", POOL),
  {
    key: "mode-z",
    title: `Download of 8 MiB of log text, capped at ${RATE / 1e6} MB/s, with MODE Z and without (proftpd, mod_deflate)`,
    origin: proftpd,
    link: { rate: RATE },
    note: "A row whose client sent no `MODE Z` (the link counts the commands) is marked: the option is not there yet, or the client declined.",
    // Whether a row must have sent MODE Z (the client may use it by default where FEAT offers it).
    wantsModeZ: (name) => name.includes("MODE Z"),
    contenders: {
      [`${OURS} \`{ modeZ: false }\`, stream mode`]: (c) => ours("mode-z")({ ...c, modeZ: false }),
      [`${OURS} \`{ modeZ: true }\`, MODE Z`]: (c) => ours("mode-z")({ ...c, modeZ: true }),
      [`${LFTP}, stream mode`]: lftp((c) => `set ftp:use-mode-z false; get ${c.remote} -o ${c.local}`),
      [`${LFTP} \`ftp:use-mode-z\`, MODE Z`]: lftp((c) => `set ftp:use-mode-z true; get ${c.remote} -o ${c.local}`),
    },
    ...oneFile("bench-slow/text.log", TEXT, textSha),
  },
  {
    key: "loopback-download",
    title: `Download of ${LOOP_MIB} MiB to a file, loopback, no link (vsftpd)`,
    origin: vsftpd,
    link: undefined,
    note: `${OURS} writes to a temporary name and renames it when complete (its default); the others write in place.`,
    contenders: {
      [`${OURS} \`ftp.download\``]: ours("download"),
      [`${CLI} \`get\``]: cli((c) => ["get", url(c, c.remote), c.local]),
      [`${LFTP} \`get\``]: lftp((c) => `get ${c.remote} -o ${c.local}`),
      // One stream, as the others: its multi-thread download (the default above 250 MiB) fails on vsftpd.
      [`${RCLONE} \`copyto --multi-thread-streams 0\``]: rclone((c) => [
        "copyto",
        `:ftp:${c.remote}`,
        c.local,
        "--multi-thread-streams",
        "0",
      ]),
      [CURL]: curl((c) => ["-o", c.local, urlWithPassword(c, c.remote)]),
    },
    // The size only: hashing 512 MiB after every run would double the scenario's time.
    ...oneFile(loopRemote, LOOP, undefined),
  },
  {
    key: "loopback-upload",
    title: `Upload of ${LOOP_MIB} MiB from a file, loopback, no link (vsftpd)`,
    origin: vsftpd,
    link: undefined,
    contenders: {
      [`${OURS} \`ftp.upload\``]: ours("upload-file"),
      [`${CLI} \`put\``]: cli((c) => ["put", c.local, url(c, c.remote)]),
      [`${LFTP} \`put\``]: lftp((c) => `put ${c.local} -o ${c.remote}`),
      [`${RCLONE} \`copyto\``]: rclone((c) => ["copyto", c.local, `:ftp:${c.remote}`]),
      [CURL]: curl((c) => ["-T", c.local, urlWithPassword(c, c.remote)]),
    },
    config: (name) => ({ local: loopSource, remote: `bench-slow/up/loop-${slug(name)}.bin` }),
    check: (_r, c) => checkFile(`${vsftpd.root}/${c.remote}`, LOOP),
    cleanup: (c) => rmSync(`${vsftpd.root}/${c.remote}`, { force: true }),
  },
];

// --- runs ---------------------------------------------------------------------------------------
const only = process.argv.slice(2);
const unknown = only.filter((key) => !scenarios.some((s) => s.key === key));
if (unknown.length > 0) {
  console.error(`no scenario ${unknown.join(", ")}; the keys: ${scenarios.map((s) => s.key).join(", ")}`);
  process.exit(1);
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const started = Date.now();
const load = loadavg()[0];
const results = {};
for (const scenario of scenarios) {
  if (only.length > 0 && !only.includes(scenario.key)) continue;
  const names = Object.keys(scenario.contenders);
  const samples = Object.fromEntries(names.map((n) => [n, { seconds: [], stats: [], error: undefined }]));
  process.stderr.write(`${scenario.title}\n`);
  for (let round = 0; round <= ROUNDS; round++) {
    const order = names.map((_, i) => names[(i + round) % names.length]);
    for (const name of order) {
      const sample = samples[name];
      if (sample.error !== undefined) continue;
      const config = scenario.config(name, round === 0);
      const link =
        scenario.link === undefined
          ? undefined
          : await SlowLink.start({ target: scenario.origin.login, delayMs: DELAY_MS, ...scenario.link });
      const login = { ...scenario.origin.login, ...(link ? { host: link.host, port: link.port } : {}) };
      try {
        const r = await scenario.contenders[name]({ ...login, ...config });
        const stats = link?.stats();
        if (r.notBuilt !== undefined) sample.error = `not built yet (\`${r.notBuilt}\` is missing)`;
        else if (scenario.wantsModeZ?.(name) === true && !stats?.verbs["MODE Z"])
          sample.error = "not built yet (the client sent no MODE Z)";
        else if (scenario.wantsModeZ?.(name) === false && stats?.verbs["MODE Z"])
          sample.error = "fails: the client sent MODE Z, asked not to";
        else {
          scenario.check(r, config);
          if (round > 0) {
            sample.seconds.push(r.ns / 1e9);
            sample.stats.push(stats);
          }
        }
      } catch (error) {
        sample.error = `fails: ${error.message}`;
      } finally {
        await link?.close();
        scenario.cleanup?.(config);
      }
    }
    process.stderr.write(round === 0 ? "  warm-up" : ` ${round}`);
  }
  process.stderr.write("\n");
  const files = scenario.perFile ? FILES : 1;
  results[scenario.key] = Object.fromEntries(
    names.map((n) => {
      const s = samples[n];
      if (s.error !== undefined) return [n, s.error];
      const last = s.stats.at(-1);
      return [
        n,
        {
          median: median(s.seconds),
          min: Math.min(...s.seconds),
          max: Math.max(...s.seconds),
          roundTrips: last && median(s.stats.map((x) => x.roundTrips)) / files,
          dataConnections: last && median(s.stats.map((x) => x.dataConnections)) / files,
          dataBytes: last && median(s.stats.map((x) => x.dataBytes)) / files,
          controlConnections: last?.controlConnections,
          // The commands a file costs: those sent at least once for every second file.
          verbs:
            last &&
            Object.entries(last.verbs)
              .filter(([, count]) => count >= files / 2)
              .map(([verb, count]) => (count === files ? verb : `${verb} ×${(count / files).toFixed(1)}`))
              .join(", "),
        },
      ];
    }),
  );
  // What is measured so far, in case the run is cut short.
  writeFileSync(`${local}/partial.md`, render(false));
}

// --- report -------------------------------------------------------------------------------------
/** The report: the tables measured so far, then the targets (`done`: every picked scenario ran). */
function render(done) {
  const minutes = ((Date.now() - started) / 60000).toFixed(1);
  const seconds = (x) => (x >= 10 ? x.toFixed(1) : x.toFixed(2));
  const lines = [
    "# Slow-link benchmarks",
    "",
    `\`${["pnpm --filter @ftplib/client bench:slow", ...only].join(" ")}\` on ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC ` +
      `(${minutes} min): Node ${process.version}, ${cpus().length} cores (${cpus()[0].model.trim()}), load average ${load.toFixed(1)} at the start and ${loadavg()[0].toFixed(1)} at the end (other work shares the machine). ` +
      `FTPLIB_BENCH_ROUNDS=${ROUNDS}, FTPLIB_BENCH_DELAY_MS=${DELAY_MS}, FTPLIB_BENCH_RATE=${RATE}.`,
    "",
    `The link: \`@ftplib/slow-link\` (tooling/slow-link), a user-space forwarder of the control connection and of every passive data connection, ` +
      `${DELAY_MS} ms each way (${2 * DELAY_MS} ms a round trip) on every connection; where a title says so, each direction of each data connection is capped by a token bucket. ` +
      "The kernel completes TCP handshakes with the forwarder at once, so opening a data connection costs no round trip here, where a real link charges one: " +
      "the round-trip column counts them (command round trips + data connections), the times do not.",
    "",
    "Each run is its own process with a link of its own. Libraries (this client, basic-ftp, Python) time the work after login; " +
      "command-line clients (the ftplib CLI, lftp, rclone, aria2c, curl) are timed whole, start-up and login included. " +
      `Contenders take turns in a rotating order; one warm-up round (on ${WARM_FILES} files where a scenario moves ${FILES}), then ${ROUNDS} counted: the median, and the range. ` +
      "Ratio: the contender's median over the first row's (above 1, the first row is faster). " +
      "Round trips, data connections and data bytes (both ways, on the wire) are per file (per listing), login included, from the link's counts; commands: those sent for (nearly) every file.",
    "",
    "Run it: `npx -y pnpm@10.34.8 build && npx -y pnpm@10.34.8 --filter @ftplib/client bench:slow [key...]` " +
      `(keys: ${scenarios.map((s) => `\`${s.key}\``).join(", ")}); needs vsftpd, pure-ftpd and proftpd (servers/servers.sh) and \`apt-get install lftp rclone aria2 curl\`.`,
    "",
  ];
  for (const scenario of scenarios) {
    const r = results[scenario.key];
    if (r === undefined) continue;
    lines.push(`## ${scenario.title}`, "");
    if (scenario.note) lines.push(scenario.note, "");
    lines.push("| contender | seconds | range | ratio | round trips | data connections | data bytes | commands |");
    lines.push("|---|---:|---:|---:|---:|---:|---:|---|");
    const first = Object.values(r)[0];
    for (const [name, v] of Object.entries(r)) {
      if (typeof v === "string") {
        lines.push(`| ${name} | ${v.replace(/\|/g, "/")} | | | | | | |`);
        continue;
      }
      const ratio = typeof first === "object" && v !== first ? `${(v.median / first.median).toFixed(2)}x` : "";
      const size = (x) =>
        x === undefined ? "—" : x >= 2 ** 20 ? `${(x / 2 ** 20).toFixed(1)} MiB` : `${(x / 1024).toFixed(1)} KiB`;
      const count = (x) => (x === undefined ? "—" : x.toFixed(2).replace(/\.00$/, ""));
      lines.push(
        `| ${name} | ${seconds(v.median)} | ${seconds(v.min)}–${seconds(v.max)} | ${ratio} | ${count(v.roundTrips)} | ${count(v.dataConnections)} | ${size(v.dataBytes)} | ${v.verbs ?? ""} |`,
      );
    }
    lines.push("");
  }

  /** The median of `a` over `b`'s, found by the start of their names; undefined when either has none. */
  const pick = (key, prefix) => {
    const entry = Object.entries(results[key] ?? {}).find(([name]) => name.startsWith(prefix));
    return entry === undefined ? undefined : entry[1];
  };
  const ratio = (key, ourPrefix, otherPrefix) => {
    const a = pick(key, ourPrefix);
    const b = pick(key, otherPrefix);
    if (a === undefined || b === undefined) return "not measured";
    if (typeof a === "string") return a;
    if (typeof b === "string") return `${otherPrefix}: ${b}`;
    return b.median / a.median;
  };
  const target = (label, value, goal) =>
    typeof value === "string"
      ? `| ${label} | ${value.replace(/\|/g, "/")} | ${goal}x | |`
      : `| ${label} | ${value.toFixed(2)}x | ${goal}x | ${value >= goal ? "met" : "**missed**"} |`;
  const segmentedRow = `${OURS} \`pool.download`;
  const segmentShare = (() => {
    const one = pick("segmented", `${OURS}, one connection`);
    const seg = pick("segmented", segmentedRow);
    if (one === undefined || seg === undefined) return "not measured";
    if (typeof seg === "string") return seg;
    if (typeof one === "string") return one;
    return one.median / seg.median / POOL;
  })();
  lines.push(
    "## Targets (issue 17)",
    "",
    "Each a ratio from this run: the other's median time over ours (for the third row: the segmented rate over 8 times one connection's).",
    "",
    "| target | measured | goal | |",
    "|---|---:|---:|---|",
    target("segmented 64 MiB, 8 connections, against lftp `pget -n 8`", ratio("segmented", segmentedRow, LFTP), 1),
    target(
      "segmented 64 MiB, 8 connections, against rclone with 8 streams",
      ratio("segmented", segmentedRow, RCLONE),
      1,
    ),
    target("segmented 64 MiB: the rate of 8 × one connection's, within 15%", segmentShare, 0.85),
    ...[LFTP, RCLONE, PYTHON].map((other) =>
      target(`${FILES} small files, one connection, against ${other}`, ratio("small", OURS, other), 1.3),
    ),
    target(`${FILES} small files, one connection, against ${BASIC}`, ratio("small", OURS, BASIC), 1),
    ...[OURS, CLI].flatMap((mine) => [
      target(
        `${FILES} small files, 8 connections (${mine === OURS ? "pool" : "`mirror -j 8`"}), against ${RCLONE}`,
        ratio("small-8", mine, RCLONE),
        1.2,
      ),
      target(
        `${FILES} small files, 8 connections (${mine === OURS ? "pool" : "`mirror -j 8`"}), against ${BASIC}'s 8 clients`,
        ratio("small-8", mine, BASIC),
        1.2,
      ),
      target(
        `${FILES} small files, 8 connections (${mine === OURS ? "pool" : "`mirror -j 8`"}), against ${LFTP}`,
        ratio("small-8", mine, LFTP),
        2,
      ),
    ]),
    target(`${LOOP_MIB} MiB download to a file, loopback, against ${CURL}`, ratio("loopback-download", OURS, CURL), 1),
    target(
      `${LOOP_MIB} MiB download to a file, loopback, against ${LFTP}`,
      ratio("loopback-download", OURS, LFTP),
      0.9,
    ),
    target(`${LOOP_MIB} MiB upload, loopback, against ${LFTP}`, ratio("loopback-upload", OURS, LFTP), 1),
    target(`${LOOP_MIB} MiB upload, loopback, against ${CURL}`, ratio("loopback-upload", OURS, CURL), 1),
    target(
      "a text file with MODE Z, capped link, against the same without it",
      ratio("mode-z", `${OURS} \`{ modeZ: true`, `${OURS} \`{ modeZ: false`),
      3,
    ),
    "| loopback targets of issue 6 | see reports/benchmarks.md (`pnpm bench`) | not worse | |",
    "",
  );

  if (!done) lines.splice(1, 0, "", "(partial: the run has not ended)");
  return lines.join("\n");
}

const report = render(true);
console.log(report);
if (only.length === 0) writeFileSync(`${repo}reports/slow-link.md`, report);
