/**
 * A data connection shared by a transfer's body and the code that stops it: once draining starts
 * (after ABOR), the body reads an end of data, and the drain takes over as the only reader,
 * after any read the body had pending. A chunk of a stream that reads into one reused buffer
 * (zeroCopy) is the body's until its next read: a drain then would overwrite it under the
 * callback, so the connection is dropped instead (such streams are plain TCP: TLS ones own
 * their chunks).
 */
import type { ByteStream, SocketAddress } from "@ftplib/protocol";

export class GuardedStream implements ByteStream {
  private readonly inner: ByteStream;
  private inflight: Promise<Uint8Array | null> | undefined;
  private draining: Promise<void> | undefined;
  /** The body holds a chunk of the reused buffer (see above). */
  private lent = false;

  constructor(inner: ByteStream) {
    this.inner = inner;
  }

  read(): Promise<Uint8Array | null> {
    if (this.draining !== undefined)
      return this.draining.then(
        () => null,
        () => null,
      );
    this.lent = false;
    const read = this.inner.read();
    this.inflight = read;
    // Runs before the body's own continuation: the flag is set before the chunk is handed out.
    if (!this.ownsChunks)
      read.then(
        (chunk) => (this.lent = chunk !== null),
        () => undefined,
      );
    return read;
  }

  /** The body is done with the last chunk it read (it returned or threw). */
  released(): void {
    this.lent = false;
  }

  /** Reads and drops everything left. Idempotent. */
  drain(): Promise<void> {
    this.draining ??= (async () => {
      await this.inflight?.catch(() => undefined);
      if (this.lent) return this.inner.destroy();
      while ((await this.inner.read()) !== null);
    })();
    return this.draining;
  }

  write(data: Uint8Array): Promise<void> {
    return this.inner.write(data);
  }

  end(): Promise<void> {
    return this.inner.end();
  }

  destroy(reason?: Error): void {
    this.inner.destroy(reason);
  }

  setTimeout(ms: number): void {
    this.inner.setTimeout(ms);
  }

  get localAddress(): SocketAddress {
    return this.inner.localAddress;
  }

  get remoteAddress(): SocketAddress {
    return this.inner.remoteAddress;
  }

  get secure(): boolean {
    return this.inner.secure;
  }

  get ownsChunks(): boolean {
    return this.inner.ownsChunks ?? false;
  }
}
