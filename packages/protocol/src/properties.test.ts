/**
 * Properties over generated input: decoding undoes encoding, and no input makes the decoder throw
 * anything but its typed protocol error or hold more than its bound.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeCommand } from "./command.js";
import { ControlCodec, NEED_DATA } from "./control-codec.js";
import { RemoteProtocolError } from "./errors.js";
import { LineReader } from "./line-reader.js";
import { ReplyDecoder } from "./reply-decoder.js";
import { encodeReply } from "./reply-encoder.js";
import { utf8 } from "./encoding.js";

const RUNS = Number(process.env.FTPLIB_FUZZ_RUNS ?? 1000);

const lineText = fc
  .string({ unit: "binary", maxLength: 60 })
  .filter((s) => !/[\r\n\0]/.test(s) && !/[\ud800-\udfff]/.test(s));
const code = fc.integer({ min: 100, max: 599 });

/** Splits bytes into chunks at the given cut points. */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let last = 0;
  for (const p of [...points, bytes.length]) {
    if (p > last) chunks.push(bytes.subarray(last, p));
    last = Math.max(last, p);
  }
  return chunks;
}

describe("properties", () => {
  it("decodes what encodeReply encodes, however it is split", () => {
    const reply = fc
      .tuple(code, fc.array(lineText, { minLength: 1, maxLength: 6 }))
      .filter(([c, lines]) => lines.slice(1, -1).every((l) => !l.startsWith(`${c} `) && l !== String(c)));
    fc.assert(
      fc.property(
        fc.array(reply, { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (replies, cuts) => {
          const bytes = replies.map(([c, lines]) => encodeReply(c, lines));
          const all = new Uint8Array(bytes.reduce((n, b) => n + b.length, 0));
          bytes.reduce((at, b) => (all.set(b, at), at + b.length), 0);
          const decoder = new ReplyDecoder({ maxLine: 1 << 16 });
          const got: [number, string[]][] = [];
          for (const chunk of split(all, cuts)) {
            decoder.receive(chunk);
            for (let r = decoder.next(); r !== null; r = decoder.next()) {
              got.push([r.code, r.lines.map((l, i) => (i === 0 || i === r.lines.length - 1 ? l.slice(4) : l))]);
            }
          }
          expect(got).toEqual(replies);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("decodes the bytes of a command back to the same line (UTF-8, any bytes)", () => {
    const verb = fc.stringMatching(/^[A-Z]{3,4}$/);
    const argument = fc.uint8Array({ maxLength: 100 }).map((b) => b.filter((x) => x !== 0 && x !== 10 && x !== 13));
    fc.assert(
      fc.property(verb, argument, (v, arg) => {
        const line = `${v} ${utf8.decode(arg)}`;
        const bytes = encodeCommand(line);
        expect(bytes.subarray(-2)).toEqual(Uint8Array.of(13, 10));
        const reader = new LineReader(1 << 16);
        reader.push(bytes);
        expect(utf8.decode(reader.nextLine()!)).toBe(line);
        expect(Array.from(bytes.subarray(v.length + 1, -2))).toEqual(Array.from(arg));
      }),
      { numRuns: RUNS },
    );
  });

  it("throws nothing but RemoteProtocolError on any input, and holds at most maxLine - 1 bytes when waiting", () => {
    const maxLine = 64;
    const noisy = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc
        .array(
          fc.constantFrom("200 ok\r\n", "211-x\r\n", "211 y\r\n", "\r\n", "\n", "99", "5", "-", " ", "x".repeat(70)),
          { maxLength: 20 },
        )
        .map((parts) => new TextEncoder().encode(parts.join(""))),
    );
    fc.assert(
      fc.property(fc.array(noisy, { maxLength: 8 }), fc.boolean(), (chunks, eof) => {
        const decoder = new ReplyDecoder({ maxLine, maxReplySize: 256 });
        try {
          for (const chunk of chunks) {
            decoder.receive(chunk);
            while (decoder.next() !== null);
            expect(decoder.bufferedBytes).toBeLessThan(maxLine);
          }
          if (eof) {
            decoder.receiveEof();
            while (decoder.next() !== null);
          }
        } catch (error) {
          expect(RemoteProtocolError.isInstance(error), String(error)).toBe(true);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("never lets the codec throw an untyped error while pumping random replies", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 10 }), (chunks) => {
        const codec = new ControlCodec({ maxLine: 32, maxReplySize: 64 });
        try {
          for (const chunk of chunks) {
            codec.receive(chunk);
            for (let e = codec.nextEvent(); e !== NEED_DATA; e = codec.nextEvent()) {
              if (e.type !== "reply") break;
            }
          }
        } catch (error) {
          expect(RemoteProtocolError.isInstance(error), String(error)).toBe(true);
        }
      }),
      { numRuns: RUNS },
    );
  });
});
