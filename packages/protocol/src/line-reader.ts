/**
 * Splits a byte stream into lines, for replies and for text transfers.
 *
 * Chunks are kept as they come and lines are returned as views into them, so a line inside one
 * chunk is never copied. Only a line that straddles chunks is copied, into a carry buffer that
 * never holds more than `maxLine` bytes: a longer line is an error as soon as it is seen, however
 * large the chunk. Each byte is scanned once.
 */
import { LocalProtocolError, RemoteProtocolError } from "./errors.js";

const LF = 0x0a;
const CR = 0x0d;
const EMPTY = new Uint8Array(0);

export class LineReader {
  /** The longest line allowed, counting its line ending, as ftplib's `maxline`. */
  readonly maxLine: number;
  private readonly chunks: Uint8Array[] = [];
  private head = 0;
  private pos = 0;
  private carry = EMPTY;
  private carryLength = 0;
  private ended = false;
  private unterminated = false;

  constructor(maxLine = 8192) {
    if (!Number.isInteger(maxLine) || maxLine < 4) {
      throw new RangeError(`maxLine must be an integer of at least 4, not ${maxLine}`);
    }
    this.maxLine = maxLine;
  }

  /** Adds bytes. The reader keeps a reference: the caller must not change them afterwards. */
  push(chunk: Uint8Array): void {
    if (this.ended) throw new LocalProtocolError("data pushed after the end", "ERR_FTP_AFTER_EOF");
    if (chunk.length > 0) this.chunks.push(chunk);
  }

  /** Marks the end of the stream. */
  end(): void {
    this.ended = true;
  }

  /** True once the end was marked and every byte has been returned. */
  get done(): boolean {
    return this.ended && this.head === this.chunks.length && this.carryLength === 0;
  }

  /** True when the last line returned ended at the end of the stream, not at a line feed. */
  get lastLineUnterminated(): boolean {
    return this.unterminated;
  }

  /** Bytes held and not yet returned. */
  get bufferedBytes(): number {
    let n = this.carryLength - this.pos;
    for (let i = this.head; i < this.chunks.length; i++) n += this.chunks[i]!.length;
    return this.head < this.chunks.length ? n : this.carryLength;
  }

  /**
   * The next line without its LF or CRLF, or `null` when no complete line is buffered. At the end
   * of the stream a last line without a line feed is returned too (see `lastLineUnterminated`).
   * The view is valid until the next call.
   */
  nextLine(): Uint8Array | null {
    while (this.head < this.chunks.length) {
      const chunk = this.chunks[this.head]!;
      const start = this.pos;
      const lf = chunk.indexOf(LF, start);
      if (lf === -1) {
        // No line end in this chunk: keep its tail in the carry, bounded by maxLine.
        this.appendCarry(chunk, start, chunk.length);
        this.dropHead();
        continue;
      }
      if (this.carryLength + lf + 1 - start > this.maxLine) this.tooLong();
      let line: Uint8Array;
      if (this.carryLength === 0) {
        line = chunk.subarray(start, lf);
      } else {
        this.appendCarry(chunk, start, lf);
        line = this.carry.subarray(0, this.carryLength);
        this.carryLength = 0;
      }
      this.pos = lf + 1;
      if (this.pos === chunk.length) this.dropHead();
      this.unterminated = false;
      const n = line.length;
      return n > 0 && line[n - 1] === CR ? line.subarray(0, n - 1) : line;
    }
    if (this.ended && this.carryLength > 0) {
      const line = this.carry.subarray(0, this.carryLength);
      this.carryLength = 0;
      this.unterminated = true;
      const n = line.length;
      return n > 0 && line[n - 1] === CR ? line.subarray(0, n - 1) : line;
    }
    return null;
  }

  /** Takes every byte not yet returned as a line, and empties the reader. */
  takeBuffered(): Uint8Array {
    const out = new Uint8Array(this.bufferedBytes);
    out.set(this.carry.subarray(0, this.carryLength));
    let o = this.carryLength;
    for (let i = this.head; i < this.chunks.length; i++) {
      const part = i === this.head ? this.chunks[i]!.subarray(this.pos) : this.chunks[i]!;
      out.set(part, o);
      o += part.length;
    }
    this.chunks.length = 0;
    this.head = this.pos = this.carryLength = 0;
    return out;
  }

  private appendCarry(chunk: Uint8Array, from: number, to: number): void {
    const length = this.carryLength + (to - from);
    // A line of `length` bytes without its LF yet is at least `length + 1` bytes long.
    if (length >= this.maxLine && to === chunk.length) this.tooLong();
    if (length > this.carry.length) {
      const grown = new Uint8Array(Math.min(Math.max(length, this.carry.length * 2, 256), this.maxLine));
      grown.set(this.carry.subarray(0, this.carryLength));
      this.carry = grown;
    }
    this.carry.set(chunk.subarray(from, to), this.carryLength);
    this.carryLength = length;
  }

  private dropHead(): void {
    this.chunks[this.head++] = EMPTY;
    this.pos = 0;
    if (this.head === this.chunks.length) {
      this.chunks.length = 0;
      this.head = 0;
    }
  }

  private tooLong(): never {
    throw new RemoteProtocolError(`got more than ${this.maxLine} bytes in a line`, "ERR_FTP_LINE_TOO_LONG");
  }
}
