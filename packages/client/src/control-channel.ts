/**
 * The control connection as the client uses it: the codec driven over a transport stream. Replies
 * are handed out strictly in order, one reader at a time, so a transfer waiting for its final
 * reply and an ABOR waiting for its own never take each other's.
 */
import {
  type ControlStream,
  FtpConnectionError,
  LocalProtocolError,
  commandVerb,
  type ControlCodec,
  type Reply,
  type ReplyEvent,
} from "@ftplib/protocol";

export interface ControlChannelHooks {
  /** A command was sent (the line as given, unmasked: the hook masks). */
  sent(line: string): void;
  /** A reply arrived. */
  received(reply: Reply): void;
}

export class ControlChannel {
  readonly stream: ControlStream;
  readonly codec: ControlCodec;
  private readonly hooks: ControlChannelHooks;
  private replyChain: Promise<unknown> = Promise.resolve();
  private broken: Error | undefined;

  constructor(stream: ControlStream, codec: ControlCodec, hooks: ControlChannelHooks) {
    this.stream = stream;
    this.codec = codec;
    this.hooks = hooks;
  }

  /** Sends a command line. Invalid lines throw before anything is written. */
  async send(line: string): Promise<void> {
    if (this.broken !== undefined) throw this.broken;
    if (!this.codec.canSend(line)) {
      // Refused before the codec sees it, so that a misplaced call leaves the connection usable.
      throw new LocalProtocolError(
        `cannot send ${commandVerb(line)} now (${this.codec.state}): is an ftplib call nested inside another's callback?`,
        "ERR_FTP_BUSY",
      );
    }
    const bytes = this.codec.send(line);
    this.hooks.sent(line);
    try {
      await this.stream.write(bytes);
    } catch (error) {
      throw this.break(error);
    }
  }

  /** The next reply, after every reply asked for before it. */
  nextReply(): Promise<Reply> {
    return this.queued(() => this.readReply());
  }

  /** The next final reply (skipping 1xx ones), after every reply asked for before it. */
  async nextFinalReply(): Promise<Reply> {
    return (await this.nextFinalEvent()).reply;
  }

  /** As `nextFinalReply`, with the command the reply answers. */
  nextFinalEvent(): Promise<ReplyEvent> {
    return this.queued(async () => {
      for (;;) {
        const event = await this.readEvent();
        if (event.final) return event;
      }
    });
  }

  private queued<T>(read: () => Promise<T>): Promise<T> {
    const next = this.replyChain.then(read);
    this.replyChain = next.catch(() => undefined);
    return next;
  }

  /** Ends the connection now. Idempotent. */
  destroy(reason?: Error): void {
    this.break(reason ?? new FtpConnectionError("connection closed", { code: "ERR_FTP_CLOSED" }));
  }

  get closed(): boolean {
    return this.broken !== undefined;
  }

  private async readReply(): Promise<Reply> {
    return (await this.readEvent()).reply;
  }

  private async readEvent(): Promise<ReplyEvent> {
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
        if (event.type === "paused") return this.pausedError();
        if (event.type === "closed") {
          throw new FtpConnectionError("the server closed the control connection", { code: "ERR_FTP_CLOSED" });
        }
        this.hooks.received(event.reply);
        return event;
      }
    } catch (error) {
      throw this.break(error);
    }
  }

  private pausedError(): never {
    throw new FtpConnectionError("the control connection is waiting for a TLS switch", { code: "ERR_FTP_STATE" });
  }

  private break(error: unknown): Error {
    if (this.broken === undefined) {
      this.broken = error instanceof Error ? error : new Error(String(error));
      this.stream.destroy(this.broken);
    }
    return this.broken;
  }
}
