// Download a file to a local path with a progress report, a time limit, and an atomic write: the
// file appears under its name only once it is complete and its size matches the server's.
//
//   node examples/download-with-progress.mjs [ftp://user:password@host/path/to/file]
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FTP } from "@ftplib/client";
import { exampleServer } from "./lib/server.mjs";

const server = await exampleServer();
const dir = await mkdtemp(join(tmpdir(), "ftplib-example-"));
try {
  const ftp = await FTP.open({ host: server.host, port: server.port, user: server.user, password: server.password });
  try {
    const remote = server.path ?? "pub/image.bin";
    const local = join(dir, remote.split("/").pop());
    const bytes = await ftp.download(remote, local, {
      // Called at most every 100 ms, and once at the end.
      onProgress: ({ bytes, total, rate }) => {
        const percent = total ? `${Math.floor((100 * bytes) / total)}%` : "?%";
        console.log(`${percent.padStart(4)}  ${bytes} of ${total ?? "?"} bytes, ${(rate / 1e6).toFixed(1)} MB/s`);
      },
      // Give up after a minute: the transfer is aborted (ABOR) and the connection stays usable.
      signal: AbortSignal.timeout(60_000),
    });
    console.log(`Downloaded ${bytes} bytes to ${local} (${(await stat(local)).size} bytes on disk)`);
  } finally {
    await ftp.quit(); // QUIT; ftp.close() drops the connection without it
  }
} finally {
  await rm(dir, { recursive: true, force: true });
  await server.close();
}
