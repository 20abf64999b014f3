/**
 * A loopback server that follows a script, for what real servers rarely do: stall, lie, hang up.
 * It counts the sockets open on its side, so a test can check that the client closed its own.
 */
import net from "node:net";

export interface ScriptedSession {
  /** Sends raw text on the control connection (add the CRLF yourself). */
  send(text: string): void;
  /** The next command line from the client (without CRLF). */
  command(): Promise<string>;
  /** Answers commands until `verb` arrives, replying to the others with `reply`. */
  until(verb: string, reply?: (line: string) => string): Promise<string>;
  /** Opens a passive data listener; `connection()` resolves with the client's data socket. */
  passive(host?: string): Promise<{ port: number; connection(): Promise<net.Socket> }>;
  readonly socket: net.Socket;
}

export interface ScriptedServer {
  readonly host: string;
  readonly port: number;
  /** Sockets of the server still open (control and data). */
  openSockets(): number;
  /** Waits until every socket on the server's side is closed, or `ms` pass. */
  settled(ms?: number): Promise<number>;
  close(): Promise<void>;
}

export async function startScriptedServer(script: (session: ScriptedSession) => Promise<void>, host = "127.0.0.1"): Promise<ScriptedServer> {
  const open = new Set<net.Socket>();
  const servers = new Set<net.Server>();
  const track = (socket: net.Socket) => {
    open.add(socket);
    socket.on("error", () => undefined);
    socket.on("close", () => open.delete(socket));
  };
  const server = net.createServer((socket) => {
    track(socket);
    let buffered = "";
    const waiting: ((line: string) => void)[] = [];
    const lines: string[] = [];
    socket.on("data", (chunk) => {
      buffered += chunk.toString("utf8");
      for (let i = buffered.indexOf("\r\n"); i >= 0; i = buffered.indexOf("\r\n")) {
        const line = buffered.slice(0, i);
        buffered = buffered.slice(i + 2);
        const waiter = waiting.shift();
        if (waiter) waiter(line);
        else lines.push(line);
      }
    });
    const session: ScriptedSession = {
      socket,
      send: (text) => {
        if (!socket.destroyed) socket.write(text);
      },
      command: () => {
        const line = lines.shift();
        return line !== undefined ? Promise.resolve(line) : new Promise((resolve) => waiting.push(resolve));
      },
      async until(verb, reply = () => "200 OK\r\n") {
        for (;;) {
          const line = await session.command();
          if (line.toUpperCase().startsWith(verb)) return line;
          session.send(reply(line));
        }
      },
      async passive(dataHost = host) {
        const data = net.createServer();
        servers.add(data);
        const accepted = new Promise<net.Socket>((resolve) => {
          data.once("connection", (s) => {
            track(s);
            data.close();
            resolve(s);
          });
        });
        await new Promise<void>((resolve) => data.listen(0, dataHost, resolve));
        return { port: (data.address() as net.AddressInfo).port, connection: () => accepted };
      },
    };
    script(session).catch(() => socket.destroy());
  });
  servers.add(server);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    host,
    port: (server.address() as net.AddressInfo).port,
    openSockets: () => open.size,
    async settled(ms = 2000) {
      const deadline = Date.now() + ms;
      while (open.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      return open.size;
    },
    close() {
      for (const socket of open) socket.destroy();
      for (const s of servers) s.close();
      return Promise.resolve();
    },
  };
}

/** Greets and logs in anyone. */
export async function greetAndLogin(session: ScriptedSession): Promise<void> {
  session.send("220 scripted\r\n");
  await session.until("USER");
  session.send("230 ok\r\n");
}

/**
 * Answers EPSV with a passive listener, waits for the transfer command `verb` and returns the
 * client's data connection once it connects (before any 1xx is sent).
 */
export async function passiveTransfer(session: ScriptedSession, verb: string): Promise<{ command: string; data: () => Promise<net.Socket> }> {
  await session.until("EPSV");
  const listener = await session.passive();
  session.send(`229 (|||${listener.port}|)\r\n`);
  const command = await session.until(verb);
  return { command, data: listener.connection };
}
