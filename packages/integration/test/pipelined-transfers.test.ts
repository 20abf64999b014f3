/**
 * `pipelineTransfers`: a passive transfer's command sent while its data connection connects, once
 * one of the session's data connections has worked. On the real servers every transfer must come
 * out byte for byte with the command counts unchanged; against a server whose later passive port
 * cannot be reached, the session must end at once with ERR_FTP_DATA_AFTER_COMMAND rather than
 * wait for a server that reads no ABOR until its accept timeout.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FTP, FtpConnectionError } from "@ftplib/client";
import { closedPort, epsvReply, startHostileServer } from "@ftplib/testing";
import { realServers } from "@ftplib/test-servers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "ftplib-pipelined-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe.runIf(process.env.FTPLIB_REAL_SERVERS === "1")("pipelineTransfers on real servers", () => {
  const servers = realServers().filter((s) => ["vsftpd", "pure-ftpd", "proftpd", "pyftpdlib"].includes(s.name));
  it.each(servers.map((s) => [s.name, s] as const))(
    "%s: downloads, uploads and lists byte for byte",
    async (_, server) => {
      const endpoint = server.endpoints.find((e) => e.family === 4 && e.tls !== "implicit")!;
      const ftp = await FTP.open({
        host: endpoint.host,
        port: endpoint.port,
        user: server.user,
        password: server.password,
        pipelineTransfers: true,
        timeout: 10_000,
      });
      try {
        const name = `pipelined-${process.pid}.bin`;
        const bytes = randomBytes(300_000);
        // The first transfer connects before its command; the ones after it are pipelined.
        await ftp.storBinary(`STOR ${name}`, bytes);
        for (let i = 0; i < 3; i++) {
          const local = join(dir, `${server.name}-${i}`);
          expect(await ftp.download(name, local)).toBe(bytes.length);
          expect(Buffer.compare(await readFile(local), bytes)).toBe(0);
        }
        expect(await ftp.nlst()).toContain(name);
        // A refused command with a connect under way leaves the session usable.
        await expect(ftp.retrBinary("RETR no-such-file-here", () => undefined)).rejects.toMatchObject({
          replyCode: 550,
        });
        expect(await ftp.voidCmd("NOOP")).toMatch(/^200/);
        await ftp.delete(name);
      } finally {
        ftp.close();
      }
    },
  );
});

describe("pipelineTransfers against an unreachable passive port", () => {
  it("closes the session at once with ERR_FTP_DATA_AFTER_COMMAND", async () => {
    let epsvCalls = 0;
    const unreachable = await closedPort();
    await using server = await startHostileServer({
      EPSV: async (session) => {
        // The first data connection works; the second port is closed (a firewall on part of the range).
        if (epsvCalls++ > 0) return epsvReply(unreachable);
        return epsvReply((await session.passive()).port);
      },
      RETR: async (session) => {
        // As vsftpd, pure-ftpd, proftpd and netkit: the 150 comes only once the client connects.
        const data = await session.data();
        await session.send("150 Opening data connection\r\n");
        data.end("data");
        return "226 Transfer complete";
      },
    });
    const ftp = await FTP.open({ host: server.host, port: server.port, pipelineTransfers: true, timeout: 5000 });
    const chunks: Uint8Array[] = [];
    await ftp.retrBinary("RETR first", (block) => void chunks.push(block));
    expect(Buffer.concat(chunks).toString()).toBe("data");
    const started = Date.now();
    const error = await ftp.retrBinary("RETR second", () => undefined).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FtpConnectionError);
    expect(error).toMatchObject({ code: "ERR_FTP_DATA_AFTER_COMMAND" });
    // Well before the 5 s timeout: the client does not wait for a server that waits for it.
    expect(Date.now() - started).toBeLessThan(2000);
    await expect(ftp.voidCmd("NOOP")).rejects.toBeInstanceOf(FtpConnectionError);
    expect(server.commands.filter((c) => c.startsWith("RETR"))).toEqual(["RETR first", "RETR second"]);
  });

  it("without it, the same server costs only the transfer: the command is never sent", async () => {
    let epsvCalls = 0;
    const unreachable = await closedPort();
    await using server = await startHostileServer({
      EPSV: async (session) => {
        if (epsvCalls++ > 0) return epsvReply(unreachable);
        return epsvReply((await session.passive()).port);
      },
      RETR: async (session) => {
        const data = await session.data();
        await session.send("150 Opening data connection\r\n");
        data.end("data");
        return "226 Transfer complete";
      },
    });
    const ftp = await FTP.open({ host: server.host, port: server.port, timeout: 5000 });
    await ftp.retrBinary("RETR first", () => undefined);
    await expect(ftp.retrBinary("RETR second", () => undefined)).rejects.toBeInstanceOf(FtpConnectionError);
    expect(await ftp.voidCmd("NOOP")).toMatch(/^200/);
    expect(server.commands.filter((c) => c.startsWith("RETR"))).toEqual(["RETR first"]);
    ftp.close();
  });
});
