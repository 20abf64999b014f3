/**
 * vsftpd sends a download's 226 only once the client has closed its side of the data connection:
 * the client closes it as soon as it connects (a round trip saved a file), and on no other server,
 * some of which (pyftpdlib, Twisted, ftp-srv, nodeftpd) take that close for an abort. Checked on
 * the real servers by watching the data connections under the client. Runs with
 * FTPLIB_REAL_SERVERS=1 (`pnpm test:real`) where the servers of servers/servers.sh run.
 */
import { randomBytes } from "node:crypto";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type RealServer, realServers } from "@ftplib/test-servers";
import type { Transport } from "@ftplib/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FTP } from "../src/index.js";
import { overriding, wrappingDataConnections } from "./data-connections.js";

const wanted = process.env.FTPLIB_REAL_SERVERS === "1";
const NAMES = ["vsftpd", "pure-ftpd", "proftpd", "pyftpdlib"];
const servers = realServers().filter((s) => NAMES.includes(s.name));

/** What happened on each data connection, in order: "end" (this side closed), "data", "eof". */
function watchingTransport(): { transport: Transport; connections: string[][] } {
  const connections: string[][] = [];
  const transport = wrappingDataConnections((conn) => {
    const events: string[] = [];
    connections.push(events);
    return overriding(conn, {
      read: async () => {
        const chunk = await conn.read();
        const event = chunk === null ? "eof" : "data";
        if (events.at(-1) !== event) events.push(event);
        return chunk;
      },
      end: () => {
        events.push("end");
        return conn.end();
      },
    });
  });
  return { transport, connections };
}

describe.runIf(wanted && servers.length > 0)("a download's data connection, closed on this side", () => {
  const data = randomBytes(300_000);
  const name = `half-close-${process.pid}.bin`;
  // Collected even when skipped (no servers): nothing here may read the servers yet.
  beforeAll(async () => {
    for (const server of servers) await writeFile(join(server.root, name), data);
  });
  afterAll(async () => {
    for (const server of servers) await rm(join(server.root, name), { force: true });
  });

  const each = (server: RealServer) => {
    const endpoint = server.endpoints.find((e) => e.family === 4 && e.tls !== "implicit")!;
    return { host: endpoint.host, port: endpoint.port, user: server.user, password: server.password };
  };

  it.each(NAMES.filter((n) => servers.some((s) => s.name === n)))("%s", async (serverName) => {
    const server = servers.find((s) => s.name === serverName)!;
    const { transport, connections } = watchingTransport();
    const { host, port, user, password } = each(server);
    const ftp = new FTP({ transport, timeout: 10_000 });
    await ftp.connect(host, port);
    await ftp.login(user, password);
    try {
      for (let i = 0; i < 3; i++) {
        const blocks: Buffer[] = [];
        await ftp.retrBinary(`RETR ${name}`, (block) => void blocks.push(Buffer.from(block)));
        expect(Buffer.concat(blocks).equals(data)).toBe(true);
      }
      await ftp.nlst();
    } finally {
      await ftp.quit();
    }
    expect(connections).toHaveLength(4);
    for (const events of connections) {
      if (server.name === "vsftpd") expect(events[0]).toBe("end");
      else expect(events).not.toContain("end");
      expect(events.filter((e) => e === "data")).toHaveLength(1);
      expect(events.at(-1)).toBe("eof");
    }
  });
});
