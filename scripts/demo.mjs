// The demo: the session of ftplib's documentation (login, cwd, LIST, RETR, quit), as recorded from
// a server, replayed through the sans-IO codec. The server's bytes arrive in small uneven pieces,
// as a network delivers them; the codec frames, decodes and classifies every reply.
import {
  ControlCodec,
  LineReader,
  NEED_DATA,
  maskCommand,
  parse150,
  parse229,
  parse257,
  parseMlsxEntry,
  utf8,
} from "@ftplib/protocol";

const SESSION = [
  [null, "220-Welcome to the demo archive.\r\n220-  200 lines that start with digits do not end a reply.\r\n220 Ready.\r\n"],
  ["USER anonymous", "331 Please specify the password.\r\n"],
  ["PASS anonymous@", "230 Login successful.\r\n"],
  ["CWD debian", "250 Directory successfully changed.\r\n"],
  ["PWD", '257 "/debian" is the current directory\r\n'],
  ["TYPE A", "200 Switching to ASCII mode.\r\n"],
  ["EPSV", "229 Entering Extended Passive Mode (|||40123|)\r\n"],
  ["MLSD", "150 Here comes the directory listing.\r\n226 Directory send OK.\r\n"],
  ["TYPE I", "200 Switching to Binary mode.\r\n"],
  ["EPSV", "229 Entering Extended Passive Mode (|||40124|)\r\n"],
  ["RETR README", "150 Opening BINARY mode data connection for README (1063 bytes).\r\n226 Transfer complete.\r\n"],
  ["QUIT", "221 Goodbye.\r\n"],
];

// What the MLSD data connection carried.
const LISTING =
  "type=file;size=1063;modify=20250615101800;perm=r; README\r\n" +
  "type=dir;modify=20001219000000;perm=el; pool\r\n" +
  "type=dir;modify=20081117000000;perm=el; project\r\n" +
  "type=file;size=4096;modify=20121010000000;perm=r; name with spaces; and semicolons\r\n";

const bytes = (text) => new TextEncoder().encode(text);
/** Cuts bytes into pieces of 1 to 7 bytes. */
function* pieces(data) {
  for (let at = 0, size = 1; at < data.length; at += size, size = (size % 7) + 1) yield data.subarray(at, at + size);
}

const codec = new ControlCodec();
let chunks = 0;
for (const [command, serverBytes] of SESSION) {
  if (command !== null) {
    const wire = codec.send(command);
    console.log(`> ${maskCommand(command)}   (${wire.length} bytes)`);
  }
  for (const piece of pieces(bytes(serverBytes))) {
    codec.receive(piece);
    chunks++;
    for (let event = codec.nextEvent(); event !== NEED_DATA; event = codec.nextEvent()) {
      const { reply } = event;
      const lines = reply.lines.map((line, i) => `${i === 0 ? "<" : " "} ${line}`).join("\n");
      console.log(`${lines}   [${reply.kind}${event.final ? "" : ", more to come"}]`);
      if (reply.code === 257) console.log(`  parse257: ${JSON.stringify(parse257(reply))}`);
      if (reply.code === 229) console.log(`  parse229: port ${parse229(reply, "127.0.0.1")[1]}`);
      if (reply.code === 150) console.log(`  parse150: ${parse150(reply) ?? "no size given"}`);
    }
  }
  if (command === "MLSD") {
    const reader = new LineReader();
    for (const piece of pieces(bytes(LISTING))) reader.push(piece);
    for (let line = reader.nextLineText(utf8); line !== null; line = reader.nextLineText(utf8)) {
      const [name, facts] = parseMlsxEntry(line);
      console.log(`  | ${facts.type.padEnd(4)} ${(facts.size ?? "").padStart(5)}  ${name}`);
    }
  }
}
console.log(`\n${SESSION.length - 1} commands, ${chunks} chunks from the server, state: ${codec.state}`);
