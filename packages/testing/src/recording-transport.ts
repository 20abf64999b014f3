/**
 * RecordingTransport: wraps any transport and writes what the client sees of each session to a
 * transcript, normalised so that two recordings of the same session compare equal (data ports,
 * PORT/EPRT arguments, passwords).
 */
import {
  type ByteStream,
  type ConnectRequest,
  type ControlStream,
  type DataConnectRequest,
  type DataListenRequest,
  type DataListener,
  type SocketAddress,
  type Transport,
  commandVerb,
  isIPv6,
  maskCommand,
} from "@ftplib/protocol";
import { nodeTransport } from "@ftplib/transport";
import { writeFile } from "node:fs/promises";
import {
  type Content,
  ContentBuilder,
  INLINE_LIMIT,
  type StreamId,
  type Transcript,
  type TranscriptEvent,
  actorOf,
  commandLines,
  describeContent,
  formatTranscript,
  parseTranscript,
  printable,
  splitLines,
  streamOf,
  utf8Text,
} from "./transcript.js";

export interface RecordingOptions {
  /** The transport that does the work (default: `nodeTransport` of `@ftplib/transport`). */
  transport?: Transport<unknown>;
  /** Keep passwords (PASS, ACCT) as sent instead of masking them. */
  showPasswords?: boolean;
  /** Write the milliseconds between events (`+12ms` before each line). */
  timing?: boolean;
  /** Data up to this many bytes is written inline (default 4096); longer data by length and digest. */
  inlineLimit?: number;
  /**
   * Rewrites each reply line before it is written (after the built-in normalisation), for what
   * changes between two recordings of one session: a time of day, a count of users. Replay plays
   * the line as rewritten.
   */
  rewriteReply?: (line: string) => string;
  /** Rewrites data received as UTF-8 text (listings) before it is written; replay plays it as rewritten. */
  rewriteData?: (text: string) => string;
  /** Comment lines for the header of each transcript (`server: vsftpd 3.0.3`). */
  comments?: readonly string[];
}

/** A transport that records every session made through it. */
export class RecordingTransport implements Transport<unknown> {
  private readonly inner: Transport<unknown>;
  private readonly options: RecordingOptions;
  private readonly recorders: SessionRecorder[] = [];

  constructor(options: RecordingOptions = {}) {
    this.inner = options.transport ?? nodeTransport;
    this.options = options;
  }

  /**
   * Connects through the wrapped transport and starts recording a session.
   *
   * @returns the control connection, recorded.
   */
  async connect(request: ConnectRequest<unknown>): Promise<ControlStream<unknown>> {
    const recorder = new SessionRecorder(this.options);
    this.recorders.push(recorder);
    const family = isIPv6(request.host) ? "IPv6" : "IPv4";
    try {
      const inner = await this.inner.connect(request);
      recorder.add({
        kind: "connect",
        family: inner.remoteAddress.family,
        implicitTls: request.implicitTls !== undefined,
      });
      return new RecordingControlStream(inner, recorder);
    } catch (error) {
      recorder.add({ kind: "connect", family, implicitTls: request.implicitTls !== undefined });
      recorder.add(errorEvent("control", error));
      throw error;
    }
  }

  /** How many sessions were recorded. */
  get sessions(): number {
    return this.recorders.length;
  }

  /**
   * The text of session `index` (default: the latest).
   *
   * @returns the transcript's text.
   */
  text(index = this.recorders.length - 1): string {
    const recorder = this.recorders[index];
    if (recorder === undefined) throw new RangeError(`no session ${index} was recorded`);
    return recorder.text();
  }

  /**
   * Session `index` (default: the latest) as a parsed transcript.
   *
   * @returns the transcript.
   */
  transcript(index?: number): Transcript {
    return parseTranscript(this.text(index), "recording");
  }

  /** Writes the text of session `index` (default: the latest) to `path`. */
  async save(path: string, index?: number): Promise<void> {
    await writeFile(path, this.text(index));
  }
}

/** `text` with the port number `port` written as `{port}`: a transcript does not depend on it. */
function maskPort(text: string, port: number): string {
  return text.replace(new RegExp(`\\b${port}\\b`, "g"), "{port}");
}

/** An error as written; `port`, a data port named in the message, becomes `{port}`. */
function errorEvent(stream: StreamId, error: unknown, port?: number): TranscriptEvent {
  const e = error as { name?: string; code?: unknown; message?: string };
  let message = e.message ?? String(error);
  if (port !== undefined) message = maskPort(message, port);
  return { kind: "error", stream, name: e.name ?? "Error", code: typeof e.code === "string" ? e.code : "-", message };
}

/** Data received or sent on one stream, gathered until something else happens. */
interface Segment {
  content: ContentBuilder;
  /** Index of its event, filled in when the segment closes. */
  index: number;
}

class SessionRecorder {
  private readonly events: (TranscriptEvent & { delay?: number })[] = [];
  /** The open segment of each data stream, by direction. */
  private readonly segments = { recv: new Map<number, Segment>(), send: new Map<number, Segment>() };
  private last = Date.now();
  private dataStreams = 0;
  private readonly inlineLimit: number;
  /** The port of the client's latest data listener (active mode). */
  listenerPort: number | undefined;

  constructor(readonly options: RecordingOptions) {
    this.inlineLimit = options.inlineLimit ?? INLINE_LIMIT;
  }

  nextStream(): number {
    return ++this.dataStreams;
  }

  add(event: TranscriptEvent): number {
    // A client action ends the data gathered so far, so the transcript keeps causes before effects.
    if (actorOf(event) === "client") {
      for (const stream of [...this.segments.recv.keys()]) this.close("recv", stream);
      for (const stream of [...this.segments.send.keys()])
        if (stream !== ("stream" in event ? event.stream : undefined)) this.close("send", stream);
    }
    const now = Date.now();
    const delay = now - this.last;
    this.last = now;
    this.events.push(this.options.timing ? { ...event, delay } : event);
    return this.events.length - 1;
  }

  /** Gathers the bytes of a data stream in one direction; one event per run. */
  gather(kind: "recv" | "send", stream: number, chunk: Uint8Array): void {
    const segments = this.segments[kind];
    let segment = segments.get(stream);
    if (segment === undefined) {
      // Received text that is rewritten needs all of it.
      const keepAll = kind === "recv" && this.options.rewriteData !== undefined;
      segment = {
        content: new ContentBuilder(this.inlineLimit, keepAll),
        index: this.add({ kind, stream, content: EMPTY }),
      };
      segments.set(stream, segment);
    }
    segment.content.add(chunk);
  }

  /** Ends the run of `stream` in one direction, if any, and writes its content into its event. */
  close(kind: "recv" | "send", stream: number): void {
    const segment = this.segments[kind].get(stream);
    if (segment === undefined) return;
    this.segments[kind].delete(stream);
    this.fill(segment, kind, stream);
  }

  private fill(segment: Segment, kind: "recv" | "send", stream: number): void {
    const rewrite = kind === "recv" ? this.options.rewriteData : undefined;
    // Received text that is rewritten is described as rewritten; anything else as it came.
    const text = rewrite === undefined ? undefined : utf8Text(segment.content.bytes()!);
    const content =
      text === undefined
        ? segment.content.content()
        : describeContent(new TextEncoder().encode(rewrite!(text)), this.inlineLimit);
    const old = this.events[segment.index]!;
    this.events[segment.index] =
      old.delay === undefined ? { kind, stream, content } : { kind, stream, content, delay: old.delay };
  }

  text(): string {
    for (const stream of [...this.segments.recv.keys()]) this.close("recv", stream);
    for (const stream of [...this.segments.send.keys()]) this.close("send", stream);
    const events = canonicalOrder(this.events);
    return formatTranscript({ comments: this.options.comments ?? [], events: events.map((e) => ({ ...e, line: 0 })) });
  }
}

/**
 * Server events that come between the same two client events have no order the client imposes
 * (the 226 of a download and the end of its data race each other), so they are written in one
 * order: the control connection up to its last 1xx reply, then each data connection in turn,
 * then the rest of the control connection. Replay does not depend on their order.
 */
function canonicalOrder<T extends TranscriptEvent>(events: readonly T[]): T[] {
  const out: T[] = [];
  let run: T[] = [];
  const flush = () => {
    const control = run.filter((e) => streamOf(e) === "control");
    let lastPreliminary = -1;
    control.forEach((e, i) => {
      if (e.kind === "reply" && /^1\d\d /.test(e.text)) lastPreliminary = i;
    });
    const data = run.filter((e) => streamOf(e) !== "control");
    const streams = [...new Set(data.map((e) => streamOf(e) as number))].sort((a, b) => a - b);
    out.push(...control.slice(0, lastPreliminary + 1));
    for (const stream of streams) out.push(...data.filter((e) => streamOf(e) === stream));
    out.push(...control.slice(lastPreliminary + 1));
    run = [];
  };
  for (const event of events) {
    if (actorOf(event) === "server") {
      run.push(event);
      continue;
    }
    flush();
    out.push(event);
  }
  flush();
  return out;
}

const EMPTY: Content = { length: 0, sha256: "", form: "digest" };

// --- Normalisation ------------------------------------------------------------------------

/** Command lines as written: passwords masked, data ports replaced by placeholders. */
export function normaliseCommand(line: string, showPasswords = false): string {
  const verb = commandVerb(line);
  if (verb === "PORT") return line.replace(/^(PORT \d+,\d+,\d+,\d+),\d+,\d+$/i, "$1,{p1},{p2}");
  if (verb === "EPRT") return line.replace(/^(EPRT (.)\d\2[^]*?\2)\d+\2$/i, "$1{port}$2");
  return showPasswords ? line : maskCommand(line);
}

/** Reply lines as written: the ports of 227 and 229 replies replaced by placeholders. */
export function normaliseReply(line: string): string {
  if (line.startsWith("229")) return line.replace(/\((.)\1\1\d+\1\)/, "($1$1$1{port}$1)");
  if (line.startsWith("227")) return line.replace(/(\d+,\d+,\d+,\d+),\d+,\d+/, "$1,{p1},{p2}");
  return line;
}

// --- Streams ------------------------------------------------------------------------------

class RecordingByteStream implements ByteStream {
  protected destroyed = false;
  /** The server's end was recorded (a read after it returns null again; that is no new event). */
  private eofSeen = false;

  constructor(
    protected readonly inner: ByteStream,
    protected readonly recorder: SessionRecorder,
    protected readonly stream: StreamId,
  ) {}

  async read(): Promise<Uint8Array | null> {
    let chunk: Uint8Array | null;
    try {
      chunk = await this.inner.read();
    } catch (error) {
      if (!this.destroyed) this.failed(error);
      throw error;
    }
    if (chunk !== null) this.receivedBytes(chunk);
    else if (!this.eofSeen) {
      this.eofSeen = true;
      this.ended();
    }
    return chunk;
  }

  protected receivedBytes(chunk: Uint8Array): void {
    this.recorder.gather("recv", this.stream as number, chunk);
  }

  protected ended(): void {
    if (typeof this.stream === "number") this.recorder.close("recv", this.stream);
    this.recorder.add({ kind: "eof", stream: this.stream });
  }

  protected failed(error: unknown): void {
    if (typeof this.stream === "number") this.recorder.close("recv", this.stream);
    this.recorder.add(errorEvent(this.stream, error));
  }

  write(data: Uint8Array): Promise<void> {
    this.recorder.gather("send", this.stream as number, data);
    return this.inner.write(data);
  }

  async end(): Promise<void> {
    if (typeof this.stream === "number") this.recorder.close("send", this.stream);
    this.recorder.add({ kind: "end", stream: this.stream });
    await this.inner.end();
  }

  destroy(reason?: Error): void {
    if (!this.destroyed && typeof this.stream === "number") this.recorder.close("send", this.stream);
    this.destroyed = true;
    this.inner.destroy(reason);
  }

  setTimeout(ms: number): void {
    this.inner.setTimeout(ms);
  }

  get localAddress(): SocketAddress {
    return this.inner.localAddress;
  }

  get remoteAddress(): SocketAddress {
    return this.inner.remoteAddress;
  }

  get secure(): boolean {
    return this.inner.secure;
  }
}

class RecordingControlStream extends RecordingByteStream implements ControlStream<unknown> {
  private pending: number[] = [];
  private sending: number[] = [];

  constructor(
    private readonly control: ControlStream<unknown>,
    recorder: SessionRecorder,
  ) {
    super(control, recorder, "control");
  }

  // Replies are written line by line; a line split over reads waits for its end.
  protected override receivedBytes(chunk: Uint8Array): void {
    splitLines(this.pending, chunk, (bytes) => this.replyLine(bytes));
  }

  private replyLine(bytes: number[]): void {
    const line = Uint8Array.from(bytes);
    const text = utf8Text(line.subarray(0, -2));
    // A line that is not clean text is kept byte for byte.
    if (text === undefined || !printable(text)) {
      this.recorder.add({ kind: "reply", text: "", raw: line });
      return;
    }
    const rewrite = this.recorder.options.rewriteReply ?? ((l: string) => l);
    let normal = normaliseReply(text);
    // Servers may name the port of the client's listener ("150 Connecting to port 40123").
    const port = this.recorder.listenerPort;
    if (port !== undefined) normal = maskPort(normal, port);
    this.recorder.add({ kind: "reply", text: rewrite(normal) });
  }

  private flushPartial(): void {
    if (this.pending.length > 0)
      this.recorder.add({ kind: "reply", text: "", raw: Uint8Array.from(this.pending.splice(0)) });
  }

  protected override ended(): void {
    this.flushPartial();
    super.ended();
  }

  protected override failed(error: unknown): void {
    this.flushPartial();
    super.failed(error);
  }

  // Commands are written line by line, whatever the writes were.
  override write(data: Uint8Array): Promise<void> {
    commandLines(this.sending, data, (line) => {
      this.recorder.add({ kind: "command", text: normaliseCommand(line, this.recorder.options.showPasswords) });
    });
    return this.control.write(data);
  }

  get tlsSession(): unknown {
    return this.control.tlsSession;
  }

  get tlsResumed(): boolean | undefined {
    return this.control.tlsResumed;
  }

  async startTls(options?: unknown): Promise<void> {
    try {
      await this.control.startTls(options);
    } catch (error) {
      this.recorder.add({ kind: "tls-start", resumed: false });
      this.recorder.add(errorEvent("control", error));
      throw error;
    }
    this.recorder.add({ kind: "tls-start", resumed: this.control.tlsResumed === true });
  }

  async stopTls(): Promise<void> {
    this.recorder.add({ kind: "tls-stop" });
    await this.control.stopTls();
  }

  async connectData(request: DataConnectRequest): Promise<ByteStream> {
    const stream = this.recorder.nextStream();
    this.recorder.add({ kind: "data-connect", stream, host: request.host, port: "{port}", secure: request.secure });
    try {
      return new RecordingByteStream(await this.control.connectData(request), this.recorder, stream);
    } catch (error) {
      this.recorder.add(errorEvent(stream, error, request.port));
      throw error;
    }
  }

  async listenData(request: DataListenRequest): Promise<DataListener> {
    const stream = this.recorder.nextStream();
    this.recorder.add({ kind: "data-listen", stream, secure: request.secure });
    let listener: DataListener;
    try {
      listener = await this.control.listenData(request);
    } catch (error) {
      this.recorder.add(errorEvent(stream, error));
      throw error;
    }
    const recorder = this.recorder;
    recorder.listenerPort = listener.address.port;
    let accepted: Promise<ByteStream> | undefined;
    return {
      get address() {
        return listener.address;
      },
      accept() {
        accepted ??= listener.accept().then(
          (conn) => {
            recorder.add({ kind: "data-accept", stream });
            return new RecordingByteStream(conn, recorder, stream);
          },
          (error: unknown) => {
            recorder.add(errorEvent(stream, error));
            throw error;
          },
        );
        return accepted;
      },
      close: () => listener.close(),
    };
  }
}
