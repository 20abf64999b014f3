// Where the examples connect: the server of the URL given on the command line
// (ftp://user:password@host:port/, ftps:// for implicit TLS, ftpes:// for explicit TLS), or, with
// none, an FTP server (ftp-srv from npm) started in this process with a few files in it.
import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { FTP_PORT, FTPS_IMPLICIT_PORT } from "@ftplib/client";
import { startEmbeddedServer, testTls } from "@ftplib/test-servers";

/**
 * @param {{ tls?: boolean }} [options] tls: the embedded server speaks TLS (explicit, AUTH TLS)
 * @returns {Promise<{ host: string, port: number, user: string, password: string, tls: "none" | "explicit" | "implicit", ca?: string, path?: string, close(): Promise<void> }>}
 *   path: the URL's path (relative to the login directory), when it has one
 */
export async function exampleServer(options = {}) {
  const given = process.argv[2];
  if (given !== undefined) {
    const url = new URL(given);
    const tls = url.protocol === "ftps:" ? "implicit" : url.protocol === "ftpes:" ? "explicit" : "none";
    return {
      host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
      port: url.port === "" ? (tls === "implicit" ? FTPS_IMPLICIT_PORT : FTP_PORT) : Number(url.port),
      user: decodeURIComponent(url.username) || "anonymous",
      password: decodeURIComponent(url.password),
      tls,
      // A private certificate authority: FTPLIB_CA=/path/to/ca.pem
      ca: process.env.FTPLIB_CA === undefined ? undefined : readFileSync(process.env.FTPLIB_CA, "utf8"),
      path: url.pathname.length > 1 ? decodeURIComponent(url.pathname.slice(1)) : undefined,
      close: () => Promise.resolve(),
    };
  }
  const server = await startEmbeddedServer(
    "127.0.0.1",
    options.tls ? { tls: { key: testTls.key, cert: testTls.cert } } : {},
  );
  await mkdir(`${server.root}/pub/docs`, { recursive: true });
  await writeFile(`${server.root}/pub/README`, "Welcome to the example server.\n");
  await writeFile(`${server.root}/pub/docs/guide.txt`, "A short guide.\n".repeat(100));
  await writeFile(`${server.root}/pub/image.bin`, Buffer.alloc(8 * 1024 * 1024, 0x5a));
  return {
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    tls: options.tls ? "explicit" : "none",
    ca: options.tls ? testTls.ca : undefined,
    close: () => server.close(),
  };
}
