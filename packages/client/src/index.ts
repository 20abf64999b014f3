/**
 * @ftplib/client: Python's ftplib for TypeScript.
 */
export { FTP } from "./ftp.js";
export { FTP_PORT } from "./ftp-options.js";
export { FTP_TLS, FTPS_IMPLICIT_PORT } from "./ftp-tls.js";
export type { FTP_TLSOpenOptions, FTP_TLSOptions } from "./ftp-tls.js";
export type {
  ConnectOptions,
  FTPOptions,
  ListingOptions,
  OpenOptions,
  RetrBinaryOptions,
  SourceAddress,
  StorBinaryOptions,
} from "./ftp-options.js";
export type { UploadSource } from "./sources.js";
export type { DownloadOptions, Progress, TransferOptions } from "./file-transfers.js";
export type { Verification, VerifyMode, VerifyOptions } from "./verification.js";
export type { RemoteHash, RemoteHashOptions } from "./remote-hash.js";
export { HASH_ALGORITHMS, fileHash } from "./checksums.js";
export type { HashAlgorithm } from "./checksums.js";
export type { TreeEntry, TreeOptions } from "./directories.js";
export { FtpPool } from "./pool.js";
export { RateLimiter } from "./rate-limit.js";
export type { FtpPoolOptions } from "./pool.js";
export type { SegmentedDownloadOptions } from "./segmented-download.js";
export { ftpcp } from "./ftpcp.js";
export { allErrors, isFtpError } from "./errors.js";
export {
  ErrorPerm,
  ErrorProto,
  ErrorReply,
  ErrorTemp,
  FtpConnectionError,
  FtpError,
  FtpTimeoutError,
  FtpTlsError,
  LocalProtocolError,
  RemoteProtocolError,
} from "@ftplib/protocol";
export { connectChannel, sendcmdChannel } from "./diagnostics.js";
export {
  dosParser,
  eplfParser,
  listParsers,
  netwareParser,
  os400Parser,
  parseList,
  unixParser,
  vmsParser,
} from "./listing/index.js";
export type { FileEntry, ListOptions, ListParser } from "./listing/index.js";
export { parse150, parse227, parse229, parse257 } from "@ftplib/protocol";
export type { ByteStream, MlsxEntry, MlsxFacts, Reply, TextEncoding, Transport } from "@ftplib/protocol";
