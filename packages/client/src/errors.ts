/**
 * ftplib's errors. `allErrors` covers every error raised by the connection rather than by a
 * programming mistake: FtpError (ftplib's `Error`, the base of them all), so reply and protocol
 * errors, timeouts, closed or reset connections, TLS failures. (ftplib's `all_errors`;
 * `LocalProtocolError`, for misuse, is not among them.)
 */
import {
  ErrorPerm,
  ErrorProto,
  ErrorReply,
  ErrorTemp,
  FtpConnectionError,
  FtpError,
  FtpTimeoutError,
} from "@ftplib/protocol";

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

/**
 * A timeout waiting for the server's greeting, told apart from other timeouts: an FtpTimeoutError
 * with `code` `ERR_FTP_NO_GREETING`. Often a plain connection to an implicit TLS port, where the
 * server waits for the client's TLS handshake and says nothing. Other errors are returned as they are.
 */
export function noGreeting(error: unknown, timeout: number): unknown {
  if (!(error instanceof FtpTimeoutError)) return error;
  return new FtpTimeoutError(
    `no greeting from the server within ${timeout} ms (a server of implicit TLS says nothing before the client's TLS handshake)`,
    { code: "ERR_FTP_NO_GREETING", cause: error },
  );
}
