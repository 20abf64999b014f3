/**
 * One file over several connections of a pool: the file is split into segments, each fetched on
 * its own connection (REST at its offset, RETR, and a stop at its end) and written in place into
 * one temporary file, renamed only when every segment is complete and the size matches.
 *
 * A segment stops at its end with RANG (draft-bryan-ftp-range, proftpd's FEAT `RANG STREAM`)
 * where the server offers it, so the server sends only that range; elsewhere by closing its data
 * connection and sending ABOR once its last byte is written (`abort()` on a transfer opened with
 * `ntransferCmd`, which reads both replies, so the connection stays in step for the pool). The
 * last segment just ends with the file.
 *
 * With `resume`, the part is `<local>.part-segments` (a name of its own: it has holes where
 * segments are missing, and one stream must never append to it), and the segments' progress is
 * kept in `<local>.part-segments.json` (replaced atomically, and only after the bytes it counts
 * are written), so a download killed at any moment continues with only what is missing. One
 * stream's `<local>.part` is taken over as the file's first bytes; a segmented part that one
 * stream continues is first cut to its gapless first bytes.
 */
import { randomBytes } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import { open, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import type { Writable } from "node:stream";
import { ErrorPerm, ErrorTemp, FtpConnectionError } from "@ftplib/protocol";
import { connectionLost } from "./errors.js";
import {
  type DownloadOptions,
  checkTransferOptions,
  progressReporter,
  shortTransfer,
  tooLong,
} from "./file-transfers.js";
import type { FTP } from "./ftp.js";
import { booleanOption, integerOption } from "./options.js";
import { Verifier } from "./verification.js";

/** Smallest segment: a file under two of these is one stream. */
export const MIN_SEGMENT_SIZE = 1 << 20;
/** Attempts per segment on a broken connection before the whole download fails. */
const SEGMENT_ATTEMPTS = 3;
/** Milliseconds between two saves of the resume state while segments run. */
const SAVE_INTERVAL = 200;

/**
 * What `pool.download()` takes: `DownloadOptions` and the number of segments.
 *
 * @group Files and listings
 */
export interface SegmentedDownloadOptions extends DownloadOptions {
  /**
   * Connections to use at most (default: the pool's size). Each segment is at least 1 MiB, so a
   * file under 2 MiB is one stream; 1 is always one stream.
   */
  segments?: number;
}

/** What a segmented download needs of a pool. */
export interface SegmentPool {
  readonly size: number;
  run<T>(task: (ftp: FTP) => Promise<T>): Promise<T>;
}

/** Bytes `[start, end)` of the file, of which the first `done` are written. */
interface Segment {
  start: number;
  end: number;
  done: number;
}

/** The resume state as saved. */
interface SavedState {
  size: number;
  segments: [start: number, end: number, done: number][];
}

function splitRange(from: number, to: number, count: number): Segment[] {
  const length = to - from;
  return Array.from({ length: count }, (_, i) => {
    const start = from + Math.floor((length * i) / count);
    return { start, end: from + Math.floor((length * (i + 1)) / count), done: 0 };
  });
}

/** How many segments `bytes` make: at most `wanted`, each at least MIN_SEGMENT_SIZE. */
function segmentCount(bytes: number, wanted: number): number {
  return Math.max(1, Math.min(wanted, Math.floor(bytes / MIN_SEGMENT_SIZE)));
}

/** True when the server takes REST in TYPE I: FEAT says so, or a `REST 0` is accepted. */
async function offersRest(ftp: FTP): Promise<boolean> {
  if ((await ftp.features()).has("REST")) return true;
  try {
    // Harmless if it stays pending: a restart at 0 is the start.
    await ftp.sendCmd("REST 0");
    return true;
  } catch (error) {
    if (error instanceof ErrorPerm) return false;
    throw error;
  }
}

/** Segments saved by an earlier attempt at a file of `size` bytes, or undefined if unusable. */
async function loadState(path: string, size?: number): Promise<Segment[] | undefined> {
  let saved: SavedState;
  try {
    saved = JSON.parse(await readFile(path, "utf8")) as SavedState;
  } catch {
    return undefined;
  }
  if (!Number.isSafeInteger(saved?.size) || !Array.isArray(saved.segments)) return undefined;
  if (size !== undefined && saved.size !== size) return undefined;
  const segments: Segment[] = [];
  let expected = 0;
  for (const entry of saved.segments) {
    if (!Array.isArray(entry) || !entry.every((n) => Number.isSafeInteger(n) && n >= 0)) return undefined;
    const [start, end, done] = entry;
    // The segments must cover the file, in order, without gaps.
    if (start !== expected || end <= start || done > end - start) return undefined;
    segments.push({ start, end, done });
    expected = end;
  }
  return expected === saved.size ? segments : undefined;
}

/**
 * The files a download to `destination` keeps until it is complete: one stream's part (what
 * `FTP.download` continues), a segmented download's part (holes where segments are missing, so
 * under a name of its own that one stream never appends to) and its state.
 */
function partFiles(destination: string, atomic: boolean) {
  return {
    oneStream: atomic ? `${destination}.part` : destination,
    segmented: atomic ? `${destination}.part-segments` : destination,
    state: `${destination}.part-segments.json`,
  };
}

/** Bytes from the file's start that `segments` have written without a gap. */
function writtenPrefix(segments: readonly Segment[]): number {
  let prefix = 0;
  for (const s of segments) {
    prefix = s.start + s.done;
    if (s.done < s.end - s.start) break;
  }
  return prefix;
}

/**
 * Before one stream resumes: a segmented part becomes a one-stream part of its gapless first
 * bytes (the rest is fetched again), so that nothing is appended after a hole.
 */
async function toOneStream(destination: string, atomic: boolean): Promise<void> {
  const files = partFiles(destination, atomic);
  const segments = await loadState(files.state);
  if (segments === undefined) return;
  const part = await open(files.segmented, "r+").catch(() => undefined);
  if (part !== undefined) {
    await part.truncate(writtenPrefix(segments));
    await part.close();
    if (atomic) await rename(files.segmented, files.oneStream);
  }
  await rm(files.state, { force: true });
}

/** The resume state file: saved at most every SAVE_INTERVAL while segments run, and on `flush`. */
class StateFile {
  private chain: Promise<void> = Promise.resolve();
  private last = 0;
  private pending = false;

  constructor(
    private readonly path: string,
    private readonly size: number,
    private readonly segments: readonly Segment[],
  ) {}

  private ended = false;

  touch(): void {
    if (this.ended || this.pending || Date.now() - this.last < SAVE_INTERVAL) return;
    this.pending = true;
    this.save().catch(() => undefined);
  }

  flush(): Promise<void> {
    return this.save();
  }

  /** The download is complete: no save after this one, and the file goes. */
  async remove(): Promise<void> {
    this.ended = true;
    await this.chain.catch(() => undefined);
    await rm(this.path, { force: true });
  }

  private save(): Promise<void> {
    this.chain = this.chain.then(async () => {
      this.pending = false;
      this.last = Date.now();
      const state: SavedState = { size: this.size, segments: this.segments.map((s) => [s.start, s.end, s.done]) };
      // Replaced in one step: a process killed mid-save leaves the previous state, never half of one.
      await writeFile(`${this.path}.tmp`, JSON.stringify(state));
      await rename(`${this.path}.tmp`, this.path);
    });
    return this.chain;
  }
}

/** One download's shared state: the file, the progress, and the signal that stops every segment. */
interface Job {
  readonly remote: string;
  readonly size: number;
  /** The server offers RANG (asked once, on the planning connection: every connection is to the same server). */
  readonly ranged: boolean;
  readonly file: FileHandle;
  readonly signal: AbortSignal;
  readonly progress: ReturnType<typeof progressReporter>;
  readonly state: StateFile | undefined;
}

/**
 * Fetches what is missing of `segment` on `ftp`: from its first missing byte to its end. The
 * transfer is driven by hand (`ntransferCmd`), so that a segment that reaches its end closes its
 * data connection at once and sends ABOR: servers that do not read ABOR while they send (vsftpd)
 * stop when their data connection closes, and nothing of the rest of the file is drained. Where
 * the server offers RANG, it sends only the segment and the transfer ends by itself.
 */
async function fetchSegment(ftp: FTP, job: Job, segment: Segment, bytesDone: () => void): Promise<void> {
  const { end } = segment;
  let position = segment.start + segment.done;
  if (position >= end) return;
  const last = end === job.size;
  // Every segment gets its RANG where the server offers it, the last one too: a range is the
  // server's state until a transfer uses it, and one left by a transfer stopped earlier on this
  // connection must not apply to this one.
  const ranged = job.ranged;
  // RANG is refused in TYPE A (proftpd: 551), and the transfer wants binary too.
  await ftp.setType("I");
  if (job.signal.aborted) throw job.signal.reason;
  if (ranged) await ftp.sendCmd(`RANG ${position} ${end - 1}`);
  const [conn] = await ftp.ntransferCmd(`RETR ${job.remote}`, ranged || position === 0 ? undefined : position);
  let stopped: Promise<void> | undefined;
  let abortFailure: unknown;
  // ABOR closes the data connection at once; the final reply is read below, either way.
  const stop = () =>
    (stopped ??= ftp.abort().then(
      () => undefined,
      (error: unknown) => {
        abortFailure = error;
      },
    ));
  const onAbort = () => void stop();
  job.signal.addEventListener("abort", onAbort, { once: true });
  // Without RANG, a segment before the last is stopped at its end; otherwise the server ends it.
  const stopAtEnd = !last && !ranged;
  let early = false;
  let failure: unknown;
  try {
    for (let block = await conn.read(); block !== null; block = await conn.read()) {
      const room = end - position;
      // More than the whole file: stop rather than fill the disk.
      if (last && block.length > room) throw tooLong(job.remote, job.size);
      const piece = block.length > room ? block.subarray(0, room) : block;
      await ftp.rateLimit?.take(piece.length);
      // The block is valid until the next read: written first.
      await job.file.write(piece, 0, piece.length, position);
      position += piece.length;
      segment.done += piece.length;
      job.progress.add(piece.length);
      job.state?.touch();
      // proftpd over TLS sends past a RANG's end (up to a buffer): the extra bytes are dropped
      // and the transfer stopped as without RANG.
      const overshoot = piece.length < block.length;
      if (job.signal.aborted || (position === end && !last && (stopAtEnd || overshoot))) {
        early = true;
        break;
      }
    }
  } catch (error) {
    failure = error;
  } finally {
    job.signal.removeEventListener("abort", onAbort);
  }
  // Every byte is in place: the download need not wait for this connection's ABOR and replies.
  if (failure === undefined && position === end) bytesDone();
  if (early || failure !== undefined) await stop();
  conn.destroy();
  try {
    await ftp.voidResp();
  } catch (error) {
    // After ABOR the transfer's reply is 426 or 451 by design. Without ABOR, a refusal counts.
    if (stopped === undefined) failure ??= error;
  }
  if (job.signal.aborted) throw job.signal.reason;
  if (failure !== undefined) throw failure;
  if (position < end) throw shortTransfer(job.remote, position, end);
  // The segment is complete, but a connection whose ABOR failed is not fit for another: the pool drops it.
  if (abortFailure !== undefined && connectionLost(abortFailure)) throw abortFailure;
}

/** A failure worth another connection: the connection or its data connection broke. */
function retriable(error: unknown): boolean {
  return connectionLost(error) || (error instanceof ErrorTemp && (error.replyCode === 425 || error.replyCode === 426));
}

/** Runs `segment` on the pool, again on another connection after a broken one, a bounded number of times. */
async function runSegment(pool: SegmentPool, job: Job, segment: Segment): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      // Done once its bytes are written; the connection finishes its ABOR before the pool reuses it.
      await new Promise<void>((resolve, reject) => {
        pool.run((ftp) => fetchSegment(ftp, job, segment, resolve)).then(resolve, reject);
      });
      return;
    } catch (error) {
      if (segment.done === segment.end - segment.start && !job.signal.aborted) return;
      if (job.signal.aborted || !retriable(error)) throw error;
      if (attempt >= SEGMENT_ATTEMPTS) {
        throw new FtpConnectionError(
          `${job.remote}: bytes ${segment.start}-${segment.end - 1} failed on ${attempt} connections`,
          { code: "ERR_FTP_SEGMENT", cause: error },
        );
      }
    }
  }
}

/** Runs every segment, `connections` at a time; the first failure stops the others. */
async function runSegments(
  pool: SegmentPool,
  job: Job,
  segments: readonly Segment[],
  connections: number,
  stop: AbortController,
): Promise<void> {
  const queue = segments.filter((s) => s.done < s.end - s.start);
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    for (let segment = queue.shift(); segment !== undefined && failure === undefined; segment = queue.shift()) {
      try {
        await runSegment(pool, job, segment);
      } catch (error) {
        failure ??= { error };
        stop.abort(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(connections, queue.length) }, worker));
  if (failure !== undefined) throw failure.error;
}

interface Plan {
  /** The file's size, or null when the server does not say. */
  size: number | null;
  /** False for a file too small, an unknown size, or a server without REST. */
  split: boolean;
}

/**
 * `verify`: the assembled file hashed whole and compared with the server's. A mismatch leaves
 * no part to resume either: its bytes are wrong somewhere.
 */
async function verify(verifier: Verifier, part: string, size: number): Promise<void> {
  try {
    await verifier.prefix(part, size);
    await verifier.finish(size, true);
  } catch (error) {
    await rm(part, { force: true });
    throw error;
  }
}

/**
 * The plan for `remote`: its size, and whether it can be split (false for an unknown size, a
 * file too small, or a server without REST), asked on one connection.
 */
async function plan(
  pool: SegmentPool,
  ftp: FTP,
  remote: string,
  wanted: number,
  known: number | undefined,
): Promise<Plan> {
  // SIZE in TYPE I: some servers refuse it in TYPE A, others count line-ending expansion.
  await ftp.setType("I");
  const size = known ?? (await ftp.size(remote).catch(() => null));
  if (size === null || segmentCount(size, wanted) < 2) return { size, split: false };
  // The other segments' connections log in and switch to binary while this one asks about REST:
  // on a link far away each of those is a round trip or more off every segment's start.
  for (let i = 1; i < Math.min(segmentCount(size, wanted), pool.size); i++)
    pool.run((other) => other.setType("I")).catch(() => undefined);
  return { size, split: await offersRest(ftp) };
}

/** The segments an earlier attempt left (segmented, or one stream's part as its first bytes), or undefined. */
async function resumable(
  files: ReturnType<typeof partFiles>,
  atomic: boolean,
  size: number,
  wanted: number,
): Promise<Segment[] | undefined> {
  const sizeOf = (path: string) =>
    stat(path).then(
      (s) => s.size,
      () => undefined,
    );
  if ((await sizeOf(files.segmented)) !== undefined) {
    const saved = await loadState(files.state, size);
    if (saved !== undefined) return saved;
  }
  const prefix = await sizeOf(files.oneStream);
  if (prefix === undefined || prefix > size) return undefined;
  // One stream's part: its bytes are the file's first ones.
  if (atomic) await rename(files.oneStream, files.segmented);
  const rest = splitRange(prefix, size, segmentCount(size - prefix, wanted));
  return [{ start: 0, end: prefix, done: prefix }, ...rest].filter((s) => s.end > s.start);
}

/**
 * Downloads `remote` to `destination` over up to `segments` connections of `pool`; see the
 * module's opening comment. Falls back to one stream (`FTP.download`) for a Writable or a Buffer
 * path, one segment, a file under two segments, an unknown size, or a server without REST.
 * Resolves with the bytes written in this call.
 */
export async function segmentedDownload(
  pool: SegmentPool,
  remote: string,
  destination: string | Buffer | Writable,
  options: SegmentedDownloadOptions = {},
): Promise<number> {
  const wanted = integerOption("segments", options.segments, pool.size, 1, 64);
  const atomic = booleanOption("atomic", options.atomic, true);
  const { segments: _segments, ...single } = options;
  const oneStream = async (ftp: FTP, size?: number | null) => {
    if (options.resume && typeof destination === "string") await toOneStream(destination, atomic);
    return ftp.download(remote, destination, size === undefined || size === null ? single : { ...single, size });
  };
  if (typeof destination !== "string" || wanted < 2) return pool.run((ftp) => oneStream(ftp));
  const fsync = booleanOption("fsync", options.fsync, false);
  const known =
    options.size === undefined ? undefined : integerOption("size", options.size, 0, 0, Number.MAX_SAFE_INTEGER);
  const planned = await pool.run(async (ftp) => {
    checkTransferOptions(ftp, remote, options);
    const { size, split } = await plan(pool, ftp, remote, wanted, known);
    // With `verify`, the hash algorithm is chosen on this connection, which compares at the end.
    if (split) {
      const ranged = (await ftp.features()).has("RANG");
      return { size: size!, ranged, verifier: await Verifier.start(ftp, remote, options) };
    }
    // One stream, on this connection, without asking SIZE again.
    return { single: await oneStream(ftp, size) };
  });
  if (planned.size === undefined) return planned.single;
  const size = planned.size;

  const files = partFiles(destination, atomic);
  const target = options.resume || !atomic ? files.segmented : `${destination}.part-${randomBytes(4).toString("hex")}`;
  let segments = options.resume ? await resumable(files, atomic, size, wanted) : undefined;
  const fresh = segments === undefined;
  segments ??= splitRange(0, size, segmentCount(size, wanted));

  const file = await open(target, fresh ? "w" : "r+");
  const stop = new AbortController();
  const signal = options.signal === undefined ? stop.signal : AbortSignal.any([options.signal, stop.signal]);
  const state = options.resume ? new StateFile(files.state, size, segments) : undefined;
  const progress = progressReporter(options.onProgress, size, fresh ? 0 : segments.reduce((n, s) => n + s.done, 0));
  const job: Job = { remote, size, ranged: planned.ranged, file, signal, progress, state };
  try {
    await state?.flush();
    await runSegments(pool, job, segments, wanted, stop);
    const written = segments.reduce((n, s) => n + s.done, 0);
    const onDisk = (await file.stat()).size;
    if (written !== size || onDisk !== size) throw shortTransfer(remote, Math.min(written, onDisk), size);
    if (fsync) await file.sync();
  } catch (error) {
    await file.close();
    if (options.resume) await state?.flush().catch(() => undefined);
    else if (atomic) await rm(target, { force: true });
    // The caller's signal explains whatever failed after it fired.
    if (options.signal?.aborted) throw options.signal.reason;
    throw error;
  }
  await file.close();
  await state?.remove();
  if (planned.verifier !== undefined) await verify(planned.verifier, target, size);
  if (atomic) await rename(target, destination);
  progress.finish();
  return progress.moved;
}
