/**
 * Splits a byte stream into lines, for replies and for text transfers.
 *
 * Chunks are kept as they come and lines are located inside them, so a line inside one chunk is
 * never copied. Only a line that straddles chunks is copied, into a carry buffer that never holds
 * more than `maxLine` bytes: a longer line is an error as soon as it is seen, however large the
 * chunk. Each byte is scanned once. For text, an encoding that maps each byte to one UTF-16 unit
 * (all of ASCII in UTF-8) decodes up to 64 KiB of a chunk at once and lines are sliced out of
 * that string.
 */
import type { TextEncoding } from "./encoding.js";
import { LocalProtocolError, RemoteProtocolError } from "./errors.js";

const LF = 0x0a;
const CR = 0x0d;
const EMPTY: Uint8Array = new Uint8Array(0);
/**
 * Bytes of a chunk decoded into one string. A longer string goes to V8's large-object space,
 * where allocating it costs about five times as much per byte.
 */
const TEXT_WINDOW = 64 * 1024;

export class LineReader {
  /** The longest line allowed, counting its line ending, as ftplib's `maxline`. */
  readonly maxLine: number;
  /** The chunk being read, and the read position in it. */
  private chunk = EMPTY;
  private pos = 0;
  /** Chunks pushed before the current one was used up (rare: most callers drain after each push). */
  private queue: Uint8Array[] = [];
  private queueHead = 0;
  private carry = EMPTY;
  private carryLength = 0;
  private ended = false;
  private unterminated = false;
  /**
   * Part of a chunk decoded at once (`null` when it cannot be sliced), with the chunk, the part
   * (from `textStart` to `textEnd`) and the encoding it is for.
   */
  private chunkText: string | null = null;
  private textChunk: Uint8Array | undefined = undefined;
  private textStart = 0;
  private textEnd = 0;
  private textEncoding: TextEncoding | undefined = undefined;
  // Where the last framed line is: in `lineBuffer` from `lineStart` to `lineEnd` (no CR/LF).
  private lineBuffer = EMPTY;
  private lineStart = 0;
  private lineEnd = 0;
  private lineInChunk = false;
  private lineBytes = 0;

  constructor(maxLine = 8192) {
    if (!Number.isInteger(maxLine) || maxLine < 4) {
      throw new RangeError(`maxLine must be an integer of at least 4, not ${maxLine}`);
    }
    this.maxLine = maxLine;
  }

  /** Adds bytes. The reader keeps a reference: the caller must not change them afterwards. */
  push(chunk: Uint8Array): void {
    if (this.ended) throw new LocalProtocolError("data pushed after the end", "ERR_FTP_AFTER_EOF");
    if (chunk.length === 0) return;
    if (this.pos === this.chunk.length) {
      this.chunk = chunk;
      this.pos = 0;
    } else {
      this.queue.push(chunk);
    }
  }

  /** Marks the end of the stream. */
  end(): void {
    this.ended = true;
  }

  /** True once the end was marked and every byte has been returned. */
  get done(): boolean {
    return this.ended && this.pos === this.chunk.length && this.carryLength === 0;
  }

  /** True when the last line returned ended at the end of the stream, not at a line feed. */
  get lastLineUnterminated(): boolean {
    return this.unterminated;
  }

  /** The size in bytes of the last line returned, with its line ending. */
  get lastLineBytes(): number {
    return this.lineBytes;
  }

  /** Bytes held and not yet returned. */
  get bufferedBytes(): number {
    let n = this.carryLength + this.chunk.length - this.pos;
    for (let i = this.queueHead; i < this.queue.length; i++) n += this.queue[i]!.length;
    return n;
  }

  /**
   * The next line without its LF or CRLF, or `null` when no complete line is buffered. At the end
   * of the stream a last line without a line feed is returned too (see `lastLineUnterminated`).
   * The view is valid until the next call.
   *
   * @returns the line's bytes, or null.
   */
  nextLine(): Uint8Array | null {
    return this.frame() ? this.lineBuffer.subarray(this.lineStart, this.lineEnd) : null;
  }

  /**
   * As {@link nextLine}, decoded with `encoding`.
   *
   * @returns the line's text, or null.
   */
  nextLineText(encoding: TextEncoding): string | null {
    if (!this.frame()) return null;
    const start = this.lineStart;
    const end = this.lineEnd;
    if (this.lineInChunk && encoding.decodeAligned !== undefined) {
      if (
        this.textChunk !== this.lineBuffer ||
        this.textEncoding !== encoding ||
        start < this.textStart ||
        end > this.textEnd
      ) {
        this.decodeText(encoding, start, end);
      }
      if (this.chunkText !== null) return this.chunkText.slice(start - this.textStart, end - this.textStart);
    }
    return encoding.decode(this.lineBuffer.subarray(start, end));
  }

  /** Decodes the chunk from `start` (from its beginning when it is small) to `end` at least. */
  private decodeText(encoding: TextEncoding, start: number, end: number): void {
    const buffer = this.lineBuffer;
    // A small chunk (a reply, say) is decoded whole: a view of a part costs more than its lines.
    const from = buffer.length <= TEXT_WINDOW ? 0 : start;
    const to = Math.min(buffer.length, Math.max(end, from + TEXT_WINDOW));
    this.textChunk = buffer;
    this.textEncoding = encoding;
    this.textStart = from;
    this.textEnd = to;
    this.chunkText = encoding.decodeAligned!(from === 0 && to === buffer.length ? buffer : buffer.subarray(from, to));
  }

  /**
   * Takes every byte not yet returned as a line, and empties the reader.
   *
   * @returns the bytes buffered.
   */
  takeBuffered(): Uint8Array {
    const out = new Uint8Array(this.bufferedBytes);
    out.set(this.carry.subarray(0, this.carryLength));
    let o = this.carryLength;
    for (const part of [this.chunk.subarray(this.pos), ...this.queue.slice(this.queueHead)]) {
      out.set(part, o);
      o += part.length;
    }
    this.chunk = EMPTY;
    this.queue = [];
    this.queueHead = this.pos = this.carryLength = 0;
    return out;
  }

  /** Locates the next line; false when there is none yet. */
  private frame(): boolean {
    while (this.pos < this.chunk.length) {
      const chunk = this.chunk;
      const start = this.pos;
      const lf = chunk.indexOf(LF, start);
      if (lf === -1) {
        // No line end in this chunk: keep its tail in the carry, bounded by maxLine.
        this.appendCarry(chunk, start, chunk.length);
        this.nextChunk();
        continue;
      }
      const bytes = this.carryLength + lf + 1 - start;
      if (bytes > this.maxLine) this.tooLong();
      if (this.carryLength === 0) {
        this.setLine(chunk, start, lf, true);
      } else {
        this.appendCarry(chunk, start, lf);
        this.setLine(this.carry, 0, this.carryLength, false);
        this.carryLength = 0;
      }
      this.lineBytes = bytes;
      this.pos = lf + 1;
      this.unterminated = false;
      if (this.pos === chunk.length) this.nextChunk();
      return true;
    }
    if (this.ended && this.carryLength > 0) {
      this.setLine(this.carry, 0, this.carryLength, false);
      this.lineBytes = this.carryLength;
      this.carryLength = 0;
      this.unterminated = true;
      return true;
    }
    return false;
  }

  private setLine(buffer: Uint8Array, start: number, end: number, inChunk: boolean): void {
    this.lineBuffer = buffer;
    this.lineStart = start;
    this.lineEnd = end > start && buffer[end - 1] === CR ? end - 1 : end;
    this.lineInChunk = inChunk;
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

  /** Moves to the next queued chunk; with none, the current one stays, read to its end. */
  private nextChunk(): void {
    if (this.queueHead < this.queue.length) {
      this.chunk = this.queue[this.queueHead++]!;
      this.pos = 0;
      if (this.queueHead === this.queue.length) {
        this.queue = [];
        this.queueHead = 0;
      }
    } else {
      this.pos = this.chunk.length;
    }
  }

  private tooLong(): never {
    throw new RemoteProtocolError(`got more than ${this.maxLine} bytes in a line`, "ERR_FTP_LINE_TOO_LONG");
  }
}
