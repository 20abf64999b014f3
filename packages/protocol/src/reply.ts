/**
 * A server reply and what its code means (RFC 959 4.2). This file imports nothing: the error
 * classes depend on it, and the errors made from replies are in reply-errors.ts.
 */

/** The five kinds of reply, by the first digit of the code. */
export type ReplyKind = "preliminary" | "completion" | "intermediate" | "transient" | "permanent";

const KINDS: readonly ReplyKind[] = ["preliminary", "completion", "intermediate", "transient", "permanent"];

const SPACE = 0x20;
const DASH = 0x2d;
const ZERO = 0x30;

/**
 * The code of a line that starts like a reply (`[1-5]dd` then space, dash or end), or -1. The one
 * reading of a code from text: the decoder frames replies with it, and {@link replyIs} and the
 * error classes read ftplib-style text with it. Internal: not exported from the package.
 */
export function leadingCode(line: string): number {
  const a = line.charCodeAt(0) - ZERO;
  const b = line.charCodeAt(1) - ZERO;
  const c = line.charCodeAt(2) - ZERO;
  if (!(a >= 1 && a <= 5 && b >= 0 && b <= 9 && c >= 0 && c <= 9)) return -1;
  const sep = line.charCodeAt(3);
  return line.length === 3 || sep === SPACE || sep === DASH ? a * 100 + b * 10 + c : -1;
}

/** A reply code (`257`) or a class of them, written as RFC 959 does (`"2xx"`: any 2xx). */
export type ReplyCodePattern = number | `${1 | 2 | 3 | 4 | 5}xx`;

/**
 * True when the reply, given as a {@link Reply} or as ftplib-style text, has one of the codes:
 * `replyIs(resp, "2xx")` for any completion, `replyIs(resp, 257)`, `replyIs(resp, 125, 150)`.
 * Text that does not start like a reply (a code, then a space, a dash or its end) has none.
 * Throws RangeError for a number that is not a reply code.
 *
 * @returns true when the code matches one of `codes`.
 */
export function replyIs(resp: Reply | string, ...codes: readonly ReplyCodePattern[]): boolean {
  const code = typeof resp === "string" ? leadingCode(resp) : resp.code;
  for (const expected of codes) {
    if (typeof expected === "string") {
      if (Math.floor(code / 100) === expected.charCodeAt(0) - ZERO) return true;
    } else if (!Number.isInteger(expected) || expected < 100 || expected > 599) {
      throw new RangeError(`not a reply code: ${expected}`);
    } else if (code === expected) {
      return true;
    }
  }
  return false;
}

/** The kind of a reply code: 1xx preliminary, 2xx completion, 3xx intermediate, 4xx transient, 5xx permanent. */
export function replyKind(code: number): ReplyKind {
  const kind = KINDS[Math.floor(code / 100) - 1];
  if (kind === undefined || !Number.isInteger(code) || code > 599) {
    throw new RangeError(`not a reply code: ${code}`);
  }
  return kind;
}

/**
 * One complete reply, single- or multi-line, decoded.
 *
 * @group The ftplib API
 */
export class Reply {
  /** The three-digit code. */
  readonly code: number;
  /** Each line as received, decoded, without its line ending; the first starts with the code. */
  readonly lines: readonly string[];
  /** The whole reply as ftplib returns it: the lines joined by `\n`. */
  readonly text: string;

  constructor(code: number, lines: readonly string[]) {
    this.code = code;
    this.lines = lines;
    this.text = lines.length === 1 ? lines[0]! : lines.join("\n");
  }

  /**
   * Builds a reply from ftplib-style text (`"250 OK"`, or lines joined by `\n`).
   *
   * @returns the reply; RangeError when the text does not start with a reply code.
   */
  static fromText(text: string): Reply {
    const code = leadingCode(text);
    if (code < 0) throw new RangeError(`not a reply: ${JSON.stringify(text)}`);
    return new Reply(code, text.split("\n"));
  }

  get kind(): ReplyKind {
    return replyKind(this.code);
  }

  /** The text after the code on the last line, the part a person reads (`"Transfer complete."`). */
  get message(): string {
    return this.lines[this.lines.length - 1]!.slice(4);
  }

  /**
   * ftplib's text of the reply.
   *
   * @returns the lines joined by `\n`, as ftplib's `getresp` returns them.
   */
  toString(): string {
    return this.text;
  }
}
