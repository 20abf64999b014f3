import type { SocketAddress } from "@ftplib/protocol";
import { unmapIPv4 } from "@ftplib/protocol";
import type { Socket } from "node:net";

/** A socket's local or remote address, IPv4-mapped IPv6 addresses given as plain IPv4. */
export function socketAddress(socket: Socket, side: "local" | "remote"): SocketAddress {
  const rawHost = side === "local" ? socket.localAddress : socket.remoteAddress;
  const port = side === "local" ? socket.localPort : socket.remotePort;
  const host = unmapIPv4(rawHost ?? "");
  return { host, port: port ?? 0, family: host.includes(":") ? "IPv6" : "IPv4" };
}

/** True when two addresses name the same host (`::ffff:127.0.0.1` equals `127.0.0.1`). */
export function sameHost(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && unmapIPv4(a).toLowerCase() === unmapIPv4(b).toLowerCase();
}
