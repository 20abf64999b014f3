import { describe, expect, it } from "vitest";
import { enc } from "../test/feed.js";
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
});
