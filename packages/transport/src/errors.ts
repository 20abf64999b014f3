/**
 * Node's socket and TLS errors, translated into the contract's error classes with the original
 * error as `cause`.
 */
import { FtpConnectionError, FtpError, FtpTlsError } from "@ftplib/protocol";

// Error codes that come from TLS: OpenSSL's (ERR_SSL_*), Node's (ERR_TLS_*), and verification's.
const TLS_CODES =
  /^(ERR_SSL_|ERR_TLS_|UNABLE_TO_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT|HOSTNAME_MISMATCH|ERR_OSSL_)/;

/** The contract's error for anything a socket threw. FtpErrors pass through unchanged. */
export function toFtpError(error: unknown, what: string): Error {
  if (FtpError.isInstance(error)) return error;
  const code = typeof (error as { code?: unknown })?.code === "string" ? (error as { code: string }).code : undefined;
  const detail = error instanceof Error ? error.message : String(error);
  if (code !== undefined && TLS_CODES.test(code)) {
    return new FtpTlsError(`${what}: ${detail}`, { code, cause: error });
  }
  return new FtpConnectionError(`${what}: ${detail}`, { code: code ?? "ERR_FTP_CONNECTION", cause: error });
}
