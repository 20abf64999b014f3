/**
 * The transcript format: every form written reads back to the same events and the same text;
 * what cannot be read is reported with its line.
 */
import { describe, expect, it } from "vitest";
import { TranscriptSyntaxError, formatTranscript, parseTranscript, patternBytes } from "../src/index.js";
import { normaliseCommand, normaliseReply } from "../src/recording-transport.js";
import { commandMatches } from "../src/replay-transport.js";
import { ContentBuilder, contentBytes, describeContent } from "../src/transcript.js";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("content forms", () => {
  it.each([
    ["text-crlf", bytes("a\r\nb\r\n")],
    ["text-lf", bytes("a\nb\n")],
    ["base64", bytes("no final newline")],
    ["base64", Uint8Array.from([0, 1, 2, 255])],
    ["base64", bytes("mixed\r\nendings\n")],
    ["pattern", patternBytes(5000)],
    ["digest", new Uint8Array(5000).fill(9)],
  ])("%s", (form, data) => {
    const content = describeContent(data);
    expect(content.form).toBe(form);
    const text = formatTranscript({ comments: [], events: [{ kind: "recv", stream: 1, content, line: 0 }] });
    const [event] = parseTranscript(text).events;
    expect(event).toMatchObject({
      kind: "recv",
      stream: 1,
      content: { length: data.length, sha256: content.sha256, form },
    });
    if (form !== "digest") expect(contentBytes((event as { content: typeof content }).content)).toEqual(data);
  });
});

describe("content gathered chunk by chunk", () => {
  const random = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 2654435761) >>> 24);
  it.each([
    ["empty", new Uint8Array(0)],
    ["short text", bytes("a\r\nb\r\n")],
    ["text at the inline limit", bytes(`${"x".repeat(4094)}\r\n`)],
    ["pattern", patternBytes(100_000)],
    ["pattern, then one other byte", Uint8Array.from([...patternBytes(9000), 1])],
    ["other bytes", random],
  ])("%s: described as describeContent does the whole, holding no more than the inline limit", (_name, data) => {
    for (const size of [1, 1000, 65_536]) {
      const builder = new ContentBuilder();
      const chunk = new Uint8Array(size);
      for (let at = 0; at < data.length; at += size) {
        // One buffer reused for every chunk, as transports do.
        const part = data.subarray(at, at + size);
        chunk.set(part);
        builder.add(chunk.subarray(0, part.length));
      }
      if (data.length > 4096) expect(builder.bytes()).toBeUndefined();
      expect(builder.content()).toEqual(describeContent(data));
    }
  });
});

describe("reading and writing", () => {
  it.each([
    ["connect ipv4\n", 1, 'expected "ftplib-transcript 1" first'],
    ["ftplib-transcript 1\nconnect ipv5\n", 2, "connect needs ipv4 or ipv6"],
    ["ftplib-transcript 1\ndata 1 recv text crlf 2 lines\n| one\n", 2, "2 text lines announced, 1 found"],
    ["ftplib-transcript 1\ndata 1 recv 3 bytes sha256:00\n", 2, "expected sha256:<64 hex digits>"],
    ["ftplib-transcript 1\n< 220 hi\nwhatever\n", 3, 'unknown event "whatever"'],
  ])("a bad transcript names the line: %j", (text, line, problem) => {
    const error = (() => {
      try {
        parseTranscript(text, "bad.txt");
      } catch (e) {
        return e as TranscriptSyntaxError;
      }
    })();
    expect(error).toBeInstanceOf(TranscriptSyntaxError);
    expect(error?.line).toBe(line);
    expect(error?.message).toBe(`bad.txt:${line}: ${problem}`);
  });
});

describe("normalisation", () => {
  it("replaces data ports and masks passwords", () => {
    expect(normaliseCommand("PORT 127,0,0,1,156,64")).toBe("PORT 127,0,0,1,{p1},{p2}");
    expect(normaliseCommand("EPRT |2|::1|40000|")).toBe("EPRT |2|::1|{port}|");
    expect(normaliseCommand("PASS hunter2")).toBe("PASS ********");
    expect(normaliseCommand("PASS hunter2", true)).toBe("PASS hunter2");
    expect(normaliseReply("229 Entering Extended Passive Mode (|||40001|)")).toBe(
      "229 Entering Extended Passive Mode (|||{port}|)",
    );
    expect(normaliseReply("227 Entering Passive Mode (127,0,0,1,156,65).")).toBe(
      "227 Entering Passive Mode (127,0,0,1,{p1},{p2}).",
    );
  });

  it("placeholders match loosely on replay, and nothing else does", () => {
    expect(commandMatches("PORT 127,0,0,1,{p1},{p2}", "PORT 127,0,0,1,156,64")).toBe(true);
    expect(commandMatches("PORT 127,0,0,1,{p1},{p2}", "PORT 127,0,0,2,156,64")).toBe(false);
    expect(commandMatches("PASS ********", "PASS anything")).toBe(true);
    expect(commandMatches("USER ********", "USER anything")).toBe(false);
    expect(commandMatches("SITE {*}", "SITE CHMOD 644 x")).toBe(true);
    expect(commandMatches("CWD a.b", "CWD axb")).toBe(false);
  });
});
