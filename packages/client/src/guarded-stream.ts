/**
 * A data connection shared by a transfer's body and the code that stops it: once draining starts
 * (after ABOR), the body reads an end of data, and the drain takes over as the only reader,
 * after any read the body had pending.
 */
import type { ByteStream, SocketAddress } from "@ftplib/protocol";

export class GuardedStream implements ByteStream {
  private readonly inner: ByteStream;
  private inflight: Promise<Uint8Array | null> | undefined;
  private draining: Promise<void> | undefined;

  constructor(inner: ByteStream) {
    this.inner = inner;
  }

  read(): Promise<Uint8Array | null> {
    if (this.draining !== undefined)
      return this.draining.then(
        () => null,
        () => null,
      );
    this.inflight = this.inner.read();
    return this.inflight;
  }

  /** Reads and drops everything left. Idempotent. */
  drain(): Promise<void> {
    this.draining ??= (async () => {
      await this.inflight?.catch(() => undefined);
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
