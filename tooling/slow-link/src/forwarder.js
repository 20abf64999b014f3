/**
 * The slow link: a user-space forwarder in front of a real FTP server (the kernel here has no
 * netem). It relays the control connection, and each data connection too: a reply to PASV (227)
 * or EPSV (229) is rewritten to name a listener of the forwarder's own, which relays to the port
 * the server named. Every direction of every connection goes through a DelayLine (a delay, and
 * for data connections an optional rate cap). Active mode (PORT, EPRT) is refused with a 502:
 * the server would connect past the link. After AUTH TLS the control connection is relayed
 * unread, so its passive replies cannot be rewritten: the link is for plain FTP.
 */
import net from "node:net";
import { CommandCounter } from "./command-counter.js";
import { DelayLine } from "./delay-line.js";
import { parsePassiveReply, rewritePassiveReply } from "./passive-reply.js";

const ACTIVE = /^(PORT|EPRT)\b/i;
/** How long a data listener waits for the client's connection. */
const DATA_ACCEPT_MS = 60_000;

/** @param {net.Server} server @param {number} port @param {string} host */
function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve(/** @type {net.AddressInfo} */ (server.address()));
    });
  });
}

/** A numeric address as the listener reports it, without the IPv4-mapped prefix. */
const plain = (address) => address.replace(/^::ffff:/, "");

export class SlowLink {
  /**
   * Starts a forwarder on `host`:`port` (port 0: any free one) to the server at `target`.
   * @param {import("../index.js").SlowLinkOptions} options
   */
  static async start(options) {
    const link = new SlowLink(options);
    const address = await listen(link.server, options.port ?? 0, options.host ?? "127.0.0.1");
    link.host = plain(address.address);
    link.port = address.port;
    return link;
  }

  /** @param {import("../index.js").SlowLinkOptions} options */
  constructor(options) {
    this.target = options.target;
    this.delayMs = options.delayMs ?? 10;
    this.rate = options.rate;
    this.controlRate = options.controlRate;
    this.host = "";
    this.port = 0;
    /** @type {ControlSession[]} */
    this.sessions = [];
    /** @type {Set<net.Socket | net.Server>} */
    this.handles = new Set();
    this.server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (client) => {
      this.sessions.push(new ControlSession(this, client));
    });
  }

  /** Counts of every control connection so far, summed, and each one's. */
  stats() {
    const sessions = this.sessions.map((s) => s.counter.toJSON());
    /** @type {Record<string, number>} */
    const verbs = {};
    for (const s of sessions) for (const [verb, n] of Object.entries(s.verbs)) verbs[verb] = (verbs[verb] ?? 0) + n;
    const sum = (key) => sessions.reduce((total, s) => total + s[key], 0);
    return {
      controlConnections: sessions.length,
      commands: sum("commands"),
      commandRoundTrips: sum("commandRoundTrips"),
      dataConnections: sum("dataConnections"),
      dataBytes: sum("dataBytes"),
      roundTrips: sum("roundTrips"),
      verbs,
      sessions,
    };
  }

  /** Stops listening and cuts every connection still open. */
  async close() {
    for (const handle of this.handles) {
      if (handle instanceof net.Socket) handle.destroy();
      else handle.close();
    }
    this.handles.clear();
    await new Promise((resolve) => this.server.close(() => resolve(undefined)));
  }

  /** Keeps `handle` to be closed with the link, until it closes by itself. */
  track(handle) {
    this.handles.add(handle);
    handle.once("close", () => this.handles.delete(handle));
    return handle;
  }

  /** Relays `client` to a new connection to `host`:`port`, both ways, with the link's delay and `rate`. */
  relay(client, host, port, rate) {
    const server = this.track(net.connect({ host, port, allowHalfOpen: true, noDelay: true }));
    this.track(client);
    // An error closes the socket, and a close travels on to the other side ("reset").
    client.on("error", () => {});
    server.on("error", () => {});
    const up = new DelayLine(client, server, { delayMs: this.delayMs, rate });
    const down = new DelayLine(server, client, { delayMs: this.delayMs, rate });
    return { server, up, down };
  }

  /**
   * A listener for one data connection, relayed to the server's `host`:`port`. Resolves to the
   * listener's port.
   * @param {ControlSession} session
   */
  async dataListener(session, localAddress, host, port) {
    const listener = this.track(net.createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }));
    const timer = setTimeout(() => listener.close(), DATA_ACCEPT_MS).unref();
    listener.once("connection", (client) => {
      clearTimeout(timer);
      listener.close();
      session.counter.dataConnection();
      const { up, down } = this.relay(client, host, port, this.rate);
      client.once("close", () => (session.counter.dataBytes += up.delivered + down.delivered));
      up.attach();
      down.attach();
      client.resume();
    });
    return (await listen(listener, 0, localAddress)).port;
  }
}

/** One control connection: both directions delayed, commands counted, passive replies rewritten. */
class ControlSession {
  /** @param {SlowLink} link @param {net.Socket} client */
  constructor(link, client) {
    this.link = link;
    this.client = client;
    this.counter = new CommandCounter();
    const { server, up, down } = link.relay(client, link.target.host, link.target.port, link.controlRate);
    this.server = server;
    this.up = up;
    this.down = down;
    down.onDeliver = () => this.counter.reply();
    this.encrypted = false; // after AUTH: the client's side relayed unread
    this.downEncrypted = false; // after 234: the server's side too
    this.upText = "";
    this.downText = "";
    this.downChain = Promise.resolve();

    client.on("data", (chunk) => this.fromClient(chunk));
    client.on("end", () => this.flushUp(() => up.end()));
    client.on("close", () => up.reset());
    server.on("data", (chunk) => this.fromServer(chunk));
    server.on("end", () => this.flushDown((arrived) => down.end(arrived)));
    server.on("close", () => this.flushDown((arrived) => down.reset(arrived)));
    client.resume();
  }

  fromClient(chunk) {
    if (this.encrypted) return this.up.push(chunk);
    this.upText += chunk.toString("latin1");
    const end = this.upText.lastIndexOf("\n") + 1;
    if (end === 0) return;
    let forward = "";
    let rest = this.upText.slice(end);
    for (const line of this.upText.slice(0, end).split(/(?<=\n)/)) {
      if (this.encrypted) {
        forward += line;
        continue;
      }
      if (ACTIVE.test(line)) {
        const reply =
          "502 The slow-link forwarder relays passive mode only (PASV, EPSV): PORT and EPRT are refused.\r\n";
        // As if the server had answered: one round trip later.
        this.down.push(Buffer.from(reply, "latin1"), performance.now() + this.link.delayMs);
        this.counter.command(line);
        continue;
      }
      this.counter.command(line);
      forward += line;
      if (/^AUTH\b/i.test(line)) this.encrypted = true;
    }
    if (this.encrypted) {
      forward += rest;
      rest = "";
    }
    this.upText = rest;
    this.up.push(Buffer.from(forward, "latin1"));
  }

  flushUp(then) {
    if (this.upText !== "") this.up.push(Buffer.from(this.upText, "latin1"));
    this.upText = "";
    then();
  }

  fromServer(chunk) {
    const arrived = performance.now();
    if (this.downEncrypted) return this.then(() => this.down.push(chunk, arrived));
    this.downText += chunk.toString("latin1");
    const end = this.downText.lastIndexOf("\n") + 1;
    if (end === 0) return;
    const lines = this.downText.slice(0, end).split(/(?<=\n)/);
    const rest = this.downText.slice(end);
    // A 234 (AUTH accepted) is the last line in the clear; what follows is TLS.
    const tls = lines.findIndex((line) => line.startsWith("234 "));
    let raw = "";
    if (tls >= 0) {
      this.downEncrypted = true;
      raw = lines.splice(tls + 1).join("") + rest;
      this.downText = "";
    } else this.downText = rest;
    this.then(async () => {
      let out = "";
      for (const line of lines) out += await this.rewrite(line);
      this.down.push(Buffer.from(out + raw, "latin1"), arrived);
    });
  }

  /** A passive reply pointing at a data listener of the link's; any other line as it is. */
  async rewrite(line) {
    const passive = parsePassiveReply(line);
    if (passive === undefined) return line;
    const local = plain(this.client.localAddress ?? this.link.host);
    const remote = plain(this.server.remoteAddress ?? this.link.target.host);
    // The server's own address when PASV names one it can be reached at, else the control connection's.
    const host = passive.host !== undefined && passive.host !== "0.0.0.0" ? passive.host : remote;
    if (passive.kind === "pasv" && !net.isIPv4(local))
      return "425 The slow-link forwarder cannot name its IPv6 address in a PASV reply: use EPSV.\r\n";
    const port = await this.link.dataListener(this, local, host, passive.port);
    return rewritePassiveReply(line, local, port);
  }

  /** Runs `step` after the replies before it have been handled, in order. */
  then(step) {
    this.downChain = this.downChain.then(step).catch(() => this.server.destroy());
  }

  flushDown(finish) {
    const arrived = performance.now();
    const rest = this.downText;
    this.downText = "";
    this.then(() => {
      if (rest !== "") this.down.push(Buffer.from(rest, "latin1"), arrived);
      finish(arrived);
    });
  }
}
