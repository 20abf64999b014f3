/**
 * Every code block of the READMEs and the guides, and every example in the sources' doc comments
 * (the API reference's `@example`s), run as written, so that none can rot.
 *
 * - `ts` and `js` blocks run with node (TypeScript transpiled with the repository's compiler), and
 *   the `ts` ones type-check against the built packages (tsc, strict). `sh` blocks run with bash,
 *   `ftplib` being the built command.
 * - They run against embedded servers (ftp-srv, in this process) holding the files the snippets
 *   name: one plain and AUTH TLS capable, one implicit TLS. The documentation's example host names
 *   (`ftp.example.com`, `*.example.com`, `files.internal`, `ftp.us.debian.org`) reach them through
 *   docs-run/preload.mjs (port 990 the implicit one, any other port the plain one), with the accounts
 *   the snippets use (`me` / `secret`, `deploy` / `s3cret`, anonymous), and the test CA trusted
 *   (NODE_EXTRA_CA_CERTS, and as `ca.pem` and `corp-ca.pem` in the working directory).
 * - Each block gets fresh servers, a fresh server tree and a fresh working directory.
 * - A block that cannot run says why, in a `<!-- docs-run: skip: why -->` comment before it; a
 *   fragment that uses names from the prose (`ftp`, `host`, ...) says which, with
 *   `<!-- docs-run: given ftp -->`. A block in any other language without a skip fails here, and
 *   the totals are pinned below: no block is left out without a change to this file.
 */
import { spawn, spawnSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type EmbeddedServer, startEmbeddedServer, testTls } from "@ftplib/test-servers";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CodeBlock, codeBlocks } from "./docs-run/markdown.js";

const repo = fileURLToPath(new URL("../../../", import.meta.url));
const here = fileURLToPath(new URL(".", import.meta.url));
const preload = pathToFileURL(join(here, "docs-run", "preload.mjs")).href;
const cliBin = join(repo, "packages", "cli", "dist", "bin.js");

/** How many blocks run and how many are skipped (with their reason in the markdown). */
const EXPECTED = { run: 35, skipped: 24 };

/** The documents: the READMEs of the repository and of every package, and the guides. */
async function documents(): Promise<string[]> {
  const files = ["README.md"];
  for (const dir of ["packages", "examples"]) {
    files.push(...(await readdir(join(repo, dir))).map((name) => `${dir}/${name}/README.md`));
  }
  files.push("examples/README.md");
  files.push(...(await readdir(join(repo, "docs"))).filter((n) => n.endsWith(".md")).map((n) => `docs/${n}`));
  const present: string[] = [];
  for (const file of files) {
    if (
      await readFile(join(repo, file)).then(
        () => true,
        () => false,
      )
    )
      present.push(file);
  }
  return present.sort();
}

const LANGS: Record<string, "ts" | "js" | "sh"> = {
  ts: "ts",
  typescript: "ts",
  js: "js",
  javascript: "js",
  mjs: "js",
  sh: "sh",
  bash: "sh",
  shell: "sh",
};

/** Names a fragment may take from the prose around it, defined before its code. */
const GIVENS: Record<string, string> = {
  host: `const host = "ftp.example.com";`,
  user: `const user = "me";`,
  password: `const password = "secret";`,
  ca: `const ca = (await import("node:fs")).readFileSync("ca.pem", "utf8");`,
  signal: `const signal = new AbortController().signal;`,
  // Closed after the block (a program runs until its connections are closed).
  ftp: `const ftp = await (await import("@ftplib/client")).FTP.open({ host: "ftp.example.com", user: "me", password: "secret" });`,
  // A test's expect (vitest's needs its runner): the matchers the snippets use, on node:assert.
  expect: [
    `const assert = await import("node:assert/strict");`,
    `const expect = (actual: unknown) => ({`,
    `  toBe: (expected: unknown) => assert.equal(actual, expected),`,
    `  toEqual: (expected: unknown) => assert.deepEqual(actual, expected),`,
    `  rejects: { toThrow: (expected: new (...args: never[]) => Error) => assert.rejects(actual as Promise<unknown>, expected) },`,
    `});`,
  ].join("\n"),
};

/** What runs after a block that took these names. */
const AFTER: Record<string, string> = { ftp: "ftp.close();" };

/** The accounts of the servers. */
const USERS = { me: "secret", deploy: "s3cret" };

/** What the snippets find on the server. */
async function serverTree(root: string): Promise<void> {
  const files: Record<string, string | Uint8Array> = {
    "pub/README": "Welcome.\n",
    "pub/report.csv": "day,files\n2026-11-30,12\n",
    "pub/big.iso": new Uint8Array(3 * 1024 * 1024).fill(7),
    "pub/docs/guide.txt": "A short guide.\n",
    "pub/data/2026-11.csv": "day,files\n2026-11-30,12\n",
    "pub/data/2026-12.csv": "day,files\n2026-12-01,9\n",
    "debian/README": "See https://www.debian.org/ for information about Debian GNU/Linux.\n",
    "reports/today.csv": "a,b\n1,2\n",
    "reports/2026-11.csv": "a,b\n3,4\n",
    "tmp/old.log": "old\n",
    // `date +%F`, as the shell snippet names it.
    [`nightly/${localDate(new Date())}.tar.gz`]: "the nightly build\n",
    "a.txt": "the file a\n",
    README: "A readme at the top of the tree.\n",
  };
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  for (const dir of ["incoming", "releases", "htdocs"]) await mkdir(join(root, dir), { recursive: true });
}

function localDate(d: Date): string {
  const two = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
}

/** What the snippets find in their working directory. */
async function localTree(cwd: string): Promise<void> {
  const files: Record<string, string> = {
    "notes.txt": "Some notes.\nA second line.\n",
    "README.md": "# A readme\n",
    "report.csv": "x,y\n1,2\n",
    "build.tar.gz": "not really a tarball\n",
    "site/index.html": "<h1>hello</h1>\n",
    "site/css/site.css": "h1 { color: teal }\n",
    "my/local/directory/one.txt": "one\n",
    "my/local/directory/sub/two.txt": "two\n",
    "ca.pem": testTls.ca,
    "corp-ca.pem": testTls.ca,
  };
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(cwd, path)), { recursive: true });
    await writeFile(join(cwd, path), content);
  }
  for (const dir of ["reports", "backups", "test/sessions"]) await mkdir(join(cwd, dir), { recursive: true });
}

/** The import lines of a block, which must stay at the top of the module, and the rest (by line index). */
function splitImports(code: string): { imports: number[]; body: number[] } {
  const imports: number[] = [];
  const body: number[] = [];
  let open: number[] | undefined;
  code.split("\n").forEach((line, i) => {
    if (open !== undefined) {
      open.push(i);
      if (/\bfrom\s+["'][^"']+["'];?\s*(\/\/.*)?$/.test(line)) {
        imports.push(...open);
        open = undefined;
      }
    } else if (/^import\s/.test(line)) {
      if (/\bfrom\s+["'][^"']+["']|^import\s+["']/.test(line)) imports.push(i);
      else open = [i];
    } else {
      body.push(i);
    }
  });
  if (open !== undefined) throw new Error("an import that never ends");
  return { imports, body };
}

interface Prepared {
  readonly block: CodeBlock;
  readonly kind: "ts" | "js" | "sh";
  /** The source file written for it. */
  readonly path: string;
  /** The markdown line of each line of that file (0 for a line this test added). */
  readonly lines: readonly number[];
}

/** The sources whose doc comments hold examples (`@example`, the API reference's). */
async function sources(): Promise<string[]> {
  const files: string[] = [];
  for (const pkg of await readdir(join(repo, "packages"))) {
    const src = join(repo, "packages", pkg, "src");
    const entries = await readdir(src, { recursive: true }).catch(() => [] as string[]);
    for (const entry of entries) {
      if (entry.endsWith(".ts") && !entry.endsWith(".test.ts")) files.push(`packages/${pkg}/src/${entry}`);
    }
  }
  return files.sort();
}

/**
 * The doc comments of a source file as markdown, line for line (code lines blank), so that
 * their code blocks are read as a README's are, at their own line numbers.
 */
function docComments(text: string): string {
  let inside = false;
  return text
    .split("\n")
    .map((line) => {
      const opens = !inside && /^\s*\/\*\*/.test(line);
      if (opens) inside = true;
      if (!inside) return "";
      if (/\*\/\s*$/.test(line)) inside = false;
      return opens ? "" : line.replace(/^\s*\*\/?\s?/, "");
    })
    .join("\n");
}

// Collected at load time: the blocks are the tests.
const blocks: CodeBlock[] = [];
for (const file of await documents()) {
  blocks.push(...codeBlocks(file, await readFile(join(repo, file), "utf8")));
}
for (const file of await sources()) {
  blocks.push(...codeBlocks(file, docComments(await readFile(join(repo, file), "utf8"))));
}
let code = "";
/** The servers, shared by the blocks (their tree made anew for each), and the tree. */
let plain: EmbeddedServer | undefined;
let implicit: EmbeddedServer | undefined;
let root = "";

describe("the documentation's code blocks", () => {
  const prepared: Prepared[] = [];

  beforeAll(async () => {
    code = await mkdtemp(join(tmpdir(), "ftplib-docs-run-"));
    // The packages resolve from here as from this package: the built ones, as a user's would.
    const modules = join(repo, "packages", "integration", "node_modules");
    await mkdir(join(code, "node_modules"));
    for (const name of await readdir(modules)) {
      if (!name.startsWith(".")) await symlink(join(modules, name), join(code, "node_modules", name), "dir");
    }

    await writeFile(join(code, "ca.pem"), testTls.ca);
    root = join(code, "server");
    await mkdir(root);
    const tls = { key: testTls.key, cert: testTls.cert };
    plain = await startEmbeddedServer("127.0.0.1", { root, tls, users: USERS });
    implicit = await startEmbeddedServer("127.0.0.1", { root, tls, implicit: true, users: USERS });
    const shims = join(code, "bin");
    await mkdir(shims);
    await writeFile(join(shims, "ftplib"), `#!/bin/sh\nexec "${process.execPath}" "${cliBin}" "$@"\n`);
    await chmod(join(shims, "ftplib"), 0o755);
    for (const block of blocks) {
      const kind = LANGS[block.lang];
      if (block.directive.skip !== undefined || kind === undefined) continue;
      const id = `${block.file.replace(/[^a-z0-9]+/gi, "-")}-${block.line}`;
      if (kind === "sh") {
        const path = join(code, `${id}.sh`);
        await writeFile(path, block.code + "\n");
        prepared.push({ block, kind, path, lines: [] });
        continue;
      }
      const names = block.directive.given;
      const unknown = names.filter((name) => GIVENS[name] === undefined);
      if (unknown.length > 0) throw new Error(`${block.file}:${block.line}: no given named ${unknown.join(", ")}`);
      const { imports, body } = splitImports(block.code);
      const codeLines = block.code.split("\n");
      const source = [
        ...imports.map((i) => codeLines[i]!),
        "export {};",
        ...names.map((name) => GIVENS[name]!),
        ...body.map((i) => codeLines[i]!),
        ...names.flatMap((name) => (AFTER[name] === undefined ? [] : [AFTER[name]])),
      ];
      const md = (i: number) => block.line + 1 + i;
      const given = (name: string) => GIVENS[name]!.split("\n").map(() => 0);
      const lines = [...imports.map(md), 0, ...names.flatMap(given), ...body.map(md)];
      const path = join(code, `${id}.${kind === "ts" ? "ts" : "mjs"}`);
      await writeFile(path, source.join("\n") + "\n");
      if (kind === "ts") {
        const js = ts.transpileModule(source.join("\n"), {
          compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
          fileName: path,
        }).outputText;
        await writeFile(join(code, `${id}.mjs`), js);
      }
      prepared.push({ block, kind, path, lines });
    }
    await writeFile(
      join(code, "tsconfig.json"),
      JSON.stringify({
        extends: "@ftplib/tsconfig/base.json",
        compilerOptions: { lib: ["ES2022", "ESNext.Disposable"], types: ["node"], noEmit: true },
        include: ["*.ts"],
      }),
    );
  });

  afterAll(async () => {
    await plain?.close();
    await implicit?.close();
    if (code !== "") await rm(code, { recursive: true, force: true });
  });

  it("are all run or skipped for a reason, in the numbers pinned here", () => {
    const unmarked = blocks.filter((b) => b.directive.skip === undefined && LANGS[b.lang] === undefined);
    expect(
      unmarked.map((b) => `${b.file}:${b.line} (${b.lang || "no language"})`),
      "blocks in a language that does not run need <!-- docs-run: skip: why -->",
    ).toEqual([]);
    const skipped = blocks.filter((b) => b.directive.skip !== undefined).length;
    expect({ run: blocks.length - skipped, skipped }).toEqual(EXPECTED);
  });

  it("type-check (TypeScript blocks, against the built packages)", async () => {
    const typed = prepared.filter((p) => p.kind === "ts");
    expect(typed.length).toBeGreaterThan(0);
    const tsc = join(repo, "node_modules", "typescript", "bin", "tsc");
    const { code: status, out } = await run(process.execPath, [tsc, "-p", "tsconfig.json", "--pretty", "false"], {
      cwd: code,
      timeout: 120_000,
    });
    // Each error, at its place in the markdown.
    const errors = out
      .split("\n")
      .filter((line) => /error TS\d+/.test(line))
      .map((line) => {
        const m = /^(.*?)\((\d+),(\d+)\): (.*)$/.exec(line);
        const p = m && typed.find((t) => t.path.endsWith(m[1]!.replace(/^.*\//, "")));
        if (!m || !p) return line;
        const md = p.lines[Number(m[2]) - 1] ?? 0;
        return `${p.block.file}:${md === 0 ? `${p.block.line} (its given names)` : md}: ${m[4]}`;
      });
    expect(errors).toEqual([]);
    expect(status, out).toBe(0);
  }, 180_000);

  describe("run", () => {
    for (const block of blocks) {
      const name = `${block.file}:${block.line} (${block.lang || "no language"})`;
      if (block.directive.skip !== undefined) {
        it.skip(`${name}: ${block.directive.skip}`, () => undefined);
        continue;
      }
      if (LANGS[block.lang] === undefined) continue;
      const missing = block.directive.needs.filter((program) => !installed(program));
      if (missing.length > 0) {
        it.skip(`${name}: needs ${missing.join(", ")}, not installed here`, () => undefined);
        continue;
      }
      it(
        name,
        async () => {
          const p = prepared.find((x) => x.block === block)!;
          const work = await mkdtemp(join(tmpdir(), "ftplib-docs-block-"));
          const cwd = join(work, "here");
          const home = join(work, "home");
          // The servers' tree, afresh.
          await rm(root, { recursive: true, force: true });
          await Promise.all([serverTree(root), localTree(cwd), mkdir(home)]);
          try {
            const netrc = ["ftp.example.com me secret", "files.example.com me secret", "web.example.com deploy s3cret"]
              .concat(["files.internal deploy s3cret"])
              .map((entry) => entry.split(" "))
              .map(([host, login, password]) => `machine ${host} login ${login} password ${password}`);
            await writeFile(join(home, ".netrc"), netrc.join("\n") + "\n", { mode: 0o600 });
            const env = {
              ...process.env,
              HOME: home,
              PATH: `${join(code, "bin")}:${process.env.PATH ?? ""}`,
              NODE_OPTIONS: `--import=${preload}`,
              NODE_EXTRA_CA_CERTS: join(code, "ca.pem"),
              FTPLIB_DOCS_RUN: JSON.stringify({ address: "127.0.0.1", plain: plain!.port, implicit: implicit!.port }),
            };
            const result =
              p.kind === "sh"
                ? await run("bash", ["-e", "-o", "pipefail", p.path], { cwd, env, timeout: 60_000 })
                : await run(process.execPath, [p.path.replace(/\.ts$/, ".mjs")], { cwd, env, timeout: 60_000 });
            expect(result.code, `${name} failed:\n${result.out}`).toBe(0);
          } finally {
            await rm(work, { recursive: true, force: true });
          }
        },
        90_000,
      );
    }
  });
});

/** True when `program` is on the PATH. */
function installed(program: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${program}`], { stdio: "ignore" }).status === 0;
}

function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeout: number },
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr.on("data", (b: Buffer) => (out += b.toString()));
    const timer = setTimeout(() => {
      out += `\n(killed after ${options.timeout} ms)`;
      child.kill("SIGKILL");
    }, options.timeout);
    child.on("error", reject);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ code: status, out });
    });
  });
}
