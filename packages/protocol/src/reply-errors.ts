/**
 * The errors that ftplib raises for a reply: what `getresp`, `voidresp` and the reply parsers
 * throw. Apart from reply.ts so that the error classes and the reply class do not import each other.
 */
import { ErrorPerm, ErrorReply, ErrorTemp } from "./errors.js";
import { type Reply, replyIs } from "./reply.js";

/**
 * The error ftplib's `getresp` raises for a reply: {@link ErrorTemp} for 4xx, {@link ErrorPerm} for
 * 5xx, none otherwise. (The codec never yields a reply without a valid code: that is its own error.)
 *
 * @returns the error to raise, or undefined for a 1xx, 2xx or 3xx reply.
 * @group Errors
 */
export function replyError(reply: Reply): ErrorTemp | ErrorPerm | undefined {
  if (replyIs(reply, "5xx")) return new ErrorPerm(reply);
  if (replyIs(reply, "4xx")) return new ErrorTemp(reply);
  return undefined;
}

/**
 * The error ftplib's `voidresp` raises: as {@link replyError}, and {@link ErrorReply} for any
 * 1xx or 3xx reply where a 2xx completion was expected.
 *
 * @returns the error to raise, or undefined for a 2xx reply.
 * @group Errors
 */
export function completionError(reply: Reply): ErrorTemp | ErrorPerm | ErrorReply | undefined {
  return replyError(reply) ?? (replyIs(reply, "2xx") ? undefined : new ErrorReply(reply));
}

/**
 * The text of a reply given as a {@link Reply} or as ftplib-style text, after checking its code;
 * an {@link ErrorReply} when the code differs, as ftplib's parsers raise.
 */
export function replyTextFor(resp: Reply | string, code: number): string {
  if (!replyIs(resp, code)) throw new ErrorReply(resp);
  return typeof resp === "string" ? resp : resp.text;
}
