/**
 * Frames replies out of the control connection's bytes (RFC 959 4.2).
 *
 * A reply is one line `123 text`, or lines from `123-text` to the first line that starts with
 * `123 ` (or is exactly `123`); lines between may start with anything, digits and other codes
 * included. Lines are framed on bytes, then decoded; the code is checked on the decoded text,
 * where the ASCII digits and separators are the same characters as the bytes.
 */
import { type TextEncoding, resolveEncoding } from "./encoding.js";
import { RemoteProtocolError } from "./errors.js";
import { LineReader } from "./line-reader.js";
import { Reply, leadingCode } from "./reply.js";

export interface ReplyDecoderOptions {
  /** The longest line, counting its line ending (default 8192, as ftplib). */
  maxLine?: number;
  /** The largest reply, all lines counted (default 1 MiB): a bound on endless multi-line replies. */
  maxReplySize?: number;
  /** The control connection's encoding (default UTF-8). */
  encoding?: string | TextEncoding;
}

const DASH = 0x2d;

export class ReplyDecoder {
  readonly maxReplySize: number;
  readonly encoding: TextEncoding;
  private readonly reader: LineReader;
  /** The code of a multi-line reply in progress; -1 when none. */
  private openCode = -1;
  private openLines: string[] = [];
  private openSize = 0;

  constructor(options: ReplyDecoderOptions = {}) {
    const { maxLine = 8192, maxReplySize = 1 << 20 } = options;
    if (!Number.isInteger(maxReplySize) || maxReplySize < maxLine) {
      throw new RangeError(`maxReplySize must be an integer not below maxLine, not ${maxReplySize}`);
    }
    this.reader = new LineReader(maxLine);
    this.maxReplySize = maxReplySize;
    this.encoding = resolveEncoding(options.encoding);
  }

  get maxLine(): number {
    return this.reader.maxLine;
  }

  receive(chunk: Uint8Array): void {
    this.reader.push(chunk);
  }

  receiveEof(): void {
    this.reader.end();
  }

  /** True once the stream ended and every reply in it was returned. */
  get done(): boolean {
    return this.reader.done && this.openCode < 0;
  }

  get bufferedBytes(): number {
    return this.reader.bufferedBytes;
  }

  /**
   * Takes the bytes received after the last reply (after a 234 to AUTH, before TLS starts).
   *
   * @returns the bytes buffered after the last reply.
   */
  takeBuffered(): Uint8Array {
    return this.reader.takeBuffered();
  }

  /**
   * The next complete reply, or `null` when more bytes are needed (or the stream is done).
   * Throws {@link RemoteProtocolError} for malformed input, or an end inside a reply.
   *
   * @returns the reply, or null.
   */
  next(): Reply | null {
    for (;;) {
      const line = this.reader.nextLineText(this.encoding);
      if (line === null) {
        if (this.reader.done && this.openCode >= 0) this.endedInReply();
        return null;
      }
      if (this.reader.lastLineUnterminated) this.endedInReply();
      const reply = this.openCode < 0 ? this.firstLine(line) : this.continuation(line);
      if (reply !== null) return reply;
    }
  }

  private firstLine(line: string): Reply | null {
    const code = leadingCode(line);
    if (code < 0) {
      throw new RemoteProtocolError(
        `reply without a valid code: ${JSON.stringify(line.slice(0, 80))}`,
        "ERR_FTP_BAD_REPLY",
      );
    }
    if (line.charCodeAt(3) !== DASH) return new Reply(code, [line]);
    this.openCode = code;
    this.openLines = [line];
    this.openSize = this.reader.lastLineBytes;
    return null;
  }

  private continuation(line: string): Reply | null {
    this.openSize += this.reader.lastLineBytes;
    if (this.openSize > this.maxReplySize) {
      throw new RemoteProtocolError(
        `a multi-line reply exceeded ${this.maxReplySize} bytes`,
        "ERR_FTP_REPLY_TOO_LARGE",
      );
    }
    this.openLines.push(line);
    if (leadingCode(line) !== this.openCode || line.charCodeAt(3) === DASH) return null;
    const reply = new Reply(this.openCode, this.openLines);
    this.openCode = -1;
    this.openLines = [];
    return reply;
  }

  private endedInReply(): never {
    throw new RemoteProtocolError("connection closed in the middle of a reply", "ERR_FTP_EOF_IN_REPLY");
  }
}
