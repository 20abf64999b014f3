/**
 * The control connection as a sans-IO state machine, after h11: bytes in with `receive`, events out
 * with `nextEvent`, commands to bytes with `send`. No I/O, no callbacks, no timers; parsing happens
 * only when an event is asked for.
 */
import { commandVerb, encodeCommand } from "./command.js";
import { type TextEncoding, resolveEncoding } from "./encoding.js";
import { LocalProtocolError, RemoteProtocolError } from "./errors.js";
import { type Reply, replyIs } from "./reply.js";
import { ReplyDecoder } from "./reply-decoder.js";
import { type PendingCommand, TRANSFER_VERBS, canAnswer } from "./reply-rules.js";

export type CodecState =
  /** Waiting for the server's greeting (1xx replies may come first). */
  | "greeting"
  /** No command outstanding: the caller may send one. */
  | "ready"
  /** A command was sent; its reply has not started. */
  | "awaiting-reply"
  /** A 1xx reply came; waiting for the final one. ABOR and STAT may be sent meanwhile. */
  | "awaiting-final"
  /** After 234 to AUTH or 2xx to CCC: the caller switches TLS on or off, then calls `resume()`. */
  | "switching-tls"
  /** The server closed the connection. */
  | "closed"
  /** An error happened; the codec is unusable for good. */
  | "error";

/**
 * What moves the state machine. `final-later` is a final reply to a command sent after the oldest
 * one outstanding (an ABOR that the server answers before the transfer it stops); `unmatched` is a
 * reply that can answer no command outstanding (see reply-rules.ts), which changes nothing.
 * `interim` is a 2xx to a transfer before its 1xx, which some servers send and ftplib skips: the
 * transfer still waits for its 1xx.
 */
type Input =
  | "send"
  | "send-urgent"
  | "preliminary"
  | "interim"
  | "final"
  | "final-more"
  | "final-later"
  | "unmatched"
  | "switch"
  | "eof"
  | "resume";

/**
 * The whole state machine. A missing entry is an error: for `send*` and `resume` the caller's
 * ({@link LocalProtocolError}), for a reply the server's ({@link RemoteProtocolError}).
 */
const TRANSITIONS: Readonly<Record<CodecState, Partial<Record<Input, CodecState>>>> = {
  greeting: { preliminary: "greeting", final: "ready", eof: "closed" },
  // A reply while ready is unsolicited (such as 421 before a server hangs up, or a surplus 226).
  ready: { send: "awaiting-reply", unmatched: "ready", eof: "closed" },
  "awaiting-reply": {
    "send-urgent": "awaiting-reply",
    preliminary: "awaiting-final",
    interim: "awaiting-reply",
    final: "ready",
    "final-more": "awaiting-reply",
    "final-later": "awaiting-reply",
    unmatched: "awaiting-reply",
    switch: "switching-tls",
    eof: "closed",
  },
  "awaiting-final": {
    "send-urgent": "awaiting-final",
    preliminary: "awaiting-final",
    final: "ready",
    "final-more": "awaiting-reply",
    "final-later": "awaiting-final",
    unmatched: "awaiting-final",
    eof: "closed",
  },
  "switching-tls": { resume: "ready" },
  closed: {},
  error: {},
};

/** What a refused `send()` adds, by state. */
const HINTS: Partial<Record<CodecState, string>> = {
  greeting: ": receive() the greeting first",
  "switching-tls": ": switch TLS, then resume()",
};

/** Commands the server must read while a transfer is running (RFC 959 4.1.3). */
const URGENT = new Set(["ABOR", "STAT"]);

/** A reply, with the command it answers (`null` for the greeting or an unsolicited reply). */
export interface ReplyEvent {
  readonly type: "reply";
  readonly reply: Reply;
  /** The verb of the command answered, upper-cased. */
  readonly command: string | null;
  /** Which command it answers: 1 for the first sent, 2 for the next (`null`: none). */
  readonly id: number | null;
  /** False for a 1xx reply, after which the same command gets another. */
  readonly final: boolean;
  /**
   * A reply that answers no command outstanding: sent while none was, or one that none of them
   * can get (a second 226 after a transfer). It must not be taken for any command's answer.
   */
  readonly unsolicited: boolean;
}

/** How a command is sent. */
export interface SendOptions {
  /** A data transfer, whose 1xx reply is preliminary (default: RETR, STOR, LIST and the like). */
  transfer?: boolean;
}

interface Outstanding extends PendingCommand {
  readonly id: number;
  /** A NOOP sent after ABOR: its reply says that every command before it has been answered. */
  readonly marker: boolean;
}

/** The server closed the connection between replies. */
export interface ClosedEvent {
  readonly type: "closed";
  /** Verbs of commands that got no final reply. */
  readonly unanswered: readonly string[];
}

/** More bytes are needed before another event. */
export const NEED_DATA = Object.freeze({ type: "need-data" as const });
/** Paused for a TLS switch: take `trailingData`, switch, then `resume()`. */
export const PAUSED = Object.freeze({ type: "paused" as const });

export type CodecEvent = ReplyEvent | ClosedEvent | typeof NEED_DATA | typeof PAUSED;

export interface ControlCodecOptions {
  /** The longest reply line, counting CRLF (default 8192). */
  maxLine?: number;
  /** The largest multi-line reply (default 1 MiB). */
  maxReplySize?: number;
  /** Encoding of commands and replies (default UTF-8). */
  encoding?: string | TextEncoding;
}

export class ControlCodec {
  readonly encoding: TextEncoding;
  private currentState: CodecState = "greeting";
  private readonly decoder: ReplyDecoder;
  /** Commands awaiting their final reply, oldest first. */
  private outstanding: Outstanding[] = [];
  /** Commands sent so far: the id of the latest. */
  private sentCount = 0;
  private failure: unknown = undefined;
  /** ABOR went out while a transfer was outstanding: a NOOP may follow as a marker, until all is answered. */
  private aborting = false;
  private trailing: { data: Uint8Array; closed: boolean } | undefined;
  private eofReceived = false;

  constructor(options: ControlCodecOptions = {}) {
    this.encoding = resolveEncoding(options.encoding);
    this.decoder = new ReplyDecoder({ ...options, encoding: this.encoding });
  }

  get state(): CodecState {
    return this.currentState;
  }

  /** Verbs of the commands sent and not yet answered with a final reply. */
  get pending(): readonly string[] {
    return this.outstanding.map((command) => command.verb);
  }

  /** The id of the command sent last (1 for the first; 0 before any). */
  get lastSent(): number {
    return this.sentCount;
  }

  /** Ids of the commands awaiting their final reply, oldest first. */
  get outstandingIds(): readonly number[] {
    return this.outstanding.map((command) => command.id);
  }

  /**
   * True while the command `id` awaits its final reply.
   *
   * @returns true while the command is unanswered.
   */
  isOutstanding(id: number): boolean {
    return this.outstanding.some((command) => command.id === id);
  }

  get maxLine(): number {
    return this.decoder.maxLine;
  }

  /**
   * True when the state allows sending `line` now (ABOR and STAT are allowed during a transfer).
   *
   * @returns true when `send(line)` would succeed now.
   */
  canSend(line: string): boolean {
    return TRANSITIONS[this.currentState][this.sendInput(commandVerb(line))] !== undefined;
  }

  /**
   * ABOR and STAT may be sent while replies are outstanding (RFC 959 4.1.3); so may a NOOP after
   * ABOR, as a marker: servers answer an aborted transfer and the ABOR with two replies or with
   * one (proftpd, for STOR), and the NOOP's 200 says that both are done.
   */
  private sendInput(verb: string): Input {
    if (this.outstanding.length === 0) return "send";
    if (URGENT.has(verb)) return "send-urgent";
    if (verb === "NOOP" && this.aborting) return "send-urgent";
    return "send";
  }

  /**
   * Validates and encodes a command line, returning the bytes to write. A command that is invalid
   * (CR, LF or NUL, no verb, unencodable text) or that the state does not allow now (before the
   * greeting, while a reply is awaited, during a TLS switch, after the close) throws
   * {@link LocalProtocolError} and changes nothing: no byte was produced, so the conversation is
   * as it was (`canSend(line)` asks first).
   *
   * @returns the command's bytes, CRLF included, to write to the server.
   */
  send(line: string, options: SendOptions = {}): Uint8Array {
    this.throwIfFailed();
    const bytes = encodeCommand(line, this.encoding);
    const verb = commandVerb(line);
    const marker = verb === "NOOP" && this.aborting && this.outstanding.length > 0;
    this.transition(this.sendInput(verb), `cannot send ${verb}`);
    if (verb === "ABOR" && this.outstanding.length > 0) this.aborting = true;
    const transfer = options.transfer ?? TRANSFER_VERBS.has(verb);
    this.outstanding.push({ id: ++this.sentCount, verb, transfer, started: false, marker });
    return bytes;
  }

  /** Feeds bytes from the server. The codec keeps a reference: don't change them afterwards. */
  receive(bytes: Uint8Array): void {
    this.throwIfFailed();
    if (this.eofReceived) throw this.fail(new LocalProtocolError("data received after EOF", "ERR_FTP_AFTER_EOF"));
    if (this.trailing !== undefined) {
      this.trailing = { data: concat(this.trailing.data, bytes), closed: false };
      return;
    }
    this.decoder.receive(bytes);
  }

  /** Marks that the server closed its side. */
  receiveEof(): void {
    this.throwIfFailed();
    this.eofReceived = true;
    if (this.trailing !== undefined) this.trailing = { data: this.trailing.data, closed: true };
    else this.decoder.receiveEof();
  }

  /**
   * The next event: a {@link ReplyEvent}, a {@link ClosedEvent}, {@link NEED_DATA}, or
   * {@link PAUSED}. Throws {@link RemoteProtocolError} for malformed input.
   *
   * @returns the event: a reply, the close, `NEED_DATA` (receive more bytes) or `PAUSED` (switch TLS, then
   *   `resume()`).
   */
  nextEvent(): CodecEvent {
    this.throwIfFailed();
    if (this.currentState === "switching-tls") return PAUSED;
    if (this.currentState === "closed") return { type: "closed", unanswered: this.pending };
    let reply: Reply | null;
    try {
      reply = this.decoder.next();
    } catch (error) {
      throw this.fail(error);
    }
    if (reply === null) {
      if (!this.decoder.done) return NEED_DATA;
      this.transition("eof", "EOF");
      return { type: "closed", unanswered: this.pending };
    }
    if (this.currentState === "greeting") {
      this.transition(reply.code < 200 ? "preliminary" : "final", `reply ${reply.code}`);
      return { type: "reply", reply, command: null, id: null, final: reply.code >= 200, unsolicited: false };
    }
    // The oldest command that can get this reply gets it (reply-rules.ts).
    const markerPending = this.outstanding.some((command) => command.marker);
    const index = this.outstanding.findIndex((command) => canAnswer(command, reply.code, markerPending));
    const command = this.outstanding[index];
    if (command === undefined) {
      this.transition("unmatched", `reply ${reply.code}`);
      return { type: "reply", reply, command: null, id: null, final: true, unsolicited: true };
    }
    const input = this.inputFor(reply, command, index);
    this.transition(input, `reply ${reply.code}`);
    if (input === "preliminary") {
      command.started = true;
    } else if (input === "interim") {
      // Still outstanding: its 1xx and final reply follow.
    } else if (command.marker) {
      // The NOOP sent after ABOR: the server has answered every command before it, some of them
      // with one reply for two (proftpd answers an aborted STOR and its ABOR with one).
      this.outstanding = this.outstanding.slice(index + 1);
    } else {
      this.outstanding.splice(index, 1);
    }
    if (this.outstanding.length === 0) this.aborting = false;
    if (input === "switch") {
      const data = this.decoder.takeBuffered();
      this.trailing = { data, closed: this.eofReceived };
    }
    const final = input !== "preliminary" && input !== "interim";
    return { type: "reply", reply, command: command.verb, id: command.id, final, unsolicited: false };
  }

  /**
   * The events available now, for a `for...of` loop: the replies framed so far, and the close
   * (once). The loop ends where the caller has to act, which `nextEvent()` would instead answer
   * again and again: at {@link NEED_DATA} (receive more bytes), at {@link PAUSED} (`state` is
   * `switching-tls`: take `trailingData`, switch TLS, call `resume()`, loop again), and after the
   * {@link ClosedEvent}. Malformed input throws {@link RemoteProtocolError}, as `nextEvent()` does.
   *
   * @returns an iterator of reply events and, at the end of the connection, its closed event.
   */
  *events(): Generator<ReplyEvent | ClosedEvent, void, undefined> {
    for (;;) {
      const event = this.nextEvent();
      if (event.type === "need-data" || event.type === "paused") return;
      yield event;
      if (event.type === "closed") return;
    }
  }

  /**
   * While paused: bytes received after the 234 (or CCC's 2xx) reply, which the caller must not
   * treat as part of the new layer (data sent in the clear before a TLS handshake is an injection
   * attempt), and whether the server closed.
   */
  get trailingData(): { readonly data: Uint8Array; readonly closed: boolean } {
    if (this.trailing === undefined) {
      throw new LocalProtocolError("trailingData exists only while paused", "ERR_FTP_STATE");
    }
    return this.trailing;
  }

  /**
   * Continues after the TLS switch; bytes received from now on belong to the new layer. Called
   * when the codec is not paused, it throws {@link LocalProtocolError} and changes nothing.
   */
  resume(): void {
    this.throwIfFailed();
    this.transition("resume", "cannot resume");
    const closed = this.trailing?.closed ?? false;
    this.trailing = undefined;
    this.eofReceived = false;
    if (closed) this.receiveEof();
  }

  private inputFor(reply: Reply, command: Outstanding, index: number): Input {
    if (reply.code < 200 && command.transfer) {
      // pure-ftpd, when ABOR cuts a transfer short, may close it with a second 1xx (its transfer
      // statistics) instead of a 4xx or 2xx: that reply ends the aborted command.
      const abortedTransfer = command.started && this.outstanding[index + 1]?.verb === "ABOR";
      if (!abortedTransfer) return "preliminary";
    } else if (command.transfer && !command.started && index === 0 && reply.code < 300) {
      return "interim";
    } else if ((command.verb === "AUTH" && reply.code === 234) || (command.verb === "CCC" && replyIs(reply, "2xx"))) {
      return "switch";
    }
    if (index > 0)
      return command.marker ? (this.outstanding.length > index + 1 ? "final-more" : "final") : "final-later";
    return this.outstanding.length > 1 ? "final-more" : "final";
  }

  /**
   * Moves the state machine. A move the state does not allow is the caller's mistake for `send*`
   * and `resume`, made before anything changed: refused, and the codec stays as it was. For a reply
   * it is the server's, and the codec fails for good.
   */
  private transition(input: Input, what: string): void {
    const next = TRANSITIONS[this.currentState][input];
    if (next === undefined) {
      const message = `${what} in state ${this.currentState}`;
      if (input === "send" || input === "send-urgent" || input === "resume") {
        throw new LocalProtocolError(message + (HINTS[this.currentState] ?? ""), "ERR_FTP_STATE");
      }
      throw this.fail(new RemoteProtocolError(message, "ERR_FTP_UNEXPECTED_REPLY"));
    }
    this.currentState = next;
  }

  private fail(error: unknown): unknown {
    this.currentState = "error";
    this.failure = error;
    return error;
  }

  private throwIfFailed(): void {
    if (this.currentState === "error") throw this.failure;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
