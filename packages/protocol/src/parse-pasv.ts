import { ErrorProto } from "./errors.js";
import type { Reply } from "./reply.js";
import { replyTextFor } from "./reply-errors.js";

/** A host and a port, as ftplib's `(host, port)` tuples. */
export type HostPort = readonly [host: string, port: number];

const NUMBERS_227 = /(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)/;

/**
 * The address of a 227 reply to PASV (`227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)`).
 * Throws {@link ErrorReply} for another code, {@link ErrorProto} when there is no valid address
 * (a number over 255, port 0). The client uses the host only if told to trust it.
 *
 * @returns `[host, port]`.
 * @group The ftplib API
 */
export function parse227(resp: Reply | string): HostPort {
  const text = replyTextFor(resp, 227);
  const match = NUMBERS_227.exec(text);
  if (match === null) throw new ErrorProto(resp, { code: "ERR_FTP_BAD_PASV" });
  const n = match.slice(1).map(Number);
  if (n.some((x) => x > 255)) throw new ErrorProto(resp, { code: "ERR_FTP_BAD_PASV" });
  const port = n[4]! * 256 + n[5]!;
  if (port === 0) throw new ErrorProto(resp, { code: "ERR_FTP_BAD_PASV" });
  return [n.slice(0, 4).join("."), port];
}

/**
 * The address of a 229 reply to EPSV (`229 Entering Extended Passive Mode (|||6446|)`). The host is
 * the control connection's peer, given as `peer` (a host, or ftplib's `(host, port)`): EPSV
 * replies carry only a port. Throws {@link ErrorReply} for another code, {@link ErrorProto} for a
 * malformed reply or a port out of range.
 *
 * @returns `[host, port]`, the host being `peer`'s.
 * @group The ftplib API
 */
export function parse229(resp: Reply | string, peer: string | readonly [string, ...unknown[]]): HostPort {
  const text = replyTextFor(resp, 229);
  const left = text.indexOf("(");
  const right = left < 0 ? -1 : text.indexOf(")", left + 1);
  const bad = (): never => {
    throw new ErrorProto(resp, { code: "ERR_FTP_BAD_EPSV" });
  };
  if (right < 0) bad();
  const delimiter = text[left + 1];
  if (delimiter === undefined || delimiter !== text[right - 1] || left + 1 === right - 1) bad();
  const parts = text.slice(left + 1, right).split(delimiter!);
  if (parts.length !== 5 || !/^\d{1,5}$/.test(parts[3]!)) bad();
  const port = Number(parts[3]);
  if (port < 1 || port > 65535) bad();
  return [typeof peer === "string" ? peer : peer[0], port];
}
