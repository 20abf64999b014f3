import { describe, expect, it } from "vitest";
import { enc, feedings } from "../test/feed.js";
import { RemoteProtocolError } from "./errors.js";
import { ReplyDecoder, type ReplyDecoderOptions } from "./reply-decoder.js";

interface Outcome {
  replies: { code: number; lines: readonly string[] }[];
  end: string;
}

function decode(chunks: Uint8Array[], eof: boolean, options?: ReplyDecoderOptions): Outcome {
  const decoder = new ReplyDecoder(options);
  const replies: Outcome["replies"] = [];
  const drain = (): void => {
    for (let r = decoder.next(); r !== null; r = decoder.next()) replies.push({ code: r.code, lines: r.lines });
  };
  try {
    for (const chunk of chunks) {
      decoder.receive(chunk);
      drain();
    }
    if (eof) {
      decoder.receiveEof();
      drain();
    }
  } catch (error) {
    if (!RemoteProtocolError.isInstance(error)) throw error;
    return { replies, end: error.code };
  }
  return { replies, end: decoder.done ? "done" : "need-data" };
}

interface Fixture {
  name: string;
  input: Uint8Array;
  eof?: boolean;
  options?: ReplyDecoderOptions;
  replies?: { code: number; lines: string[] }[];
  end?: string;
}

const one = (code: number, ...lines: string[]) => ({ code, lines });

const fixtures: Fixture[] = [
  { name: "single line", input: enc("200 Command okay.\r\n"), replies: [one(200, "200 Command okay.")] },
  { name: "bare LF", input: enc("200 ok\n"), replies: [one(200, "200 ok")] },
  { name: "code alone", input: enc("200\r\n"), replies: [one(200, "200")] },
  { name: "code and space", input: enc("200 \r\n"), replies: [one(200, "200 ")] },
  {
    name: "greeting after 120",
    input: enc("120 Service ready in 1 minute.\r\n220 Service ready\r\n"),
    replies: [one(120, "120 Service ready in 1 minute."), one(220, "220 Service ready")],
  },
  {
    name: "multi-line (RFC 959 4.2)",
    input: enc("123-First line\r\nSecond line\r\n  234 A line beginning with numbers\r\n123 The last line\r\n"),
    replies: [one(123, "123-First line", "Second line", "  234 A line beginning with numbers", "123 The last line")],
  },
  {
    name: "inner lines with digits, other codes and the same code with a dash",
    input: enc("211-Status\r\n200 not the end\r\n211-still inside\r\n2111 no\r\n21 short\r\n211 End\r\n"),
    replies: [one(211, "211-Status", "200 not the end", "211-still inside", "2111 no", "21 short", "211 End")],
  },
  {
    name: "multi-line closed by the code alone",
    input: enc("230-Welcome\r\n230\r\n"),
    replies: [one(230, "230-Welcome", "230")],
  },
  {
    name: "empty inner lines",
    input: enc("220-\r\n\r\n220 x\r\n"),
    replies: [one(220, "220-", "", "220 x")],
  },
  {
    name: "FEAT",
    input: enc("211-Features:\r\n EPRT\r\n EPSV\r\n MDTM\r\n MLST type*;size*;modify*;\r\n UTF8\r\n211 End\r\n"),
    replies: [one(211, "211-Features:", " EPRT", " EPSV", " MDTM", " MLST type*;size*;modify*;", " UTF8", "211 End")],
  },
  {
    name: "several replies in one chunk",
    input: enc("150 Opening\r\n226 Done\r\n221 Bye\r\n"),
    replies: [one(150, "150 Opening"), one(226, "226 Done"), one(221, "221 Bye")],
  },
  {
    name: "UTF-8 text",
    input: enc('257 "/héllo/世界/😀" created\r\n'),
    replies: [one(257, '257 "/héllo/世界/😀" created')],
  },
  {
    name: "bytes invalid in UTF-8 kept as escapes",
    input: Uint8Array.of(...enc('257 "/a'), 0xff, 0xe9, ...enc('"\r\n')),
    replies: [one(257, '257 "/a\udcff\udce9"')],
  },
  {
    name: "latin-1",
    input: Uint8Array.of(...enc('257 "/caf'), 0xe9, ...enc('"\r\n')),
    options: { encoding: "latin-1" },
    replies: [one(257, '257 "/café"')],
  },
  { name: "clean EOF", input: enc("221 Bye\r\n"), eof: true, replies: [one(221, "221 Bye")], end: "done" },
  { name: "EOF inside a line", input: enc("221 By"), eof: true, end: "ERR_FTP_EOF_IN_REPLY" },
  { name: "EOF in a multi-line reply", input: enc("211-a\r\nb\r\n"), eof: true, end: "ERR_FTP_EOF_IN_REPLY" },
  { name: "code 999", input: enc("999 nope\r\n"), end: "ERR_FTP_BAD_REPLY" },
  { name: "code 600", input: enc("600 nope\r\n"), end: "ERR_FTP_BAD_REPLY" },
  { name: "code 099", input: enc("099 nope\r\n"), end: "ERR_FTP_BAD_REPLY" },
  { name: "two digits", input: enc("20 nope\r\n"), end: "ERR_FTP_BAD_REPLY" },
  { name: "letters", input: enc("abc\r\n"), end: "ERR_FTP_BAD_REPLY" },
  { name: "no separator", input: enc("200x\r\n"), end: "ERR_FTP_BAD_REPLY" },
  { name: "empty line", input: enc("\r\n"), end: "ERR_FTP_BAD_REPLY" },
  {
    name: "a good reply, then garbage",
    input: enc("200 ok\r\nHTTP/1.1 400 Bad Request\r\n"),
    replies: [one(200, "200 ok")],
    end: "ERR_FTP_BAD_REPLY",
  },
  {
    name: "a line of exactly maxLine bytes",
    input: enc(`200 ${"x".repeat(26)}\r\n`),
    options: { maxLine: 32 },
    replies: [one(200, `200 ${"x".repeat(26)}`)],
  },
  {
    name: "a line one byte over maxLine",
    input: enc(`200 ${"x".repeat(27)}\r\n`),
    options: { maxLine: 32 },
    end: "ERR_FTP_LINE_TOO_LONG",
  },
  {
    name: "an endless multi-line reply",
    input: enc(`211-start\r\n${"inner line\r\n".repeat(20)}`),
    options: { maxLine: 32, maxReplySize: 100 },
    end: "ERR_FTP_REPLY_TOO_LARGE",
  },
];

describe("ReplyDecoder fixtures", () => {
  for (const fixture of fixtures) {
    describe(fixture.name, () => {
      const expected: Outcome = {
        replies: fixture.replies ?? [],
        end: fixture.end ?? (fixture.eof ? "done" : "need-data"),
      };
      for (const feeding of feedings(fixture.input)) {
        if (fixture.eof && feeding.trailing.length > 0) continue;
        it(`fed ${feeding.name}`, () => {
          const outcome = decode(feeding.chunks, fixture.eof ?? false, fixture.options);
          expect(outcome).toEqual(expected);
        });
      }
    });
  }
});

describe("ReplyDecoder bounds", () => {
  it("refuses a 10 MB line without buffering it", () => {
    const decoder = new ReplyDecoder();
    const big = new Uint8Array(10 * 1024 * 1024).fill(0x41);
    decoder.receive(enc("200 "));
    expect(decoder.next()).toBeNull();
    decoder.receive(big);
    expect(() => decoder.next()).toThrow(/more than 8192 bytes/);
  });

  it("holds at most maxLine - 1 bytes of an incomplete line", () => {
    const decoder = new ReplyDecoder({ maxLine: 64 });
    decoder.receive(enc("200 "));
    for (let i = 0; i < 59; i++) {
      decoder.receive(enc("x"));
      expect(decoder.next()).toBeNull();
      expect(decoder.bufferedBytes).toBeLessThan(64);
    }
    decoder.receive(enc("x"));
    expect(() => decoder.next()).toThrow(RemoteProtocolError);
  });

  it("rejects a maxReplySize below maxLine", () => {
    expect(() => new ReplyDecoder({ maxLine: 100, maxReplySize: 50 })).toThrow(RangeError);
  });
});
