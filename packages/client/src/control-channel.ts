/**
 * The control connection as the client uses it: the codec driven over a transport stream.
 *
 * Every command sent gets an id (the codec's count), and every reply is matched by the codec to
 * the command it answers (reply-rules.ts in @ftplib/protocol): a reader asks for the replies of
 * one command, never for "the next reply". Replies read for another command wait for it, so a
 * transfer waiting for its final reply and an ABOR waiting for its own never take each other's,
 * in whatever order the server sends them. A reply that answers nothing is dropped (and shown
 * in debug output); a 421 among them ends the session. While no command is outstanding the
 * channel still reads (with no timeout), so that a reply sent then is known to answer nothing,
 * and a server that hangs up on an idle session is seen at once. A command that got such a reply must get
 * its own within UNMATCHED_GRACE: a server that sends none has answered with a reply the
 * command cannot get, and the session fails with ErrorProto rather than wait for the timeout.
 */
import {
  type ByteStream,
  type ControlStream,
  type DataConnectRequest,
  type DataListenRequest,
  type DataListener,
  ErrorProto,
  ErrorTemp,
  FtpConnectionError,
  FtpTimeoutError,
  FtpTlsError,
  LocalProtocolError,
  commandVerb,
  type ControlCodec,
  type Reply,
  type ReplyEvent,
  type SendOptions,
} from "@ftplib/protocol";

export interface ControlChannelHooks {
  /** A command was sent (the line as given, unmasked: the hook masks). */
  sent(line: string): void;
  /** A reply arrived. */
  received(reply: Reply): void;
  /** A reply arrived that answers no command outstanding: it was dropped. */
  unsolicited(reply: Reply): void;
}

/** The id the greeting's replies are kept under. */
const GREETING = 0;
/** Milliseconds a command gets for its own reply after an unmatched one. */
const UNMATCHED_GRACE = 2000;

export class ControlChannel {
  private readonly stream: ControlStream;
  private readonly codec: ControlCodec;
  private readonly hooks: ControlChannelHooks;
  /** Replies read and not yet taken, by the id of the command they answer. */
  private readonly unread = new Map<number, ReplyEvent[]>();
  /** The read of the stream in progress: one at a time. */
  private reading: Promise<void> | undefined;
  private broken: Error | undefined;
  /** Milliseconds a reply may take (0: none), as last set. */
  private replyTimeout = 0;
  /** The unmatched reply that the command outstanding is given UNMATCHED_GRACE after. */
  private unmatched: Reply | undefined;
  /** A read runs while no command is outstanding. */
  private idle = false;
  /** QUIT went out: the session ends, and nothing is read after its reply. */
  private quitting = false;

  constructor(stream: ControlStream, codec: ControlCodec, hooks: ControlChannelHooks) {
    this.stream = stream;
    this.codec = codec;
    this.hooks = hooks;
  }

  /** Sends a command line and returns its id. Invalid lines throw before anything is written. */
  async send(line: string, options?: SendOptions): Promise<number> {
    if (this.broken !== undefined) throw this.broken;
    if (!this.codec.canSend(line)) {
      // Refused before the codec sees it, so that a misplaced call leaves the connection usable.
      throw new LocalProtocolError(
        `cannot send ${commandVerb(line)} while a transfer or reply is outstanding (${this.codec.state})`,
        "ERR_FTP_BUSY",
      );
    }
    const bytes = this.codec.send(line, options);
    const id = this.codec.lastSent;
    if (commandVerb(line) === "QUIT") this.quitting = true;
    if (this.idle) {
      this.idle = false;
      this.applyTimeout();
    }
    this.hooks.sent(line);
    try {
      await this.stream.write(bytes);
    } catch (error) {
      throw this.break(error);
    }
    return id;
  }

  /** The greeting: its final reply, after any 1xx ("ready in a minute"). */
  async greeting(): Promise<Reply> {
    for (;;) {
      const event = await this.nextEvent(GREETING);
      if (event === undefined) throw new FtpConnectionError("no greeting", { code: "ERR_FTP_CLOSED" });
      if (event.final) return event.reply;
    }
  }

  /**
   * The next reply (1xx or final) to command `id`, or undefined when there is none left: it got
   * its final reply already, or the server answered it together with a later one (see the
   * codec's marker).
   */
  async nextEvent(id: number): Promise<ReplyEvent | undefined> {
    for (;;) {
      const queued = this.unread.get(id);
      if (queued !== undefined && queued.length > 0) {
        const event = queued.shift()!;
        if (queued.length === 0) this.unread.delete(id);
        return event;
      }
      if (id !== GREETING && !this.codec.isOutstanding(id)) return undefined;
      if (id === GREETING && this.codec.state !== "greeting") return undefined;
      await this.readOne();
    }
  }

  /** The final reply to command `id` (skipping 1xx), or undefined as for `nextEvent`. */
  async finalReply(id: number): Promise<Reply | undefined> {
    for (;;) {
      const event = await this.nextEvent(id);
      if (event === undefined || event.final) return event?.reply;
    }
  }

  /** True while command `id` awaits its final reply. */
  isOutstanding(id: number): boolean {
    return this.codec.isOutstanding(id);
  }

  /** The oldest command owed a reply, or with replies not yet taken (ftplib's `getresp`). */
  get oldestPending(): number | undefined {
    const ids = [...this.unread.keys(), ...this.codec.outstandingIds].filter((id) => id !== GREETING);
    return ids.length === 0 ? undefined : Math.min(...ids);
  }

  /**
   * Switches TLS on (after 234 to AUTH TLS) or off (after CCC's 2xx), then lets the codec go on.
   * Bytes received in the clear after the reply are an injection: refused, and the connection
   * closed. A failed switch closes it too.
   */
  async switchTls(on: { tls: unknown } | false): Promise<void> {
    try {
      if (on !== false && this.codec.trailingData.data.length > 0) {
        throw new FtpTlsError("data received in the clear after the 234 reply to AUTH TLS", {
          code: "ERR_FTP_TLS_INJECTION",
        });
      }
      if (on === false) await this.stream.stopTls();
      else await this.stream.startTls(on.tls);
    } catch (error) {
      throw this.break(error);
    }
    this.codec.resume();
    this.watchIdle();
  }

  /** Reads the stream until one more reply (or the end) is in. */
  private async readOne(): Promise<void> {
    if (this.reading === undefined) {
      this.reading = this.readEvent().finally(() => {
        this.reading = undefined;
        this.watchIdle();
      });
    }
    await this.reading;
  }

  /** Ends the connection now. Idempotent. */
  destroy(reason?: Error): void {
    this.break(reason ?? new FtpConnectionError("connection closed", { code: "ERR_FTP_CLOSED" }));
  }

  get closed(): boolean {
    return this.broken !== undefined;
  }

  /** Why the connection ended, once it has. */
  get failure(): Error | undefined {
    return this.broken;
  }

  get secure(): boolean {
    return this.stream.secure;
  }

  get remoteHost(): string {
    return this.stream.remoteAddress.host;
  }

  /** Milliseconds a reply may take (0: none); the data connection has its own. */
  setTimeout(ms: number): void {
    this.replyTimeout = ms;
    this.applyTimeout();
  }

  private applyTimeout(): void {
    if (this.idle) this.stream.setTimeout(0);
    else if (this.unmatched !== undefined)
      this.stream.setTimeout(this.replyTimeout > 0 ? Math.min(this.replyTimeout, UNMATCHED_GRACE) : UNMATCHED_GRACE);
    else this.stream.setTimeout(this.replyTimeout);
  }

  /** Reads on while no command is outstanding (see the class comment). */
  private watchIdle(): void {
    if (this.reading !== undefined || this.broken !== undefined || this.quitting || this.codec.state !== "ready")
      return;
    this.idle = true;
    this.applyTimeout();
    this.readOne().catch(() => undefined);
  }

  /** Opens a passive data connection (the transport's). */
  connectData(request: DataConnectRequest): Promise<ByteStream> {
    return this.stream.connectData(request);
  }

  /** Listens for an active data connection (the transport's). */
  listenData(request: DataListenRequest): Promise<DataListener> {
    return this.stream.listenData(request);
  }

  /** The latest TLS session of the control connection, to resume elsewhere. */
  get tlsSession(): unknown {
    return this.stream.tlsSession;
  }

  /** True when the control connection resumed an earlier TLS session. */
  get tlsResumed(): boolean {
    return this.stream.tlsResumed ?? false;
  }

  private async readEvent(): Promise<void> {
    if (this.broken !== undefined) throw this.broken;
    try {
      for (;;) {
        const event = this.codec.nextEvent();
        if (event.type === "need-data") {
          const chunk = await this.stream.read();
          // The codec keeps what it is given; the transport may reuse its buffer.
          if (chunk === null) this.codec.receiveEof();
          else this.codec.receive(chunk.slice());
          continue;
        }
        if (event.type === "paused") {
          throw new FtpConnectionError("the control connection is waiting for a TLS switch", { code: "ERR_FTP_STATE" });
        }
        if (event.type === "closed") {
          throw new FtpConnectionError("the server closed the control connection", { code: "ERR_FTP_CLOSED" });
        }
        this.hooks.received(event.reply);
        if (event.unsolicited) {
          this.hooks.unsolicited(event.reply);
          // 421: the server is closing the session, whatever was asked.
          if (event.reply.code === 421) throw new ErrorTemp(event.reply);
          // Not while a transfer runs: its final reply may take as long as the data.
          if (this.codec.state === "awaiting-reply") {
            this.unmatched = event.reply;
            this.applyTimeout();
          }
          continue;
        }
        if (this.unmatched !== undefined) {
          this.unmatched = undefined;
          this.applyTimeout();
        }
        const id = event.id ?? GREETING;
        const queued = this.unread.get(id);
        if (queued === undefined) this.unread.set(id, [event]);
        else queued.push(event);
        return;
      }
    } catch (error) {
      if (this.unmatched !== undefined && error instanceof FtpTimeoutError) {
        const pending = this.codec.pending.join(", ");
        throw this.break(
          new ErrorProto(`${pending} got a reply it cannot get, and none after it: ${this.unmatched.text}`, {
            code: "ERR_FTP_UNEXPECTED_REPLY",
            cause: error,
          }),
        );
      }
      throw this.break(error);
    }
  }

  private break(error: unknown): Error {
    if (this.broken === undefined) {
      this.broken = error instanceof Error ? error : new Error(String(error));
      this.stream.destroy(this.broken);
    }
    return this.broken;
  }
}
