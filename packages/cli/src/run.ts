/** The command line: options parsed, the command run (and run again after a transient failure), errors turned into a message and an exit code. */
import { Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import {
  ErrorPerm,
  ErrorProto,
  ErrorReply,
  ErrorTemp,
  FtpConnectionError,
  FtpTlsError,
  RateLimiter,
} from "@ftplib/client";
import { commands } from "./commands.js";
import { Context, type Io } from "./context.js";
import type { ConnectSettings } from "./connect.js";
import { CliError, ExitCode, exitCodeOf } from "./exit-codes.js";
import { USAGE } from "./help.js";
import { mirror } from "./mirror.js";
import {
  type CommandName,
  type OptionValues,
  commandHelp,
  commandNameOf,
  isCommandName,
  parseLine,
} from "./options.js";
import { redactSecrets, secretsOf } from "./url.js";

declare const __VERSION__: string | undefined;

/** A number option from `min` to `max` (whole, or not), or undefined when not given. */
function numberOption(
  values: OptionValues,
  name: string,
  min: number,
  max: number,
  whole: boolean,
): number | undefined {
  const text = values[name];
  if (typeof text !== "string") return undefined;
  const value = text.trim() === "" ? Number.NaN : Number(text);
  if (!Number.isFinite(value) || value < min || value > max || (whole && !Number.isInteger(value))) {
    throw new CliError(
      `--${name} must be a ${whole ? "whole " : ""}number from ${min} to ${max}, not ${JSON.stringify(text)}`,
      ExitCode.USAGE,
    );
  }
  return value;
}

/** A repeatable option's values (none when not given). */
function strings(value: OptionValues[string]): string[] {
  return Array.isArray(value) ? value : typeof value === "string" ? [value] : [];
}

const RATE_UNITS: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** --limit-rate: bytes per second, with curl's suffixes (k, M, G: powers of 1024). */
export function parseRate(text: string): number {
  const match = /^(\d+(?:\.\d+)?|\.\d+)([kmg]?)$/i.exec(text.trim());
  const rate = match === null ? Number.NaN : Number(match[1]) * RATE_UNITS[match[2]!.toLowerCase()]!;
  if (!Number.isFinite(rate) || rate < 1)
    throw new CliError(
      `--limit-rate must be bytes per second, at least 1 (500k, 2M: k, M and G are powers of 1024), not ${JSON.stringify(text)}`,
      ExitCode.USAGE,
    );
  return Math.floor(rate);
}

/** The longest wait between two tries, however many there were (curl's too). */
const MAX_RETRY_DELAY_S = 600;

/**
 * True for a failure that another try may not meet: a 4xx reply (but 430, credentials refused),
 * a connection reset, closed or timed out. Not a 5xx reply, a refused login (530), TLS, a refused
 * or unknown host, nor anything local. The first FTP error in the cause chain decides.
 */
export function isTransient(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (FtpTlsError.isInstance(e) || ErrorPerm.isInstance(e) || ErrorProto.isInstance(e)) return false;
    if (ErrorTemp.isInstance(e)) return e.replyCode !== 430;
    if (ErrorReply.isInstance(e)) return false;
    if (FtpConnectionError.isInstance(e)) {
      const code = (e as { code?: string }).code;
      return !(code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EHOSTUNREACH" || code === "ENETUNREACH");
    }
  }
  return false;
}

/** Codes of a certificate that was not trusted (Node's and OpenSSL's verification results). */
const CERTIFICATE_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "CERT_SIGNATURE_FAILURE",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "HOSTNAME_MISMATCH",
]);

/** The `code` of the error and of each of its causes, outermost first. */
function causeCodes(error: unknown): string[] {
  const codes: string[] = [];
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") codes.push(code);
  }
  return codes;
}

/** A line that says what to do about `error`, when there is one. */
function hintFor(error: unknown): string | undefined {
  const codes = causeCodes(error);
  if (codes.some((c) => c === "ERR_TLS_CERT_ALTNAME_INVALID" || c === "HOSTNAME_MISMATCH"))
    return "the certificate is for another name: connect by a name it has";
  if (codes.some((c) => CERTIFICATE_CODES.has(c)))
    return "a server with its own certificate authority needs --ca <file>";
  if (codes.includes("ERR_FTP_NO_GREETING"))
    return "no greeting from the server; if it speaks implicit TLS, use ftps://";
  if (codes.includes("ERR_FTP_TLS_CLEAR_TEXT"))
    return "the server does not speak implicit TLS here: use ftpes:// (AUTH TLS), or ftp:// for plain FTP";
  return undefined;
}

/**
 * What a try of the command writes on stdout. Data streamed there (cat, get -) goes at once and
 * is counted: a command that wrote some cannot be tried again. A document made at the end (a
 * listing, mirror's plan or summary) is held until the last try, so that a retry prints it once.
 */
interface TryOutput {
  stream: Io["stdout"];
  /** Bytes that went to stdout in this try already. */
  written(): number;
  /** The try is over and counts: what it held goes out. */
  keep(): Promise<void>;
}

function streamedOutput(stdout: Io["stdout"]): TryOutput {
  let written = 0;
  const stream = new Proxy(stdout, {
    get(target, property) {
      if (property === "write")
        return (chunk: string | Uint8Array, ...rest: unknown[]) => {
          written += chunk.length;
          return (target.write as (...args: unknown[]) => boolean)(chunk, ...rest);
        };
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { stream, written: () => written, keep: () => Promise.resolve() };
}

function heldOutput(stdout: Io["stdout"]): TryOutput {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  return {
    stream,
    written: () => 0,
    keep: () =>
      chunks.length === 0
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) =>
            stdout.write(Buffer.concat(chunks), (e) => (e ? reject(e) : resolve())),
          ),
  };
}

const processIo: Io = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env };

const version = () => `${typeof __VERSION__ === "string" ? __VERSION__ : "dev"}\n`;

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
  // The passwords of the line, kept out of every message (the URLs', and --password's).
  const secrets = secretsOf(argv);
  const redact = (text: string) => redactSecrets(text, secrets);
  try {
    const name = commandNameOf(argv);
    if (name === "help") {
      const { positionals } = parseLine(argv, undefined);
      const about = positionals[1];
      if (about === undefined) io.stdout.write(USAGE);
      else if (isCommandName(about)) io.stdout.write(commandHelp(about));
      else throw new CliError(`unknown command ${JSON.stringify(about)}. See ftplib --help.`, ExitCode.USAGE);
      return ExitCode.OK;
    }
    if (name !== undefined && !isCommandName(name))
      throw new CliError(`unknown command ${JSON.stringify(name)}. See ftplib --help.`, ExitCode.USAGE);
    const { values, positionals } = parseLine(argv, name);
    debugWanted = values.debug === true;
    if (values.help) {
      io.stdout.write(name === undefined ? USAGE : commandHelp(name));
      return ExitCode.OK;
    }
    if (values.version) {
      io.stdout.write(version());
      return ExitCode.OK;
    }
    if (name === undefined) {
      io.stderr.write(USAGE);
      return ExitCode.USAGE;
    }
    return await run(name, positionals.slice(1), values, io, signal, redact);
  } catch (error) {
    return failed(error, io, signal, debugWanted, redact);
  }
}

/**
 * Reports `error` on stderr (with a hint where there is one) and returns its exit code. Every line
 * goes through `redact`: a message may quote the command line (an unknown option, a malformed URL).
 */
function failed(
  error: unknown,
  io: Io,
  signal: AbortSignal,
  debugWanted: boolean,
  redact: (text: string) => string,
): number {
  const code = signal.aborted ? ExitCode.INTERRUPTED : exitCodeOf(error);
  if (code === ExitCode.INTERRUPTED) io.stderr.write("ftplib: interrupted\n");
  else if (isBrokenPipe(error))
    return ExitCode.OK; // `ftplib cat ... | head`: the reader had enough.
  else {
    io.stderr.write(`ftplib: ${redact(messageOf(error))}\n`);
    const hint = hintFor(error);
    if (hint !== undefined) io.stderr.write(`ftplib: ${hint}\n`);
    if (code === ExitCode.INTERNAL || debugWanted)
      io.stderr.write(`${redact((error as Error)?.stack ?? String(error))}\n`);
  }
  return code;
}

async function run(
  name: CommandName,
  args: string[],
  values: OptionValues,
  io: Io,
  signal: AbortSignal,
  redact: (text: string) => string,
): Promise<number> {
  const command = name === "mirror" ? mirror : commands[name]!;
  const flag = (option: string) => values[option] === true;
  if (typeof values.netrc === "string" && flag("no-netrc"))
    throw new CliError("--netrc and --no-netrc together make no sense", ExitCode.USAGE);
  const timeout = numberOption(values, "timeout", 0, 86_400, false);
  const retries = numberOption(values, "retry", 0, 100, true) ?? 0;
  const retryDelay = numberOption(values, "retry-delay", 0, MAX_RETRY_DELAY_S, false) ?? 1;
  const rate = typeof values["limit-rate"] === "string" ? parseRate(values["limit-rate"]) : undefined;
  const streams = name === "cat" || name === "get";
  const settings: ConnectSettings = {
    user: typeof values.user === "string" ? values.user : undefined,
    password: typeof values.password === "string" ? values.password : undefined,
    netrc: flag("no-netrc") ? null : typeof values.netrc === "string" ? values.netrc : undefined,
    tls: flag("tls"),
    active: flag("active"),
    ca: typeof values.ca === "string" ? values.ca : undefined,
    insecure: flag("insecure"),
    timeout: timeout === undefined ? undefined : timeout * 1000,
    debug: flag("debug"),
    modeZ: flag("compress"),
    ...(rate !== undefined ? { rateLimit: new RateLimiter(rate) } : {}),
    log: (line) => io.stderr.write(`${redact(line)}\n`),
  };
  const showProgress = !flag("quiet") && (flag("progress") || io.stderr.isTTY === true);
  const flags = {
    long: flag("long"),
    json: flag("json"),
    recursive: flag("recursive"),
    parents: flag("parents"),
    resume: flag("resume"),
    verify: flag("verify"),
    checksum: flag("checksum"),
    parallel: numberOption(values, "parallel", 1, 16, true) ?? 4,
    segments: numberOption(values, "segments", 1, 16, true) ?? 1,
    dryRun: flag("dry-run"),
    fsync: flag("fsync"),
    verbose: flag("verbose"),
    quiet: flag("quiet"),
    showProgress,
    include: strings(values.include),
    exclude: strings(values.exclude),
    delete: flag("delete"),
  };
  const tryOutput = () => (streams ? streamedOutput(io.stdout) : heldOutput(io.stdout));
  let output = tryOutput();
  // One context for all the tries (credentials read once, warnings said once); its stdout is the try's.
  const stdout = new Proxy(io.stdout, {
    get(_target, property) {
      const stream = output.stream;
      const value: unknown = Reflect.get(stream, property, stream);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(stream) : value;
    },
  });
  const ctx = new Context({ ...io, stdout }, settings, flags, signal);
  for (let attempt = 1; ; attempt++, output = tryOutput()) {
    try {
      await command(ctx, args);
      await output.keep();
      return ExitCode.OK;
    } catch (error) {
      const left = retries - attempt + 1;
      // stdin read (put -) cannot be read again either.
      const stdinRead = (io.stdin as { readableDidRead?: boolean }).readableDidRead === true;
      if (left <= 0 || signal.aborted || !isTransient(error) || output.written() > 0 || stdinRead) {
        await output.keep().catch(() => undefined);
        throw error;
      }
      const delay = Math.min(retryDelay * 2 ** (attempt - 1), MAX_RETRY_DELAY_S);
      io.stderr.write(
        `ftplib: ${redact(messageOf(error))}\nftplib: a transient failure: trying again in ${delay} s (${left} ${left === 1 ? "retry" : "retries"} left)\n`,
      );
      await sleep(delay * 1000, undefined, { signal }).catch(() => undefined);
      if (signal.aborted) throw error;
    }
  }
}

function isBrokenPipe(error: unknown): boolean {
  return causeCodes(error).includes("EPIPE");
}

/** The error's message, with its causes (the TLS reason behind an FtpTlsError, say). */
function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  let text = error.message;
  for (let cause = error.cause; cause instanceof Error; cause = cause.cause)
    if (!text.includes(cause.message)) text += `: ${cause.message}`;
  return text;
}
