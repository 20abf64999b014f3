/**
 * Less common LIST formats, where they are cheap to read: NetWare, OpenVMS (one entry per line),
 * and IBM i (OS/400).
 */
import { type FileEntry, type ListOptions, type ListParser, checkedParser } from "./file-entry.js";

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

function utc(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  options: ListOptions,
): Date {
  return new Date(Date.UTC(year, month, day, hour, minute, second) - (options.timezoneOffset ?? 0) * 60_000);
}

/** NetWare: `d [RWCEAFMS] owner 512 Jan 16 18:53 name`. */
const NETWARE =
  /^([d-])\s+\[([RWCEAFMS-]{8})\]\s+(\S+)\s+(\d+)\s+([A-Za-z]{3})\s+(\d{1,2})\s+(?:(\d{1,2}):(\d{2})|(\d{4}))\s+([^]+)$/;

/**
 * NetWare lines.
 *
 * @group Files and listings
 */
export const netwareParser: ListParser = checkedParser({
  name: "netware",
  test: (line) => NETWARE.test(line),
  parse(line, options) {
    const m = NETWARE.exec(line);
    if (m === null) return null;
    const [, kind, rights, owner, size, mon, day, hour, minute, year, name] = m as unknown as string[];
    const month = MONTHS.indexOf(mon!.toLowerCase());
    const now = options.now ?? new Date();
    let y = year !== undefined ? Number(year) : now.getUTCFullYear();
    let modifiedAt = utc(y, month, Number(day), Number(hour ?? 0), Number(minute ?? 0), 0, options);
    if (year === undefined && modifiedAt.getTime() > now.getTime() + 86_400_000)
      modifiedAt = utc(--y, month, Number(day), Number(hour), Number(minute), 0, options);
    return {
      name: name!,
      type: kind === "d" ? "dir" : "file",
      size: Number(size),
      modifiedAt,
      permissions: rights,
      owner,
      raw: line,
    };
  },
});

/** OpenVMS: `NAME.EXT;1  12/18  3-JAN-1994 12:00:00 [GROUP,OWNER] (RWED,RWED,RE,)`; `.DIR` is a directory. */
const VMS =
  /^(\S+;\d+)\s+(\d+)(?:\/\d+)?\s+(\d{1,2})-([A-Za-z]{3})-(\d{4})\s+(\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?\s+\[([^\]]*)\](?:\s+\(([^)]*)\))?/;

/**
 * OpenVMS lines (`NAME.EXT;1  4/8  30-NOV-2026 14:15:00  [GROUP,OWNER]  (RWED,RWED,RE,)`).
 *
 * @group Files and listings
 */
export const vmsParser: ListParser = checkedParser({
  name: "vms",
  test: (line) => VMS.test(line),
  parse(line, options) {
    const m = VMS.exec(line);
    if (m === null) return null;
    const [, file, blocks, day, mon, year, hour, minute, second, owner, protection] = m as unknown as string[];
    const versionless = file!.replace(/;\d+$/, "");
    const dir = /\.DIR$/i.test(versionless);
    const entry: FileEntry = {
      name: dir ? versionless.replace(/\.DIR$/i, "") : versionless,
      type: dir ? "dir" : "file",
      // VMS sizes are in 512-byte blocks.
      size: Number(blocks) * 512,
      modifiedAt: utc(
        Number(year),
        MONTHS.indexOf(mon!.toLowerCase()),
        Number(day),
        Number(hour),
        Number(minute),
        Number(second ?? 0),
        options,
      ),
      owner,
      raw: line,
    };
    if (protection !== undefined) entry.permissions = protection;
    return entry;
  },
});

/** IBM i (OS/400): `OWNER  77824 02/23/00 15:09:55 *DIR  name/` or `*STMF name`. */
const OS400 = /^(\S+)\s+(\d+)\s+(\d{2})\/(\d{2})\/(\d{2})\s+(\d{2}):(\d{2}):(\d{2})\s+(\*\w+)\s+([^]+)$/;

/**
 * IBM i (OS/400) lines.
 *
 * @group Files and listings
 */
export const os400Parser: ListParser = checkedParser({
  name: "os400",
  test: (line) => OS400.test(line),
  parse(line, options) {
    const m = OS400.exec(line);
    if (m === null) return null;
    const [, owner, size, mm, dd, yy, hh, mi, ss, kind, rawName] = m as unknown as string[];
    let year = Number(yy);
    year += year < 70 ? 2000 : 1900;
    const dir = kind === "*DIR" || kind === "*LIB" || rawName!.endsWith("/");
    return {
      name: rawName!.replace(/\/$/, ""),
      type: dir ? "dir" : kind === "*STMF" || kind === "*FILE" || kind === "*MEM" ? "file" : "unknown",
      size: Number(size),
      modifiedAt: utc(year, Number(mm) - 1, Number(dd), Number(hh), Number(mi), Number(ss), options),
      owner,
      raw: line,
    };
  },
});
