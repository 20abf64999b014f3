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
} from "@ftplib/protocol";
import { FtpConnectionError, FtpTimeoutError, FtpTlsError, isIPv4, isIPv6 } from "@ftplib/protocol";
import net from "node:net";
import tls from "node:tls";
import { sameHost, socketAddress } from "./addresses.js";
import { whenReady } from "./connect.js";
import { toFtpError } from "./errors.js";
import { SocketStream } from "./socket-stream.js";

export type NodeTlsOptions = tls.ConnectionOptions;

export interface NodeControlOptions {
  /** The host name the user asked for: TLS certificates are checked against it. */
  host: string;
  timeout: number;
  tls: NodeTlsOptions | undefined;
  /** Size of the reused read buffer of plain data connections. */
  readBufferSize: number;
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
  /** The latest TLS session of the control connection (TLS 1.3 tickets come after the handshake). */
  private session: Buffer | undefined;

  constructor(socket: net.Socket, options: NodeControlOptions) {
    super(socket, { label: "control connection", timeout: options.timeout });
    this.options = options;
    this.tlsOptions = options.tls;
    if (socket instanceof tls.TLSSocket) this.watchSession(socket);
  }

  async startTls(options?: NodeTlsOptions): Promise<void> {
    if (this.secure) throw new FtpConnectionError("control connection: TLS is already on", { code: "ERR_FTP_TLS_ACTIVE" });
    if (options !== undefined) this.tlsOptions = options;
    if (this.unreadBytes > 0) {
      // Bytes sent in the clear after the 234 reply would be read as if protected: an injection.
      const error = new FtpTlsError("control connection: data received in the clear before the TLS handshake", {
        code: "ERR_FTP_TLS_INJECTION",
      });
      this.destroy(error);
      throw error;
    }
    const raw = this.release();
    const secured = tls.connect({ ...tlsIdentity(this.options.host, this.tlsOptions), socket: raw });
    this.watchSession(secured);
    try {
      await whenReady(secured, "secureConnect", "TLS handshake on the control connection", this.options.timeout);
    } catch (error) {
      raw.destroy();
      this.adopt(secured);
      this.destroy(error as Error);
      throw error;
    }
    this.adopt(secured);
  }

  async stopTls(): Promise<void> {
    throw new FtpConnectionError("control connection: clearing TLS (CCC) is not supported by this transport", {
      code: "ERR_FTP_CCC_UNSUPPORTED",
    });
  }

  async connectData(request: DataConnectRequest): Promise<ByteStream> {
    const timeout = request.timeout ?? this.options.timeout;
    const localAddress = this.localAddress.host;
    if (request.secure) {
      const socket = tls.connect({
        ...tlsIdentity(this.options.host, this.tlsOptions),
        host: request.host,
        port: request.port,
        // tls.connect hands socket options such as localAddress on to net.connect.
        ...({ localAddress } as tls.ConnectionOptions),
        session: this.session,
      });
      await whenReady(socket, "secureConnect", `data connection to ${request.host}:${request.port}`, timeout, request.signal);
      return new SocketStream(socket, { label: "data connection", timeout });
    }
    const buffer = Buffer.allocUnsafe(this.options.readBufferSize);
    const socket: net.Socket = net.connect({
      host: request.host,
      port: request.port,
      localAddress,
      // Called only once connected, when `stream` exists.
      onread: { buffer, callback: (length: number, buf: Uint8Array): boolean => stream.onRead(length, buf) },
    });
    // Created before the connect completes, so that no byte or end is missed.
    const stream: SocketStream = new SocketStream(socket, { label: "data connection", timeout, userBuffer: true });
    await whenReady(socket, "connect", `data connection to ${request.host}:${request.port}`, timeout, request.signal);
    return stream;
  }

  async listenData(request: DataListenRequest): Promise<DataListener> {
    const timeout = request.timeout ?? this.options.timeout;
    const peer = this.remoteAddress.host;
    const secureWith = request.secure ? { ...tlsIdentity(this.options.host, this.tlsOptions) } : undefined;
    const session = () => this.session;
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", (error) => reject(toFtpError(error, "listening for a data connection")));
      server.listen({ host: this.localAddress.host, port: 0, backlog: 4 }, () => resolve());
    });
    return new ActiveListener(server, peer, timeout, secureWith, session);
  }

  private watchSession(socket: tls.TLSSocket): void {
    socket.on("session", (session: Buffer) => {
      this.session = session;
    });
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
    secureWith: NodeTlsOptions | undefined,
    session: () => Buffer | undefined,
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
      server.once("close", () => reject(new FtpConnectionError("data listener closed", { code: "ERR_FTP_CLOSED" })));
    }).then(async (socket) => {
      if (secureWith === undefined) return new SocketStream(socket, { label: "data connection", timeout });
      // The client is the TLS client on data connections too (RFC 4217 section 7).
      const secured = tls.connect({ ...secureWith, socket, session: session() });
      await whenReady(secured, "secureConnect", "TLS handshake on the data connection", timeout);
      return new SocketStream(secured, { label: "data connection", timeout });
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

export { socketAddress };
