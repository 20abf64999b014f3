/**
 * Arguments of PORT (RFC 959) and EPRT (RFC 2428), built and parsed, with the address checks
 * they need. Pure string work: no resolver, no sockets.
 */
import { ErrorProto, LocalProtocolError } from "./errors.js";
import type { HostPort } from "./parse-pasv.js";

const OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const IPV4 = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);

/**
 * True for a dotted-quad IPv4 address.
 *
 * @returns true when `host` is one.
 */
export function isIPv4(host: string): boolean {
  return IPV4.test(host);
}

/**
 * True for an IPv6 address (with an optional zone, `fe80::1%eth0`, and an embedded IPv4 tail).
 *
 * @returns true when `host` is one.
 */
export function isIPv6(host: string): boolean {
  const address = host.replace(/%[\w.-]+$/, "");
  const halves = address.split("::");
  if (halves.length > 2) return false;
  const groups = (half: string): string[] => (half === "" ? [] : half.split(":"));
  const parts = halves.flatMap(groups);
  let count = parts.length;
  const last = parts[parts.length - 1];
  if (last !== undefined && last.includes(".")) {
    if (!isIPv4(last)) return false;
    parts.pop();
    count += 1; // an IPv4 tail fills two groups
  }
  if (!parts.every((p) => /^[0-9a-fA-F]{1,4}$/.test(p))) return false;
  return halves.length === 2 ? count <= 7 : count === 8;
}

/**
 * The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:127.0.0.1`), or the host itself.
 *
 * @returns the IPv4 address, or `host` as it was.
 */
export function unmapIPv4(host: string): string {
  const match = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
  return match !== null && isIPv4(match[1]!) ? match[1]! : host;
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new LocalProtocolError(`not a TCP port: ${port}`, "ERR_FTP_BAD_ADDRESS");
  }
}

/**
 * The argument of PORT for an IPv4 address (`"127,0,0,1,4,1"` for 127.0.0.1:1025).
 *
 * @returns the argument.
 */
export function buildPortArgument(host: string, port: number): string {
  const ipv4 = unmapIPv4(host);
  if (!isIPv4(ipv4)) throw new LocalProtocolError(`PORT needs an IPv4 address, not ${host}`, "ERR_FTP_BAD_ADDRESS");
  checkPort(port);
  return `${ipv4.split(".").join(",")},${port >> 8},${port & 255}`;
}

/**
 * The argument of EPRT (`"|1|127.0.0.1|1025|"`, `"|2|::1|1025|"`).
 *
 * @returns the argument.
 */
export function buildEprtArgument(host: string, port: number): string {
  checkPort(port);
  const ipv4 = unmapIPv4(host);
  if (isIPv4(ipv4)) return `|1|${ipv4}|${port}|`;
  if (isIPv6(host)) return `|2|${host.replace(/%.*$/, "")}|${port}|`;
  throw new LocalProtocolError(`EPRT needs an IP address, not ${host}`, "ERR_FTP_BAD_ADDRESS");
}

/**
 * The address in a PORT argument. {@link ErrorProto} when it is not one.
 *
 * @returns `[host, port]`.
 */
export function parsePortArgument(argument: string): HostPort {
  const match = /^\s*(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3})\s*$/.exec(argument);
  const n = match?.slice(1).map(Number);
  if (n === undefined || n.some((x) => x > 255) || n[4]! * 256 + n[5]! === 0) {
    throw new ErrorProto(`bad PORT argument: ${JSON.stringify(argument.slice(0, 80))}`, {
      code: "ERR_FTP_BAD_ADDRESS",
    });
  }
  return [n.slice(0, 4).join("."), n[4]! * 256 + n[5]!];
}

/**
 * The address in an EPRT argument. {@link ErrorProto} when it is not one.
 *
 * @returns `[host, port]`.
 */
export function parseEprtArgument(argument: string): HostPort {
  const bad = (): never => {
    throw new ErrorProto(`bad EPRT argument: ${JSON.stringify(argument.slice(0, 80))}`, {
      code: "ERR_FTP_BAD_ADDRESS",
    });
  };
  const d = argument[0];
  if (d === undefined || d.charCodeAt(0) < 33 || d.charCodeAt(0) > 126) bad();
  const parts = argument.split(d!);
  if (parts.length !== 5 || parts[0] !== "" || parts[4] !== "") bad();
  const [, family, host, portText] = parts as [string, string, string, string, string];
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || port < 1 || port > 65535) bad();
  if (!((family === "1" && isIPv4(host)) || (family === "2" && isIPv6(host)))) bad();
  return [host, port];
}
