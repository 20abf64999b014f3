/**
 * Transcripts: what went over the control and data connections of one FTP session, as seen by
 * the client, in a text format that diffs well. The format is specified in the README; this file
 * turns it into events and back.
 */
import { createHash } from "node:crypto";

/** `"control"`, or the number of a data connection (1 for the first the client opened). */
export type StreamId = "control" | number;

/** Bytes that went over a data connection, with the form they are written in. */
export interface Content {
  readonly length: number;
  /** Hex SHA-256 of the bytes. */
  readonly sha256: string;
  /** The bytes, unless only their length and digest were kept. */
  readonly bytes?: Uint8Array;
  /** How they are written: text lines (CRLF or LF endings), base64, the documented pattern, or length and digest only. */
  readonly form: "text-crlf" | "text-lf" | "base64" | "pattern" | "digest";
}

/** Who acts: the client (replay checks it) or the server (replay plays it). */
export type Actor = "client" | "server";

export type TranscriptEvent =
  | { kind: "connect"; family: "IPv4" | "IPv6"; implicitTls: boolean }
  | { kind: "command"; text: string }
  | { kind: "reply"; text: string; raw?: Uint8Array }
  | { kind: "tls-start"; resumed: boolean }
  | { kind: "tls-stop" }
  | { kind: "data-connect"; stream: number; host: string; port: string; secure: boolean }
  | { kind: "data-listen"; stream: number; secure: boolean }
  | { kind: "data-accept"; stream: number }
  | { kind: "recv"; stream: number; content: Content }
  | { kind: "send"; stream: number; content: Content }
  | { kind: "eof"; stream: StreamId }
  | { kind: "end"; stream: StreamId }
  | { kind: "error"; stream: StreamId; name: string; code: string; message: string };

/** An event with where it stands in the transcript file. */
export type LocatedEvent = TranscriptEvent & {
  /** The 1-based line of the file where the event starts. */
  readonly line: number;
  /** Milliseconds since the previous event, when the transcript was recorded with timing. */
  readonly delay?: number;
};

export interface Transcript {
  /** Comment lines of the header (`# key: value`), without the `# `. */
  readonly comments: readonly string[];
  readonly events: readonly LocatedEvent[];
}

export const TRANSCRIPT_HEADER = "ftplib-transcript 1";

/** Data longer than this is written as length and digest, not inline. */
export const INLINE_LIMIT = 4096;

const SERVER_KINDS = new Set<TranscriptEvent["kind"]>(["reply", "data-accept", "recv", "eof", "error"]);

export function actorOf(event: TranscriptEvent): Actor {
  return SERVER_KINDS.has(event.kind) ? "server" : "client";
}

export function streamOf(event: TranscriptEvent): StreamId {
  return "stream" in event ? event.stream : "control";
}

export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

const patternByte = (i: number) => (i * 7 + (i >> 8)) & 255;

/**
 * The pattern of generated test files: byte `i` is `(i * 7 + (i >> 8)) & 255`. A file made of it
 * is written as its length alone and regenerated on replay.
 *
 * @returns `length` bytes of the pattern.
 */
export function patternBytes(length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = patternByte(i);
  return bytes;
}

/** Whether `bytes` are the pattern's from byte `offset` on (none: true). */
function followsPattern(bytes: Uint8Array, offset = 0): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== patternByte(offset + i)) return false;
  return true;
}

/**
 * Adds the bytes a client wrote on the control connection to `pending`, and hands out each
 * command line it completes, without its CRLF. A line is decoded whole, so a character split
 * across writes reads the same in a recording and in its replay.
 */
export function commandLines(pending: number[], bytes: Uint8Array, line: (text: string) => void): void {
  splitLines(pending, bytes, (whole) => line(Buffer.from(whole).subarray(0, -2).toString("utf8")));
}

/** Adds `bytes` to `pending`, handing each line completed (CRLF included) to `line`. */
export function splitLines(pending: number[], bytes: Uint8Array, line: (bytes: number[]) => void): void {
  for (const byte of bytes) {
    pending.push(byte);
    const n = pending.length;
    if (n >= 2 && pending[n - 2] === 13 && byte === 10) line(pending.splice(0));
  }
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/** The bytes as UTF-8 text, or `undefined` when they are not valid UTF-8. */
export function utf8Text(bytes: Uint8Array): string | undefined {
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Printable text: no control characters but tab (line ends are handled apart). */
export function printable(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return false;
  }
  return true;
}

function textLines(bytes: Uint8Array, ending: "\r\n" | "\n"): string[] | undefined {
  const text = utf8Text(bytes);
  if (text === undefined || !text.endsWith(ending)) return undefined;
  const lines = text.slice(0, -ending.length).split(ending);
  return lines.every(printable) ? lines : undefined;
}

/** Describes bytes in the form they will be written in, keeping them when they are written inline. */
export function describeContent(bytes: Uint8Array, inlineLimit = INLINE_LIMIT): Content {
  const common = { length: bytes.length, sha256: sha256(bytes) };
  if (bytes.length > 0 && followsPattern(bytes)) return { ...common, form: "pattern" };
  if (bytes.length > inlineLimit) return { ...common, form: "digest" };
  const copy = Uint8Array.from(bytes);
  if (textLines(bytes, "\r\n") !== undefined) return { ...common, bytes: copy, form: "text-crlf" };
  if (textLines(bytes, "\n") !== undefined) return { ...common, bytes: copy, form: "text-lf" };
  return { ...common, bytes: copy, form: "base64" };
}

/**
 * Content described as its bytes arrive: the digest and the pattern check run chunk by chunk, and
 * the bytes are kept only while they could still be written inline (all of them with `keepAll`).
 * A long transfer is never held whole.
 */
export class ContentBuilder {
  private readonly hash = createHash("sha256");
  private chunks: Uint8Array[] | undefined = [];
  private length = 0;
  private pattern = true;

  constructor(
    private readonly inlineLimit = INLINE_LIMIT,
    private readonly keepAll = false,
  ) {}

  /** Adds a chunk, which may be reused by its owner afterwards: what is kept is a copy. */
  add(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.pattern &&= followsPattern(chunk, this.length);
    this.length += chunk.length;
    if (this.chunks === undefined) return;
    if (this.keepAll || this.length <= this.inlineLimit) this.chunks.push(Uint8Array.from(chunk));
    else this.chunks = undefined;
  }

  /** Every byte, when they were kept. */
  bytes(): Uint8Array | undefined {
    return this.chunks === undefined ? undefined : Buffer.concat(this.chunks);
  }

  content(): Content {
    const bytes = this.bytes();
    if (bytes !== undefined) return describeContent(bytes, this.inlineLimit);
    const common = { length: this.length, sha256: this.hash.digest("hex") };
    return { ...common, form: this.pattern ? "pattern" : "digest" };
  }
}

/** The bytes of `content`, when the transcript has them or can make them. */
export function contentBytes(content: Content): Uint8Array | undefined {
  if (content.bytes !== undefined) return content.bytes;
  if (content.form === "pattern") return patternBytes(content.length);
  return undefined;
}

// --- Writing ------------------------------------------------------------------------------

/** How a stream is named in a transcript line: `control` or `data <n>`. */
export function streamName(stream: StreamId): string {
  return stream === "control" ? "control" : `data ${stream}`;
}

function contentLines(head: string, content: Content): string[] {
  const bytes = content.bytes;
  switch (content.form) {
    case "text-crlf":
    case "text-lf": {
      const ending = content.form === "text-crlf" ? "\r\n" : "\n";
      const lines = textLines(bytes!, ending)!;
      return [
        `${head} text ${content.form === "text-crlf" ? "crlf" : "lf"} ${lines.length} lines`,
        ...lines.map((line) => `| ${line}`),
      ];
    }
    case "base64": {
      const encoded = Buffer.from(bytes!.buffer, bytes!.byteOffset, bytes!.byteLength).toString("base64");
      const lines: string[] = [];
      for (let i = 0; i < encoded.length; i += 76) lines.push(`= ${encoded.slice(i, i + 76)}`);
      return [`${head} ${content.length} bytes base64`, ...lines];
    }
    case "pattern":
      return [`${head} ${content.length} bytes pattern sha256:${content.sha256}`];
    case "digest":
      return [`${head} ${content.length} bytes sha256:${content.sha256}`];
  }
}

/** The lines of one event (several for inline data). */
export function formatEvent(event: TranscriptEvent): string[] {
  switch (event.kind) {
    case "connect":
      return [`connect ${event.family === "IPv6" ? "ipv6" : "ipv4"}${event.implicitTls ? " implicit-tls" : ""}`];
    case "command":
      return [`> ${event.text}`];
    case "reply":
      if (event.raw !== undefined) return [`<= ${Buffer.from(event.raw).toString("base64")}`];
      return [`< ${event.text}`];
    case "tls-start":
      return [`tls start${event.resumed ? " resumed" : ""}`];
    case "tls-stop":
      return ["tls stop"];
    case "data-connect":
      return [`data ${event.stream} connect ${event.host} ${event.port}${event.secure ? " tls" : ""}`];
    case "data-listen":
      return [`data ${event.stream} listen${event.secure ? " tls" : ""}`];
    case "data-accept":
      return [`data ${event.stream} accept`];
    case "recv":
    case "send":
      return contentLines(`data ${event.stream} ${event.kind}`, event.content);
    case "eof":
    case "end":
      return [`${streamName(event.stream)} ${event.kind}`];
    case "error":
      return [
        `${streamName(event.stream)} error ${event.name} ${event.code} ${event.message.replace(/[\r\n]+/g, " ")}`,
      ];
  }
}

/**
 * The text of a transcript.
 *
 * @returns the text, as `parseTranscript` reads it.
 */
export function formatTranscript(transcript: Transcript): string {
  const out = [TRANSCRIPT_HEADER, ...transcript.comments.map((c) => `# ${c}`)];
  for (const event of transcript.events) {
    const lines = formatEvent(event);
    if (event.delay !== undefined) lines[0] = `+${event.delay}ms ${lines[0]}`;
    out.push(...lines);
  }
  return `${out.join("\n")}\n`;
}

// --- Reading ------------------------------------------------------------------------------

/** A transcript that cannot be read: the line and what is wrong with it. */
export class TranscriptSyntaxError extends Error {
  constructor(
    readonly source: string,
    readonly line: number,
    problem: string,
  ) {
    super(`${source}:${line}: ${problem}`);
    this.name = "TranscriptSyntaxError";
  }
}

const encoder = new TextEncoder();

/**
 * Reads the text of a transcript; `source` names it in errors.
 *
 * @returns the transcript; {@link TranscriptSyntaxError} for text that is not one.
 */
export function parseTranscript(text: string, source = "transcript"): Transcript {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  if (lines[0] !== TRANSCRIPT_HEADER)
    throw new TranscriptSyntaxError(source, 1, `expected "${TRANSCRIPT_HEADER}" first`);
  const comments: string[] = [];
  const events: LocatedEvent[] = [];
  let i = 1;
  /** The line of the event being read: problems in its following lines are reported there. */
  let eventLine = 1;
  const fail = (problem: string): never => {
    throw new TranscriptSyntaxError(source, eventLine, problem);
  };
  /** Lines after the event's own that start with `prefix`. */
  const following = (prefix: string): string[] => {
    const taken: string[] = [];
    while (i + 1 < lines.length && lines[i + 1]!.startsWith(prefix)) taken.push(lines[++i]!.slice(prefix.length));
    return taken;
  };
  const readContent = (words: string[]): Content => {
    if (words[0] === "text") {
      const ending =
        words[1] === "crlf"
          ? "\r\n"
          : words[1] === "lf"
            ? "\n"
            : fail(`text must be "crlf" or "lf", not "${words[1]}"`);
      const count = Number(words[2]);
      const body = following("| ");
      if (body.length !== count) fail(`${count} text lines announced, ${body.length} found`);
      const bytes = encoder.encode(body.map((l) => l + ending).join(""));
      return { length: bytes.length, sha256: sha256(bytes), bytes, form: ending === "\r\n" ? "text-crlf" : "text-lf" };
    }
    const length = Number(words[0]);
    if (!Number.isInteger(length) || length < 0 || words[1] !== "bytes") fail("expected <length> bytes, or text");
    if (words[2] === "base64") {
      const bytes = new Uint8Array(Buffer.from(following("= ").join(""), "base64"));
      if (bytes.length !== length) fail(`${length} bytes announced, ${bytes.length} in the base64 lines`);
      return { length, sha256: sha256(bytes), bytes, form: "base64" };
    }
    const pattern = words[2] === "pattern";
    const digest = words[pattern ? 3 : 2] ?? "";
    if (!/^sha256:[0-9a-f]{64}$/.test(digest)) fail("expected sha256:<64 hex digits>");
    if (pattern && sha256(patternBytes(length)) !== digest.slice(7)) fail("the digest is not the pattern's");
    return { length, sha256: digest.slice(7), form: pattern ? "pattern" : "digest" };
  };
  for (; i < lines.length; i++) {
    let line = lines[i]!;
    if (line.startsWith("#")) {
      if (events.length === 0) comments.push(line.replace(/^# ?/, ""));
      continue;
    }
    if (line.trim() === "") continue;
    const lineNumber = i + 1;
    eventLine = lineNumber;
    let delay: number | undefined;
    const timed = /^\+(\d+)ms /.exec(line);
    if (timed) {
      delay = Number(timed[1]);
      line = line.slice(timed[0].length);
    }
    const event = ((): TranscriptEvent => {
      if (line.startsWith("> ")) return { kind: "command", text: line.slice(2) };
      if (line.startsWith("< ")) return { kind: "reply", text: line.slice(2) };
      if (line.startsWith("<= ")) {
        const raw = new Uint8Array(Buffer.from(line.slice(3), "base64"));
        return { kind: "reply", text: Buffer.from(raw).toString("latin1"), raw };
      }
      const words = line.split(" ");
      if (words[0] === "connect") {
        const family = words[1] === "ipv6" ? "IPv6" : words[1] === "ipv4" ? "IPv4" : fail(`connect needs ipv4 or ipv6`);
        return { kind: "connect", family, implicitTls: words[2] === "implicit-tls" };
      }
      if (words[0] === "tls") {
        if (words[1] === "start") return { kind: "tls-start", resumed: words[2] === "resumed" };
        if (words[1] === "stop") return { kind: "tls-stop" };
        return fail(`unknown tls event "${words[1]}"`);
      }
      let stream: StreamId;
      let rest: string[];
      if (words[0] === "control") {
        stream = "control";
        rest = words.slice(1);
      } else if (words[0] === "data" && /^[1-9]\d*$/.test(words[1] ?? "")) {
        stream = Number(words[1]);
        rest = words.slice(2);
      } else {
        return fail(`unknown event "${line}"`);
      }
      const what = rest[0];
      if (what === "eof" || what === "end") return { kind: what, stream };
      if (what === "error")
        return { kind: "error", stream, name: rest[1] ?? "", code: rest[2] ?? "", message: rest.slice(3).join(" ") };
      if (stream === "control") return fail(`unknown control event "${what}"`);
      if (what === "connect")
        return { kind: "data-connect", stream, host: rest[1] ?? "", port: rest[2] ?? "", secure: rest[3] === "tls" };
      if (what === "listen") return { kind: "data-listen", stream, secure: rest[1] === "tls" };
      if (what === "accept") return { kind: "data-accept", stream };
      if (what === "recv" || what === "send") return { kind: what, stream, content: readContent(rest.slice(1)) };
      return fail(`unknown data event "${what}"`);
    })();
    events.push(delay === undefined ? { ...event, line: lineNumber } : { ...event, line: lineNumber, delay });
  }
  return { comments, events };
}
