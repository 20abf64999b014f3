// The demo: the sample session of Python ftplib's documentation, in TypeScript's terms, against a
// real FTP server (ftp-srv from npm) embedded in this process on 127.0.0.1:
//
//   ftp = FTP.open(host)                   login as anonymous
//   ftp.cwd('debian')                      change into the "debian" directory
//   ftp.retrlines('LIST')                  list its contents
//   ftp.retrbinary('RETR README', ...)     download README to a local file
//   ftp.quit()
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FTP } from "@ftplib/client";
import { startEmbeddedServer } from "@ftplib/test-servers";

const work = await mkdtemp(join(tmpdir(), "ftplib-demo-"));
const root = join(work, "server");
await mkdir(join(root, "debian", "pool"), { recursive: true });
await mkdir(join(root, "debian", "dists"), { recursive: true });
const readme = "See https://www.debian.org/ for information about Debian GNU/Linux.\n".repeat(40);
await writeFile(join(root, "debian", "README"), readme);
await writeFile(join(root, "debian", "ls-lR.gz"), Buffer.alloc(128 * 1024, 7));

const server = await startEmbeddedServer("127.0.0.1", { root });
const show = (what, value) => console.log(`${what.padEnd(34)} ${value}`);
try {
  console.log(`An FTP server (ftp-srv) is listening on ${server.host}:${server.port}.\n`);
  // Commands and replies are printed as ftplib's set_debuglevel(1) prints them.
  const ftp = await FTP.open({ host: server.host, port: server.port, debugLevel: 1, debugOutput: (line) => console.log(`    ${line}`) });
  show("await FTP.open({ host, port })", "connected and logged in as anonymous");
  ftp.setDebugLevel(0);
  show("ftp.getWelcome()", JSON.stringify(ftp.getWelcome()));
  show("await ftp.cwd('debian')", JSON.stringify(await ftp.cwd("debian")));
  console.log(`${"await ftp.retrLines('LIST')".padEnd(34)} ${JSON.stringify(await ftp.retrLines("LIST", (line) => console.log(`    ${line}`)))}`);
  const target = join(work, "README");
  const file = createWriteStream(target);
  const resp = await ftp.retrBinary("RETR README", (block) => new Promise((resolve, reject) => file.write(block, (e) => (e ? reject(e) : resolve()))));
  await new Promise((resolve) => file.end(resolve));
  show("await ftp.retrBinary('RETR README')", JSON.stringify(resp));
  const local = await readFile(target);
  const same = createHash("sha256").update(local).digest("hex") === createHash("sha256").update(readme).digest("hex");
  show("  saved to", `${target} (${local.length} bytes, ${same ? "identical to the server's" : "DIFFERENT from the server's"})`);
  show("await ftp.quit()", JSON.stringify(await ftp.quit()));
  if (!same) process.exitCode = 1;
} finally {
  await server.close();
  await rm(work, { recursive: true, force: true });
}
