// Upload a local file and an in-memory string, check their sizes, rename one, then clean up.
//
//   node examples/upload.mjs [ftp://user:password@host/writable/dir]
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { ErrorPerm, FTP } from "@ftplib/client";
import { exampleServer } from "./lib/server.mjs";

const server = await exampleServer();
const dir = await mkdtemp(join(tmpdir(), "ftplib-example-"));
try {
  const ftp = await FTP.open({ host: server.host, port: server.port, user: server.user, password: server.password });
  try {
    const target = `${server.path ?? "."}/ftplib-upload-example`;
    await ftp.ensureDir(target); // with its parents; fine if it exists

    const report = join(dir, "report.csv");
    await writeFile(report, "month,sales\njan,10\nfeb,12\n");
    const sent = await ftp.upload(report, `${target}/report.csv`, {
      onProgress: ({ bytes }) => console.log(`sent ${bytes} bytes`),
    });
    console.log(`report.csv: ${sent} bytes sent, the server has ${await ftp.size(`${target}/report.csv`)}`);

    // Any Readable (or Uint8Array, or async iterable of chunks) can be the source.
    await ftp.upload(Readable.from(["generated ", "on the fly\n"]), `${target}/notes.txt`);
    await ftp.rename(`${target}/notes.txt`, `${target}/notes-renamed.txt`);
    console.log(
      `In ${target}: ${(await ftp.list(target))
        .map((e) => e.name)
        .sort()
        .join(", ")}`,
    );

    // A missing file is an ErrorPerm (a 5xx reply), with the reply's code and text.
    try {
      await ftp.delete(`${target}/no-such-file`);
    } catch (error) {
      if (!ErrorPerm.isInstance(error)) throw error;
      console.log(`Deleting a missing file: ErrorPerm ${error.replyCode}`);
    }
    await ftp.removeDir(target);
    console.log(`Removed ${target}`);
  } finally {
    await ftp.quit(); // QUIT; ftp.close() drops the connection without it
  }
} finally {
  await rm(dir, { recursive: true, force: true });
  await server.close();
}
