import { ErrorProto } from "./errors.js";
import type { Reply } from "./reply.js";
import { replyTextFor } from "./reply-errors.js";

/**
 * The size in a 213 reply to SIZE. {@link ErrorReply} for another code, {@link ErrorProto} for no number.
 *
 * @returns the size in bytes.
 */
export function parseSize(resp: Reply | string): number {
  const value = replyTextFor(resp, 213).slice(3).trim();
  const size = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(size)) {
    throw new ErrorProto(resp, { code: "ERR_FTP_BAD_SIZE" });
  }
  return size;
}

/** The number in `text` from `start` to `end`, or -1 unless every character there is a digit. */
function digits(text: string, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/**
 * A time value as MDTM and the MLSx `modify` fact give it (`YYYYMMDDHHMMSS[.sss]`, UTC), or `null`
 * when it is not a valid time. (Read digit by digit: a listing has one per entry.)
 *
 * @returns the time, a Date (UTC), or null.
 */
export function parseTimeValue(value: string): Date | null {
  const length = value.length;
  if (length < 14 || (length > 14 && (value[14] !== "." || length === 15 || length > 24))) return null;
  const year = digits(value, 0, 4);
  const month = digits(value, 4, 6);
  const day = digits(value, 6, 8);
  const hour = digits(value, 8, 10);
  const minute = digits(value, 10, 12);
  const second = digits(value, 12, 14);
  const fraction = length > 14 ? digits(value, 15, Math.min(length, 18)) : 0;
  if (year < 0 || second < 0 || fraction < 0 || (length > 18 && digits(value, 18, length) < 0)) return null;
  if (
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > 31 ||
    hour < 0 ||
    hour > 23 ||
    minute < 0 ||
    minute > 59 ||
    second > 60
  )
    return null;
  // Milliseconds from the first three digits of the fraction (".5" is 500 ms).
  const ms = length > 14 ? fraction * 10 ** (3 - Math.min(length - 15, 3)) : 0;
  // Days that roll over into the next month (such as February 30) are no dates.
  if (day > daysInMonth(year, month)) return null;
  return new Date(
    (daysSinceEpoch(year, month, day) * 24 + hour) * 3_600_000 + minute * 60_000 + Math.min(second, 59) * 1000 + ms,
  );
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!;
}

/**
 * Days from 1970-01-01 to a date of the proleptic Gregorian calendar (month 1 to 12), counted in
 * whole 400-year eras of 146,097 days: plain arithmetic, where Date.UTC and a check of the day
 * cost more than the rest of a listing's line.
 */
function daysSinceEpoch(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year; // years start in March: the leap day comes last
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/**
 * The modification time in a 213 reply to MDTM. {@link ErrorReply} for another code, {@link ErrorProto} for
 * no time.
 *
 * @returns the time, a Date (UTC).
 */
export function parseMdtm(resp: Reply | string): Date {
  const date = parseTimeValue(replyTextFor(resp, 213).slice(3).trim());
  if (date === null) throw new ErrorProto(resp, { code: "ERR_FTP_BAD_TIME" });
  return date;
}
