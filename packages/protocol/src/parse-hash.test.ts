import { describe, expect, it } from "vitest";
import { ErrorProto, ErrorReply } from "./errors.js";
import { parseHashFeature, parseHashReply, parseXHashReply } from "./parse-hash.js";
import { Reply } from "./reply.js";

const SHA256 = "555812d3df91c5390f2211d729e58eb2005369934ac2ba69eb42913f897f7a7e";

describe("parseHashFeature", () => {
  it("lists the algorithms and the selected one", () => {
    expect(parseHashFeature("CRC32;MD5;SHA-1*;SHA-256;SHA-512;")).toEqual({
      algorithms: ["CRC32", "MD5", "SHA-1", "SHA-256", "SHA-512"],
      selected: "SHA-1",
    });
    expect(parseHashFeature("sha-256*")).toEqual({ algorithms: ["SHA-256"], selected: "SHA-256" });
    expect(parseHashFeature("")).toEqual({ algorithms: [], selected: undefined });
    expect(parseHashFeature(" ; *;MD5")).toEqual({ algorithms: ["MD5"], selected: undefined });
  });
});

describe("parseHashReply", () => {
  it("reads proftpd's reply, after its preliminary line", () => {
    const reply = Reply.fromText(`213-Computing SHA-256 digest\n213 SHA-256 0-12000 ${SHA256} f`);
    expect(parseHashReply(reply, "SHA-256", 64)).toEqual({ algorithm: "SHA-256", start: 0, end: 12000, hex: SHA256 });
  });
  it("keeps a name with spaces out of the digest, and lower-cases it", () => {
    expect(parseHashReply(`213 MD5 0-3 ${"AB".repeat(16)} a name with spaces`, "md5", 32).hex).toBe("ab".repeat(16));
  });
  it("refuses another algorithm, a missing range, a digest of the wrong length or not hex", () => {
    const bad = [
      `213 SHA-1 0-12000 ${SHA256} f`,
      `213 SHA-256 ${SHA256} f`,
      `213 SHA-256 12-3 ${SHA256} f`,
      `213 SHA-256 0-12000 ${SHA256.slice(2)} f`,
      `213 SHA-256 0-12000 ${SHA256.slice(1)}g f`,
      "213 SHA-256",
      "213 ",
    ];
    for (const text of bad) {
      expect(() => parseHashReply(text, "SHA-256", 64), text).toThrow(ErrorProto);
      try {
        parseHashReply(text, "SHA-256", 64);
      } catch (error) {
        expect((error as ErrorProto).code).toBe("ERR_FTP_BAD_HASH");
      }
    }
  });
  it("raises ErrorReply for another code", () => {
    expect(() => parseHashReply(`250 SHA-256 0-1 ${SHA256} f`, "SHA-256", 64)).toThrow(ErrorReply);
  });
});

describe("parseXHashReply", () => {
  it("finds the digest with or without the file name around it", () => {
    expect(parseXHashReply("250-Computing CRC32 digest\n250 AA27903B", 8)).toBe("aa27903b");
    expect(parseXHashReply(`250 ${SHA256.toUpperCase()}`, 64)).toBe(SHA256);
    expect(parseXHashReply(`250 f.bin ${SHA256}`, 64)).toBe(SHA256);
    expect(parseXHashReply(`213 ${SHA256} f.bin`, 64)).toBe(SHA256);
  });
  it("refuses no digest, one of the wrong length, or two", () => {
    for (const text of ["250 OK", `250 ${SHA256.slice(1)}`, "250 AA27903B AA27903C", "250 "]) {
      expect(() => parseXHashReply(text, 8), text).toThrow(ErrorProto);
    }
  });
  it("raises ErrorReply for a reply that is not 2xx", () => {
    expect(() => parseXHashReply("550 f: No such file", 8)).toThrow(ErrorReply);
  });
});
