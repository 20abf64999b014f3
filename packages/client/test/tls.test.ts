/**
 * FTP_TLS against the embedded server's TLS mode (ftp-srv, explicit AUTH TLS): the client suite
 * with PROT P, passive and active, IPv4 and IPv6; and what must be refused.
 */
import { type EmbeddedServer, startEmbeddedServer, testTls } from "@ftplib/test-servers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FTP_TLS, FtpConnectionError, FtpTlsError, LocalProtocolError, allErrors } from "../src/index.js";
import { defineEmbeddedSuites } from "./client-suite.js";
import { FTP_SRV_QUIRKS } from "./ftp-srv-quirks.js";

async function openTls(
  o: { host: string; port: number; user: string; password: string; passive?: boolean; timeout?: number },
  protect = true,
) {
  const ftp = await FTP_TLS.open({ ...o, tls: { ca: testTls.ca } });
  if (protect) await ftp.protP();
  return ftp;
}

for (const host of ["127.0.0.1", "::1"]) {
  describe(`embedded TLS server on ${host}`, () => {
    defineEmbeddedSuites(host, () => startEmbeddedServer(host, { tls: { key: testTls.key, cert: testTls.cert } }), {
      server: "ftp-srv TLS, PROT P",
      open: (o) => openTls(o),
      quirks: FTP_SRV_QUIRKS,
    });
  });
}

describe("FTP_TLS", () => {
  let server: EmbeddedServer;
  let logins = 0;
  beforeAll(async () => {
    server = await startEmbeddedServer("127.0.0.1", { tls: { key: testTls.key, cert: testTls.cert } });
  });
  afterAll(() => server?.close());

  const options = () => ({
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    timeout: 3000,
  });

  it("secures the control connection before login, and protects data with PROT P", async () => {
    const ftp = new FTP_TLS({ tls: { ca: testTls.ca }, timeout: 3000 });
    await ftp.connect(server.host, server.port);
    expect(ftp.secure).toBe(false);
    await ftp.login(server.user, server.password);
    expect(ftp.secure).toBe(true);
    await expect(ftp.auth()).rejects.toBeInstanceOf(LocalProtocolError);
    expect(await ftp.protP()).toMatch(/^200/);
    expect(ftp.dataProtected).toBe(true);
    await ftp.storBinary("STOR p.txt", "protected");
    // ftp-srv knows only PROT P: a refusal leaves protection as it was (PROT C runs on the Debian servers).
    await expect(ftp.protC()).rejects.toMatchObject({ replyCode: 536 });
    expect(ftp.dataProtected).toBe(true);
    const parts: string[] = [];
    await ftp.retrLines("RETR p.txt", (line) => parts.push(line));
    expect(parts).toEqual(["protected"]);
    await ftp.quit();
  });

  it("implicit FTPS protects data connections at login, without protP()", async () => {
    const implicit = await startEmbeddedServer("127.0.0.1", {
      tls: { key: testTls.key, cert: testTls.cert },
      implicit: true,
    });
    try {
      for (const passive of [true, false]) {
        const seen: string[] = [];
        const ftp = await FTP_TLS.open({
          host: implicit.host,
          port: implicit.port,
          user: implicit.user,
          password: implicit.password,
          implicit: true,
          passive,
          timeout: 3000,
          tls: { ca: testTls.ca },
          debugLevel: 1,
          debugOutput: (line) => seen.push(line),
        });
        expect(ftp.dataProtected).toBe(true);
        const sent = seen.filter((line) => line.startsWith("*cmd*"));
        expect(sent).toEqual(['*cmd* "USER ftplib"', '*cmd* "PASS ********"', '*cmd* "PBSZ 0"', '*cmd* "PROT P"']);
        await ftp.storBinary("STOR implicit.txt", "protected at login");
        const lines: string[] = [];
        await ftp.retrLines("RETR implicit.txt", (line) => lines.push(line));
        expect(lines).toEqual(["protected at login"]);
        await ftp.quit();
      }
    } finally {
      await implicit.close();
    }
  });

  it("explicit FTPS leaves data in the clear until protP(), as ftplib does", async () => {
    const ftp = await FTP_TLS.open({ ...options(), tls: { ca: testTls.ca } });
    expect(ftp.secure).toBe(true);
    expect(ftp.dataProtected).toBe(false);
    await ftp.protP();
    expect(ftp.dataProtected).toBe(true);
    await ftp.quit();
  });

  it("logs in without TLS when told not to secure", async () => {
    const ftp = new FTP_TLS({ tls: { ca: testTls.ca }, timeout: 3000 });
    await ftp.connect(server.host, server.port);
    await ftp.login(server.user, server.password, "", false);
    expect(ftp.secure).toBe(false);
    ftp.close();
  });

  it("refuses an untrusted certificate by default, with the TLS cause, and sends nothing more", async () => {
    const untrusted = await startEmbeddedServer("127.0.0.1", {
      tls: { key: testTls.untrusted.key, cert: testTls.untrusted.cert },
    });
    try {
      const seen: string[] = [];
      const ftp = new FTP_TLS({ timeout: 3000, debugLevel: 1, debugOutput: (line) => seen.push(line) });
      await ftp.connect(untrusted.host, untrusted.port);
      const error = await ftp.login(untrusted.user, untrusted.password).catch((e: unknown) => e);
      expect(FtpTlsError.isInstance(error), String(error)).toBe(true);
      expect(allErrors.some((kind) => kind.isInstance(error))).toBe(true);
      expect((error as FtpTlsError).cause).toBeInstanceOf(Error);
      expect(seen.filter((line) => line.startsWith("*cmd*"))).toEqual(['*cmd* "AUTH TLS"']);
      await expect(ftp.pwd()).rejects.toBeInstanceOf(FtpConnectionError);
    } finally {
      await untrusted.close();
    }
  });

  it("refuses a certificate that does not name the host", async () => {
    // 127.0.0.2 is loopback too, but the certificate names only localhost, 127.0.0.1 and ::1.
    const other = await startEmbeddedServer("127.0.0.2", { tls: { key: testTls.key, cert: testTls.cert } });
    try {
      const ftp = new FTP_TLS({ tls: { ca: testTls.ca }, timeout: 3000 });
      await ftp.connect(other.host, other.port);
      const error = await ftp.login(other.user, other.password).catch((e: unknown) => e);
      expect(FtpTlsError.isInstance(error), String(error)).toBe(true);
      expect((error as FtpTlsError).code).toBe("ERR_TLS_CERT_ALTNAME_INVALID");
    } finally {
      await other.close();
    }
  });

  it("checks data connections against the host name, not the address they connect to", async () => {
    // This certificate names localhost only: a data connection checked against 127.0.0.1 would fail.
    const named = await startEmbeddedServer("127.0.0.1", {
      tls: { key: testTls.dnsOnly.key, cert: testTls.dnsOnly.cert },
    });
    try {
      for (const passive of [true, false]) {
        const ftp = new FTP_TLS({ tls: { ca: testTls.ca }, timeout: 3000, passive });
        await ftp.connect("localhost", named.port);
        await ftp.login(named.user, named.password);
        await ftp.protP();
        await ftp.storBinary("STOR named.txt", "by name");
        const lines: string[] = [];
        await ftp.retrLines("RETR named.txt", (line) => lines.push(line));
        expect(lines).toEqual(["by name"]);
        await ftp.quit();
      }
    } finally {
      await named.close();
    }
  });

  it("opens with FTP_TLS.open and logs in over TLS", async () => {
    logins++;
    const ftp = await FTP_TLS.open({ ...options(), tls: { ca: testTls.ca } });
    expect(ftp.secure).toBe(true);
    expect(await ftp.pwd()).toBe("/");
    await ftp.quit();
  });

  it("exposes the control connection's TLS session (ftp-srv keeps no session across connections)", async () => {
    const first = await FTP_TLS.open({ ...options(), tls: { ca: testTls.ca } });
    await first.pwd();
    expect(first.tlsResumed).toBe(false);
    expect(first.tlsSession).toBeInstanceOf(Buffer);
    first.close();
  });

  it("refuses CCC when not secure", async () => {
    const ftp = new FTP_TLS({ tls: { ca: testTls.ca }, timeout: 3000 });
    await ftp.connect(server.host, server.port);
    await expect(ftp.ccc()).rejects.toBeInstanceOf(LocalProtocolError);
    ftp.close();
    expect(logins).toBe(1);
  });
});
