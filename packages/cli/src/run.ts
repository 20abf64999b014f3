/** The command line: options parsed, the command run, errors turned into a message and an exit code. */
import { parseArgs } from "node:util";
import { commands } from "./commands.js";
import { Context, type Io } from "./context.js";
import type { ConnectSettings } from "./connect.js";
import { CliError, ExitCode, exitCodeOf } from "./exit-codes.js";
import { USAGE } from "./help.js";
import { mirror } from "./mirror.js";
import { redactSecrets, secretsOf } from "./url.js";

declare const __VERSION__: string | undefined;

const OPTIONS = {
  user: { type: "string", short: "u" },
  password: { type: "string" },
  netrc: { type: "string" },
  "no-netrc": { type: "boolean" },
  tls: { type: "boolean" },
  ca: { type: "string" },
  insecure: { type: "boolean" },
  active: { type: "boolean", short: "a" },
  timeout: { type: "string" },
  long: { type: "boolean", short: "l" },
  json: { type: "boolean" },
  recursive: { type: "boolean", short: "r" },
  parents: { type: "boolean", short: "p" },
  resume: { type: "boolean", short: "c" },
  verify: { type: "boolean" },
  checksum: { type: "boolean" },
  parallel: { type: "string", short: "j" },
  segments: { type: "string" },
  "dry-run": { type: "boolean", short: "n" },
  fsync: { type: "boolean" },
  progress: { type: "boolean" },
  quiet: { type: "boolean", short: "q" },
  verbose: { type: "boolean", short: "v" },
  debug: { type: "boolean" },
  compress: { type: "boolean", short: "z" },
  include: { type: "string", multiple: true },
  exclude: { type: "string", multiple: true },
  delete: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
} as const;

/** get's options: `-n N` is lftp's `pget -n`, the segments of one file (dry runs are mirror's). */
const GET_OPTIONS = (() => {
  const { "dry-run": _dryRun, ...rest } = OPTIONS;
  return { ...rest, segments: { type: "string", short: "n" } } as const;
})();

/** ls's options: `-R` is its recursive listing (as in ls and lftp); `-r` stays rm's. */
const LS_OPTIONS = (() => {
  const { recursive: _recursive, ...rest } = OPTIONS;
  return { ...rest, recursive: { type: "boolean", short: "R" } } as const;
})();

/** The command named on the line (the first word that is not an option), for option parsing. */
function commandName(argv: readonly string[]): string | undefined {
  return parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: false }).positionals[0];
}

function positiveNumber(text: string | undefined, name: string, max: number, whole = false): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || value > max || (whole && !Number.isInteger(value))) {
    throw new CliError(
      `--${name} must be a ${whole ? "whole " : ""}number from 1 to ${max}, not ${JSON.stringify(text)}`,
      ExitCode.USAGE,
    );
  }
  return value;
}

const processIo: Io = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env };

/**
 * Runs the command line `argv` (without node and the script) and resolves with the exit code.
 * Never rejects: every failure is reported on `io.stderr`.
 *
 * @returns the exit code: 0 when done, else one of {@link ExitCode}'s values.
 */
export async function main(
  argv: readonly string[],
  io: Io = processIo,
  signal: AbortSignal = new AbortController().signal,
): Promise<number> {
  let debugWanted = false;
  try {
    let parsed;
    try {
      const name = commandName(argv);
      const options = name === "get" ? GET_OPTIONS : name === "ls" ? LS_OPTIONS : OPTIONS;
      parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
    } catch (error) {
      throw new CliError(`${(error as Error).message}\nSee ftplib --help.`, ExitCode.USAGE);
    }
    const { values, positionals } = parsed;
    debugWanted = values.debug ?? false;
    if (values.help) {
      io.stdout.write(USAGE);
      return ExitCode.OK;
    }
    if (values.version) {
      io.stdout.write(`${typeof __VERSION__ === "string" ? __VERSION__ : "dev"}\n`);
      return ExitCode.OK;
    }
    const [name, ...args] = positionals;
    if (name === undefined) {
      io.stderr.write(USAGE);
      return ExitCode.USAGE;
    }
    const command = name === "mirror" ? mirror : Object.hasOwn(commands, name) ? commands[name] : undefined;
    if (command === undefined)
      throw new CliError(`unknown command ${JSON.stringify(name)}. See ftplib --help.`, ExitCode.USAGE);
    if (values.netrc !== undefined && values["no-netrc"])
      throw new CliError("--netrc and --no-netrc together make no sense", ExitCode.USAGE);
    const timeout = positiveNumber(values.timeout, "timeout", 86_400);
    const settings: ConnectSettings = {
      user: values.user,
      password: values.password,
      netrc: values["no-netrc"] ? null : values.netrc,
      tls: values.tls ?? false,
      active: values.active ?? false,
      ca: values.ca,
      insecure: values.insecure ?? false,
      timeout: timeout === undefined ? undefined : timeout * 1000,
      debug: values.debug ?? false,
      modeZ: values.compress ?? false,
      log: (line) => io.stderr.write(`${line}\n`),
    };
    const showProgress = !values.quiet && (values.progress === true || io.stderr.isTTY === true);
    const ctx = new Context(
      io,
      settings,
      {
        long: values.long ?? false,
        json: values.json ?? false,
        recursive: values.recursive ?? false,
        parents: values.parents ?? false,
        resume: values.resume ?? false,
        verify: values.verify ?? false,
        checksum: values.checksum ?? false,
        parallel: positiveNumber(values.parallel, "parallel", 16, true) ?? 4,
        segments: positiveNumber(values.segments, "segments", 16, true) ?? 1,
        dryRun: "dry-run" in values && values["dry-run"] === true,
        fsync: values.fsync ?? false,
        verbose: values.verbose ?? false,
        quiet: values.quiet ?? false,
        showProgress,
        include: values.include ?? [],
        exclude: values.exclude ?? [],
        delete: values.delete ?? false,
      },
      signal,
    );
    await command(ctx, args);
    return ExitCode.OK;
  } catch (error) {
    const code = signal.aborted ? ExitCode.INTERRUPTED : exitCodeOf(error);
    if (code === ExitCode.INTERRUPTED) io.stderr.write("ftplib: interrupted\n");
    else if (isBrokenPipe(error))
      return ExitCode.OK; // `ftplib cat ... | head`: the reader had enough.
    else {
      io.stderr.write(`ftplib: ${redactSecrets(messageOf(error), secretsOf(argv))}\n`);
      if (code === ExitCode.TLS)
        io.stderr.write("ftplib: a server with its own certificate authority needs --ca <file>\n");
      if (code === ExitCode.INTERNAL || debugWanted)
        io.stderr.write(`${redactSecrets((error as Error)?.stack ?? String(error), secretsOf(argv))}\n`);
    }
    return code;
  }
}

function isBrokenPipe(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause)
    if ((e as { code?: string }).code === "EPIPE") return true;
  return false;
}

/** The error's message, with its causes (the TLS reason behind an FtpTlsError, say). */
function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  let text = error.message;
  for (let cause = error.cause; cause instanceof Error; cause = cause.cause)
    if (!text.includes(cause.message)) text += `: ${cause.message}`;
  return text;
}
