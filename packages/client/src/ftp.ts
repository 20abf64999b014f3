/**
 * The FTP class: every method of Python's ftplib.FTP, with its meaning, return values and errors,
 * in TypeScript's conventions (camelCase, Promises, milliseconds).
 *
 * A facade: each call takes its turn (call-queue.ts) and runs on the connection's Session
 * (session.ts); transfers run in the transfer engine (transfer.ts), text transfers and listings
 * in their own modules. A Session is made in `connect()` and dropped in `close()`.
 */
import {
  type ByteStream,
  ControlCodec,
  ErrorTemp,
  FtpConnectionError,
  type MlsxEntry,
  type Reply,
  type TextEncoding,
  type Transport,
  maskCommand,
  parseMlsxEntry,
  replyError,
  resolveEncoding,
} from "@ftplib/protocol";
import { nodeTransport } from "@ftplib/transport";
import { noGreeting } from "./errors.js";
import { CallQueue } from "./call-queue.js";
import { ControlChannel } from "./control-channel.js";
import { connectChannel, sendcmdChannel } from "./diagnostics.js";
import {
  type TreeClient,
  type TreeEntry,
  type TreeOptions,
  downloadDir,
  ensureDir,
  removeDir,
  uploadDir,
  walk,
} from "./directories.js";
import {
  type DownloadOptions,
  type FileClient,
  type TransferOptions,
  download as downloadFile,
  upload as uploadFile,
} from "./file-transfers.js";
import {
  type ConnectOptions,
  DEFAULT_TIMEOUT,
  FTP_PORT,
  type FTPOptions,
  type ListingOptions,
  MAX_LISTING_BYTES,
  type OpenOptions,
  type RetrBinaryOptions,
  type SourceAddress,
  type StorBinaryOptions,
  maxListingBytes,
  sourceAddressOf,
} from "./ftp-options.js";
import { type FileEntry } from "./listing/index.js";
import { EntryIterator } from "./listing/entry-iterator.js";
import { list, listingCommand, listingParser } from "./listings.js";
import {
  booleanOption,
  checkSendable,
  functionOption,
  hostOption,
  integerOption,
  invalidOption,
  millisecondsOption,
  portOption,
  restOption,
} from "./options.js";
import { Session } from "./session.js";
import { type RateLimiter, rateLimitOption } from "./rate-limit.js";
import type { HashAlgorithm } from "./checksums.js";
import { type RemoteHash, type RemoteHashOptions, algorithmOption, hashMethods, remoteHash } from "./remote-hash.js";
import type { UploadSource } from "./sources.js";
import { lineBatches, readLines, storLines } from "./text-transfers.js";
import {
  abort,
  checkRetrOptions,
  checkStorOptions,
  endTransfer,
  openCallerTransfer,
  retrBinary,
  storBinary,
} from "./transfer.js";
import type { Readable, Writable } from "node:stream";

/**
 * Python's `ftplib.FTP`, in TypeScript's conventions: every method of ftplib's (camelCase, Promises,
 * milliseconds), and the file API beyond it.
 *
 * @group Connecting
 */
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
  /** Transfer commands sent while the data connection connects (see `FTPOptions.pipelineTransfers`). */
  pipelineTransfers: boolean;
  trustServerPasvIpv4Address: boolean;
  /** The debug level: 0 quiet, 1 commands and replies, 2 raw lines too. */
  debugging: number;
  /** MODE Z (deflate) for downloads and listings where the server offers it, unless a call says otherwise. */
  modeZ: boolean;
  /** The cap on the bytes per second of file transfers (see `FTPOptions.rateLimit`), or none. */
  rateLimit: RateLimiter | undefined;

  protected readonly transport: Transport<unknown>;
  /** The connection, from `connect()` to `close()`. */
  protected session: Session | undefined;

  /**
   * True once this connection's server has announced a download's size when starting it (in its
   * 150 reply, as vsftpd and proftpd do): `download()` then sends no SIZE before a transfer.
   */
  get announcesSizes(): boolean {
    return this.session?.announcesSizes ?? false;
  }
  /** TLS options handed to the transport (FTP_TLS). */
  protected tlsOptions: unknown = undefined;
  /** Implicit TLS from the first byte (FTP_TLS). */
  protected implicitTls = false;
  /** Who may send a command now (call-queue.ts). */
  protected readonly queue = new CallQueue();
  private readonly debugOutput: (line: string) => void;
  private readonly keepAlive: number;

  /**
   * A client, not yet connected: every option is checked here, and a wrong one throws at once.
   *
   * @example
   * ```ts
   * import { FTP } from "@ftplib/client";
   *
   * const ftp = new FTP({ timeout: 10_000, passive: true }); // nothing sent yet
   * console.log(await ftp.connect("ftp.example.com", 21)); // 220 ...
   * await ftp.login("me", "secret");
   * await ftp.quit();
   * ```
   * @group Connecting
   */
  constructor(options: FTPOptions = {}) {
    // Every option is checked here, so that a mistake shows at once and names the option.
    this.timeout = millisecondsOption("timeout", options.timeout, DEFAULT_TIMEOUT);
    sourceAddressOf(options.sourceAddress);
    this.sourceAddress = options.sourceAddress;
    this.encoding = resolveEncoding(options.encoding);
    const transport: unknown = options.transport ?? nodeTransport;
    if (
      typeof transport !== "object" ||
      transport === null ||
      typeof (transport as Transport<unknown>).connect !== "function"
    ) {
      throw invalidOption(TypeError, "transport", "an object with a connect() method", transport);
    }
    this.transport = transport as Transport<unknown>;
    this.trustServerPasvIpv4Address = booleanOption(
      "trustServerPasvIpv4Address",
      options.trustServerPasvIpv4Address,
      false,
    );
    this.maxline = integerOption("maxline", options.maxline, 8192, 4, 1 << 24);
    this.passiveServer = booleanOption("passive", options.passive, true);
    this.epsv = booleanOption("epsv", options.epsv, true);
    this.modeZ = booleanOption("modeZ", options.modeZ, false);
    this.rateLimit = rateLimitOption(options.rateLimit);
    this.pipelineTransfers = booleanOption("pipelineTransfers", options.pipelineTransfers, false);
    this.debugging = integerOption("debugLevel", options.debugLevel, 0, 0, 3);
    this.debugOutput =
      functionOption("debugOutput", options.debugOutput) ?? ((line) => process.stderr.write(`${line}\n`));
    this.keepAlive = millisecondsOption("keepAlive", options.keepAlive, 0);
  }

  /**
   * Connects and logs in: `new FTP(options)`, `connect`, `login`. Closes the connection if login fails.
   *
   * @example
   * ```ts
   * import { FTP } from "@ftplib/client";
   *
   * await using ftp = await FTP.open({ host: "ftp.example.com", user: "me", password: "secret" });
   * console.log(await ftp.pwd());
   * // In JavaScript on Node 20: const ftp = await FTP.open(...); try { ... } finally { await ftp.quit(); }
   * ```
   * @returns the client, connected and logged in.
   * @group Connecting
   */
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

  /**
   * Connects to `host` (default: the previous one) and returns the greeting.
   *
   * @example
   * ```ts
   * import { FTP } from "@ftplib/client";
   *
   * const ftp = new FTP();
   * console.log(await ftp.connect("ftp.example.com", 21, { timeout: 5_000 })); // 220 ...
   * await ftp.login(); // anonymous
   * await ftp.quit();
   * ```
   * @returns the server's greeting: the text of its 220 reply.
   * @group Connecting
   */
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
      const channel = new ControlChannel(stream, codec, {
        sent: (line) => this.onSent(session, line),
        received: (reply) => this.onReceived(session, reply),
        unsolicited: (reply) => this.onUnsolicited(reply),
      });
      channel.setTimeout(this.timeout);
      // Queued like any call: a NOOP waits for a call in progress.
      const ping = () => void this.voidCmd("NOOP").catch(() => undefined);
      const session = new Session(channel, this, this.queue, { ms: this.keepAlive, ping }, this.newSession());
      this.session = session;
      // A 120 ("ready in a minute") may come before the greeting itself.
      const greeting = await channel.greeting().catch((error: unknown) => {
        throw noGreeting(error, this.timeout);
      });
      this.welcome = greeting.text;
      session.waitsForClientClose = /\bvsFTPd\b/.test(greeting.text);
      const error = replyError(greeting);
      if (error !== undefined) throw error;
      return this.welcome;
    });
  }

  /** What a new session starts with (data connections in the clear until PROT P). */
  protected newSession(): { dataProtected?: boolean } {
    return {};
  }

  /**
   * The greeting of the server.
   *
   * @returns the greeting, or null before `connect()`.
   * @group Connecting
   */
  getWelcome(): string | null {
    if (this.debugging) this.debug(`*welcome* ${this.sanitize(this.welcome ?? "")}`);
    return this.welcome;
  }

  /**
   * Logs in; anonymous (`anonymous` / `anonymous@`) by default.
   *
   * @returns the server's last reply to the login (usually `230 ...`).
   * @group Connecting
   */
  login(user = "", passwd = "", acct = ""): Promise<string> {
    return this.checked([], [user, passwd, acct], () => this.run((s) => s.login(user, passwd, acct)));
  }

  /**
   * Sends ACCT.
   *
   * @returns the server's reply.
   * @group Connecting
   */
  acct(password: string): Promise<string> {
    return this.voidCmd(`ACCT ${password}`);
  }

  /**
   * Sends QUIT, then closes the connection.
   *
   * @returns the server's reply to QUIT (`221 ...`).
   * @group Connecting
   */
  quit(): Promise<string> {
    return this.run(async (s) => {
      const resp = await s.voidCmd("QUIT");
      this.close();
      return resp;
    });
  }

  /**
   * Closes the connection at once, without QUIT. Calls in progress fail. Idempotent.
   *
   * @group Connecting
   */
  close(): void {
    const session = this.session;
    this.session = undefined;
    session?.close();
  }

  /**
   * `await using ftp = ...`: QUIT, and close if QUIT fails.
   *
   * @group Connecting
   */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.session === undefined || this.session.channel.closed) return this.close();
    try {
      await this.quit();
    } catch (error) {
      // As ftplib's __exit__: a connection already gone ends the session quietly; a reply that
      // refuses QUIT is the caller's to see.
      if (!(error instanceof FtpConnectionError)) throw error;
    } finally {
      this.close();
    }
  }

  // --- Commands ---------------------------------------------------------------------------

  /**
   * Sends a command and returns the reply; 4xx raises ErrorTemp, 5xx ErrorPerm.
   *
   * @returns the reply's text (ftplib's string: its lines joined by `\n`).
   * @group The ftplib API
   */
  sendCmd(cmd: string): Promise<string> {
    return this.run((s) => s.sendCmd(cmd));
  }

  /**
   * Sends a command and expects a 2xx reply (ErrorReply otherwise).
   *
   * @returns the reply's text, a 2xx.
   * @group The ftplib API
   */
  voidCmd(cmd: string): Promise<string> {
    return this.run((s) => s.voidCmd(cmd));
  }

  /**
   * Reads a reply (after `transferCmd`, the transfer's final one); 4xx and 5xx raise.
   *
   * @returns the reply's text.
   * @group The ftplib API
   */
  getResp(): Promise<string> {
    const transfer = this.session?.transfer;
    if (transfer?.kind === "caller") return endTransfer(this.session!, transfer, false);
    return this.run((s) => s.getResp());
  }

  /**
   * Reads a reply and expects 2xx (ErrorReply otherwise).
   *
   * @returns the reply's text, a 2xx.
   * @group The ftplib API
   */
  voidResp(): Promise<string> {
    const transfer = this.session?.transfer;
    if (transfer?.kind === "caller") return endTransfer(this.session!, transfer, true);
    return this.run((s) => s.voidResp());
  }

  /**
   * Aborts a transfer: sends ABOR, closes the data connection, and returns the reply, which must
   * be 426, 225 or 226 (ErrorProto otherwise). TLS or not, no out-of-band byte is sent: servers
   * that do not read the control connection during a transfer see the data connection close.
   * During a transfer it runs at once (see call-queue.ts); otherwise it takes its turn.
   *
   * @returns the reply that ended the transfer: 426, 225 or 226.
   * @group The ftplib API
   */
  abort(): Promise<string> {
    const session = this.session;
    if (session?.transfer !== undefined) return abort(session);
    return this.run((s) => abort(s));
  }

  // --- Transfers ----------------------------------------------------------------------------

  /**
   * Starts a transfer: opens the data connection, sends `cmd` (after REST `rest`), and returns the
   * connection and the size the server announced (or null). Read or write it, then call
   * `voidResp()` for the final reply; other calls wait until then.
   *
   * @returns the data connection, and the size the 1xx reply announced (null when it gives none).
   * @group The ftplib API
   */
  async ntransferCmd(cmd: string, rest?: number | string): Promise<[ByteStream, number | null]> {
    restOption(rest);
    checkSendable(this.encoding, [cmd]);
    const release = await this.queue.hold();
    try {
      return await openCallerTransfer(this.current, cmd, rest, release);
    } catch (error) {
      release();
      throw error;
    }
  }

  /**
   * As `ntransferCmd`, returning only the connection.
   *
   * @returns the data connection.
   * @group The ftplib API
   */
  async transferCmd(cmd: string, rest?: number | string): Promise<ByteStream> {
    return (await this.ntransferCmd(cmd, rest))[0];
  }

  /**
   * Retrieves in binary mode (TYPE I), handing each block to `callback`. Returns the final reply.
   *
   * @example
   * <!-- docs-run: given ftp -->
   * ```ts
   * import { createWriteStream } from "node:fs";
   *
   * const out = createWriteStream("README");
   * await ftp.retrBinary("RETR README", (block) => void out.write(block));
   * out.end();
   * ```
   * @returns the transfer's final reply (`226 ...`).
   * @group The ftplib API
   */
  retrBinary(cmd: string, callback: (block: Uint8Array) => unknown, options: RetrBinaryOptions = {}): Promise<string> {
    return this.checked(
      [cmd],
      [],
      () => this.run((s) => retrBinary(s, cmd, callback, options)),
      () => checkRetrOptions(callback, options),
    );
  }

  /**
   * Retrieves in text mode (TYPE A), handing each line to `callback` without its line ending
   * (default: print it). Returns the final reply.
   *
   * @returns the transfer's final reply (`226 ...`).
   * @group The ftplib API
   */
  retrLines(cmd: string, callback: (line: string) => unknown = (line) => console.log(line)): Promise<string> {
    return this.checked([cmd], [], () =>
      this.run((s) => readLines(s, cmd, Infinity, callback, { usersCallback: true })),
    );
  }

  /**
   * Stores in binary mode (TYPE I) from bytes, text, a stream or any (async) iterable of chunks.
   *
   * @example
   * <!-- docs-run: given ftp -->
   * ```ts
   * import { createReadStream } from "node:fs";
   *
   * await ftp.storBinary("STOR notes.txt", createReadStream("notes.txt"));
   * await ftp.storBinary("STOR hello.txt", "hello\n"); // a string, bytes, or any (async) iterable of chunks
   * ```
   * @returns the transfer's final reply (`226 ...`).
   * @group The ftplib API
   */
  storBinary(cmd: string, source: UploadSource, options: StorBinaryOptions = {}): Promise<string> {
    return this.checked(
      [cmd],
      [],
      () => this.run((s) => storBinary(s, cmd, source, options)),
      () => checkStorOptions(options),
    );
  }

  /**
   * Stores in text mode (TYPE A): each line of `source` is sent with CRLF, whatever its ending.
   * A line longer than `maxline` raises ErrorProto (`ERR_FTP_LINE_TOO_LONG`), as ftplib raises.
   *
   * @returns the transfer's final reply (`226 ...`).
   * @group The ftplib API
   */
  storLines(cmd: string, source: UploadSource, callback?: (line: Uint8Array) => unknown): Promise<string> {
    return this.checked(
      [cmd],
      [],
      () => this.run((s) => storLines(s, cmd, source, callback)),
      () => functionOption("callback", callback),
    );
  }

  // --- Listings and files ---------------------------------------------------------------------

  /**
   * Lists a directory with MLSD (RFC 3659): `[name, facts]` pairs, fact names lower-cased. With
   * `facts`, asks for those first (OPTS MLST). The listing is read whole before the first entry is
   * given, so other calls may be made while iterating.
   *
   * @example
   * <!-- docs-run: skip: ftp-srv, the embedded server the documentation runs against, has no MLSD -->
   * ```ts
   * for await (const [name, facts] of ftp.mlsd("pub", ["type", "size"])) {
   *   console.log(name, facts.type, facts.size);
   * }
   * // Servers without MLSD refuse it (500 or 502): list() works on every server.
   * ```
   * @returns an async iterable of `[name, facts]` pairs (`facts` by lower-cased name).
   * @group The ftplib API
   */
  async *mlsd(path = "", facts: readonly string[] = []): AsyncGenerator<MlsxEntry> {
    checkSendable(this.encoding, facts.length > 0 ? [`OPTS MLST ${facts.join(";")};`] : [], [path]);
    if (facts.length > 0) await this.sendCmd(`OPTS MLST ${facts.join(";")};`);
    const lines: string[] = [];
    await this.run((s) =>
      readLines(s, path === "" ? "MLSD" : `MLSD ${path}`, MAX_LISTING_BYTES, (line) => void lines.push(line)),
    );
    for (const line of lines) yield parseMlsxEntry(line);
  }

  /**
   * Names in a directory (NLST).
   *
   * @returns the names, as the server gives them.
   * @group The ftplib API
   */
  async nlst(...args: string[]): Promise<string[]> {
    checkSendable(this.encoding, [], args);
    const files: string[] = [];
    await this.run((s) =>
      readLines(s, ["NLST", ...args].join(" "), MAX_LISTING_BYTES, (line) => void files.push(line)),
    );
    return files;
  }

  /**
   * A LIST listing, each line to the callback given last (default: print it).
   *
   * @group The ftplib API
   */
  async dir(...args: (string | ((line: string) => unknown))[]): Promise<void> {
    const last = args[args.length - 1];
    const callback = typeof last === "function" ? last : undefined;
    const words = (callback === undefined ? args : args.slice(0, -1)).filter(
      (a): a is string => typeof a === "string" && a !== "",
    );
    checkSendable(this.encoding, [], words);
    await this.retrLines(["LIST", ...words].join(" "), callback);
  }

  /**
   * Renames (RNFR, then RNTO).
   *
   * @returns the server's reply to RNTO.
   * @group The ftplib API
   */
  rename(fromname: string, toname: string): Promise<string> {
    return this.checked([], [fromname, toname], () => this.run((s) => s.rename(fromname, toname)));
  }

  /**
   * Deletes a file; the reply must be 250 or 200.
   *
   * @returns the server's reply (250 or 200).
   * @group The ftplib API
   */
  delete(filename: string): Promise<string> {
    return this.run((s) => s.delete(filename));
  }

  /**
   * Changes directory; `..` is sent as CDUP (falling back to CWD .. if CDUP is unknown).
   *
   * @returns the server's reply.
   * @group The ftplib API
   */
  cwd(dirname: string): Promise<string> {
    return this.run((s) => s.cwd(dirname));
  }

  /**
   * The size of a file (SIZE, asked in TYPE I), or null when the reply is not 213.
   *
   * @returns the size in bytes, or null when the reply is not 213.
   * @group The ftplib API
   */
  size(filename: string): Promise<number | null> {
    return this.checked([], [filename], () => this.run((s) => s.size(filename)));
  }

  /**
   * Makes a directory and returns its name as the server gives it ("" if it gives none).
   *
   * @returns the new directory's name as the server gives it in its 257 reply (empty when it gives none).
   * @group The ftplib API
   */
  mkd(dirname: string): Promise<string> {
    return this.run((s) => s.mkd(dirname));
  }

  /**
   * Removes a directory.
   *
   * @returns the server's reply.
   * @group The ftplib API
   */
  rmd(dirname: string): Promise<string> {
    return this.run((s) => s.rmd(dirname));
  }

  /**
   * The current directory ("" if the server gives none).
   *
   * @returns the current directory, as the server gives it in its 257 reply (empty when it gives none).
   * @group The ftplib API
   */
  pwd(): Promise<string> {
    return this.run((s) => s.pwd());
  }

  /**
   * Sets the representation type (TYPE), unless the server has it already: one round trip less per transfer.
   *
   * @group The ftplib API
   */
  setType(type: "I" | "A"): Promise<void> {
    return this.run((s) => s.setType(type));
  }

  // --- Beyond ftplib: features, times, parsed listings ---------------------------------------

  /**
   * The server's features (FEAT, RFC 2389), by upper-cased name; empty when FEAT is refused. Asked once per
   * connection.
   *
   * @returns the features by upper-cased name, each with its parameters (empty when it has none).
   * @group Files and listings
   */
  features(): Promise<Map<string, string>> {
    return this.run((s) => s.features());
  }

  /**
   * The hash of a remote file, computed by the server: HASH (draft-bryan-ftpext-hash) with the
   * strongest algorithm it offers, else XSHA512, XSHA256, XSHA1, XMD5 or XCRC, as FEAT lists them.
   * Null when the server offers none (or not `algorithm`). The digest is lower-case hex.
   *
   * @returns the algorithm used and the lower-case hex digest, or null when the server offers no hash.
   * @group Files and listings
   */
  remoteHash(path: string, options: RemoteHashOptions = {}): Promise<RemoteHash | null> {
    let algorithm: HashAlgorithm | undefined;
    const check = () => void (algorithm = algorithmOption(options.algorithm));
    return this.checked([], [path], () => this.run((s) => remoteHash(s, path, { algorithm })), check);
  }

  /**
   * The algorithms `remoteHash` can use on this server, strongest first (from FEAT).
   *
   * @returns the algorithm names, strongest first; empty when the server can hash nothing.
   * @group Files and listings
   */
  hashAlgorithms(): Promise<HashAlgorithm[]> {
    return this.run(async (s) => hashMethods(await s.features()).map((m) => m.algorithm));
  }

  /**
   * The modification time of a file (MDTM, RFC 3659), in UTC.
   *
   * @returns the modification time, a Date (UTC).
   * @group Files and listings
   */
  lastMod(path: string): Promise<Date> {
    return this.run((s) => s.lastMod(path));
  }

  /**
   * Sets the modification time of a file (MFMT), to the second.
   *
   * @returns the server's reply to MFMT.
   * @group Files and listings
   */
  setLastMod(path: string, date: Date): Promise<string> {
    if (!(date instanceof Date) || Number.isNaN(date.getTime()))
      return Promise.reject(new RangeError(`setLastMod needs a valid Date, not ${String(date)}`));
    return this.run((s) => s.setLastMod(path, date));
  }

  /**
   * Facts about one file or directory (MLST, RFC 3659).
   *
   * @returns the entry, parsed from the MLST reply.
   * @group Files and listings
   */
  mlst(path = ""): Promise<FileEntry> {
    return this.run((s) => s.mlst(path));
  }

  /**
   * A directory's entries, parsed: MLSD when the server lists MLST among its features, LIST
   * otherwise (Unix, DOS/IIS and EPLF formats detected; custom parsers first when given), or the
   * `command` asked for. The listing itself and its parent are left out.
   *
   * @example
   * <!-- docs-run: given ftp -->
   * ```ts
   * for (const entry of await ftp.list("pub")) {
   *   console.log(entry.type, entry.size, entry.modifiedAt?.toISOString(), entry.name);
   * }
   * ```
   * @returns the entries of the directory, without `.` and `..`.
   * @group Files and listings
   */
  list(path = "", options: ListingOptions & { maxBytes?: number } = {}): Promise<FileEntry[]> {
    let maxBytes = MAX_LISTING_BYTES;
    const check = () => void (maxBytes = maxListingBytes(options));
    return this.checked([], [path], () => this.run((s) => list(s, path, options, maxBytes)), check);
  }

  /**
   * A directory's entries as they arrive (MLSD or LIST, as `list`), for listings too large to
   * hold: memory holds one received chunk of the listing, however long it is. The listing text
   * may not exceed `maxBytes` (default 64 MiB). While the loop runs the connection is busy:
   * another call on it fails with `ERR_FTP_BUSY` rather than waiting for a loop that waits for
   * it (use `list()`, or a second connection). Leaving the loop early stops the transfer (ABOR)
   * and leaves the connection usable.
   *
   * @example
   * <!-- docs-run: given ftp -->
   * ```ts
   * let bytes = 0;
   * for await (const entry of ftp.listStream("pub")) bytes += entry.size ?? 0;
   * console.log(bytes);
   * ```
   * @returns an async iterable of the entries, as the listing arrives.
   * @group Files and listings
   */
  listStream(
    path = "",
    options: ListingOptions & { maxBytes?: number } = {},
  ): AsyncGenerator<FileEntry, void, undefined> {
    let parse: (line: string) => FileEntry | null = () => null;
    // Nothing is checked or sent before the first entry is asked for, as with a generator.
    const batches = async function* (this: FTP): AsyncGenerator<readonly string[], void, undefined> {
      const maxBytes = maxListingBytes(options);
      checkSendable(this.encoding, [], [path]);
      const verb = await this.run((s) => listingCommand(s, options));
      parse = listingParser(verb, options);
      const cmd = path === "" ? verb : `${verb} ${path}`;
      yield* lineBatches(
        (onLine, afterChunk) =>
          this.run((s) => readLines(s, cmd, maxBytes, onLine, { afterChunk, modeZ: options.modeZ })),
        (busy) => this.queue.setBusy(busy ? "a listing is being iterated on this connection" : undefined),
      );
    };
    return new EntryIterator(batches.call(this), (line) => parse(line));
  }

  /**
   * Downloads `remote` to a local path (atomic by default: a temporary name, renamed when complete
   * and the size matches) or to a Writable, with progress, resume and cancellation. Resolves with
   * the number of bytes written by this call.
   *
   * @example
   * <!-- docs-run: given ftp -->
   * ```ts
   * const bytes = await ftp.download("pub/report.csv", "./report.csv", {
   *   onProgress: ({ bytes, total }) => console.log(`${bytes} of ${total ?? "?"}`),
   *   signal: AbortSignal.timeout(60_000),
   * });
   * console.log(`${bytes} bytes written`);
   * ```
   * @returns the number of bytes this call wrote: the whole file, or with `resume` the bytes after the part
   *   already there.
   * @group Files and listings
   */
  download(remote: string, destination: string | Buffer | Writable, options?: DownloadOptions): Promise<number> {
    return downloadFile(this, remote, destination, options);
  }

  /**
   * Uploads a local path or a Readable to `remote`, with progress, resume (APPE) and cancellation. Resolves
   * with the bytes sent.
   *
   * @example
   * <!-- docs-run: given ftp -->
   * ```ts
   * // verify: compared with the server's hash of the file, or its size where it has no hash
   * const sent = await ftp.upload("./notes.txt", "incoming/notes.txt", { verify: true });
   * console.log(`${sent} bytes sent`);
   * ```
   * @returns the number of bytes this call sent: the whole file, or with `resume` the bytes after the
   *   server's size.
   * @group Files and listings
   */
  upload(source: string | Readable, remote: string, options?: TransferOptions): Promise<number> {
    return uploadFile(this, source, remote, options);
  }

  /**
   * Appends a local path or a Readable to `remote` (APPE).
   *
   * @returns the number of bytes this call sent.
   * @group Files and listings
   */
  append(source: string | Readable, remote: string, options?: TransferOptions): Promise<number> {
    return uploadFile(this, source, remote, { ...options, append: true });
  }

  /**
   * Makes `path` and its missing parents; an existing directory is fine.
   *
   * @group Files and listings
   */
  ensureDir(path: string): Promise<void> {
    return this.checked([], [path], () => this.run((s) => ensureDir(this.direct(s), path)));
  }

  /**
   * Removes `path` and everything in it (links removed, not followed).
   *
   * @group Files and listings
   */
  removeDir(path: string): Promise<void> {
    return this.checked([], [path], () => this.run((s) => removeDir(this.direct(s), path)));
  }

  /**
   * Lists the tree under `path`, parents before children, each entry with its remote path and its
   * path below `path` (names that are not one path segment refused). Links are not followed.
   *
   * @returns every entry of the tree, parents before children.
   * @group Files and listings
   */
  walk(path: string, options?: TreeOptions): Promise<TreeEntry[]> {
    return this.checked([], [path], () => this.run((s) => walk(this.direct(s), path, options)));
  }

  /**
   * Copies a remote directory tree to a local directory; a server name that would leave it is refused.
   *
   * @returns the number of files downloaded.
   * @group Files and listings
   */
  downloadDir(remote: string, local: string, options?: TreeOptions): Promise<number> {
    return this.checked([], [remote], () => this.run((s) => downloadDir(this.direct(s), remote, local, options)));
  }

  /**
   * Copies a local directory tree to a remote directory. The local tree is read first: a local
   * name that cannot be sent (CR, LF or NUL in it) fails the call before anything is uploaded.
   *
   * @returns the number of files uploaded.
   * @group Files and listings
   */
  uploadDir(local: string, remote: string, options?: TreeOptions): Promise<number> {
    return this.checked([], [remote], () => this.run((s) => uploadDir(this.direct(s), local, remote, options)));
  }

  // --- Settings ------------------------------------------------------------------------------

  /**
   * Passive mode on (true, the default) or off (active mode: PORT or EPRT).
   *
   * @group Connecting
   */
  setPasv(val: boolean): void {
    this.passiveServer = val;
  }

  /**
   * 0: quiet; 1: commands and replies; 2: raw lines too. Passwords are always masked.
   *
   * @group Connecting
   */
  setDebugLevel(level: number): void {
    this.debugging = integerOption("level", level, 0, 0, 3);
  }

  /**
   * Alias of `setDebugLevel`, as ftplib's `debug`.
   *
   * @group Connecting
   */
  debugLevel(level: number): void {
    this.setDebugLevel(level);
  }

  /**
   * A line fit for debug output: PASS and ACCT arguments masked, quoted.
   *
   * @returns the line with PASS and ACCT arguments masked, quoted as a JSON string.
   * @group The ftplib API
   */
  sanitize(line: string): string {
    return JSON.stringify(maskCommand(line.replace(/[\r\n]+$/, "")) + (line.match(/[\r\n]+$/)?.[0] ?? ""));
  }

  /**
   * Writes a debug line (passwords are masked by the caller, with `sanitize`).
   *
   * @group The ftplib API
   */
  debug(line: string): void {
    this.debugOutput(line);
  }

  // --- Internals ------------------------------------------------------------------------------

  /** Runs `task` on the session when its turn comes (see call-queue.ts). */
  protected run<T>(task: (session: Session) => Promise<T>): Promise<T> {
    return this.queue.run(() => task(this.current));
  }

  /** The session, or why there is none: never connected, closed, or ended by the server. */
  protected get current(): Session {
    const session = this.session;
    if (session === undefined) throw new FtpConnectionError("not connected", { code: "ERR_FTP_NOT_CONNECTED" });
    // The server ended the session (a 421, a hang-up): its reason, for every call after.
    const failure = session.channel.failure;
    if (failure !== undefined) {
      if (failure instanceof FtpConnectionError || failure instanceof ErrorTemp) throw failure;
      throw new FtpConnectionError(`connection closed after an error: ${failure.message}`, {
        code: "ERR_FTP_CLOSED",
        cause: failure,
      });
    }
    return session;
  }

  /**
   * The calls a tree operation makes, run at once on `session`: the operation holds the turn.
   * (The file calls keep going through this client's queue, which the turn makes immediate.)
   */
  private direct(session: Session): TreeClient {
    const files: FileClient = {
      encoding: this.encoding,
      get announcesSizes() {
        return session.announcesSizes;
      },
      retrBinary: (cmd, callback, options = {}) => retrBinary(session, cmd, callback, options),
      storBinary: (cmd, source, options = {}) => storBinary(session, cmd, source, options),
      size: (filename) => session.size(filename),
      setType: (type) => session.setType(type),
      abort: () => abort(session),
      delete: (filename) => session.delete(filename),
      hashAlgorithms: async () => hashMethods(await session.features()).map((m) => m.algorithm),
      remoteHash: (path, options) => remoteHash(session, path, options),
      debugging: this.debugging,
      debug: (line) => this.debug(line),
    };
    return {
      ...files,
      cwd: (dirname) => session.cwd(dirname),
      list: (path = "", options = {}) => list(session, path, options, maxListingBytes(options)),
      mkd: (dirname) => session.mkd(dirname),
      pwd: () => session.pwd(),
      rmd: (dirname) => session.rmd(dirname),
      download: (remote, destination, options) => downloadFile(files, remote, destination, options),
      upload: (source, remote, options) => uploadFile(files, source, remote, options),
    };
  }

  /**
   * Runs `run` once the commands and names it will send are known to be sendable, and `check`
   * (option checks) passed; otherwise rejects before anything is queued or sent.
   */
  protected checked<T>(
    commands: readonly string[],
    names: readonly string[],
    run: () => Promise<T>,
    check?: () => void,
  ): Promise<T> {
    try {
      check?.();
      checkSendable(this.encoding, commands, names);
    } catch (error) {
      return Promise.reject(error);
    }
    return run();
  }

  private onSent(session: Session, line: string): void {
    session.sent(line);
    if (sendcmdChannel.hasSubscribers) sendcmdChannel.publish({ ftp: this, command: maskCommand(line) });
    if (this.debugging > 1) this.debug(`*put* ${this.sanitize(`${line}\r\n`)}`);
    else if (this.debugging) this.debug(`*cmd* ${this.sanitize(line)}`);
  }

  private onUnsolicited(reply: Reply): void {
    if (this.debugging) this.debug(`*unsolicited* ${this.sanitize(reply.text)} (dropped: it answers no command sent)`);
  }

  private onReceived(session: Session, reply: Reply): void {
    session.touch();
    this.lastResp = String(reply.code);
    if (this.debugging > 1) for (const line of reply.lines) this.debug(`*get* ${this.sanitize(`${line}\r\n`)}`);
    if (this.debugging) this.debug(`*resp* ${this.sanitize(reply.text)}`);
  }
}
