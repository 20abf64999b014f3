import type { Reply } from "./reply.js";
import { replyTextFor } from "./reply-errors.js";

/**
 * The directory name of a 257 reply (to MKD or PWD): the quoted name with doubled quotes undone
 * (RFC 959 appendix II), or `""` when the reply has no quoted name, as ftplib. Throws
 * {@link ErrorReply} for another code.
 *
 * @returns the directory name.
 * @group The ftplib API
 */
export function parse257(resp: Reply | string): string {
  const text = replyTextFor(resp, 257);
  if (text.slice(3, 5) !== ' "') return "";
  let name = "";
  let i = 5;
  for (;;) {
    const close = text.indexOf('"', i);
    if (close < 0) return name + text.slice(i);
    name += text.slice(i, close);
    if (text[close + 1] !== '"') return name;
    name += '"';
    i = close + 2;
  }
}
