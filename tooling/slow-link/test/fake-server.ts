/**
 * A tiny FTP-shaped server for the forwarder's own tests: "200 ok" to every line, and to PASV or
 * EPSV a passive reply naming a data listener that sends `dataBytes` bytes to whoever connects.
 */
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";

export interface FakeServer {
  port: number;
  received: string[];
  close(): Promise<void>;
}

const listen = (server: Server) =>
  new Promise<number>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)),
  );

export async function startFakeServer(data: Buffer = Buffer.alloc(0)): Promise<FakeServer> {
  const sockets = new Set<Socket>();
  const servers: Server[] = [];
  const received: string[] = [];
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
  };
  const control = createServer((socket) => {
    track(socket);
    socket.write("220 fake\r\n");
    let text = "";
    socket.on("data", (chunk) => {
      text += chunk.toString("latin1");
      let end;
      while ((end = text.indexOf("\n")) >= 0) {
        const line = text.slice(0, end).trim();
        text = text.slice(end + 1);
        received.push(line);
        const verb = line.split(" ", 1)[0]?.toUpperCase();
        if (verb === "PASV" || verb === "EPSV") {
          const dataServer = createServer((d) => {
            track(d);
            d.end(data);
            dataServer.close();
          });
          servers.push(dataServer);
          void listen(dataServer).then((port) =>
            socket.write(
              verb === "PASV"
                ? `227 Entering Passive Mode (127,0,0,1,${port >> 8},${port & 255})\r\n`
                : `229 Entering Extended Passive Mode (|||${port}|)\r\n`,
            ),
          );
        } else socket.write("200 ok\r\n");
      }
    });
  });
  servers.push(control);
  const port = await listen(control);
  return {
    port,
    received,
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    },
  };
}
