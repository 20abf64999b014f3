/**
 * The FTP class: every method of Python's ftplib.FTP, with its meaning, return values and errors,
 * in TypeScript's conventions (camelCase, Promises, milliseconds).
 */
import {
  type ByteStream,
  ControlCodec,
  type DataListener,
  ErrorPerm,
  ErrorProto,
  ErrorReply,
  ErrorTemp,
  FtpConnectionError,
  FtpError,
  FtpTimeoutError,
  FtpTlsError,
  LineReader,
  LocalProtocolError,
  type MlsxEntry,
  type Reply,
  type SendOptions,
  type TextEncoding,
  type Transport,
  buildEprtArgument,
  buildPortArgument,
  completionError,
  isIPv4,
  maskCommand,
  parse150,
  parse227,
  parse229,
  parse257,
  parseFeat,
  parseMdtm,
  parseMlstReply,
  parseMlsxEntry,
  replyError,
  resolveEncoding,
} from "@ftplib/protocol";
import { nodeTransport } from "@ftplib/transport";
import { CallQueue, UNQUEUED } from "./call-queue.js";
import { ControlChannel } from "./control-channel.js";
import { type TreeEntry, type TreeOptions, downloadDir, ensureDir, removeDir, uploadDir, walk } from "./directories.js";
import { GuardedStream } from "./guarded-stream.js";
import { connectChannel, sendcmdChannel } from "./diagnostics.js";
import { type FileEntry, type ListOptions, type ListParser, ListParserStream, factsEntry, mlsxFileEntry } from "./listing/index.js";
import { EntryIterator } from "./listing/entry-iterator.js";
import { type UploadSource, chunksOf } from "./sources.js";
import { type DownloadOptions, type TransferOptions, download as downloadFile, upload as uploadFile } from "./file-transfers.js";
import type { Readable, Writable } from "node:stream";
import { booleanOption, checkSendable, functionOption, hostOption, integerOption, invalidOption, millisecondsOption, portOption, restOption } from "./options.js";

/** The standard FTP control port. */
export const FTP_PORT = 21;

/** A local address to connect from: ftplib's `(host, port)` or an object. */
export type SourceAddress = readonly [host: string, port: number] | { host: string; port?: number };

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
  /** Debug level, as `setDebugLevel` (default 0). */
  debugLevel?: number;
  /** Where debug output goes (default: standard error). */
  debugOutput?: (line: string) => void;
  /** Send NOOP after this many idle milliseconds, so that the server keeps the session (default: never). */
  keepAlive?: number;
}

export interface ConnectOptions {
  timeout?: number;
  sourceAddress?: SourceAddress;
}

export interface OpenOptions extends FTPOptions {
  host: string;
  port?: number;
  user?: string;
  password?: string;
  acct?: string;
}

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
}

export interface StorBinaryOptions {
  /** The most bytes written at once (default 262,144). */
  blocksize?: number;
  /** Called with each block after it is sent. */
  callback?: (block: Uint8Array) => unknown;
  /** Restart offset, sent as REST before the command. */
  rest?: number | string;
}

interface ReadLinesOptions {
  /** Runs after each received chunk's lines (a listing loop takes them meanwhile). */
  afterChunk?: () => Promise<void>;
  /** The line callback is the user's: calls it makes on the connection are nested ones. */
  usersCallback?: boolean;
}

/** The replies after ABOR: the transfer's and ABOR's own (either may be absent, see `abortReplies`). */
interface AbortReplies {
  readonly transfer?: Reply;
  readonly abort?: Reply;
}

/** The data connection of a transfer in progress, and whether the caller aborted it. */
interface Transfer {
  /** The id of the transfer command on the control channel. */
  readonly id: number;
  /** The data connection: guarded when the client runs the transfer itself (`direction` set). */
  readonly conn: ByteStream;
  /** Which way the data flows, when the client runs the transfer itself. */
  readonly direction?: "download" | "upload";
  /** The transfer's final reply, when the client runs the transfer itself. */
  readonly final?: Promise<Reply>;
  aborted: boolean;
  /** ABOR went out. */
  stopped?: boolean;
  /** The replies to the transfer and to ABOR, once both are in. */
  afterAbort?: Promise<AbortReplies>;
  /** The transfer's own final reply, when the client reads it (undefined: answered with ABOR's). */
  finalReply?: Promise<Reply | undefined>;
  /** Set for a transfer opened by `ntransferCmd`: ends the caller's turn once its reply is read. */
  release?: () => void;
}

/** A transfer the client runs itself (retrBinary and the others): its connection is guarded. */
interface RunningTransfer extends Transfer {
  readonly conn: GuardedStream;
  readonly direction: "download" | "upload";
  readonly final: Promise<Reply>;
}

const isRunning = (transfer: Transfer): transfer is RunningTransfer => transfer.final !== undefined;

/** How to list a directory: `list()` and `listStream()`. */
export interface ListingOptions extends ListOptions {
  /** Parsers tried before the built-in LIST formats. */
  parsers?: readonly ListParser[];
  /** MLSD or LIST (default: MLSD when the server lists MLST among its features). */
  command?: "MLSD" | "LIST";
}

const DEFAULT_TIMEOUT = 30_000;
const DEFAULT_BLOCKSIZE = 256 * 1024;
/** The most listing text held in memory by default (nlst, mlsd, list, listStream). */
const MAX_LISTING_BYTES = 64 * 1024 * 1024;
const maxListingBytes = (options: { maxBytes?: number }): number =>
  integerOption("maxBytes", options.maxBytes, MAX_LISTING_BYTES, 1, Number.MAX_SAFE_INTEGER);

/** Milliseconds a stopped transfer's data connection gets to close by itself. */
const DATA_CLOSE_PATIENCE = 2000;
/** Milliseconds after one reply to an abort for the other, before a NOOP marker is sent. */
const MARKER_DELAY = 250;
/** Milliseconds a download that failed on this side gets to end by itself before ABOR. */
const DRAIN_MOMENT = 100;
const CRLF = Uint8Array.of(0x0d, 0x0a);

/** True if `work` settles (either way) within `ms`; the work goes on either way. */
async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const settled = work.then(
    () => true,
    () => true,
  );
  const result = await Promise.race([settled, late]);
  clearTimeout(timer);
  return result;
}

/** The reply text, if it is a 2xx; ErrorReply otherwise (ftplib's voidresp). */
function expect2xx(resp: string): string {
  if (resp[0] !== "2") throw new ErrorReply(resp);
  return resp;
}

function noFinalReply(): never {
  throw new ErrorProto("no final reply to the transfer", { code: "ERR_FTP_NO_REPLY" });
}

/** The largest block a transfer callback is handed or a write is made of (1 GiB). */
const MAX_BLOCKSIZE = 1 << 30;

/** The source address as an object, checked: a host, and a port (0 or none: any). */
function sourceAddressOf(address: SourceAddress | undefined): { host: string; port?: number } | undefined {
  if (address === undefined) return undefined;
  const { host, port } = Array.isArray(address)
    ? { host: address[0] as unknown, port: address[1] as unknown }
    : (address as { host: unknown; port?: unknown });
  return { host: hostOption("sourceAddress.host", host), port: portOption("sourceAddress.port", port, true) };
}

export class FTP {
  /** The host last connected to. */
  host = "";
  /** The port last connected to. */
  port = FTP_PORT;
  /** The server's greeting, once connected. */
  welcome: string | null = null;
  /** The code of the last reply, as a string (`"226"`). */
  lastResp: string | null = null;
  /** The longest line accepted. */
  readonly maxline: number;
  readonly encoding: TextEncoding;
  timeout: number;
  sourceAddress: SourceAddress | undefined;
  /** Passive mode on (the default) or off. */
  passiveServer: boolean;
  /** EPSV on IPv4 too (the default), or PASV there (see `FTPOptions.epsv`). */
  epsv: boolean;
  trustServerPasvIpv4Address: boolean;
  /** The debug level: 0 quiet, 1 commands and replies, 2 raw lines too. */
  debugging: number;

  protected readonly transport: Transport<unknown>;
  protected control: ControlChannel | undefined;
  /** Data connections use TLS (PROT P): set by FTP_TLS. */
  protected secureData = false;
  /** TLS options handed to the transport (FTP_TLS). */
  protected tlsOptions: unknown = undefined;
  /** Implicit TLS from the first byte (FTP_TLS). */
  protected implicitTls = false;
  protected readonly queue = new CallQueue();
  private readonly debugOutput: (line: string) => void;
  private transfer: Transfer | undefined;
  private unqueuedView: this | undefined;
  /** The server refused EPSV: use PASV from now on. */
  private epsvRefused = false;
  /** FEAT of this connection, once asked. */
  private featureCache: Map<string, string> | undefined;
  /** The representation type the server has (`I` or `A`), to skip a TYPE that changes nothing. */
  private currentType: string | undefined;
  private readonly keepAlive: number;
  private keepAliveTimer: NodeJS.Timeout | undefined;

  constructor(options: FTPOptions = {}) {
    // Every option is checked here, so that a mistake shows at once and names the option.
    this.timeout = millisecondsOption("timeout", options.timeout, DEFAULT_TIMEOUT);
    sourceAddressOf(options.sourceAddress);
    this.sourceAddress = options.sourceAddress;
    this.encoding = resolveEncoding(options.encoding);
    const transport: unknown = options.transport ?? nodeTransport;
    if (typeof transport !== "object" || transport === null || typeof (transport as Transport<unknown>).connect !== "function") {
      throw invalidOption(TypeError, "transport", "an object with a connect() method", transport);
    }
    this.transport = transport as Transport<unknown>;
    this.trustServerPasvIpv4Address = booleanOption("trustServerPasvIpv4Address", options.trustServerPasvIpv4Address, false);
    this.maxline = integerOption("maxline", options.maxline, 8192, 4, 1 << 24);
    this.passiveServer = booleanOption("passive", options.passive, true);
    this.epsv = booleanOption("epsv", options.epsv, true);
    this.debugging = integerOption("debugLevel", options.debugLevel, 0, 0, 3);
    this.debugOutput = functionOption("debugOutput", options.debugOutput) ?? ((line) => process.stderr.write(`${line}\n`));
    this.keepAlive = millisecondsOption("keepAlive", options.keepAlive, 0);
  }

  /** Connects and logs in: `new FTP(options)`, `connect`, `login`. Closes the connection if login fails. */
  static async open(options: OpenOptions): Promise<FTP> {
    const ftp = new this(options);
    // Credentials that cannot be sent are refused before connecting.
    checkSendable(ftp.encoding, [], [options.user ?? "", options.password ?? "", options.acct ?? ""]);
    await ftp.connect(options.host, options.port);
    try {
      await ftp.login(options.user, options.password, options.acct);
    } catch (error) {
      ftp.close();
      throw error;
    }
    return ftp;
  }

  // --- Connection -------------------------------------------------------------------------

  /** Connects to `host` (default: the previous one) and returns the greeting. */
  connect(host = "", port = 0, options: ConnectOptions = {}): Promise<string> {
    return this.queue.run(async () => {
      if (host !== "") this.host = hostOption("host", host);
      if (portOption("port", port, true)! > 0) this.port = port;
      if (options.timeout !== undefined) this.timeout = millisecondsOption("timeout", options.timeout, this.timeout);
      if (options.sourceAddress !== undefined) {
        sourceAddressOf(options.sourceAddress);
        this.sourceAddress = options.sourceAddress;
      }
      if (this.host === "") throw new TypeError("connect() needs a host");
      this.close();
      this.epsvRefused = false;
      this.featureCache = undefined;
      this.currentType = undefined;
      if (connectChannel.hasSubscribers) connectChannel.publish({ ftp: this, host: this.host, port: this.port });
      const stream = await this.transport.connect({
        host: this.host,
        port: this.port,
        timeout: this.timeout,
        sourceAddress: sourceAddressOf(this.sourceAddress),
        tls: this.tlsOptions,
        implicitTls: this.implicitTls ? (this.tlsOptions ?? {}) : undefined,
      });
      const codec = new ControlCodec({ encoding: this.encoding, maxLine: this.maxline });
      this.control = new ControlChannel(stream, codec, {
        sent: (line) => this.onSent(line),
        received: (reply) => this.onReceived(reply),
        unsolicited: (reply) => this.onUnsolicited(reply),
      });
      this.control.setTimeout(this.timeout);
      // A 120 ("ready in a minute") may come before the greeting itself.
      const greeting = await this.control.greeting();
      this.welcome = greeting.text;
      const error = replyError(greeting);
      if (error !== undefined) throw error;
      return this.welcome;
    });
  }

  /** The greeting of the server. */
  getWelcome(): string | null {
    if (this.debugging) this.debug(`*welcome* ${this.sanitize(this.welcome ?? "")}`);
    return this.welcome;
  }

  /** Logs in; anonymous (`anonymous` / `anonymous@`) by default. */
  login(user = "", passwd = "", acct = ""): Promise<string> {
    return this.checked([], [user, passwd, acct], () => this.queue.run(() => this.loginNow(user, passwd, acct)));
  }

  protected async loginNow(user: string, passwd: string, acct: string): Promise<string> {
    if (user === "") user = "anonymous";
    if (user === "anonymous" && (passwd === "" || passwd === "-")) {
      // Anonymous, with no clue about the user: the password ftplib sends.
      passwd = `${passwd}anonymous@`;
    }
    let resp = await this.sendCmdNow(`USER ${user}`);
    if (resp[0] === "3") resp = await this.sendCmdNow(`PASS ${passwd}`);
    if (resp[0] === "3") resp = await this.sendCmdNow(`ACCT ${acct}`);
    if (resp[0] !== "2") throw new ErrorReply(resp);
    return resp;
  }

  /** Sends ACCT. */
  acct(password: string): Promise<string> {
    return this.voidCmd(`ACCT ${password}`);
  }

  /** Sends QUIT, then closes the connection. */
  quit(): Promise<string> {
    return this.queue.run(async () => {
      const resp = await this.voidCmdNow("QUIT");
      this.close();
      return resp;
    });
  }

  /** Closes the connection at once, without QUIT. Calls in progress fail. Idempotent. */
  close(): void {
    if (this.keepAliveTimer !== undefined) clearTimeout(this.keepAliveTimer);
    this.keepAliveTimer = undefined;
    const control = this.control;
    this.control = undefined;
    this.transfer?.conn.destroy();
    this.transfer = undefined;
    control?.destroy();
  }

  /** `await using ftp = ...`: QUIT, and close if QUIT fails. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.control === undefined || this.control.closed) return this.close();
    try {
      await this.quit();
    } catch (error) {
      // As ftplib's __exit__: a connection already gone ends the session quietly; a reply that
      // refuses QUIT is the caller's to see.
      if (!FtpConnectionError.isInstance(error)) throw error;
    } finally {
      this.close();
    }
  }

  // --- Commands ---------------------------------------------------------------------------

  /** Sends a command and returns the reply; 4xx raises ErrorTemp, 5xx ErrorPerm. */
  sendCmd(cmd: string): Promise<string> {
    return this.queue.run(() => this.sendCmdNow(cmd));
  }

  /** Sends a command and expects a 2xx reply (ErrorReply otherwise). */
  voidCmd(cmd: string): Promise<string> {
    return this.queue.run(() => this.voidCmdNow(cmd));
  }

  /** Reads a reply (after `transferCmd`, the transfer's final one); 4xx and 5xx raise. */
  getResp(): Promise<string> {
    return this.transfer !== undefined ? this.endTransfer(false) : this.queue.run(() => this.getRespNow());
  }

  /** Reads a reply and expects 2xx (ErrorReply otherwise). */
  voidResp(): Promise<string> {
    return this.transfer !== undefined ? this.endTransfer(true) : this.queue.run(() => this.voidRespNow());
  }

  /**
   * Aborts a transfer: sends ABOR, closes the data connection, and returns the reply, which must
   * be 426, 225 or 226 (ErrorProto otherwise). TLS or not, no out-of-band byte is sent: servers
   * that do not read the control connection during a transfer see the data connection close.
   */
  abort(): Promise<string> {
    const transfer = this.transfer;
    if (transfer === undefined) return this.queue.run(() => this.abortNow());
    transfer.aborted = true;
    return isRunning(transfer) ? this.abortRunning(transfer) : this.abortNow(transfer);
  }

  // --- Transfers ----------------------------------------------------------------------------

  /**
   * Starts a transfer: opens the data connection, sends `cmd` (after REST `rest`), and returns the
   * connection and the size the server announced (or null). Read or write it, then call
   * `voidResp()` for the final reply; other calls wait until then.
   */
  async ntransferCmd(cmd: string, rest?: number | string): Promise<[ByteStream, number | null]> {
    restOption(rest);
    checkSendable(this.encoding, [cmd]);
    const release = await this.queue.hold();
    try {
      const [conn, size, id] = await this.openTransfer(cmd, rest);
      this.transfer = { id, conn, aborted: false, release };
      return [conn, size];
    } catch (error) {
      release();
      throw error;
    }
  }

  /** As `ntransferCmd`, returning only the connection. */
  async transferCmd(cmd: string, rest?: number | string): Promise<ByteStream> {
    return (await this.ntransferCmd(cmd, rest))[0];
  }

  /** Retrieves in binary mode (TYPE I), handing each block to `callback`. Returns the final reply. */
  retrBinary(cmd: string, callback: (block: Uint8Array) => unknown, options: RetrBinaryOptions = {}): Promise<string> {
    const { blocksize = 0, rest, zeroCopy = false } = options;
    const check = () => {
      integerOption("blocksize", blocksize, 0, 0, MAX_BLOCKSIZE);
      restOption(rest);
      functionOption("callback", callback);
      booleanOption("zeroCopy", zeroCopy, false);
    };
    return this.checked([cmd], [], () => this.queue.run(async () => {
      await this.setTypeNow("I");
      return this.runTransfer(cmd, rest, "download", { ownChunks: !zeroCopy }, async (conn, announced) => {
        const deliver = (block: Uint8Array) => this.queue.nested(() => callback(block));
        // Blocks handed out stay what they were (ftplib code keeps them: `received.append(block)`):
        // the transport's own chunks when it can hand them over, copies otherwise.
        const copy = !zeroCopy && !conn.ownsChunks;
        let received = 0;
        for (let read = await conn.read(); read !== null; read = await conn.read()) {
          const chunk = copy ? Buffer.from(read) : read;
          received += chunk.length;
          if (blocksize > 0 && chunk.length > blocksize) {
            for (let at = 0; at < chunk.length; at += blocksize) await deliver(chunk.subarray(at, at + blocksize));
          } else {
            await deliver(chunk);
          }
        }
        // A size announced for a whole file that did not all arrive: never report it complete.
        if (rest === undefined && announced !== null && received < announced) {
          throw new ErrorProto(`data connection closed after ${received} of ${announced} bytes`, {
            code: "ERR_FTP_SHORT_TRANSFER",
          });
        }
      });
    }), check);
  }

  /**
   * Retrieves in text mode (TYPE A), handing each line to `callback` without its line ending
   * (default: print it). Returns the final reply.
   */
  retrLines(cmd: string, callback: (line: string) => unknown = (line) => console.log(line)): Promise<string> {
    return this.checked([cmd], [], () => this.readLines(cmd, Infinity, callback, { usersCallback: true }));
  }

  /**
   * Runs a text transfer (TYPE A): each line, without its line ending, to `onLine`, and after
   * each received chunk's lines `afterChunk`. More than `maxBytes` of text fails with
   * `ERR_FTP_LISTING_TOO_LARGE`: a server that lists without end would fill the memory.
   */
  private readLines(cmd: string, maxBytes: number, onLine: (line: string) => unknown, options: ReadLinesOptions = {}): Promise<string> {
    return this.queue.run(() => this.readLinesNow(cmd, maxBytes, onLine, options));
  }

  private async readLinesNow(cmd: string, maxBytes: number, onLine: (line: string) => unknown, options: ReadLinesOptions = {}): Promise<string> {
    const { afterChunk, usersCallback = false } = options;
    await this.setTypeNow("A");
    return this.runTransfer(cmd, undefined, "download", {}, async (conn) => {
      const reader = new LineReader(this.maxline);
      let size = 0;
      const lines = async () => {
        for (let line = reader.nextLineText(this.encoding); line !== null; line = reader.nextLineText(this.encoding)) {
          if (this.debugging > 2) this.debug(`*retr* ${JSON.stringify(line)}`);
          // Awaited only when it returns a promise: no turn of the event loop per line otherwise.
          const done = onLine(line);
          if (done instanceof Promise) await done;
        }
      };
      const drain = async () => {
        await (usersCallback ? this.queue.nested(lines) : lines());
        await afterChunk?.();
      };
      for (let chunk = await conn.read(); chunk !== null; chunk = await conn.read()) {
        size += chunk.length;
        if (size > maxBytes) throw new ErrorProto(`listing larger than ${maxBytes} bytes`, { code: "ERR_FTP_LISTING_TOO_LARGE" });
        reader.push(chunk);
        // Drained before the next read: the transport may reuse the chunk's buffer then.
        await drain();
      }
      reader.end();
      await drain();
    });
  }

  /** Stores in binary mode (TYPE I) from bytes, text, a stream or any (async) iterable of chunks. */
  storBinary(cmd: string, source: UploadSource, options: StorBinaryOptions = {}): Promise<string> {
    const { blocksize = DEFAULT_BLOCKSIZE, callback, rest } = options;
    const check = () => {
      integerOption("blocksize", blocksize, DEFAULT_BLOCKSIZE, 1, MAX_BLOCKSIZE);
      restOption(rest);
      functionOption("callback", callback);
    };
    return this.checked([cmd], [], () => this.queue.run(async () => {
      await this.setTypeNow("I");
      return this.runTransfer(cmd, rest, "upload", {}, async (conn) => {
        // One block is written while the next is read from the source (see UploadSource).
        let sent: Promise<unknown> = Promise.resolve();
        try {
          for await (const block of chunksOf(source, blocksize, (text) => this.encoding.encode(text), (step) => this.queue.nested(step))) {
            await sent;
            sent = conn.write(block).then(() => callback && this.queue.nested(() => callback(block)));
            sent.catch(() => undefined); // observed at the next turn; never an unhandled rejection meanwhile
          }
        } finally {
          // Never leave a write unobserved, whatever stopped the loop.
          await sent.catch(() => undefined);
        }
        await sent;
        await conn.end();
      });
    }), check);
  }

  /**
   * Stores in text mode (TYPE A): each line of `source` is sent with CRLF, whatever its ending.
   * A line longer than `maxline` raises an FtpError, as ftplib.
   */
  storLines(cmd: string, source: UploadSource, callback?: (line: Uint8Array) => unknown): Promise<string> {
    return this.checked([cmd], [], () => this.queue.run(async () => {
      await this.setTypeNow("A");
      return this.runTransfer(cmd, undefined, "upload", {}, async (conn) => {
        const reader = new LineReader(this.maxline);
        let batch = new Uint8Array(DEFAULT_BLOCKSIZE);
        let used = 0;
        const flush = async () => {
          if (used === 0) return;
          await conn.write(batch.subarray(0, used));
          // The transport was done with the batch when write() resolved: refill it.
          used = 0;
        };
        const sendLines = async () => {
          for (;;) {
            let line: Uint8Array | null;
            try {
              line = reader.nextLine();
            } catch {
              throw new ErrorProto(`got more than ${this.maxline} bytes`, { code: "ERR_FTP_LINE_TOO_LONG" });
            }
            if (line === null) return;
            if (used + line.length + 2 > batch.length) await flush();
            if (line.length + 2 > batch.length) batch = new Uint8Array(line.length + 2);
            batch.set(line, used);
            batch.set(CRLF, used + line.length);
            used += line.length + 2;
            if (callback !== undefined) await this.queue.nested(() => callback(line));
          }
        };
        for await (const chunk of chunksOf(source, DEFAULT_BLOCKSIZE, (text) => this.encoding.encode(text), (step) => this.queue.nested(step))) {
          reader.push(chunk);
          await sendLines();
        }
        reader.end();
        await sendLines();
        await flush();
        await conn.end();
      });
    }), () => functionOption("callback", callback));
  }

  // --- Listings and files ---------------------------------------------------------------------

  /**
   * Lists a directory with MLSD (RFC 3659): `[name, facts]` pairs, fact names lower-cased. With
   * `facts`, asks for those first (OPTS MLST). The listing is read whole before the first entry is
   * given, so other calls may be made while iterating.
   */
  async *mlsd(path = "", facts: readonly string[] = []): AsyncGenerator<MlsxEntry> {
    checkSendable(this.encoding, facts.length > 0 ? [`OPTS MLST ${facts.join(";")};`] : [], [path]);
    if (facts.length > 0) await this.sendCmd(`OPTS MLST ${facts.join(";")};`);
    const lines: string[] = [];
    await this.readLines(path === "" ? "MLSD" : `MLSD ${path}`, MAX_LISTING_BYTES, (line) => void lines.push(line));
    for (const line of lines) yield parseMlsxEntry(line);
  }

  /** Names in a directory (NLST). */
  async nlst(...args: string[]): Promise<string[]> {
    checkSendable(this.encoding, [], args);
    const files: string[] = [];
    await this.readLines(["NLST", ...args].join(" "), MAX_LISTING_BYTES, (line) => void files.push(line));
    return files;
  }

  /** A LIST listing, each line to the callback given last (default: print it). */
  async dir(...args: (string | ((line: string) => unknown))[]): Promise<void> {
    const last = args[args.length - 1];
    const callback = typeof last === "function" ? last : undefined;
    const words = (callback === undefined ? args : args.slice(0, -1)).filter((a): a is string => typeof a === "string" && a !== "");
    checkSendable(this.encoding, [], words);
    await this.retrLines(["LIST", ...words].join(" "), callback);
  }

  /** Renames (RNFR, then RNTO). */
  rename(fromname: string, toname: string): Promise<string> {
    return this.checked([], [fromname, toname], () => this.queue.run(async () => {
      const resp = await this.sendCmdNow(`RNFR ${fromname}`);
      if (resp[0] !== "3") throw new ErrorReply(resp);
      return this.voidCmdNow(`RNTO ${toname}`);
    }));
  }

  /** Deletes a file; the reply must be 250 or 200. */
  delete(filename: string): Promise<string> {
    return this.queue.run(async () => {
      const resp = await this.sendCmdNow(`DELE ${filename}`);
      if (resp.startsWith("250") || resp.startsWith("200")) return resp;
      throw new ErrorReply(resp);
    });
  }

  /** Changes directory; `..` is sent as CDUP (falling back to CWD .. if CDUP is unknown). */
  cwd(dirname: string): Promise<string> {
    return this.queue.run(async () => {
      if (dirname === "..") {
        try {
          return await this.voidCmdNow("CDUP");
        } catch (error) {
          if (!(ErrorPerm.isInstance(error) && error.replyCode === 500)) throw error;
        }
      } else if (dirname === "") {
        dirname = ".";
      }
      return this.voidCmdNow(`CWD ${dirname}`);
    });
  }

  /** The size of a file (SIZE), or null when the reply is not 213. */
  size(filename: string): Promise<number | null> {
    return this.checked([], [filename], () => this.queue.run(async () => {
      // In TYPE A some servers refuse SIZE (proftpd, pyftpdlib) and others count the line endings
      // they would add (inetutils, netkit): sizes are asked for in TYPE I, as lftp and curl do.
      await this.setTypeNow("I");
      const resp = await this.sendCmdNow(`SIZE ${filename}`);
      if (!resp.startsWith("213")) return null;
      const value = resp.slice(3).trim();
      if (!/^\d+$/.test(value)) throw new ErrorProto(resp, { code: "ERR_FTP_BAD_SIZE" });
      return Number(value);
    }));
  }

  /** Makes a directory and returns its name as the server gives it ("" if it gives none). */
  mkd(dirname: string): Promise<string> {
    return this.queue.run(async () => {
      const resp = await this.voidCmdNow(`MKD ${dirname}`);
      return resp.startsWith("257") ? parse257(resp) : "";
    });
  }

  /** Removes a directory. */
  rmd(dirname: string): Promise<string> {
    return this.voidCmd(`RMD ${dirname}`);
  }

  /** The current directory ("" if the server gives none). */
  pwd(): Promise<string> {
    return this.queue.run(async () => {
      const resp = await this.voidCmdNow("PWD");
      return resp.startsWith("257") ? parse257(resp) : "";
    });
  }

  // --- Beyond ftplib: features, times, parsed listings ---------------------------------------

  /** The server's features (FEAT, RFC 2389), by upper-cased name; empty when FEAT is refused. Cached per connection. */
  features(): Promise<Map<string, string>> {
    return this.queue.run(() => this.featuresNow());
  }

  private async featuresNow(): Promise<Map<string, string>> {
    if (this.featureCache !== undefined) return this.featureCache;
    let features = new Map<string, string>();
    try {
      features = parseFeat(await this.sendCmdNow("FEAT"));
    } catch (error) {
      if (!ErrorPerm.isInstance(error) && !ErrorReply.isInstance(error)) throw error;
    }
    this.featureCache = features;
    return features;
  }

  /** The modification time of a file (MDTM, RFC 3659), in UTC. */
  lastMod(path: string): Promise<Date> {
    return this.queue.run(async () => parseMdtm(await this.sendCmdNow(`MDTM ${path}`)));
  }

  /** Sets the modification time of a file (MFMT), to the second. */
  setLastMod(path: string, date: Date): Promise<string> {
    if (!(date instanceof Date) || Number.isNaN(date.getTime())) return Promise.reject(new RangeError(`setLastMod needs a valid Date, not ${String(date)}`));
    const stamp = date.toISOString().replace(/[-:T]/g, "").slice(0, 14);
    return this.voidCmd(`MFMT ${stamp} ${path}`);
  }

  /** Facts about one file or directory (MLST, RFC 3659). */
  mlst(path = ""): Promise<FileEntry> {
    return this.queue.run(async () => {
      const resp = await this.voidCmdNow(path === "" ? "MLST" : `MLST ${path}`);
      const [name, facts] = parseMlstReply(resp);
      return factsEntry(name, facts, resp);
    });
  }

  /**
   * A directory's entries, parsed: MLSD when the server lists MLST among its features, LIST
   * otherwise (Unix, DOS/IIS and EPLF formats detected; custom parsers first when given), or the
   * `command` asked for. The listing itself and its parent are left out.
   */
  list(path = "", options: ListingOptions & { maxBytes?: number } = {}): Promise<FileEntry[]> {
    let maxBytes = MAX_LISTING_BYTES;
    const check = () => void (maxBytes = maxListingBytes(options));
    return this.checked([], [path], () => this.queue.run(async () => {
      const verb = await this.listingCommandNow(options);
      const parse = this.listingParser(verb, options);
      const entries: FileEntry[] = [];
      await this.readLinesNow(path === "" ? verb : `${verb} ${path}`, maxBytes, (line) => {
        const entry = parse(line);
        if (entry !== null) entries.push(entry);
      });
      return entries;
    }), check);
  }

  /**
   * A directory's entries as they arrive (MLSD or LIST, as `list`), for listings too large to
   * hold: memory holds one received chunk of the listing, however long it is. The listing text
   * may not exceed `maxBytes` (default 64 MiB). While the loop runs the connection is busy:
   * another call on it fails with `ERR_FTP_BUSY` rather than waiting for a loop that waits for
   * it (use `list()`, or a second connection). Leaving the loop early stops the transfer (ABOR)
   * and leaves the connection usable.
   */
  listStream(path = "", options: ListingOptions & { maxBytes?: number } = {}): AsyncGenerator<FileEntry, void, undefined> {
    let parse: (line: string) => FileEntry | null = () => null;
    // Nothing is checked or sent before the first entry is asked for, as with a generator.
    const batches = async function* (this: FTP): AsyncGenerator<readonly string[], void, undefined> {
      const maxBytes = maxListingBytes(options);
      checkSendable(this.encoding, [], [path]);
      const verb = await this.queue.run(() => this.listingCommandNow(options));
      parse = this.listingParser(verb, options);
      yield* this.lineBatches(path === "" ? verb : `${verb} ${path}`, maxBytes);
    };
    return new EntryIterator(batches.call(this), (line) => parse(line));
  }

  /**
   * Entries of listing lines. MLSD marks the listing and its parent by type (cdir, pdir); LIST
   * only by name, `.` and `..`. (A file that MLSD calls `..` is kept, for the caller to refuse.)
   */
  private listingParser(verb: "MLSD" | "LIST", options: ListingOptions): (line: string) => FileEntry | null {
    if (verb === "MLSD") return mlsxFileEntry;
    const parser = new ListParserStream(options);
    return (line) => {
      const entry = parser.parse(line);
      return entry === null || entry.name === "." || entry.name === ".." ? null : entry;
    };
  }

  private async listingCommandNow(options: ListingOptions): Promise<"MLSD" | "LIST"> {
    if (options.command === "MLSD" || options.command === "LIST") return options.command;
    if (options.command !== undefined) throw invalidOption(TypeError, "command", '"MLSD" or "LIST"', options.command);
    return (await this.featuresNow()).has("MLST") ? "MLSD" : "LIST";
  }

  /**
   * The lines of a text transfer, one received chunk's worth at a time, to a loop that runs
   * while the transfer waits for it: neither runs ahead of the other, so memory holds one chunk.
   * The connection is busy meanwhile (see `listStream`).
   */
  private async *lineBatches(cmd: string, maxBytes: number): AsyncGenerator<readonly string[]> {
    let handoff: ((lines: string[] | null) => void) | undefined;
    let taken: (() => void) | undefined;
    let stopped = false;
    const stop = new Error("listing loop left");
    const next = () => new Promise<string[] | null>((resolve) => (handoff = resolve));
    let pending = next();
    let lines: string[] = [];
    const handOver = async () => {
      if (stopped) throw stop;
      if (lines.length === 0) return;
      const wait = new Promise<void>((resolve) => (taken = resolve));
      handoff!(lines);
      lines = [];
      await wait;
      if (stopped) throw stop;
    };
    const transfer = this.readLines(cmd, maxBytes, (line) => void lines.push(line), { afterChunk: handOver });
    const finished = transfer.then(
      () => handoff?.(null),
      () => handoff?.(null),
    );
    this.queue.busy = new LocalProtocolError("a listing is being iterated on this connection", "ERR_FTP_BUSY");
    try {
      for (;;) {
        const batch = await pending;
        if (batch === null) break;
        pending = next();
        const resume = taken;
        yield batch;
        resume?.();
      }
    } finally {
      stopped = true;
      taken?.();
      this.queue.busy = undefined;
      await finished;
    }
    await transfer.catch((error: unknown) => {
      if (error !== stop) throw error;
    });
  }

  /**
   * Downloads `remote` to a local path (atomic by default: a temporary name, renamed when complete
   * and the size matches) or to a Writable, with progress, resume and cancellation.
   */
  download(remote: string, destination: string | Buffer | Writable, options?: DownloadOptions): Promise<number> {
    return downloadFile(this, remote, destination, options);
  }

  /** Uploads a local path or a Readable to `remote`, with progress, resume (APPE) and cancellation. */
  upload(source: string | Readable, remote: string, options?: TransferOptions): Promise<number> {
    return uploadFile(this, source, remote, options);
  }

  /** Appends a local path or a Readable to `remote` (APPE). */
  append(source: string | Readable, remote: string, options?: TransferOptions): Promise<number> {
    return uploadFile(this, source, remote, { ...options, append: true });
  }

  /** Makes `path` and its missing parents; an existing directory is fine. */
  ensureDir(path: string): Promise<void> {
    return this.checked([], [path], () => this.queue.run(() => ensureDir(this.unqueued, path)));
  }

  /** Removes `path` and everything in it (links removed, not followed). */
  removeDir(path: string): Promise<void> {
    return this.checked([], [path], () => this.queue.run(() => removeDir(this.unqueued, path)));
  }

  /**
   * Lists the tree under `path`, parents before children, each entry with its remote path and its
   * path below `path` (names that are not one path segment refused). Links are not followed.
   */
  walk(path: string, options?: TreeOptions): Promise<TreeEntry[]> {
    return this.checked([], [path], () => this.queue.run(() => walk(this.unqueued, path, options)));
  }

  /** Copies a remote directory tree to a local directory; a server name that would leave it is refused. */
  downloadDir(remote: string, local: string, options?: TreeOptions): Promise<number> {
    return this.checked([], [remote], () => this.queue.run(() => downloadDir(this.unqueued, remote, local, options)));
  }

  /**
   * Copies a local directory tree to a remote directory. The local tree is read first: a local
   * name that cannot be sent (CR, LF or NUL in it) fails the call before anything is uploaded.
   */
  uploadDir(local: string, remote: string, options?: TreeOptions): Promise<number> {
    return this.checked([], [remote], () => this.queue.run(() => uploadDir(this.unqueued, local, remote, options)));
  }

  // --- Settings ------------------------------------------------------------------------------

  /** Passive mode on (true, the default) or off (active mode: PORT or EPRT). */
  setPasv(val: boolean): void {
    this.passiveServer = val;
  }

  /** 0: quiet; 1: commands and replies; 2: raw lines too. Passwords are always masked. */
  setDebugLevel(level: number): void {
    this.debugging = integerOption("level", level, 0, 0, 3);
  }

  /** Alias of `setDebugLevel`, as ftplib's `debug`. */
  debugLevel(level: number): void {
    this.setDebugLevel(level);
  }

  /** A line fit for debug output: PASS and ACCT arguments masked, quoted. */
  sanitize(line: string): string {
    return JSON.stringify(maskCommand(line.replace(/[\r\n]+$/, "")) + (line.match(/[\r\n]+$/)?.[0] ?? ""));
  }

  // --- Internals ------------------------------------------------------------------------------

  /**
   * This client with its calls unqueued, for an operation that holds the turn and makes several
   * calls (`walk`, `ensureDir` and the like): made through it, they run at once, as its parts.
   */
  protected get unqueued(): this {
    this.unqueuedView ??= new Proxy(this, {
      get: (target, key, receiver) => (key === "queue" ? UNQUEUED : Reflect.get(target, key, receiver)),
    });
    return this.unqueuedView;
  }

  /**
   * Runs `run` once the commands and names it will send are known to be sendable, and `check`
   * (option checks) passed; otherwise rejects before anything is queued or sent.
   */
  protected checked<T>(commands: readonly string[], names: readonly string[], run: () => Promise<T>, check?: () => void): Promise<T> {
    try {
      check?.();
      checkSendable(this.encoding, commands, names);
    } catch (error) {
      return Promise.reject(error);
    }
    return run();
  }

  protected get channel(): ControlChannel {
    if (this.control === undefined) throw new FtpConnectionError("not connected", { code: "ERR_FTP_NOT_CONNECTED" });
    // The server ended the session (a 421, a hang-up): its reason, for every call after.
    const failure = this.control.failure;
    if (failure !== undefined) {
      if (FtpConnectionError.isInstance(failure) || ErrorTemp.isInstance(failure)) throw failure;
      throw new FtpConnectionError(`connection closed after an error: ${failure.message}`, { code: "ERR_FTP_CLOSED", cause: failure });
    }
    return this.control;
  }

  /** Sends a command; returns its id, by which its replies are read. */
  protected putCmd(line: string, options?: SendOptions): Promise<number> {
    return this.channel.send(line, options);
  }

  /** The next reply to command `id` (a 1xx or its final one); 4xx and 5xx raise. */
  private async replyTo(id: number): Promise<string> {
    const event = await this.channel.nextEvent(id);
    if (event === undefined) throw new ErrorProto("no reply is owed to this command", { code: "ERR_FTP_NO_REPLY" });
    const error = replyError(event.reply);
    if (error !== undefined) throw error;
    return event.reply.text;
  }

  /** ftplib's getresp: the next reply to the oldest command that is owed one. */
  protected getRespNow(): Promise<string> {
    const id = this.channel.oldestPending;
    if (id === undefined) return Promise.reject(new LocalProtocolError("no command is waiting for a reply", "ERR_FTP_STATE"));
    return this.replyTo(id);
  }

  protected async voidRespNow(): Promise<string> {
    return expect2xx(await this.getRespNow());
  }

  protected async sendCmdNow(cmd: string): Promise<string> {
    return this.replyTo(await this.putCmd(cmd));
  }

  protected async voidCmdNow(cmd: string): Promise<string> {
    return expect2xx(await this.sendCmdNow(cmd));
  }

  /** Sets the representation type (TYPE), unless the server has it already: one round trip less per transfer. */
  setType(type: "I" | "A"): Promise<void> {
    return this.queue.run(() => this.setTypeNow(type));
  }

  private async setTypeNow(type: "I" | "A"): Promise<void> {
    if (this.currentType === type) return;
    await this.voidCmdNow(`TYPE ${type}`);
    this.currentType = type;
  }

  /**
   * ftplib's abort: ABOR, then its reply, which must be 426, 225 or 226. With a transfer opened by
   * `ntransferCmd`, the data connection is closed and the transfer's final reply is kept for
   * `voidResp()`.
   */
  private async abortNow(transfer?: Transfer): Promise<string> {
    const abortId = await this.putCmd("ABOR");
    this.channel.setTimeout(this.timeout);
    transfer?.conn.destroy();
    const replies = this.abortReplies(transfer, abortId);
    if (transfer !== undefined) transfer.afterAbort = replies;
    return this.checkAbortReply(await replies);
  }

  /** Aborts a transfer the client runs: stops it, and returns the reply to ABOR. */
  private async abortRunning(transfer: RunningTransfer): Promise<string> {
    await this.stopTransfer(transfer);
    const final = await transfer.final;
    return this.checkAbortReply({ transfer: final, ...(await transfer.afterAbort) });
  }

  /**
   * The reply abort() returns: ABOR's, which must be 426, 225 or 226 (ErrorProto otherwise), as
   * ftplib checks it. A server that answered the transfer and ABOR with one reply gave the
   * transfer's; so does a server that does not know ABOR (500 to 504), where closing the data
   * connection stopped the transfer.
   */
  private checkAbortReply({ transfer, abort }: AbortReplies): string {
    const unknown = abort !== undefined && abort.code >= 500 && abort.code <= 504 && transfer !== undefined;
    const reply = unknown ? transfer : (abort ?? transfer);
    if (reply === undefined || ![426, 225, 226].includes(reply.code)) {
      throw new ErrorProto(reply ?? "no reply to ABOR", { code: "ERR_FTP_ABORT" });
    }
    return reply.text;
  }

  /**
   * The replies after ABOR, to the transfer (when one is open) and to ABOR itself. The channel
   * matches each reply to its command, so their order does not matter (nodeftpd answers ABOR
   * with 502 and sends the transfer's 226 after it). When one of the two is answered and the
   * other does not follow within MARKER_DELAY, a NOOP goes out as a marker: a server may answer
   * both with one reply (proftpd, for STOR), and the marker's reply, whatever its code (aioftp
   * answers NOOP with 502), says the server has answered all before it. A server that does not
   * know ABOR (500 to 504) still ends the transfer, whose data connection is closed: no marker.
   */
  private async abortReplies(open: Transfer | undefined, abortId: number): Promise<AbortReplies> {
    const channel = this.channel;
    if (open === undefined) return { abort: await channel.finalReply(abortId) };
    const transferId = open.id;
    let abortReply: Reply | undefined;
    // A transfer the client runs is read already: one reader per command.
    const transfer = open.finalReply ?? channel.finalReply(transferId);
    const abort = channel.finalReply(abortId).then((reply) => (abortReply = reply));
    transfer.catch(() => undefined);
    abort.catch(() => undefined);
    await Promise.race([transfer, abort]);
    // The other reply mostly follows at once (aioftp sends 426 and 226 one after the other).
    await settlesWithin(Promise.all([transfer, abort]), MARKER_DELAY);
    const abortUnknown = abortReply !== undefined && abortReply.code >= 500 && abortReply.code <= 504;
    const waiting = channel.isOutstanding(transferId) || channel.isOutstanding(abortId);
    if (waiting && !abortUnknown) await channel.finalReply(await this.putCmd("NOOP"));
    return { transfer: await transfer, abort: await abort };
  }

  /**
   * Stops a running transfer on both sides. A download gets ABOR first, so that the server stops
   * sending, then its data is drained; an upload is ended cleanly first (over TLS a dropped data
   * connection makes proftpd end the session), then ABOR. A NOOP after ABOR marks the end of the
   * replies: servers answer a transfer and its ABOR with two replies or with one.
   */
  private async stopTransfer(transfer: RunningTransfer): Promise<void> {
    if (transfer.stopped) return;
    transfer.stopped = true;
    const direction = transfer.direction;
    if (direction === "upload") await this.closeData(transfer.conn, direction);
    const abortId = await this.putCmd("ABOR");
    // Replies are due now, within the usual timeout.
    this.channel.setTimeout(this.timeout);
    transfer.afterAbort = this.abortReplies(transfer, abortId);
    transfer.afterAbort.catch(() => undefined);
    if (direction === "download") await this.closeData(transfer.conn, direction);
  }

  /**
   * Reads the final reply of a transfer opened by `ntransferCmd` (after `abort()`, the one kept
   * then), then ends the caller's turn.
   */
  private async endTransfer(expectSuccess: boolean): Promise<string> {
    const transfer = this.transfer!;
    try {
      let text: string;
      if (transfer.afterAbort !== undefined) {
        const { transfer: final, abort } = await transfer.afterAbort;
        const reply = (final ?? abort)!;
        const error = replyError(reply);
        if (error !== undefined) throw error;
        text = reply.text;
      } else {
        text = await this.replyTo(transfer.id);
      }
      return expectSuccess ? expect2xx(text) : text;
    } finally {
      this.transfer = undefined;
      transfer.release?.();
    }
  }

  /** Opens the data connection and sends the transfer command (ftplib's `ntransfercmd`). */
  protected async openTransfer(cmd: string, rest: number | string | undefined, ownChunks = false): Promise<[ByteStream, number | null, number]> {
    if (this.passiveServer) {
      const [host, port] = await this.makePasv();
      // Bound to the source address's port when one is given, as ftplib does.
      const localPort = sourceAddressOf(this.sourceAddress)?.port || undefined;
      const request = { host, port, secure: this.secureData, timeout: this.timeout, localPort, ownChunks };
      const conn = await this.channel.transportStream.connectData(request);
      try {
        return [conn, ...(await this.sendTransferCommand(cmd, rest))];
      } catch (error) {
        conn.destroy();
        throw error;
      }
    }
    const listener = await this.makePort();
    try {
      const [size, id] = await this.sendTransferCommand(cmd, rest);
      return [await listener.accept(), size, id];
    } catch (error) {
      // A server may connect before its reply (pyftpdlib does on PORT): a refused command leaves
      // that connection unused, and it must not stay open.
      listener.accept().then(
        (conn) => conn.destroy(),
        () => undefined,
      );
      throw error;
    } finally {
      listener.close();
    }
  }

  /** Sends the transfer command; returns the size its 150 reply announced (or null), and its id. */
  private async sendTransferCommand(cmd: string, rest: number | string | undefined): Promise<[number | null, number]> {
    if (rest !== undefined) await this.sendCmdNow(`REST ${rest}`);
    const id = await this.putCmd(cmd, { transfer: true });
    let resp = await this.replyTo(id);
    // Some servers send a 2xx before the 1xx of LIST or STOR: skip it, as ftplib does (the codec
    // keeps the transfer waiting for its 1xx).
    if (resp[0] === "2") resp = await this.replyTo(id);
    if (resp[0] !== "1") throw new ErrorReply(resp);
    return [resp.startsWith("150") ? parse150(resp) : null, id];
  }

  /** Asks for a passive address: EPSV (on IPv4 too), PASV when the server refuses EPSV. */
  protected async makePasv(): Promise<[string, number]> {
    const peer = this.channel.remoteHost;
    const ipv4 = isIPv4(peer);
    if (!ipv4 || (this.epsv && !this.epsvRefused)) {
      try {
        const [host, port] = parse229(await this.sendCmdNow("EPSV"), peer);
        return [host, port];
      } catch (error) {
        if (ipv4 && FtpTimeoutError.isInstance(error)) {
          throw new FtpTimeoutError(`${error.message}: no reply to EPSV (new FTP({ epsv: false }) uses PASV)`, {
            code: error.code,
            cause: error,
          });
        }
        if (!(ipv4 && ErrorPerm.isInstance(error))) throw error;
        this.epsvRefused = true;
      }
    }
    const [untrustedHost, port] = parse227(await this.sendCmdNow("PASV"));
    // The host in a 227 reply is ignored unless trusted (CVE-2021-4189): it could point anywhere.
    return [this.trustServerPasvIpv4Address ? untrustedHost : peer, port];
  }

  /** Listens for an active data connection and announces it (PORT on IPv4, EPRT on IPv6). */
  protected async makePort(): Promise<DataListener> {
    const listener = await this.channel.transportStream.listenData({ secure: this.secureData, timeout: this.timeout });
    try {
      const { host, port } = listener.address;
      if (isIPv4(host)) await this.voidCmdNow(`PORT ${buildPortArgument(host, port)}`);
      else await this.voidCmdNow(`EPRT ${buildEprtArgument(host, port)}`);
      return listener;
    } catch (error) {
      listener.close();
      throw error;
    }
  }

  /**
   * Runs a transfer: opens it, runs `body` on the data connection while watching the control
   * connection for the final reply, and resolves only when both are done. A final 4xx or 5xx
   * reply ends the data connection and rejects; so does a body that fails, after stopping the
   * server's side with ABOR. After `abort()` the final reply is returned whatever it is, as ftplib
   * does.
   */
  private async runTransfer(
    cmd: string,
    rest: number | string | undefined,
    direction: "download" | "upload",
    data: { ownChunks?: boolean },
    body: (conn: ByteStream, announced: number | null) => Promise<void>,
  ): Promise<string> {
    const [opened, announced, id] = await this.openTransfer(cmd, rest, data.ownChunks);
    const conn = new GuardedStream(opened);
    const control = this.channel;
    // While data flows, the final reply may take as long as the transfer: the data connection has
    // its own timeout. The control timeout applies again once the data is done.
    control.setTimeout(0);
    // No reply of its own when the server answered the transfer and its ABOR with one.
    const finalReply = control.finalReply(id);
    const final = finalReply.then(async (reply) => reply ?? (await transfer.afterAbort)?.abort ?? noFinalReply());
    const transfer: RunningTransfer = { id, conn, direction, final, finalReply, aborted: false };
    this.transfer = transfer;
    let finalArrived = false;
    let finalError: Error | undefined;
    final.then(
      (reply) => {
        finalArrived = true;
        const error = completionError(reply);
        if (error !== undefined && !transfer.aborted) conn.destroy(error);
      },
      (error: Error) => {
        finalArrived = true;
        finalError = error;
        conn.destroy(error);
      },
    );
    let bodyError: unknown;
    try {
      await body(conn, announced);
    } catch (error) {
      bodyError = error;
      // The failure is this side's. An upload just ends (the server keeps what it got, and the
      // error says it is not all). A download that the server finishes within a moment just
      // ends too; one that goes on is stopped on the server's side with ABOR.
      const running = () => direction === "download" && !transfer.aborted && !finalArrived;
      if (running() && !(await this.drainedSoon(conn)) && running()) {
        await this.stopTransfer(transfer).catch(() => undefined);
      } else if (FtpTimeoutError.isInstance(bodyError)) {
        // A data connection that stalled will not end kindly either: no wait for it.
        conn.destroy();
      } else {
        await this.closeData(conn, direction);
      }
    } finally {
      control.setTimeout(this.timeout);
    }
    let reply: Reply;
    try {
      reply = await final;
      await transfer.afterAbort;
    } catch (error) {
      // A data connection whose certificate was refused explains the timeouts that follow it.
      throw FtpTlsError.isInstance(bodyError) ? bodyError : error;
    } finally {
      this.transfer = undefined;
    }
    if (FtpTlsError.isInstance(bodyError)) throw bodyError;
    if (finalError !== undefined) throw finalError;
    // The caller's own failure (a callback or a source that threw) comes first; then the server's.
    if (bodyError !== undefined && !FtpError.isInstance(bodyError)) throw bodyError;
    // After abort() the data connection was cut on purpose: the final reply is the result.
    if (transfer.aborted) return reply.text;
    const replyFailure = transfer.stopped ? undefined : completionError(reply);
    if (replyFailure !== undefined) throw replyFailure;
    if (bodyError !== undefined) throw bodyError;
    conn.destroy();
    return reply.text;
  }

  /** Reads and drops what is left of a download for a moment: true if the server ended it. */
  private async drainedSoon(conn: GuardedStream): Promise<boolean> {
    const drained = conn.drain().then(
      () => true,
      () => false,
    );
    return (await settlesWithin(drained, DRAIN_MOMENT)) && drained;
  }

  /**
   * Ends the data connection of a transfer stopped early, kindly: a download is drained until
   * the server closes it, an upload is ended (with close_notify over TLS). After a short wait the
   * connection is dropped anyway. (vsftpd and pure-ftpd end the whole session when a TLS data
   * connection just drops.)
   */
  private async closeData(conn: GuardedStream, direction: "download" | "upload"): Promise<void> {
    const settle = direction === "download" ? conn.drain() : conn.end();
    await settlesWithin(settle, Math.min(this.timeout || DATA_CLOSE_PATIENCE, DATA_CLOSE_PATIENCE));
    conn.destroy();
  }

  /** Re-arms the keep-alive: a NOOP when the session has been idle for `keepAlive` ms. */
  private armKeepAlive(): void {
    if (this.keepAlive <= 0) return;
    if (this.keepAliveTimer !== undefined) {
      this.keepAliveTimer.refresh();
      return;
    }
    this.keepAliveTimer = setTimeout(() => {
      this.keepAliveTimer = undefined;
      if (this.control === undefined || this.control.closed) return;
      // Queued like any call: it waits for a call in progress, and re-arms the timer when sent.
      this.voidCmd("NOOP").catch(() => undefined);
    }, this.keepAlive);
    this.keepAliveTimer.unref();
  }

  private onSent(line: string): void {
    this.armKeepAlive();
    // A TYPE, REIN or USER sent by anyone makes the cached type unknown until setType confirms it.
    if (/^(TYPE|REIN|USER)\b/i.test(line)) this.currentType = undefined;
    if (sendcmdChannel.hasSubscribers) sendcmdChannel.publish({ ftp: this, command: maskCommand(line) });
    if (this.debugging > 1) this.debug(`*put* ${this.sanitize(`${line}\r\n`)}`);
    else if (this.debugging) this.debug(`*cmd* ${this.sanitize(line)}`);
  }

  private onUnsolicited(reply: Reply): void {
    if (this.debugging) this.debug(`*unsolicited* ${this.sanitize(reply.text)} (dropped: it answers no command sent)`);
  }

  private onReceived(reply: Reply): void {
    this.armKeepAlive();
    this.lastResp = String(reply.code);
    if (this.debugging > 1) for (const line of reply.lines) this.debug(`*get* ${this.sanitize(`${line}\r\n`)}`);
    if (this.debugging) this.debug(`*resp* ${this.sanitize(reply.text)}`);
  }

  private debug(line: string): void {
    this.debugOutput(line);
  }
}
