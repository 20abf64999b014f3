/**
 * Whole directories: made with their parents, removed with their contents, copied both ways. A
 * name from the server that would leave the local target directory is refused.
 */
import { mkdir, readdir } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import { ErrorPerm, ErrorProto } from "@ftplib/protocol";
import type { FTP } from "./ftp.js";
import type { FileEntry } from "./listing/index.js";
import { checkSendable } from "./options.js";

export interface TreeOptions {
  /** Which entries to copy (directories too: false skips the whole subtree). */
  filter?: (path: string, entry: { name: string; type: FileEntry["type"] }) => boolean;
}

const join2 = (dir: string, name: string) => (dir === "" || dir === "/" ? `${dir}${name}` : `${dir}/${name}`);

/** Makes `path` and its missing parents; an existing directory is fine. */
export async function ensureDir(ftp: FTP, path: string): Promise<void> {
  const absolute = path.startsWith("/");
  let current = absolute ? "/" : "";
  for (const segment of path.split("/").filter(Boolean)) {
    current = current === "" ? segment : join2(current, segment);
    try {
      await ftp.mkd(current);
    } catch (error) {
      if (!ErrorPerm.isInstance(error)) throw error;
      // Already there, or not allowed: known for sure only at the end.
    }
  }
  const here = await ftp.pwd();
  await ftp.cwd(path);
  await ftp.cwd(here);
}

/**
 * Removes `path` and everything in it; links are removed, not followed. The names of each listing
 * are checked before anything in it is removed: a name from the server that would reach outside
 * (`..`, a `/`) or cannot be sent is refused, so a hostile listing cannot aim a DELE elsewhere.
 */
export async function removeDir(ftp: FTP, path: string): Promise<void> {
  const entries = await ftp.list(path);
  for (const { name } of entries) {
    let sendable = true;
    try {
      checkSendable(ftp.encoding, [], [name]);
    } catch {
      sendable = false;
    }
    if (!sendable || name === "" || name === "." || name === ".." || name.includes("/")) {
      throw unsafeName(`refusing a name from the server that would leave ${path}: ${JSON.stringify(name)}`);
    }
  }
  for (const entry of entries) {
    const child = join2(path, entry.name);
    if (entry.type === "dir") await removeDir(ftp, child);
    else await ftp.delete(child);
  }
  await ftp.rmd(path);
}

/** One entry of a remote tree, as `walk` returns it. */
export interface TreeEntry extends FileEntry {
  /** The remote path of the entry (the walked directory joined with the names below it). */
  path: string;
  /** The path below the walked directory, `/`-separated: a name from the server, checked. */
  relativePath: string;
}

/**
 * Lists the tree under `path`, parents before children: every file, directory and link with its
 * size and time as listed, for comparing with a local tree. Links are listed, not followed. A
 * name that would leave a local copy of the tree is refused (`ERR_FTP_UNSAFE_NAME`).
 */
export async function walk(ftp: FTP, path: string, options: TreeOptions = {}): Promise<TreeEntry[]> {
  const found: TreeEntry[] = [];
  const visit = async (dir: string, prefix: string): Promise<void> => {
    for (const entry of await ftp.list(dir)) {
      if (!safeName(entry.name)) throw unsafeName(`refusing a name from the server that is not one path segment: ${JSON.stringify(entry.name)}`);
      const remotePath = join2(dir, entry.name);
      if (options.filter !== undefined && !options.filter(remotePath, entry)) continue;
      const relativePath = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
      found.push({ ...entry, path: remotePath, relativePath });
      if (entry.type === "dir") await visit(remotePath, relativePath);
    }
  };
  await visit(path, "");
  return found;
}

function unsafeName(message: string): ErrorProto {
  return new ErrorProto(message, { code: "ERR_FTP_UNSAFE_NAME" });
}

/** A listed name that is safe to use as one path segment on this machine. */
function safeName(name: string): boolean {
  return name !== "" && name !== "." && name !== ".." && !/[/\\\0]/.test(name) && !/^[A-Za-z]:/.test(name);
}

/** Copies the remote directory `remote` into the local directory `local` (made if missing). */
export async function downloadDir(ftp: FTP, remote: string, local: string, options: TreeOptions = {}): Promise<number> {
  const root = resolve(local);
  await mkdir(root, { recursive: true });
  let files = 0;
  for (const entry of await ftp.list(remote)) {
    const remotePath = join2(remote, entry.name);
    if (!safeName(entry.name)) throw unsafeName(`refusing a name from the server that would leave ${root}: ${JSON.stringify(entry.name)}`);
    const localPath = join(root, entry.name);
    // Belt and braces: the joined path must stay inside the target.
    if (relative(root, localPath).startsWith("..") || !localPath.startsWith(root + sep)) {
      throw unsafeName(`refusing ${JSON.stringify(entry.name)}: outside ${root}`);
    }
    if (options.filter !== undefined && !options.filter(remotePath, entry)) continue;
    if (entry.type === "dir") files += await downloadDir(ftp, remotePath, localPath, options);
    else if (entry.type === "file") {
      await ftp.download(remotePath, localPath);
      files++;
    }
  }
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
export async function uploadDir(ftp: FTP, local: string, remote: string, options: TreeOptions = {}): Promise<number> {
  const steps = await localTree(local, remote, options.filter);
  checkSendable(ftp.encoding, [], steps.map((step) => step.remote));
  await ensureDir(ftp, remote);
  let files = 0;
  for (const step of steps) {
    if (step.type === "dir") await ensureDir(ftp, step.remote);
    else {
      await ftp.upload(step.local, step.remote);
      files++;
    }
  }
  return files;
}
