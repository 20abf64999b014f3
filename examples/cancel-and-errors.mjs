// Errors you can act on: each reply error carries its code; allErrors / isFtpError cover every
// error of the connection; an AbortSignal stops a transfer (ABOR) without closing the connection.
//
//   node examples/cancel-and-errors.mjs [ftp://user:password@host/path/to/big/file]
import { Writable } from "node:stream";
import { ErrorPerm, FTP, isFtpError } from "@ftplib/client";
import { exampleServer } from "./lib/server.mjs";

const server = await exampleServer();
try {
  const ftp = await FTP.open({ host: server.host, port: server.port, user: server.user, password: server.password });
  try {
    try {
      await ftp.size("no/such/file");
    } catch (error) {
      // ftplib's error_perm: a 5xx reply.
      console.log(
        `size of a missing file: ${ErrorPerm.isInstance(error) ? "ErrorPerm" : "?"} ${error.replyCode} (${error.code})`,
      );
    }

    // Cancel a download after its first 64 KiB: ABOR is sent, the replies drained.
    const controller = new AbortController();
    let received = 0;
    const sink = new Writable({
      write(chunk, _encoding, done) {
        received += chunk.length;
        if (received >= 64 * 1024) controller.abort();
        done();
      },
    });
    try {
      await ftp.download(server.path ?? "pub/image.bin", sink, { signal: controller.signal });
    } catch (error) {
      console.log(
        `download cancelled (${error.name}) after ${received >= 64 * 1024 ? "64 KiB or more" : `${received} bytes`}`,
      );
    }

    // A connection error (refused here) is an FtpError too: isFtpError / allErrors cover them all.
    const refused = await FTP.open({ host: "127.0.0.1", port: 1, timeout: 2000 }).catch((error) => error);
    console.log(`connecting to a closed port: ${refused.name}, isFtpError: ${isFtpError(refused)}`);
  } finally {
    await ftp.quit(); // QUIT; ftp.close() drops the connection without it
  }
} finally {
  await server.close();
}
