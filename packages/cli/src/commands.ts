/** ls, get, put, cat, rm, mkdir, rmdir and mv: one connection each, QUIT at the end. */
import { stat } from "node:fs/promises";
import { basename, join } from "node:path";
import type { Writable } from "node:stream";
import {
  type DownloadOptions,
  ErrorPerm,
  ErrorProto,
  ErrorTemp,
  type FTP,
  type FileEntry,
  type TreeEntry,
} from "@ftplib/client";
import type { Context } from "./context.js";
import { CliError, ExitCode, exitCodeOf } from "./exit-codes.js";
import { expandLocalGlob, isGlob, nameMatcher } from "./glob.js";
import {
  type FtpTarget,
  isFtpUrl,
  joinRemote,
  parseFtpUrl,
  redactUrl,
  remoteBasename,
  remoteDirname,
  trimTrailingSlash,
} from "./url.js";

export type Command = (ctx: Context, args: string[]) => Promise<void>;

function expectArgs(args: string[], min: number, max: number, usage: string): void {
  if (args.length < min || args.length > max) throw new CliError(`usage: ftplib ${usage}`, ExitCode.USAGE);
}

/** An entry as --json prints it: the listing's facts, the time in ISO 8601. */
export function entryJson(entry: FileEntry): Record<string, unknown> {
  const { modifiedAt, ...rest } = entry;
  return { ...rest, ...(modifiedAt !== undefined ? { modifiedAt: modifiedAt.toISOString() } : {}) };
}

const TYPE_CHARS: Record<FileEntry["type"], string> = { dir: "d", file: "-", link: "l", unknown: "?" };

const pad2 = (n: number) => String(n).padStart(2, "0");

/** `2026-12-02 06:15`, in the local time zone (TZ), as `ls -l` shows times. */
export function localTime(date: Date): string {
  return `${date.getFullYear()}-${pad2(date.getMonth() + 1)}-${pad2(date.getDate())} ${pad2(date.getHours())}:${pad2(date.getMinutes())}`;
}

/**
 * The lines of `ls -l`: type and permissions, owner and group (columns present when the listing
 * gives them), size, local time and name. What the server did not say is left blank.
 */
function longLines(rows: { entry: FileEntry; name: string }[]): string[] {
  const hasOwner = rows.some((r) => r.entry.owner !== undefined);
  const hasGroup = rows.some((r) => r.entry.group !== undefined);
  const width = (f: (e: FileEntry) => string) => Math.max(0, ...rows.map((r) => f(r.entry).length));
  const ownerWidth = width((e) => e.owner ?? "");
  const groupWidth = width((e) => e.group ?? "");
  const sizeWidth = Math.max(
    width((e) => String(e.size ?? "")),
    1,
  );
  return rows.map(({ entry, name }) => {
    const columns = [`${TYPE_CHARS[entry.type]}${(entry.permissions ?? "").padEnd(9)}`];
    if (hasOwner) columns.push((entry.owner ?? "").padEnd(ownerWidth));
    if (hasGroup) columns.push((entry.group ?? "").padEnd(groupWidth));
    columns.push(String(entry.size ?? "").padStart(sizeWidth));
    columns.push(entry.modifiedAt !== undefined ? localTime(entry.modifiedAt) : " ".repeat(16));
    columns.push(`${name}${entry.target !== undefined ? ` -> ${entry.target}` : ""}`);
    return columns.join(" ");
  });
}

/** Paths compared segment by segment, so that a directory's entries follow it (`a`, `a/b`, `a-c`). */
function byPath(a: string, b: string): number {
  const x = a.split("/");
  const y = b.split("/");
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  return x.length - y.length;
}

/**
 * What `path` names: a file (or a link that cannot be listed as a directory), with its entry; a
 * directory; or nothing, as far as its parent's listing tells. MLST where the server has it;
 * otherwise the parent's listing, the entry picked by name (vsftpd, say), where a name starting
 * with a dot may be hidden rather than absent.
 */
async function entryOf(
  ftp: FTP,
  path: string,
): Promise<{ kind: "file"; entry: FileEntry } | { kind: "dir" } | { kind: "absent" }> {
  const name = remoteBasename(path);
  let entry: FileEntry | undefined;
  if ((await ftp.features()).has("MLST")) {
    entry = { ...(await ftp.mlst(path)), name };
  } else {
    const siblings = await ftp.list(remoteDirname(path)).catch(() => undefined);
    entry = siblings?.find((e) => e.name === name);
    if (siblings !== undefined && entry === undefined && !name.startsWith(".")) return { kind: "absent" };
  }
  if (entry === undefined || entry.type === "dir") return { kind: "dir" };
  const found = entry;
  if (found.type === "file") return { kind: "file", entry: found };
  // A link or something else: listed as a directory where it is one.
  return ftp.list(path).then(
    () => ({ kind: "dir" }) as const,
    () => ({ kind: "file", entry: found }) as const,
  );
}

/**
 * The entries a glob in the last segment of `path` names, from its directory's listing. A name
 * that is there as written is taken as written (a file called `a[1].txt`).
 */
async function globEntries(
  list: (dir: string) => Promise<FileEntry[]>,
  path: string,
): Promise<{ dir: string; entries: FileEntry[] }> {
  const dir = remoteDirname(path);
  const pattern = remoteBasename(path);
  const entries = await list(dir);
  const literal = entries.filter((e) => e.name === pattern);
  if (literal.length > 0) return { dir, entries: literal };
  const matches = nameMatcher(pattern);
  return { dir, entries: entries.filter((e) => matches(e.name)) };
}

/** True when the last segment of a remote path is a glob (`pub/*.csv`). */
function remoteGlob(path: string): boolean {
  return path !== "" && !path.endsWith("/") && isGlob(remoteBasename(path));
}

/**
 * A name from the server's listing that becomes a local file name: one path segment, no `..`,
 * no separator of any platform, no drive letter, no NUL, CR or LF; refused before anything is
 * written otherwise, as the library's tree operations refuse such names.
 */
function checkLocalName(name: string, dir: string): void {
  if (name === "" || name === "." || name === ".." || /[/\\\0\r\n]/.test(name) || /^[A-Za-z]:/.test(name)) {
    throw new ErrorProto(
      `refusing a name from the server that is not one path segment: ${JSON.stringify(name)} in ${dir || "."}`,
      { code: "ERR_FTP_UNSAFE_NAME" },
    );
  }
}

function noMatch(display: string): CliError {
  return new CliError(`no file matches ${display}`, ExitCode.PERMANENT);
}

const ls: Command = async (ctx, args) => {
  expectArgs(args, 1, 1, "ls [-l] [-R] [--json] <url>");
  const target = parseFtpUrl(args[0]!);
  const rows = await ctx.with(target, async (ftp): Promise<{ entry: FileEntry; name: string }[]> => {
    const path = target.path;
    if (remoteGlob(path)) {
      const { entries } = await globEntries((dir) => ftp.list(dir), path);
      if (entries.length === 0) throw noMatch(redactUrl(args[0]!));
      return entries.map((entry) => ({ entry, name: entry.name }));
    }
    const what = path === "" || path.endsWith("/") ? { kind: "dir" as const } : await entryOf(ftp, path);
    if (what.kind === "file") return [{ entry: what.entry, name: what.entry.name }];
    let rows: { entry: FileEntry; name: string }[];
    if (ctx.flags.recursive) {
      const tree: TreeEntry[] = await ftp.walk(trimTrailingSlash(path));
      rows = tree.map((entry) => ({ entry, name: entry.relativePath }));
    } else {
      rows = (await ftp.list(path)).map((entry) => ({ entry, name: entry.name }));
    }
    // A server that lists a missing path as empty (vsftpd): its parent said it is not there.
    if (rows.length === 0 && what.kind === "absent")
      throw new CliError(`no such file or directory: ${redactUrl(args[0]!)}`, ExitCode.PERMANENT);
    return rows;
  });
  rows.sort((a, b) => byPath(a.name, b.name));
  if (ctx.flags.json)
    ctx.io.stdout.write(
      `${JSON.stringify(
        rows.map((r) => entryJson(r.entry)),
        null,
        2,
      )}\n`,
    );
  else if (ctx.flags.long) for (const line of longLines(rows)) ctx.io.stdout.write(`${line}\n`);
  else for (const row of rows) ctx.io.stdout.write(`${row.name}\n`);
};

function fileName(path: string, what: string): string {
  const name = remoteBasename(path);
  if (name === "" || path.endsWith("/"))
    throw new CliError(`${what} names a directory, not a file: ${JSON.stringify(path)}`, ExitCode.USAGE);
  return name;
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** One server's connection (or, with -n, pool) for a run of sources on it. */
interface Session {
  list(dir: string): Promise<FileEntry[]>;
  download(path: string, destination: string | Writable, options: DownloadOptions): Promise<unknown>;
  close(): Promise<void>;
}

async function openSession(ctx: Context, target: FtpTarget): Promise<Session> {
  if (ctx.flags.segments > 1) {
    // -n N: each file over N connections (a file under 2 MiB, or stdout, takes one).
    const pool = ctx.pool(target, ctx.flags.segments);
    return {
      list: (dir) => pool.run((ftp) => ftp.list(dir)),
      download: (path, destination, options) =>
        pool.download(path, destination, { ...options, segments: ctx.flags.segments }),
      close: () => pool.close(),
    };
  }
  const ftp = await ctx.open(target);
  return {
    list: (dir) => ftp.list(dir),
    download: (path, destination, options) => ftp.download(path, destination, options),
    close: () => ctx.release(ftp),
  };
}

/** Same server, same login: one connection serves them in turn. */
const serverKey = (t: FtpTarget) => JSON.stringify([t.tls, t.host, t.port, t.user ?? null, t.password ?? null]);

/**
 * A failure of one file of several that the others can go on after (the server refused that
 * file); anything else (a lost connection, an interrupt) stops the command.
 */
function fileFailure(error: unknown): boolean {
  if (error instanceof CliError) return error.exitCode === ExitCode.PERMANENT || error.exitCode === ExitCode.TEMPORARY;
  return ErrorPerm.isInstance(error) || ErrorTemp.isInstance(error);
}

/** Runs `each` over `items`; with several, a refused one is reported and the others go on. */
async function eachFile<T>(
  ctx: Context,
  verb: string,
  items: T[],
  display: (item: T) => string,
  each: (item: T) => Promise<void>,
): Promise<void> {
  let first: unknown;
  let failed = 0;
  for (const item of items) {
    try {
      await each(item);
    } catch (error) {
      if (items.length === 1 || !fileFailure(error)) throw error;
      failed++;
      first ??= error;
      ctx.log(`ftplib: ${verb} ${display(item)}: ${(error as Error).message}`);
    }
  }
  if (failed > 0)
    throw new CliError(`${verb}: ${failed} of ${items.length} failed`, exitCodeOf(first), { cause: first });
}

const GET_USAGE = "get [-c] [-n N] [--verify] <url>... [local]";

const get: Command = async (ctx, args) => {
  if (args.length === 0) throw new CliError(`usage: ftplib ${GET_USAGE}`, ExitCode.USAGE);
  // The last argument is where to: a local path, unless it is a URL too (then: here).
  const last = args.at(-1)!;
  const lastIsSource = args.length === 1 || isFtpUrl(last);
  const sources = (lastIsSource ? args : args.slice(0, -1)).map((arg) => ({ arg, target: parseFtpUrl(arg) }));
  const local = lastIsSource ? undefined : last;
  const several = sources.length > 1 || sources.some((s) => remoteGlob(s.target.path));
  // A URL that names a directory is refused before anything connects.
  for (const { target } of sources) if (!remoteGlob(target.path)) fileName(target.path, "the URL");
  if (several) {
    const dir = local ?? ".";
    if (dir === "-") throw new CliError("get - (stdout) takes one file: use one URL (or cat)", ExitCode.USAGE);
    if (!(await isDirectory(dir)))
      throw new CliError(`${redactUrl(dir)} is not a directory: several files (or a glob) go into one`, ExitCode.LOCAL);
  }
  const options = (name: string, destination: string) => ({
    signal: ctx.signal,
    resume: ctx.flags.resume && destination !== "-",
    fsync: ctx.flags.fsync,
    ...ctx.verifyOptions(name),
  });
  const fetch = async (session: Session, path: string, name: string, size: number | undefined, to: string) => {
    const bar = ctx.progress(name);
    try {
      const destination = to === "-" ? ctx.io.stdout : to;
      await session.download(path, destination, { ...options(name, to), onProgress: bar.onProgress, size });
    } finally {
      bar.done();
    }
  };
  let session: { key: string; open: Session } | undefined;
  const sessionFor = async (target: FtpTarget) => {
    const key = serverKey(target);
    if (session?.key === key) return session.open;
    if (session !== undefined) await session.open.close();
    session = undefined;
    session = { key, open: await openSession(ctx, target) };
    return session.open;
  };
  try {
    await eachFile(
      ctx,
      "get",
      sources,
      (s) => redactUrl(s.arg),
      async ({ arg, target }) => {
        const open = await sessionFor(target);
        if (!several) {
          const name = fileName(target.path, "the URL");
          let to = local ?? name;
          if (to !== "-" && (await isDirectory(to))) to = join(to, name);
          await fetch(open, target.path, name, undefined, to);
          return;
        }
        const dir = local ?? ".";
        if (!remoteGlob(target.path)) {
          const name = fileName(target.path, "the URL");
          await fetch(open, target.path, name, undefined, join(dir, name));
          return;
        }
        const found = await globEntries((d) => open.list(d), target.path);
        const files = found.entries.filter((e) => e.type === "file");
        if (files.length === 0) throw noMatch(redactUrl(arg));
        for (const { name } of files) checkLocalName(name, found.dir);
        files.sort((a, b) => byPath(a.name, b.name));
        await eachFile(
          ctx,
          "get",
          files,
          (e) => redactUrl(joinRemote(found.dir, e.name)),
          (e) => fetch(open, joinRemote(found.dir, e.name), e.name, e.size, join(dir, e.name)),
        );
      },
    );
  } finally {
    await (session as { open: Session } | undefined)?.open.close();
  }
};

const PUT_USAGE = "put [-c] [--verify] <local>... <url>";

const put: Command = async (ctx, args) => {
  if (args.length < 2) throw new CliError(`usage: ftplib ${PUT_USAGE}`, ExitCode.USAGE);
  const url = args.at(-1)!;
  if (!isFtpUrl(url))
    throw new CliError(`put's last argument is the URL to upload to, not ${redactUrl(url)}`, ExitCode.USAGE);
  const target = parseFtpUrl(url);
  const locals = args.slice(0, -1);
  if (locals.includes("-") && locals.length > 1)
    throw new CliError("put - (stdin) takes no other file", ExitCode.USAGE);
  // What the shell left quoted: a glob that names no file as written is expanded here.
  const files: string[] = [];
  let globbed = false;
  for (const local of locals) {
    const exists =
      local === "-" ||
      (await stat(local).then(
        () => true,
        () => false,
      ));
    if (exists || !isGlob(local)) {
      files.push(local);
      continue;
    }
    globbed = true;
    const matched = await expandLocalGlob(local);
    if (matched.length === 0) throw new CliError(`no local file matches ${redactUrl(local)}`, ExitCode.LOCAL);
    files.push(...matched);
  }
  const several = files.length > 1 || globbed;
  const remoteFor = (local: string): string => {
    let remote = target.path;
    if (several) return joinRemote(remote === "" || remote.endsWith("/") ? remote : `${remote}/`, basename(local));
    if (remote === "" || remote.endsWith("/")) {
      if (local === "-") throw new CliError("put - (stdin) needs a URL that names the file", ExitCode.USAGE);
      remote = joinRemote(remote, basename(local));
    }
    return remote;
  };
  // Every local file checked before anything is sent.
  for (const local of files) {
    remoteFor(local);
    if (local !== "-" && !(await stat(local)).isFile())
      throw new CliError(`${redactUrl(local)} is not a file (mirror copies directories)`, ExitCode.LOCAL);
  }
  await ctx.with(target, (ftp) =>
    eachFile(ctx, "put", files, redactUrl, async (local) => {
      const remote = remoteFor(local);
      const bar = ctx.progress(local === "-" ? remoteBasename(remote) : basename(local));
      try {
        await ftp.upload(local === "-" ? ctx.io.stdin : local, remote, {
          onProgress: bar.onProgress,
          signal: ctx.signal,
          resume: ctx.flags.resume && local !== "-",
          modeZ: ctx.settings.modeZ,
          ...ctx.verifyOptions(remoteBasename(remote)),
        });
      } finally {
        bar.done();
      }
    }),
  );
};

const cat: Command = async (ctx, args) => {
  expectArgs(args, 1, 1, "cat <url>");
  const target = parseFtpUrl(args[0]!);
  fileName(target.path, "the URL");
  await ctx.with(target, (ftp) => ftp.download(target.path, ctx.io.stdout, { signal: ctx.signal }));
};

const rm: Command = async (ctx, args) => {
  expectArgs(args, 1, 1, "rm [-r] <url>");
  const target = parseFtpUrl(args[0]!);
  if (target.path === "") throw new CliError("rm needs a path", ExitCode.USAGE);
  await ctx.with(target, async (ftp) => {
    if (ctx.flags.recursive) await ftp.removeDir(trimTrailingSlash(target.path));
    else await ftp.delete(target.path);
  });
};

const mkdir: Command = async (ctx, args) => {
  expectArgs(args, 1, 1, "mkdir [-p] <url>");
  const target = parseFtpUrl(args[0]!);
  if (target.path === "") throw new CliError("mkdir needs a path", ExitCode.USAGE);
  await ctx.with(target, async (ftp) => {
    if (ctx.flags.parents) await ftp.ensureDir(target.path);
    else await ftp.mkd(trimTrailingSlash(target.path));
  });
};

const rmdir: Command = async (ctx, args) => {
  expectArgs(args, 1, 1, "rmdir <url>");
  const target = parseFtpUrl(args[0]!);
  if (target.path === "") throw new CliError("rmdir needs a path", ExitCode.USAGE);
  await ctx.with(target, (ftp) => ftp.rmd(trimTrailingSlash(target.path)));
};

const mv: Command = async (ctx, args) => {
  expectArgs(args, 2, 2, "mv <url> <new-name|url>");
  const [from, to] = args as [string, string];
  const target = parseFtpUrl(from);
  if (target.path === "") throw new CliError("mv needs a path to rename", ExitCode.USAGE);
  let destination: string;
  if (isFtpUrl(to)) {
    const other = parseFtpUrl(to);
    if (other.host !== target.host || other.port !== target.port)
      throw new CliError("mv renames on one server: both URLs must name the same host and port", ExitCode.USAGE);
    destination = other.path;
  } else {
    destination = to.startsWith("/") ? to : joinRemote(remoteDirname(target.path), to);
  }
  await ctx.with(target, (ftp) => ftp.rename(target.path, destination));
};

export const commands: Record<string, Command> = { ls, get, put, cat, rm, mkdir, rmdir, mv };
