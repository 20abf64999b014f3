/**
 * `ftp://`, `ftps://` and `ftpes://` URLs: user, password, host, port and path.
 *
 * - `ftp://` is plain FTP (or explicit TLS with `--tls`), port 21;
 * - `ftps://` is implicit FTPS (TLS from the first byte), port 990, as curl and lftp read it;
 * - `ftpes://` is explicit FTPS (AUTH TLS on port 21), as FileZilla writes it.
 *
 * The path is relative to the login directory (RFC 1738): `ftp://host/pub/x` is `pub/x`, and an
 * absolute path starts with `%2F` (`ftp://host/%2Fetc/motd` is `/etc/motd`).
 */
import { FTP_PORT, FTPS_IMPLICIT_PORT } from "@ftplib/client";
import { CliError, ExitCode } from "./exit-codes.js";

export type TlsMode = "none" | "explicit" | "implicit";

export interface FtpTarget {
  tls: TlsMode;
  host: string;
  port: number;
  /** From the URL, percent-decoded. */
  user?: string;
  password?: string;
  /** The path on the server: relative to the login directory unless it starts with `/`. */
  path: string;
}

const SCHEMES: Record<string, { tls: TlsMode; port: number }> = {
  "ftp:": { tls: "none", port: FTP_PORT },
  "ftps:": { tls: "implicit", port: FTPS_IMPLICIT_PORT },
  "ftpes:": { tls: "explicit", port: FTP_PORT },
};

/** True for text that looks like one of our URLs (rather than a local path). */
export function isFtpUrl(text: string): boolean {
  return /^(ftp|ftps|ftpes):\/\//i.test(text);
}

function decode(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new CliError(`malformed ${what} in URL: ${JSON.stringify(part)}`, ExitCode.USAGE);
  }
}

/**
 * Parses an FTP URL; a malformed one is a usage error.
 *
 * @returns the TLS mode, host, port, user, password and path the URL gives.
 */
export function parseFtpUrl(text: string): FtpTarget {
  if (!isFtpUrl(text)) throw new CliError(`not an ftp://, ftps:// or ftpes:// URL: ${text}`, ExitCode.USAGE);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliError(`malformed URL: ${text}`, ExitCode.USAGE);
  }
  const scheme = SCHEMES[url.protocol.toLowerCase()]!;
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (host === "") throw new CliError(`no host in URL: ${text}`, ExitCode.USAGE);
  // ";type=i" and friends (RFC 1738) choose a transfer type; transfers here are always binary.
  const rawPath = url.pathname.replace(/;type=[aid]$/i, "");
  const path = decode(rawPath, "path").replace(/^\//, "");
  const target: FtpTarget = { tls: scheme.tls, host, port: url.port === "" ? scheme.port : Number(url.port), path };
  if (url.username !== "") target.user = decode(url.username, "user");
  if (url.password !== "") target.password = decode(url.password, "password");
  return target;
}

/** A remote path without its trailing slashes, except that `/` stays `/`. */
export function trimTrailingSlash(path: string): string {
  return path.replace(/(.)\/+$/, "$1");
}

/** `dir/name` for a path and a name; a path ending in `/` (or empty) is a directory. */
export function joinRemote(dir: string, name: string): string {
  if (dir === "") return name;
  return dir.endsWith("/") ? `${dir}${name}` : `${dir}/${name}`;
}

/** The last segment of a remote path. */
export function remoteBasename(path: string): string {
  return path.replace(/\/+$/, "").split("/").pop() ?? "";
}

/** The directory part of a remote path ("" for a bare name). */
export function remoteDirname(path: string): string {
  const cut = path.replace(/\/+$/, "").lastIndexOf("/");
  if (cut < 0) return "";
  return cut === 0 ? "/" : path.slice(0, cut);
}
