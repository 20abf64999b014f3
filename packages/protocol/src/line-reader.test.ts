import { describe, expect, it } from "vitest";
import { enc } from "../test/feed.js";
import { type TextEncoding, latin1, utf8 } from "./encoding.js";
import { LineReader } from "./line-reader.js";

const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));

function lines(reader: LineReader): (string | null)[] {
  const out: (string | null)[] = [];
  for (let line = reader.nextLine(); line !== null; line = reader.nextLine()) out.push(text(line));
  return out;
}

describe("LineReader", () => {
  it("returns views into the chunk for lines inside it", () => {
    const reader = new LineReader();
    const chunk = enc("a\r\nbb\n");
    reader.push(chunk);
    const first = reader.nextLine()!;
    expect(first.buffer).toBe(chunk.buffer);
    expect(text(first)).toBe("a");
    expect(text(reader.nextLine())).toBe("bb");
    expect(reader.nextLine()).toBeNull();
  });

  it("joins lines across chunks and keeps a lone CR inside a line", () => {
    const reader = new LineReader();
    reader.push(enc("ab"));
    reader.push(enc("c\rd"));
    expect(reader.nextLine()).toBeNull();
    reader.push(enc("e\r"));
    reader.push(enc("\nf"));
    expect(lines(reader)).toEqual(["abc\rde"]);
    expect(reader.bufferedBytes).toBe(1);
  });

  it("returns a last line without LF at the end, and says so", () => {
    const reader = new LineReader();
    reader.push(enc("x\nlast"));
    expect(text(reader.nextLine())).toBe("x");
    expect(reader.lastLineUnterminated).toBe(false);
    reader.end();
    expect(text(reader.nextLine())).toBe("last");
    expect(reader.lastLineUnterminated).toBe(true);
    expect(reader.done).toBe(true);
  });

  it("takes the buffered bytes", () => {
    const reader = new LineReader();
    reader.push(enc("one\ntw"));
    reader.push(enc("o\nthree"));
    expect(text(reader.nextLine())).toBe("one");
    expect(text(reader.takeBuffered())).toBe("two\nthree");
    expect(reader.bufferedBytes).toBe(0);
    expect(reader.nextLine()).toBeNull();
  });

  it("enforces maxLine across chunks, counting the line ending", () => {
    const ok = new LineReader(8);
    ok.push(enc("123"));
    ok.push(enc("456\r\n"));
    expect(text(ok.nextLine())).toBe("123456");
    const over = new LineReader(8);
    over.push(enc("1234"));
    over.push(enc("5678"));
    expect(() => over.nextLine()).toThrow(/more than 8 bytes/);
    expect(() => new LineReader(2)).toThrow(RangeError);
  });

  it("decodes text lines of a large chunk in parts of at most 64 KiB, each line whole, UTF-8 or not", () => {
    // Lines of every length up to 300 bytes, some of them UTF-8, in one chunk of about 300 KiB: lines
    // cross the 64 KiB marks, and a part with a multibyte character is decoded line by line.
    const expected: string[] = [];
    for (let i = 0; expected.join("\n").length < 300 * 1024; i++) {
      const line = "x".repeat((i * 37) % 300) + (i % 97 === 0 ? ` é ${i}` : ` ${i}`);
      expected.push(line);
    }
    const bytes = enc(`${expected.join("\r\n")}\r\n`);
    for (const encoding of [utf8, latin1]) {
      const parts: number[] = [];
      const counting: TextEncoding = {
        ...encoding,
        decodeAligned: (b) => (parts.push(b.length), encoding.decodeAligned!(b)),
      };
      const reader = new LineReader(1024);
      reader.push(bytes);
      const got: string[] = [];
      for (let line = reader.nextLineText(counting); line !== null; line = reader.nextLineText(counting))
        got.push(line);
      const want = encoding === utf8 ? expected : expected.map((line) => line.replace("é", "\u00c3\u00a9"));
      expect(got).toEqual(want);
      expect(Math.max(...parts)).toBeLessThanOrEqual(64 * 1024);
      // Not a decode per line: UTF-8 falls back to that only in parts that hold a multibyte character.
      expect(parts.length).toBeLessThan(encoding === utf8 ? expected.length / 10 : 6);
    }
  });
});
