/**
 * DOS-style listings, as IIS and other Windows servers send LIST: `01-03-94  12:00PM  <DIR>  name`
 * or a size instead of `<DIR>`, with 12- or 24-hour times and two- or four-digit years.
 */
import { type FileEntry, type ListOptions, type ListParser, checkedParser } from "./file-entry.js";

const LINE = /^(\d{2})-(\d{2})-(\d{2}|\d{4})\s+(\d{1,2}):(\d{2})\s*([AaPp][Mm])?\s+(<DIR>|\d+)\s+([^]+)$/;
const ISO = /^(\d{4})-(\d{2})-(\d{2})\s+(\d{1,2}):(\d{2})\s*([AaPp][Mm])?\s+(<DIR>|\d+)\s+([^]+)$/;

/**
 * DOS and IIS lines (`11-30-26  02:15PM  <DIR>  name`).
 *
 * @group Files and listings
 */
export const dosParser: ListParser = checkedParser({
  name: "dos",
  test: (line) => LINE.test(line) || ISO.test(line),
  parse(line: string, options: ListOptions): FileEntry | null {
    const us = LINE.exec(line);
    const iso = us === null ? ISO.exec(line) : null;
    const m = us ?? iso;
    if (m === null) return null;
    const [, a, b, c, h, mi, ampm, sizeOrDir, name] = m as unknown as string[];
    let year = Number(us !== null ? c : a);
    const month = Number(us !== null ? a : b) - 1;
    const day = Number(us !== null ? b : c);
    if (year < 100) year += year < 70 ? 2000 : 1900;
    let hour = Number(h);
    if (ampm !== undefined) {
      const pm = ampm.toLowerCase() === "pm";
      hour = (hour % 12) + (pm ? 12 : 0);
    }
    const modifiedAt = new Date(Date.UTC(year, month, day, hour, Number(mi)) - (options.timezoneOffset ?? 0) * 60_000);
    const entry: FileEntry = { name: name!, type: sizeOrDir === "<DIR>" ? "dir" : "file", modifiedAt, raw: line };
    if (sizeOrDir !== "<DIR>") entry.size = Number(sizeOrDir);
    return entry;
  },
});
