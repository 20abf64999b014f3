/**
 * A loopback FTP server that answers MLSD and LIST with listings held in memory: the bytes a
 * real server sent for the benchmark's directory, sent again as fast as a socket takes them. It
 * measures the clients' side of a listing, which a real server's own speed (a stat per entry)
 * would hide. Prints its port, then serves until killed.
 *
 *   node listing-server.mjs <folder>    (MLSD or LIST of a path ending in NAME sends <folder>/<verb>-NAME.txt)
 */
import { readdirSync, readFileSync } from "node:fs";
import net from "node:net";

const folder = process.argv[2];
const listings = new Map(
  readdirSync(folder)
    .filter((f) => /^(MLSD|LIST)-.+\.txt$/.test(f))
    .map((f) => [f.slice(0, -4), readFileSync(`${folder}/${f}`)]),
);

const server = net.createServer((control) => {
  let passive; // { server, socket: Promise<net.Socket> }
  let buffered = "";
  const reply = (text) => control.write(`${text}\r\n`);
  const openPassive = () =>
    new Promise((resolve) => {
      const listener = net.createServer();
      const socket = new Promise((accepted) => listener.once("connection", (s) => (listener.close(), accepted(s))));
      listener.listen(0, "127.0.0.1", () => resolve({ port: listener.address().port, socket, listener }));
    });
  const commands = {
    USER: () => reply("331 Password please."),
    PASS: () => reply("230 Logged in."),
    SYST: () => reply("215 UNIX Type: L8"),
    FEAT: () =>
      control.write("211-Features:\r\n EPSV\r\n MLST type*;size*;modify*;UNIX.mode*;\r\n UTF8\r\n211 End.\r\n"),
    OPTS: () => reply("200 OK."),
    TYPE: () => reply("200 Type set."),
    STRU: () => reply("200 OK."),
    PWD: () => reply('257 "/" is the current directory.'),
    CWD: () => reply("250 OK."),
    NOOP: () => reply("200 OK."),
    QUIT: () => (reply("221 Bye."), control.end()),
    EPSV: async () => {
      passive = await openPassive();
      reply(`229 Entering Extended Passive Mode (|||${passive.port}|)`);
    },
    PASV: async () => {
      passive = await openPassive();
      reply(`227 Entering Passive Mode (127,0,0,1,${passive.port >> 8},${passive.port & 255}).`);
    },
  };
  const list = async (verb, path) => {
    const listing = listings.get(`${verb}-${path.split("/").pop()}`);
    if (listing === undefined) return reply("550 No such listing.");
    if (passive === undefined) return reply("425 Use PASV or EPSV first.");
    const { socket } = passive;
    passive = undefined;
    reply("150 Here comes the listing.");
    const data = await socket;
    // A client that gives up midway (one that runs out of memory, say) must not end the server.
    data.on("error", () => undefined);
    data.end(listing, () => reply("226 Transfer complete."));
  };
  let queue = Promise.resolve();
  control.on("data", (chunk) => {
    buffered += chunk.toString("latin1");
    for (let end = buffered.indexOf("\r\n"); end >= 0; end = buffered.indexOf("\r\n")) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const verb = line.split(" ")[0].toUpperCase();
      queue = queue.then(() =>
        verb === "MLSD" || verb === "LIST"
          ? list(verb, line.slice(5))
          : (commands[verb] ?? (() => reply("502 Not here.")))(),
      );
    }
  });
  control.on("error", () => undefined);
  reply("220 Listing server.");
});
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
