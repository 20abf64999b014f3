/**
 * The client suite against the Debian servers started by `servers/servers.sh` (vsftpd, pure-ftpd,
 * proftpd, pyftpdlib), on every plain endpoint, passive and active. Runs when
 * FTPLIB_REAL_SERVERS=1 (`pnpm test:real`); it fails, rather than skips, when the servers are
 * missing then.
 */
import { realServers } from "@ftplib/test-servers";
import { describe, expect, it } from "vitest";
import { type SuiteTarget, defineClientSuite } from "./client-suite.js";

const wanted = process.env.FTPLIB_REAL_SERVERS === "1";
const only = process.env.FTPLIB_SERVERS?.split(",").filter(Boolean);

/** What each server does its own way (learned against them; see the closing notes). */
const QUIRKS: Record<string, SuiteTarget["quirks"]> = {
  proftpd: { sizeNeedsBinary: true },
  pyftpdlib: { sizeNeedsBinary: true },
};

describe.runIf(wanted)("Debian servers", () => {
  const servers = realServers().filter((s) => only === undefined || only.includes(s.name));

  it("are running (bash servers/servers.sh install && bash servers/servers.sh start)", () => {
    expect(servers.length).toBeGreaterThan(0);
  });

  for (const server of servers) {
    for (const endpoint of server.endpoints.filter((e) => e.tls !== "implicit")) {
      for (const passive of [true, false]) {
        defineClientSuite({
          server: `${server.name}:${endpoint.port}`,
          family: endpoint.family === 6 ? "IPv6" : "IPv4",
          host: endpoint.host,
          port: endpoint.port,
          user: server.user,
          password: server.password,
          root: server.root,
          passive,
          quirks: QUIRKS[server.name],
        });
      }
    }
  }
});
