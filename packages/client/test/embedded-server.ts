/**
 * The embedded test server: ftp-srv from npm, in-process, on a loopback address, serving a fresh
 * temporary directory. A real server that nobody on this project wrote.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";
import bunyan from "bunyan";
import { FtpSrv } from "ftp-srv";

export interface EmbeddedServer {
  readonly host: string;
  readonly port: number;
  readonly root: string;
  readonly user: string;
  readonly password: string;
  close(): Promise<void>;
}

/** A free TCP port on `host`. */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

export async function startEmbeddedServer(host = "127.0.0.1", options: { tls?: { key: string; cert: string } } = {}): Promise<EmbeddedServer> {
  const root = await mkdtemp(join(tmpdir(), "ftplib-test-"));
  const port = await freePort(host);
  const pasvMin = await freePort(host);
  const user = "ftplib";
  const password = "secret-pass";
  const url = `ftp://${host.includes(":") ? `[${host}]` : host}:${port}`;
  const server = new FtpSrv({
    url,
    pasv_url: host,
    pasv_min: pasvMin,
    pasv_max: pasvMin + 50,
    anonymous: true,
    greeting: ["Welcome to the embedded test server"],
    log: bunyan.createLogger({ name: "ftp-srv", level: "fatal" }),
    tls: options.tls ?? false,
    timeout: 0,
  });
  server.on("login", ({ username, password: given }: { username: string; password: string }, resolve: (r: { root: string }) => void, reject: (e: Error) => void) => {
    if ((username === user && given === password) || username === "anonymous") resolve({ root });
    else reject(new Error("bad credentials"));
  });
  // Client errors on data sockets are the tests' business, not the server's.
  server.on("client-error", () => undefined);
  await server.listen();
  return {
    host,
    port,
    root,
    user,
    password,
    async close() {
      await server.close().catch(() => undefined);
      await rm(root, { recursive: true, force: true });
    },
  };
}
