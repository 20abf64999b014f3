/**
 * The data port a server names in its reply to PASV (227) or EPSV (229), and the same reply
 * pointing at another port instead: the forwarder's own listener for that data connection.
 */

const PASV = /(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3})/;
const EPSV = /\(([!-~])\1\1(\d{1,5})\1\)/;

/**
 * The address a reply line names, or undefined when it is no passive reply.
 * @param {string} line
 * @returns {{ kind: "pasv" | "epsv", host?: string, port: number } | undefined}
 */
export function parsePassiveReply(line) {
  if (line.startsWith("227")) {
    const m = PASV.exec(line);
    if (m === null) return undefined;
    const n = m.slice(1).map(Number);
    return { kind: "pasv", host: n.slice(0, 4).join("."), port: n[4] * 256 + n[5] };
  }
  if (line.startsWith("229")) {
    const m = EPSV.exec(line);
    return m === null ? undefined : { kind: "epsv", port: Number(m[2]) };
  }
  return undefined;
}

/**
 * `line` with its address replaced by `host` (IPv4, for PASV) and `port`.
 * @param {string} line
 * @param {string} host
 * @param {number} port
 */
export function rewritePassiveReply(line, host, port) {
  if (line.startsWith("227")) return line.replace(PASV, `${host.split(".").join(",")},${port >> 8},${port & 255}`);
  return line.replace(EPSV, (_, d) => `(${d}${d}${d}${port}${d})`);
}
