/**
 * Commands: validated and encoded before any byte leaves, and masked for logs.
 */
import { type TextEncoding, resolveEncoding } from "./encoding.js";
import { LocalProtocolError } from "./errors.js";

// Letters, and digits after the first (XSHA256, XSHA1: the hash commands servers offer).
const VERB = /^[A-Za-z][A-Za-z0-9]{0,31}(?: |$)/;
const CRLF_BYTES = [0x0d, 0x0a] as const;

/**
 * Encodes a command line (`"RETR name"`, as ftplib's `sendcmd` takes it) and appends CRLF.
 * Throws {@link LocalProtocolError}, before producing a byte, for CR, LF or NUL anywhere in the
 * line, a line that does not start with a verb of letters (digits after the first), or text the encoding
 * cannot hold.
 *
 * @returns the bytes to write, CRLF included.
 */
export function encodeCommand(line: string, encoding: string | TextEncoding = "utf-8"): Uint8Array {
  if (!VERB.test(line)) {
    throw new LocalProtocolError(
      `a command must start with a verb of letters: ${JSON.stringify(line.slice(0, 40))}`,
      "ERR_FTP_INVALID_COMMAND",
    );
  }
  const bytes = resolveEncoding(encoding).encode(line);
  // Checked on the bytes, so no encoding can smuggle a line break through.
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 0x0d || b === 0x0a || b === 0x00) {
      throw new LocalProtocolError(
        "an illegal newline or NUL character should not be contained in a command",
        "ERR_FTP_INVALID_COMMAND",
      );
    }
  }
  const out = new Uint8Array(bytes.length + 2);
  out.set(bytes);
  out.set(CRLF_BYTES, bytes.length);
  return out;
}

/** Joins a verb and an optional argument into a command line. */
export function commandLine(verb: string, argument?: string): string {
  return argument === undefined ? verb : `${verb} ${argument}`;
}

/**
 * The verb of a command line, upper-cased (`"retr x"` gives `"RETR"`).
 *
 * @returns the verb.
 */
export function commandVerb(line: string): string {
  const space = line.indexOf(" ");
  return (space < 0 ? line : line.slice(0, space)).toUpperCase();
}

const SECRET_VERBS = new Set(["PASS", "ACCT"]);

/**
 * A command line fit for logs and debug output: the argument of PASS and ACCT replaced by
 * asterisks of a fixed length, so that not even the length of a password shows.
 *
 * @returns the line, the password masked (other commands as they are).
 */
export function maskCommand(line: string): string {
  const verb = commandVerb(line);
  if (!SECRET_VERBS.has(verb) || line.length <= verb.length + 1) return line;
  return `${line.slice(0, verb.length)} ********`;
}
