/**
 * Carries a control connection's TLS records between the raw socket and Node's TLS layer, so that
 * TLS can be taken off again (CCC, RFC 4217 12.3) with the TCP connection kept.
 *
 * It follows record boundaries (a 5-byte header: content type 20-23, version, length), so it knows
 * exactly where TLS ends: the first byte at a record boundary that does not start a record is the
 * first byte in the clear. Such bytes are never handed to TLS; they are held for the clear-text
 * side, which gets them only after CCC.
 */
import type { Socket } from "node:net";
import { Duplex } from "node:stream";
import { FtpTlsError } from "@ftplib/protocol";

const HEADER = 5;
const EMPTY: Buffer = Buffer.alloc(0);

export class TlsCarrier extends Duplex {
  private readonly raw: Socket;
  /** Bytes of the current record still to come. */
  private remaining = 0;
  /** A record header split across chunks. */
  private header = EMPTY;
  /** True once a byte at a record boundary did not start a record. */
  private tlsEnded = false;
  /** Bytes received after the end of TLS. */
  private clearText = EMPTY;
  /** True once a TLS record has come: clear text before one means the server does not speak TLS. */
  private sawRecord = false;
  private readonly onData = (chunk: Buffer) => this.feed(chunk);
  private readonly onEnd = () => this.push(null);
  private readonly onError = (error: Error) => this.destroy(error);

  constructor(raw: Socket) {
    super();
    this.raw = raw;
    raw.on("data", this.onData);
    raw.on("end", this.onEnd);
    raw.on("error", this.onError);
  }

  /**
   * Stops carrying and leaves the raw socket to the caller. Returns the bytes received in the
   * clear so far; later bytes go through `afterTls`.
   */
  release(): Buffer {
    this.detach();
    const clear = this.clearText;
    this.clearText = EMPTY;
    return clear;
  }

  /** Bytes from the raw socket after `release()`: the rest of TLS (close_notify) dropped, the clear text returned. */
  afterTls(chunk: Buffer): Buffer {
    return this.split(chunk)[1];
  }

  override _read(): void {
    this.raw.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.raw.write(chunk, callback);
  }

  // TLS ends its side with close_notify, then ends this stream: the TCP connection stays open.
  override _final(callback: (error?: Error | null) => void): void {
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.detach();
    callback(error);
  }

  private detach(): void {
    this.raw.off("data", this.onData);
    this.raw.off("end", this.onEnd);
    this.raw.off("error", this.onError);
  }

  private feed(chunk: Buffer): void {
    const [tls, clear] = this.split(chunk);
    if (tls.length > 0) this.sawRecord = true;
    if (clear.length > 0 && !this.sawRecord) {
      // A plain FTP server greets in clear text (220 ...) where a TLS server would send its
      // ServerHello: no handshake will ever complete, so say so now rather than time out.
      const text = clear
        .subarray(0, 60)
        .toString("latin1")
        .split(/\r?\n/)[0]!
        .replace(/[^\x20-\x7e]/g, "?");
      this.destroy(
        new FtpTlsError(`the server answered in clear text, not TLS: ${JSON.stringify(text)}`, {
          code: "ERR_FTP_TLS_CLEAR_TEXT",
        }),
      );
      return;
    }
    if (clear.length > 0) this.clearText = Buffer.concat([this.clearText, clear]);
    if (tls.length > 0 && !this.push(tls)) this.raw.pause();
  }

  /** Splits a chunk into the bytes that belong to TLS and those after it ended. */
  private split(chunk: Buffer): [tls: Buffer, clear: Buffer] {
    if (this.tlsEnded) return [EMPTY, chunk];
    let at = 0;
    while (at < chunk.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - at);
        this.remaining -= take;
        at += take;
        continue;
      }
      const type = this.header.length > 0 ? this.header[0]! : chunk[at]!;
      if (type < 20 || type > 23) {
        // Replies start with a digit, never with a record type: TLS is over.
        this.tlsEnded = true;
        return [chunk.subarray(0, at), chunk.subarray(at)];
      }
      const piece = chunk.subarray(at, at + HEADER - this.header.length);
      this.header = this.header.length === 0 ? piece : Buffer.concat([this.header, piece]);
      at += piece.length;
      if (this.header.length < HEADER) break;
      this.remaining = this.header.readUInt16BE(3);
      this.header = EMPTY;
    }
    return [chunk, EMPTY];
  }
}
