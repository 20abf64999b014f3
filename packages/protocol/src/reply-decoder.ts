/**
 * Frames replies out of the control connection's bytes (RFC 959 4.2).
 *
 * A reply is one line `123 text`, or lines from `123-text` to the first line that starts with
 * `123 ` (or is exactly `123`); lines between may start with anything, digits and other codes
 * included. Framing works on bytes; each line is decoded once it is framed.
 */
import { type TextEncoding, resolveEncoding } from "./encoding.js";
import { RemoteProtocolError } from "./errors.js";
import { LineReader } from "./line-reader.js";
import { Reply } from "./reply.js";

export interface ReplyDecoderOptions {
  /** The longest line, counting its line ending (default 8192, as ftplib). */
  maxLine?: number;
  /** The largest reply, all lines counted (default 1 MiB): a bound on endless multi-line replies. */
  maxReplySize?: number;
  /** The control connection's encoding (default UTF-8). */
  encoding?: string | TextEncoding;
}

const SPACE = 0x20;
const DASH = 0x2d;

function isDigit(b: number | undefined): boolean {
  return b !== undefined && b >= 0x30 && b <= 0x39;
}

export class ReplyDecoder {
  readonly maxReplySize: number;
  readonly encoding: TextEncoding;
  private readonly reader: LineReader;
  /** The code of a multi-line reply in progress, as its three bytes packed; -1 when none. */
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

  /** True while a reply is partly received. */
  get inReply(): boolean {
    return this.openCode >= 0 || this.reader.bufferedBytes > 0;
  }

  get bufferedBytes(): number {
    return this.reader.bufferedBytes;
  }

  /** Takes the bytes received after the last reply (after a 234 to AUTH, before TLS starts). */
  takeBuffered(): Uint8Array {
    return this.reader.takeBuffered();
  }

  /**
   * The next complete reply, or `null` when more bytes are needed (or the stream is done).
   * Throws {@link RemoteProtocolError} for malformed input, or an end inside a reply.
   */
  next(): Reply | null {
    for (;;) {
      const line = this.reader.nextLine();
      if (line === null) {
        if (this.reader.done && this.openCode >= 0) this.endedInReply();
        return null;
      }
      if (this.reader.lastLineUnterminated) this.endedInReply();
      const reply = this.openCode < 0 ? this.firstLine(line) : this.continuation(line);
      if (reply !== null) return reply;
    }
  }

  private firstLine(line: Uint8Array): Reply | null {
    const b0 = line[0];
    const sep = line[3];
    if (
      b0 === undefined || b0 < 0x31 || b0 > 0x35 || !isDigit(line[1]) || !isDigit(line[2]) ||
      (sep !== undefined && sep !== SPACE && sep !== DASH)
    ) {
      const shown = this.encoding.decode(line.subarray(0, 80));
      throw new RemoteProtocolError(
        `reply without a valid code: ${JSON.stringify(shown)}`,
        "ERR_FTP_BAD_REPLY",
      );
    }
    const text = this.encoding.decode(line);
    const code = (b0 - 0x30) * 100 + (line[1]! - 0x30) * 10 + (line[2]! - 0x30);
    if (sep !== DASH) return new Reply(code, [text]);
    this.openCode = code;
    this.openLines = [text];
    this.openSize = line.length;
    return null;
  }

  private continuation(line: Uint8Array): Reply | null {
    this.openSize += line.length + 2;
    if (this.openSize > this.maxReplySize) {
      throw new RemoteProtocolError(
        `a multi-line reply exceeded ${this.maxReplySize} bytes`,
        "ERR_FTP_REPLY_TOO_LARGE",
      );
    }
    this.openLines.push(this.encoding.decode(line));
    const code = this.openCode;
    const closes =
      line[0] === 0x30 + Math.floor(code / 100) &&
      line[1] === 0x30 + (Math.floor(code / 10) % 10) &&
      line[2] === 0x30 + (code % 10) &&
      (line.length === 3 || line[3] === SPACE);
    if (!closes) return null;
    const reply = new Reply(code, this.openLines);
    this.openCode = -1;
    this.openLines = [];
    return reply;
  }

  private endedInReply(): never {
    throw new RemoteProtocolError("connection closed in the middle of a reply", "ERR_FTP_EOF_IN_REPLY");
  }
}
