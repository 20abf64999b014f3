/**
 * A server reply and what its code means (RFC 959 4.2). This file imports nothing: the error
 * classes depend on it, and the errors made from replies are in reply-errors.ts.
 */

/** The five kinds of reply, by the first digit of the code. */
export type ReplyKind = "preliminary" | "completion" | "intermediate" | "transient" | "permanent";

const KINDS: readonly ReplyKind[] = ["preliminary", "completion", "intermediate", "transient", "permanent"];

/** The kind of a reply code: 1xx preliminary, 2xx completion, 3xx intermediate, 4xx transient, 5xx permanent. */
export function replyKind(code: number): ReplyKind {
  const kind = KINDS[Math.floor(code / 100) - 1];
  if (kind === undefined || !Number.isInteger(code) || code > 599) {
    throw new RangeError(`not a reply code: ${code}`);
  }
  return kind;
}

/** One complete reply, single- or multi-line, decoded. */
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

  /** Builds a reply from ftplib-style text (`"250 OK"`, or lines joined by `\n`). */
  static fromText(text: string): Reply {
    const code = Number(text.slice(0, 3));
    if (!/^[1-5]\d\d(?:[ -]|$)/.test(text)) throw new RangeError(`not a reply: ${JSON.stringify(text)}`);
    return new Reply(code, text.split("\n"));
  }

  get kind(): ReplyKind {
    return replyKind(this.code);
  }

  /** The text after the code on the last line, the part a person reads (`"Transfer complete."`). */
  get message(): string {
    return this.lines[this.lines.length - 1]!.slice(4);
  }

  toString(): string {
    return this.text;
  }
}
