// The published packages as a user gets them: packs each publishable package with pnpm (as
// `changeset publish` does), checks what each tarball holds, installs the tarballs with npm into
// fresh projects (ESM, CommonJS, and TypeScript with node16, bundler and node10 resolution, the
// last without esModuleInterop), type-checks them against the installed declarations with the
// repository's TypeScript (skipLibCheck off), and runs a small program in each: a codec, a
// transport, a replayed session through FTP, and `ftplib --version` through the installed bin.
//
// Works offline: the tarballs depend only on each other. Should a package gain a dependency from
// the registry, npm fetches it (or takes it from its cache).
//
// Run after a build (`pnpm test:pack` builds first). FTPLIB_PACK_TEST_KEEP=1 keeps the projects.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, existsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const PNPM = ["-y", "pnpm@10.34.8"];
const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
const typeRoots = join(root, "node_modules", "@types");
const repository = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).repository.url;

let failures = 0;
let passed = 0;
const fail = (message) => {
  failures += 1;
  console.error(`not ok: ${message}`);
};
const ok = (message) => {
  passed += 1;
  console.log(`ok: ${message}`);
};
const check = (condition, message) => (condition ? ok(message) : fail(message));
const run = (command, args, cwd, options = {}) =>
  execFileSync(command, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], ...options });

/** Runs a step; a failure is reported with the command's output and the script goes on. */
function step(message, action) {
  try {
    const result = action();
    ok(message);
    return result;
  } catch (error) {
    const output = [error.stdout, error.stderr].filter(Boolean).join("\n").trim();
    fail(`${message}\n${output || error.message}`);
    return undefined;
  }
}

const packages = readdirSync(join(root, "packages"))
  .map((name) => ({ dir: join(root, "packages", name), name }))
  .filter(({ dir }) => existsSync(join(dir, "package.json")))
  .map((entry) => ({ ...entry, manifest: JSON.parse(readFileSync(join(entry.dir, "package.json"), "utf8")) }))
  .filter(({ manifest }) => manifest.private !== true);

const work = mkdtempSync(join(tmpdir(), "ftplib-pack-test-"));
const tarballs = join(work, "tarballs");
mkdirSync(tarballs);
console.log(`packing ${packages.map((p) => p.manifest.name).join(", ")} into ${tarballs}`);

// What a tarball must hold, and what it must not.
const required = ["package/LICENSE", "package/README.md", "package/package.json"];
const forbidden = [
  /^package\/(src|test|tests|bench|types|coverage|node_modules|\.tmp|\.turbo)\//,
  /\.test\.[cm]?[jt]s$/,
  /\/tsconfig[^/]*\.json$/,
  /\/(tsup|vitest)\.config\./,
  /\.tsbuildinfo$/,
  /\.tgz$/,
];

const packed = new Map();
const thirdParty = new Set();
for (const { dir, manifest } of packages) {
  if (!existsSync(join(dir, "dist"))) {
    fail(`${manifest.name}: no dist/ (build first)`);
    continue;
  }
  const before = new Set(readdirSync(tarballs));
  const made = step(`${manifest.name}: pnpm pack`, () => {
    run("npx", [...PNPM, "pack", "--pack-destination", tarballs], dir);
    return readdirSync(tarballs).filter((file) => !before.has(file));
  });
  if (made?.length !== 1) {
    if (made) fail(`${manifest.name}: pnpm pack made ${made.length} files`);
    continue;
  }
  const tarball = join(tarballs, made[0]);
  packed.set(manifest.name, tarball);

  const files = run("tar", ["-tzf", tarball], work).split("\n").filter(Boolean);
  for (const file of required) check(files.includes(file), `${manifest.name}: tarball holds ${file.slice(8)}`);
  check(
    files.some((file) => file.startsWith("package/dist/")),
    `${manifest.name}: tarball holds dist/`,
  );
  const extra = files.filter((file) => forbidden.some((pattern) => pattern.test(file)));
  check(extra.length === 0, `${manifest.name}: tarball holds no sources, tests or build leftovers ${extra.join(" ")}`);

  const published = JSON.parse(run("tar", ["-xzOf", tarball, "package/package.json"], work));
  const ranges = { ...published.dependencies, ...published.peerDependencies, ...published.optionalDependencies };
  check(
    !Object.values(ranges).some((range) => String(range).startsWith("workspace:")),
    `${manifest.name}: no workspace: ranges in the published package.json`,
  );
  check(
    published.repository?.url === repository && published.repository?.directory === `packages/${dir.split("/").pop()}`,
    `${manifest.name}: repository names ${repository} and the package's directory`,
  );
  check(Boolean(published.homepage && published.bugs?.url), `${manifest.name}: homepage and bugs`);
  for (const [name] of Object.entries(ranges)) {
    if (!packages.some((p) => p.manifest.name === name)) thirdParty.add(name);
  }
  for (const target of [
    ...(published.main ? [published.main] : []),
    ...(published.types ? [published.types] : []),
    ...Object.values(published.bin ?? {}),
  ]) {
    check(files.includes(`package/${target.replace(/^\.\//, "")}`), `${manifest.name}: tarball holds ${target}`);
  }

  // Relative links in a README are broken on the registry's page.
  const readme = run("tar", ["-xzOf", tarball, "package/README.md"], work);
  const relative = [...readme.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((match) => match[1])
    .filter((link) => !/^(https?:|mailto:|#)/.test(link));
  check(relative.length === 0, `${manifest.name}: README has only absolute links ${relative.join(" ")}`);

  // Declarations that need esModuleInterop break TypeScript users without it (TS1192).
  const declarations = files.filter((file) => /\.d\.[cm]?ts$/.test(file));
  for (const file of declarations) {
    const text = run("tar", ["-xzOf", tarball, file], work);
    const defaults = text.match(/^import [A-Za-z_$][\w$]* from ['"]node:[^'"]+['"]/gm) ?? [];
    check(defaults.length === 0, `${manifest.name}: ${file.slice(8)} has no default import of a node: module`);
  }
}

if (packed.size !== packages.length) {
  console.error(`${passed} passed, ${failures} failed`);
  process.exit(1);
}

// The program each project runs, in the module syntax of its kind.
const lines = [
  `const codec = new ControlCodec();`,
  `const transport = new NodeTransport();`,
  `const replay = new ReplayTransport("ftplib-transcript 1\\nconnect ipv4\\n< 220 hi\\n> NOOP\\n< 200 ok\\n> QUIT\\n< 221 bye\\n");`,
  `const ftp = new FTP({ transport: replay });`,
  `const target = parseFtpUrl("ftp://anonymous@127.0.0.1:2121/pub/file.txt");`,
  `async function main() {`,
  `  await ftp.connect("127.0.0.1");`,
  `  await ftp.voidCmd("NOOP");`,
  `  await ftp.quit();`,
  `  replay.assertComplete();`,
  `  if (typeof codec.send !== "function" || typeof transport.connect !== "function") throw new Error("not constructed");`,
  `  if (target.host !== "127.0.0.1" || target.port !== 2121) throw new Error("URL not parsed");`,
  `  if (!(new ErrorPerm("550 no") instanceof Error) || typeof main !== "function") throw new Error("errors");`,
  `  console.log("ran: FTP, ControlCodec, NodeTransport, ReplayTransport, parseFtpUrl");`,
  `}`,
  `main().catch((error) => { console.error(error); process.exit(1); });`,
];
const imports = {
  "@ftplib/protocol": ["ControlCodec", "ErrorPerm"],
  "@ftplib/transport": ["NodeTransport"],
  "@ftplib/client": ["FTP"],
  "@ftplib/testing": ["ReplayTransport"],
  "@ftplib/cli": ["parseFtpUrl"],
};
const esm = Object.entries(imports)
  .map(([from, names]) => `import { ${names.join(", ")} } from "${from}";`)
  .join("\n");
const cjs = Object.entries(imports)
  .map(([from, names]) => `const { ${names.join(", ")} } = require("${from}");`)
  .join("\n");
const program = (head) => `${head}\n\n${lines.join("\n")}\n`;
// Types too, so that the declarations are read and checked.
const typed = program(
  `${esm}\nimport type { Transport } from "@ftplib/protocol";\nimport type { FTPOptions } from "@ftplib/client";\n` +
    `const typedTransport: Transport = new NodeTransport();\nconst options: FTPOptions = { transport: typedTransport };\nvoid options;`,
);

const compilerOptions = (extra) => ({
  target: "ES2022",
  lib: ["ES2022"],
  strict: true,
  skipLibCheck: false,
  types: ["node"],
  typeRoots: [typeRoots],
  outDir: "out",
  ...extra,
});

const projects = [
  { name: "esm", type: "module", files: { "index.js": program(esm) }, runs: ["index.js"] },
  { name: "cjs", type: "commonjs", files: { "index.js": program(cjs) }, runs: ["index.js"] },
  {
    name: "ts-node16",
    type: "module",
    tsconfig: compilerOptions({ module: "node16", moduleResolution: "node16" }),
    files: { "index.mts": typed, "index.cts": typed },
    runs: ["out/index.mjs", "out/index.cjs"],
  },
  {
    name: "ts-bundler",
    type: "module",
    tsconfig: compilerOptions({ module: "esnext", moduleResolution: "bundler" }),
    files: { "index.ts": typed },
    runs: ["out/index.js"],
  },
  {
    name: "ts-node10",
    type: "commonjs",
    tsconfig: compilerOptions({
      module: "commonjs",
      moduleResolution: "node10",
      esModuleInterop: false,
      allowSyntheticDefaultImports: false,
    }),
    files: { "index.ts": typed },
    runs: ["out/index.js"],
  },
];

// The fully offline install when nothing comes from the registry; otherwise npm may fetch.
const npmNetwork = thirdParty.size === 0 ? "--offline" : "--prefer-offline";
if (thirdParty.size > 0) console.log(`registry dependencies: ${[...thirdParty].join(", ")}`);

for (const project of projects) {
  const dir = join(work, project.name);
  mkdirSync(dir);
  const dependencies = Object.fromEntries([...packed].map(([name, tarball]) => [name, `file:${tarball}`]));
  writeFileSync(
    join(dir, "package.json"),
    `${JSON.stringify({ name: `pack-test-${project.name}`, private: true, type: project.type, dependencies }, null, 2)}\n`,
  );
  for (const [file, text] of Object.entries(project.files)) writeFileSync(join(dir, file), text);
  if (project.tsconfig) {
    writeFileSync(
      join(dir, "tsconfig.json"),
      `${JSON.stringify({ compilerOptions: project.tsconfig, include: Object.keys(project.files) }, null, 2)}\n`,
    );
  }
  const installed = step(`${project.name}: npm install of the tarballs`, () =>
    run("npm", ["install", "--no-audit", "--no-fund", "--ignore-scripts", npmNetwork, "--loglevel=error"], dir),
  );
  if (installed === undefined) continue;
  if (project.tsconfig) {
    const compiled = step(`${project.name}: tsc (${project.tsconfig.moduleResolution}) type-checks and emits`, () =>
      run(process.execPath, [tsc, "-p", "tsconfig.json"], dir),
    );
    if (compiled === undefined) continue;
  }
  for (const file of project.runs) {
    step(`${project.name}: node ${file}`, () => {
      const out = run(process.execPath, [file], dir);
      if (!out.includes("ran: FTP")) throw new Error(`unexpected output: ${out}`);
    });
  }
  step(`${project.name}: ftplib --version through node_modules/.bin`, () => {
    const out = run(join(dir, "node_modules", ".bin", "ftplib"), ["--version"], dir).trim();
    const version = packages.find((p) => p.manifest.name === "@ftplib/cli").manifest.version;
    if (!out.includes(version)) throw new Error(`printed ${JSON.stringify(out)}, not ${version}`);
  });
}

if (failures === 0 && process.env.FTPLIB_PACK_TEST_KEEP !== "1") rmSync(work, { recursive: true, force: true });
else console.log(`projects kept in ${work}`);
console.log(`${passed} passed, ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
