#!/usr/bin/env node
// nodeftpd (npm `ftpd` 0.2.16) launcher for servers/servers.sh.
//
//   node nodeftpd-server.js --listen 127.0.0.1:28021 --listen ::1:28021 --root DIR \
//     --user NAME --password PASS --passive FIRST-LAST
//
// One FtpServer per --listen address, all in this process, serving --root as "/" to one user
// (no anonymous). nodeftpd's own passive listener binds every interface; here it binds the
// control connection's local address (127.0.0.1 or ::1) instead, so that nothing listens off
// loopback. No TLS: nodeftpd's AUTH TLS uses tls.createSecurePair, which fails under Node 20.
import { realpathSync } from "node:fs";
import ftpd from "ftpd";
import FtpConnection from "ftpd/lib/FtpConnection.js";

const { FtpServer } = ftpd;

function parseArgs(argv) {
  const args = { listen: [] };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "");
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`missing value for ${argv[i]}`);
    if (key === "listen") args.listen.push(value);
    else args[key] = value;
  }
  for (const key of ["root", "user", "password", "passive"]) {
    if (args[key] === undefined) throw new Error(`--${key} is required`);
  }
  if (args.listen.length === 0) throw new Error("--listen is required");
  return args;
}

const LOOPBACK = new Set(["127.0.0.1", "::1"]);

function main() {
  const args = parseArgs(process.argv.slice(2));
  const [first, last] = args.passive.split("-").map(Number);
  const root = realpathSync(args.root);

  // Passive listeners on the control connection's local address only.
  const createPassiveServer = FtpConnection.prototype._createPassiveServer;
  FtpConnection.prototype._createPassiveServer = function () {
    const server = createPassiveServer.call(this);
    const address = this.socket.localAddress.replace(/^::ffff:/, "");
    const listen = server.listen;
    server.listen = (port) => listen.call(server, port, address);
    return server;
  };

  for (const spec of args.listen) {
    const at = spec.lastIndexOf(":");
    const host = spec.slice(0, at).replace(/^\[|\]$/g, "");
    const port = Number(spec.slice(at + 1));
    if (!LOOPBACK.has(host)) throw new Error(`refusing to listen on non-loopback address ${host}`);
    const server = new FtpServer(host, {
      getInitialCwd: () => "/",
      getRoot: () => root,
      pasvPortRangeStart: first,
      pasvPortRangeEnd: last,
      useWriteFile: false,
      useReadFile: false,
      logLevel: 0,
    });
    server.on("error", (error) => console.error(`[${host}]:${port} server error:`, error));
    server.on("client:connected", (connection) => {
      let username = null;
      connection.on("command:user", (user, success, failure) => {
        username = user;
        if (user === args.user) success();
        else failure();
      });
      connection.on("command:pass", (password, success, failure) => {
        if (username === args.user && password === args.password) success(username);
        else failure();
      });
    });
    server.listen(port, host, () => console.error(`nodeftpd listening on [${host}]:${port}`));
  }
}

main();
