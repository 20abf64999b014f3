/**
 * A TLS data connection whose handshake starts on first use, or when the server keeps quiet.
 *
 * Servers disagree on when the handshake may start. pyftpdlib 1.5.7 (Debian's) resets a data
 * connection whose ClientHello comes before its 1xx reply; ftp-srv sends no 1xx until the
 * handshake is done. So the handshake waits for the client's first read or write (which come
 * after the 1xx), but no longer than `delay` ms: a server that waits for it gets it, and the
 * control connection learns to start at once from then on.
 */
import type { ByteStream, SocketAddress } from "@ftplib/protocol";
import { FtpConnectionError } from "@ftplib/protocol";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { socketAddress } from "./addresses.js";
import { whenReady } from "./connect.js";
import { toFtpError } from "./errors.js";
import { SocketStream } from "./socket-stream.js";

export class DeferredTlsStream implements ByteStream {
  readonly secure = true;
  private readonly raw: Socket;
  private readonly handshake: () => TLSSocket;
  private timeoutMs: number;
  private inner: Promise<SocketStream> | undefined;
  private settled: SocketStream | undefined;
  private failure: Error | undefined;
  private readonly onError = (error: Error) => {
    this.failure ??= toFtpError(error, "data connection");
  };
  private readonly onClose = () => {
    this.failure ??= new FtpConnectionError("data connection: closed before the TLS handshake", {
      code: "ERR_FTP_CLOSED",
    });
  };

  private timer: NodeJS.Timeout | undefined;

  /**
   * @param handshake starts TLS over `raw` (called once)
   * @param delay ms to wait for the first use before starting anyway (0: at once)
   * @param startedByTimer called when the delay ran out before any use
   */
  constructor(raw: Socket, handshake: () => TLSSocket, timeout: number, delay: number, startedByTimer: () => void) {
    this.raw = raw;
    this.handshake = handshake;
    this.timeoutMs = timeout;
    raw.on("error", this.onError);
    raw.on("close", this.onClose);
    const start = () => {
      this.ready().catch(() => undefined);
    };
    if (delay <= 0) {
      start();
    } else {
      this.timer = setTimeout(() => {
        startedByTimer();
        start();
      }, delay);
    }
  }

  get localAddress(): SocketAddress {
    return socketAddress(this.raw, "local");
  }

  get remoteAddress(): SocketAddress {
    return socketAddress(this.raw, "remote");
  }

  /** TLS chunks come fresh from 'data' events. */
  readonly ownsChunks = true;

  read(): Promise<Uint8Array | null> {
    // After the handshake, straight to the stream: no extra promise per chunk.
    return this.settled !== undefined ? this.settled.read() : this.ready().then((stream) => stream.read());
  }

  async write(data: Uint8Array): Promise<void> {
    return (this.settled ?? (await this.ready())).write(data);
  }

  async end(): Promise<void> {
    return (this.settled ?? (await this.ready())).end();
  }

  setTimeout(ms: number): void {
    this.timeoutMs = ms;
    this.settled?.setTimeout(ms);
  }

  destroy(reason?: Error): void {
    // Destroyed after the handshake, the inner stream keeps the reason; before it, a later use fails.
    if (this.settled === undefined)
      this.failure ??= reason ?? new FtpConnectionError("data connection: closed", { code: "ERR_FTP_CLOSED" });
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.settled !== undefined) this.settled.destroy(reason);
    else this.raw.destroy();
  }

  private ready(): Promise<SocketStream> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.inner ??= (async () => {
      if (this.failure !== undefined) throw this.failure;
      this.raw.off("error", this.onError);
      this.raw.off("close", this.onClose);
      const secured = this.handshake();
      // The TCP connection goes when TLS goes, whatever ended it.
      secured.once("close", () => this.raw.destroy());
      const stream = new SocketStream(secured, { label: "data connection", timeout: this.timeoutMs });
      await whenReady(secured, "secureConnect", "TLS handshake on the data connection", this.timeoutMs);
      if (this.failure !== undefined) {
        stream.destroy(this.failure);
        throw this.failure;
      }
      this.settled = stream;
      return stream;
    })();
    return this.inner;
  }
}
