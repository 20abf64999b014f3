/**
 * The server side of reply framing: turns a reply into the bytes a server would send. Used by test
 * servers and transcript replay, and to check that decoding undoes encoding.
 */
import { type TextEncoding, resolveEncoding } from "./encoding.js";
import { LocalProtocolError } from "./errors.js";

/**
 * Encodes a reply. `lines` are the texts after the code: one gives `123 text`; several give
 * `123-first`, the inner lines as they are, and `123 last`. An inner line that would end the reply
 * early (one starting with `123 `) or any CR, LF or NUL is refused.
 *
 * @returns the reply's bytes, CRLF after each line.
 */
export function encodeReply(
  code: number,
  lines: string | readonly string[],
  encoding: string | TextEncoding = "utf-8",
): Uint8Array {
  if (!Number.isInteger(code) || code < 100 || code > 599) {
    throw new LocalProtocolError(`not a reply code: ${code}`, "ERR_FTP_INVALID_REPLY");
  }
  const texts = typeof lines === "string" ? [lines] : lines;
  if (texts.length === 0) throw new LocalProtocolError("a reply needs a line", "ERR_FTP_INVALID_REPLY");
  const last = texts.length - 1;
  const framed = texts.map((text, i) => {
    if (/[\r\n\0]/.test(text)) {
      throw new LocalProtocolError("CR, LF or NUL inside a reply line", "ERR_FTP_INVALID_REPLY");
    }
    if (i === 0) return `${code}${last === 0 ? " " : "-"}${text}`;
    if (i === last) return `${code} ${text}`;
    if (text.startsWith(`${code} `) || text === String(code)) {
      throw new LocalProtocolError(`inner line would end the reply: ${text}`, "ERR_FTP_INVALID_REPLY");
    }
    return text;
  });
  return resolveEncoding(encoding).encode(`${framed.join("\r\n")}\r\n`);
}
