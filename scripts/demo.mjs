// The demo: the `ftplib` command against a real FTP server (ftp-srv from npm) started inside this
// process on 127.0.0.1. A listing, a download with a progress bar, an upload, and the listing
// again as JSON, each checked against the server's files.
//
// The commands run on the terminal this script was given, so the progress bar shows as it would
// for you; when that is not a terminal (CI, a pipe), --progress asks for the bar anyway.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startEmbeddedServer } from "@ftplib/test-servers";

const bin = fileURLToPath(new URL("../packages/cli/dist/bin.js", import.meta.url));
const sha256 = (data) => createHash("sha256").update(data).digest("hex");

const work = await mkdtemp(join(tmpdir(), "ftplib-demo-"));
const root = join(work, "server");
const here = join(work, "here");
await mkdir(join(root, "debian", "dists"), { recursive: true });
await mkdir(join(root, "incoming"), { recursive: true });
await mkdir(here);
const readme = "See https://www.debian.org/ for information about Debian GNU/Linux.\n".repeat(40);
await writeFile(join(root, "debian", "README"), readme);
const image = Buffer.alloc(96 * 1024 * 1024);
for (let i = 0; i < image.length; i += 4096) image.writeUInt32LE(i, i);
await writeFile(join(root, "debian", "debian-netinst.iso"), image);
const notes = "Uploaded by the ftplib demo.\n";
await writeFile(join(here, "notes.txt"), notes);

const server = await startEmbeddedServer("127.0.0.1", { root });
const url = `ftp://${server.user}:${server.password}@${server.host}:${server.port}`;
const progress = process.stderr.isTTY ? [] : ["--progress"];

/** Runs `ftplib ...args` on this terminal, showing the command first. */
function ftplib(...args) {
  console.log(`\n$ ftplib ${args.join(" ")}`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: here, stdio: ["ignore", "pipe", "inherit"] });
    const out = [];
    child.stdout.on("data", (chunk) => {
      out.push(chunk);
      process.stdout.write(chunk);
    });
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(Buffer.concat(out).toString()) : reject(new Error(`ftplib ${args[0]} exited with ${code}`)),
    );
  });
}

const failures = [];
const check = (ok, what) => {
  console.log(`  ${ok ? "ok" : "FAILED"}: ${what}`);
  if (!ok) failures.push(what);
};

try {
  console.log(
    `An FTP server (ftp-srv) is listening on ${server.host}:${server.port}; user ${server.user}, password ${server.password}.`,
  );

  const listing = await ftplib("ls", "-l", `${url}/debian`);
  check(listing.includes("debian-netinst.iso") && listing.includes("README"), "the listing shows the server's files");

  await ftplib("get", ...progress, `${url}/debian/debian-netinst.iso`);
  check(
    sha256(await readFile(join(here, "debian-netinst.iso"))) === sha256(image),
    "the download is identical to the server's file (sha256)",
  );

  await ftplib("put", "notes.txt", `${url}/incoming/`);
  check(
    (await readFile(join(root, "incoming", "notes.txt"), "utf8")) === notes,
    "the upload arrived whole on the server",
  );

  const json = JSON.parse(await ftplib("ls", "--json", `${url}/incoming`));
  check(
    json.length === 1 && json[0].name === "notes.txt" && json[0].size === notes.length,
    "--json lists it with its size",
  );

  console.log(`\nMore: ftplib --help, or see packages/cli/README.md.`);
} finally {
  await server.close();
  await rm(work, { recursive: true, force: true });
}
if (failures.length > 0) {
  console.error(`\nThe demo FAILED: ${failures.join("; ")}`);
  process.exitCode = 1;
}
