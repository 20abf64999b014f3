/**
 * The client suite against the Debian servers started by `servers/servers.sh` (vsftpd, pure-ftpd,
 * proftpd, pyftpdlib): every endpoint, passive and active; plain FTP, explicit TLS (TLS 1.3 and
 * 1.2) and implicit TLS, data protected with PROT P. vsftpd and proftpd require data connections
 * to resume the control connection's TLS session. Runs when FTPLIB_REAL_SERVERS=1
 * (`pnpm test:real`), and fails, rather than skips, when the servers are missing then.
 */
import { readFileSync } from "node:fs";
import type { ByteStream, ControlStream, Transport } from "@ftplib/protocol";
import { type RealServer, realServers } from "@ftplib/test-servers";
import { nodeTransport } from "@ftplib/transport";
import { describe, expect, it } from "vitest";
import { ErrorPerm, FTP_TLS, FtpPool, FtpTlsError, testTlsFor } from "./real-server-helpers.js";
import { type SuiteTarget, defineClientSuite } from "./client-suite.js";

const wanted = process.env.FTPLIB_REAL_SERVERS === "1";
const only = process.env.FTPLIB_SERVERS?.split(",").filter(Boolean);

/** What a server does its own way, where the suite must know (see servers/README.md). */
const QUIRKS: Record<string, SuiteTarget["quirks"]> = {};

/** Servers that implement CCC (vsftpd and pyftpdlib answer 500). */
const CCC = new Set(["pure-ftpd", "proftpd"]);

function targets(server: RealServer) {
  return server.endpoints.map((endpoint) => ({
    server,
    endpoint,
    family: endpoint.family === 6 ? ("IPv6" as const) : ("IPv4" as const),
  }));
}

/**
 * The node transport, watched: whether each data connection was asked for with TLS, and the
 * streams it made (whose `secure` says whether TLS was on them).
 */
function watchedTransport(): { transport: Transport; asked: boolean[]; streams: ByteStream[] } {
  const asked: boolean[] = [];
  const streams: ByteStream[] = [];
  const transport: Transport = {
    async connect(request) {
      const control = (await nodeTransport.connect(request as never)) as ControlStream;
      return new Proxy(control, {
        get(target, name) {
          if (name === "connectData") {
            return async (r: Parameters<ControlStream["connectData"]>[0]) => {
              asked.push(r.secure);
              const stream = await target.connectData(r);
              streams.push(stream);
              return stream;
            };
          }
          if (name === "listenData") {
            return async (r: Parameters<ControlStream["listenData"]>[0]) => {
              asked.push(r.secure);
              const listener = await target.listenData(r);
              return {
                address: listener.address,
                close: () => listener.close(),
                accept: async () => {
                  const stream = await listener.accept();
                  streams.push(stream);
                  return stream;
                },
              };
            };
          }
          const value: unknown = Reflect.get(target, name, target);
          return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
    },
  };
  return { transport, asked, streams };
}

describe.runIf(wanted)("Debian servers", () => {
  const servers = realServers().filter((s) => only === undefined || only.includes(s.name));

  it("are running (bash servers/servers.sh install && bash servers/servers.sh start)", () => {
    expect(servers.length).toBeGreaterThan(0);
  });

  for (const server of servers) {
    const ca = server.ca === undefined ? undefined : readFileSync(server.ca, "utf8");
    for (const { endpoint, family } of targets(server)) {
      const base = {
        family,
        host: endpoint.host,
        port: endpoint.port,
        user: server.user,
        password: server.password,
        root: server.root,
        quirks: QUIRKS[server.name],
      };
      const versions = endpoint.tls === "implicit" ? (["TLSv1.3"] as const) : (["TLSv1.3", "TLSv1.2"] as const);
      for (const passive of [true, false]) {
        if (endpoint.tls !== "implicit") {
          defineClientSuite({ ...base, server: `${server.name}:${endpoint.port} plain`, passive });
        }
        if (endpoint.tls === "none") continue;
        for (const maxVersion of versions) {
          defineClientSuite({
            ...base,
            server: `${server.name}:${endpoint.port} ${endpoint.tls} ${maxVersion} PROT P`,
            passive,
            open: async (o) => {
              const ftp = await FTP_TLS.open({ ...o, implicit: endpoint.tls === "implicit", tls: { ca, maxVersion } });
              // Implicit FTPS protects data at login; explicit needs PROT P, as in ftplib.
              expect(ftp.dataProtected).toBe(endpoint.tls === "implicit");
              if (!ftp.dataProtected) await ftp.protP();
              return ftp;
            },
          });
        }
      }
    }
  }

  describe("data protection without protP()", () => {
    for (const server of servers) {
      const ca = server.ca === undefined ? undefined : readFileSync(server.ca, "utf8");
      const tlsEndpoints = server.endpoints.filter((e) => e.tls !== "none");
      for (const endpoint of tlsEndpoints) {
        const implicit = endpoint.tls === "implicit";
        for (const passive of [true, false]) {
          const where = `${server.name} ${endpoint.tls} IPv${endpoint.family} ${passive ? "passive" : "active"}`;
          it(`${where}: ${implicit ? "implicit FTPS protects data from the login on" : "explicit FTPS leaves data in the clear until protP()"}`, async () => {
            const { transport, asked, streams } = watchedTransport();
            const commands: string[] = [];
            const ftp = await FTP_TLS.open({
              host: endpoint.host,
              port: endpoint.port,
              user: server.user,
              password: server.password,
              implicit,
              passive,
              transport,
              timeout: 10_000,
              tls: { ca },
              debugLevel: 1,
              debugOutput: (line) => commands.push(line),
            });
            try {
              expect(ftp.secure).toBe(true);
              expect(ftp.dataProtected).toBe(implicit);
              const sent = commands.filter((line) => line.startsWith("*cmd*"));
              if (implicit) expect(sent.slice(-2)).toEqual(['*cmd* "PBSZ 0"', '*cmd* "PROT P"']);
              else expect(sent.some((line) => line.includes("PROT"))).toBe(false);
              const name = `prot-${endpoint.tls}-${endpoint.family}-${passive ? "pasv" : "port"}.txt`;
              await ftp.storBinary(`STOR ${name}`, "over the data connection\n");
              const lines: string[] = [];
              await ftp.retrLines(`RETR ${name}`, (line) => lines.push(line));
              expect(lines).toEqual(["over the data connection"]);
              await ftp.delete(name);
              expect(asked).toEqual([implicit, implicit]);
              expect(streams.map((stream) => stream.secure)).toEqual([implicit, implicit]);
            } finally {
              await ftp.quit();
            }
          });
        }
      }
    }
  });

  describe("TLS specifics", () => {
    for (const server of servers) {
      const ca = server.ca === undefined ? undefined : readFileSync(server.ca, "utf8");
      const explicit = server.endpoints.find((e) => e.tls === "explicit" && e.family === 4);
      if (explicit === undefined) continue;
      const open = (tls: object = { ca }) =>
        FTP_TLS.open({
          host: explicit.host,
          port: explicit.port,
          user: server.user,
          password: server.password,
          timeout: 5000,
          tls,
        });

      it(`${server.name}: PROT C after PROT P transfers in the clear again`, async () => {
        const ftp = await open();
        await ftp.protP();
        await ftp.storBinary("STOR prot-c.txt", "protected\n");
        expect(await ftp.protC()).toMatch(/^200/);
        const lines: string[] = [];
        await ftp.retrLines("RETR prot-c.txt", (line) => lines.push(line));
        expect(lines).toEqual(["protected"]);
        await ftp.delete("prot-c.txt");
        await ftp.quit();
      });

      it(`${server.name}: ${CCC.has(server.name) ? "clears the control connection with CCC" : "refuses CCC and stays secure"}`, async () => {
        const ftp = await open();
        await ftp.protP();
        if (CCC.has(server.name)) {
          expect(await ftp.ccc()).toMatch(/^200/);
          expect(ftp.secure).toBe(false);
          await ftp.storBinary("STOR ccc.txt", "after CCC\n");
          const lines: string[] = [];
          await ftp.retrLines("RETR ccc.txt", (line) => lines.push(line));
          expect(lines).toEqual(["after CCC"]);
          await ftp.delete("ccc.txt");
        } else {
          await expect(ftp.ccc()).rejects.toBeInstanceOf(ErrorPerm);
          expect(ftp.secure).toBe(true);
          expect(await ftp.pwd()).toBe("/");
        }
        await ftp.quit();
      });

      for (const maxVersion of ["TLSv1.3", "TLSv1.2"] as const) {
        // pure-ftpd never resumes TLS 1.3 sessions.
        const resumes = !(server.name === "pure-ftpd" && maxVersion === "TLSv1.3");
        it(`${server.name}: ${resumes ? "resumes" : "does not resume"} a ${maxVersion} session on a second control connection`, async () => {
          const first = await open({ ca, maxVersion });
          await first.pwd();
          const second = await open({ ca, maxVersion, session: first.tlsSession as Buffer });
          expect(second.tlsResumed).toBe(resumes);
          expect(await second.pwd()).toBe("/");
          first.close();
          second.close();
        });
      }

      it(`${server.name}: a TLS pool's connections share one session`, async () => {
        const pool = FtpPool.open({
          host: explicit.host,
          port: explicit.port,
          user: server.user,
          password: server.password,
          timeout: 5000,
          secure: true,
          tls: { ca, maxVersion: "TLSv1.2" },
          size: 3,
        });
        const resumed = await Promise.all(
          [0, 1, 2].map(() =>
            pool.run(async (ftp) => {
              await new Promise((r) => setTimeout(r, 50));
              return (ftp as FTP_TLS).tlsResumed;
            }),
          ),
        );
        expect(resumed.filter(Boolean).length).toBeGreaterThanOrEqual(1);
        await pool.close();
      });

      it(`${server.name}: refuses the server's certificate when its CA is not trusted`, async () => {
        const error = await open({ ca: testTlsFor.otherCa }).catch((e: unknown) => e);
        expect(FtpTlsError.isInstance(error), String(error)).toBe(true);
      });
    }
  });
});
