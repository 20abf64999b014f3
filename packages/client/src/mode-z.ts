/**
 * MODE Z (draft-preston-ftpext-deflate): the data connection carries one zlib stream (RFC 1950)
 * per transfer, made of the bytes stream mode would carry (TYPE A's CRLF included). REST offsets
 * count those bytes, not the compressed ones. These wrap a transfer's data connection: reads come
 * out inflated, writes go in deflated. A stream that is corrupt, ends before zlib's own end, or
 * goes on after it fails with ErrorProto `ERR_FTP_DEFLATE`: never a short file that looks whole.
 */
import { type ByteStream, ErrorProto, type SocketAddress } from "@ftplib/protocol";
import { type Deflate, type Inflate, createDeflate, createInflate } from "node:zlib";

/** Bytes of inflated output per block: larger than zlib's 16 KiB, for fewer callbacks. */
const CHUNK = 64 * 1024;

function deflateError(message: string, cause?: unknown): ErrorProto {
  return new ErrorProto(`MODE Z: ${message}`, { code: "ERR_FTP_DEFLATE", cause });
}

/** Resolves when `stream` takes writes again, or is gone. */
function writable(stream: Deflate | Inflate): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off("drain", done);
      stream.off("close", done);
      resolve();
    };
    stream.on("drain", done);
    stream.on("close", done);
  });
}

/** A data connection's methods that stay as they are, whatever the mode. */
abstract class Wrapped implements ByteStream {
  constructor(protected readonly conn: ByteStream) {}

  abstract read(): Promise<Uint8Array | null>;
  abstract write(data: Uint8Array): Promise<void>;
  abstract end(): Promise<void>;
  /** Frees the zlib engine (the connection stays as it is). */
  abstract dispose(): void;

  destroy(reason?: Error): void {
    this.dispose();
    this.conn.destroy(reason);
  }

  setTimeout(ms: number): void {
    this.conn.setTimeout(ms);
  }

  get localAddress(): SocketAddress {
    return this.conn.localAddress;
  }

  get remoteAddress(): SocketAddress {
    return this.conn.remoteAddress;
  }

  get secure(): boolean {
    return this.conn.secure;
  }
}

/** A download: the connection's bytes inflated. Blocks are fresh buffers each (`ownsChunks`). */
export class InflatingStream extends Wrapped {
  readonly ownsChunks = true;
  private readonly inflate: Inflate = createInflate({ chunkSize: CHUNK });
  private readonly output: AsyncIterator<Buffer> = this.inflate[Symbol.asyncIterator]();
  /** Compressed bytes given to zlib. */
  private received = 0;
  /** The connection's own failure (a timeout, a reset), passed on as it is. */
  private connError: unknown;

  /** @param conn a data connection whose chunks may be kept (`ownsChunks`): zlib holds them a while */
  constructor(conn: ByteStream) {
    super(conn);
    // Errors reach read() through the iterator, which may not have started yet.
    this.inflate.on("error", () => undefined);
    void this.pump();
  }

  private async pump(): Promise<void> {
    try {
      for (let chunk = await this.conn.read(); chunk !== null; chunk = await this.conn.read()) {
        if (this.inflate.destroyed) return;
        this.received += chunk.length;
        if (!this.inflate.write(chunk)) await writable(this.inflate);
      }
      if (!this.inflate.destroyed) this.inflate.end();
    } catch (error) {
      this.connError = error;
      this.inflate.destroy(error as Error);
    }
  }

  async read(): Promise<Uint8Array | null> {
    let next: IteratorResult<Buffer>;
    try {
      next = await this.output.next();
    } catch (error) {
      if (this.connError !== undefined) throw this.connError;
      const code = (error as { code?: string }).code;
      throw deflateError(code === "Z_BUF_ERROR" ? "the deflate stream ended early" : "corrupt deflate stream", error);
    }
    if (!next.done) return next.value;
    // zlib stops at its stream's end and ignores what follows: bytes after it are not the file.
    if (this.inflate.bytesWritten !== this.received) {
      throw deflateError(`${this.received - this.inflate.bytesWritten} bytes after the end of the deflate stream`);
    }
    return null;
  }

  write(): Promise<void> {
    return Promise.reject(new TypeError("a download's data connection is not written to"));
  }

  end(): Promise<void> {
    return this.conn.end();
  }

  dispose(): void {
    this.inflate.destroy();
  }
}

/** An upload: what is written goes out deflated; `end()` finishes the zlib stream, then the connection. */
export class DeflatingStream extends Wrapped {
  readonly ownsChunks = false;
  private readonly deflate: Deflate = createDeflate({ chunkSize: CHUNK });
  /** Writes zlib's output to the connection, one write at a time. */
  private readonly sending: Promise<void>;
  private sendError: unknown;

  constructor(conn: ByteStream) {
    super(conn);
    this.deflate.on("error", () => undefined);
    this.sending = this.send();
    this.sending.catch(() => undefined);
  }

  private async send(): Promise<void> {
    try {
      // zlib's output buffers are never written again: the connection may hold them.
      for await (const out of this.deflate as AsyncIterable<Buffer>) await this.conn.write(out);
    } catch (error) {
      this.sendError = error;
      this.deflate.destroy();
      throw error;
    }
  }

  read(): Promise<Uint8Array | null> {
    return this.conn.read();
  }

  /** Resolves once zlib has taken `data` in (so the caller may reuse it), and can take more. */
  write(data: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.deflate.write(data, (error) => {
        if (error === null || error === undefined) resolve();
        else reject((this.sendError ?? error) as Error);
      });
    });
  }

  async end(): Promise<void> {
    this.deflate.end();
    await this.sending;
    await this.conn.end();
  }

  dispose(): void {
    this.deflate.destroy();
  }
}

/** Runs a transfer's `body` on its data connection in MODE Z, then frees the zlib engine. */
export async function withModeZ(
  conn: ByteStream,
  direction: "download" | "upload",
  body: (stream: ByteStream) => Promise<void>,
): Promise<void> {
  const stream = direction === "download" ? new InflatingStream(conn) : new DeflatingStream(conn);
  try {
    await body(stream);
  } finally {
    stream.dispose();
  }
}
