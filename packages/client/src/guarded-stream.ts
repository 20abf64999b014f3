/**
 * A data connection shared by a transfer's body and the code that stops it: once draining starts
 * (after ABOR), the body reads an end of data, and the drain takes over as the only reader,
 * after any read the body had pending. A chunk of a stream that reads into one reused buffer
 * (zeroCopy) is the body's until its next read: the drain waits a moment for the body to hand
 * it back (a callback waiting for its disk write, say), and drops the connection if it does not,
 * rather than overwrite the chunk under the callback (such streams are plain TCP: TLS ones own
 * their chunks).
 */
import type { ByteStream, SocketAddress } from "@ftplib/protocol";

/** Milliseconds a drain waits for the body to hand back a lent chunk before dropping the connection. */
const HAND_BACK_MS = 1000;

export class GuardedStream implements ByteStream {
  private readonly inner: ByteStream;
  private inflight: Promise<Uint8Array | null> | undefined;
  private draining: Promise<void> | undefined;
  /** The body holds a chunk of the reused buffer (see above). */
  private lent = false;
  /** Called when the body hands the chunk back, while a drain waits for that. */
  private handedBack: (() => void) | undefined;

  constructor(inner: ByteStream) {
    this.inner = inner;
  }

  read(): Promise<Uint8Array | null> {
    this.handedBack?.();
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
    this.handedBack?.();
  }

  /** Reads and drops everything left. Idempotent. */
  drain(): Promise<void> {
    this.draining ??= (async () => {
      await this.inflight?.catch(() => undefined);
      if (this.lent && !(await this.handBack())) return this.inner.destroy();
      while ((await this.inner.read()) !== null);
    })();
    return this.draining;
  }

  /** True once the body reads again or is done, false if it keeps the chunk past HAND_BACK_MS. */
  private handBack(): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.handedBack = undefined;
        resolve(false);
      }, HAND_BACK_MS);
      this.handedBack = () => {
        clearTimeout(timer);
        this.handedBack = undefined;
        this.lent = false;
        resolve(true);
      };
    });
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
