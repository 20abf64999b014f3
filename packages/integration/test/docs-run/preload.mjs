// Loaded with `node --import` into every process a documentation snippet runs in (the snippet, and
// the `ftplib` command of shell snippets): the example host names of the documentation reach the
// embedded servers of docs-snippets.test.ts. A TCP connection to an example host goes to the
// implicit-TLS server when it asks for port 990 and to the plain (AUTH TLS capable) one otherwise,
// and a certificate checked against an example host is checked against `localhost`, the name the
// test certificate carries. Nothing else changes: a snippet connects, logs in and verifies TLS as
// written.
import { syncBuiltinESMExports } from "node:module";
import net from "node:net";
import tls from "node:tls";

const setting = process.env.FTPLIB_DOCS_RUN;
if (setting === undefined) throw new Error("FTPLIB_DOCS_RUN is not set: this preload is for docs-snippets.test.ts");
/** @type {{ address: string, plain: number, implicit: number }} */
const target = JSON.parse(setting);

/** The host names the documentation uses for servers. */
export function isExampleHost(host) {
  return typeof host === "string" && /(^|\.)example\.com$|^files\.internal$|^ftp\.us\.debian\.org$/i.test(host);
}

/** `connect` options (or `(port, host)` arguments) redirected when they name an example host. */
function redirect(args) {
  const [first, second] = args;
  if (typeof first === "object" && first !== null && isExampleHost(first.host) && first.socket === undefined) {
    const port = Number(first.port) === 990 ? target.implicit : target.plain;
    return [{ ...first, host: target.address, port, servername: first.servername ?? first.host }, ...args.slice(1)];
  }
  if ((typeof first === "number" || typeof first === "string") && isExampleHost(second)) {
    const port = Number(first) === 990 ? target.implicit : target.plain;
    return [port, target.address, ...args.slice(2)];
  }
  return args;
}

for (const [module, names] of [
  [net, ["connect", "createConnection"]],
  [tls, ["connect"]],
]) {
  for (const name of names) {
    const original = module[name];
    module[name] = (...args) => original.apply(module, redirect(args));
  }
}

const checkServerIdentity = tls.checkServerIdentity;
tls.checkServerIdentity = (host, cert) => checkServerIdentity(isExampleHost(host) ? "localhost" : host, cert);
syncBuiltinESMExports();
