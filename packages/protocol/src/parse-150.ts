import type { Reply } from "./reply.js";
import { replyTextFor } from "./reply-errors.js";

const SIZE_150 = /^150 .* \((\d+) bytes\)/i;

/**
 * The transfer size announced by a 150 reply (`150 Opening ... (1234 bytes)`), or `null` when the
 * server gave none. Throws {@link ErrorReply} for a reply other than 150, as ftplib.
 *
 * @returns the size in bytes, or null.
 * @group The ftplib API
 */
export function parse150(resp: Reply | string): number | null {
  const match = SIZE_150.exec(replyTextFor(resp, 150));
  if (match === null) return null;
  const size = Number(match[1]);
  return Number.isSafeInteger(size) ? size : null;
}
