/**
 * ReplayTransport: plays a transcript back to the client, with no network. The server's side
 * (replies, data, closes, errors) is played in order; the client's side (commands, connections,
 * data sent, TLS switches) is checked against the transcript, and the first difference fails
 * with the line of the transcript, what it expected and what the client did.
 *
 * Order: each server event waits until every client event written before it has happened (its
 * cause), and until the server events before it on the same connection were taken. Events on
 * different connections are otherwise independent, as on a real network.
 */
import {
  type ByteStream,
  type ConnectRequest,
  type ControlStream,
  type DataConnectRequest,
  type DataListenRequest,
  type DataListener,
  FtpConnectionError,
  FtpTimeoutError,
  FtpTlsError,
  type SocketAddress,
  type Transport,
  isIPv6,
  maskCommand,
} from "@ftplib/protocol";
import { createHash, type Hash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import {
  type LocatedEvent,
  type StreamId,
  type Transcript,
  type TranscriptEvent,
  actorOf,
  commandLines,
  contentBytes,
  formatEvent,
  parseTranscript,
  sha256,
  streamName,
  streamOf,
} from "./transcript.js";

export interface ReplayOptions {
  /** How the transcript is named in messages (default: the file name, or `transcript`). */
  source?: string;
  /** The bytes of data the transcript keeps by length and digest only, by SHA-256. */
  blobs?: (sha256: string, length: number) => Uint8Array | undefined;
  /**
   * Milliseconds to wait, while the client waits for the server and the transcript waits for the
   * client, before failing with a message saying what the transcript expects (default 2000).
   */
  stallTimeout?: number;
  /** Wait the recorded delays before server events (transcripts recorded with timing). */
  pace?: boolean;
  /** Largest chunk handed to a data read (default 64 KiB). */
  chunkSize?: number;
}

/** The client did something the transcript does not expect. */
export class TranscriptMismatchError extends Error {
  constructor(
    /** The transcript's name. */
    readonly source: string,
    /** The line of the transcript where the expected event is (past the last line: nothing more was expected). */
    readonly line: number,
    /** What the transcript expects, as a transcript line. */
    readonly expected: string,
    /** What the client did, as a transcript line. */
    readonly actual: string,
  ) {
    super(
      `${source}:${line}: the client did not follow the transcript\n  expected: ${expected}\n  the client: ${actual}`,
    );
    this.name = "TranscriptMismatchError";
  }
}

const DATA_PORT_BASE = 40000;

/** A transport that replays one recorded session. */
export class ReplayTransport implements Transport<unknown> {
  private readonly engine: ReplayEngine;
  private connected = false;

  constructor(transcript: Transcript | string, options: ReplayOptions = {}) {
    const source = options.source ?? "transcript";
    const parsed = typeof transcript === "string" ? parseTranscript(transcript, source) : transcript;
    this.engine = new ReplayEngine(parsed, { ...options, source });
  }

  /**
   * A replay of the transcript in the file `path`.
   *
   * @returns the transport, to give as `new FTP({ transport })`.
   */
  static async fromFile(path: string, options: ReplayOptions = {}): Promise<ReplayTransport> {
    const source = options.source ?? basename(path);
    return new ReplayTransport(parseTranscript(await readFile(path, "utf8"), source), { ...options, source });
  }

  /** The first difference found, if any (also thrown to the client where it happened). */
  get failure(): TranscriptMismatchError | undefined {
    return this.engine.failure;
  }

  /**
   * Throws the first difference found, or, when there was none, a difference for the first
   * client event or reply of the transcript that the session never reached.
   */
  assertComplete(): void {
    this.engine.assertComplete();
  }

  /**
   * Starts the session the transcript holds; a second connect is a difference.
   *
   * @returns the control connection, played from the transcript.
   */
  async connect(request: ConnectRequest<unknown>): Promise<ControlStream<unknown>> {
    const implicitTls = request.implicitTls !== undefined;
    const actual: TranscriptEvent = { kind: "connect", family: isIPv6(request.host) ? "IPv6" : "IPv4", implicitTls };
    if (this.connected) this.engine.mismatchAtEnd("control", actual);
    this.connected = true;
    const event = this.engine.expectClient(
      "control",
      actual,
      (e) => e.kind === "connect" && e.implicitTls === implicitTls,
    );
    await this.engine.errorAfter(event);
    return new ReplayControlStream(this.engine, (event as { family: "IPv4" | "IPv6" }).family, implicitTls);
  }
}

function errorFrom(event: Extract<TranscriptEvent, { kind: "error" }>): Error {
  const options = { code: event.code };
  if (event.name === "FtpTimeoutError") return new FtpTimeoutError(event.message, options);
  if (event.name === "FtpTlsError") return new FtpTlsError(event.message, options);
  return new FtpConnectionError(event.message, options);
}

/** A pattern for a command with placeholders: `{port}`, `{p1}`, `{p2}` match digits, `{*}` anything. */
function commandPattern(expected: string): RegExp {
  const parts = expected.split(/(\{(?:port|p1|p2|\*)\})/);
  const source = parts
    .map((part, i) => (i % 2 === 0 ? part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") : part === "{*}" ? "[^]*" : "\\d+"))
    .join("");
  return new RegExp(`^${source}$`, "i");
}

/** True when the client's command matches the transcript's: placeholders and masked passwords match loosely. */
export function commandMatches(expected: string, actual: string): boolean {
  if (expected === actual) return true;
  if (maskCommand(actual) === expected) return true;
  return /\{(?:port|p1|p2|\*)\}/.test(expected) && commandPattern(expected).test(actual);
}

class ReplayEngine {
  readonly source: string;
  failure: TranscriptMismatchError | undefined;
  private readonly events: readonly LocatedEvent[];
  private readonly done: boolean[];
  private readonly client = new Map<string, number[]>();
  private readonly server = new Map<string, number[]>();
  private readonly clientPos = new Map<string, number>();
  private readonly serverPos = new Map<string, number>();
  private minClient = 0;
  private wake!: () => void;
  private changed!: Promise<void>;
  private nextPort = DATA_PORT_BASE;
  /** The port given in the latest 227 or 229 reply, where the next passive connection must go. */
  announcedPort: number | undefined;
  private readonly lastLine: number;
  readonly firstDataHost: string | undefined;

  constructor(
    transcript: Transcript,
    readonly options: ReplayOptions & { source: string },
  ) {
    this.source = options.source;
    this.events = transcript.events;
    this.done = this.events.map(() => false);
    this.events.forEach((event, index) => {
      const table = actorOf(event) === "client" ? this.client : this.server;
      const key = streamName(streamOf(event));
      if (!table.has(key)) table.set(key, []);
      table.get(key)!.push(index);
    });
    this.lastLine = (this.events.at(-1)?.line ?? 1) + 1;
    this.firstDataHost = this.events.find((e) => e.kind === "data-connect")?.host as string | undefined;
    this.advance();
    this.renew();
  }

  private renew(): void {
    this.changed = new Promise((resolve) => (this.wake = resolve));
  }

  private signal(): void {
    const wake = this.wake;
    this.renew();
    wake();
  }

  allocatePort(): number {
    return this.nextPort++;
  }

  /** The port given out last. */
  latestPort(): number {
    return this.nextPort - 1;
  }

  private consume(index: number): void {
    this.done[index] = true;
    this.advance();
    this.signal();
  }

  /** Moves `minClient` to the first client event not yet taken. */
  private advance(): void {
    while (
      this.minClient < this.events.length &&
      (this.done[this.minClient] || actorOf(this.events[this.minClient]!) !== "client")
    )
      this.minClient++;
  }

  fail(error: TranscriptMismatchError): TranscriptMismatchError {
    this.failure ??= error;
    this.signal();
    return this.failure;
  }

  /** Records and returns a difference at `event`: the transcript expects it, the client did `actual`. */
  mismatch(event: LocatedEvent, actual: string): TranscriptMismatchError {
    return this.fail(new TranscriptMismatchError(this.source, event.line, describe(event), actual));
  }

  mismatchAtEnd(stream: StreamId, actual: TranscriptEvent | string): never {
    const what = typeof actual === "string" ? actual : describe(actual);
    throw this.fail(
      new TranscriptMismatchError(this.source, this.lastLine, `nothing more on ${streamName(stream)}`, what),
    );
  }

  /** The next client event of `stream`, without taking it. */
  peekClient(stream: StreamId): number | undefined {
    const key = streamName(stream);
    return this.client.get(key)?.[this.clientPos.get(key) ?? 0];
  }

  eventAt(index: number): LocatedEvent {
    return this.events[index]!;
  }

  /** Takes the next client event of `stream` if `matches` accepts it; fails otherwise. */
  expectClient(
    stream: StreamId,
    actual: TranscriptEvent | string,
    matches: (event: LocatedEvent) => boolean,
  ): LocatedEvent {
    if (this.failure) throw this.failure;
    const index = this.peekClient(stream);
    if (index === undefined) this.mismatchAtEnd(stream, actual);
    const event = this.events[index]!;
    if (!matches(event)) throw this.mismatch(event, typeof actual === "string" ? actual : describe(actual));
    const key = streamName(stream);
    this.clientPos.set(key, (this.clientPos.get(key) ?? 0) + 1);
    this.consume(index);
    return event;
  }

  /** When the event right after `event` is an error on its stream, waits for it and throws it. */
  async errorAfter(event: LocatedEvent): Promise<void> {
    const index = this.events.indexOf(event);
    const next = this.events[index + 1];
    if (next?.kind !== "error" || streamName(next.stream) !== streamName(streamOf(event))) return;
    const head = await this.nextServer(next.stream);
    if (head !== next) return;
    this.takeServer(next.stream);
    throw errorFrom(next);
  }

  /**
   * The next server event of `stream` once it may be played, or `undefined` if the stream has
   * none left. Fails if the client waits on it for `stallTimeout` while the transcript waits for
   * the client. A `patient` read (one with no timeout: the client reading the control connection
   * while no reply is due, or while a transfer runs) never stalls, and past the last event it
   * waits, as a server that sends nothing more would, instead of reading an end that the
   * transcript does not have.
   */
  async nextServer(
    stream: StreamId,
    isDestroyed: () => Error | undefined = () => undefined,
    patient = false,
  ): Promise<LocatedEvent | undefined> {
    const key = streamName(stream);
    let timer: NodeJS.Timeout | undefined;
    try {
      for (;;) {
        if (this.failure) throw this.failure;
        const destroyed = isDestroyed();
        if (destroyed) throw destroyed;
        const index = this.server.get(key)?.[this.serverPos.get(key) ?? 0];
        if (index === undefined && !this.hasPendingClient() && !patient) return undefined;
        if (index !== undefined && this.minClient > index) {
          const event = this.events[index]!;
          if (this.options.pace && event.delay) await new Promise((r) => setTimeout(r, event.delay));
          return event;
        }
        if (!patient)
          timer ??= setTimeout(() => this.fail(this.stallError(key, index)), this.options.stallTimeout ?? 2000);
        await this.changed;
      }
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  private hasPendingClient(): boolean {
    return this.minClient < this.events.length;
  }

  private stallError(key: string, index: number | undefined): TranscriptMismatchError {
    const waiting = `waits for the server on ${key}`;
    const expectedIndex = this.minClient < this.events.length ? this.minClient : undefined;
    if (expectedIndex === undefined)
      return new TranscriptMismatchError(this.source, this.lastLine, `nothing more from the server on ${key}`, waiting);
    const expected = this.events[expectedIndex]!;
    const blocked =
      index === undefined ? "" : ` (before line ${this.events[index]!.line}: ${describe(this.events[index]!)})`;
    return new TranscriptMismatchError(this.source, expected.line, `${describe(expected)}${blocked}`, waiting);
  }

  /** Marks the head server event of `stream` as played. */
  takeServer(stream: StreamId): void {
    const key = streamName(stream);
    const pos = this.serverPos.get(key) ?? 0;
    const index = this.server.get(key)![pos]!;
    this.serverPos.set(key, pos + 1);
    this.consume(index);
  }

  assertComplete(): void {
    if (this.failure) throw this.failure;
    const index = this.events.findIndex(
      (event, i) => !this.done[i] && (actorOf(event) === "client" || event.kind === "reply"),
    );
    if (index < 0) return;
    const event = this.events[index]!;
    throw this.mismatch(event, actorOf(event) === "client" ? "nothing more" : "stopped reading");
  }

  /** The bytes of a data event, from the transcript or the `blobs` option. */
  bytesOf(event: Extract<LocatedEvent, { kind: "recv" }>): Uint8Array {
    const bytes = contentBytes(event.content) ?? this.options.blobs?.(event.content.sha256, event.content.length);
    if (bytes === undefined || bytes.length !== event.content.length || sha256(bytes) !== event.content.sha256) {
      throw this.mismatch(event, "needs the content: pass it with the blobs option");
    }
    return bytes;
  }
}

/**
 * Runs a client step at once, as the body of an async method runs: what it throws (a mismatch, a
 * destroyed stream) rejects the promise returned, and never escapes to the caller.
 */
function settle(step: () => void): Promise<void> {
  return new Promise((resolve) => {
    step();
    resolve();
  });
}

/** A Buffer over the same bytes (Buffer.from of a Uint8Array would copy them). */
function view(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** An event as its (first) transcript line. */
function describe(event: TranscriptEvent): string {
  return formatEvent(event)[0]!;
}

function address(family: "IPv4" | "IPv6", port: number, host?: string): SocketAddress {
  return { host: host ?? (family === "IPv6" ? "::1" : "127.0.0.1"), port, family };
}

/** The part of a stream both directions share. */
class ReplayByteStream implements ByteStream {
  protected destroyedBy: Error | undefined;
  private eof = false;
  /** Reads wait as long as it takes (the client set no timeout). */
  private patient = false;
  /** The data event being handed out and how far. */
  private current: { bytes: Uint8Array; offset: number } | undefined;
  /** What the client has sent of the current send event. */
  private sending: { index: LocatedEvent; received: number; hash: Hash } | undefined;
  secure: boolean;

  constructor(
    protected readonly engine: ReplayEngine,
    protected readonly stream: StreamId,
    readonly localAddress: SocketAddress,
    readonly remoteAddress: SocketAddress,
    secure: boolean,
  ) {
    this.secure = secure;
  }

  async read(): Promise<Uint8Array | null> {
    if (this.eof) return null;
    const event = await this.engine.nextServer(this.stream, () => this.destroyedBy, this.patient);
    if (event === undefined) return null;
    return this.play(event);
  }

  protected play(event: LocatedEvent): Uint8Array | null {
    if (event.kind === "eof") {
      this.engine.takeServer(this.stream);
      this.eof = true;
      return null;
    }
    if (event.kind === "error") {
      this.engine.takeServer(this.stream);
      const error = errorFrom(event);
      this.destroyedBy = error;
      throw error;
    }
    if (event.kind !== "recv") throw this.engine.mismatch(event, `a read on ${streamName(this.stream)}`);
    this.current ??= { bytes: this.engine.bytesOf(event), offset: 0 };
    const size = this.engine.options.chunkSize ?? 65536;
    const chunk = this.current.bytes.subarray(this.current.offset, this.current.offset + size);
    this.current.offset += chunk.length;
    if (this.current.offset >= this.current.bytes.length) {
      this.current = undefined;
      this.engine.takeServer(this.stream);
    }
    return chunk;
  }

  write(data: Uint8Array): Promise<void> {
    return settle(() => this.checkWrite(data));
  }

  end(): Promise<void> {
    return settle(() => this.checkEnd());
  }

  /** Takes what the client sent as the transcript's next sends on this stream, or throws a mismatch. */
  private checkWrite(data: Uint8Array): void {
    if (this.destroyedBy) throw this.destroyedBy;
    let offset = 0;
    while (offset < data.length) {
      if (this.sending === undefined) {
        const actual = `data ${this.stream as number} send ${data.length - offset} bytes`;
        const event = this.engine.expectClient(this.stream, actual, (e) => e.kind === "send");
        if (event.kind !== "send" || event.content.length === 0) continue;
        this.sending = { index: event, received: 0, hash: createHash("sha256") };
      }
      const event = this.sending.index as Extract<LocatedEvent, { kind: "send" }>;
      const take = Math.min(data.length - offset, event.content.length - this.sending.received);
      const piece = data.subarray(offset, offset + take);
      const expected = event.content.bytes?.subarray(this.sending.received, this.sending.received + take);
      if (expected !== undefined && Buffer.compare(view(expected), view(piece)) !== 0) {
        const at = this.sending.received + [...piece].findIndex((b, i) => b !== expected[i]);
        throw this.engine.mismatch(event, `data ${this.stream as number} send: different bytes from offset ${at}`);
      }
      this.sending.hash.update(piece);
      this.sending.received += take;
      offset += take;
      if (this.sending.received === event.content.length) {
        const digest = this.sending.hash.digest("hex");
        this.sending = undefined;
        if (digest !== event.content.sha256) {
          throw this.engine.mismatch(
            event,
            `data ${this.stream as number} send ${event.content.length} bytes sha256:${digest}`,
          );
        }
      }
    }
  }

  /** Takes the client's end of this stream as the transcript's next event on it, or throws a mismatch. */
  private checkEnd(): void {
    if (this.destroyedBy) throw this.destroyedBy;
    const actual = `${streamName(this.stream)} end`;
    if (this.sending !== undefined) {
      throw this.engine.mismatch(this.sending.index, `ended after ${this.sending.received} bytes`);
    }
    // Nothing sent where the transcript has an empty send: take it.
    const next = this.engine.peekClient(this.stream);
    if (next !== undefined) {
      const event = this.engine.eventAt(next);
      if (event.kind === "send" && event.content.length === 0)
        this.engine.expectClient(this.stream, actual, () => true);
    }
    this.engine.expectClient(this.stream, actual, (e) => e.kind === "end");
  }

  destroy(reason?: Error): void {
    this.destroyedBy ??=
      reason ?? new FtpConnectionError(`${streamName(this.stream)} destroyed`, { code: "ERR_FTP_CLOSED" });
  }

  /**
   * Replay has no timeouts of its own: a client stuck waiting fails after `stallTimeout`. A read
   * made with no timeout is patient (see `nextServer`).
   */
  setTimeout(ms: number): void {
    this.patient = ms === 0;
  }
}

class ReplayControlStream extends ReplayByteStream implements ControlStream<unknown> {
  readonly tlsSession: unknown = undefined;
  tlsResumed = false;
  private dataStreams = 0;
  /** Bytes of a command not yet ended by CRLF. */
  private readonly unsent: number[] = [];
  private readonly family: "IPv4" | "IPv6";

  constructor(engine: ReplayEngine, family: "IPv4" | "IPv6", implicitTls: boolean) {
    const remote = address(family, 21, engine.firstDataHost);
    super(engine, "control", address(family, 50000), remote, implicitTls);
    this.family = family;
  }

  // Replies are played line by line, with the placeholders of 227 and 229 filled in.
  protected override play(event: LocatedEvent): Uint8Array | null {
    if (event.kind !== "reply") return super.play(event);
    this.engine.takeServer("control");
    if (event.raw !== undefined) return event.raw;
    let text = event.text;
    if (/\{(port|p1|p2)\}/.test(text)) {
      // A passive reply announces a new port; other replies name the latest one (the listener's).
      const passive = /^22[79][ -]/.test(text);
      const port = passive ? this.engine.allocatePort() : this.engine.latestPort();
      if (passive) this.engine.announcedPort = port;
      text = text
        .replace("{port}", String(port))
        .replace("{p1}", String(port >> 8))
        .replace("{p2}", String(port & 255));
    }
    return new TextEncoder().encode(`${text}\r\n`);
  }

  override write(data: Uint8Array): Promise<void> {
    return settle(() => {
      if (this.destroyedBy) throw this.destroyedBy;
      commandLines(this.unsent, data, (line) => {
        this.engine.expectClient(
          "control",
          `> ${maskCommand(line)}`,
          (e) => e.kind === "command" && commandMatches(e.text, line),
        );
      });
    });
  }

  async startTls(): Promise<void> {
    const event = this.engine.expectClient("control", "tls start", (e) => e.kind === "tls-start");
    await this.engine.errorAfter(event);
    this.secure = true;
    this.tlsResumed = event.kind === "tls-start" && event.resumed;
  }

  stopTls(): Promise<void> {
    return settle(() => {
      this.engine.expectClient("control", "tls stop", (e) => e.kind === "tls-stop");
      this.secure = false;
    });
  }

  async connectData(request: DataConnectRequest): Promise<ByteStream> {
    const stream = ++this.dataStreams;
    const actual: TranscriptEvent = {
      kind: "data-connect",
      stream,
      host: request.host,
      port: String(request.port),
      secure: request.secure,
    };
    const event = this.engine.expectClient(stream, actual, (e) => {
      if (e.kind !== "data-connect" || e.host !== request.host || e.secure !== request.secure) return false;
      if (e.port === "{port}")
        return this.engine.announcedPort === undefined || this.engine.announcedPort === request.port;
      return e.port === String(request.port);
    });
    await this.engine.errorAfter(event);
    return new ReplayByteStream(
      this.engine,
      stream,
      address(this.family, 50001 + stream, this.localAddress.host),
      address(this.family, request.port, request.host),
      request.secure,
    );
  }

  async listenData(request: DataListenRequest): Promise<DataListener> {
    const stream = ++this.dataStreams;
    const event = this.engine.expectClient(
      stream,
      { kind: "data-listen", stream, secure: request.secure },
      (e) => e.kind === "data-listen" && e.secure === request.secure,
    );
    await this.engine.errorAfter(event);
    const engine = this.engine;
    const local = address(this.family, engine.allocatePort(), this.localAddress.host);
    const remote = this.remoteAddress;
    let closed = false;
    return {
      address: local,
      async accept(): Promise<ByteStream> {
        const next = await engine.nextServer(stream, () =>
          closed ? new FtpConnectionError("data listener closed", { code: "ERR_FTP_CLOSED" }) : undefined,
        );
        if (next?.kind === "error") {
          engine.takeServer(stream);
          throw errorFrom(next);
        }
        if (next?.kind !== "data-accept") {
          const line = next?.line ?? event.line;
          throw engine.fail(
            new TranscriptMismatchError(
              engine.source,
              line,
              next ? describe(next) : "no connection from the server",
              `data ${stream} accept`,
            ),
          );
        }
        engine.takeServer(stream);
        return new ReplayByteStream(engine, stream, local, { ...remote, port: 20 }, request.secure);
      },
      close() {
        closed = true;
      },
    };
  }
}
