/**
 * Entries of MLSD listings and MLST replies (RFC 3659 7), as ftplib's `mlsd` yields them.
 */
import { ErrorProto } from "./errors.js";
import type { Reply } from "./reply.js";
import { replyTextFor } from "./reply-errors.js";

/**
 * Facts by lower-cased name (`type`, `size`, `modify`, `perm`, `unique`, `unix.mode`, ...).
 *
 * @group The ftplib API
 */
export type MlsxFacts = Record<string, string>;

/**
 * A listed name and its facts, as ftplib's `(name, facts)`.
 *
 * @group The ftplib API
 */
export type MlsxEntry = readonly [name: string, facts: MlsxFacts];

/**
 * Fact names as sent and lower-cased, by their place on the line: a listing sends the same few
 * names in the same order on every line, so a name is compared with the previous line's in its
 * place instead of being lower-cased again. (Cutting the name out and comparing strings costs
 * less than `startsWith` at an offset.)
 */
const namesByPlace: { sent: string; name: string }[] = [];

/** The lower-cased name of the fact sent at `line[start, end)`, the `place`th of its line. */
function factName(line: string, start: number, end: number, place: number): string {
  const sent = line.slice(start, end);
  const known = namesByPlace[place];
  if (known !== undefined && known.sent === sent) return known.name;
  const name = sent.toLowerCase();
  if (place < 64) namesByPlace[place] = { sent, name };
  return name;
}

/**
 * Makes the facts of one entry. They inherit nothing: their prototype is an empty object without
 * a prototype, so no fact name can reach `Object.prototype`. (`Object.create(null)` would do as
 * much, but V8 keeps such objects as hash tables; these share one layout from line to line.)
 */
const Facts = function Facts() {} as unknown as new () => MlsxFacts;
Facts.prototype = Object.create(null) as MlsxFacts;

/**
 * Parses one entry line: `fact=value;fact=value; name`. The name is everything after the first
 * space, spaces and semicolons included; fact names are lower-cased; a value may hold `=`. The
 * facts object inherits nothing, so no fact name can reach `Object.prototype`.
 *
 * @returns `[name, facts]`, facts by lower-cased name.
 */
export function parseMlsxEntry(line: string): MlsxEntry {
  const space = line.indexOf(" ");
  if (space < 0) {
    throw new ErrorProto(`MLSx entry without a name: ${JSON.stringify(line.slice(0, 80))}`, {
      code: "ERR_FTP_BAD_MLSX",
    });
  }
  const facts = new Facts();
  let start = 0;
  let place = 0;
  while (start < space) {
    let end = line.indexOf(";", start);
    if (end < 0 || end > space) end = space;
    if (end > start) {
      const eq = line.indexOf("=", start);
      if (eq < 0 || eq > end) facts[factName(line, start, end, place++)] = "";
      else facts[factName(line, start, eq, place++)] = line.slice(eq + 1, end);
    }
    start = end + 1;
  }
  return [line.slice(space + 1), facts];
}

/**
 * The entry of a 250 reply to MLST: its one line that starts with a space. Throws
 * {@link ErrorReply} for another code and {@link ErrorProto} when the reply holds no entry.
 *
 * @returns `[name, facts]`.
 */
export function parseMlstReply(resp: Reply | string): MlsxEntry {
  const lines = replyTextFor(resp, 250).split("\n");
  const entry = lines.slice(1, -1).find((line) => line.startsWith(" "));
  if (entry === undefined) throw new ErrorProto(resp, { code: "ERR_FTP_BAD_MLSX" });
  return parseMlsxEntry(entry.slice(1));
}
