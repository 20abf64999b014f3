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

/** Parses an FTP URL; a malformed one is a usage error. */
export function parseFtpUrl(text: string): FtpTarget {
  if (!isFtpUrl(text)) throw new CliError(`not an ftp://, ftps:// or ftpes:// URL: ${redactUrl(text)}`, ExitCode.USAGE);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliError(`malformed URL: ${redactUrl(text)}`, ExitCode.USAGE);
  }
  const scheme = SCHEMES[url.protocol.toLowerCase()]!;
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (host === "") throw new CliError(`no host in URL: ${redactUrl(text)}`, ExitCode.USAGE);
  // ";type=i" and friends (RFC 1738) choose a transfer type; transfers here are always binary.
  // FTP URLs have no query or fragment (RFC 1738): a "?" or "#" is part of the name (a glob's "?").
  const rawPath = `${url.pathname}${url.search}${url.hash}`.replace(/;type=[aid]$/i, "");
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

/** `scheme:` then one or more slashes (a path joined from a URL keeps one), then the rest. */
const URL_START = /\b(ftps?|ftpes):\/+/gi;

/**
 * `text` with the password of every FTP URL in it replaced by `***` (`ftp://me:***@host/x`), for
 * messages that echo a command-line argument. Also catches a URL that a path join has folded
 * (`ftp:/me:secret@host`), and a password with an unencoded `/` or `@` in it.
 */
export function redactUrl(text: string): string {
  let out = "";
  let last = 0;
  for (const match of text.matchAll(URL_START)) {
    const start = match.index + match[0].length;
    if (start < last) continue;
    const rest = text.slice(start);
    const slash = rest.search(/[/\s]/);
    const authority = slash < 0 ? rest : rest.slice(0, slash);
    let at = authority.lastIndexOf("@");
    // "user:pa/ss@host": no "@" before the first "/", but a colon that starts no port.
    if (at < 0 && /:[^\d]/.test(authority)) {
      const next = rest.search(/@/);
      const space = rest.search(/\s/);
      if (next >= 0 && (space < 0 || next < space)) at = next;
    }
    if (at < 0) continue;
    const userinfo = rest.slice(0, at);
    const colon = userinfo.indexOf(":");
    if (colon < 0) continue;
    out += `${text.slice(last, start)}${userinfo.slice(0, colon)}:***`;
    last = start + at;
  }
  return out + text.slice(last);
}

/**
 * `text` with every URL's password redacted (see `redactUrl`) and every password in `secrets`
 * (those of the command line's URLs, the --password option) masked wherever it appears: the
 * last line of defence for messages that quote what they were given.
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = redactUrl(text);
  for (const secret of secrets) if (secret.length >= 3) out = out.split(secret).join("***");
  return out;
}

/** The passwords given on a command line: in its URLs (as written and decoded) and after --password. */
export function secretsOf(argv: readonly string[]): string[] {
  const found = new Set<string>();
  argv.forEach((arg, i) => {
    if (arg === "--password" && argv[i + 1] !== undefined) found.add(argv[i + 1]!);
    else if (arg.startsWith("--password=")) found.add(arg.slice("--password=".length));
    if (!isFtpUrl(arg)) return;
    try {
      const url = new URL(arg);
      if (url.password !== "") {
        found.add(url.password);
        found.add(decodeURIComponent(url.password));
      }
    } catch {
      // Malformed: redactUrl still finds its userinfo.
    }
  });
  return [...found].sort((a, b) => b.length - a.length);
}
