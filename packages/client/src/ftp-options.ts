/**
 * The options of the FTP class and of its calls, their defaults, and the checks they share.
 */
import type { TextEncoding, Transport } from "@ftplib/protocol";
import type { ListOptions, ListParser } from "./listing/index.js";
import { hostOption, integerOption, portOption } from "./options.js";
import type { RateLimiter } from "./rate-limit.js";

/**
 * The standard FTP control port.
 *
 * @group Connecting
 */
export const FTP_PORT = 21;

/**
 * A local address to connect from: ftplib's `(host, port)` or an object.
 *
 * @group Connecting
 */
export type SourceAddress = readonly [host: string, port: number] | { host: string; port?: number };

/**
 * What `new FTP(options)` takes.
 *
 * @group Connecting
 */
export interface FTPOptions {
  /** Milliseconds for connecting, for each reply, and for a stalled data connection (default 30,000; 0: none). */
  timeout?: number;
  /** The local address (and port) to connect from. */
  sourceAddress?: SourceAddress;
  /** Encoding of commands, replies and text transfers (default UTF-8; `latin-1` and others selectable). */
  encoding?: string | TextEncoding;
  /** What carries the bytes (default: Node sockets). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a transport's TLS options are its own
  transport?: Transport<any>;
  /** Use the host in a 227 reply instead of the control connection's peer (ftplib's opt-in; unsafe). */
  trustServerPasvIpv4Address?: boolean;
  /** The longest line accepted in replies and text transfers (default 8192). */
  maxline?: number;
  /** Passive mode (default true); `setPasv(false)` for active mode. */
  passive?: boolean;
  /**
   * Ask for passive addresses with EPSV on IPv4 too (default true), falling back to PASV when the
   * server refuses it. `false` sends PASV on IPv4, as ftplib does: for servers, firewalls and NAT
   * devices that never answer EPSV. IPv6 always uses EPSV.
   */
  epsv?: boolean;
  /**
   * Send a passive transfer's command while its data connection is still connecting, once a data
   * connection of this session has worked (default false): a round trip less a transfer, which on
   * a 20 ms link is a third of a small file's time. The risk: a passive port that cannot be
   * reached after the command has gone makes the server wait for its own accept timeout, and
   * vsftpd, pure-ftpd, proftpd and netkit read no ABOR meanwhile, so the session is closed with an
   * error (`ERR_FTP_DATA_AFTER_COMMAND`). For networks where every passive port is reachable.
   */
  pipelineTransfers?: boolean;
  /** Debug level, as `setDebugLevel` (default 0). */
  debugLevel?: number;
  /** Where debug output goes (default: standard error). */
  debugOutput?: (line: string) => void;
  /** Send NOOP after this many idle milliseconds, so that the server keeps the session (default: never). */
  keepAlive?: number;
  /**
   * Deflate the data connection (MODE Z) of downloads and listings where the server offers it
   * (FEAT), unless a call says otherwise (default false). An optimisation only: a server without
   * it gets stream mode and the same bytes, and debug output says so. Uploads deflate only when
   * the call asks (`storBinary`, `upload`: `{ modeZ: true }`): proftpd up to 1.3.8, the server
   * that most often offers MODE Z, stalls on compressed uploads or stores them wrong (its issue
   * #1896).
   */
  modeZ?: boolean;
  /**
   * At most this many bytes per second in binary transfers (retrBinary, storBinary, download,
   * upload, segmented downloads): each block waits until it fits. A number gives this client a
   * limiter of its own; a `RateLimiter` may be shared by several clients (a pool's connections),
   * whose transfers then share the rate. Default: no limit.
   */
  rateLimit?: number | RateLimiter;
}

/**
 * What `connect(host, port, options)` takes.
 *
 * @group Connecting
 */
export interface ConnectOptions {
  timeout?: number;
  sourceAddress?: SourceAddress;
}

/**
 * What `FTP.open(options)` takes: the client's options, where to connect, and who logs in.
 *
 * @group Connecting
 */
export interface OpenOptions extends FTPOptions {
  host: string;
  port?: number;
  user?: string;
  password?: string;
  acct?: string;
}

/**
 * What `retrBinary` takes.
 *
 * @group The ftplib API
 */
export interface RetrBinaryOptions {
  /** The most bytes handed to one callback (default: chunks as they arrive). */
  blocksize?: number;
  /** Restart offset, sent as REST before the command. */
  rest?: number | string;
  /**
   * Hand out views of the transport's read buffer instead of copies (default false). A block is
   * then valid only until the callback (or the promise it returns) settles: the next read
   * overwrites it. Copy what you keep. Saves one copy of every byte.
   */
  zeroCopy?: boolean;
  /** MODE Z (deflate) where the server offers it, stream mode otherwise (default: the client's `modeZ`). */
  modeZ?: boolean;
  /**
   * Called once the server has started the transfer (its 1xx reply), before the first block, with
   * the size that reply announced, or null (ftplib's `ntransfercmd` size).
   */
  onStart?: (announcedSize: number | null) => void;
}

/**
 * What `storBinary` takes.
 *
 * @group The ftplib API
 */
export interface StorBinaryOptions {
  /** The most bytes written at once (default 262,144). */
  blocksize?: number;
  /** Called with each block after it is sent. */
  callback?: (block: Uint8Array) => unknown;
  /** Restart offset, sent as REST before the command. */
  rest?: number | string;
  /** MODE Z (deflate) where the server offers it, stream mode otherwise (default false; see `FTPOptions.modeZ`). */
  modeZ?: boolean;
}

/**
 * How to list a directory: `list()` and `listStream()`.
 *
 * @group Files and listings
 */
export interface ListingOptions extends ListOptions {
  /** Parsers tried before the built-in LIST formats. */
  parsers?: readonly ListParser[];
  /** MLSD or LIST (default: MLSD when the server lists MLST among its features). */
  command?: "MLSD" | "LIST";
  /** MODE Z (deflate) where the server offers it, stream mode otherwise (default: the client's `modeZ`). */
  modeZ?: boolean;
}

export const DEFAULT_TIMEOUT = 30_000;
export const DEFAULT_BLOCKSIZE = 256 * 1024;
/** The most listing text held in memory by default (nlst, mlsd, list, listStream). */
export const MAX_LISTING_BYTES = 64 * 1024 * 1024;
export const maxListingBytes = (options: { maxBytes?: number }): number =>
  integerOption("maxBytes", options.maxBytes, MAX_LISTING_BYTES, 1, Number.MAX_SAFE_INTEGER);

/** The largest block a transfer callback is handed or a write is made of (1 GiB). */
export const MAX_BLOCKSIZE = 1 << 30;

/** The source address as an object, checked: a host, and a port (0 or none: any). */
export function sourceAddressOf(address: SourceAddress | undefined): { host: string; port?: number } | undefined {
  if (address === undefined) return undefined;
  const { host, port } = Array.isArray(address)
    ? { host: address[0] as unknown, port: address[1] as unknown }
    : (address as { host: unknown; port?: unknown });
  return { host: hostOption("sourceAddress.host", host), port: portOption("sourceAddress.port", port, true) };
}
