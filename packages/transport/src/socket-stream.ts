/**
 * A ByteStream over a Node socket (plain or TLS).
 *
 * Reading is pull-based: `read()` hands out one chunk, and the next `read()` says the consumer is
 * done with it. A plain socket made with a read buffer (`net.connect`'s `onread`) reads into that
 * one buffer over and over: the socket pauses after each chunk and resumes on the next `read()`,
 * so the bytes handed out are never overwritten while in use, and nothing is allocated per
 * chunk. Other sockets deliver fresh chunks through 'data' events, paused when unread chunks pile
 * up. Timeouts measure the peer: a read that waits, or a write that cannot drain, for longer than
 * the timeout fails with FtpTimeoutError; a slow consumer never times out.
 */
import type { ByteStream, SocketAddress } from "@ftplib/protocol";
import { FtpConnectionError, FtpTimeoutError } from "@ftplib/protocol";
import type { Socket } from "node:net";
import { TLSSocket } from "node:tls";
import { socketAddress } from "./addresses.js";
import { toFtpError } from "./errors.js";
import { Watchdog } from "./watchdog.js";

/** Chunks a 'data'-event stream queues before it pauses the socket. */
const HIGH_WATER_CHUNKS = 8;

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: Error): void;
}

export class SocketStream implements ByteStream {
  protected socket: Socket;
  private readonly label: string;
  private readonly userBuffer: boolean;
  private readonly owned: boolean;
  private readonly queue: Uint8Array[] = [];
  private reader: Waiter<Uint8Array | null> | undefined;
  private eof = false;
  private failure: Error | undefined;
  /** destroy() without a reason: its error is made only when asked for (after a clean end, never). */
  private closedByConsumer = false;
  private timeoutMs: number;
  private readonly readWatchdog = new Watchdog(() => {
    this.fail(new FtpTimeoutError(`${this.label}: nothing received for ${this.timeoutMs} ms`));
  });
  private readonly writeWatchdog = new Watchdog(() => {
    this.fail(new FtpTimeoutError(`${this.label}: no progress writing for ${this.timeoutMs} ms`));
  });
  private pendingWrites = 0;
  private paused = false;
  private detach: () => void = () => undefined;

  /**
   * @param socket a connected socket
   * @param options.userBuffer the socket was made with `onread`: call `onRead` from its callback
   */
  private finished: (() => void) | undefined;

  /**
   * @param options.finished called once the consumer is done: it read the end, or destroyed the
   *   stream (so a reused read buffer may serve another connection)
   */
  constructor(
    socket: Socket,
    options: { label: string; timeout?: number; userBuffer?: boolean; owned?: boolean; finished?: () => void },
  ) {
    this.finished = options.finished;
    this.socket = socket;
    this.label = options.label;
    this.timeoutMs = options.timeout ?? 0;
    this.userBuffer = options.userBuffer ?? false;
    this.owned = options.owned ?? false;
    this.attach(socket);
  }

  get localAddress(): SocketAddress {
    return socketAddress(this.socket, "local");
  }

  get remoteAddress(): SocketAddress {
    return socketAddress(this.socket, "remote");
  }

  get secure(): boolean {
    return this.socket instanceof TLSSocket;
  }

  /** Chunks stay as they are: fresh from 'data' events, or handed over by `onOwnedRead`. */
  get ownsChunks(): boolean {
    return !this.userBuffer || this.owned;
  }

  setTimeout(ms: number): void {
    this.timeoutMs = ms;
    if (this.reader !== undefined) this.readWatchdog.arm(ms);
    if (this.pendingWrites > 0) this.writeWatchdog.arm(ms);
  }

  /** For `onread` sockets: the socket's read callback. Always pauses: `read()` resumes. */
  onRead(length: number, buffer: Uint8Array): false {
    this.deliver(buffer.subarray(0, length));
    this.paused = true;
    return false;
  }

  /**
   * For `onread` sockets whose chunks are the consumer's (see OwnedReads): nothing is overwritten,
   * so reading goes on until unread chunks pile up, as with 'data' events.
   */
  onOwnedRead(chunk: Uint8Array): boolean {
    this.deliver(chunk);
    if (this.queue.length < HIGH_WATER_CHUNKS) return true;
    this.paused = true;
    return false;
  }

  read(): Promise<Uint8Array | null> {
    if (this.reader !== undefined) {
      return Promise.reject(new Error(`${this.label}: only one read() may be pending`));
    }
    const chunk = this.queue.shift();
    if (chunk !== undefined) {
      if (this.ownsChunks && this.paused && this.queue.length < HIGH_WATER_CHUNKS / 2) this.resume();
      return Promise.resolve(chunk);
    }
    const error = this.error;
    if (error !== undefined) return Promise.reject(error);
    if (this.eof) {
      this.finish();
      return Promise.resolve(null);
    }
    return new Promise((resolve, reject) => {
      this.reader = { resolve, reject };
      this.readWatchdog.arm(this.timeoutMs);
      // The previous chunk is no longer in use: the socket may read into its buffer again.
      if (this.paused) this.resume();
    });
  }

  write(data: Uint8Array): Promise<void> {
    const error = this.error;
    if (error !== undefined) return Promise.reject(error);
    return new Promise((resolve, reject) => {
      this.pendingWrites++;
      this.writeWatchdog.arm(this.timeoutMs);
      // Resolved by the write callback: the socket holds on to `data` until then.
      this.socket.write(data, (error) => {
        // Each completed write is progress: the next one pending gets a fresh timeout.
        if (--this.pendingWrites === 0) this.writeWatchdog.disarm();
        else this.writeWatchdog.arm(this.timeoutMs);
        if (error == null) resolve();
        else reject(this.error ?? this.fail(toFtpError(error, this.label)));
      });
    });
  }

  end(): Promise<void> {
    const error = this.error;
    if (error !== undefined) return Promise.reject(error);
    return new Promise((resolve) => {
      if (this.socket.writableEnded) resolve();
      else this.socket.end(() => resolve());
    });
  }

  destroy(reason?: Error): void {
    if (reason !== undefined) {
      this.fail(reason);
    } else {
      this.closedByConsumer = true;
      this.stop();
    }
    this.finish();
  }

  /** Why the stream cannot be used any more, if it cannot. */
  private get error(): Error | undefined {
    if (this.failure === undefined && this.closedByConsumer) {
      this.failure = new FtpConnectionError(`${this.label}: closed`, { code: "ERR_FTP_CLOSED" });
    }
    return this.failure;
  }

  private finish(): void {
    const finished = this.finished;
    this.finished = undefined;
    finished?.();
  }

  /** Waits until the socket is fully closed. */
  closed(): Promise<void> {
    if (this.socket.closed) return Promise.resolve();
    return new Promise((resolve) => this.socket.once("close", () => resolve()));
  }

  /** Bytes received and not yet read (none may be left when TLS starts or stops). */
  protected get unreadBytes(): number {
    return this.queue.reduce((n, chunk) => n + chunk.length, 0);
  }

  /** Stops listening to the current socket (for a TLS switch); returns it. */
  protected release(): Socket {
    this.detach();
    return this.socket;
  }

  /**
   * Takes over a new socket in place of the old one (after a TLS switch), with bytes already
   * received for it and a filter for what arrives next.
   */
  protected adopt(socket: Socket, initial?: Buffer, filter?: (chunk: Buffer) => Buffer): void {
    this.socket = socket;
    this.eof = false;
    if (initial !== undefined && initial.length > 0) this.deliver(initial);
    this.attach(socket, filter);
  }

  private attach(socket: Socket, filter?: (chunk: Buffer) => Buffer): void {
    const onData = (received: Buffer) => {
      const chunk = filter === undefined ? received : filter(received);
      if (chunk.length === 0) return;
      this.deliver(chunk);
      if (this.queue.length >= HIGH_WATER_CHUNKS && !this.paused) {
        this.paused = true;
        socket.pause();
      }
    };
    const onEnd = () => {
      this.eof = true;
      this.settleReader(null);
    };
    const onError = (error: Error) => {
      // After a clean end every byte has arrived: a reset that follows loses nothing.
      if (this.eof) socket.destroy();
      else this.fail(toFtpError(error, this.label));
    };
    const onClose = () => {
      if (!this.eof && this.failure === undefined && !this.closedByConsumer) {
        this.fail(new FtpConnectionError(`${this.label}: connection closed`, { code: "ERR_FTP_CLOSED" }));
      }
    };
    if (!this.userBuffer) socket.on("data", onData);
    socket.on("end", onEnd);
    socket.on("error", onError);
    socket.on("close", onClose);
    this.detach = () => {
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("error", onError);
      socket.off("close", onClose);
    };
  }

  private deliver(chunk: Uint8Array): void {
    if (this.reader !== undefined) this.settleReader(chunk);
    else this.queue.push(chunk);
  }

  private resume(): void {
    this.paused = false;
    this.socket.resume();
  }

  private settleReader(value: Uint8Array | null): void {
    const reader = this.reader;
    if (reader === undefined) return;
    this.reader = undefined;
    this.readWatchdog.disarm();
    // Handing out the end means the consumer is done with every chunk before it.
    if (value === null) this.finish();
    reader.resolve(value);
  }

  private fail(error: Error): Error {
    if (this.failure === undefined) this.failure = error;
    this.stop();
    return this.failure;
  }

  /** Rejects a pending read and closes the socket. */
  private stop(): void {
    this.readWatchdog.stop();
    this.writeWatchdog.stop();
    const reader = this.reader;
    this.reader = undefined;
    if (reader !== undefined) reader.reject(this.error!);
    this.destroySocket();
  }

  /** Closes the socket at once (subclasses close what lies under it too). */
  protected destroySocket(): void {
    if (!this.socket.destroyed) this.socket.destroy();
  }
}
