/**
 * Text transfers (TYPE A): lines in (retrLines, listings) and lines out (storLines), and the
 * hand-off that lets a listing loop take lines as they arrive.
 */
import { ErrorProto, LineReader } from "@ftplib/protocol";
import { DEFAULT_BLOCKSIZE } from "./ftp-options.js";
import type { Session } from "./session.js";
import { type UploadSource, chunksOf } from "./sources.js";
import { runTransfer } from "./transfer.js";

const CRLF = Uint8Array.of(0x0d, 0x0a);

export interface ReadLinesOptions {
  /** Runs after each received chunk's lines (a listing loop takes them meanwhile). */
  afterChunk?: () => Promise<void>;
  /** The line callback is the user's: calls it makes on the connection are nested ones. */
  usersCallback?: boolean;
  /** MODE Z where the server offers it (default: the client's `modeZ`). */
  modeZ?: boolean | undefined;
}

/**
 * Runs a text transfer (TYPE A): each line, without its line ending, to `onLine`, and after
 * each received chunk's lines `afterChunk`. More than `maxBytes` of text fails with
 * `ERR_FTP_LISTING_TOO_LARGE`: a server that lists without end would fill the memory.
 */
export async function readLines(
  session: Session,
  cmd: string,
  maxBytes: number,
  onLine: (line: string) => unknown,
  options: ReadLinesOptions = {},
): Promise<string> {
  const { afterChunk, usersCallback = false, modeZ } = options;
  const { encoding, maxline } = session.settings;
  await session.setType("A");
  return runTransfer(session, cmd, undefined, "download", { modeZ }, async (conn) => {
    const reader = new LineReader(maxline);
    let size = 0;
    const lines = async () => {
      for (let line = reader.nextLineText(encoding); line !== null; line = reader.nextLineText(encoding)) {
        if (session.settings.debugging > 2) session.settings.debug(`*retr* ${JSON.stringify(line)}`);
        // Awaited only when it returns a promise: no turn of the event loop per line otherwise.
        const done = onLine(line);
        if (done instanceof Promise) await done;
      }
    };
    const drain = async () => {
      await (usersCallback ? session.rule.nested(lines) : lines());
      await afterChunk?.();
    };
    for (let chunk = await conn.read(); chunk !== null; chunk = await conn.read()) {
      size += chunk.length;
      if (size > maxBytes)
        throw new ErrorProto(`listing larger than ${maxBytes} bytes`, { code: "ERR_FTP_LISTING_TOO_LARGE" });
      reader.push(chunk);
      // Drained before the next read: the transport may reuse the chunk's buffer then.
      await drain();
    }
    reader.end();
    await drain();
  });
}

/**
 * Stores in text mode (TYPE A): each line of `source` is sent with CRLF, whatever its ending,
 * gathered into large writes. A line longer than `maxline` raises ErrorProto, as ftplib raises.
 */
export async function storLines(
  session: Session,
  cmd: string,
  source: UploadSource,
  callback?: (line: Uint8Array) => unknown,
): Promise<string> {
  const { encoding, maxline } = session.settings;
  await session.setType("A");
  return runTransfer(session, cmd, undefined, "upload", {}, async (conn) => {
    const reader = new LineReader(maxline);
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
          throw new ErrorProto(`got more than ${maxline} bytes`, { code: "ERR_FTP_LINE_TOO_LONG" });
        }
        if (line === null) return;
        if (used + line.length + 2 > batch.length) await flush();
        if (line.length + 2 > batch.length) batch = new Uint8Array(line.length + 2);
        batch.set(line, used);
        batch.set(CRLF, used + line.length);
        used += line.length + 2;
        if (callback !== undefined) await session.rule.nested(() => callback(line));
      }
    };
    const encode = (text: string) => encoding.encode(text);
    for await (const chunk of chunksOf(source, DEFAULT_BLOCKSIZE, encode, (step) => session.rule.nested(step))) {
      reader.push(chunk);
      await sendLines();
    }
    reader.end();
    await sendLines();
    await flush();
    await conn.end();
  });
}

/**
 * The lines of a text transfer, one received chunk's worth at a time, to a loop that runs
 * while the transfer waits for it: neither runs ahead of the other, so memory holds one chunk.
 * `start` runs the transfer (it takes the turn); while the loop runs the connection is busy
 * (see call-queue.ts): a call from outside would wait for a loop that waits for it.
 */
export async function* lineBatches(
  start: (onLine: (line: string) => void, afterChunk: () => Promise<void>) => Promise<string>,
  setBusy: (busy: boolean) => void,
): AsyncGenerator<readonly string[]> {
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
  const transfer = start((line) => void lines.push(line), handOver);
  const finished = transfer.then(
    () => handoff?.(null),
    () => handoff?.(null),
  );
  setBusy(true);
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
    setBusy(false);
    await finished;
  }
  await transfer.catch((error: unknown) => {
    if (error !== stop) throw error;
  });
}
