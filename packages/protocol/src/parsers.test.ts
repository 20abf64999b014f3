import { describe, expect, it } from "vitest";
import {
  buildEprtArgument,
  buildPortArgument,
  isIPv4,
  isIPv6,
  parseEprtArgument,
  parsePortArgument,
  unmapIPv4,
} from "./data-address.js";
import { ErrorProto, ErrorReply, LocalProtocolError } from "./errors.js";
import { parseMlstReply, parseMlsxEntry } from "./mlsx.js";
import { parse150 } from "./parse-150.js";
import { parseMdtm, parseSize, parseTimeValue } from "./parse-213.js";
import { parse257 } from "./parse-257.js";
import { parseFeat } from "./parse-feat.js";
import { parse227, parse229 } from "./parse-pasv.js";
import { Reply } from "./reply.js";

describe("parse150", () => {
  it("finds the size, or null", () => {
    expect(parse150("150 Opening BINARY mode data connection for f (1234 bytes)")).toBe(1234);
    expect(parse150("150 opening binary MODE for x (0 BYTES)")).toBe(0);
    expect(parse150("150 Ok to send data.")).toBeNull();
    expect(parse150(Reply.fromText("150 Opening (99 bytes)"))).toBe(99);
    expect(parse150("150 x (99999999999999999999 bytes)")).toBeNull();
  });
  it("raises ErrorReply for another code", () => {
    expect(() => parse150("125 Data connection already open (5 bytes)")).toThrow(ErrorReply);
  });
});

describe("parse227", () => {
  it("finds the address anywhere in the text", () => {
    expect(parse227("227 Entering Passive Mode (127,0,0,1,4,1)")).toEqual(["127.0.0.1", 1025]);
    expect(parse227("227 Entering Passive Mode 10,1,2,3,255,255")).toEqual(["10.1.2.3", 65535]);
    expect(parse227("227 =127,0,0,1,0,21")).toEqual(["127.0.0.1", 21]);
  });
  it("raises ErrorProto for no address, numbers over 255 or port 0, ErrorReply for another code", () => {
    expect(() => parse227("227 Entering Passive Mode")).toThrow(ErrorProto);
    expect(() => parse227("227 (127,0,0,1,256,1)")).toThrow(ErrorProto);
    expect(() => parse227("227 (127,0,0,999,1,1)")).toThrow(ErrorProto);
    expect(() => parse227("227 (127,0,0,1,0,0)")).toThrow(ErrorProto);
    expect(() => parse227("200 (127,0,0,1,4,1)")).toThrow(ErrorReply);
  });
});

describe("parse229", () => {
  it("takes the port from the reply and the host from the peer", () => {
    expect(parse229("229 Entering Extended Passive Mode (|||6446|)", "::1")).toEqual(["::1", 6446]);
    expect(parse229("229 Entering Extended Passive Mode (!!!6446!)", ["127.0.0.1", 21])).toEqual(["127.0.0.1", 6446]);
  });
  it("raises ErrorProto for malformed replies", () => {
    for (const bad of [
      "229 Entering Extended Passive Mode",
      "229 (|||6446|",
      "229 (|||6446!)",
      "229 (||6446|)",
      "229 (|||abc|)",
      "229 (|||0|)",
      "229 (|||65536|)",
      "229 ()",
      "229 (|)",
    ]) {
      expect(() => parse229(bad, "::1"), bad).toThrow(ErrorProto);
    }
    expect(() => parse229("227 (|||6446|)", "::1")).toThrow(ErrorReply);
  });
});

describe("parse257 (CPython test_parse257)", () => {
  it("unquotes directory names", () => {
    expect(parse257('257 "/foo/bar"')).toBe("/foo/bar");
    expect(parse257('257 "/foo/bar" created')).toBe("/foo/bar");
    expect(parse257('257 ""')).toBe("");
    expect(parse257('257 "" created')).toBe("");
    expect(parse257('257 "/foo/b""ar"')).toBe('/foo/b"ar');
    expect(parse257('257 "/foo/b""ar" created')).toBe('/foo/b"ar');
  });
  it("gives an empty name for an unquoted reply, and ErrorReply for another code", () => {
    expect(parse257("257 /foo/bar created")).toBe("");
    expect(() => parse257('250 "/foo/bar"')).toThrow(ErrorReply);
    // The code must be followed by a space, a dash or the end, as in a framed reply.
    expect(() => parse257('2570 "/foo/bar"')).toThrow(ErrorReply);
    expect(() => parse257('257"/foo/bar"')).toThrow(ErrorReply);
  });
  it("takes the rest of the line when the closing quote is missing", () => {
    expect(parse257('257 "/foo')).toBe("/foo");
  });
});

describe("SIZE and MDTM", () => {
  it("parses sizes", () => {
    expect(parseSize("213 1234")).toBe(1234);
    expect(parseSize("213  56 ")).toBe(56);
    expect(() => parseSize("213 abc")).toThrow(ErrorProto);
    expect(() => parseSize("213 -1")).toThrow(ErrorProto);
    expect(() => parseSize("550 SIZE not allowed in ASCII mode")).toThrow(ErrorReply);
  });
  it("parses times as UTC", () => {
    expect(parseMdtm("213 20241122013045").toISOString()).toBe("2024-11-22T01:30:45.000Z");
    expect(parseMdtm("213 20241122013045.123").toISOString()).toBe("2024-11-22T01:30:45.123Z");
    expect(parseTimeValue("19980615100045.5")?.toISOString()).toBe("1998-06-15T10:00:45.500Z");
    expect(parseTimeValue("20240230000000")).toBeNull();
    expect(parseTimeValue("20241322000000")).toBeNull();
    expect(parseTimeValue("2024")).toBeNull();
    expect(() => parseMdtm("213 yesterday")).toThrow(ErrorProto);
  });
});

describe("parseFeat", () => {
  it("maps features to parameters", () => {
    const feat = parseFeat(
      "211-Extensions supported:\n MLST size*;create;modify*;perm;\n SIZE\n rest stream\n AUTH TLS\n UTF8\n211 END",
    );
    expect([...feat]).toEqual([
      ["MLST", "size*;create;modify*;perm;"],
      ["SIZE", ""],
      ["REST", "stream"],
      ["AUTH", "TLS"],
      ["UTF8", ""],
    ]);
  });
  it("gives none for a single-line reply and raises for another code", () => {
    expect(parseFeat("211 No features").size).toBe(0);
    expect(() => parseFeat("500 FEAT not understood")).toThrow(ErrorReply);
  });
});

describe("parseMlsxEntry (CPython test_mlsd)", () => {
  const entry = (line: string) => {
    const [name, facts] = parseMlsxEntry(line);
    return { name, type: facts.type, perm: facts.perm, unique: facts.unique };
  };
  const plain = { name: "name", type: "type", perm: "perm", unique: "unique" };
  it("splits facts and name", () => {
    expect(entry("type=type;perm=perm;unique=unique; name")).toEqual(plain);
  });
  it("keeps = inside values", () => {
    expect(entry("type=ty=pe;perm=perm;unique=unique; name")).toEqual({ ...plain, type: "ty=pe" });
    expect(entry("type==type;perm=perm;unique=unique; name")).toEqual({ ...plain, type: "=type" });
    expect(entry("type=t=y=pe;perm=perm;unique=unique; name")).toEqual({ ...plain, type: "t=y=pe" });
    expect(entry("type=====;perm=perm;unique=unique; name")).toEqual({ ...plain, type: "====" });
  });
  it("keeps spaces in names", () => {
    expect(entry("type=type;perm=perm;unique=unique; na me").name).toBe("na me");
    expect(entry("type=type;perm=perm;unique=unique; name ").name).toBe("name ");
    expect(entry("type=type;perm=perm;unique=unique;  name").name).toBe(" name");
    expect(entry("type=type;perm=perm;unique=unique; n am  e").name).toBe("n am  e");
  });
  it("keeps semicolons in names", () => {
    expect(entry("type=type;perm=perm;unique=unique; na;me").name).toBe("na;me");
    expect(entry("type=type;perm=perm;unique=unique; ;name").name).toBe(";name");
    expect(entry("type=type;perm=perm;unique=unique; ;name;").name).toBe(";name;");
    expect(entry("type=type;perm=perm;unique=unique; ;;;;").name).toBe(";;;;");
  });
  it("lower-cases fact names", () => {
    const [, facts] = parseMlsxEntry("Type=type;TyPe=perm;UNIQUE=unique; name");
    expect(Object.keys(facts).every((k) => k === k.toLowerCase())).toBe(true);
    expect(facts.unique).toBe("unique");
  });
  it("handles no facts, a missing final semicolon, and hostile fact names", () => {
    expect(parseMlsxEntry(" name")).toEqual(["name", {}]);
    expect(parseMlsxEntry("type=file;size=3 x")[1]).toEqual({ type: "file", size: "3" });
    const [, facts] = parseMlsxEntry("__proto__=x;constructor=y; evil");
    // Nothing inherited: an empty prototype that has none.
    expect(Object.getOwnPropertyNames(Object.getPrototypeOf(facts))).toEqual([]);
    expect(Object.getPrototypeOf(Object.getPrototypeOf(facts))).toBeNull();
    expect(facts.__proto__).toBe("x");
    expect(facts.constructor).toBe("y");
    expect(parseMlsxEntry("type=file; x")[1].toString).toBeUndefined();
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    expect(() => parseMlsxEntry("type=file;no-name")).toThrow(ErrorProto);
  });
  it("reads the entry of an MLST reply", () => {
    const resp = "250-Listing /a b\n type=file;size=5;modify=20200101000000; /a b\n250 End";
    expect(parseMlstReply(resp)).toEqual(["/a b", { type: "file", size: "5", modify: "20200101000000" }]);
    expect(() => parseMlstReply("250 End")).toThrow(ErrorProto);
    expect(() => parseMlstReply("550 No such file")).toThrow(ErrorReply);
  });
});

describe("PORT and EPRT", () => {
  it("builds arguments", () => {
    expect(buildPortArgument("127.0.0.1", 1025)).toBe("127,0,0,1,4,1");
    expect(buildPortArgument("::ffff:10.0.0.1", 65535)).toBe("10,0,0,1,255,255");
    expect(buildEprtArgument("132.235.1.2", 6275)).toBe("|1|132.235.1.2|6275|");
    expect(buildEprtArgument("::1", 5282)).toBe("|2|::1|5282|");
    expect(buildEprtArgument("fe80::1%eth0", 5282)).toBe("|2|fe80::1|5282|");
    expect(buildEprtArgument("::ffff:127.0.0.1", 5282)).toBe("|1|127.0.0.1|5282|");
  });
  it("refuses what cannot be sent", () => {
    expect(() => buildPortArgument("::1", 21)).toThrow(LocalProtocolError);
    expect(() => buildPortArgument("127.0.0.1", 0)).toThrow(LocalProtocolError);
    expect(() => buildPortArgument("127.0.0.1", 70000)).toThrow(LocalProtocolError);
    expect(() => buildEprtArgument("example.com", 21)).toThrow(LocalProtocolError);
  });
  it("parses what it builds", () => {
    expect(parsePortArgument("127,0,0,1,4,1")).toEqual(["127.0.0.1", 1025]);
    expect(parseEprtArgument("|1|132.235.1.2|6275|")).toEqual(["132.235.1.2", 6275]);
    expect(parseEprtArgument("|2|1080::8:800:200C:417A|5282|")).toEqual(["1080::8:800:200C:417A", 5282]);
    for (const bad of ["127,0,0,1,4", "300,0,0,1,4,1", "1,2,3,4,0,0", "a,b,c,d,e,f"]) {
      expect(() => parsePortArgument(bad), bad).toThrow(ErrorProto);
    }
    for (const bad of [
      "|1|::1|21|",
      "|2|1.2.3.4|21|",
      "|3|1.2.3.4|21|",
      "|1|1.2.3.4|0|",
      "1|1.2.3.4|21|",
      "|1|1.2.3.4|21",
    ]) {
      expect(() => parseEprtArgument(bad), bad).toThrow(ErrorProto);
    }
  });
  it("recognises addresses", () => {
    for (const ok of ["0.0.0.0", "127.0.0.1", "255.255.255.255"]) expect(isIPv4(ok), ok).toBe(true);
    for (const no of ["256.0.0.1", "1.2.3", "01.2.3.4x", "::1", ""]) expect(isIPv4(no), no).toBe(false);
    for (const ok of ["::", "::1", "1:2:3:4:5:6:7:8", "fe80::1%eth0", "::ffff:1.2.3.4", "2001:db8::"]) {
      expect(isIPv6(ok), ok).toBe(true);
    }
    for (const no of ["1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", "g::1", "1.2.3.4", ":"]) {
      expect(isIPv6(no), no).toBe(false);
    }
    expect(unmapIPv4("::ffff:127.0.0.1")).toBe("127.0.0.1");
    expect(unmapIPv4("::1")).toBe("::1");
  });
});
