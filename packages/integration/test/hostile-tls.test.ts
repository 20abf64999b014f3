/**
 * Hostile FTPS servers: AUTH TLS refused, or answered 234 and then plaintext; a certificate for
 * another host (control or data connection); PROT P accepted, then a data connection in the
 * clear. The password never travels in the clear (checked on every byte the server received in
 * the clear), the error is typed, and no data that came in the clear is taken as if protected.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, readdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { FTP_TLS, FtpConnectionError, FtpPool, FtpTimeoutError, FtpTlsError, allErrors } from "@ftplib/client";
import { testTls } from "@ftplib/test-servers";
import { describe, expect, it } from "vitest";
import { hostileFixture } from "./hostile-fixture.js";
import {
  type CommandHandler,
  type CommandHandlers,
  HANG_UP,
  type HandlerResult,
  type HostileServer,
  type HostileServerOptions,
  type HostileSession,
  sendData,
} from "@ftplib/testing";

const TIMEOUT = 1000;
const PASSWORD = "s3cret-pa55word";
const CLI = fileURLToPath(new URL("../../cli/dist/bin.js", import.meta.url));
/** A self-signed certificate (a CA of its own) for ftp.other.example only: trusted, but for another host. */
const otherHost = {
  cert: readFileSync(new URL("./fixtures/other-host.pem", import.meta.url), "utf8"),
  key: readFileSync(new URL("./fixtures/other-host.key", import.meta.url), "utf8"),
};
const serverTls = { key: testTls.key, cert: testTls.cert };

const fixture = hostileFixture("hostile-tls");

async function hostile(
  handlers: CommandHandlers | ((session: HostileSession) => Promise<void>),
  options: HostileServerOptions = {},
): Promise<HostileServer> {
  const server = await fixture.server(handlers, { tls: serverTls, ...options });
  return server;
}

function ftps(options: ConstructorParameters<typeof FTP_TLS>[0] = {}): FTP_TLS {
  const ftp = new FTP_TLS({ timeout: TIMEOUT, tls: { ca: testTls.ca }, ...options });
  fixture.track(ftp);
  return ftp;
}

async function failure(work: Promise<unknown>): Promise<unknown> {
  return work.then(
    () => new Error("expected a failure, got success"),
    (e: unknown) => e,
  );
}

type ErrorClass = { isInstance(value: unknown): boolean; name: string };

function expectError(error: unknown, kinds: ErrorClass[]): void {
  expect(
    kinds.some((kind) => kind.isInstance(error)),
    `expected ${kinds.map((k) => k.name).join(" or ")}, got ${String(error)}`,
  ).toBe(true);
  expect(allErrors.some((kind) => kind.isInstance(error))).toBe(true);
}

/** Neither the password nor a USER or PASS command among the bytes the server received in the clear. */
function expectNothingSecretInClear(server: HostileServer): void {
  const clear = server.clearText();
  expect(clear.includes(PASSWORD), "the password travelled in the clear").toBe(false);
  expect(clear.includes("PASS "), "a PASS command travelled in the clear").toBe(false);
  expect(clear.includes("USER "), "a USER command travelled in the clear").toBe(false);
}

/** AUTH TLS answered 234, then the handshake: the control connection is protected from here. */
const authTls: CommandHandler = async (session) => {
  await session.reply(234, "AUTH TLS successful");
  await session.startTls();
};

const REFUSALS = [
  "500 Unknown command",
  "502 Command not implemented",
  "504 Unknown security mechanism",
  "530 Please login with USER and PASS",
  "534 Request denied for policy reasons",
  "431 Need some unavailable resource to process security",
  "334 ADAT must follow",
  "200 OK, but no 234",
];

describe("AUTH TLS refused", () => {
  it.each(REFUSALS)("%j: login fails, nothing more is sent, the password never", async (refusal) => {
    const server = await hostile({ AUTH: refusal });
    const ftp = ftps();
    await ftp.connect(server.host, server.port);
    const error = await failure(ftp.login("me", PASSWORD));
    expectError(error, [...allErrors]);
    expect(server.commands.filter((c) => /^(USER|PASS|ACCT)/.test(c))).toEqual([]);
    // Trying again on the same client sends the password no more than the first time did.
    await failure(ftp.login("me", PASSWORD));
    expect(ftp.secure).toBe(false);
    expectNothingSecretInClear(server);
  });

  it.each(["502 Command not implemented", "431 Unavailable"])(
    "%j: FTP_TLS.open and a secure pool fail without sending it",
    async (refusal) => {
      const server = await hostile({ AUTH: refusal });
      const options = {
        host: server.host,
        port: server.port,
        user: "me",
        password: PASSWORD,
        timeout: TIMEOUT,
        tls: { ca: testTls.ca },
      };
      expectError(await failure(FTP_TLS.open(options)), [...allErrors]);
      const pool = FtpPool.open({ ...options, secure: true, size: 2 });
      expectError(await failure(pool.run((ftp) => ftp.pwd())), [...allErrors]);
      await pool.close();
      expectNothingSecretInClear(server);
    },
  );

  it("the command line's ftpes:// exits with the TLS code and never sends the password", async () => {
    const server = await hostile({ AUTH: "502 Command not implemented" });
    const result = await runCli(["ls", `ftpes://me:${PASSWORD}@${server.host}:${server.port}/`]);
    expect(result.code, result.stderr).toBe(4);
    expectNothingSecretInClear(server);
  });
});

/** 234, then what the server does instead of a TLS handshake. */
const PLAINTEXT_AFTER_234: [string, CommandHandler][] = [
  [
    "answers the ClientHello with a plaintext reply",
    async (session) => {
      await session.reply(234, "AUTH TLS ok");
      await new Promise((resolve) => session.socket.once("data", resolve));
      await session.send("500 Unknown command\r\n");
      await session.stall();
    },
  ],
  [
    "sends a plaintext greeting a moment after the 234",
    async (session) => {
      await session.reply(234, "AUTH TLS ok");
      await new Promise((resolve) => setTimeout(resolve, 50));
      await session.send("230 Logged in, no password needed\r\n");
      await session.stall();
    },
  ],
  [
    "injects a reply in the same segment as the 234",
    async (session) => void (await session.send("234 ok\r\n331 Password, please\r\n"), await session.stall()),
  ],
  ["hangs up after the 234", async (session): Promise<HandlerResult> => (await session.reply(234, "ok"), HANG_UP)],
  ["stalls after the 234", async (session) => void (await session.reply(234, "ok"), await session.stall())],
];

describe("AUTH TLS answered 234, then plaintext", () => {
  it.each(PLAINTEXT_AFTER_234)(
    "a server that %s: a typed error, the password never in the clear",
    async (_, handler) => {
      const server = await hostile({ AUTH: handler });
      const ftp = ftps();
      await ftp.connect(server.host, server.port);
      const started = Date.now();
      const error = await failure(ftp.login("me", PASSWORD));
      expectError(error, [FtpTlsError, FtpConnectionError]);
      expect(Date.now() - started).toBeLessThan(TIMEOUT * 2 + 1000);
      // The connection is gone: nothing else can go out on it in the clear.
      await expect(ftp.voidCmd(`NOOP ${PASSWORD}`)).rejects.toSatisfy((e) => FtpConnectionError.isInstance(e));
      await failure(ftp.login("me", PASSWORD));
      expectNothingSecretInClear(server);
      expect(await server.settled()).toBe(0);
    },
  );
});

describe("clear text where a TLS handshake was expected", () => {
  it("implicit FTPS to a server that greets in the clear: ERR_FTP_TLS_CLEAR_TEXT at once, not a timeout", async () => {
    const server = await fixture.server({}, {});
    const ftp = new FTP_TLS({ timeout: 10_000, implicit: true, tls: { ca: testTls.ca } });
    fixture.track(ftp);
    const started = Date.now();
    const error = await failure(ftp.connect(server.host, server.port));
    expect(Date.now() - started).toBeLessThan(2000);
    expectError(error, [FtpTlsError]);
    expect((error as FtpTlsError).code).toBe("ERR_FTP_TLS_CLEAR_TEXT");
    expect((error as Error).message).toContain('"220 hostile server ready"');
  });

  it("AUTH TLS answered 234, then a plaintext reply to the ClientHello: the same, at once", async () => {
    const server = await hostile({ AUTH: PLAINTEXT_AFTER_234[0]![1] });
    const ftp = ftps({ timeout: 10_000 });
    await ftp.connect(server.host, server.port);
    const started = Date.now();
    const error = await failure(ftp.login("me", PASSWORD));
    expect(Date.now() - started).toBeLessThan(2000);
    expect((error as FtpTlsError).code).toBe("ERR_FTP_TLS_CLEAR_TEXT");
    expectNothingSecretInClear(server);
  });
});

describe("AUTH TLS answered 234, then plaintext: the state left", () => {
  // A failed handshake leaves no TLS layer: `secure` is false on a connection that never was.
  it("secure is false after the handshake failed", async () => {
    const server = await hostile({
      AUTH: async (session): Promise<HandlerResult> => (await session.reply(234, "ok"), HANG_UP),
    });
    const ftp = ftps();
    await ftp.connect(server.host, server.port);
    await failure(ftp.login("me", PASSWORD));
    expect(ftp.secure).toBe(false);
  });
});

describe("a certificate for another host", () => {
  it("the control connection's: refused by default, FtpTlsError, nothing sent after AUTH TLS", async () => {
    const server = await hostile({ AUTH: authTls }, { tls: otherHost });
    // The certificate is trusted (its own CA), but names ftp.other.example, not 127.0.0.1.
    const ftp = ftps({ tls: { ca: otherHost.cert } });
    await ftp.connect(server.host, server.port);
    const error = await failure(ftp.login("me", PASSWORD));
    expectError(error, [FtpTlsError]);
    expect((error as FtpTlsError).code).toMatch(/CERT/);
    expect(server.commands).toEqual(["AUTH TLS"]);
    expectNothingSecretInClear(server);
  });

  it("the same certificate is accepted for the host it names (the refusal is about the name)", async () => {
    const server = await hostile({ AUTH: authTls }, { tls: otherHost });
    const ftp = ftps({
      tls: {
        ca: otherHost.cert,
        servername: "ftp.other.example",
        checkServerIdentity: (_, cert) => (cert.subject.CN === "ftp.other.example" ? undefined : new Error("no")),
      },
    });
    await ftp.connect(server.host, server.port);
    await ftp.login("me", PASSWORD);
    expect(ftp.secure).toBe(true);
    expectNothingSecretInClear(server);
  });

  it("a certificate for localhost only, reached at 127.0.0.1: refused", async () => {
    const server = await hostile({ AUTH: authTls }, { tls: testTls.dnsOnly });
    const ftp = ftps();
    await ftp.connect(server.host, server.port);
    const error = await failure(ftp.login("me", PASSWORD));
    expectError(error, [FtpTlsError]);
    expect((error as FtpTlsError).code).toMatch(/CERT/);
    expectNothingSecretInClear(server);
  });

  it("a self-signed certificate, no CA given: refused", async () => {
    const server = await hostile({ AUTH: authTls }, { tls: testTls.untrusted });
    const ftp = new FTP_TLS({ timeout: TIMEOUT });
    fixture.track(ftp);
    await ftp.connect(server.host, server.port);
    expectError(await failure(ftp.login("me", PASSWORD)), [FtpTlsError]);
    expectNothingSecretInClear(server);
  });

  it("implicit FTPS: refused before a command is sent", async () => {
    const server = await hostile(
      async (session) => {
        await session.startTls();
        await session.send("220 implicit\r\n");
        await session.serve();
      },
      { tls: otherHost },
    );
    const ftp = ftps({ implicit: true, tls: { ca: otherHost.cert } });
    expectError(await failure(ftp.connect(server.host, server.port)), [FtpTlsError]);
    expect(server.commands).toEqual([]);
  });

  it("the data connection's (the control connection's is right): refused, no data taken", async () => {
    const server = await hostile({
      AUTH: authTls,
      PBSZ: "200 PBSZ=0",
      PROT: "200 Protection level set to P",
      RETR: async (session) => {
        await session.send("150 Opening BINARY mode data connection\r\n");
        const data = await session.secureData(await session.data(), otherHost).catch(() => undefined);
        data?.end("data under a certificate for another host");
        return "226 Transfer complete";
      },
    });
    const ftp = ftps();
    await ftp.connect(server.host, server.port);
    await ftp.login("me", PASSWORD);
    await ftp.protP();
    let received = 0;
    const error = await failure(ftp.retrBinary("RETR file", (block) => void (received += block.length)));
    expectError(error, [FtpTlsError]);
    expect(received).toBe(0);
  });
});

describe("a certificate for another host on the data connection, and a server that then goes quiet", () => {
  // The refusal of the certificate stopped the transfer: it is the error, not the timeout that
  // followed while the client waited for the replies to ABOR.
  it("the error is the TLS refusal, not the timeout that followed", async () => {
    const server = await hostile({
      AUTH: authTls,
      PBSZ: "200 PBSZ=0",
      PROT: "200 Protection level set to P",
      RETR: async (session) => {
        await session.send("150 Opening BINARY mode data connection\r\n");
        await session.secureData(await session.data(), otherHost).catch(() => undefined);
        await session.stall();
      },
    });
    const ftp = ftps();
    await ftp.connect(server.host, server.port);
    await ftp.login("me", PASSWORD);
    await ftp.protP();
    let received = 0;
    const error = await failure(ftp.retrBinary("RETR file", (block) => void (received += block.length)));
    expect(received).toBe(0);
    expectError(error, [FtpTlsError]);
    expect((error as FtpTlsError).code).toMatch(/CERT/);
  });
});

/** Answers a download on a data connection that never starts TLS, with `content` at once. */
const plaintextData =
  (content: string): CommandHandler =>
  (session, argument, line) =>
    sendData(content)(session, argument, line);

describe("PROT P accepted, then a data connection in the clear", () => {
  const protected_ = { AUTH: authTls, PBSZ: "200 PBSZ=0", PROT: "200 Protection level set to P" };
  const LISTING = "type=file;size=6; plain.txt\r\n";

  it.each([
    ["passive", true],
    ["active", false],
  ] as const)("a listing in the clear (%s): refused with FtpTlsError, no entry returned", async (_, passive) => {
    const server = await hostile({
      ...protected_,
      FEAT: "211-Features:\r\n MLST type*;size*;\r\n211 End\r\n",
      MLSD: plaintextData(LISTING),
    });
    const ftp = ftps({ passive });
    await ftp.connect(server.host, server.port);
    await ftp.login("me", PASSWORD);
    await ftp.protP();
    const error = await failure(ftp.list());
    expectError(error, [FtpTlsError, FtpConnectionError]);
  });

  it("a download in the clear: refused, no file, no data taken", async () => {
    const server = await hostile({ ...protected_, SIZE: "213 6", RETR: plaintextData("plain!") });
    const ftp = ftps();
    await ftp.connect(server.host, server.port);
    await ftp.login("me", PASSWORD);
    await ftp.protP();
    const to = await mkdtemp(join(fixture.tmp, "prot-"));
    expectError(await failure(ftp.download("file", join(to, "file"))), [FtpTlsError, FtpConnectionError]);
    expect(await readdir(to)).toEqual([]);
    let received = 0;
    expectError(await failure(ftp.retrBinary("RETR file", (block) => void (received += block.length))), [
      FtpTlsError,
      FtpConnectionError,
    ]);
    expect(received).toBe(0);
  });

  it("a data connection closed without TLS, then 226: an error, not an empty listing", async () => {
    const server = await hostile({
      ...protected_,
      NLST: async (session) => {
        await session.send("150 Here it comes\r\n");
        (await session.data()).end();
        return "226 Transfer complete";
      },
    });
    const ftp = ftps();
    await ftp.connect(server.host, server.port);
    await ftp.login("me", PASSWORD);
    await ftp.protP();
    expectError(await failure(ftp.nlst()), [FtpTlsError, FtpConnectionError]);
  });

  it("an upload to a data connection that never starts TLS: not a byte of the file in the clear", async () => {
    const dataBytes: Buffer[] = [];
    const server = await hostile({
      ...protected_,
      STOR: async (session) => {
        await session.send("150 Ok to send data\r\n");
        const data = await session.data();
        data.on("data", (chunk: Buffer) => dataBytes.push(chunk));
        await session.stall(TIMEOUT * 3);
        data.destroy();
        return "226 Transfer complete";
      },
    });
    const ftp = ftps();
    await ftp.connect(server.host, server.port);
    await ftp.login("me", PASSWORD);
    await ftp.protP();
    const secret = Buffer.from("the upload's secret content ".repeat(1000));
    expectError(await failure(ftp.storBinary("STOR up", secret)), [FtpTimeoutError, FtpTlsError]);
    expect(Buffer.concat(dataBytes).includes("secret content")).toBe(false);
  });

  it("a data connection that never answers the TLS handshake: a timeout, not a hang", async () => {
    const server = await hostile({
      ...protected_,
      NLST: async (session) => {
        await session.send("150 Here it comes\r\n");
        await session.data();
        await session.stall();
      },
    });
    const ftp = ftps();
    await ftp.connect(server.host, server.port);
    await ftp.login("me", PASSWORD);
    await ftp.protP();
    const started = Date.now();
    expectError(await failure(ftp.nlst()), [FtpTimeoutError, FtpTlsError]);
    expect(Date.now() - started).toBeLessThan(TIMEOUT * 3 + 2500);
  });
});

function runCli(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH, HOME: "/nonexistent" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stderr }));
  });
}
