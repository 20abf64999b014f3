import { describe, expect, it } from "vitest";
import { commandLine, commandVerb, encodeCommand, maskCommand } from "./command.js";
import { LocalProtocolError } from "./errors.js";

const bytes = (b: Uint8Array) => Array.from(b);

describe("encodeCommand", () => {
  it("appends CRLF and encodes UTF-8 by default", () => {
    expect(bytes(encodeCommand("CWD é"))).toEqual([0x43, 0x57, 0x44, 0x20, 0xc3, 0xa9, 0x0d, 0x0a]);
  });

  it("encodes latin-1 when asked", () => {
    expect(bytes(encodeCommand("CWD é", "latin-1"))).toEqual([0x43, 0x57, 0x44, 0x20, 0xe9, 0x0d, 0x0a]);
  });

  it("refuses text the encoding cannot hold", () => {
    expect(() => encodeCommand("CWD 世界", "latin-1")).toThrow(/cannot be encoded in latin-1/);
  });

  it("sends a name read back from the server byte for byte", () => {
    // 0xff is not UTF-8; decoded it became U+DCFF, and it goes back as 0xff.
    expect(bytes(encodeCommand("DELE a\udcff"))).toEqual([0x44, 0x45, 0x4c, 0x45, 0x20, 0x61, 0xff, 0x0d, 0x0a]);
  });

  it("refuses CR, LF and NUL anywhere (ftplib's ValueError cases and more)", () => {
    for (const line of ["echo 40\r\n0", "echo 40\n0", "echo 40\r0", "RETR \0", "NOOP\r", "NOOP\n"]) {
      expect(() => encodeCommand(line)).toThrow(LocalProtocolError);
    }
  });

  it("requires a verb of letters", () => {
    for (const line of ["", " NOOP", "1234", "NO-OP x", "\u00e9x"]) {
      expect(() => encodeCommand(line)).toThrow(/verb of letters/);
    }
    expect(() => encodeCommand("site chmod 755 x")).not.toThrow();
    expect(() => encodeCommand("XSHA256 f")).not.toThrow();
    expect(() => encodeCommand("1XSHA f")).toThrow(/verb of letters/);
  });
});

describe("command helpers", () => {
  it("joins and splits verbs", () => {
    expect(commandLine("RETR", "a b")).toBe("RETR a b");
    expect(commandLine("PWD")).toBe("PWD");
    expect(commandVerb("retr a b")).toBe("RETR");
    expect(commandVerb("noop")).toBe("NOOP");
  });

  it("masks passwords and accounts with a fixed length, as ftplib's sanitize does without the length", () => {
    expect(maskCommand("PASS 12345")).toBe("PASS ********");
    expect(maskCommand("pass 12345")).toBe("pass ********");
    expect(maskCommand("ACCT secret")).toBe("ACCT ********");
    expect(maskCommand("PASS")).toBe("PASS");
    expect(maskCommand("USER bob")).toBe("USER bob");
    expect(maskCommand("PASSWORD x")).toBe("PASSWORD x");
  });
});
