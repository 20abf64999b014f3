/**
 * Fuzzing: every parser and the codec's state machine on generated input, random and shaped like
 * the real thing. Nothing may throw but the typed errors, and what parses must make sense (ports in
 * range, sizes safe integers, dates valid). FTPLIB_FUZZ_RUNS sets the runs per property (the
 * hardening run uses many more).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  buildEprtArgument,
  buildPortArgument,
  isIPv4,
  isIPv6,
  parseEprtArgument,
  parsePortArgument,
} from "./data-address.js";
import { ControlCodec, NEED_DATA, PAUSED } from "./control-codec.js";
import { latin1, utf8 } from "./encoding.js";
import { ErrorProto, ErrorReply, LocalProtocolError, RemoteProtocolError } from "./errors.js";
import { LineReader } from "./line-reader.js";
import { parseMlstReply, parseMlsxEntry } from "./mlsx.js";
import { parse150 } from "./parse-150.js";
import { parseMdtm, parseSize, parseTimeValue } from "./parse-213.js";
import { parse257 } from "./parse-257.js";
import { parseFeat } from "./parse-feat.js";
import { parse227, parse229 } from "./parse-pasv.js";

const RUNS = Number(process.env.FTPLIB_FUZZ_RUNS ?? 1000);
const options = { numRuns: RUNS };

/** Runs `parse`; a throw must be one of `allowed`. Returns the result, or undefined after a typed throw. */
function typed<T>(
  parse: () => T,
  allowed: readonly { isInstance(value: unknown): boolean }[] = [ErrorReply, ErrorProto],
): T | undefined {
  try {
    return parse();
  } catch (error) {
    if (!allowed.some((kind) => kind.isInstance(error))) throw error;
    return undefined;
  }
}

/** Text of any code units, lone surrogates and controls included. */
const anyText = fc.string({ unit: "binary", maxLength: 120 });
/** Digits, separators and noise, the alphabet of the things parsed here. */
const shapedText = fc
  .array(
    fc.constantFrom(
      "0",
      "1",
      "2",
      "5",
      "9",
      "255",
      "256",
      "65535",
      "65536",
      "99999999999999999999",
      ",",
      "|",
      "(",
      ")",
      " ",
      '"',
      ";",
      "=",
      ".",
      ":",
      "-",
      "\n",
      "x",
      "ü",
      "\udcff",
    ),
    { maxLength: 40 },
  )
  .map((parts) => parts.join(""));
const text = fc.oneof(anyText, shapedText);
const withPrefix = (prefixes: string[]) => fc.tuple(fc.constantFrom(...prefixes), text).map(([p, t]) => p + t);

const validPort = (port: number) => Number.isInteger(port) && port >= 1 && port <= 65535;

describe("fuzzing the reply parsers", () => {
  it("parse227: a dotted quad and a port in range, or ErrorReply/ErrorProto", () => {
    fc.assert(
      fc.property(fc.oneof(text, withPrefix(["227 ", "227 Entering Passive Mode (", "227 ("])), (resp) => {
        const result = typed(() => parse227(resp));
        if (result !== undefined) {
          expect(isIPv4(result[0])).toBe(true);
          expect(validPort(result[1])).toBe(true);
        }
      }),
      options,
    );
  });

  it("parse229: the peer and a port in range, or ErrorReply/ErrorProto", () => {
    fc.assert(
      fc.property(
        fc.oneof(text, withPrefix(["229 (", "229 Entering Extended Passive Mode (|||", "229 (!!!"])),
        (resp) => {
          const result = typed(() => parse229(resp, "192.0.2.1"));
          if (result !== undefined) {
            expect(result[0]).toBe("192.0.2.1");
            expect(validPort(result[1])).toBe(true);
          }
        },
      ),
      options,
    );
  });

  it("parse150, parseSize, parseMdtm, parseTimeValue: safe integers and valid dates only", () => {
    fc.assert(
      fc.property(fc.oneof(text, withPrefix(["150 Opening (", "150 x (", "213 ", "213 2026"])), (resp) => {
        const announced = typed(() => parse150(resp));
        if (announced !== undefined && announced !== null)
          expect(Number.isSafeInteger(announced) && announced >= 0).toBe(true);
        const size = typed(() => parseSize(resp));
        if (size !== undefined) expect(Number.isSafeInteger(size) && size >= 0).toBe(true);
        const date = typed(() => parseMdtm(resp));
        if (date !== undefined) expect(Number.isNaN(date.getTime())).toBe(false);
        const time = parseTimeValue(resp.slice(4));
        if (time !== null) expect(Number.isNaN(time.getTime())).toBe(false);
      }),
      options,
    );
  });

  it("parseTimeValue reads back the time of any instant from year 1 to 9999", () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1000, 0, 1), max: Date.UTC(9999, 11, 31, 23, 59, 59, 999) }), (ms) => {
        const text = new Date(ms).toISOString().replace(/[-:TZ]/g, "");
        expect(parseTimeValue(text)?.getTime()).toBe(ms);
      }),
      options,
    );
    expect(parseTimeValue("00010101000000")?.toISOString()).toBe("0001-01-01T00:00:00.000Z");
    expect(parseTimeValue("20000229120000")?.toISOString()).toBe("2000-02-29T12:00:00.000Z");
    expect(parseTimeValue("19000229120000")).toBeNull();
  });

  it("parse257 and parseFeat: strings and maps, or ErrorReply", () => {
    fc.assert(
      fc.property(fc.oneof(text, withPrefix(['257 "', "211-Features:\n", "211-x\n "])), (resp) => {
        const name = typed(() => parse257(resp), [ErrorReply]);
        if (name !== undefined) expect(typeof name).toBe("string");
        const features = typed(() => parseFeat(resp), [ErrorReply]);
        if (features !== undefined)
          for (const [key, value] of features) expect(typeof key === "string" && typeof value === "string").toBe(true);
      }),
      options,
    );
  });

  it("parseMlsxEntry and parseMlstReply: facts that inherit nothing, or ErrorProto/ErrorReply", () => {
    const factName = fc.constantFrom("type", "size", "modify", "__proto__", "constructor", "toString", "UNIX.mode", "");
    const mlsxLine = fc
      .tuple(fc.array(fc.tuple(factName, text), { maxLength: 5 }), text)
      .map(([facts, name]) => `${facts.map(([k, v]) => `${k}=${v}`).join(";")}; ${name}`);
    fc.assert(
      fc.property(fc.oneof(text, mlsxLine), (line) => {
        const entry = typed(() => parseMlsxEntry(line));
        if (entry !== undefined) {
          expect(Object.getPrototypeOf(Object.getPrototypeOf(entry[1]))).toBe(null);
          for (const name of ["toString", "constructor", "hasOwnProperty"]) {
            if (!Object.hasOwn(entry[1], name)) expect(entry[1][name]).toBeUndefined();
          }
          expect(typeof entry[0]).toBe("string");
        }
        typed(() => parseMlstReply(`250-x\n ${line}\n250 End`));
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      options,
    );
  });

  it("PORT and EPRT arguments: valid addresses and ports, or ErrorProto; what is built parses back", () => {
    fc.assert(
      fc.property(fc.oneof(text, withPrefix(["|1|", "|2|", "127,0,0,1,"])), (argument) => {
        for (const parse of [parsePortArgument, parseEprtArgument]) {
          const result = typed(() => parse(argument), [ErrorProto]);
          if (result !== undefined) {
            expect(isIPv4(result[0]) || isIPv6(result[0])).toBe(true);
            expect(validPort(result[1])).toBe(true);
          }
        }
      }),
      options,
    );
    fc.assert(
      fc.property(fc.ipV4(), fc.ipV6(), fc.integer({ min: -2, max: 70000 }), (v4, v6, port) => {
        const built = typed(() => buildPortArgument(v4, port), [LocalProtocolError]);
        expect(built === undefined).toBe(!validPort(port));
        if (built !== undefined) expect(parsePortArgument(built)).toEqual([v4, port]);
        for (const host of [v4, v6]) {
          const eprt = typed(() => buildEprtArgument(host, port), [LocalProtocolError]);
          if (eprt !== undefined) expect(parseEprtArgument(eprt)[1]).toBe(port);
        }
      }),
      options,
    );
  });
});

describe("fuzzing the codec", () => {
  it("LineReader: only RemoteProtocolError, no line over maxLine, every byte accounted for", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 80 }), { maxLength: 10 }),
        fc.integer({ min: 4, max: 64 }),
        (chunks, maxLine) => {
          const reader = new LineReader(maxLine);
          let bytes = 0;
          try {
            for (const chunk of chunks) {
              reader.push(chunk);
              for (let line = reader.nextLine(); line !== null; line = reader.nextLine()) {
                expect(reader.lastLineBytes).toBeLessThanOrEqual(maxLine);
                bytes += reader.lastLineBytes;
              }
            }
            reader.end();
            for (let line = reader.nextLine(); line !== null; line = reader.nextLine()) bytes += reader.lastLineBytes;
            expect(bytes).toBe(chunks.reduce((n, c) => n + c.length, 0));
          } catch (error) {
            expect(RemoteProtocolError.isInstance(error), String(error)).toBe(true);
          }
        },
      ),
      options,
    );
  });

  it("decoding any bytes never throws, and encoding gives the same bytes back (UTF-8 and latin-1)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        for (const encoding of [utf8, latin1])
          expect(Array.from(encoding.encode(encoding.decode(bytes)))).toEqual(Array.from(bytes));
      }),
      options,
    );
  });

  it("the state machine under random commands, replies, EOF and resumes: typed errors only, and an error is for good", () => {
    const replyLike = fc.constantFrom(
      "220 hi\r\n",
      "230 ok\r\n",
      "150 go\r\n",
      "226 done\r\n",
      "234 tls\r\n",
      "211-a\r\n",
      "211 b\r\n",
      "421 bye\r\n",
      "200 ok\r\n",
      "1",
      "\r\n",
      "999 x\r\n",
    );
    const op = fc.oneof(
      fc.record({
        kind: fc.constant("send" as const),
        line: fc.oneof(
          fc.constantFrom("USER a", "PASS b", "RETR x", "ABOR", "NOOP", "AUTH TLS", "CCC", "STAT", "QUIT"),
          anyText,
        ),
      }),
      fc.record({
        kind: fc.constant("receive" as const),
        bytes: fc.oneof(
          fc.uint8Array({ maxLength: 40 }),
          replyLike.map((r) => utf8.encode(r)),
        ),
      }),
      fc.constant({ kind: "eof" as const }),
      fc.constant({ kind: "resume" as const }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
        const codec = new ControlCodec({ maxLine: 32, maxReplySize: 64 });
        let failure: unknown;
        for (const step of ops) {
          try {
            if (step.kind === "send") codec.send(step.line);
            else if (step.kind === "receive") codec.receive(step.bytes);
            else if (step.kind === "eof") codec.receiveEof();
            else codec.resume();
            for (
              let e = codec.nextEvent();
              e !== NEED_DATA && e !== PAUSED && e.type === "reply";
              e = codec.nextEvent()
            ) {
              expect(e.reply.code).toBeGreaterThanOrEqual(100);
              expect(e.reply.code).toBeLessThan(600);
            }
          } catch (error) {
            expect(LocalProtocolError.isInstance(error) || RemoteProtocolError.isInstance(error), String(error)).toBe(
              true,
            );
            if (codec.state === "error") {
              // Once failed, every call gives the same error.
              failure ??= error;
              expect(() => codec.nextEvent()).toThrow(failure as Error);
            }
          }
        }
      }),
      options,
    );
  });
});
