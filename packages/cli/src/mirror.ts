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
import { mkdir, readdir, rmdir, stat, unlink, utimes } from "node:fs/promises";
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
import { type TreeFilter, treeFilter } from "./glob.js";
import { ProgressBar, formatBytes } from "./progress.js";
import { isFtpUrl, joinRemote, parseFtpUrl, redactUrl, trimTrailingSlash } from "./url.js";

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
  /** --delete: what was removed from the copy (directories after what they held). */
  deleted: string[];
  /** What --include and --exclude left out: files, and directories (each counted once, with all they hold). */
  excluded: number;
  /** How long the run took. */
  seconds: number;
}

/** An entry of either tree, by its path below the root. */
interface TreeItem {
  relativePath: string;
  type: string;
}

/** The directories above a relative path (`a/b/c`: `a`, `a/b`). */
function ancestors(relativePath: string): string[] {
  const parts = relativePath.split("/");
  return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join("/"));
}

/**
 * The copy's entries that --delete removes: those the source does not have, that the filters let
 * through (what --exclude names, or --include does not, is left alone, and so is anything in an
 * excluded directory), and a directory only when all it holds goes too. Children before parents.
 */
function deletions(copy: readonly TreeItem[], source: ReadonlySet<string>, filter: TreeFilter): TreeItem[] {
  const wanted = (e: TreeItem) =>
    !source.has(e.relativePath) &&
    ancestors(e.relativePath).every((dir) => filter.dir(dir)) &&
    (e.type === "dir" ? filter.dir(e.relativePath) : filter.file(e.relativePath));
  const candidates = copy.filter(wanted);
  const gone = new Set(candidates.map((e) => e.relativePath));
  // A directory that keeps something keeps its parents too.
  const pinned = new Set<string>();
  for (const e of copy) if (!gone.has(e.relativePath)) for (const dir of ancestors(e.relativePath)) pinned.add(dir);
  const depth = (e: TreeItem) => e.relativePath.split("/").length;
  const removed: TreeItem[] = [];
  for (const e of [...candidates].sort((a, b) => depth(b) - depth(a) || (a.relativePath < b.relativePath ? -1 : 1))) {
    if (e.type === "dir" && pinned.has(e.relativePath)) {
      for (const dir of ancestors(e.relativePath)) pinned.add(dir);
      continue;
    }
    removed.push(e);
  }
  return removed;
}

/** With --include, only the directories that hold a file to copy are made; without, all of them. */
function neededDirs(dirs: string[], files: readonly string[], filter: TreeFilter): string[] {
  if (!filter.includes) return dirs;
  const holding = new Set(files.flatMap(ancestors));
  return dirs.filter((dir) => holding.has(dir));
}

/** On a terminal (or with -v): a line per file done, above the progress bar. */
function fileLine(ctx: Context, bar: ProgressBar | undefined, line: string): void {
  if (!ctx.flags.showProgress && !ctx.flags.verbose) return;
  if (bar !== undefined) ctx.io.stderr.write("\r\x1b[K");
  ctx.log(line);
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

interface LocalItem {
  relativePath: string;
  type: "file" | "dir";
  size: number;
  mtime: Date;
}

/**
 * The local tree under `root`, parents first; links and special files are left out, and so is
 * what `filter` leaves out (counted in `excluded`), an excluded directory with all it holds.
 */
async function localTree(
  root: string,
  filter?: TreeFilter,
  excluded: { count: number } = { count: 0 },
  prefix = "",
): Promise<LocalItem[]> {
  const found: LocalItem[] = [];
  const dirents = await readdir(join(root, prefix), { withFileTypes: true });
  dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const dirent of dirents) {
    const relativePath = prefix === "" ? dirent.name : `${prefix}/${dirent.name}`;
    if (!dirent.isFile() && !dirent.isDirectory()) continue;
    if (filter !== undefined && !(dirent.isDirectory() ? filter.dir(relativePath) : filter.file(relativePath))) {
      excluded.count++;
      continue;
    }
    const info = await stat(join(root, relativePath));
    found.push({ relativePath, type: dirent.isDirectory() ? "dir" : "file", size: info.size, mtime: info.mtime });
    if (dirent.isDirectory()) found.push(...(await localTree(root, filter, excluded, relativePath)));
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
      fileLine(
        ctx,
        bar,
        `${summary.direction === "download" ? "get" : "put"} ${file.relativePath} (${formatBytes(file.size)})`,
      );
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
  filter: TreeFilter,
): Promise<unknown[]> {
  // The library's filter gets the remote path: the patterns match what is below the root.
  const below = (path: string) =>
    remoteRoot === "" ? path : remoteRoot === "/" ? path.slice(1) : path.slice(remoteRoot.length + 1);
  const walkFilter = (path: string, entry: { type: string }) => {
    const relativePath = below(path);
    const kept = entry.type === "dir" ? filter.dir(relativePath) : filter.file(relativePath);
    if (!kept && (entry.type === "file" || entry.type === "dir")) summary.excluded++;
    return kept;
  };
  const tree: TreeEntry[] = await pool.run((ftp) =>
    ftp.walk(remoteRoot, filter.active ? { filter: walkFilter } : undefined),
  );
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
  const made = neededDirs(
    dirs,
    tree.filter((e) => e.type === "file").map((e) => e.relativePath),
    filter,
  );
  // --delete: what the local copy has and the server no longer does.
  const doomed = ctx.flags.delete
    ? deletions(
        (await stat(localRoot).then(
          (s) => s.isDirectory(),
          () => false,
        ))
          ? await localTree(localRoot)
          : [],
        new Set(tree.map((e) => e.relativePath)),
        filter,
      )
    : [];
  if (ctx.flags.dryRun) return plan(ctx, "mkdir", made, "get", files, doomed);
  await mkdir(localRoot, { recursive: true });
  for (const dir of made) await mkdir(join(localRoot, ...dir.split("/")), { recursive: true });
  summary.directoriesMade = made.length;
  const localFile = (file: PlannedFile) => join(localRoot, ...file.relativePath.split("/"));
  const stamp = async (file: PlannedFile) => {
    if (file.mtime !== undefined) await utimes(localFile(file), new Date(), file.mtime);
  };
  const segments = ctx.flags.segments;
  const failures = await transferAll(
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
  await deleteAll(ctx, summary, failures, doomed, (item) => {
    const path = join(localRoot, ...item.relativePath.split("/"));
    return item.type === "dir" ? rmdir(path) : unlink(path);
  });
  return failures;
}

/**
 * --delete, after the transfers, and only when they all went well (a failed run deletes
 * nothing): each removal on a line on a terminal, and in the summary. A removal that fails is
 * a failure of the run, as a transfer's is, and the others go on.
 */
async function deleteAll(
  ctx: Context,
  summary: Summary,
  failures: unknown[],
  doomed: TreeItem[],
  remove: (item: TreeItem) => Promise<unknown>,
): Promise<void> {
  if (doomed.length === 0) return;
  if (failures.length > 0) {
    ctx.log(`ftplib: mirror: --delete: ${failures.length} transfers failed; nothing deleted`);
    return;
  }
  const refused = new Set<string>();
  for (const item of doomed) {
    // A directory whose contents could not all go stays too.
    if (item.type === "dir" && [...refused].some((path) => path.startsWith(`${item.relativePath}/`))) continue;
    try {
      await remove(item);
    } catch (error) {
      if (ctx.signal.aborted) throw error;
      refused.add(item.relativePath);
      summary.failed.push({ path: item.relativePath, error: error instanceof Error ? error.message : String(error) });
      failures.push(error);
      continue;
    }
    summary.deleted.push(item.relativePath);
    fileLine(ctx, undefined, `${item.type === "dir" ? "rmdir" : "rm"} ${item.relativePath}`);
  }
}

async function mirrorUp(
  ctx: Context,
  localRoot: string,
  remoteRoot: string,
  pool: FtpPool,
  summary: Summary,
  filter: TreeFilter,
): Promise<unknown[]> {
  const rootInfo = await stat(localRoot);
  if (!rootInfo.isDirectory()) throw new CliError(`${redactUrl(localRoot)} is not a directory`, ExitCode.LOCAL);
  const excluded = { count: 0 };
  const local = await localTree(localRoot, filter.active ? filter : undefined, excluded);
  summary.excluded = excluded.count;
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
  const made = neededDirs(
    dirs,
    local.filter((e) => e.type === "file").map((e) => e.relativePath),
    filter,
  );
  // --delete: what the server has and the local tree no longer does.
  const doomed = ctx.flags.delete
    ? deletions([...remote.values()], new Set(local.map((e) => e.relativePath)), filter)
    : [];
  if (ctx.flags.dryRun) return plan(ctx, "mkdir", made, "put", files, doomed);
  await pool.run(async (ftp) => {
    for (const dir of made) await ftp.mkd(joinRemote(remoteRoot, dir));
  });
  summary.directoriesMade = made.length;
  const failures = await transferAll(ctx, pool, files, summary, async (ftp, file, onProgress) => {
    const remotePath = joinRemote(remoteRoot, file.relativePath);
    await ftp.upload(join(localRoot, ...file.relativePath.split("/")), remotePath, {
      onProgress,
      signal: ctx.signal,
      modeZ: ctx.settings.modeZ,
      ...ctx.verifyOptions(file.relativePath),
    });
    if (canStamp && file.mtime !== undefined) await ftp.setLastMod(remotePath, file.mtime).catch(() => undefined);
  });
  await deleteAll(ctx, summary, failures, doomed, (item) => {
    const path = joinRemote(remoteRoot, item.relativePath);
    return pool.run((ftp) => (item.type === "dir" ? ftp.rmd(path) : ftp.delete(path)));
  });
  return failures;
}

/** --dry-run: what would be done, on stdout; with --delete, what would be removed (`rm`, `rmdir`). */
function plan(
  ctx: Context,
  dirVerb: string,
  dirs: string[],
  fileVerb: string,
  files: PlannedFile[],
  doomed: TreeItem[],
): unknown[] {
  for (const dir of dirs) ctx.io.stdout.write(`${dirVerb} ${dir}\n`);
  for (const file of files) ctx.io.stdout.write(`${fileVerb} ${file.relativePath} ${file.size}\n`);
  for (const item of doomed) ctx.io.stdout.write(`${item.type === "dir" ? "rmdir" : "rm"} ${item.relativePath}\n`);
  return [];
}

/**
 * The run in one line on stderr, on a terminal or not (-q: none):
 * `mirror: 3 files downloaded (1.2 MiB) in 0.8s, 5 unchanged, 1 deleted`.
 */
function summaryLine(summary: Summary): string {
  const n = summary.transferred.length;
  const verb = summary.direction === "download" ? "downloaded" : "uploaded";
  const parts = [
    `${n} file${n === 1 ? "" : "s"} ${verb} (${formatBytes(summary.bytes)}) in ${summary.seconds.toFixed(1)}s`,
    `${summary.unchanged} unchanged`,
  ];
  if (summary.deleted.length > 0) parts.push(`${summary.deleted.length} deleted`);
  if (summary.excluded > 0) parts.push(`${summary.excluded} excluded`);
  if (summary.failed.length > 0) parts.push(`${summary.failed.length} FAILED`);
  return `mirror: ${parts.join(", ")}`;
}

export async function mirror(ctx: Context, args: string[]): Promise<void> {
  if (args.length !== 2)
    throw new CliError(
      "usage: ftplib mirror [-j N] [--segments N] [-n] [--delete] [--include G] [--exclude G] <url> <local-dir>  |  ftplib mirror [options] <local-dir> <url>",
      ExitCode.USAGE,
    );
  const [from, to] = args as [string, string];
  if (isFtpUrl(from) === isFtpUrl(to))
    throw new CliError("mirror copies between a URL and a local directory: give one of each", ExitCode.USAGE);
  const download = isFtpUrl(from);
  const target = parseFtpUrl(download ? from : to);
  const started = Date.now();
  const summary: Summary = {
    direction: download ? "download" : "upload",
    transferred: [],
    unchanged: 0,
    failed: [],
    directoriesMade: 0,
    bytes: 0,
    deleted: [],
    excluded: 0,
    seconds: 0,
  };
  const filter = treeFilter(ctx.flags.include, ctx.flags.exclude);
  // The tree's root on the server, without a trailing slash (but "/" stays "/").
  const remoteRoot = trimTrailingSlash(target.path);
  const pool = ctx.pool(target, ctx.flags.parallel);
  let failures: unknown[];
  try {
    failures = download
      ? await mirrorDown(ctx, remoteRoot, to, pool, summary, filter)
      : await mirrorUp(ctx, from, remoteRoot, pool, summary, filter);
  } finally {
    await pool.close();
  }
  if (ctx.flags.dryRun) return;
  summary.seconds = Math.round(Date.now() - started) / 1000;
  for (const failed of summary.failed) ctx.log(`ftplib: mirror: ${failed.path}: ${failed.error}`);
  if (ctx.flags.json) ctx.io.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  else if (!ctx.flags.quiet) ctx.log(summaryLine(summary));
  if (failures.length > 0) {
    throw new CliError(
      `mirror: ${failures.length} of ${failures.length + summary.transferred.length + summary.deleted.length} ${ctx.flags.delete ? "transfers and deletions" : "transfers"} failed`,
      exitCodeOf(failures[0]),
      { cause: failures[0] },
    );
  }
}
