/**
 * The limit: the least a Node program can do to move the same bytes from the same server. A few
 * hand-written commands open the data connection (no parsing beyond that, no checks), then one
 * reused buffer receives everything (`onread`), or two buffers take turns sending a file.
 */
import { openSync, readSync, closeSync } from "node:fs";
import net from "node:net";
import tls from "node:tls";
import { contender, eachFile } from "./contender.mjs";

const BUFFER = 256 * 1024;

/** The control connection: send a line, wait for the next final reply. */
function control(socket) {
  let text = "";
  let waiter;
  socket.setEncoding("latin1");
  const onData = (data) => {
    text += data;
    const match = /(?:^|\n)(\d{3}) [^\n]*\n/.exec(text);
    if (match && waiter) {
      const reply = match[0].trim();
      text = text.slice(match.index + match[0].length);
      const w = waiter;
      waiter = undefined;
      w(reply);
    }
  };
  socket.on("data", onData);
  return {
    socket,
    reply: () => new Promise((resolve) => ((waiter = resolve), onData(""))),
    async send(line) {
      socket.write(`${line}\r\n`);
      const reply = await this.reply();
      if (reply[0] === "4" || reply[0] === "5") throw new Error(reply);
      return reply;
    },
    detach: () => socket.removeListener("data", onData),
  };
}

async function login(c, secure) {
  let socket = net.connect(c.port, c.host);
  let ctl = control(socket);
  await ctl.reply();
  let session;
  if (secure) {
    await ctl.send("AUTH TLS");
    ctl.detach();
    socket = tls.connect({ socket, ca: c.ca, servername: "localhost" });
    socket.on("session", (s) => (session = s));
    ctl = control(socket);
  }
  await ctl.send(`USER ${c.user}`);
  await ctl.send(`PASS ${c.password}`);
  if (secure) {
    await ctl.send("PBSZ 0");
    await ctl.send("PROT P");
  }
  await ctl.send("TYPE I");
  return { ctl, session: () => session, secure };
}

async function dataConnection(c, session, options) {
  const reply = await session.ctl.send("EPSV");
  const port = Number(/\|\|\|(\d+)\|/.exec(reply)[1]);
  if (!session.secure) return net.connect({ port, host: c.host, ...options });
  return tls.connect({ port, host: c.host, ca: c.ca, servername: "localhost", session: session.session(), ...options });
}

async function receive(c, session) {
  let bytes = 0;
  const buffer = Buffer.allocUnsafe(BUFFER);
  let ended;
  const done = new Promise((resolve) => (ended = resolve));
  const data = await dataConnection(c, session, { onread: { buffer, callback: (n) => void (bytes += n) } });
  data.on("end", ended).on("close", ended);
  await session.ctl.send(`RETR ${c.remote}`);
  await done;
  await session.ctl.reply();
  return { bytes };
}

async function send(c, session) {
  const data = await dataConnection(c, session, {});
  await session.ctl.send(`STOR ${c.remote}`);
  const fd = openSync(c.local, "r");
  const buffers = [Buffer.allocUnsafe(BUFFER), Buffer.allocUnsafe(BUFFER)];
  let bytes = 0;
  let inFlight = Promise.resolve();
  for (let turn = 0; ; turn ^= 1) {
    const n = readSync(fd, buffers[turn], 0, BUFFER, null);
    await inFlight;
    if (n === 0) break;
    bytes += n;
    inFlight = new Promise((resolve) => data.write(buffers[turn].subarray(0, n), resolve));
  }
  closeSync(fd);
  data.end();
  await session.ctl.reply();
  return { bytes };
}

/** A scenario on one control connection, logged in before the clock starts and destroyed after. */
const loggedIn = (run, secure = false) => ({
  prepare: async (c) => ({ ...c, session: await login(c, secure) }),
  run,
  finish: (c) => c.session.ctl.socket.destroy(),
});
await contender({
  download: loggedIn((c) => receive(c, c.session)),
  "ftps-download": loggedIn((c) => receive(c, c.session), true),
  small: loggedIn((c) => eachFile(c.files, (remote) => receive({ ...c, remote }, c.session))),
  upload: loggedIn((c) => send(c, c.session)),
});
