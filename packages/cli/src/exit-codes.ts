/**
 * Exit codes that scripts can rely on: one per kind of failure, so that `$?` says what went wrong
 * without parsing messages.
 */
import {
  ErrorPerm,
  ErrorProto,
  ErrorReply,
  ErrorTemp,
  FtpConnectionError,
  FtpTlsError,
  LocalProtocolError,
} from "@ftplib/client";

export const ExitCode = {
  /** Done. */
  OK: 0,
  /** Bad command line: unknown command or option, missing argument, malformed URL. */
  USAGE: 1,
  /** A local file or directory could not be read or written. */
  LOCAL: 2,
  /** No connection, or it was lost: refused, reset, closed, timed out. */
  CONNECTION: 3,
  /** TLS failed: refused by the server (AUTH TLS), an untrusted or mismatched certificate, a failed handshake. */
  TLS: 4,
  /** The server refused the login (user, password or account). */
  LOGIN: 5,
  /** The server refused the operation for good (5xx): no such file, no permission. */
  PERMANENT: 6,
  /** The server refused the operation for now (4xx): try again later. */
  TEMPORARY: 7,
  /** The server broke the protocol: a malformed reply, a short transfer, an unsafe name. */
  PROTOCOL: 8,
  /** A bug: an error nobody expected. */
  INTERNAL: 10,
  /** Interrupted (Ctrl-C). */
  INTERRUPTED: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An error of the command line itself, carrying its exit code. */
export class CliError extends Error {
  readonly exitCode: ExitCodeValue;

  constructor(message: string, exitCode: ExitCodeValue, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}

const LOCAL_ERRNO = new Set([
  "ENOENT",
  "EACCES",
  "EPERM",
  "EISDIR",
  "ENOTDIR",
  "EEXIST",
  "ENOTEMPTY",
  "EROFS",
  "ENOSPC",
  "EMFILE",
  "ELOOP",
]);

/**
 * The exit code for an error thrown by a command.
 *
 * @returns one of {@link ExitCode}'s values: 1 to 8 for what the error says went wrong, 10 for anything else
 *   (a bug).
 */
export function exitCodeOf(error: unknown): ExitCodeValue {
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof Error && error.name === "AbortError") return ExitCode.INTERRUPTED;
  // A CR, LF or NUL in a path given on the command line: refused before anything was sent.
  if (LocalProtocolError.isInstance(error)) return ExitCode.USAGE;
  if (FtpTlsError.isInstance(error)) return ExitCode.TLS;
  // Timeouts included: FtpTimeoutError is an FtpConnectionError.
  if (FtpConnectionError.isInstance(error)) return ExitCode.CONNECTION;
  if (ErrorPerm.isInstance(error)) return ExitCode.PERMANENT;
  if (ErrorTemp.isInstance(error)) return ExitCode.TEMPORARY;
  if (ErrorProto.isInstance(error) || ErrorReply.isInstance(error)) return ExitCode.PROTOCOL;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && LOCAL_ERRNO.has(code)) return ExitCode.LOCAL;
  return ExitCode.INTERNAL;
}
