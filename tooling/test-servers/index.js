// Real FTP servers for tests and the demo. The embedded one is ftp-srv from npm, in-process, on a
// loopback address, serving a fresh temporary directory; the others (vsftpd, pure-ftpd, proftpd,
// pyftpdlib, and for the interop matrix aioftp, Twisted, inetutils, nodeftpd, netkit) are started
// by servers/servers.sh, which describes them in endpoints.json.
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import bunyan from "bunyan";
import { FtpSrv } from "ftp-srv";

const tlsDir = fileURLToPath(new URL("./tls/", import.meta.url));

/**
 * The test certificates: `ca` signs `cert`/`key` (localhost, 127.0.0.1, ::1) and `dnsOnly` (localhost
 * only, no addresses); `untrusted` is self-signed.
 */
export const testTls = {
  ca: readFileSync(join(tlsDir, "ca.pem"), "utf8"),
  cert: readFileSync(join(tlsDir, "server.pem"), "utf8"),
  key: readFileSync(join(tlsDir, "server.key"), "utf8"),
  untrusted: {
    cert: readFileSync(join(tlsDir, "untrusted.pem"), "utf8"),
    key: readFileSync(join(tlsDir, "untrusted.key"), "utf8"),
  },
  dnsOnly: {
    cert: readFileSync(join(tlsDir, "dns-only.pem"), "utf8"),
    key: readFileSync(join(tlsDir, "dns-only.key"), "utf8"),
  },
};

/** A free TCP port on `host`. */
export function freePort(host) {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, host, () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

export async function startEmbeddedServer(host = "127.0.0.1", options = {}) {
  const root = options.root ?? (await mkdtemp(join(tmpdir(), "ftplib-server-")));
  const port = await freePort(host);
  const pasvMin = await freePort(host);
  const user = "ftplib";
  const password = "secret-pass";
  const scheme = options.implicit ? "ftps" : "ftp";
  const server = new FtpSrv({
    url: `${scheme}://${host.includes(":") ? `[${host}]` : host}:${port}`,
    pasv_url: host,
    pasv_min: pasvMin,
    pasv_max: pasvMin + 50,
    anonymous: true,
    greeting: ["Welcome to the embedded test server"],
    log: bunyan.createLogger({ name: "ftp-srv", level: "fatal" }),
    tls: options.tls ?? false,
    timeout: 0,
  });
  server.on("login", ({ username, password: given }, resolve, reject) => {
    const accounts = options.users ?? { [user]: password };
    if (Object.hasOwn(accounts, username) ? accounts[username] === given : username === "anonymous") resolve({ root });
    else reject(new Error("bad credentials"));
  });
  // Errors on a client's sockets are the client's business, not the server's.
  server.on("client-error", () => undefined);
  await server.listen();
  return {
    name: "ftp-srv",
    host,
    port,
    root,
    user,
    password,
    async close() {
      await server.close().catch(() => undefined);
      if (options.root === undefined) await rm(root, { recursive: true, force: true });
    },
  };
}

const endpointsFile = fileURLToPath(new URL("../../.tmp/servers/endpoints.json", import.meta.url));

/**
 * The servers started by servers/servers.sh, or [] when none were started: by default the core
 * ones (vsftpd, pure-ftpd, proftpd, pyftpdlib), with `{ all: true }` also those only the interop
 * matrix uses (aioftp, Twisted, inetutils, nodeftpd, netkit: scope "interop").
 */
export function realServers(options = {}) {
  if (!existsSync(endpointsFile)) return [];
  const servers = JSON.parse(readFileSync(endpointsFile, "utf8")).servers;
  return options.all ? servers : servers.filter((s) => (s.scope ?? "core") === "core");
}

export { startDedicatedVsftpd } from "./dedicated-vsftpd.js";
