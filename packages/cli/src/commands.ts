/** ls, get, put, cat, rm, mkdir, rmdir and mv: one connection each, QUIT at the end. */
import { stat } from "node:fs/promises";
import { basename, join } from "node:path";
import type { FileEntry } from "@ftplib/client";
import type { Context } from "./context.js";
import { CliError, ExitCode } from "./exit-codes.js";
import { isFtpUrl, joinRemote, parseFtpUrl, remoteBasename, remoteDirname, trimTrailingSlash } from "./url.js";

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

/** One line of `ls -l`. */
function longLine(entry: FileEntry): string {
  const mode = `${TYPE_CHARS[entry.type]}${entry.permissions ?? "---------"}`;
  const size = String(entry.size ?? "-").padStart(12);
  const time =
    entry.modifiedAt !== undefined ? entry.modifiedAt.toISOString().slice(0, 16).replace("T", " ") : "????-??-?? ??:??";
  return `${mode} ${size} ${time} ${entry.name}${entry.target !== undefined ? ` -> ${entry.target}` : ""}`;
}

const ls: Command = async (ctx, args) => {
  expectArgs(args, 1, 1, "ls [-l] [--json] <url>");
  const target = parseFtpUrl(args[0]!);
  const entries = await ctx.with(target, (ftp) => ftp.list(target.path));
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (ctx.flags.json) ctx.io.stdout.write(`${JSON.stringify(entries.map(entryJson), null, 2)}\n`);
  else for (const entry of entries) ctx.io.stdout.write(`${ctx.flags.long ? longLine(entry) : entry.name}\n`);
};

function fileName(path: string, what: string): string {
  const name = remoteBasename(path);
  if (name === "" || path.endsWith("/"))
    throw new CliError(`${what} names a directory, not a file: ${JSON.stringify(path)}`, ExitCode.USAGE);
  return name;
}

const get: Command = async (ctx, args) => {
  expectArgs(args, 1, 2, "get [--resume] [-n N] [--verify] <url> [local]");
  const target = parseFtpUrl(args[0]!);
  const name = fileName(target.path, "the URL");
  let local = args[1] ?? name;
  if (
    local !== "-" &&
    (await stat(local).then(
      (s) => s.isDirectory(),
      () => false,
    ))
  )
    local = join(local, name);
  const bar = ctx.progress(name);
  const destination = local === "-" ? ctx.io.stdout : local;
  const options = {
    onProgress: bar.onProgress,
    signal: ctx.signal,
    resume: ctx.flags.resume && local !== "-",
    fsync: ctx.flags.fsync,
    ...ctx.verifyOptions(name),
  };
  try {
    if (ctx.flags.segments > 1) {
      // -n N: one file over N connections (a file under 2 MiB, or stdout, takes one).
      const pool = ctx.pool(target, ctx.flags.segments);
      try {
        await pool.download(target.path, destination, { ...options, segments: ctx.flags.segments });
      } finally {
        await pool.close();
      }
    } else {
      await ctx.with(target, (ftp) => ftp.download(target.path, destination, options));
    }
  } finally {
    bar.done();
  }
};

const put: Command = async (ctx, args) => {
  expectArgs(args, 2, 2, "put [--resume] [--verify] <local> <url>");
  const [local, url] = args as [string, string];
  const target = parseFtpUrl(url);
  let remote = target.path;
  if (remote === "" || remote.endsWith("/")) {
    if (local === "-") throw new CliError("put - (stdin) needs a URL that names the file", ExitCode.USAGE);
    remote = joinRemote(remote, basename(local));
  }
  if (local !== "-" && !(await stat(local)).isFile())
    throw new CliError(`${local} is not a file (mirror copies directories)`, ExitCode.LOCAL);
  const bar = ctx.progress(local === "-" ? remoteBasename(remote) : basename(local));
  try {
    await ctx.with(target, (ftp) =>
      ftp.upload(local === "-" ? ctx.io.stdin : local, remote, {
        onProgress: bar.onProgress,
        signal: ctx.signal,
        resume: ctx.flags.resume && local !== "-",
        modeZ: ctx.settings.modeZ,
        ...ctx.verifyOptions(remoteBasename(remote)),
      }),
    );
  } finally {
    bar.done();
  }
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
