/**
 * A pool of connections to one server: operations queue for a free connection, up to `size` at
 * once; a connection that breaks is dropped and a new one opened for the next operation (and an
 * operation that met a connection that had died while idle is tried again on another).
 */
import type { Writable } from "node:stream";
import { FtpConnectionError, utf8 } from "@ftplib/protocol";
import { connectionLost } from "./errors.js";
import { checkSendable, functionOption, integerOption, invalidOption } from "./options.js";
import { Fifo } from "./fifo.js";
import { FTP } from "./ftp.js";
import type { OpenOptions } from "./ftp-options.js";
import { FTP_TLS, type FTP_TLSOpenOptions } from "./ftp-tls.js";
import type { DownloadOptions, TransferOptions } from "./file-transfers.js";
import { type SegmentedDownloadOptions, segmentedDownload } from "./segmented-download.js";

/** One control connection per local port to one server address at most. */
const MAX_SIZE = 1 << 16;
/**
 * Connections being opened at once, at most. A server accepts from a short queue (vsftpd's holds
 * 32): a burst of 200 connections overflows it, and the kernel then drops handshakes that the
 * client believes complete, which wait for a greeting that never comes.
 */
const MAX_OPENING = 16;

/**
 * What `new FtpPool(options)` takes.
 *
 * @group Connecting
 */
export interface FtpPoolOptions {
  /** Opens one logged-in connection (`() => FTP.open(...)` or `FTP_TLS.open` + `protP()`). */
  connect: () => Promise<FTP>;
  /**
   * Connections at most (default 4, up to 65,536: the ports of one local address). Each is a
   * socket and a server session; idle, one costs about 7 KiB of heap, 12 KiB with TLS
   * (reports/scale.md). At most 16 are being opened at any moment.
   */
  size?: number;
}

/**
 * A pool of connections: several transfers at once, a connection that died while idle replaced.
 *
 * @group Connecting
 */
export class FtpPool {
  readonly size: number;
  private readonly connect: () => Promise<FTP>;
  private readonly idle: FTP[] = [];
  private readonly waiting = new Fifo<(ftp: FTP | undefined) => void>();
  private open = 0;
  private opening = 0;
  private closed = false;

  /**
   * A pool that opens connections with `connect`, up to `size` at once, as calls need them.
   *
   * @example
   * ```ts
   * import { FTP, FtpPool } from "@ftplib/client";
   *
   * const connect = () => FTP.open({ host: "ftp.example.com", user: "me", password: "secret" });
   * await using pool = new FtpPool({ connect, size: 4 });
   * const files = await pool.downloadMany([["pub/README", "./README"], ["pub/report.csv", "./report.csv"]]);
   * console.log(files, await pool.run((ftp) => ftp.pwd()));
   * ```
   * @group Connecting
   */
  constructor(options: FtpPoolOptions) {
    // Bounded by the fd limit and the server, not by the pool: nothing here is linear in `size`.
    this.size = integerOption("size", options.size, 4, 1, MAX_SIZE);
    const connect = functionOption("connect", options.connect);
    if (connect === undefined) throw invalidOption(TypeError, "connect", "a function that opens a connection", connect);
    this.connect = connect;
  }

  /**
   * A pool of connections opened with the same options: FTP, or FTP_TLS when `secure` (with
   * PROT P, and every connection after the first resuming the first one's TLS session).
   *
   * @example
   * ```ts
   * import { FtpPool } from "@ftplib/client";
   *
   * await using pool = FtpPool.open({ host: "ftp.example.com", user: "me", password: "secret", size: 8 });
   * await pool.download("pub/big.iso", "./big.iso", { segments: 8 }); // one file over eight connections
   * ```
   * @returns the pool; no connection is opened before the first call needs one.
   * @group Connecting
   */
  static open(options: (OpenOptions | (FTP_TLSOpenOptions & { secure: true })) & { size?: number }): FtpPool {
    if (!("secure" in options) || !options.secure)
      return new FtpPool({ connect: () => FTP.open(options), size: options.size });
    const secure = options;
    const openTls = async (session: unknown): Promise<FTP_TLS> => {
      const tls = session === undefined ? secure.tls : { ...secure.tls, session: session as Buffer };
      const ftp = await FTP_TLS.open({ ...secure, tls });
      if (!ftp.dataProtected) await ftp.protP();
      return ftp;
    };
    return FtpPool.resumingFirstSession(openTls, options.size);
  }

  /**
   * A pool whose first connection makes a TLS session and whose others resume it: `open` is
   * given the first connection's session (undefined for the first, or when it is not FTP_TLS).
   *
   * @returns the pool.
   * @group Connecting
   */
  static resumingFirstSession(open: (session: unknown) => Promise<FTP>, size?: number): FtpPool {
    // The others wait for the first, then resume its session.
    let first: Promise<FTP> | undefined;
    const connect = async (): Promise<FTP> => {
      if (first === undefined) {
        first = open(undefined);
        return first;
      }
      const made = await first.catch(() => undefined);
      return open(made instanceof FTP_TLS ? made.tlsSession : undefined);
    };
    return new FtpPool({ connect, size });
  }

  /**
   * Runs `task` on a free connection. A task that fails because its connection was lost, on a
   * connection that had been idle in the pool (a server's idle timeout closed it: a 421, or just
   * the end of the connection), is run again on the next idle connection or a new one; on a new
   * connection, its failure is final.
   *
   * @returns what `task` resolves with.
   * @group Files and listings
   */
  async run<T>(task: (ftp: FTP) => Promise<T>): Promise<T> {
    // Every idle connection may have died at once: one attempt for each, and one on a new connection.
    for (let attempt = 0; ; attempt++) {
      const { ftp, reused } = await this.acquire();
      let broken = false;
      try {
        return await task(ftp);
      } catch (error) {
        broken = connectionLost(error);
        if (broken && reused && attempt < this.size) continue;
        throw error;
      } finally {
        this.release(ftp, broken);
      }
    }
  }

  /**
   * Downloads one file over up to `segments` connections (default: the pool's size), each
   * fetching its own part into one temporary file (atomic, resumable, with progress summed over
   * the parts). Files under 2 MiB, a server without REST, an unknown size or a Writable take one
   * stream. Resolves with the bytes written in this call.
   *
   * @returns the number of bytes written in this call.
   * @group Files and listings
   */
  download(remote: string, local: string | Buffer | Writable, options?: SegmentedDownloadOptions): Promise<number> {
    return segmentedDownload(this, remote, local, options);
  }

  /**
   * Downloads each `[remote, local]` pair, `concurrency` at a time (default: the pool's size).
   *
   * @returns the number of bytes written, over every file.
   * @group Files and listings
   */
  async downloadMany(
    items: readonly (readonly [remote: string, local: string])[],
    options: DownloadOptions & { concurrency?: number } = {},
  ): Promise<number> {
    this.checkMany(
      items.map(([remote]) => remote),
      options.concurrency,
    );
    return this.many(items, options.concurrency, ([remote, local]) =>
      this.run((ftp) => ftp.download(remote, local, options)),
    );
  }

  /**
   * Uploads each `[local, remote]` pair, `concurrency` at a time (default: the pool's size).
   *
   * @returns the number of bytes sent, over every file.
   * @group Files and listings
   */
  async uploadMany(
    items: readonly (readonly [local: string, remote: string])[],
    options: TransferOptions & { concurrency?: number } = {},
  ): Promise<number> {
    this.checkMany(
      items.map(([, remote]) => remote),
      options.concurrency,
    );
    return this.many(items, options.concurrency, ([local, remote]) =>
      this.run((ftp) => ftp.upload(local, remote, options)),
    );
  }

  /**
   * Quits every connection.
   *
   * @group Connecting
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const resolve of this.waiting.drain()) resolve(undefined);
    await Promise.all(this.idle.splice(0).map((ftp) => ftp[Symbol.asyncDispose]()));
  }

  /**
   * `await using pool = ...`: `close()`.
   *
   * @group Connecting
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Refuses a batch with a remote name that cannot be sent before any connection is opened for it. */
  private checkMany(remotes: readonly string[], concurrency: number | undefined): void {
    integerOption("concurrency", concurrency, this.size, 1, 1 << 16);
    checkSendable(utf8, [], remotes);
  }

  private async many<T>(
    items: readonly T[],
    concurrency = this.size,
    each: (item: T) => Promise<number>,
  ): Promise<number> {
    let next = 0;
    let total = 0;
    const worker = async () => {
      while (next < items.length) {
        const bytes = await each(items[next++]!);
        total += bytes;
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
    return total;
  }

  private async acquire(): Promise<{ ftp: FTP; reused: boolean }> {
    if (this.closed) throw new FtpConnectionError("the pool is closed", { code: "ERR_FTP_CLOSED" });
    const ready = this.idle.pop();
    if (ready !== undefined) return { ftp: ready, reused: true };
    if (this.open < this.size && this.opening < MAX_OPENING) {
      this.open++;
      this.opening++;
      try {
        return { ftp: await this.connect(), reused: false };
      } catch (error) {
        this.open--;
        throw error;
      } finally {
        this.opening--;
        // A waiter may open one now (none can when the pool is full: it would lose its place).
        if (this.open < this.size) this.wakeOne();
      }
    }
    const ftp = await new Promise<FTP | undefined>((resolve) => this.waiting.push(resolve));
    return ftp === undefined ? this.acquire() : { ftp, reused: true };
  }

  private release(ftp: FTP, broken: boolean): void {
    if (broken || this.closed) {
      ftp.close();
      this.open--;
      this.wakeOne();
      return;
    }
    const waiter = this.waiting.shift();
    if (waiter !== undefined) waiter(ftp);
    else this.idle.push(ftp);
  }

  /** Lets a waiter open a connection: in place of one that went, or once another has opened. */
  private wakeOne(): void {
    this.waiting.shift()?.(undefined);
  }
}
