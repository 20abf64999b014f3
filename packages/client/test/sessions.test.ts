import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { type EmbeddedServer, startEmbeddedServer } from "@ftplib/test-servers";
import {
  ErrorPerm,
  ErrorProto,
  ErrorReply,
  FTP,
  FtpConnectionError,
  LocalProtocolError,
  allErrors,
  isFtpError,
} from "../src/index.js";

describe("FTP sessions (test_ftplib cases)", () => {
  let server: EmbeddedServer;
  beforeAll(async () => {
    server = await startEmbeddedServer();
  });
  afterAll(() => server?.close());

  it("logs in anonymously by default (test_login)", async () => {
    const ftp = new FTP({ timeout: 5000 });
    const welcome = await ftp.connect(server.host, server.port);
    expect(welcome).toMatch(/^220/);
    expect(await ftp.login()).toMatch(/^230/);
    await ftp.quit();
  });

  it("refuses bad credentials with ErrorPerm", async () => {
    await expect(
      FTP.open({ host: server.host, port: server.port, user: server.user, password: "wrong", timeout: 5000 }),
    ).rejects.toBeInstanceOf(ErrorPerm);
  });

  it("quits on dispose (test_with_statement)", async () => {
    let closedAfter: FTP | undefined;
    {
      await using ftp = await FTP.open({ host: server.host, port: server.port, timeout: 5000 });
      closedAfter = ftp;
      expect(await ftp.pwd()).toBe("/");
    }
    await expect(closedAfter.pwd()).rejects.toBeInstanceOf(FtpConnectionError);
  });

  it("closes on dispose even when QUIT fails", async () => {
    const ftp = await FTP.open({ host: server.host, port: server.port, timeout: 5000 });
    ftp.close();
    await ftp[Symbol.asyncDispose]();
    await expect(ftp.voidCmd("NOOP")).rejects.toBeInstanceOf(FtpConnectionError);
  });

  it("connects from a source address (test_source_address)", async () => {
    const ftp = new FTP({ timeout: 5000, sourceAddress: ["127.0.0.1", 0] });
    await ftp.connect(server.host, server.port);
    await ftp.login();
    expect(await ftp.pwd()).toBe("/");
    ftp.close();
  });

  it("prints commands and replies at debug level 1 and 2, password masked (test_sanitize)", async () => {
    const lines: string[] = [];
    const ftp = new FTP({ timeout: 5000, debugOutput: (line) => lines.push(line) });
    ftp.setDebugLevel(2);
    await ftp.connect(server.host, server.port);
    await ftp.login(server.user, server.password);
    ftp.close();
    expect(lines.some((line) => line.startsWith('*put* "USER ftplib\\r\\n"'))).toBe(true);
    expect(lines.some((line) => line.startsWith("*get*"))).toBe(true);
    expect(lines.join("\n")).not.toContain(server.password);
    expect(lines.some((line) => line.includes("PASS ********"))).toBe(true);
    expect(ftp.sanitize("pass 12345")).toBe(JSON.stringify("pass ********"));
    expect(ftp.sanitize("foo")).toBe(JSON.stringify("foo"));
  });

  it("publishes ftplib.connect", async () => {
    const seen: unknown[] = [];
    const listener = (message: unknown) => seen.push(message);
    subscribe("ftplib.connect", listener);
    const ftp = new FTP({ timeout: 5000 });
    try {
      await ftp.connect(server.host, server.port);
    } finally {
      unsubscribe("ftplib.connect", listener);
      ftp.close();
    }
    expect(seen).toEqual([{ ftp, host: server.host, port: server.port }]);
  });

  it("fails to connect with a typed error in allErrors (refused port)", async () => {
    const ftp = new FTP({ timeout: 5000 });
    const error = await ftp.connect("127.0.0.1", 1).catch((e: unknown) => e);
    expect(FtpConnectionError.isInstance(error)).toBe(true);
    expect((error as FtpConnectionError).code).toBe("ECONNREFUSED");
    expect(allErrors.some((kind) => kind.isInstance(error))).toBe(true);
  });

  it("raises FtpConnectionError for calls before connect", async () => {
    await expect(new FTP().pwd()).rejects.toBeInstanceOf(FtpConnectionError);
  });

  it("covers every ftplib error in allErrors (test_all_errors)", () => {
    for (const error of [
      new ErrorReply("150 x"),
      new ErrorPerm("550 x"),
      new ErrorProto("x"),
      new FtpConnectionError("x"),
    ]) {
      expect(allErrors.some((kind) => kind.isInstance(error))).toBe(true);
    }
    expect(isFtpError(new LocalProtocolError("x", "y"))).toBe(false);
  });

  it("rejects absurd options at construction", () => {
    expect(() => new FTP({ timeout: -1 })).toThrow(RangeError);
    expect(() => new FTP({ maxline: 2 })).toThrow(RangeError);
    expect(() => new FTP({ encoding: "no-such-encoding" })).toThrow(LocalProtocolError);
  });
});
