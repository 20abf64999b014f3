/**
 * @ftplib/cli: the `ftplib` command-line client, and the pieces it is made of for programs that
 * want to run it or read the same URLs and netrc files.
 */
export { main } from "./run.js";
export type { Io } from "./context.js";
export { ExitCode, CliError, exitCodeOf } from "./exit-codes.js";
export type { ExitCodeValue } from "./exit-codes.js";
export { parseFtpUrl } from "./url.js";
export type { FtpTarget, TlsMode } from "./url.js";
export { findNetrcEntry, readNetrc } from "./netrc.js";
export type { NetrcEntry } from "./netrc.js";
