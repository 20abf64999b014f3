/** What every command gets: the streams, the options, the cancellation signal, and a way to connect. */
import type { Readable, Writable } from "node:stream";
import { type FTP, FtpPool, type Progress, type Verification } from "@ftplib/client";
import { type ConnectSettings, type Credentials, credentialsFor, openClient, tlsOptionsFor } from "./connect.js";
import { ProgressBar } from "./progress.js";
import { type FtpTarget, redactUrl } from "./url.js";

export interface Io {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable & { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
}

export interface Flags {
  long: boolean;
  json: boolean;
  recursive: boolean;
  parents: boolean;
  resume: boolean;
  /** get, put, mirror: compare each file with the server's after the transfer (hash, else size). */
  verify: boolean;
  /** mirror: decide what to transfer by hash rather than size and time, where the server can hash. */
  checksum: boolean;
  parallel: number;
  /** get -n, mirror --segments: connections for one file (1: one stream). */
  segments: number;
  dryRun: boolean;
  /** Downloads flushed to the disk before they are renamed into place (--fsync). */
  fsync: boolean;
  verbose: boolean;
  /** -q: no progress bars, no summary. */
  quiet: boolean;
  /** Progress bars and summaries on stderr. */
  showProgress: boolean;
  /** mirror --include: globs of the paths to copy (below the mirror's root); none: all. */
  include: string[];
  /** mirror --exclude: globs of the paths to leave alone; they win over --include. */
  exclude: string[];
  /** mirror --delete: remove from the copy what the source no longer has. */
  delete: boolean;
}

/** How long transfers have to stop cleanly after an interrupt before their connections are closed. */
const INTERRUPT_GRACE_MS = 2000;

export class Context {
  /** Clients open now, closed when the run is interrupted and they are still open a moment later. */
  private readonly clients = new Set<FTP>();
  /** Worked out once per target: a mirror's connections do not each read the netrc file again. */
  private readonly credentials = new WeakMap<FtpTarget, Promise<Credentials>>();
  /** Made once, at the run's first TLS connection: --ca read, --insecure warned about. */
  private tlsOptions: Promise<Record<string, unknown>> | undefined;

  constructor(
    readonly io: Io,
    readonly settings: ConnectSettings,
    readonly flags: Flags,
    readonly signal: AbortSignal,
  ) {
    // Transfers take the signal too, and stop with ABOR (partial files removed) within this moment;
    // what is still open after it (a listing, a server that does not answer ABOR) is closed.
    signal.addEventListener("abort", () => {
      setTimeout(() => {
        for (const ftp of this.clients) ftp.close();
      }, INTERRUPT_GRACE_MS).unref();
    });
  }

  /** A logged-in client for `target`; `session`: a TLS session to resume. */
  async open(target: FtpTarget, session?: unknown): Promise<FTP> {
    let credentials = this.credentials.get(target);
    if (credentials === undefined) {
      credentials = credentialsFor(target, this.settings, this.io.env);
      this.credentials.set(target, credentials);
    }
    const tlsOptions = () => (this.tlsOptions ??= tlsOptionsFor(this.settings));
    const ftp = await openClient(target, await credentials, this.settings, tlsOptions, session);
    if (this.signal.aborted) {
      ftp.close();
      this.signal.throwIfAborted();
    }
    this.clients.add(ftp);
    return ftp;
  }

  /** QUIT (close if QUIT fails). */
  async release(ftp: FTP): Promise<void> {
    this.clients.delete(ftp);
    await ftp[Symbol.asyncDispose]();
  }

  /** Runs `task` on a client for `target`, then quits. */
  async with<T>(target: FtpTarget, task: (ftp: FTP) => Promise<T>): Promise<T> {
    const ftp = await this.open(target);
    try {
      return await task(ftp);
    } finally {
      await this.release(ftp);
    }
  }

  /** A pool of `size` connections to `target`; those after the first resume its TLS session. */
  pool(target: FtpTarget, size: number): FtpPool {
    return FtpPool.resumingFirstSession((session) => this.open(target, session), size);
  }

  /** A progress bar for one transfer, or nothing when no one is watching. */
  progress(label: string): { onProgress?: (p: Progress) => void; done(): void } {
    if (!this.flags.showProgress) return { done() {} };
    const bar = new ProgressBar(this.io.stderr, label);
    // The summary line only after the final report: a transfer that failed has none.
    let complete = false;
    return {
      onProgress: (p) => {
        bar.update(p.bytes, p.total, p.resumed);
        complete ||= p.final;
      },
      done: () => bar.done(complete),
    };
  }

  /**
   * Transfer options for --verify: the check, and a warning on stderr when the server could not
   * hash (only the size compared, or nothing); with --verbose, the digest that matched.
   */
  verifyOptions(label: string): { verify?: boolean; onVerify?: (v: Verification) => void } {
    if (!this.flags.verify) return {};
    return {
      verify: true,
      onVerify: (v) => {
        if (v.method === "size") this.log(`ftplib: ${label}: the server cannot hash files; verified the size only`);
        else if (v.method === "none")
          this.log(`ftplib: ${label}: the server cannot hash files or tell the size; not verified`);
        else if (this.flags.verbose) this.log(`verified ${label}: ${v.algorithm} ${v.hex}`);
      },
    };
  }

  /** A line on stderr (any URL's password in it redacted). */
  log(line: string): void {
    this.io.stderr.write(`${redactUrl(line)}\n`);
  }
}
