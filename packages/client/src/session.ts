/**
 * One connection, from `connect()` to `close()`: its control channel, the transfer in progress,
 * and what the server refused or offered (EPSV, features, MODE Z), the representation type, the
 * transmission mode and the data protection. Everything here dies with the connection, so nothing
 * is ever reset by hand.
 *
 * Its methods run at once: the caller holds the turn (see call-queue.ts). The FTP class is the
 * public facade that takes the turn first; the tree and file helpers call a session directly.
 */
import {
  type ByteStream,
  type DataConnectRequest,
  FtpConnectionError,
  type DataListener,
  ErrorPerm,
  ErrorTemp,
  ErrorProto,
  ErrorReply,
  completionError,
  FtpTimeoutError,
  LocalProtocolError,
  type Reply,
  type SendOptions,
  type TextEncoding,
  buildEprtArgument,
  buildPortArgument,
  isIPv4,
  parse150,
  parse227,
  parse229,
  parse257,
  parseFeat,
  parseMdtm,
  parseMlstReply,
  replyError,
  replyIs,
} from "@ftplib/protocol";
import type { CallQueue } from "./call-queue.js";
import type { ControlChannel } from "./control-channel.js";
import { type SourceAddress, sourceAddressOf } from "./ftp-options.js";
import { type FileEntry, factsEntry } from "./listing/index.js";
import type { GuardedStream } from "./guarded-stream.js";
import type { RateLimiter } from "./rate-limit.js";

/** The client's settings a session reads at each use: the caller may change them between calls. */
export interface SessionSettings {
  readonly timeout: number;
  readonly passiveServer: boolean;
  readonly epsv: boolean;
  readonly pipelineTransfers: boolean;
  readonly trustServerPasvIpv4Address: boolean;
  readonly sourceAddress: SourceAddress | undefined;
  readonly encoding: TextEncoding;
  readonly maxline: number;
  /** Transfers in MODE Z (deflate) unless a call says otherwise, where the server offers it. */
  readonly modeZ: boolean;
  /** The cap on the bytes per second of binary transfers, or none. */
  readonly rateLimit: RateLimiter | undefined;
  /** Debug level and output, for text transfers' lines. */
  readonly debugging: number;
  debug(line: string): void;
}

/** The replies after ABOR: the transfer's and ABOR's own (either may be absent, see `abortReplies`). */
export interface AbortReplies {
  readonly transfer?: Reply;
  readonly abort?: Reply;
}

/** A transfer opened by `ntransferCmd`: the caller reads or writes the data connection, then reads the final reply. */
export interface CallerTransfer {
  readonly kind: "caller";
  /** The id of the transfer command on the control channel. */
  readonly id: number;
  readonly conn: ByteStream;
  /** Ends the caller's turn, once the final reply is read. */
  readonly release: () => void;
  aborted: boolean;
  /** After abort(): the replies to the transfer and to ABOR, the former kept for `voidResp()`. */
  afterAbort?: Promise<AbortReplies>;
}

/** A transfer the client runs itself (retrBinary and the others): its data connection is guarded. */
export interface RunningTransfer {
  readonly kind: "running";
  readonly id: number;
  readonly conn: GuardedStream;
  readonly direction: "download" | "upload";
  /** The transfer's own final reply (undefined: the server answered it together with ABOR). */
  readonly finalReply: Promise<Reply | undefined>;
  /** The reply that ends the transfer: its own, or ABOR's when the server gave one for both. */
  readonly final: Promise<Reply>;
  aborted: boolean;
  /** ABOR went out. */
  stopped: boolean;
  afterAbort?: Promise<AbortReplies>;
}

export type Transfer = CallerTransfer | RunningTransfer;

/** The reply, if it is a 2xx completion; otherwise the error ftplib's voidresp raises. */
function completed(reply: Reply): Reply {
  const error = completionError(reply);
  if (error !== undefined) throw error;
  return reply;
}

/** Milliseconds a server gets to answer a pipelined command whose data connection failed. */
const PIPELINE_GRACE = 1000;

const delay = (ms: number) => new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms).unref());

export class Session {
  /** The transfer in progress, while there is one. */
  transfer: Transfer | undefined;
  /** Data connections use TLS (after PROT P). */
  dataProtected: boolean;
  /** The server refused EPSV: PASV from now on. */
  private epsvRefused = false;
  /** FEAT of this connection, once asked. */
  private featureCache: Map<string, string> | undefined;
  /**
   * The server said a download's size in its 150 reply (vsftpd and proftpd do): a download need not
   * ask SIZE first to know when too much is coming. Learned at this connection's first RETR.
   */
  announcesSizes = false;
  /** A passive data connection of this session has connected: the passive ports are reachable. */
  private dataConnected = false;
  /**
   * The server sends a download's final reply only once the client has closed its side of the
   * data connection (vsftpd, known by its greeting): a download closes it at once, a round trip
   * sooner. Other servers (pyftpdlib, Twisted, ftp-srv, nodeftpd) take that close for an abort.
   */
  waitsForClientClose = false;
  /** The representation type the server has, to skip a TYPE that changes nothing. */
  private type: "I" | "A" | undefined;
  /** The algorithm HASH computes, once this client selected it (OPTS HASH); undefined when unknown. */
  hashSelection: string | undefined;
  /**
   * The transmission mode the server has: stream (S) until a MODE Z; undefined after a MODE the
   * caller sent (sendCmd), or a USER or REIN in MODE Z.
   */
  mode: "S" | "Z" | undefined = "S";
  /** MODE Z is not offered (FEAT) or was refused: stream mode for good, said once in debug output. */
  private modeZMissing: string | undefined;
  private keepAliveTimer: NodeJS.Timeout | undefined;

  /**
   * @param rule the client's call queue: a session runs users' callbacks in its windows
   * @param keepAlive milliseconds of quiet after which `ping` runs (0: never)
   */
  constructor(
    readonly channel: ControlChannel,
    readonly settings: SessionSettings,
    readonly rule: CallQueue,
    private readonly keepAlive: { ms: number; ping: () => void },
    options: { dataProtected?: boolean } = {},
  ) {
    this.dataProtected = options.dataProtected ?? false;
  }

  /** Ends the connection now, with its transfer and keep-alive. Idempotent. */
  close(): void {
    if (this.keepAliveTimer !== undefined) clearTimeout(this.keepAliveTimer);
    this.keepAliveTimer = undefined;
    this.transfer?.conn.destroy();
    this.transfer = undefined;
    this.channel.destroy();
  }

  get encoding(): TextEncoding {
    return this.settings.encoding;
  }

  // --- Commands and replies -----------------------------------------------------------------

  /** Sends a command; returns its id, by which its replies are read. */
  send(line: string, options?: SendOptions): Promise<number> {
    return this.channel.send(line, options);
  }

  /** The next reply to command `id` (a 1xx or its final one). */
  async reply(id: number): Promise<Reply> {
    const event = await this.channel.nextEvent(id);
    if (event === undefined) throw new ErrorProto("no reply is owed to this command", { code: "ERR_FTP_NO_REPLY" });
    return event.reply;
  }

  /** As `reply`, as ftplib's getresp takes it: 4xx and 5xx raised. */
  async answer(id: number): Promise<Reply> {
    const reply = await this.reply(id);
    const error = replyError(reply);
    if (error !== undefined) throw error;
    return reply;
  }

  /** The text of `answer`: what the public ftplib methods return. */
  async replyText(id: number): Promise<string> {
    return (await this.answer(id)).text;
  }

  /** Sends a command and returns its first reply; 4xx and 5xx raise. */
  async command(cmd: string): Promise<Reply> {
    return this.answer(await this.send(cmd));
  }

  /** As `command`, and anything but a 2xx raises ErrorReply. */
  async voidCommand(cmd: string): Promise<Reply> {
    return completed(await this.command(cmd));
  }

  /** ftplib's getresp: the next reply to the oldest command that is owed one. */
  async getResp(): Promise<string> {
    return (await this.oldestReply()).text;
  }

  /** ftplib's voidresp: as getResp, and anything but a 2xx raises. */
  async voidResp(): Promise<string> {
    return completed(await this.oldestReply()).text;
  }

  private oldestReply(): Promise<Reply> {
    const id = this.channel.oldestPending;
    if (id === undefined)
      return Promise.reject(new LocalProtocolError("no command is waiting for a reply", "ERR_FTP_STATE"));
    return this.answer(id);
  }

  /** ftplib's sendcmd: the command's first reply, as text, with 4xx and 5xx raised. */
  async sendCmd(cmd: string): Promise<string> {
    return (await this.command(cmd)).text;
  }

  /** ftplib's voidcmd: as sendCmd, and anything but a 2xx raises. */
  async voidCmd(cmd: string): Promise<string> {
    return (await this.voidCommand(cmd)).text;
  }

  /** Sets the representation type, unless the server has it already: one round trip less per transfer. */
  async setType(type: "I" | "A"): Promise<void> {
    if (this.type === type) return;
    await this.voidCommand(`TYPE ${type}`);
    this.type = type;
  }

  /** Sets the transmission mode (MODE), unless the server has it already: no round trip in stream mode. */
  async setMode(mode: "S" | "Z"): Promise<void> {
    if (this.mode === mode) return;
    await this.voidCommand(`MODE ${mode}`);
    this.mode = mode;
  }

  /**
   * The mode of the next transfer: MODE Z when `wanted` and the server offers it (FEAT lists
   * `MODE Z`), stream mode otherwise. Compression is an optimisation: a server without it gets
   * the same bytes uncompressed, and debug output says so. True when the data is deflated.
   */
  async transferMode(wanted: boolean): Promise<boolean> {
    if (wanted && this.modeZMissing === undefined) {
      const modes = (await this.features()).get("MODE") ?? "";
      if (!/(^|[\s,;])Z($|[\s,;])/i.test(modes)) this.modeZMissing = "not offered (FEAT)";
    }
    if (wanted && this.modeZMissing === undefined) {
      const before = this.mode;
      try {
        await this.setMode("Z");
        return true;
      } catch (error) {
        if (!(error instanceof ErrorPerm)) throw error;
        this.mode = before;
        this.modeZMissing = `refused (${error.message})`;
      }
    }
    if (wanted && this.settings.debugging) {
      this.settings.debug(`*mode* MODE Z ${this.modeZMissing}: stream mode, uncompressed`);
    }
    if (this.mode !== "S") await this.setMode("S");
    return false;
  }

  /**
   * A command line went out: a TYPE, REIN or USER sent by anyone makes the type unknown, a MODE the
   * mode, an OPTS HASH the hash selection.
   */
  sent(line: string): void {
    this.touch();
    if (/^(TYPE|REIN|USER)\b/i.test(line)) this.type = undefined;
    if (/^MODE\b/i.test(line) || (this.mode !== "S" && /^(REIN|USER)\b/i.test(line))) this.mode = undefined;
    if (/^(OPTS\s+HASH|REIN|USER)\b/i.test(line)) this.hashSelection = undefined;
  }

  /** Re-arms the keep-alive: `ping` when the session has been quiet for its milliseconds. */
  touch(): void {
    if (this.keepAlive.ms <= 0 || this.channel.closed) return;
    if (this.keepAliveTimer !== undefined) {
      this.keepAliveTimer.refresh();
      return;
    }
    this.keepAliveTimer = setTimeout(() => {
      this.keepAliveTimer = undefined;
      if (!this.channel.closed) this.keepAlive.ping();
    }, this.keepAlive.ms);
    this.keepAliveTimer.unref();
  }

  // --- The ftplib commands ------------------------------------------------------------------

  async login(user: string, passwd: string, acct: string): Promise<string> {
    if (user === "") user = "anonymous";
    if (user === "anonymous" && (passwd === "" || passwd === "-")) {
      // Anonymous, with no clue about the user: the password ftplib sends.
      passwd = `${passwd}anonymous@`;
    }
    let reply = await this.command(`USER ${user}`);
    if (replyIs(reply, "3xx")) reply = await this.command(`PASS ${passwd}`);
    if (replyIs(reply, "3xx")) reply = await this.command(`ACCT ${acct}`);
    return completed(reply).text;
  }

  async rename(fromname: string, toname: string): Promise<string> {
    const reply = await this.command(`RNFR ${fromname}`);
    if (!replyIs(reply, "3xx")) throw new ErrorReply(reply);
    return this.voidCmd(`RNTO ${toname}`);
  }

  async delete(filename: string): Promise<string> {
    const reply = await this.command(`DELE ${filename}`);
    if (replyIs(reply, 250, 200)) return reply.text;
    throw new ErrorReply(reply);
  }

  async cwd(dirname: string): Promise<string> {
    if (dirname === "..") {
      try {
        return await this.voidCmd("CDUP");
      } catch (error) {
        if (!(error instanceof ErrorPerm && error.replyCode === 500)) throw error;
      }
    } else if (dirname === "") {
      dirname = ".";
    }
    return this.voidCmd(`CWD ${dirname}`);
  }

  async size(filename: string): Promise<number | null> {
    // In TYPE A some servers refuse SIZE (proftpd, pyftpdlib) and others count the line endings
    // they would add (inetutils, netkit): sizes are asked for in TYPE I, as lftp and curl do.
    await this.setType("I");
    const reply = await this.command(`SIZE ${filename}`);
    if (!replyIs(reply, 213)) return null;
    const value = reply.text.slice(3).trim();
    if (!/^\d+$/.test(value)) throw new ErrorProto(reply, { code: "ERR_FTP_BAD_SIZE" });
    return Number(value);
  }

  async mkd(dirname: string): Promise<string> {
    const reply = await this.voidCommand(`MKD ${dirname}`);
    return replyIs(reply, 257) ? parse257(reply) : "";
  }

  rmd(dirname: string): Promise<string> {
    return this.voidCmd(`RMD ${dirname}`);
  }

  async pwd(): Promise<string> {
    const reply = await this.voidCommand("PWD");
    return replyIs(reply, 257) ? parse257(reply) : "";
  }

  /** FEAT (RFC 2389), by upper-cased name; empty when refused. Asked once per connection. */
  async features(): Promise<Map<string, string>> {
    if (this.featureCache !== undefined) return this.featureCache;
    let features = new Map<string, string>();
    try {
      features = parseFeat(await this.command("FEAT"));
    } catch (error) {
      if (!(error instanceof ErrorPerm) && !(error instanceof ErrorReply)) throw error;
    }
    this.featureCache = features;
    return features;
  }

  async lastMod(path: string): Promise<Date> {
    return parseMdtm(await this.command(`MDTM ${path}`));
  }

  setLastMod(path: string, date: Date): Promise<string> {
    const stamp = date.toISOString().replace(/[-:T]/g, "").slice(0, 14);
    return this.voidCmd(`MFMT ${stamp} ${path}`);
  }

  async mlst(path: string): Promise<FileEntry> {
    const reply = await this.voidCommand(path === "" ? "MLST" : `MLST ${path}`);
    const [name, facts] = parseMlstReply(reply);
    return factsEntry(name, facts, reply.text);
  }

  // --- Data connections ----------------------------------------------------------------------

  /** Asks for a passive address: EPSV (on IPv4 too, unless `epsv` is off), PASV when refused. */
  async makePasv(): Promise<[string, number]> {
    const peer = this.channel.remoteHost;
    const ipv4 = isIPv4(peer);
    if (!ipv4 || (this.settings.epsv && !this.epsvRefused)) {
      try {
        const [host, port] = parse229(await this.command("EPSV"), peer);
        return [host, port];
      } catch (error) {
        if (ipv4 && error instanceof FtpTimeoutError) {
          throw new FtpTimeoutError(`${error.message}: no reply to EPSV (new FTP({ epsv: false }) uses PASV)`, {
            code: error.code,
            cause: error,
          });
        }
        if (!(ipv4 && error instanceof ErrorPerm)) throw error;
        this.epsvRefused = true;
      }
    }
    const [untrustedHost, port] = parse227(await this.command("PASV"));
    // The host in a 227 reply is ignored unless trusted (CVE-2021-4189): it could point anywhere.
    return [this.settings.trustServerPasvIpv4Address ? untrustedHost : peer, port];
  }

  /** Listens for an active data connection and announces it (PORT on IPv4, EPRT on IPv6). */
  async makePort(): Promise<DataListener> {
    const listener = await this.channel.listenData({ secure: this.dataProtected, timeout: this.settings.timeout });
    try {
      const { host, port } = listener.address;
      if (isIPv4(host)) await this.voidCommand(`PORT ${buildPortArgument(host, port)}`);
      else await this.voidCommand(`EPRT ${buildEprtArgument(host, port)}`);
      return listener;
    } catch (error) {
      listener.close();
      throw error;
    }
  }

  /**
   * Opens the data connection and sends the transfer command (ftplib's `ntransfercmd`): the
   * connection, the size the 150 reply announced (or null), and the command's id.
   */
  async openTransfer(
    cmd: string,
    rest: number | string | undefined,
    { ownChunks = false, receiveOnly = false }: { ownChunks?: boolean; receiveOnly?: boolean } = {},
  ): Promise<[ByteStream, number | null, number]> {
    // A download's data connection carries nothing from this side, so its sending side may close
    // at once (plain connections only: over TLS 1.2 a close_notify ends both directions).
    const halfClose = receiveOnly && this.waitsForClientClose && !this.dataProtected;
    const opened = (conn: ByteStream): ByteStream => {
      if (halfClose) conn.end().catch(() => undefined);
      return conn;
    };
    if (this.settings.passiveServer) {
      const [host, port] = await this.makePasv();
      // Bound to the source address's port when one is given, as ftplib does.
      const localPort = sourceAddressOf(this.settings.sourceAddress)?.port || undefined;
      const request = { host, port, secure: this.dataProtected, timeout: this.settings.timeout, localPort, ownChunks };
      if (this.settings.pipelineTransfers && this.dataConnected)
        return this.pipelinedTransfer(request, cmd, rest, opened);
      const conn = opened(await this.channel.connectData(request));
      this.dataConnected = true;
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
      return [opened(await listener.accept()), size, id];
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

  /**
   * The transfer command sent while the data connection connects (pipelineTransfers). A connect
   * that fails then leaves the server waiting for it with the command in hand, and most servers
   * read no ABOR until their accept timeout: unless the server answers the command at once (550:
   * no such file, which also closes its listener), the session cannot go on, and is closed.
   */
  private async pipelinedTransfer(
    request: DataConnectRequest,
    cmd: string,
    rest: number | string | undefined,
    opened: (conn: ByteStream) => ByteStream,
  ): Promise<[ByteStream, number | null, number]> {
    const connecting = this.channel.connectData(request).then(opened);
    const started = this.sendTransferCommand(cmd, rest);
    const connect = connecting.then(
      (conn) => ({ conn }),
      (error: unknown) => ({ error }),
    );
    const answer = started.then(
      (value) => ({ value }),
      (error: unknown) => ({ refused: error }),
    );
    const first = await Promise.race([connect, answer]);
    if ("refused" in first) {
      void connect.then((c) => "conn" in c && c.conn.destroy());
      throw first.refused;
    }
    const connected = await connect;
    if ("conn" in connected) {
      const answered = await answer;
      if ("refused" in answered) {
        connected.conn.destroy();
        throw answered.refused;
      }
      return [connected.conn, ...answered.value];
    }
    const late = await Promise.race([answer, delay(PIPELINE_GRACE)]);
    // Any answer (5xx, 4xx, or another unexpected one) keeps the session in step.
    if (late !== undefined && "refused" in late && isServerAnswer(late.refused)) throw late.refused;
    this.close();
    throw new FtpConnectionError(
      `the data connection failed after ${cmd.split(" ")[0]} was sent (pipelineTransfers): session closed`,
      { code: "ERR_FTP_DATA_AFTER_COMMAND", cause: connected.error },
    );
  }

  private async sendTransferCommand(cmd: string, rest: number | string | undefined): Promise<[number | null, number]> {
    if (rest !== undefined) await this.command(`REST ${rest}`);
    const id = await this.send(cmd, { transfer: true });
    let reply = await this.answer(id);
    // Some servers send a 2xx before the 1xx of LIST or STOR: skip it, as ftplib does (the codec
    // keeps the transfer waiting for its 1xx).
    if (replyIs(reply, "2xx")) reply = await this.answer(id);
    if (!replyIs(reply, "1xx")) throw new ErrorReply(reply);
    const size = replyIs(reply, 150) ? parse150(reply) : null;
    if (rest === undefined && /^RETR /i.test(cmd)) this.announcesSizes = size !== null;
    return [size, id];
  }
}

/** The server answered (ErrorPerm, ErrorTemp and ErrorReply are siblings, as in ftplib). */
function isServerAnswer(error: unknown): boolean {
  return error instanceof ErrorPerm || error instanceof ErrorTemp || error instanceof ErrorReply;
}
