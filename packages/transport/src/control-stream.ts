/**
 * The control connection: a SocketStream that can switch TLS on, and that opens the data
 * connections (passive and active), which resume its TLS session.
 */
import type {
  ByteStream,
  ControlStream,
  DataConnectRequest,
  DataListenRequest,
  DataListener,
  SocketAddress,
} from "@ftplib/protocol";
import { FtpConnectionError, FtpTimeoutError, FtpTlsError, isIPv4, isIPv6 } from "@ftplib/protocol";
import * as net from "node:net";
import * as tls from "node:tls";
import { sameHost, socketAddress } from "./addresses.js";
import { whenReady } from "./connect.js";
import { toFtpError } from "./errors.js";
import { DeferredTlsStream } from "./deferred-tls-stream.js";
import { SocketStream } from "./socket-stream.js";
import { TlsCarrier } from "./tls-carrier.js";

export type NodeTlsOptions = tls.ConnectionOptions;

export interface NodeControlOptions {
  /** The host name the user asked for: TLS certificates are checked against it. */
  host: string;
  timeout: number;
  tls: NodeTlsOptions | undefined;
  /** Size of the reused read buffer of plain data connections. */
  readBufferSize: number;
  /** Read buffers of finished data connections, for the next ones (small files need no fresh 256 KiB each). */
  readBuffers: Buffer[];
}

/** TLS options that check the certificate against `host`, whatever address is connected to. */
export function tlsIdentity(host: string, options: NodeTlsOptions = {}): NodeTlsOptions {
  const isAddress = isIPv4(host) || isIPv6(host);
  return {
    ...options,
    servername: options.servername ?? (isAddress ? undefined : host),
    checkServerIdentity: options.checkServerIdentity ?? ((_, cert) => tls.checkServerIdentity(host, cert)),
  };
}

export class NodeControlStream extends SocketStream implements ControlStream<NodeTlsOptions> {
  private readonly options: NodeControlOptions;
  private tlsOptions: NodeTlsOptions | undefined;
  /** The TLS layer of the control connection, while there is one. */
  private tls: { raw: net.Socket; carrier: TlsCarrier; secured: tls.TLSSocket } | undefined;
  /** The latest TLS session of the control connection (TLS 1.3 tickets come after the handshake). */
  private session: Buffer | undefined;

  /** How long a data connection waits for first use before starting TLS; 0 once the server waited. */
  private dataHandshakeDelay = 200;
  /** The TCP connection, under any TLS layer. */
  private readonly tcp: net.Socket;

  constructor(socket: net.Socket, options: NodeControlOptions) {
    super(socket, { label: "control connection", timeout: options.timeout });
    this.tcp = socket;
    this.options = options;
    this.tlsOptions = options.tls;
  }

  async startTls(options?: NodeTlsOptions): Promise<void> {
    if (this.tls !== undefined)
      throw new FtpConnectionError("control connection: TLS is already on", { code: "ERR_FTP_TLS_ACTIVE" });
    if (options !== undefined) this.tlsOptions = options;
    // Bytes sent in the clear after the 234 reply would be read as if protected: an injection.
    this.refuseUnread("data received in the clear before the TLS handshake", "ERR_FTP_TLS_INJECTION");
    const raw = this.release();
    // TLS runs over a carrier that follows record boundaries, so that CCC can take it off again.
    const carrier = new TlsCarrier(raw);
    const secured = tls.connect({ ...tlsIdentity(this.options.host, this.tlsOptions), socket: carrier });
    this.watchSession(secured);
    this.tls = { raw, carrier, secured };
    this.adopt(secured);
    try {
      await whenReady(secured, "secureConnect", "TLS handshake on the control connection", this.options.timeout);
    } catch (error) {
      // The connection is gone: it was never secure.
      this.tls = undefined;
      raw.destroy();
      this.destroy(error as Error);
      throw error;
    }
  }

  async stopTls(): Promise<void> {
    const layer = this.tls;
    if (layer === undefined)
      throw new FtpConnectionError("control connection: TLS is not on", { code: "ERR_FTP_TLS_INACTIVE" });
    this.refuseUnread("data received after the reply to CCC", "ERR_FTP_CCC_TRAILING");
    this.release();
    // close_notify goes out; the TCP connection stays. The server's close_notify, when it comes,
    // is dropped by the carrier's filter, and what follows it is clear text.
    await new Promise<void>((resolve) => layer.secured.end(() => resolve()));
    const clear = layer.carrier.release();
    layer.secured.destroy();
    this.tls = undefined;
    this.adopt(layer.raw, clear, (chunk) => layer.carrier.afterTls(chunk));
  }

  // Under TLS the socket is the TLS layer over a carrier, which leaves the TCP connection open.
  protected override destroySocket(): void {
    super.destroySocket();
    if (!this.tcp.destroyed) this.tcp.destroy();
  }

  override get secure(): boolean {
    return this.tls !== undefined;
  }

  get tlsSession(): Buffer | undefined {
    return this.session;
  }

  get tlsResumed(): boolean {
    return this.tls?.secured.isSessionReused() ?? false;
  }

  // Addresses come from the TCP connection itself, under TLS too.
  override get localAddress(): SocketAddress {
    return socketAddress(this.tcp, "local");
  }

  override get remoteAddress(): SocketAddress {
    return socketAddress(this.tcp, "remote");
  }

  private refuseUnread(what: string, code: string): void {
    if (this.unreadBytes === 0) return;
    const error = new FtpTlsError(`control connection: ${what}`, { code });
    this.destroy(error);
    throw error;
  }

  async connectData(request: DataConnectRequest): Promise<ByteStream> {
    const timeout = request.timeout ?? this.options.timeout;
    const localAddress = this.localAddress.host;
    if (request.secure) {
      const raw = net.connect({
        host: request.host,
        port: request.port,
        localAddress,
        localPort: request.localPort,
        noDelay: true,
      });
      await whenReady(raw, "connect", `data connection to ${request.host}:${request.port}`, timeout, request.signal);
      return this.deferredTls(raw, timeout);
    }
    // Chunks the consumer keeps (OwnedReads), or one reused buffer of the free list.
    const owned = request.ownChunks ? new OwnedReads(this.options.readBufferSize) : undefined;
    const reused = owned === undefined ? this.borrowReadBuffer() : undefined;
    const socket: net.Socket = net.connect({
      host: request.host,
      port: request.port,
      localAddress,
      localPort: request.localPort,
      noDelay: true,
      // Called only once connected, when `stream` exists.
      onread:
        owned !== undefined
          ? {
              buffer: () => owned.buffer,
              callback: (length: number, buf: Buffer) => stream.onOwnedRead(owned.take(length, buf)),
            }
          : {
              buffer: reused!.buffer,
              callback: (length: number, buf: Uint8Array): boolean => stream.onRead(length, buf),
            },
    });
    reused?.returnWhenClosed(socket);
    // Created before the connect completes, so that no byte or end is missed.
    const stream: SocketStream = new SocketStream(socket, {
      label: "data connection",
      timeout,
      userBuffer: true,
      owned: owned !== undefined,
      finished: reused?.release,
    });
    await whenReady(socket, "connect", `data connection to ${request.host}:${request.port}`, timeout, request.signal);
    return stream;
  }

  /**
   * A read buffer from the free list. It goes back once the consumer is done with it (`release`)
   * and its socket is gone.
   */
  private borrowReadBuffer(): { buffer: Buffer; release: () => void; returnWhenClosed: (socket: net.Socket) => void } {
    const buffers = this.options.readBuffers;
    const buffer = buffers.pop() ?? Buffer.allocUnsafe(this.options.readBufferSize);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const returnWhenClosed = (socket: net.Socket) => {
      const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
      void Promise.all([closed, released]).then(() => {
        if (buffers.length < 16) buffers.push(buffer);
      });
    };
    return { buffer, release, returnWhenClosed };
  }

  async listenData(request: DataListenRequest): Promise<DataListener> {
    const timeout = request.timeout ?? this.options.timeout;
    const peer = this.remoteAddress.host;
    const secure = request.secure ? (raw: net.Socket) => this.deferredTls(raw, timeout) : undefined;
    const server = net.createServer({ noDelay: true });
    await new Promise<void>((resolve, reject) => {
      server.once("error", (error) => reject(toFtpError(error, "listening for a data connection")));
      server.listen({ host: this.localAddress.host, port: 0, backlog: 4 }, () => resolve());
    });
    return new ActiveListener(server, peer, timeout, secure);
  }

  /** A data connection that starts TLS on first use, or once the server is found to wait for it. */
  private deferredTls(raw: net.Socket, timeout: number): ByteStream {
    const learn = () => {
      this.dataHandshakeDelay = 0;
    };
    return new DeferredTlsStream(raw, () => this.secureDataSocket(raw), timeout, this.dataHandshakeDelay, learn);
  }

  /**
   * TLS over a data connection: checked against the host name of the control connection, and
   * resuming its latest session (vsftpd and proftpd refuse data connections that do not). The
   * client is the TLS client whichever side connected (RFC 4217 7).
   */
  private secureDataSocket(raw: net.Socket): tls.TLSSocket {
    return tls.connect({ ...tlsIdentity(this.options.host, this.tlsOptions), socket: raw, session: this.session });
  }

  private watchSession(socket: tls.TLSSocket): void {
    socket.on("session", (session: Buffer) => {
      this.session = session;
    });
  }
}

/**
 * Read buffers for chunks the consumer keeps. A read that filled half its buffer or more is
 * handed over as it is, and the next read goes into a fresh buffer: no copy on a fast link. A
 * smaller read is copied out and its buffer read into again, so that a kept chunk never holds
 * on to a mostly empty buffer (a slow link's small reads).
 */
class OwnedReads {
  private current: Buffer;

  constructor(private readonly size: number) {
    this.current = Buffer.allocUnsafe(size);
  }

  /** The buffer the next read goes into. */
  get buffer(): Buffer {
    return this.current;
  }

  take(length: number, buffer: Buffer): Uint8Array {
    if (length < buffer.length / 2) return Buffer.from(buffer.subarray(0, length));
    this.current = Buffer.allocUnsafe(this.size);
    return buffer.subarray(0, length);
  }
}

/** Accepts exactly one data connection, from the control connection's peer. */
class ActiveListener implements DataListener {
  private accepted: Promise<ByteStream>;
  private closed = false;

  constructor(
    private readonly server: net.Server,
    peer: string,
    timeout: number,
    secure: ((raw: net.Socket) => ByteStream) | undefined,
  ) {
    this.accepted = new Promise<net.Socket>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      if (timeout > 0) {
        timer = setTimeout(() => {
          this.close();
          reject(new FtpTimeoutError(`no data connection from the server within ${timeout} ms`));
        }, timeout);
      }
      server.on("connection", (socket) => {
        // Only the server may connect; anyone else is dropped and the wait goes on.
        if (this.closed || !sameHost(socket.remoteAddress, peer)) {
          socket.destroy();
          return;
        }
        if (timer !== undefined) clearTimeout(timer);
        this.close();
        resolve(socket);
      });
      server.once("close", () => {
        // Closed without a connection (the transfer command failed): the timer must not keep the process alive.
        if (timer !== undefined) clearTimeout(timer);
        reject(new FtpConnectionError("data listener closed", { code: "ERR_FTP_CLOSED" }));
      });
    }).then((socket): ByteStream => {
      if (secure === undefined) return new SocketStream(socket, { label: "data connection", timeout });
      return secure(socket);
    });
    // The caller may never call accept() (the command failed): no unhandled rejection then.
    this.accepted.catch(() => undefined);
  }

  get address() {
    const { address, port, family } = this.server.address() as net.AddressInfo;
    return { host: address, port, family: family === "IPv6" ? ("IPv6" as const) : ("IPv4" as const) };
  }

  accept(): Promise<ByteStream> {
    return this.accepted;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.server.close();
  }
}
