/**
 * One entry of a directory listing, whatever format the server used.
 *
 * @group Files and listings
 */
export interface FileEntry {
  name: string;
  type: "file" | "dir" | "link" | "unknown";
  /** Bytes, when the listing says. */
  size?: number;
  /** Modification time, when the listing says (see `ListOptions.timezoneOffset` for LIST). */
  modifiedAt?: Date;
  /** Unix permissions as listed (`rwxr-xr-x`) or from MLSx `unix.mode`; MLSx `perm` facts in `facts`. */
  permissions?: string;
  owner?: string;
  group?: string;
  /** Where a symbolic link points, when the listing says. */
  target?: string;
  /** MLSx facts, lower-cased, when the entry came from MLSD or MLST. */
  facts?: Record<string, string>;
  /** The line as received. */
  raw: string;
}

/**
 * How LIST lines are read: the server's time zone, and the time a year-less date is relative to.
 *
 * @group Files and listings
 */
export interface ListOptions {
  /**
   * Minutes east of UTC of the server's clock, for LIST formats that print local time without a
   * zone (Unix, DOS). Default 0: times are taken as UTC. MLSx times are UTC by definition.
   */
  timezoneOffset?: number;
  /** The present, for listings that omit the year of recent files (default: now). */
  now?: Date;
}

/**
 * A listing format: a test on one line, and a parser that returns an entry or null (a line to skip).
 *
 * @group Files and listings
 */
export interface ListParser {
  readonly name: string;
  /**
   * Whether this parser reads lines like `line` (asked of the first lines of a listing).
   *
   * @returns true when it does.
   */
  test(line: string): boolean;
  /**
   * Reads one line of the listing.
   *
   * @returns the entry, or null for a line that is no entry (a total, a header).
   */
  parse(line: string, options: ListOptions): FileEntry | null;
}

/**
 * The entry with what cannot be right left out: a size that is not a safe integer (digits beyond
 * 2^53 from a hostile or broken server) and a date that is not a valid time.
 */
export function checkedEntry(entry: FileEntry): FileEntry {
  if (entry.size !== undefined && !(Number.isSafeInteger(entry.size) && entry.size >= 0)) delete entry.size;
  if (entry.modifiedAt !== undefined && Number.isNaN(entry.modifiedAt.getTime())) delete entry.modifiedAt;
  return entry;
}

/** A parser whose entries pass through {@link checkedEntry}. */
export function checkedParser(parser: ListParser): ListParser {
  return {
    name: parser.name,
    test: (line) => parser.test(line),
    parse: (line, options) => {
      const entry = parser.parse(line, options);
      return entry === null ? null : checkedEntry(entry);
    },
  };
}
