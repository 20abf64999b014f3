/**
 * Whole directories: made with their parents, removed with their contents, copied both ways. A
 * name from the server that would leave the local target directory is refused.
 */
import { mkdir, readdir, stat } from "node:fs/promises";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { ErrorPerm, ErrorProto, utf8 } from "@ftplib/protocol";
import {
  type DownloadOptions,
  type FileClient,
  type Progress,
  type TransferOptions,
  progressReporter,
} from "./file-transfers.js";
import { type VerifyMode, type VerifyOptions, checkVerifyOptions } from "./verification.js";
import type { ListingOptions } from "./ftp-options.js";
import type { FileEntry } from "./listing/index.js";
import { checkSendable, functionOption, integerOption } from "./options.js";

/**
 * The calls a tree operation makes: a session's, run at once, since the operation holds the
 * connection's turn for all of them (see FTP.direct).
 */
export interface TreeClient extends FileClient {
  cwd(dirname: string): Promise<string>;
  delete(filename: string): Promise<string>;
  list(path?: string, options?: ListingOptions & { maxBytes?: number }): Promise<FileEntry[]>;
  mkd(dirname: string): Promise<string>;
  pwd(): Promise<string>;
  rmd(dirname: string): Promise<string>;
  download(remote: string, destination: string | Buffer, options?: DownloadOptions): Promise<number>;
  upload(source: string, remote: string, options?: TransferOptions): Promise<number>;
}

/**
 * What `walk`, `uploadDir` and `downloadDir` take.
 *
 * @group Files and listings
 */
export interface TreeOptions {
  /** Which entries to copy (directories too: false skips the whole subtree). */
  filter?: (path: string, entry: { name: string; type: FileEntry["type"] }) => boolean;
  /**
   * How many levels below the directory a tree may go (default 64; 1: its own entries only).
   * A deeper tree fails with `ERR_FTP_TREE_TOO_DEEP` (a server whose tree never ends, say).
   */
  maxDepth?: number;
  /** downloadDir and uploadDir: each file verified, as `verify` on a transfer (see VerifyOptions). */
  verify?: VerifyMode;
  /** Called for each verified file, as `onVerify` on a transfer. */
  onVerify?: VerifyOptions["onVerify"];
  /**
   * downloadDir and uploadDir: the whole tree's progress, as `onProgress` on a transfer: `bytes`
   * of all its files, `total` their sizes added up (null when a listing leaves one out), and one
   * `final` report once every file is copied.
   */
  onProgress?: (progress: Progress) => void;
}

/** A tree's progress: each file's reports added to the bytes of the files before it. */
function treeProgress(onProgress: TreeOptions["onProgress"], total: number | null) {
  const tree = progressReporter(onProgress, total);
  return {
    /** The `onProgress` of one file's transfer. */
    file(): ((progress: Progress) => void) | undefined {
      if (onProgress === undefined) return undefined;
      let counted = 0;
      return (progress) => {
        tree.add(progress.bytes - counted);
        counted = progress.bytes;
      };
    },
    finish: () => tree.finish(),
  };
}

const join2 = (dir: string, name: string) => (dir === "" || dir === "/" ? `${dir}${name}` : `${dir}/${name}`);

/** Makes `path` and its missing parents; an existing directory is fine. */
export async function ensureDir(ftp: TreeClient, path: string): Promise<void> {
  const absolute = path.startsWith("/");
  let current = absolute ? "/" : "";
  for (const segment of path.split("/").filter(Boolean)) {
    current = current === "" ? segment : join2(current, segment);
    try {
      await ftp.mkd(current);
    } catch (error) {
      if (!(error instanceof ErrorPerm)) throw error;
      // Already there, or not allowed: known for sure only at the end.
    }
  }
  const here = await ftp.pwd();
  await ftp.cwd(path);
  await ftp.cwd(here);
}

/**
 * Removes `path` and everything in it; links are removed, not followed. The whole tree is walked
 * first (see `walk`), so that a name from the server that would reach outside (`..`, a `/`) or
 * cannot be sent, a loop or too deep a tree is refused before anything is removed: a hostile
 * listing cannot aim a DELE elsewhere.
 */
export async function removeDir(ftp: TreeClient, path: string): Promise<void> {
  const tree = await walk(ftp, path);
  // Children before their parents: the walk's order, reversed.
  for (const entry of tree.reverse()) {
    if (entry.type === "dir") await ftp.rmd(entry.path);
    else await ftp.delete(entry.path);
  }
  await ftp.rmd(path);
}

/**
 * One entry of a remote tree, as `walk` returns it.
 *
 * @group Files and listings
 */
export interface TreeEntry extends FileEntry {
  /** The remote path of the entry (the walked directory joined with the names below it). */
  path: string;
  /** The path below the walked directory, `/`-separated: a name from the server, checked. */
  relativePath: string;
}

/** How deep a tree may go by default: deeper than any real tree, shallow enough to end a loop soon. */
export const DEFAULT_MAX_DEPTH = 64;

/**
 * Lists the tree under `path`, parents before children: every file, directory and link with its
 * size and time as listed, for comparing with a local tree. Links are listed, not followed. A
 * name that would leave a local copy of the tree is refused (`ERR_FTP_UNSAFE_NAME`). A tree
 * that never ends fails in bounded time: a directory that MLSD gives the `unique` fact of one of
 * its parents (`ERR_FTP_TREE_LOOP`), or entries more than `maxDepth` levels down
 * (`ERR_FTP_TREE_TOO_DEEP`).
 */
export async function walk(ftp: TreeClient, path: string, options: TreeOptions = {}): Promise<TreeEntry[]> {
  const maxDepth = integerOption("maxDepth", options.maxDepth, DEFAULT_MAX_DEPTH, 1, 1 << 16);
  const found: TreeEntry[] = [];
  const visit = async (
    dir: string,
    prefix: string,
    depth: number,
    parents: ReadonlyMap<string, string>,
  ): Promise<void> => {
    const entries = await ftp.list(dir);
    checkNames(ftp, dir, entries);
    const kept =
      options.filter === undefined
        ? entries
        : entries.filter((entry) => options.filter!(join2(dir, entry.name), entry));
    if (kept.length > 0 && depth > maxDepth) {
      throw new ErrorProto(
        `the tree under ${path} goes deeper than ${maxDepth} levels (the maxDepth option) at ${dir}`,
        { code: "ERR_FTP_TREE_TOO_DEEP" },
      );
    }
    for (const entry of kept) {
      const remotePath = join2(dir, entry.name);
      const relativePath = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
      found.push({ ...entry, path: remotePath, relativePath });
      if (entry.type !== "dir") continue;
      const unique = entry.facts?.unique?.toLowerCase();
      const again = unique === undefined ? undefined : parents.get(unique);
      if (again !== undefined) {
        throw new ErrorProto(
          `${remotePath} is ${again} again (the same MLSD unique fact): the tree under ${path} loops`,
          { code: "ERR_FTP_TREE_LOOP" },
        );
      }
      await visit(
        remotePath,
        relativePath,
        depth + 1,
        unique === undefined ? parents : new Map([...parents, [unique, remotePath]]),
      );
    }
  };
  await visit(path, "", 1, new Map());
  return found;
}

/** Refuses a listing with a name that is not one safe path segment, or with one name twice. */
function checkNames(ftp: TreeClient, dir: string, entries: readonly FileEntry[]): void {
  const names = new Set<string>();
  for (const { name } of entries) {
    if (!safeName(ftp, name))
      throw unsafeName(
        `refusing a name from the server that is not one path segment: ${JSON.stringify(name)} in ${dir}`,
      );
    if (names.has(name))
      throw unsafeName(`refusing a listing of ${dir} that gives the name ${JSON.stringify(name)} twice`);
    names.add(name);
  }
}

function unsafeName(message: string): ErrorProto {
  return new ErrorProto(message, { code: "ERR_FTP_UNSAFE_NAME" });
}

/**
 * A listed name that is safe to use as one path segment here and in a command: not empty, `.` or
 * `..`, no `/` or `\\`, no drive letter, no NUL, CR or LF, and sendable in the connection's encoding.
 */
function safeName(ftp: TreeClient, name: string): boolean {
  if (name === "" || name === "." || name === ".." || /[/\\\0\r\n]/.test(name) || /^[A-Za-z]:/.test(name)) return false;
  try {
    checkSendable(ftp.encoding, [], [name]);
    return true;
  } catch {
    return false;
  }
}

/** The longest file name and path most file systems take (Linux: NAME_MAX and PATH_MAX, less the NUL). */
const MAX_NAME_BYTES = 255;
const MAX_PATH_BYTES = 4095;

/** Whether `text` holds a lone surrogate: a byte that the connection's encoding kept as it was. */
const holdsRawBytes = (text: string) =>
  /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?:^|[^\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);

/**
 * The local path of `relativePath` under `root`: text, or bytes when a name holds bytes that
 * were not valid in the connection's encoding (they are written as received, as a file name on
 * Linux is bytes). Too long a name or path for the file system fails with `ERR_FTP_PATH_TOO_LONG`.
 */
function localPathOf(root: string, relativePath: string): string | Buffer {
  const segments = relativePath.split("/");
  const raw = segments.some(holdsRawBytes);
  const bytes = segments.map((segment) => (raw ? Buffer.from(utf8.encode(segment)) : Buffer.from(segment, "utf8")));
  const long = bytes.find((segment) => segment.length > MAX_NAME_BYTES);
  if (long !== undefined)
    throw pathTooLong(
      `a name from the server is longer than ${MAX_NAME_BYTES} bytes: ${JSON.stringify(relativePath.slice(0, 80))}`,
    );
  const local = Buffer.concat([Buffer.from(root, "utf8"), ...bytes.flatMap((segment) => [Buffer.from(sep), segment])]);
  if (local.length > MAX_PATH_BYTES)
    throw pathTooLong(
      `the local path of ${JSON.stringify(relativePath.slice(0, 80))}... is longer than ${MAX_PATH_BYTES} bytes`,
    );
  return raw ? local : join(root, ...segments);
}

function pathTooLong(message: string, cause?: unknown): ErrorProto {
  return new ErrorProto(message, { code: "ERR_FTP_PATH_TOO_LONG", ...(cause === undefined ? {} : { cause }) });
}

/** Runs a file system step; a path the file system finds too long fails as {@link pathTooLong}. */
async function onDisk<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if ((error as { code?: unknown }).code === "ENAMETOOLONG")
      throw pathTooLong(`a local path is too long for the file system`, error);
    throw error;
  }
}

/**
 * Copies the remote directory `remote` into the local directory `local` (made if missing). The
 * tree is walked first (see `walk`: unsafe names, loops and depth are refused before anything is
 * written); then its directories are made and its files downloaded, each atomically.
 */
export async function downloadDir(
  ftp: TreeClient,
  remote: string,
  local: string,
  options: TreeOptions = {},
): Promise<number> {
  checkVerifyOptions(options);
  functionOption("onProgress", options.onProgress);
  const root = resolve(local);
  await mkdir(root, { recursive: true });
  const tree = await walk(ftp, remote, options);
  const steps = tree
    .filter((entry) => entry.type === "dir" || entry.type === "file")
    .map((entry) => ({ entry, localPath: localPathOf(root, entry.relativePath) }));
  for (const { localPath } of steps) {
    // Belt and braces: the joined path must stay inside the target.
    const text = typeof localPath === "string" ? localPath : localPath.toString("utf8");
    const below = relative(root, text);
    if (
      below === "" ||
      below === ".." ||
      below.startsWith(`..${sep}`) ||
      isAbsolute(below) ||
      !text.startsWith(root + sep)
    ) {
      throw unsafeName(`refusing ${JSON.stringify(text)}: outside ${root}`);
    }
  }
  const sizes = steps.filter((s) => s.entry.type === "file").map((s) => s.entry.size);
  const progress = treeProgress(
    options.onProgress,
    sizes.every((size) => size !== undefined) ? sizes.reduce((n, size) => n + size, 0) : null,
  );
  let files = 0;
  for (const { entry, localPath } of steps) {
    if (entry.type === "dir") await onDisk(() => mkdir(localPath, { recursive: true }));
    else {
      // The listing's size saves a SIZE per file.
      const each = { verify: options.verify, onVerify: options.onVerify, onProgress: progress.file() };
      await onDisk(() =>
        ftp.download(entry.path, localPath, entry.size === undefined ? each : { ...each, size: entry.size }),
      );
      files++;
    }
  }
  progress.finish();
  return files;
}

/** One step of an upload of a tree: a directory to make or a file to send. */
interface UploadStep {
  readonly type: "dir" | "file";
  readonly local: string;
  readonly remote: string;
}

/** The directories and files under `local` that pass `filter`, parents before their contents. */
async function localTree(local: string, remote: string, filter: TreeOptions["filter"]): Promise<UploadStep[]> {
  const steps: UploadStep[] = [];
  for (const dirent of await readdir(local, { withFileTypes: true })) {
    const remotePath = join2(remote, dirent.name);
    const type = dirent.isDirectory() ? "dir" : dirent.isFile() ? "file" : "unknown";
    if (filter !== undefined && !filter(remotePath, { name: dirent.name, type })) continue;
    if (type === "unknown") continue;
    const localPath = join(local, dirent.name);
    steps.push({ type, local: localPath, remote: remotePath });
    if (type === "dir") steps.push(...(await localTree(localPath, remotePath, filter)));
  }
  return steps;
}

/**
 * Copies the local directory `local` into the remote directory `remote` (made if missing). The
 * tree is read first, so that a local name that cannot be sent fails the call before any upload.
 */
export async function uploadDir(
  ftp: TreeClient,
  local: string,
  remote: string,
  options: TreeOptions = {},
): Promise<number> {
  checkVerifyOptions(options);
  functionOption("onProgress", options.onProgress);
  const steps = await localTree(local, remote, options.filter);
  checkSendable(
    ftp.encoding,
    [],
    steps.map((step) => step.remote),
  );
  let total = 0;
  if (options.onProgress !== undefined)
    for (const step of steps) if (step.type === "file") total += (await stat(step.local)).size;
  const progress = treeProgress(options.onProgress, total);
  await ensureDir(ftp, remote);
  let files = 0;
  for (const step of steps) {
    if (step.type === "dir") await ensureDir(ftp, step.remote);
    else {
      const each = { verify: options.verify, onVerify: options.onVerify, onProgress: progress.file() };
      await ftp.upload(step.local, step.remote, each);
      files++;
    }
  }
  progress.finish();
  return files;
}
