/**
 * LIST output as entries: the format is detected on the first line that any parser accepts and
 * kept for the listing; `total` lines and blanks are skipped; a custom parser can go first.
 */
import { dosParser } from "./parse-dos.js";
import { eplfParser } from "./parse-eplf.js";
import { netwareParser, os400Parser, vmsParser } from "./parse-other.js";
import { unixParser } from "./parse-unix.js";
import type { FileEntry, ListOptions, ListParser } from "./file-entry.js";

/**
 * The parsers tried, in order.
 *
 * @group Files and listings
 */
export const listParsers: readonly ListParser[] = [
  unixParser,
  dosParser,
  eplfParser,
  netwareParser,
  vmsParser,
  os400Parser,
];

/** Whether a line carries no entry (`total 12`, blank). */
function isMeta(line: string): boolean {
  // Most lines start with a visible ASCII character other than "t": no need to look further.
  const first = line.charCodeAt(0);
  if (first > 0x20 && first < 0x7f && first !== 0x74 && first !== 0x54) return false;
  return line.trim() === "" || /^total\s+\d+/i.test(line);
}

/** Parses LIST lines one by one, detecting the format on the first line it can. */
export class ListParserStream {
  private parser: ListParser | undefined;
  private readonly parsers: readonly ListParser[];
  private readonly options: ListOptions;

  constructor(options: ListOptions & { parsers?: readonly ListParser[] } = {}) {
    this.parsers = options.parsers ?? listParsers;
    // One present for the whole listing: years left out are filled in against it.
    this.options = { ...options, now: options.now ?? new Date() };
  }

  /** The format detected so far. */
  get format(): string | undefined {
    return this.parser?.name;
  }

  /** The entry of a line, or null for a line that holds none or that no parser understands. */
  parse(line: string): FileEntry | null {
    if (isMeta(line)) return null;
    this.parser ??= this.parsers.find((p) => p.test(line));
    return this.parser?.parse(line, this.options) ?? null;
  }
}

/**
 * Parses a whole LIST listing.
 *
 * @returns the entries, in the listing's order, without `.` and `..` and lines that are no entry.
 * @group Files and listings
 */
export function parseList(
  lines: Iterable<string>,
  options: ListOptions & { parsers?: readonly ListParser[] } = {},
): FileEntry[] {
  const stream = new ListParserStream(options);
  const entries: FileEntry[] = [];
  for (const line of lines) {
    const entry = stream.parse(line);
    if (entry !== null) entries.push(entry);
  }
  return entries;
}
