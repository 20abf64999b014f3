/**
 * The transport contract: everything the client needs from the network, as types only. A transport
 * moves bytes; the client drives the codec over them. The Node implementation is
 * `@ftplib/transport`; a transcript replayer, a WebSocket bridge or a SOCKS proxy implements the
 * same interfaces and plugs in with `new FTP({ transport })`.
 *
 * Failures are reported by rejecting with the error classes of this package:
 * {@link FtpTimeoutError} for a timeout, {@link FtpTlsError} for a failed handshake or an untrusted
 * certificate, {@link FtpConnectionError} for anything else (with the underlying error as `cause`).
 */

/** One end of a connection. */
export interface SocketAddress {
  readonly host: string;
  readonly port: number;
  readonly family: "IPv4" | "IPv6";
}

/** The minimal part of `AbortSignal` a transport needs, so no DOM or Node types are required. */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener(type: "abort", listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: "abort", listener: () => void): void;
}

/**
 * A connection carrying bytes both ways: the control connection or a data connection.
 *
 * @group The ftplib API
 */
export interface ByteStream {
  /**
   * The next chunk of bytes, or `null` once the peer has finished sending. The chunk is valid only
   * until the next call (transports may read into one reused buffer), so a consumer that keeps it
   * must copy it, unless `ownsChunks` is true. Only one read may be pending at a time. Rejects when the
   * connection fails, or
   * with {@link FtpTimeoutError} when nothing arrives within the stream's idle timeout.
   *
   * @returns the chunk, or null at the end of the stream.
   */
  read(): Promise<Uint8Array | null>;
  /**
   * Sends bytes. Resolves once the transport can take more (backpressure): await each write before
   * the next, and do not change `data` until it resolves.
   */
  write(data: Uint8Array): Promise<void>;
  /** Sends what is pending, then closes the sending side (for TLS, close_notify first). */
  end(): Promise<void>;
  /** Tears the connection down now; pending and later calls reject with `reason`. Idempotent. */
  destroy(reason?: Error): void;
  /** Changes the idle timeout of reads, in milliseconds (0: none). */
  setTimeout(ms: number): void;
  readonly localAddress: SocketAddress;
  readonly remoteAddress: SocketAddress;
  /** True while the stream is protected by TLS. */
  readonly secure: boolean;
  /** True when a chunk read stays as it is after later reads: the consumer may keep it without a copy. */
  readonly ownsChunks?: boolean;
}

/** Where to open a passive data connection. */
export interface DataConnectRequest {
  readonly host: string;
  readonly port: number;
  /** Protect it with TLS (PROT P), resuming the control connection's session. */
  readonly secure: boolean;
  /** Milliseconds to connect (and handshake) before giving up; 0 or absent: none. */
  readonly timeout?: number;
  readonly signal?: AbortSignalLike;
  /** The local port to connect from (ftplib binds data connections to its `source_address`); absent: any. */
  readonly localPort?: number;
  /**
   * The consumer keeps the chunks it reads (`ownsChunks`): a transport that reads into one reused
   * buffer should hand each full one over instead, and read on into a fresh one.
   */
  readonly ownChunks?: boolean;
}

/** How to listen for an active data connection (PORT or EPRT). */
export interface DataListenRequest {
  /** Protect the accepted connection with TLS (PROT P), resuming the control connection's session. */
  readonly secure: boolean;
  /** Milliseconds to wait for the server to connect; 0 or absent: none. */
  readonly timeout?: number;
  readonly signal?: AbortSignalLike;
}

/** A listening socket that takes exactly one connection, from the control connection's peer. */
export interface DataListener {
  /** The address to announce in PORT or EPRT. */
  readonly address: SocketAddress;
  /**
   * The server's connection; a connection from any other host is refused and not counted.
   *
   * @returns the server's data connection.
   */
  accept(): Promise<ByteStream>;
  /** Stops listening. Idempotent. */
  close(): void;
}

/** The control connection: a byte stream that can switch TLS and open data connections. */
export interface ControlStream<TlsOptions = unknown> extends ByteStream {
  /** The latest TLS session of this connection, to resume on another control connection (optional). */
  readonly tlsSession?: unknown;
  /** True when this connection's TLS handshake resumed an earlier session (optional). */
  readonly tlsResumed?: boolean;
  /** Starts TLS on this connection (after a 234 reply to AUTH TLS). */
  startTls(options?: TlsOptions): Promise<void>;
  /** Ends TLS and goes on in the clear (after a 200 reply to CCC). */
  stopTls(): Promise<void>;
  /**
   * Opens a passive data connection.
   *
   * @returns the data connection, connected (and, when `secure`, ready to start TLS).
   */
  connectData(request: DataConnectRequest): Promise<ByteStream>;
  /**
   * Listens for an active data connection, on this connection's local address.
   *
   * @returns the listener, with the address to announce in PORT or EPRT.
   */
  listenData(request: DataListenRequest): Promise<DataListener>;
}

/** How to open the control connection. */
export interface ConnectRequest<TlsOptions = unknown> {
  readonly host: string;
  readonly port: number;
  /** Milliseconds for the connection (and an implicit TLS handshake); 0 or absent: none. */
  readonly timeout?: number;
  /** The local address (and port) to connect from. */
  readonly sourceAddress?: { readonly host: string; readonly port?: number };
  /** Start TLS before any byte is exchanged (implicit FTPS), with these options. */
  readonly implicitTls?: TlsOptions;
  /** TLS options used by `startTls` and by secure data connections when none are given. */
  readonly tls?: TlsOptions;
  readonly signal?: AbortSignalLike;
}

/**
 * Opens control connections.
 *
 * @group Connecting
 */
export interface Transport<TlsOptions = unknown> {
  /**
   * Opens the control connection (TLS from the first byte when `implicitTls` is given).
   *
   * @returns the control connection, connected.
   */
  connect(request: ConnectRequest<TlsOptions>): Promise<ControlStream<TlsOptions>>;
}
