/**
 * Replies that carry a file's hash: HASH (draft-bryan-ftpext-hash), its FEAT line, and the older
 * XCRC, XMD5, XSHA1, XSHA256 and XSHA512 commands, which no document specifies (servers answer
 * `250 <hex>`, some with the file name before or after it).
 */
import { ErrorProto, ErrorReply } from "./errors.js";
import { type Reply, replyIs } from "./reply.js";
import { replyTextFor } from "./reply-errors.js";

/** The algorithms of the HASH feature, as FEAT lists them, and the one the server has selected. */
export interface HashFeature {
  /** Upper-cased names (`"SHA-256"`), in the server's order. */
  readonly algorithms: readonly string[];
  /** The one marked `*`: what HASH computes until `OPTS HASH` selects another. */
  readonly selected: string | undefined;
}

/** A HASH reply (213): the algorithm, the byte range hashed (`end` inclusive) and the lower-cased hex digest. */
export interface HashReply {
  readonly algorithm: string;
  readonly start: number;
  readonly end: number;
  readonly hex: string;
}

/**
 * The parameters of FEAT's `HASH` line (`"CRC32;MD5;SHA-1*;SHA-256;"`).
 *
 * @returns the algorithms offered and the one selected (marked `*`).
 */
export function parseHashFeature(value: string): HashFeature {
  const algorithms: string[] = [];
  let selected: string | undefined;
  for (const item of value.split(";")) {
    const token = item.trim();
    if (token === "") continue;
    const name = (token.endsWith("*") ? token.slice(0, -1) : token).trim().toUpperCase();
    if (name === "") continue;
    algorithms.push(name);
    if (token.endsWith("*")) selected = name;
  }
  return { algorithms, selected };
}

const HEX = /^[0-9a-fA-F]+$/;

function badHash(resp: Reply | string, why: string): ErrorProto {
  const text = typeof resp === "string" ? resp : resp.text;
  return new ErrorProto(`malformed hash reply (${why}): ${text}`, { code: "ERR_FTP_BAD_HASH" });
}

/** The last line's text after its code: where the digest is (proftpd sends a `213-Computing...` line first). */
function lastLine(resp: Reply | string): string {
  const text = typeof resp === "string" ? resp : resp.text;
  const lines = text.split("\n");
  return lines[lines.length - 1]!.slice(4).trim();
}

/**
 * A 213 reply to HASH: `213 <algorithm> <start>-<end> <hex> <pathname>`. The algorithm must be
 * `algorithm`, and the digest `hexLength` hex digits. {@link ErrorReply} for another code,
 * {@link ErrorProto} (`ERR_FTP_BAD_HASH`) for anything else malformed.
 *
 * @returns the algorithm, the byte range and the lower-case hex digest.
 */
export function parseHashReply(resp: Reply | string, algorithm: string, hexLength: number): HashReply {
  replyTextFor(resp, 213);
  const [name = "", range = "", hex = ""] = lastLine(resp).split(/\s+/);
  if (name.toUpperCase() !== algorithm.toUpperCase()) throw badHash(resp, `not ${algorithm}`);
  const bounds = /^(\d+)-(\d+)$/.exec(range);
  if (bounds === null) throw badHash(resp, "no byte range");
  const start = Number(bounds[1]);
  const end = Number(bounds[2]);
  if (!Number.isSafeInteger(end) || start > end) throw badHash(resp, "no byte range");
  if (hex.length !== hexLength || !HEX.test(hex)) throw badHash(resp, `no ${hexLength}-digit hex digest`);
  return { algorithm: name.toUpperCase(), start, end, hex: hex.toLowerCase() };
}

/**
 * The digest in a 2xx reply to XCRC, XMD5, XSHA1, XSHA256 or XSHA512: the one word of the last
 * line that is `hexLength` hex digits, wherever the file name is. Lower-cased. {@link ErrorReply}
 * for a reply that is not 2xx, {@link ErrorProto} (`ERR_FTP_BAD_HASH`) for none or several.
 *
 * @returns the digest, in lower-case hex.
 */
export function parseXHashReply(resp: Reply | string, hexLength: number): string {
  if (!replyIs(resp, "2xx")) throw new ErrorReply(resp);
  const words = lastLine(resp)
    .split(/\s+/)
    .filter((word) => word.length === hexLength && HEX.test(word));
  if (words.length !== 1) throw badHash(resp, `not one ${hexLength}-digit hex digest`);
  return words[0]!.toLowerCase();
}
