/**
 * The codec against basic-ftp's reply parsing and listing parser, on the same bytes, in one run.
 *
 *   pnpm --filter @ftplib/protocol bench        (after a build)
 *
 * Replies: a realistic mix of control-connection traffic, fed one reply per chunk (as a control
 * socket delivers them) and in 16 KiB chunks (basic-ftp refuses more than 64 KiB of pending
 * reply text). Listing: 100,000 MLSD lines in 64 KiB chunks, bytes to entries.
 */
import { writeFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { StringDecoder } from "node:string_decoder";
import { fileURLToPath } from "node:url";
import { LineReader, ReplyDecoder, parseMlsxEntry, utf8 } from "../dist/index.js";
import { compare, table } from "./harness.mjs";

const require = createRequire(import.meta.url);
const { FTPContext } = require("basic-ftp/dist/FtpContext.js");
const { parseList } = require("basic-ftp/dist/parseList.js");

const enc = (s) => Buffer.from(s, "utf8");

// A session's worth of replies, as servers send them.
const SESSION = [
  "220-Welcome to the file archive\r\n220-Unauthorized access is prohibited.\r\n220 Service ready for new user.\r\n",
  "331 Please specify the password.\r\n",
  "230 Login successful.\r\n",
  "215 UNIX Type: L8\r\n",
  "211-Features:\r\n EPRT\r\n EPSV\r\n MDTM\r\n MLST type*;size*;modify*;perm*;unique*;\r\n PASV\r\n REST STREAM\r\n SIZE\r\n TVFS\r\n UTF8\r\n211 End\r\n",
  '257 "/home/user/projects/ftplib" is the current directory\r\n',
  "250 Directory successfully changed.\r\n",
  "200 Switching to Binary mode.\r\n",
  "229 Entering Extended Passive Mode (|||40123|).\r\n",
  "150 Opening BINARY mode data connection for report-2026-11.csv (1048576 bytes).\r\n",
  "226 Transfer complete.\r\n",
  "213 1048576\r\n",
  "213 20261122013045\r\n",
  "227 Entering Passive Mode (127,0,0,1,156,187).\r\n",
  "150 Here comes the directory listing.\r\n",
  "226 Directory send OK.\r\n",
  "550 Failed to open file.\r\n",
  "350 Ready for RNTO.\r\n",
  "250 Rename successful.\r\n",
  "421 Timeout.\r\n",
];
const REPEAT = 200;
const perReply = Array.from({ length: REPEAT }, () => SESSION.map(enc)).flat();
const stream = Buffer.concat(perReply);
const inChunks = (buf, size) =>
  Array.from({ length: Math.ceil(buf.length / size) }, (_, i) => buf.subarray(i * size, (i + 1) * size));
const bulk = inChunks(stream, 16 * 1024);
const expectedReplies = REPEAT * SESSION.length;

function ours(chunks) {
  return () => {
    const decoder = new ReplyDecoder();
    let n = 0;
    for (const chunk of chunks) {
      decoder.receive(chunk);
      for (let r = decoder.next(); r !== null; r = decoder.next()) n += r.code > 0 ? 1 : 0;
    }
    if (n !== expectedReplies) throw new Error(`ours: ${n} replies`);
  };
}

// Replies basic-ftp framed per run: it frames a single-line reply cut by a chunk boundary as two.
const basicFtpCounts = new Set();

// basic-ftp's own path: the socket's StringDecoder (setEncoding), then FtpContext's handler.
function basicFtp(chunks) {
  const context = new FTPContext();
  let n = 0;
  context._task = {
    responseHandler: (r) => {
      n += r.code > 0 ? 1 : 0;
    },
    resolver: {},
  };
  return () => {
    const decoder = new StringDecoder("utf8");
    n = 0;
    for (const chunk of chunks) context._onControlSocketData(decoder.write(chunk));
    basicFtpCounts.add(n);
  };
}

// 100,000 MLSD entries.
const ENTRIES = 100_000;
const listing = Buffer.concat(
  Array.from({ length: ENTRIES }, (_, i) =>
    enc(
      i % 10 === 0
        ? `type=dir;modify=20261122${String(i % 240000).padStart(6, "0")};perm=flcdmpe;unique=802U${i.toString(16)}; folder ${i}\r\n`
        : `type=file;size=${(i * 7919) % 10_000_000};modify=20261122013045;perm=adfrw;unique=802U${i.toString(16)}; report-${i}.csv\r\n`,
    ),
  ),
);
const listingChunks = inChunks(listing, 64 * 1024);

function oursListing() {
  const reader = new LineReader();
  let n = 0;
  for (const chunk of listingChunks) {
    reader.push(chunk);
    for (let line = reader.nextLine(); line !== null; line = reader.nextLine()) {
      const [name] = parseMlsxEntry(utf8.decode(line));
      n += name.length > 0 ? 1 : 0;
    }
  }
  if (n !== ENTRIES) throw new Error(`ours: ${n} entries`);
}

// basic-ftp's list(): the data connection is collected whole, decoded, then parsed.
function basicFtpListing() {
  const text = Buffer.concat(listingChunks).toString("utf8");
  const n = parseList(text).length;
  if (n !== ENTRIES) throw new Error(`basic-ftp: ${n} entries`);
}

const results = [
  compare("Replies, one per chunk", stream.length, {
    "@ftplib/protocol": ours(perReply),
    "basic-ftp": basicFtp(perReply),
  }),
  (basicFtpCounts.clear(),
  compare("Replies, 16 KiB chunks", stream.length, { "@ftplib/protocol": ours(bulk), "basic-ftp": basicFtp(bulk) })),
  compare(
    "MLSD listing, 100,000 entries, 64 KiB chunks",
    listing.length,
    {
      "@ftplib/protocol": oursListing,
      "basic-ftp": basicFtpListing,
    },
    { rounds: 5, minMs: 500 },
  ),
];

const misframed = [...basicFtpCounts].filter((n) => n !== expectedReplies);
const report = [
  "## Codec benchmark",
  "",
  `Node ${process.version}, ${new Date().toISOString().slice(0, 10)}. Made by \`pnpm --filter @ftplib/protocol bench\`.`,
  "Median of the counted runs, contenders alternated; MB/s are 10^6 bytes of wire text per second.",
  "basic-ftp's listing parser also builds dates and FileInfo objects; ours yields ftplib's (name, facts).",
  misframed.length > 0
    ? `In 16 KiB chunks basic-ftp framed ${misframed.join(", ")} replies where there are ${expectedReplies}: a single-line reply cut by a chunk boundary loses its tail.`
    : `Both framed all ${expectedReplies} replies.`,
  "",
  ...results.map(table).flatMap((t) => [t, ""]),
].join("\n");
console.log(report);
const out = fileURLToPath(new URL("../../../reports/", import.meta.url));
mkdirSync(out, { recursive: true });
writeFileSync(`${out}codec-bench.md`, report);
