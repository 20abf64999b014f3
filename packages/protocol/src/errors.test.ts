import { build } from "esbuild";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import { enc } from "../test/feed.js";
import {
  ErrorPerm,
  ErrorProto,
  ErrorReply,
  ErrorTemp,
  FtpConnectionError,
  FtpError,
  FtpTimeoutError,
  FtpTlsError,
  LocalProtocolError,
  RemoteProtocolError,
} from "./errors.js";
import { ReplyDecoder } from "./reply-decoder.js";
import { completionError, replyError } from "./reply-errors.js";
import { Reply, replyIs, replyKind } from "./reply.js";

describe("reply classification", () => {
  it("names the five kinds", () => {
    expect([150, 226, 331, 421, 550].map(replyKind)).toEqual([
      "preliminary",
      "completion",
      "intermediate",
      "transient",
      "permanent",
    ]);
    expect(() => replyKind(600)).toThrow(RangeError);
    expect(() => replyKind(99)).toThrow(RangeError);
  });

  it("maps replies to ftplib's errors (CPython test_exceptions)", () => {
    const error = (text: string) => replyError(Reply.fromText(text));
    expect(error("400 x")).toBeInstanceOf(ErrorTemp);
    expect(error("499 x")).toBeInstanceOf(ErrorTemp);
    expect(error("500 x")).toBeInstanceOf(ErrorPerm);
    expect(error("599 x")).toBeInstanceOf(ErrorPerm);
    expect(error("150 x")).toBeUndefined();
    expect(error("226 x")).toBeUndefined();
    expect(error("331 x")).toBeUndefined();
    // "echo 999": no valid code, so the decoder itself raises error_proto.
    const decoder = new ReplyDecoder();
    decoder.receive(enc("999 x\r\n"));
    expect(() => decoder.next()).toThrow(ErrorProto);
  });

  it("expects a completion as voidresp does", () => {
    const error = (text: string) => completionError(Reply.fromText(text));
    expect(error("200 ok")).toBeUndefined();
    expect(error("150 x")).toBeInstanceOf(ErrorReply);
    expect(error("331 x")).toBeInstanceOf(ErrorReply);
    expect(error("421 x")).toBeInstanceOf(ErrorTemp);
    expect(error("530 x")).toBeInstanceOf(ErrorPerm);
  });

  it("checks a reply's code or class, given as a Reply or as text", () => {
    const reply = Reply.fromText('257 "/home" created');
    for (const resp of [reply, reply.text]) {
      expect(replyIs(resp, 257)).toBe(true);
      expect(replyIs(resp, "2xx")).toBe(true);
      expect(replyIs(resp, 250)).toBe(false);
      expect(replyIs(resp, "3xx")).toBe(false);
      expect(replyIs(resp, 250, 257)).toBe(true);
      expect(replyIs(resp, "1xx", 250)).toBe(false);
      expect(replyIs(resp)).toBe(false);
    }
    expect(replyIs("211-Features:\n MDTM\n211 End", 211)).toBe(true);
    expect(replyIs("150", "1xx")).toBe(true);
    // Text that does not start like a reply has no code.
    for (const text of ["", "25", "2570 x", "257x", "hello", "057 x", "657 x", " 257 x"]) {
      expect(replyIs(text, 257), text).toBe(false);
      expect(replyIs(text, "2xx", "6xx" as "5xx", "0xx" as "1xx"), text).toBe(false);
    }
    expect(() => replyIs(reply, 2)).toThrow(RangeError);
    expect(() => replyIs(reply, 600)).toThrow(RangeError);
    expect(() => replyIs(reply, 257.5)).toThrow(RangeError);
  });

  it("exposes the reply parts", () => {
    const reply = Reply.fromText("211-Features:\n MDTM\n211 End");
    expect(reply.code).toBe(211);
    expect(reply.lines).toEqual(["211-Features:", " MDTM", "211 End"]);
    expect(reply.message).toBe("End");
    expect(reply.kind).toBe("completion");
    expect(String(reply)).toBe("211-Features:\n MDTM\n211 End");
    expect(() => Reply.fromText("hello")).toThrow(RangeError);
  });
});

describe("error classes", () => {
  it("carry the reply code, text, and a stable code", () => {
    const reply = Reply.fromText("550 No such file");
    const perm = new ErrorPerm(reply);
    expect(perm.replyCode).toBe(550);
    expect(perm.text).toBe("550 No such file");
    expect(perm.message).toBe("550 No such file");
    expect(perm.code).toBe("ERR_FTP_PERM");
    expect(perm.reply).toBe(reply);
    expect(perm.name).toBe("ErrorPerm");
    const fromText = new ErrorTemp("421 closing");
    expect(fromText.replyCode).toBe(421);
    expect(fromText.reply).toBeUndefined();
    expect(new ErrorProto("garbage").replyCode).toBeUndefined();
  });

  it("form ftplib's hierarchy: every connection error is an FtpError, misuse is not", () => {
    const all = [
      new ErrorReply("150 x"),
      new ErrorTemp("421 x"),
      new ErrorPerm("550 x"),
      new ErrorProto("bad"),
      new RemoteProtocolError("bad", "ERR_FTP_BAD_REPLY"),
      new FtpConnectionError("reset", { code: "ECONNRESET" }),
      new FtpTimeoutError("slow"),
      new FtpTlsError("untrusted"),
    ];
    for (const error of all) {
      expect(error).toBeInstanceOf(FtpError);
      expect(FtpError.isInstance(error)).toBe(true);
      expect(error).toBeInstanceOf(Error);
    }
    const local = new LocalProtocolError("CR in command", "ERR_FTP_INVALID_COMMAND");
    expect(FtpError.isInstance(local)).toBe(false);
    expect(LocalProtocolError.isInstance(local)).toBe(true);
    expect(ErrorProto.isInstance(new RemoteProtocolError("x", "y"))).toBe(true);
    expect(RemoteProtocolError.isInstance(new ErrorProto("x"))).toBe(false);
    expect(FtpConnectionError.isInstance(new FtpTimeoutError("x"))).toBe(true);
    expect(ErrorPerm.isInstance(new ErrorTemp("421 x"))).toBe(false);
  });

  it("recognise instances from another copy of the package by brand", () => {
    // What another copy's ErrorPerm looks like: a different class with the same brand.
    const foreign = Object.assign(new Error("550 x"), {
      [Symbol.for("@ftplib/error-kinds")]: ["ErrorPerm", "FtpError"],
    });
    expect(foreign instanceof ErrorPerm).toBe(true);
    expect(foreign instanceof FtpError).toBe(true);
    expect(foreign instanceof ErrorTemp).toBe(false);
    expect(ErrorPerm.isInstance(foreign)).toBe(true);
    expect(FtpError.isInstance(foreign)).toBe(true);
    expect(ErrorTemp.isInstance(foreign)).toBe(false);
    expect(FtpError.isInstance(null)).toBe(false);
    expect(FtpError.isInstance(new Error("x"))).toBe(false);
  });

  it("attach the cause", () => {
    const cause = new Error("ECONNRESET");
    expect(new FtpConnectionError("lost", { cause }).cause).toBe(cause);
    expect(new ErrorProto("x", { cause }).cause).toBe(cause);
  });
});

describe("instanceof", () => {
  it("follows the class hierarchy within one copy", () => {
    expect(new ErrorPerm("550 x") instanceof ErrorPerm).toBe(true);
    expect(new ErrorPerm("550 x") instanceof FtpError).toBe(true);
    expect(new ErrorPerm("550 x") instanceof Error).toBe(true);
    // ftplib's four reply errors are siblings under Error, not subclasses of one another.
    expect(new ErrorPerm("550 x") instanceof ErrorReply).toBe(false);
    expect(new ErrorReply("150 x") instanceof ErrorPerm).toBe(false);
    expect(new RemoteProtocolError("x", "y") instanceof ErrorProto).toBe(true);
    expect(new ErrorProto("x") instanceof RemoteProtocolError).toBe(false);
    expect(new FtpTimeoutError("x") instanceof FtpConnectionError).toBe(true);
    expect(new FtpConnectionError("x") instanceof FtpTimeoutError).toBe(false);
    expect(new LocalProtocolError("x", "y") instanceof FtpError).toBe(false);
    expect(new LocalProtocolError("x", "y") instanceof Error).toBe(true);
  });

  it("works for a user's subclasses, which have no brand of their own", () => {
    class AppError extends FtpError {}
    class QuotaError extends ErrorPerm {}
    const app = new AppError("x", "ERR_APP");
    const quota = new QuotaError("552 quota");
    expect(app instanceof AppError).toBe(true);
    expect(app instanceof FtpError).toBe(true);
    expect(app instanceof Error).toBe(true);
    expect(app instanceof ErrorPerm).toBe(false);
    expect(quota instanceof QuotaError).toBe(true);
    expect(quota instanceof ErrorPerm).toBe(true);
    expect(quota instanceof FtpError).toBe(true);
    expect(quota.replyCode).toBe(552);
    // The parent's brand is not the subclass's: a plain FtpError or ErrorPerm is neither.
    expect(new FtpError("x", "y") instanceof AppError).toBe(false);
    expect(new ErrorPerm("550 x") instanceof QuotaError).toBe(false);
    expect(AppError.isInstance(new FtpError("x", "y"))).toBe(false);
    expect(QuotaError.isInstance(quota)).toBe(true);
  });

  it("is false for values that are not errors of the class", () => {
    const values: unknown[] = [
      null,
      undefined,
      0,
      "550 x",
      Symbol("x"),
      {},
      [],
      () => undefined,
      new Error("550 x"),
      Object.create(null),
      { [Symbol.for("@ftplib/error-kinds")]: "ErrorPerm" },
      { [Symbol.for("@ftplib/error-kinds")]: ["ErrorTemp"] },
    ];
    for (const value of values) {
      expect(value instanceof FtpError, String(typeof value)).toBe(false);
      expect(value instanceof ErrorPerm, String(typeof value)).toBe(false);
      expect(ErrorPerm.isInstance(value)).toBe(false);
    }
  });

  it("narrows the type as isInstance does", () => {
    const caught: unknown = new ErrorTemp("421 x");
    if (caught instanceof ErrorTemp) expectTypeOf(caught).toEqualTypeOf<ErrorTemp>();
    if (ErrorTemp.isInstance(caught)) expectTypeOf(caught).toEqualTypeOf<ErrorTemp>();
    expect(caught instanceof ErrorTemp && caught.replyCode).toBe(421);
  });
});

describe("instanceof across copies of the package", () => {
  type Copy = typeof import("./errors.js");
  let dir: string;
  let first: Copy;
  let second: Copy;

  beforeAll(async () => {
    // One bundle of the error classes, loaded under two URLs: two module instances, so two
    // separate sets of classes, neither of them this file's.
    const entry = fileURLToPath(new URL("./errors.ts", import.meta.url));
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      format: "esm",
      platform: "neutral",
      write: false,
      logLevel: "silent",
    });
    dir = await mkdtemp(join(tmpdir(), "ftplib-errors-"));
    const file = join(dir, "errors.mjs");
    await writeFile(file, result.outputFiles[0]!.text);
    const url = pathToFileURL(file).href;
    first = (await import(/* @vite-ignore */ `${url}?copy=1`)) as Copy;
    second = (await import(/* @vite-ignore */ `${url}?copy=2`)) as Copy;
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("loads separate classes", () => {
    expect(first.ErrorPerm).not.toBe(ErrorPerm);
    expect(second.ErrorPerm).not.toBe(ErrorPerm);
    expect(first.ErrorPerm).not.toBe(second.ErrorPerm);
    expect(Object.getPrototypeOf(new first.ErrorPerm("550 x"))).not.toBe(ErrorPerm.prototype);
  });

  it("recognises each copy's errors in every other copy", () => {
    for (const [make, classes] of [
      [first, [ErrorPerm, second.ErrorPerm]],
      [second, [ErrorPerm, first.ErrorPerm]],
      [{ ErrorPerm }, [first.ErrorPerm, second.ErrorPerm]],
    ] as const) {
      const error: unknown = new make.ErrorPerm("550 x");
      for (const Class of classes) {
        expect(error instanceof Class).toBe(true);
        expect(Class.isInstance(error)).toBe(true);
      }
    }
    const remote = new first.RemoteProtocolError("x", "y");
    expect(remote instanceof ErrorProto).toBe(true);
    expect(remote instanceof FtpError).toBe(true);
    expect(remote instanceof Error).toBe(true);
  });

  it("keeps the hierarchy across copies", () => {
    const temp = new first.ErrorTemp("421 x");
    expect(temp instanceof ErrorTemp).toBe(true);
    expect(temp instanceof ErrorPerm).toBe(false);
    expect(temp instanceof ErrorReply).toBe(false);
    expect(new first.LocalProtocolError("x", "y") instanceof FtpError).toBe(false);
    expect(new first.LocalProtocolError("x", "y") instanceof LocalProtocolError).toBe(true);
    expect(new first.FtpTimeoutError("x") instanceof FtpConnectionError).toBe(true);
    expect(new second.FtpConnectionError("x") instanceof first.FtpTimeoutError).toBe(false);
    class AppError extends second.FtpError {}
    expect(new AppError("x", "y") instanceof FtpError).toBe(true);
    expect(new AppError("x", "y") instanceof first.ErrorPerm).toBe(false);
  });
});
