import { ErrorProto } from "./errors.js";
import type { Reply } from "./reply.js";
import { replyTextFor } from "./reply.js";

/** The size in a 213 reply to SIZE. {@link ErrorReply} for another code, {@link ErrorProto} for no number. */
export function parseSize(resp: Reply | string): number {
  const value = replyTextFor(resp, 213).slice(3).trim();
  const size = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(size)) {
    throw new ErrorProto(resp, { code: "ERR_FTP_BAD_SIZE" });
  }
  return size;
}

const TIME = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(?:\.(\d{1,9}))?$/;

/**
 * A time value as MDTM and the MLSx `modify` fact give it (`YYYYMMDDHHMMSS[.sss]`, UTC), or `null`
 * when it is not a valid time.
 */
export function parseTimeValue(value: string): Date | null {
  const m = TIME.exec(value);
  if (m === null) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return null;
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, Math.min(second, 59), ms));
  // Reject days that roll over into the next month (such as February 30).
  return date.getUTCDate() === day ? date : null;
}

/** The modification time in a 213 reply to MDTM. {@link ErrorReply} for another code, {@link ErrorProto} for no time. */
export function parseMdtm(resp: Reply | string): Date {
  const date = parseTimeValue(replyTextFor(resp, 213).slice(3).trim());
  if (date === null) throw new ErrorProto(resp, { code: "ERR_FTP_BAD_TIME" });
  return date;
}
