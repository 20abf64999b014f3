import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { latin1, resolveEncoding, singleByteEncoding, utf8 } from "./encoding.js";
import { LocalProtocolError } from "./errors.js";

describe("utf8", () => {
  it("decodes valid UTF-8, short and long", () => {
    const text = "héllo 世界 😀 ".repeat(20);
    expect(utf8.decode(new TextEncoder().encode(text))).toBe(text);
    expect(utf8.decode(new TextEncoder().encode("ascii"))).toBe("ascii");
  });

  it("keeps a leading byte order mark", () => {
    expect(utf8.decode(Uint8Array.of(0xef, 0xbb, 0xbf, 0x61))).toBe("\ufeffa");
  });

  it("escapes invalid bytes as lone surrogates and restores them", () => {
    const cases = [
      [0xff],
      [0xc0, 0x80], // overlong NUL
      [0xed, 0xa0, 0x80], // an encoded surrogate
      [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
      [0xe2, 0x82], // truncated
      [0x61, 0xe9, 0x62], // latin-1 é inside ASCII
    ];
    for (const bytes of cases) {
      const input = Uint8Array.from(bytes);
      const text = utf8.decode(input);
      expect(text).toMatch(/[\udc80-\udcff]/);
      expect(Array.from(utf8.encode(text))).toEqual(bytes);
    }
  });

  it("round-trips any bytes (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(Array.from(utf8.encode(utf8.decode(bytes)))).toEqual(Array.from(bytes));
      }),
      { numRuns: 2000 },
    );
  });

  it("round-trips any well-formed text (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 100 }), (text) => {
        expect(utf8.decode(utf8.encode(text))).toBe(text);
      }),
    );
  });

  it("refuses lone surrogates that are not escapes", () => {
    expect(() => utf8.encode("a\ud800b")).toThrow(LocalProtocolError);
    expect(() => utf8.encode("a\udc00")).toThrow(LocalProtocolError);
  });
});

describe("latin1", () => {
  it("maps each byte to the character of the same number, both ways", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const text = latin1.decode(all);
    expect(text.length).toBe(256);
    expect(text.charCodeAt(0xe9)).toBe(0xe9);
    expect(Array.from(latin1.encode(text))).toEqual(Array.from(all));
    const long = new Uint8Array(10000).fill(0xe9);
    expect(latin1.decode(long)).toBe("é".repeat(10000));
  });

  it("refuses characters above U+00FF", () => {
    expect(() => latin1.encode("€")).toThrow(/cannot be encoded in latin-1/);
  });
});

describe("single-byte encodings", () => {
  it("derives an encoder from the decoder's table (windows-1251)", () => {
    const cp1251 = singleByteEncoding("windows-1251");
    expect(cp1251.decode(Uint8Array.of(0xcf, 0xf0, 0xe8))).toBe("При");
    expect(Array.from(cp1251.encode("При"))).toEqual([0xcf, 0xf0, 0xe8]);
  });

  it("round-trips every byte, undefined ones through escapes", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    for (const label of ["windows-1251", "koi8-r", "iso-8859-2", "windows-1252", "ibm866"]) {
      const encoding = resolveEncoding(label);
      expect(Array.from(encoding.encode(encoding.decode(all))), label).toEqual(Array.from(all));
    }
  });

  it("refuses unknown and multi-byte labels", () => {
    expect(() => singleByteEncoding("no-such-encoding")).toThrow(/unknown encoding/);
    expect(() => singleByteEncoding("shift_jis")).toThrow(/not a single-byte encoding/);
  });

  it("resolves labels and passes objects through", () => {
    expect(resolveEncoding()).toBe(utf8);
    expect(resolveEncoding("UTF8")).toBe(utf8);
    expect(resolveEncoding("latin_1")).toBe(latin1);
    expect(resolveEncoding("ISO-8859-1")).toBe(latin1);
    expect(resolveEncoding(latin1)).toBe(latin1);
    expect(resolveEncoding("cp1251")).toBe(resolveEncoding("cp1251"));
  });
});
