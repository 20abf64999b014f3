/**
 * ftplib's errors. `allErrors` covers every error raised by the connection rather than by a
 * programming mistake: FtpError (ftplib's `Error`, the base of them all), so reply and protocol
 * errors, timeouts, closed or reset connections, TLS failures. (ftplib's `all_errors`;
 * `LocalProtocolError`, for misuse, is not among them.)
 */
import { ErrorPerm, ErrorProto, ErrorReply, ErrorTemp, FtpConnectionError, FtpError } from "@ftplib/protocol";

/**
 * The error classes that together cover every error of the connection.
 *
 * @group Errors
 */
export const allErrors = [FtpError, ErrorReply, ErrorTemp, ErrorPerm, ErrorProto, FtpConnectionError] as const;

/** The connection is gone: closed, reset, timed out, or a 421 (the server closing the session). */
export function connectionLost(error: unknown): boolean {
  return error instanceof FtpConnectionError || (error instanceof ErrorTemp && error.replyCode === 421);
}

/**
 * True for any error in {@link allErrors} (from any copy of the package).
 *
 * @returns true when `error` is one of the classes of {@link allErrors}.
 * @group Errors
 */
export function isFtpError(error: unknown): error is FtpError {
  return error instanceof FtpError;
}
