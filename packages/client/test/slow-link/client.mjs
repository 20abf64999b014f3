// Runs inside a network namespace whose loopback is shaped by `tc` (see slow-link.test.ts): a
// round trip of uploads and downloads over a slow link, then a download while the link dies.
// Prints one JSON line of results.
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { FTP, FtpTimeoutError } from "../../dist/index.js";

const [port, dir, size, timeout] = process.argv.slice(2);
const sha = (b) => createHash("sha256").update(b).digest("hex");
const open = () =>
  FTP.open({
    host: "127.0.0.1",
    port: Number(port),
    user: "ftplib",
    password: "secret-pass",
    timeout: Number(timeout),
  });
const result = {};

const original = randomBytes(Number(size));
await writeFile(join(dir, "local.bin"), original);
const ftp = await open();
let started = Date.now();
await ftp.upload(join(dir, "local.bin"), "slow.bin");
result.uploadSeconds = (Date.now() - started) / 1000;
started = Date.now();
await ftp.download("slow.bin", join(dir, "back.bin"));
result.downloadSeconds = (Date.now() - started) / 1000;
result.identical = sha(await readFile(join(dir, "back.bin"))) === sha(original);

// The link dies in the middle of a download: a timeout, and no file under the final name.
started = Date.now();
let killed = false;
const error = await ftp
  .download("slow.bin", join(dir, "dead.bin"), {
    onProgress: ({ bytes }) => {
      if (!killed && bytes > 0) {
        killed = true;
        process.stdout.write(`${JSON.stringify({ kill: true })}\n`);
      }
    },
  })
  .then(
    () => undefined,
    (e) => e,
  );
result.deadLinkError = error === undefined ? null : `${error.name} ${error.code}`;
result.deadLinkTimeout = FtpTimeoutError.isInstance(error);
result.deadLinkSeconds = (Date.now() - started) / 1000;
result.deadLinkFile = existsSync(join(dir, "dead.bin"));
ftp.close();
process.stdout.write(`${JSON.stringify(result)}\n`);
