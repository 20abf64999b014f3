/**
 * Files to and from paths and streams, on top of the ftplib API: progress, resume, cancellation
 * with an AbortSignal, and atomic downloads (a temporary name, renamed only when complete and the
 * size matches).
 */
import { randomBytes } from "node:crypto";
import { open, rename, rm, stat } from "node:fs/promises";
import type { Readable, Writable } from "node:stream";
import { ErrorProto } from "@ftplib/protocol";
import type { TextEncoding } from "@ftplib/protocol";
import type { RetrBinaryOptions, StorBinaryOptions } from "./ftp-options.js";
import type { UploadSource } from "./sources.js";
import { FileWriter } from "./file-writer.js";
import { booleanOption, checkSendable, functionOption, integerOption, invalidOption } from "./options.js";
import { FILE_BUFFER, fileChunks } from "./sources.js";
import type { HashAlgorithm } from "./checksums.js";
import type { RemoteHash, RemoteHashOptions } from "./remote-hash.js";
import { Verifier, type VerifyOptions, checkVerifyOptions } from "./verification.js";

/**
 * The calls a file transfer makes on its connection: an FTP client's own (each takes its turn),
 * or a session's run at once, for an operation that holds the turn already (see FTP.direct).
 */
export interface FileClient {
  readonly encoding: TextEncoding;
  /** The server says a download's size when it starts one (see FTP.announcesSizes). */
  readonly announcesSizes: boolean;
  retrBinary(cmd: string, callback: (block: Uint8Array) => unknown, options?: RetrBinaryOptions): Promise<string>;
  storBinary(cmd: string, source: UploadSource, options?: StorBinaryOptions): Promise<string>;
  size(filename: string): Promise<number | null>;
  setType(type: "I" | "A"): Promise<void>;
  abort(): Promise<string>;
  delete(filename: string): Promise<string>;
  /** For `verify`: the algorithms the server can hash with, strongest first, and a file's hash. */
  hashAlgorithms(): Promise<HashAlgorithm[]>;
  remoteHash(path: string, options?: RemoteHashOptions): Promise<RemoteHash | null>;
  readonly debugging: number;
  debug(line: string): void;
}

/**
 * A transfer's progress, as `onProgress` is told it. `bytes` and `total` count the same thing, the
 * whole file: a resumed transfer starts at the part already there (`resumed`), not at 0, and ends
 * at `total`. The last report has `final` set, and comes once, when the transfer is complete (and
 * checked: size, and hash with `verify`); a transfer that fails or is cancelled has none.
 *
 * @group Files and listings
 */
export interface Progress {
  /** Bytes of the file in place: the part already there when the call started, and those moved since. */
  bytes: number;
  /**
   * Bytes already there when the call started: a resumed download's local part, a resumed
   * upload's remote part, a segmented download's saved segments; 0 otherwise. `bytes - resumed`
   * have moved in this call.
   */
  resumed: number;
  /** Bytes of the whole file when known. */
  total: number | null;
  /** Bytes per second moved in this call (the resumed part left out), since the call started. */
  rate: number;
  /** The last report, made once: the transfer is complete. */
  final: boolean;
}

/**
 * What `upload()`, `append()` and `download()` take.
 *
 * @group Files and listings
 */
export interface TransferOptions extends VerifyOptions {
  /** Cancels the transfer: ABOR is sent, the replies drained, the connection stays usable. */
  signal?: AbortSignal;
  /** Called as data moves (at most every 100 ms), and once at the end (`final`). */
  onProgress?: (progress: Progress) => void;
  /** Continue where a previous attempt stopped (REST for downloads, APPE for uploads). */
  resume?: boolean;
  /**
   * MODE Z (deflate) where the server offers it, stream mode otherwise. Downloads default to the
   * client's `modeZ`; uploads are deflated only when asked here, and their stored size is checked.
   */
  modeZ?: boolean;
}

/**
 * What `download()` takes: `TransferOptions`, and how the local file is written.
 *
 * @group Files and listings
 */
export interface DownloadOptions extends TransferOptions {
  /**
   * For a path: write to a temporary name next to it and rename only when complete and the size
   * matches the server's (default true). A resumed atomic download continues the `.part` file.
   */
  atomic?: boolean;
  /**
   * The file's size when it is known already (from a listing): no SIZE is sent for it. A size the
   * server announces when the transfer starts is taken over it.
   */
  size?: number;
  /**
   * For a path: flush the file to the disk (fsync) before it is renamed and reported complete
   * (default false, as curl, wget, lftp and rclone). Without it a crash of the machine soon after
   * may leave the file shorter; the transfer itself is checked either way.
   */
  fsync?: boolean;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason ?? new DOMException("The operation was aborted.", "AbortError");
}

/** Refuses, before anything is sent, a remote name that cannot be sent and options of the wrong kind. */
export function checkTransferOptions(ftp: FileClient, remote: string, options: TransferOptions): void {
  checkSendable(ftp.encoding, [], [remote]);
  functionOption("onProgress", options.onProgress);
  booleanOption("resume", options.resume, false);
  checkVerifyOptions(options);
  booleanOption("modeZ", options.modeZ, false);
  const signal: unknown = options.signal;
  if (
    signal !== undefined &&
    (typeof signal !== "object" || signal === null || typeof (signal as AbortSignal).addEventListener !== "function")
  ) {
    throw invalidOption(TypeError, "signal", "an AbortSignal", signal);
  }
}

export function tooLong(remote: string, total: number): ErrorProto {
  return new ErrorProto(`${remote}: more data than the ${total} bytes the server says it holds`, {
    code: "ERR_FTP_SIZE_MISMATCH",
  });
}

/**
 * Progress reports, throttled to one every 100 ms, and the final one, once. `resumed` bytes are
 * there before the first. A report that would say the file is complete is left to the final one,
 * so that a complete count is reported once.
 */
export function progressReporter(onProgress: TransferOptions["onProgress"], initialTotal: number | null, resumed = 0) {
  const started = Date.now();
  let total = initialTotal;
  let last = 0;
  let bytes = resumed;
  let finished = false;
  const report = (now: number, final: boolean) => {
    last = now;
    const seconds = Math.max((now - started) / 1000, 0.001);
    onProgress!({ bytes, resumed, total, rate: (bytes - resumed) / seconds, final });
  };
  return {
    /** `n` more bytes moved. */
    add(n: number): void {
      bytes += n;
      if (onProgress === undefined || finished) return;
      const now = Date.now();
      if (now - last >= 100 && (total === null || bytes < total)) report(now, false);
    },
    /** The transfer is complete: the final report (once, however often called). */
    finish(): void {
      if (onProgress === undefined || finished) return;
      finished = true;
      report(Date.now(), true);
    },
    /** Bytes of the file in place, the resumed part included. */
    get bytes() {
      return bytes;
    },
    /** Bytes moved in this call. */
    get moved() {
      return bytes - resumed;
    },
    /** The whole file's size, once the server has said it. */
    set total(size: number | null) {
      total = size;
    },
  };
}

/**
 * Runs `transfer` with `signal` wired to `ftp.abort()`; throws the signal's reason when aborted,
 * however the transfer ended.
 */
async function cancellable<T>(
  ftp: FileClient,
  signal: AbortSignal | undefined,
  transfer: () => Promise<T>,
): Promise<T> {
  throwIfAborted(signal);
  const onAbort = () => {
    ftp.abort().catch(() => undefined);
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const result = await transfer();
    throwIfAborted(signal);
    return result;
  } catch (error) {
    // Whatever failed once the signal fired (a timeout waiting for the reply to ABOR, say) failed
    // because of it: the caller asked to stop, and learns that it stopped.
    throwIfAborted(signal);
    throw error;
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}

/** The size of a remote file in binary mode, or null when the server does not say. */
async function remoteSize(ftp: FileClient, remote: string): Promise<number | null> {
  try {
    // SIZE is refused in ASCII mode by some servers; the transfer that follows wants binary too.
    await ftp.setType("I");
    return await ftp.size(remote);
  } catch {
    return null;
  }
}

export function shortTransfer(remote: string, written: number, total: number): ErrorProto {
  return new ErrorProto(`${remote}: got ${written} bytes, the server says ${total}`, {
    code: "ERR_FTP_SHORT_TRANSFER",
  });
}

/**
 * The size a download must come to, known before its bytes so that too many are stopped early.
 * One the caller knows (from a listing) or one the server announces when the transfer starts
 * saves SIZE's round trip. SIZE is asked first for a resume, which needs it to start, and on a
 * connection whose server has not been seen to announce sizes; afterwards only when nothing said it.
 */
class ExpectedSize {
  value: number | null;
  private asked = false;
  constructor(
    private readonly ftp: FileClient,
    private readonly remote: string,
    known: number | undefined,
  ) {
    this.value = known ?? null;
  }
  async beforeTransfer(resuming: boolean): Promise<number | null> {
    if (this.value === null && (resuming || !this.ftp.announcesSizes)) await this.ask();
    return this.value;
  }
  /** The server's 1xx announced `size` (not after REST, where servers count differently). */
  announced(size: number | null, resumed: boolean): void {
    if (size !== null && !resumed) this.value = size;
  }
  async afterTransfer(): Promise<number | null> {
    if (this.value === null && !this.asked) await this.ask();
    return this.value;
  }
  private async ask(): Promise<void> {
    this.asked = true;
    this.value = await remoteSize(this.ftp, this.remote);
  }
}

/** Each block of a download checked against the size and counted, and what its 1xx announced. */
function receiving(
  remote: string,
  expected: ExpectedSize,
  progress: ReturnType<typeof progressReporter>,
  verifier: Verifier | undefined,
  resumed: boolean,
) {
  return {
    block(block: Uint8Array): void {
      // More than the server said the file holds: stop now rather than fill the disk.
      const size = expected.value;
      if (size !== null && progress.bytes + block.length > size) throw tooLong(remote, size);
      verifier?.update(block);
      progress.add(block.length);
    },
    onStart(size: number | null): void {
      expected.announced(size, resumed);
      progress.total = expected.value;
    },
  };
}

/**
 * Downloads `remote` to a local path (text, or bytes for a name that is not valid UTF-8) or a
 * Writable. Resolves with the number of bytes written in this call. A path download is atomic by
 * default. Fewer or more bytes than the server's size fail the call (`ERR_FTP_SHORT_TRANSFER`,
 * `ERR_FTP_SIZE_MISMATCH`); a Writable has the bytes that came by then.
 */
export async function download(
  ftp: FileClient,
  remote: string,
  destination: string | Buffer | Writable,
  options: DownloadOptions = {},
): Promise<number> {
  checkTransferOptions(ftp, remote, options);
  const atomic = booleanOption("atomic", options.atomic, true);
  const fsync = booleanOption("fsync", options.fsync, false);
  const known =
    options.size === undefined ? undefined : integerOption("size", options.size, 0, 0, Number.MAX_SAFE_INTEGER);
  const expected = new ExpectedSize(ftp, remote, known);
  const verifier = await Verifier.start(ftp, remote, options);
  if (typeof destination !== "string" && !Buffer.isBuffer(destination)) {
    const progress = progressReporter(options.onProgress, await expected.beforeTransfer(false));
    const receive = receiving(remote, expected, progress, verifier, false);
    await cancellable(ftp, options.signal, () =>
      ftp.retrBinary(
        `RETR ${remote}`,
        (block) => {
          receive.block(block);
          // Blocks are copies (no zeroCopy): a stream may keep them after its callback.
          return new Promise<void>((resolve, reject) => destination.write(block, (e) => (e ? reject(e) : resolve())));
        },
        { modeZ: options.modeZ, onStart: receive.onStart },
      ),
    );
    const total = await expected.afterTransfer();
    if (total !== null && progress.bytes !== total) throw shortTransfer(remote, progress.bytes, total);
    await verifier?.finish(progress.bytes, total !== null);
    progress.finish();
    return progress.moved;
  }
  const suffix = atomic ? `.part${options.resume ? "" : `-${randomBytes(4).toString("hex")}`}` : "";
  const target =
    typeof destination === "string" ? `${destination}${suffix}` : Buffer.concat([destination, Buffer.from(suffix)]);
  const offset = options.resume
    ? await stat(target).then(
        (s) => s.size,
        () => 0,
      )
    : 0;
  const before = await expected.beforeTransfer(offset > 0);
  if (before !== null && offset > before)
    throw new ErrorProto(`local part is larger than ${remote}`, { code: "ERR_FTP_RESUME" });
  // A resumed file is verified whole: the part already here is hashed first.
  await verifier?.prefix(target, offset);
  const file = await open(target, offset > 0 ? "r+" : "w");
  const writer = new FileWriter(file, offset);
  const progress = progressReporter(options.onProgress, before, offset);
  const receive = receiving(remote, expected, progress, verifier, offset > 0);
  let total: number | null;
  try {
    if (before === null || offset < before) {
      await cancellable(ftp, options.signal, () =>
        ftp.retrBinary(
          `RETR ${remote}`,
          (block) => {
            receive.block(block);
            // Lent until the next read (zeroCopy): the writer copies it in at once.
            return writer.write(block);
          },
          { zeroCopy: true, ...(offset > 0 ? { rest: offset } : {}), modeZ: options.modeZ, onStart: receive.onStart },
        ),
      );
    }
    await writer.close();
    if (fsync) await file.sync();
    total = await expected.afterTransfer();
  } catch (error) {
    await writer.close().catch(() => undefined);
    await file.close();
    if (atomic && !options.resume) await rm(target, { force: true });
    throw error;
  }
  await file.close();
  if (total !== null && progress.bytes !== total) {
    if (atomic && !options.resume) await rm(target, { force: true });
    throw shortTransfer(remote, progress.bytes, total);
  }
  if (verifier !== undefined) {
    // A file that does not match is no use, resumed or not: it goes.
    await verifier.finish(progress.bytes, total !== null).catch(async (error: unknown) => {
      await rm(target, { force: true });
      throw error;
    });
  }
  if (atomic) await rename(target, destination);
  progress.finish();
  return progress.moved;
}

/**
 * Uploads a local path or a Readable to `remote`. With `resume`, continues after the bytes the
 * server already has (APPE). Resolves with the number of bytes sent in this call.
 */
export async function upload(
  ftp: FileClient,
  source: string | Readable,
  remote: string,
  options: TransferOptions & { append?: boolean } = {},
): Promise<number> {
  checkTransferOptions(ftp, remote, options);
  if (options.append && options.verify) throw new TypeError("verify needs the whole file: not with append");
  let offset = 0;
  if (options.resume) {
    if (typeof source !== "string") throw new TypeError("resume needs a local path");
    offset = (await remoteSize(ftp, remote)) ?? 0;
  }
  const total = typeof source === "string" ? (await stat(source)).size : null;
  const verifier = await Verifier.start(ftp, remote, options);
  if (offset > 0 && typeof source === "string") await verifier?.prefix(source, offset);
  const chunks = typeof source === "string" ? fileChunks(source, offset) : source;
  const input = verifier === undefined ? chunks : verifier.tap(chunks);
  const progress = progressReporter(options.onProgress, total, offset);
  const verb = options.append || offset > 0 ? "APPE" : "STOR";
  await cancellable(ftp, options.signal, () =>
    ftp.storBinary(`${verb} ${remote}`, input, {
      // A file's chunks whole: a quarter of the writes of the default blocksize.
      ...(typeof source === "string" ? { blocksize: FILE_BUFFER } : {}),
      callback: (block) => progress.add(block.length),
      modeZ: options.modeZ,
    }),
  );
  await verifier?.finish(progress.bytes, false).catch(async (error: unknown) => {
    throw await removeMismatched(ftp, remote, error);
  });
  // proftpd 1.3.8's mod_deflate may store a MODE Z upload wrong (its issue #1896): it must hold what was sent.
  if (options.modeZ === true && total !== null && !(options.append && offset === 0)) {
    const stored = await remoteSize(ftp, remote);
    if (stored !== null && stored !== total)
      throw new ErrorProto(`${remote}: the server stored ${stored} bytes of ${total} (MODE Z)`, {
        code: "ERR_FTP_SIZE_MISMATCH",
      });
  }
  progress.finish();
  return progress.moved;
}

/** After an upload that does not match: the remote file deleted, and the error saying so (or why not). */
async function removeMismatched(ftp: FileClient, remote: string, error: unknown): Promise<unknown> {
  if (!(error instanceof ErrorProto) || error.code !== "ERR_FTP_CHECKSUM_MISMATCH") return error;
  const left = await ftp.delete(remote).then(
    () => "the remote file was deleted",
    (e: unknown) => `the remote file is left as it is (DELE failed: ${e instanceof Error ? e.message : String(e)})`,
  );
  return new ErrorProto(`${error.message}; ${left}`, { code: error.code, cause: error });
}
