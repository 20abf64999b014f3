/**
 * Entries of MLSD listings and MLST replies (RFC 3659 7), as ftplib's `mlsd` yields them.
 */
import { ErrorProto } from "./errors.js";
import type { Reply } from "./reply.js";
import { replyTextFor } from "./reply.js";

/** Facts by lower-cased name (`type`, `size`, `modify`, `perm`, `unique`, `unix.mode`, ...). */
export type MlsxFacts = Record<string, string>;

/** A listed name and its facts, as ftplib's `(name, facts)`. */
export type MlsxEntry = readonly [name: string, facts: MlsxFacts];

/** Lower-cased fact names by name as sent: a listing repeats the same few on every line. */
const factNames = new Map<string, string>();

function factName(sent: string): string {
  let name = factNames.get(sent);
  if (name === undefined) {
    name = sent.toLowerCase();
    if (factNames.size < 256) factNames.set(sent, name);
  }
  return name;
}

/**
 * Parses one entry line: `fact=value;fact=value; name`. The name is everything after the first
 * space, spaces and semicolons included; fact names are lower-cased; a value may hold `=`. The
 * facts object has no prototype, so no fact name can reach `Object.prototype`.
 */
export function parseMlsxEntry(line: string): MlsxEntry {
  const space = line.indexOf(" ");
  if (space < 0) {
    throw new ErrorProto(`MLSx entry without a name: ${JSON.stringify(line.slice(0, 80))}`, {
      code: "ERR_FTP_BAD_MLSX",
    });
  }
  const facts: MlsxFacts = Object.create(null) as MlsxFacts;
  let start = 0;
  while (start < space) {
    let end = line.indexOf(";", start);
    if (end < 0 || end > space) end = space;
    if (end > start) {
      const eq = line.indexOf("=", start);
      if (eq < 0 || eq > end) facts[factName(line.slice(start, end))] = "";
      else facts[factName(line.slice(start, eq))] = line.slice(eq + 1, end);
    }
    start = end + 1;
  }
  return [line.slice(space + 1), facts];
}

/**
 * The entry of a 250 reply to MLST: its one line that starts with a space. Throws
 * {@link ErrorReply} for another code and {@link ErrorProto} when the reply holds no entry.
 */
export function parseMlstReply(resp: Reply | string): MlsxEntry {
  const lines = replyTextFor(resp, 250).split("\n");
  const entry = lines.slice(1, -1).find((line) => line.startsWith(" "));
  if (entry === undefined) throw new ErrorProto(resp, { code: "ERR_FTP_BAD_MLSX" });
  return parseMlsxEntry(entry.slice(1));
}
