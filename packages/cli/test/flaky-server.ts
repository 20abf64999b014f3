/**
 * A flaky FTP server for the retry tests: a proxy in front of a real one whose first connections
 * fail (a 421 greeting, a reset, silence), and which can refuse a command's first tries with a
 * reply of its own (450 to RETR, say) before it lets the command through. Data connections go to
 * the real server directly (its passive addresses are the proxy's host: loopback).
 */
import { type AddressInfo, type Server, type Socket, connect, createServer } from "node:net";

/** What one connection meets: a 421 greeting and the end, a reset, no greeting at all, or the real server. */
export type Failure = "421" | "reset" | "silent" | "proxy";

export interface FlakyOptions {
  /** The real server. */
  target: { host: string; port: number };
  /** What the first connections meet, in order; the ones after them are proxied. */
  connections?: Failure[];
  /** Refuse `verb` the first `times` times it comes, with `reply`, instead of passing it on. */
  refuse?: { verb: string; reply: string; times: number };
  /** Turn the first `times` 226 replies (transfer complete) into 426 (transfer aborted): the data came, the transfer failed. */
  abortTransfers?: number;
}

export interface FlakyServer {
  readonly host: string;
  readonly port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Commands refused so far. */
  readonly refused: number;
  /** Transfers reported aborted so far. */
  readonly aborted: number;
  close(): Promise<void>;
}

export async function startFlakyServer(options: FlakyOptions): Promise<FlakyServer> {
  let connections = 0;
  let refused = 0;
  let aborted = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    const kind = options.connections?.[connections] ?? "proxy";
    connections++;
    if (kind === "421") socket.end("421 Service not available, try again later\r\n");
    else if (kind === "reset") socket.resetAndDestroy();
    else if (kind === "proxy") proxy(socket);
  });

  function proxy(client: Socket): void {
    const upstream = connect(options.target.port, options.target.host);
    sockets.add(upstream);
    upstream.on("close", () => {
      sockets.delete(upstream);
      client.end();
    });
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
    eachLine(upstream, (line) => {
      if (line.startsWith("226 ") && aborted < (options.abortTransfers ?? 0)) {
        aborted++;
        line = "426 Connection closed; transfer aborted";
      }
      client.write(`${line}\r\n`, "latin1");
    });
    eachLine(client, (line) => {
      const verb = line.split(" ", 1)[0]!.toUpperCase();
      const refuse = options.refuse;
      if (refuse !== undefined && verb === refuse.verb.toUpperCase() && refused < refuse.times) {
        refused++;
        client.write(`${refuse.reply}\r\n`);
      } else {
        upstream.write(`${line}\r\n`, "latin1");
      }
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    host: "127.0.0.1",
    port,
    get connections() {
      return connections;
    },
    get refused() {
      return refused;
    },
    get aborted() {
      return aborted;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Calls `onLine` with each CRLF-ended line `socket` receives, without its CRLF. */
function eachLine(socket: Socket, onLine: (line: string) => void): void {
  let pending = "";
  socket.on("data", (chunk: Buffer) => {
    pending += chunk.toString("latin1");
    for (let end = pending.indexOf("\r\n"); end >= 0; end = pending.indexOf("\r\n")) {
      const line = pending.slice(0, end);
      pending = pending.slice(end + 2);
      onLine(line);
    }
  });
}
