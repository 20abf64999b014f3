/**
 * The hostile-server kit: a loopback FTP server that follows a script, for what real servers
 * rarely do on cue: stall, lie, write half a reply, hang up mid-transfer, send data after the
 * final reply, announce a passive address where nothing listens, or send a line with no end.
 *
 * A scenario is either a script (an async function driving one session by hand) or a table of
 * handlers, one per command verb, over sensible defaults (login accepted, EPSV/PASV/PORT/EPRT
 * handled, everything else `200 OK`). The server counts the sockets open on its side, so a test
 * can check that the client closed all of its own.
 */
import { type HostPort, commandVerb, parseEprtArgument, parsePortArgument } from "@ftplib/protocol";
import * as net from "node:net";
import * as tls from "node:tls";

/** What a handler returns: a reply to send (CRLF added when missing), or nothing (it replied itself). */
export type HandlerResult = string | void | typeof HANG_UP;

/** Answers one command. `argument` is what follows the verb; `line` the whole command line. */
export type CommandHandler = (
  session: HostileSession,
  argument: string,
  line: string,
) => HandlerResult | Promise<HandlerResult>;

/** Handlers by verb (upper case); `"*"` answers any verb without a handler of its own. */
export type CommandHandlers = Record<string, CommandHandler | string>;

/** Returned by a handler: close the control connection after this command. */
export const HANG_UP: unique symbol = Symbol("hang up");

/** A scenario: a script for each session, or command handlers over the defaults. */
export type Scenario = ((session: HostileSession) => Promise<void>) | CommandHandlers;

export interface HostileServerOptions {
  /** Loopback address to listen on (default 127.0.0.1). */
  host?: string;
  /** With handlers: the greeting sent first (default `220 hostile server ready`); `false` for none. */
  greeting?: string | false;
  /** Key and certificate for `session.startTls()` and `session.secureData()`. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /**
   * With handlers (`serve`): a session without a command for this many milliseconds gets
   * `idleReply` and is closed, as a server's idle timeout does.
   */
  idleTimeout?: number;
  /** The reply sent when `idleTimeout` strikes (default `421 Timeout.`); `false` to close without one. */
  idleReply?: string | false;
}

/** A data connection's listener opened by the server (passive mode). */
export interface PassiveListener {
  readonly host: string;
  readonly port: number;
  /**
   * The client's data connection, once it connects.
   *
   * @returns the data socket.
   */
  connection(): Promise<net.Socket>;
  close(): void;
}

/** One client session, seen from the server. */
export interface HostileSession {
  /** The control socket (the TLS socket after `startTls()`). */
  readonly socket: net.Socket;
  /** Every command line received so far, in order. */
  readonly commands: readonly string[];
  /** The same lines as bytes, as received (a name that is not valid UTF-8 shows here as it was sent). */
  readonly commandBytes: readonly Buffer[];
  /** Every byte received on the control connection before TLS (or on a connection that never used it). */
  readonly clearText: Buffer;
  /** Writes raw text or bytes on the control connection (no CRLF added); resolves once flushed. */
  send(data: string | Uint8Array): Promise<void>;
  /** Sends a one-line reply: `reply(550, "no")` writes `550 no\r\n`. */
  reply(code: number, text?: string): Promise<void>;
  /** Writes `data` in pieces of `size` bytes, `delay` ms apart (partial writes, split replies). */
  sendInPieces(data: string | Uint8Array, size: number, delay?: number): Promise<void>;
  /**
   * The next command line (without CRLF), or `null` once the client has closed the connection.
   *
   * @returns the line, or null.
   */
  command(): Promise<string | null>;
  /**
   * Answers commands until one with `verb` arrives, and returns its line; the others get
   * `answer(line)` (default `200 OK`). Rejects if the client closes first.
   *
   * @returns the line of the command with `verb`.
   */
  until(verb: string, answer?: (line: string) => string): Promise<string>;
  /** Runs the command loop with `handlers` over the defaults, until the client leaves or a handler hangs up. */
  serve(handlers?: CommandHandlers): Promise<void>;
  /**
   * Opens a passive listener (on `host`, default the server's).
   *
   * @returns the listener, with its host and port.
   */
  passive(host?: string): Promise<PassiveListener>;
  /**
   * The data connection for the current transfer: the client's connection to the latest passive
   * listener (EPSV/PASV), or a connection made to the address of the latest PORT/EPRT.
   *
   * @returns the data socket.
   */
  data(): Promise<net.Socket>;
  /**
   * Wraps a socket (a data connection) in TLS as the server side, with the `tls` option's key and
   * certificate or with `identity` (another certificate for the data connection than the control's).
   *
   * @returns the TLS socket, once the handshake is done.
   */
  secureData(socket: net.Socket, identity?: { key: string | Buffer; cert: string | Buffer }): Promise<tls.TLSSocket>;
  /** Switches the control connection to TLS (send the 234 first). Needs the `tls` option. */
  startTls(): Promise<void>;
  /** Resolves when `ms` have passed; or, without `ms`, when the client closes the connection. */
  stall(ms?: number): Promise<void>;
  /** Closes the control connection: gracefully (FIN) or, with `reset`, at once (RST). */
  hangUp(reset?: boolean): void;
  /** Resolves when the control connection is closed. */
  readonly closed: Promise<void>;
}

export interface HostileServer {
  readonly host: string;
  readonly port: number;
  /** Every command line received, from every session, in order. */
  readonly commands: readonly string[];
  /** The same lines as bytes, as received. */
  readonly commandBytes: readonly Buffer[];
  /**
   * Every byte received in the clear on the control connections of every session, in order of
   * the sessions: what an eavesdropper would have read (after a TLS switch nothing is added).
   *
   * @returns the bytes.
   */
  clearText(): Buffer;
  /** Sessions started so far. */
  readonly sessions: readonly HostileSession[];
  /** Errors thrown by scripts or handlers (the session's socket is destroyed when one is thrown). */
  readonly errors: readonly unknown[];
  /**
   * Sockets of the server still open (control and data).
   *
   * @returns their number.
   */
  openSockets(): number;
  /**
   * Waits until every socket on the server's side is closed, or `ms` pass; returns how many remain open.
   *
   * @returns the number of sockets still open: 0 when all closed.
   */
  settled(ms?: number): Promise<number>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

// --- Reply builders for misbehaviour -------------------------------------------------------

/**
 * A 227 reply for `host:port` (any host: a bogus target is one the client must not trust).
 *
 * @returns the reply line, without CRLF.
 */
export function pasvReply(host: string, port: number): string {
  return `227 Entering Passive Mode (${host.split(".").join(",")},${port >> 8},${port & 255}).\r\n`;
}

/**
 * A 229 reply for `port`.
 *
 * @returns the reply line, without CRLF.
 */
export function epsvReply(port: number): string {
  return `229 Entering Extended Passive Mode (|||${port}|)\r\n`;
}

/**
 * A multi-line reply: `code-first`, the middle lines, `code last`.
 *
 * @returns the reply, lines joined by CRLF, without the last CRLF.
 */
export function multilineReply(code: number, lines: readonly string[]): string {
  if (lines.length < 2) return `${code} ${lines[0] ?? ""}\r\n`;
  const middle = lines.slice(1, -1).map((line) => ` ${line}\r\n`);
  return `${code}-${lines[0]}\r\n${middle.join("")}${code} ${lines.at(-1)}\r\n`;
}

/**
 * A reply line of `length` characters before its CRLF (over the client's line limit when long enough).
 *
 * @returns the reply line, without CRLF.
 */
export function overlongReply(code: number, length: number): string {
  return `${code} ${"x".repeat(Math.max(0, length - 4))}\r\n`;
}

/**
 * A loopback port where nothing listens (bound, then released): a target that refuses.
 *
 * @returns the port.
 */
export async function closedPort(host = "127.0.0.1"): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// --- The server --------------------------------------------------------------------------

function toBuffer(data: string | Uint8Array): Buffer {
  return typeof data === "string"
    ? Buffer.from(data, "utf8")
    : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

function writeAll(socket: net.Socket, data: Buffer): Promise<void> {
  if (socket.destroyed || !socket.writable) return Promise.resolve();
  return new Promise((resolve) => socket.write(data, () => resolve()));
}

/** No command came in time (the idle timeout). */
const IDLE: unique symbol = Symbol("idle");

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Starts a hostile server on loopback that runs `scenario` for every client session.
 *
 * @returns the server, listening (`await using` closes it).
 */
export async function startHostileServer(
  scenario: Scenario,
  options: HostileServerOptions = {},
): Promise<HostileServer> {
  const host = options.host ?? "127.0.0.1";
  const open = new Set<net.Socket>();
  const listeners = new Set<net.Server>();
  const commands: string[] = [];
  const commandBytes: Buffer[] = [];
  const sessions: Session[] = [];
  const errors: unknown[] = [];
  const track = (socket: net.Socket) => {
    open.add(socket);
    socket.on("error", () => undefined);
    socket.on("close", () => open.delete(socket));
  };
  const script =
    typeof scenario === "function"
      ? scenario
      : async (session: HostileSession) => {
          if (options.greeting !== false) await session.send(`${options.greeting ?? "220 hostile server ready"}\r\n`);
          await session.serve(scenario);
        };

  const server = net.createServer((socket) => {
    track(socket);
    const session = new Session(socket, host, options, track, listeners, commands, commandBytes);
    sessions.push(session);
    script(session).catch((error: unknown) => {
      errors.push(error);
      session.hangUp(true);
    });
  });
  listeners.add(server);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, resolve);
  });
  const close = async () => {
    for (const socket of open) socket.destroy();
    await Promise.all([...listeners].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  };
  return {
    host,
    port: (server.address() as net.AddressInfo).port,
    commands,
    commandBytes,
    clearText: () => Buffer.concat(sessions.map((session) => session.clearText)),
    sessions,
    errors,
    openSockets: () => open.size,
    async settled(ms = 2000) {
      const deadline = Date.now() + ms;
      while (open.size > 0 && Date.now() < deadline) await delay(20);
      return open.size;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

const DEFAULT_HANDLERS: CommandHandlers = {
  USER: "331 password, please",
  PASS: "230 logged in",
  SYST: "215 UNIX Type: L8",
  PWD: '257 "/" is the current directory',
  TYPE: "200 type set",
  NOOP: "200 OK",
  QUIT: async (session): Promise<HandlerResult> => {
    await session.reply(221, "bye");
    return HANG_UP;
  },
  EPSV: async (session) => {
    const listener = await session.passive();
    return epsvReply(listener.port);
  },
  PASV: async (session) => {
    const listener = await session.passive();
    return pasvReply(listener.host, listener.port);
  },
  PORT: activeHandler("PORT", parsePortArgument),
  EPRT: activeHandler("EPRT", parseEprtArgument),
};

class Session implements HostileSession {
  readonly commands: string[] = [];
  readonly commandBytes: Buffer[] = [];
  readonly closed: Promise<void>;
  private current: net.Socket;
  private buffered = Buffer.alloc(0);
  private readonly clearChunks: Buffer[] = [];
  private secured = false;
  private readonly lines: string[] = [];
  private readonly waiting: ((line: string | null) => void)[] = [];
  private ended = false;
  private pendingData: (() => Promise<net.Socket>) | undefined;

  constructor(
    socket: net.Socket,
    private readonly host: string,
    private readonly options: HostileServerOptions,
    private readonly track: (socket: net.Socket) => void,
    private readonly listeners: Set<net.Server>,
    private readonly allCommands: string[],
    private readonly allCommandBytes: Buffer[],
  ) {
    this.current = socket;
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
    this.listen(socket);
    socket.once("close", () => this.finish());
  }

  get socket(): net.Socket {
    return this.current;
  }

  get clearText(): Buffer {
    return Buffer.concat(this.clearChunks);
  }

  private listen(socket: net.Socket): void {
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("end", () => this.finish());
  }

  private onData(chunk: Buffer): void {
    if (!this.secured) this.clearChunks.push(Buffer.from(chunk));
    this.buffered = Buffer.concat([this.buffered, chunk]);
    for (let i = this.buffered.indexOf("\r\n"); i >= 0; i = this.buffered.indexOf("\r\n")) {
      const bytes = Buffer.from(this.buffered.subarray(0, i));
      const line = bytes.toString("utf8");
      this.buffered = this.buffered.subarray(i + 2);
      this.commands.push(line);
      this.commandBytes.push(bytes);
      this.allCommands.push(line);
      this.allCommandBytes.push(bytes);
      const waiter = this.waiting.shift();
      if (waiter) waiter(line);
      else this.lines.push(line);
    }
  }

  private finish(): void {
    this.ended = true;
    for (const waiter of this.waiting.splice(0)) waiter(null);
  }

  send(data: string | Uint8Array): Promise<void> {
    return writeAll(this.current, toBuffer(data));
  }

  reply(code: number, text = ""): Promise<void> {
    return this.send(`${code} ${text}\r\n`);
  }

  async sendInPieces(data: string | Uint8Array, size: number, pause = 20): Promise<void> {
    const bytes = toBuffer(data);
    for (let offset = 0; offset < bytes.length; offset += size) {
      if (offset > 0) await delay(pause);
      await writeAll(this.current, bytes.subarray(offset, offset + size));
    }
  }

  command(): Promise<string | null> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** The next command line, or IDLE if none arrives within `ms`. */
  private async commandWithin(ms: number): Promise<string | null | typeof IDLE> {
    if (this.lines.length > 0 || this.ended) return this.command();
    let timer: NodeJS.Timeout | undefined;
    let got: { line: string | null } | undefined;
    let waiter: (line: string | null) => void = () => undefined;
    const line = new Promise<string | null>((resolve) => {
      waiter = (l) => {
        got = { line: l };
        resolve(l);
      };
      this.waiting.push(waiter);
    });
    const idle = new Promise<typeof IDLE>((resolve) => (timer = setTimeout(() => resolve(IDLE), ms)));
    await Promise.race([line, idle]);
    clearTimeout(timer);
    if (got !== undefined) return got.line;
    // Timed out: the waiter leaves the queue, so that the next line is not lost to it.
    this.waiting.splice(this.waiting.indexOf(waiter), 1);
    return IDLE;
  }

  async until(verb: string, answer: (line: string) => string = () => "200 OK\r\n"): Promise<string> {
    for (;;) {
      const line = await this.command();
      if (line === null) throw new Error(`the client closed the connection before ${verb}`);
      if (commandVerb(line) === verb.toUpperCase()) return line;
      await this.send(answer(line));
    }
  }

  async serve(handlers: CommandHandlers = {}): Promise<void> {
    const table: CommandHandlers = { ...DEFAULT_HANDLERS, ...handlers };
    const { idleTimeout, idleReply = "421 Timeout." } = this.options;
    for (;;) {
      const line = idleTimeout === undefined ? await this.command() : await this.commandWithin(idleTimeout);
      if (line === IDLE) {
        if (idleReply !== false) await this.send(`${idleReply}\r\n`);
        this.hangUp();
        return;
      }
      if (line === null) return;
      const verb = commandVerb(line);
      const handler = table[verb] ?? table["*"] ?? "200 OK";
      const argument = line.slice(verb.length + 1);
      const result = typeof handler === "string" ? handler : await handler(this, argument, line);
      if (result === HANG_UP) {
        this.hangUp();
        return;
      }
      if (typeof result === "string") await this.send(result.endsWith("\r\n") ? result : `${result}\r\n`);
    }
  }

  async passive(dataHost = this.host): Promise<PassiveListener> {
    const listener = net.createServer();
    this.listeners.add(listener);
    const accepted = new Promise<net.Socket>((resolve) => {
      listener.once("connection", (socket) => {
        this.track(socket);
        listener.close();
        resolve(socket);
      });
    });
    await new Promise<void>((resolve) => listener.listen(0, dataHost, resolve));
    const { port } = listener.address() as net.AddressInfo;
    this.pendingData = () => accepted;
    return { host: dataHost, port, connection: () => accepted, close: () => listener.close() };
  }

  /** Remembers an active-mode target: `data()` connects to it. */
  activeTarget(targetHost: string, port: number): void {
    let socket: Promise<net.Socket> | undefined;
    this.pendingData = () =>
      (socket ??= new Promise((resolve, reject) => {
        const s = net.connect({ host: targetHost, port });
        this.track(s);
        s.once("connect", () => resolve(s));
        s.once("error", reject);
      }));
  }

  data(): Promise<net.Socket> {
    if (this.pendingData === undefined)
      return Promise.reject(new Error("no data connection was set up (EPSV, PASV, PORT or EPRT)"));
    return this.pendingData();
  }

  private tlsOptions(): { key: string | Buffer; cert: string | Buffer } {
    if (this.options.tls === undefined) throw new Error("the hostile server has no tls option");
    return this.options.tls;
  }

  async secureData(
    socket: net.Socket,
    identity?: { key: string | Buffer; cert: string | Buffer },
  ): Promise<tls.TLSSocket> {
    const secured = new tls.TLSSocket(socket, { isServer: true, ...(identity ?? this.tlsOptions()) });
    this.track(secured);
    await new Promise<void>((resolve, reject) => {
      secured.once("secure", () => resolve());
      secured.once("error", reject);
      // A client that refuses the handshake may just close: that is a failure too, not a wait.
      secured.once("close", () => reject(new Error("the TLS handshake ended with the connection closed")));
    });
    return secured;
  }

  async startTls(): Promise<void> {
    const raw = this.current;
    this.secured = true;
    raw.removeAllListeners("data");
    raw.removeAllListeners("end");
    const secured = await this.secureData(raw);
    this.current = secured;
    this.listen(secured);
  }

  stall(ms?: number): Promise<void> {
    return ms === undefined ? this.closed : delay(ms);
  }

  hangUp(reset = false): void {
    if (reset) this.current.resetAndDestroy();
    else this.current.end();
  }
}

/** PORT and EPRT: remember the client's address (read by the codec's parser) for `data()`. */
function activeHandler(verb: "PORT" | "EPRT", parse: (argument: string) => HostPort): CommandHandler {
  return (session, argument) => {
    let target: HostPort;
    try {
      target = parse(argument);
    } catch {
      return `501 bad ${verb} argument`;
    }
    (session as Session).activeTarget(...target);
    return `200 ${verb} command successful`;
  };
}

// --- Ready-made handlers for transfers ------------------------------------------------------

export interface SendDataOptions {
  /** The 1xx reply (default `150 Opening data connection`). */
  preliminary?: string;
  /** The final reply (default `226 Transfer complete`); `false` for none (a server that forgets it). */
  final?: string | false;
  /** Send the final reply before the data (some servers do). */
  finalFirst?: boolean;
  /** Stop after this many bytes: the data connection is then closed (or reset, with `reset`). */
  cutAfter?: number;
  /** With `cutAfter`: reset the data connection instead of closing it. */
  reset?: boolean;
  /** With `cutAfter`: leave the data connection open and silent, with no final reply (a stalled transfer). */
  stall?: boolean;
  /** Bytes written on the data connection after the final reply, before it is closed. */
  afterFinal?: string | Uint8Array;
  /** Write the data in pieces of this many bytes (default: one write). */
  pieceSize?: number;
}

/**
 * A handler that answers a download (RETR, LIST, NLST, MLSD) with `content` over the data
 * connection, misbehaving as `options` say.
 *
 * @returns the handler, for a scenario's table.
 */
export function sendData(content: string | Uint8Array, options: SendDataOptions = {}): CommandHandler {
  return async (session) => {
    const bytes = toBuffer(content);
    const final = options.final ?? "226 Transfer complete";
    const sendFinal = async () => {
      if (final !== false) await session.send(`${final}\r\n`);
    };
    await session.send(`${options.preliminary ?? "150 Opening data connection"}\r\n`);
    const data = await session.data();
    if (options.finalFirst) await sendFinal();
    const body = options.cutAfter === undefined ? bytes : bytes.subarray(0, options.cutAfter);
    if (options.pieceSize === undefined) await writeAll(data, body);
    else
      for (let i = 0; i < body.length; i += options.pieceSize)
        await writeAll(data, body.subarray(i, i + options.pieceSize));
    if (options.cutAfter !== undefined && options.stall) {
      await session.stall();
      return;
    }
    if (options.cutAfter !== undefined && options.reset) {
      data.resetAndDestroy();
      if (!options.finalFirst) await sendFinal();
      return;
    }
    if (options.afterFinal !== undefined) {
      if (!options.finalFirst) await sendFinal();
      await delay(20);
      await writeAll(data, toBuffer(options.afterFinal));
      data.end();
      return;
    }
    await new Promise<void>((resolve) => data.end(() => resolve()));
    if (!options.finalFirst) await sendFinal();
  };
}

/**
 * A handler that takes an upload (STOR, APPE) and hands the bytes received to `received`.
 *
 * @returns the handler, for a scenario's table.
 */
export function receiveData(received: (bytes: Buffer) => void, options: { final?: string } = {}): CommandHandler {
  return async (session) => {
    await session.send("150 Ok to send data\r\n");
    const data = await session.data();
    const chunks: Buffer[] = [];
    data.on("data", (chunk: Buffer) => chunks.push(chunk));
    await new Promise<void>((resolve) => data.once("close", () => resolve()));
    received(Buffer.concat(chunks));
    return options.final ?? "226 Transfer complete";
  };
}

export interface DripOptions {
  /** Milliseconds between pieces (default 100). */
  interval?: number;
  /** Bytes per piece (default 1). */
  size?: number;
  /** The 1xx reply (default `150 Opening data connection`). */
  preliminary?: string;
  /**
   * What the server does when ABOR arrives (or the client closes the data connection):
   * `"answer"` (default) stops and sends `abortReplies`; `"stall"` stops and never answers again;
   * `"ignore"` reads the ABOR, answers nothing and goes on dripping until the client closes the
   * data connection, then never answers again.
   */
  onAbort?: "answer" | "stall" | "ignore";
  /** The replies to ABOR with `onAbort: "answer"` (default `426` for the transfer, then `226`). */
  abortReplies?: string;
}

/**
 * A handler that answers a download with `content` a few bytes at a time, slowly (a server on a
 * starved link, or one that means to hold the client): one byte every 100 ms by default. It
 * keeps a data timeout from firing while taking as long as it likes.
 *
 * @returns the handler, for a scenario's table.
 */
export function dripData(content: string | Uint8Array, options: DripOptions = {}): CommandHandler {
  const { interval = 100, size = 1, onAbort = "answer" } = options;
  const abortReplies = options.abortReplies ?? "426 Connection closed; transfer aborted\r\n226 ABOR successful\r\n";
  return async (session) => {
    const bytes = toBuffer(content);
    await session.send(`${options.preliminary ?? "150 Opening data connection"}\r\n`);
    const data = await session.data();
    const from = session.commands.length;
    const abortSeen = () => session.commands.slice(from).some((line) => commandVerb(line) === "ABOR");
    let closed = false;
    data.once("close", () => (closed = true));
    let offset = 0;
    const dripUntil = async (stop: () => boolean) => {
      while (offset < bytes.length && !closed && !stop()) {
        await writeAll(data, bytes.subarray(offset, offset + size));
        offset += size;
        await delay(interval);
      }
    };
    await dripUntil(abortSeen);
    if (offset >= bytes.length && !abortSeen()) {
      await new Promise<void>((resolve) => data.end(() => resolve()));
      await session.send("226 Transfer complete\r\n");
      return;
    }
    if (onAbort === "ignore") {
      await session.until("ABOR").catch(() => undefined);
      await dripUntil(() => false);
      await session.stall();
      return;
    }
    data.destroy();
    if (onAbort === "stall") {
      await session.stall();
      return;
    }
    if ((await session.until("ABOR").catch(() => null)) !== null) await session.send(abortReplies);
  };
}
