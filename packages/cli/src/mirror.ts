/**
 * mirror: a directory tree copied down or up, only the files whose size or time differ, several at
 * once through a pool of connections (one transfer per connection).
 *
 * A file counts as unchanged when both sides have the same size and the copy is not older than the
 * source. Downloaded files get the server's time; uploaded files get the local time where the
 * server can set it (MFMT) and list it back to the second (MLSD). Otherwise the server stamps the
 * upload time, which is newer than the local file, so the next run finds it unchanged too.
 *
 * With --checksum (rclone's name), a file of the same size on both sides is compared by hash
 * instead of time, where the server can hash (HASH, XSHA256 and the others): the same bytes are
 * unchanged whatever their times. A server that cannot hash gets size and time, and a warning.
 */
import { mkdir, readdir, stat, utimes } from "node:fs/promises";
import { join, resolve } from "node:path";
import {
  ErrorPerm,
  ErrorProto,
  ErrorTemp,
  type FTP,
  type FtpPool,
  type HashAlgorithm,
  type TreeEntry,
  fileHash,
} from "@ftplib/client";
import type { Context } from "./context.js";
import { CliError, ExitCode, exitCodeOf } from "./exit-codes.js";
import { ProgressBar, formatBytes } from "./progress.js";
import { isFtpUrl, joinRemote, parseFtpUrl, trimTrailingSlash } from "./url.js";

interface PlannedFile {
  relativePath: string;
  size: number;
  /** The size the listing gave, when it gave one: the download then sends no SIZE. */
  listedSize?: number;
  /** The source's time, to stamp on the copy. */
  mtime?: Date;
}

interface Summary {
  direction: "download" | "upload";
  transferred: string[];
  unchanged: number;
  failed: { path: string; error: string }[];
  directoriesMade: number;
  bytes: number;
}

/** Listings may round times to the minute (LIST) or the second (MLSD), file systems to the millisecond. */
function slack(time: Date): number {
  return time.getUTCSeconds() === 0 && time.getUTCMilliseconds() === 0 ? 60_000 : 2_000;
}

/** Same size, and the copy is not older than the source. */
function unchanged(source: { size?: number; mtime?: Date }, copy: { size?: number; mtime?: Date }): boolean {
  if (source.size === undefined || copy.size === undefined || source.size !== copy.size) return false;
  if (source.mtime === undefined || copy.mtime === undefined) return true;
  const tolerance = Math.max(slack(source.mtime), slack(copy.mtime));
  return copy.mtime.getTime() + tolerance >= source.mtime.getTime();
}

/** With --segments, files from this size up are split over several connections; smaller ones take one. */
export const MIRROR_SEGMENT_MIN = 8 << 20;

/** --checksum: the algorithm to compare by, or undefined (said on stderr) when the server cannot hash. */
async function checksumAlgorithm(ctx: Context, pool: FtpPool): Promise<HashAlgorithm | undefined> {
  if (!ctx.flags.checksum) return undefined;
  const [algorithm] = await pool.run((ftp) => ftp.hashAlgorithms());
  if (algorithm === undefined)
    ctx.log("ftplib: mirror: --checksum: the server cannot hash files; comparing size and time instead");
  return algorithm;
}

/**
 * --checksum: of the files of the same size on both sides, those whose hashes differ (to
 * transfer); the others count as unchanged. Hashed through the pool, several at once.
 */
async function differingByHash(
  pool: FtpPool,
  algorithm: HashAlgorithm,
  candidates: { file: PlannedFile; localPath: string; remotePath: string }[],
  summary: Summary,
): Promise<PlannedFile[]> {
  const same = await Promise.all(
    candidates.map(async ({ localPath, remotePath }) => {
      const [local, remote] = await Promise.all([
        fileHash(localPath, algorithm),
        pool.run((ftp) => ftp.remoteHash(remotePath, { algorithm })),
      ]);
      return remote !== null && remote.hex === local;
    }),
  );
  summary.unchanged += same.filter(Boolean).length;
  return candidates.filter((_, i) => !same[i]).map((c) => c.file);
}

/** The local tree under `root`, parents first; links and special files are left out. */
async function localTree(
  root: string,
  prefix = "",
): Promise<{ relativePath: string; type: "file" | "dir"; size: number; mtime: Date }[]> {
  const found: { relativePath: string; type: "file" | "dir"; size: number; mtime: Date }[] = [];
  const dirents = await readdir(join(root, prefix), { withFileTypes: true });
  dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const dirent of dirents) {
    const relativePath = prefix === "" ? dirent.name : `${prefix}/${dirent.name}`;
    if (!dirent.isFile() && !dirent.isDirectory()) continue;
    const info = await stat(join(root, relativePath));
    found.push({ relativePath, type: dirent.isDirectory() ? "dir" : "file", size: info.size, mtime: info.mtime });
    if (dirent.isDirectory()) found.push(...(await localTree(root, relativePath)));
  }
  return found;
}

type OnProgress = (p: { bytes: number }) => void;

/** Runs the transfers through the pool, with one progress bar for all of them; returns the errors. */
async function transferAll(
  ctx: Context,
  pool: FtpPool,
  files: PlannedFile[],
  summary: Summary,
  each: (ftp: FTP, file: PlannedFile, onProgress: OnProgress) => Promise<void>,
  /** For a file that takes a segmented download: that download, which takes the pool's connections itself. */
  segmented?: (file: PlannedFile) => ((onProgress: OnProgress) => Promise<void>) | undefined,
): Promise<unknown[]> {
  const total = files.reduce((sum, f) => sum + f.size, 0);
  const label = `${summary.direction} ${files.length} file${files.length === 1 ? "" : "s"}`;
  const bar = ctx.flags.showProgress && files.length > 0 ? new ProgressBar(ctx.io.stderr, label) : undefined;
  const moving = new Map<string, number>();
  const failures: unknown[] = [];
  let lastDraw = 0;
  const draw = (force = false) => {
    const now = Date.now();
    if (bar === undefined || (!force && now - lastDraw < 100)) return;
    lastDraw = now;
    let bytes = summary.bytes;
    for (const n of moving.values()) bytes += n;
    bar.update(bytes, total);
  };
  const transfer = async (file: PlannedFile) => {
    const onProgress = ({ bytes }: { bytes: number }) => {
      moving.set(file.relativePath, bytes);
      draw();
    };
    try {
      moving.set(file.relativePath, 0);
      const own = segmented?.(file);
      if (own !== undefined) await own(onProgress);
      else await pool.run((ftp) => each(ftp, file, onProgress));
      summary.bytes += file.size;
      summary.transferred.push(file.relativePath);
      if (ctx.flags.verbose) {
        bar?.done();
        ctx.log(`${summary.direction === "download" ? "got" : "put"} ${file.relativePath} (${formatBytes(file.size)})`);
      }
    } catch (error) {
      summary.failed.push({ path: file.relativePath, error: error instanceof Error ? error.message : String(error) });
      failures.push(error);
    } finally {
      moving.delete(file.relativePath);
      draw(true);
    }
  };
  await Promise.all(files.map(transfer));
  bar?.done();
  return failures;
}

/** The longest file name and path most file systems take (Linux: NAME_MAX and PATH_MAX, less the NUL). */
const MAX_NAME_BYTES = 255;
const MAX_PATH_BYTES = 4095;

/**
 * The local path of a remote tree's entry, refused (`ERR_FTP_PATH_TOO_LONG`, before anything is
 * written) when a name or the whole path is longer than the file system takes.
 */
function localPathOf(localRoot: string, relativePath: string): string {
  const segments = relativePath.split("/");
  const localPath = join(localRoot, ...segments);
  const tooLong =
    segments.some((segment) => Buffer.byteLength(segment) > MAX_NAME_BYTES) ||
    Buffer.byteLength(resolve(localPath)) > MAX_PATH_BYTES;
  if (tooLong) {
    throw new ErrorProto(
      `a path on the server is too long for a local copy (${MAX_NAME_BYTES} bytes a name, ${MAX_PATH_BYTES} the path): ${relativePath.slice(0, 80)}...`,
      {
        code: "ERR_FTP_PATH_TOO_LONG",
      },
    );
  }
  return localPath;
}

async function mirrorDown(
  ctx: Context,
  remoteRoot: string,
  localRoot: string,
  pool: FtpPool,
  summary: Summary,
): Promise<unknown[]> {
  const tree: TreeEntry[] = await pool.run((ftp) => ftp.walk(remoteRoot));
  const algorithm = await checksumAlgorithm(ctx, pool);
  const files: PlannedFile[] = [];
  const byHash: { file: PlannedFile; localPath: string; remotePath: string }[] = [];
  const dirs: string[] = [];
  for (const entry of tree) {
    const localPath = localPathOf(localRoot, entry.relativePath);
    const local = await stat(localPath).catch(() => undefined);
    if (entry.type === "dir") {
      if (local === undefined) dirs.push(entry.relativePath);
      else if (!local.isDirectory())
        throw new CliError(`${localPath} is in the way of the directory ${entry.path}`, ExitCode.LOCAL);
    } else if (entry.type === "file") {
      const copy = local?.isFile() ? { size: local.size, mtime: local.mtime } : undefined;
      const file = {
        relativePath: entry.relativePath,
        size: entry.size ?? 0,
        ...(entry.size === undefined ? {} : { listedSize: entry.size }),
        mtime: entry.modifiedAt,
      };
      if (algorithm !== undefined && copy !== undefined && copy.size === entry.size)
        byHash.push({ file, localPath, remotePath: entry.path });
      else if (copy !== undefined && unchanged({ size: entry.size, mtime: entry.modifiedAt }, copy))
        summary.unchanged++;
      else files.push(file);
    }
  }
  if (algorithm !== undefined) files.push(...(await differingByHash(pool, algorithm, byHash, summary)));
  if (ctx.flags.dryRun) return plan(ctx, "mkdir", dirs, "get", files);
  await mkdir(localRoot, { recursive: true });
  for (const dir of dirs) await mkdir(join(localRoot, ...dir.split("/")), { recursive: true });
  summary.directoriesMade = dirs.length;
  const localFile = (file: PlannedFile) => join(localRoot, ...file.relativePath.split("/"));
  const stamp = async (file: PlannedFile) => {
    if (file.mtime !== undefined) await utimes(localFile(file), new Date(), file.mtime);
  };
  const segments = ctx.flags.segments;
  return transferAll(
    ctx,
    pool,
    files,
    summary,
    async (ftp, file, onProgress) => {
      await ftp.download(joinRemote(remoteRoot, file.relativePath), localFile(file), {
        onProgress,
        signal: ctx.signal,
        size: file.listedSize,
        fsync: ctx.flags.fsync,
        modeZ: ctx.settings.modeZ,
        ...ctx.verifyOptions(file.relativePath),
      });
      await stamp(file);
    },
    (file) =>
      segments > 1 && file.size >= MIRROR_SEGMENT_MIN
        ? async (onProgress) => {
            const remote = joinRemote(remoteRoot, file.relativePath);
            const { fsync } = ctx.flags;
            const verify = ctx.verifyOptions(file.relativePath);
            const options = { segments, onProgress, signal: ctx.signal, size: file.listedSize, fsync, ...verify };
            await pool.download(remote, localFile(file), options);
            await stamp(file);
          }
        : undefined,
  );
}

async function mirrorUp(
  ctx: Context,
  localRoot: string,
  remoteRoot: string,
  pool: FtpPool,
  summary: Summary,
): Promise<unknown[]> {
  const rootInfo = await stat(localRoot);
  if (!rootInfo.isDirectory()) throw new CliError(`${localRoot} is not a directory`, ExitCode.LOCAL);
  const local = await localTree(localRoot);
  const { remote, canStamp } = await pool.run(async (ftp) => {
    const features = await ftp.features();
    // Times are set only where they can be read back to the second: MFMT to set, MLSD to list.
    const canStamp = features.has("MFMT") && features.has("MLST");
    // The target directory is made first (with its parents), except on a dry run, where a
    // listing that fails stands for a directory not there yet.
    if (!ctx.flags.dryRun && remoteRoot !== "") await ftp.ensureDir(remoteRoot);
    try {
      return { remote: new Map((await ftp.walk(remoteRoot)).map((e) => [e.relativePath, e])), canStamp };
    } catch (error) {
      if (ctx.flags.dryRun && (ErrorPerm.isInstance(error) || ErrorTemp.isInstance(error)))
        return { remote: new Map<string, TreeEntry>(), canStamp };
      throw error;
    }
  });
  const algorithm = await checksumAlgorithm(ctx, pool);
  const dirs: string[] = [];
  const files: PlannedFile[] = [];
  const byHash: { file: PlannedFile; localPath: string; remotePath: string }[] = [];
  for (const item of local) {
    const there = remote.get(item.relativePath);
    if (item.type === "dir") {
      if (there === undefined) dirs.push(item.relativePath);
      else if (there.type !== "dir")
        throw new CliError(
          `${there.path} on the server is in the way of the directory ${item.relativePath}`,
          ExitCode.PERMANENT,
        );
    } else {
      const file = { relativePath: item.relativePath, size: item.size, mtime: item.mtime };
      if (algorithm !== undefined && there?.type === "file" && there.size === item.size) {
        byHash.push({ file, localPath: join(localRoot, ...item.relativePath.split("/")), remotePath: there.path });
      } else if (there?.type === "file" && unchanged(item, { size: there.size, mtime: there.modifiedAt })) {
        summary.unchanged++;
      } else {
        files.push(file);
      }
    }
  }
  if (algorithm !== undefined) files.push(...(await differingByHash(pool, algorithm, byHash, summary)));
  if (ctx.flags.dryRun) return plan(ctx, "mkdir", dirs, "put", files);
  await pool.run(async (ftp) => {
    for (const dir of dirs) await ftp.mkd(joinRemote(remoteRoot, dir));
  });
  summary.directoriesMade = dirs.length;
  return transferAll(ctx, pool, files, summary, async (ftp, file, onProgress) => {
    const remotePath = joinRemote(remoteRoot, file.relativePath);
    await ftp.upload(join(localRoot, ...file.relativePath.split("/")), remotePath, {
      onProgress,
      signal: ctx.signal,
      modeZ: ctx.settings.modeZ,
      ...ctx.verifyOptions(file.relativePath),
    });
    if (canStamp && file.mtime !== undefined) await ftp.setLastMod(remotePath, file.mtime).catch(() => undefined);
  });
}

/** --dry-run: what would be done, on stdout. */
function plan(ctx: Context, dirVerb: string, dirs: string[], fileVerb: string, files: PlannedFile[]): unknown[] {
  for (const dir of dirs) ctx.io.stdout.write(`${dirVerb} ${dir}\n`);
  for (const file of files) ctx.io.stdout.write(`${fileVerb} ${file.relativePath} ${file.size}\n`);
  return [];
}

export async function mirror(ctx: Context, args: string[]): Promise<void> {
  if (args.length !== 2)
    throw new CliError(
      "usage: ftplib mirror [-j N] [--segments N] [-n] <url> <local-dir>  |  ftplib mirror [-j N] [-n] <local-dir> <url>",
      ExitCode.USAGE,
    );
  const [from, to] = args as [string, string];
  if (isFtpUrl(from) === isFtpUrl(to))
    throw new CliError("mirror copies between a URL and a local directory: give one of each", ExitCode.USAGE);
  const download = isFtpUrl(from);
  const target = parseFtpUrl(download ? from : to);
  const summary: Summary = {
    direction: download ? "download" : "upload",
    transferred: [],
    unchanged: 0,
    failed: [],
    directoriesMade: 0,
    bytes: 0,
  };
  // The tree's root on the server, without a trailing slash (but "/" stays "/").
  const remoteRoot = trimTrailingSlash(target.path);
  const pool = ctx.pool(target, ctx.flags.parallel);
  let failures: unknown[];
  try {
    failures = download
      ? await mirrorDown(ctx, remoteRoot, to, pool, summary)
      : await mirrorUp(ctx, from, remoteRoot, pool, summary);
  } finally {
    await pool.close();
  }
  if (ctx.flags.dryRun) return;
  for (const failed of summary.failed) ctx.log(`ftplib: mirror: ${failed.path}: ${failed.error}`);
  if (ctx.flags.json) ctx.io.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  else if (ctx.flags.showProgress || ctx.flags.verbose) {
    const verb = download ? "downloaded" : "uploaded";
    ctx.log(
      `mirror: ${summary.transferred.length} ${verb} (${formatBytes(summary.bytes)}), ${summary.unchanged} unchanged${summary.failed.length > 0 ? `, ${summary.failed.length} FAILED` : ""}`,
    );
  }
  if (failures.length > 0) {
    throw new CliError(
      `mirror: ${failures.length} of ${failures.length + summary.transferred.length} transfers failed`,
      exitCodeOf(failures[0]),
      { cause: failures[0] },
    );
  }
}
