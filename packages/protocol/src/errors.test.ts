import { describe, expect, it } from "vitest";
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
import { Reply, completionError, replyError, replyKind } from "./reply.js";

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
    expect(foreign instanceof ErrorPerm).toBe(false);
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
