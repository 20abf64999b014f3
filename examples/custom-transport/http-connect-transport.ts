/**
 * A custom transport, written against the published contract only: every connection, control
 * and data, goes through an HTTP proxy's CONNECT tunnel. It shows that `Transport`,
 * `ControlStream` and `ByteStream` from `@ftplib/protocol` are all a network layer needs to
 * implement for `new FTP({ transport })`, FTP_TLS (AUTH TLS, PROT P, implicit FTPS) included.
 *
 * What a CONNECT tunnel cannot do, it refuses with a clear error: active mode (the server would
 * have to connect back through the proxy) and CCC (TLS cannot be taken off a tunnelled stream
 * here without more machinery than an example deserves).
 */
import {
  type ByteStream,
  type ConnectRequest,
  type ControlStream,
  type DataConnectRequest,
  type DataListener,
  FtpConnectionError,
  FtpTimeoutError,
  FtpTlsError,
  type SocketAddress,
  type Transport,
} from "@ftplib/protocol";
import net from "node:net";
import tls from "node:tls";

export interface HttpConnectTransportOptions {
  /** The proxy: host and port of an HTTP proxy that allows CONNECT to FTP ports. */
  proxy: { host: string; port: number };
  /** Sent as `Proxy-Authorization`, when the proxy wants it (e.g. `Basic dXNlcjpwYXNz`). */
  authorization?: string;
}

export class HttpConnectTransport implements Transport<tls.ConnectionOptions> {
  constructor(private readonly options: HttpConnectTransportOptions) {}

  async connect(request: ConnectRequest<tls.ConnectionOptions>): Promise<ControlStream<tls.ConnectionOptions>> {
    const socket = await this.tunnel(request.host, request.port, request.timeout ?? 0);
    const control = new TunnelledControl(this, socket, request);
    if (request.implicitTls !== undefined) await control.startTls(request.implicitTls);
    return control;
  }

  /** Opens a CONNECT tunnel to `host:port` and resolves with the socket once the proxy said 200. */
  tunnel(host: string, port: number, timeout: number): Promise<net.Socket> {
    const target = `${host.includes(":") ? `[${host}]` : host}:${port}`;
    return new Promise((resolve, reject) => {
      const socket = net.connect(this.options.proxy.port, this.options.proxy.host);
      let head = Buffer.alloc(0);
      const timer =
        timeout > 0
          ? setTimeout(() => fail(new FtpTimeoutError(`no tunnel to ${target} within ${timeout} ms`)), timeout)
          : undefined;
      const fail = (error: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(error);
      };
      socket.once("error", (cause) => fail(new FtpConnectionError(`proxy: ${cause.message}`, { cause })));
      socket.once("connect", () => {
        const auth = this.options.authorization ? `Proxy-Authorization: ${this.options.authorization}\r\n` : "";
        socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${auth}\r\n`);
      });
      const onData = (chunk: Buffer) => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) return;
        socket.off("data", onData);
        socket.removeAllListeners("error");
        clearTimeout(timer);
        const status = head.subarray(0, head.indexOf("\r\n")).toString("latin1");
        if (!/^HTTP\/1\.[01] 200 /.test(status))
          return fail(new FtpConnectionError(`proxy refused the tunnel to ${target}: ${status}`));
        // Bytes after the proxy's answer already belong to the FTP server (a greeting, say).
        const rest = head.subarray(end + 4);
        socket.pause();
        if (rest.length > 0) socket.unshift(rest);
        resolve(socket);
      };
      socket.on("data", onData);
    });
  }
}

/** A ByteStream over a socket (plain or TLS): pull-based reads, writes with backpressure. */
class SocketByteStream implements ByteStream {
  protected socket!: net.Socket;
  private chunks: Buffer[] = [];
  private ended = false;
  private failure: Error | undefined;
  private waiting: (() => void) | undefined;
  private idle = 0;

  constructor(
    socket: net.Socket,
    private readonly what: string,
    readonly remoteAddress: SocketAddress,
  ) {
    this.attach(socket);
  }

  /** Reads from `socket` from now on (after a TLS switch, the TLS socket). */
  protected attach(socket: net.Socket): void {
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.wake();
    });
    socket.on("end", () => {
      this.ended = true;
      this.wake();
    });
    socket.on("error", (cause) => {
      this.failure ??= new FtpConnectionError(`${this.what}: ${cause.message}`, { cause });
      this.wake();
    });
    socket.resume();
  }

  /** Stops reading from the current socket (before a TLS switch). */
  protected detach(): net.Socket {
    this.socket.removeAllListeners("data");
    this.socket.removeAllListeners("end");
    this.socket.pause();
    return this.socket;
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.();
  }

  async read(): Promise<Uint8Array | null> {
    while (this.chunks.length === 0 && !this.ended && this.failure === undefined) {
      await new Promise<void>((resolve, reject) => {
        const timer =
          this.idle > 0
            ? setTimeout(
                () => reject(new FtpTimeoutError(`${this.what}: nothing received for ${this.idle} ms`)),
                this.idle,
              )
            : undefined;
        this.waiting = () => {
          clearTimeout(timer);
          resolve();
        };
      }).catch((error: Error) => {
        this.destroy(error);
        throw error;
      });
    }
    if (this.chunks.length > 0) return this.chunks.shift()!;
    if (this.failure !== undefined) throw this.failure;
    return null;
  }

  write(data: Uint8Array): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.socket.write(data, (error) =>
        error ? reject(new FtpConnectionError(`${this.what}: ${error.message}`, { cause: error })) : resolve(),
      );
    });
  }

  end(): Promise<void> {
    return new Promise((resolve) => this.socket.end(() => resolve()));
  }

  destroy(reason?: Error): void {
    this.failure ??= reason ?? new FtpConnectionError(`${this.what} closed`, { code: "ERR_FTP_CLOSED" });
    this.socket.destroy();
    this.wake();
  }

  setTimeout(ms: number): void {
    this.idle = ms;
  }

  get localAddress(): SocketAddress {
    // The local end is the proxy's: what matters to the client is the family.
    return {
      host: this.remoteAddress.family === "IPv6" ? "::" : "0.0.0.0",
      port: 0,
      family: this.remoteAddress.family,
    };
  }

  get secure(): boolean {
    return this.socket instanceof tls.TLSSocket;
  }
}

/**
 * A data connection that starts TLS when it is first read or written, which the client does after
 * the server's 1xx reply (pyftpdlib takes a ClientHello sent before then for data), or after a
 * moment without use (ftp-srv sends its 1xx only once the handshake is done).
 */
class TlsOnFirstUse extends SocketByteStream {
  private started = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    raw: net.Socket,
    what: string,
    remote: SocketAddress,
    private readonly wrap: (raw: net.Socket) => tls.TLSSocket,
  ) {
    super(raw, what, remote);
    this.timer = setTimeout(() => this.start(), 200).unref();
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    clearTimeout(this.timer);
    this.attach(this.wrap(this.detach()));
  }

  override destroy(reason?: Error): void {
    clearTimeout(this.timer);
    super.destroy(reason);
  }

  override read(): Promise<Uint8Array | null> {
    this.start();
    return super.read();
  }

  override write(data: Uint8Array): Promise<void> {
    this.start();
    return super.write(data);
  }

  override end(): Promise<void> {
    this.start();
    return super.end();
  }
}

function addressOf(host: string, port: number): SocketAddress {
  return { host, port, family: net.isIPv6(host) ? "IPv6" : "IPv4" };
}

/** TLS over a tunnelled socket, checked against the host name the user gave. */
function secureSocket(
  socket: net.Socket,
  host: string,
  options: tls.ConnectionOptions,
  session?: Buffer,
): tls.TLSSocket {
  return tls.connect({
    ...options,
    socket,
    session,
    servername: options.servername ?? (net.isIP(host) ? undefined : host),
    host,
  });
}

class TunnelledControl extends SocketByteStream implements ControlStream<tls.ConnectionOptions> {
  tlsSession: Buffer | undefined;
  private tlsOptions: tls.ConnectionOptions;

  constructor(
    private readonly transport: HttpConnectTransport,
    socket: net.Socket,
    private readonly request: ConnectRequest<tls.ConnectionOptions>,
  ) {
    // The server's address as the client should use it: PASV hosts are replaced by it.
    super(socket, "control connection", addressOf(request.host, request.port));
    this.tlsOptions = request.tls ?? request.implicitTls ?? {};
  }

  get tlsResumed(): boolean {
    return this.socket instanceof tls.TLSSocket && this.socket.isSessionReused();
  }

  async startTls(options?: tls.ConnectionOptions): Promise<void> {
    if (options !== undefined) this.tlsOptions = options;
    const secured = secureSocket(this.detach(), this.request.host, this.tlsOptions);
    secured.on("session", (session: Buffer) => (this.tlsSession = session));
    await new Promise<void>((resolve, reject) => {
      secured.once("secureConnect", () => resolve());
      secured.once("error", (cause) =>
        reject(new FtpTlsError(`TLS handshake on the control connection: ${cause.message}`, { cause })),
      );
    });
    this.attach(secured);
  }

  stopTls(): Promise<void> {
    return Promise.reject(
      new FtpConnectionError("CCC is not supported through this proxy transport", { code: "ERR_FTP_CCC_UNSUPPORTED" }),
    );
  }

  async connectData(request: DataConnectRequest): Promise<ByteStream> {
    const raw = await this.transport.tunnel(request.host, request.port, request.timeout ?? 0);
    const remote = addressOf(request.host, request.port);
    if (!request.secure) return new SocketByteStream(raw, "data connection", remote);
    // The data connection resumes the control connection's session, as vsftpd and proftpd demand.
    return new TlsOnFirstUse(raw, "data connection", remote, (socket) =>
      secureSocket(socket, this.request.host, this.tlsOptions, this.tlsSession),
    );
  }

  listenData(): Promise<DataListener> {
    return Promise.reject(
      new FtpConnectionError("active mode is not possible through an HTTP CONNECT proxy: use passive mode", {
        code: "ERR_FTP_ACTIVE_UNSUPPORTED",
      }),
    );
  }
}
