/**
 * `ls -l` listings, as most Unix servers send LIST: type and permissions, links, owner, group
 * (sometimes absent), size (or a device's major, minor), a date with a time (this year) or a
 * year, and the name, which may hold spaces; a symbolic link shows `name -> target`.
 */
import { type FileEntry, type ListOptions, type ListParser, checkedParser } from "./file-entry.js";

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

const LINE = new RegExp(
  [
    "^([-bcdlpsDw])", // 1 type
    "([-rwxsStTlL]{9})[.+@]?", // 2 permissions (and an ACL or attribute marker)
    "\\s+(\\d+)", // 3 links
    "\\s+(\\S+)", // 4 owner
    "(?:\\s+(\\S+))?", // 5 group
    "\\s+(\\d+(?:,\\s*\\d+)?)", // 6 size, or a device's major, minor
    "\\s+(",
    "[A-Za-z]{3}\\s+\\d{1,2}\\s+(?:\\d{1,2}:\\d{2}|\\d{4})", // Jan 3 12:00, Jan 3 1994
    "|\\d{1,2}\\s+[A-Za-z]{3}\\s+(?:\\d{1,2}:\\d{2}|\\d{4})", // 3 Jan 12:00
    "|\\d{4}-\\d{2}-\\d{2}\\s+\\d{2}:\\d{2}(?::\\d{2}(?:\\.\\d+)?)?", // 2024-01-03 12:00
    ")", // 7 date
    " ([^]+)$", // 8 name: any character (a CR or U+2028 too, for the caller to refuse or keep)
  ].join(""),
);

/** Milliseconds since the epoch of a time the server printed in its own zone. */
function localTime(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  options: ListOptions,
): number {
  return Date.UTC(year, month, day, hour, minute, second) - (options.timezoneOffset ?? 0) * 60_000;
}

/**
 * Times of the dates of one listing (the options are the listing's, with its one present), by
 * their text: dates repeat from line to line, and reading one costs more than looking it up.
 */
const dateCache = { options: undefined as ListOptions | undefined, times: new Map<string, number | undefined>() };

/** The Date of a listed date, or undefined when it names no month; its time looked up per listing. */
function parseDate(text: string, options: ListOptions): Date | undefined {
  if (options.now === undefined) {
    const time = dateTime(text, options);
    return time === undefined ? undefined : new Date(time);
  }
  if (dateCache.options !== options || dateCache.times.size >= 4096) {
    dateCache.options = options;
    dateCache.times.clear();
  }
  let time = dateCache.times.get(text);
  if (time === undefined && !dateCache.times.has(text)) {
    time = dateTime(text, options);
    dateCache.times.set(text, time);
  }
  return time === undefined ? undefined : new Date(time);
}

/** Milliseconds since the epoch of a listed date, or undefined when it names no month. */
function dateTime(text: string, options: ListOptions): number | undefined {
  const parts = text.split(/\s+/);
  if (text.length > 4 && text[4] === "-") {
    const [y, mo, d] = parts[0]!.split("-").map(Number) as [number, number, number];
    const [h, mi, s] = parts[1]!.split(":").map(Number) as [number, number, number?];
    return localTime(y, mo - 1, d, h, mi, Math.floor(s ?? 0), options);
  }
  const [first, second, last] = parts as [string, string, string];
  const monthFirst = /^[A-Za-z]/.test(first);
  const month = MONTHS.indexOf((monthFirst ? first : second).toLowerCase());
  const day = Number(monthFirst ? second : first);
  if (month < 0) return undefined;
  const colon = last.indexOf(":");
  if (colon < 0) return localTime(Number(last), month, day, 0, 0, 0, options);
  const hour = Number(last.slice(0, colon));
  const minute = Number(last.slice(colon + 1));
  // No year: the latest such date that is not in the future (a day of slack for clock skew).
  const now = options.now ?? new Date();
  const year = now.getUTCFullYear();
  let time = localTime(year, month, day, hour, minute, 0, options);
  if (time > now.getTime() + 86_400_000) time = localTime(year - 1, month, day, hour, minute, 0, options);
  return time;
}

/**
 * Unix `ls -l` lines, and their variants (no group, numeric ids, device numbers, ...).
 *
 * @group Files and listings
 */
export const unixParser: ListParser = checkedParser({
  name: "unix",
  test: (line) => LINE.test(line),
  parse(line: string, options: ListOptions): FileEntry | null {
    const m = LINE.exec(line);
    if (m === null) return null;
    const [, kind, permissions, , owner, group, size, date, rest] = m as unknown as string[];
    const type = kind === "d" ? "dir" : kind === "l" ? "link" : kind === "-" ? "file" : "unknown";
    let name = rest!;
    let target: string | undefined;
    if (type === "link") {
      const arrow = name.indexOf(" -> ");
      if (arrow >= 0) {
        target = name.slice(arrow + 4);
        name = name.slice(0, arrow);
      }
    }
    const entry: FileEntry = { name, type, permissions, owner, raw: line };
    if (group !== undefined) entry.group = group;
    if (!size!.includes(",")) entry.size = Number(size);
    const modifiedAt = parseDate(date!, options);
    if (modifiedAt !== undefined) entry.modifiedAt = modifiedAt;
    if (target !== undefined) entry.target = target;
    return entry;
  },
});
