/**
 * Names that are not valid UTF-8 (latin-1 bytes such as 0xE9, a lone continuation byte, an
 * overlong `/`) round-trip byte for byte: listed by `list()` (MLSD and LIST), `nlst()` and
 * `walk()`, and sent back by `download()`, `delete()` and `downloadDir()` as the very bytes the
 * server listed (checked on the bytes the server received). `downloadDir` writes such a name
 * locally with those bytes, and an overlong `/` never becomes a path separator.
 */
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FTP } from "@ftplib/client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type CommandHandlers, type HostileServer, sendData, startHostileServer } from "@ftplib/testing";

const CONTENT = "the file's content\n";
const MLST_FEAT = "211-Features:\r\n MLST type*;size*;modify*;\r\n SIZE\r\n211 End\r\n";

let tmp: string;
const servers: HostileServer[] = [];
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "ftplib-hostile-encoding-"));
});
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const bytes = (...parts: (string | number[] | Buffer)[]) =>
  Buffer.concat(
    parts.map((p) => (typeof p === "string" ? Buffer.from(p, "latin1") : Buffer.isBuffer(p) ? p : Buffer.from(p))),
  );

/** Names as the server holds them: bytes, most not valid UTF-8. */
const NAMES: [string, Buffer][] = [
  ["latin-1 é", bytes("caf", [0xe9], ".txt")],
  ["a lone continuation byte", bytes("x", [0x80], "y")],
  ["valid UTF-8 next to invalid bytes", bytes([0xc3, 0xa9], "-", [0xff, 0xfe], "-end")],
  ["an overlong slash (C0 AF)", bytes("..", [0xc0, 0xaf], "..", [0xc0, 0xaf], "etc")],
  ["a truncated sequence at the end", bytes("cut", [0xe2, 0x82])],
];

const mlsd = (name: Buffer) =>
  Buffer.concat([bytes(`type=file;size=${CONTENT.length};modify=20240101000000; `), name, bytes("\r\n")]);
const unix = (name: Buffer) =>
  Buffer.concat([
    bytes(`-rw-r--r--    1 ftp      ftp      ${String(CONTENT.length).padStart(8)} Jan 01  2024 `),
    name,
    bytes("\r\n"),
  ]);

async function hostile(handlers: CommandHandlers): Promise<HostileServer> {
  const server = await startHostileServer({
    SIZE: `213 ${CONTENT.length}`,
    RETR: sendData(CONTENT),
    DELE: "250 deleted",
    ...handlers,
  });
  servers.push(server);
  return server;
}

async function client(server: HostileServer, encoding?: string): Promise<FTP> {
  const ftp = new FTP({ timeout: 2000, ...(encoding === undefined ? {} : { encoding }) });
  await ftp.connect(server.host, server.port);
  await ftp.login("me", "secret");
  return ftp;
}

/** The commands the server received with `verb`, as bytes. */
const received = (server: HostileServer, verb: string) =>
  server.commandBytes.filter((line) => line.subarray(0, verb.length + 1).equals(bytes(`${verb} `)));

describe.each(NAMES)("a name with %s", (_, name) => {
  it.each([
    ["MLSD", { FEAT: MLST_FEAT, MLSD: sendData(mlsd(name)) }],
    ["LIST", { FEAT: "502 no FEAT", LIST: sendData(unix(name)) }],
  ] as const)("list() through %s, then download(): the same bytes back", async (_, handlers) => {
    const server = await hostile(handlers);
    const ftp = await client(server);
    const entries = await ftp.list();
    expect(entries).toHaveLength(1);
    const listed = entries[0]!.name;
    expect(Buffer.from(ftp.encoding.encode(listed)).equals(name)).toBe(true);
    const to = await mkdtemp(join(tmp, "get-"));
    expect(await ftp.download(listed, join(to, "copy"))).toBe(CONTENT.length);
    expect(await readFile(join(to, "copy"), "utf8")).toBe(CONTENT);
    expect(received(server, "RETR")).toEqual([bytes("RETR ", name)]);
    expect(received(server, "SIZE")).toEqual([bytes("SIZE ", name)]);
    await ftp.delete(listed);
    expect(received(server, "DELE")).toEqual([bytes("DELE ", name)]);
    await ftp.quit();
  });

  it("listStream() and mlsd(): the same name as list()", async () => {
    const server = await hostile({ FEAT: MLST_FEAT, MLSD: sendData(mlsd(name)) });
    const ftp = await client(server);
    const streamed: string[] = [];
    for await (const entry of ftp.listStream()) streamed.push(entry.name);
    const facts: string[] = [];
    for await (const [listed] of ftp.mlsd()) facts.push(listed);
    expect([...streamed, ...facts].map((n) => Buffer.from(ftp.encoding.encode(n)))).toEqual([name, name]);
    await ftp.quit();
  });

  it("nlst(), then retrBinary(): the same bytes back", async () => {
    const server = await hostile({ NLST: sendData(Buffer.concat([name, bytes("\r\n")])) });
    const ftp = await client(server);
    const [listed] = await ftp.nlst();
    const blocks: Buffer[] = [];
    await ftp.retrBinary(`RETR ${listed}`, (block) => void blocks.push(Buffer.from(block)));
    expect(Buffer.concat(blocks).toString()).toBe(CONTENT);
    expect(received(server, "RETR")).toEqual([bytes("RETR ", name)]);
    await ftp.quit();
  });

  it("walk() and downloadDir(): the same bytes sent, and as the local file name", async () => {
    const server = await hostile({ FEAT: MLST_FEAT, MLSD: sendData(mlsd(name)) });
    const ftp = await client(server);
    const tree = await ftp.walk("/");
    expect(tree.map((entry) => Buffer.from(ftp.encoding.encode(entry.path)))).toEqual([bytes("/", name)]);
    const to = await mkdtemp(join(tmp, "dir-"));
    expect(await ftp.downloadDir("/", to)).toBe(1);
    expect(received(server, "RETR")).toEqual([bytes("RETR /", name)]);
    const local = await readdir(Buffer.from(to), { encoding: "buffer" });
    expect(local).toEqual([name]);
    expect((await readFile(Buffer.concat([Buffer.from(`${to}/`), name]))).toString()).toBe(CONTENT);
    await ftp.quit();
  });
});

describe("names in another encoding, declared", () => {
  it("latin-1: listed as text, sent back as the same bytes, written locally in UTF-8", async () => {
    const name = bytes("caf", [0xe9], " ", [0xfc], "ber.txt");
    const server = await hostile({ FEAT: MLST_FEAT, MLSD: sendData(mlsd(name)) });
    const ftp = await client(server, "latin-1");
    const [entry] = await ftp.list();
    expect(entry!.name).toBe("café über.txt");
    const to = await mkdtemp(join(tmp, "latin1-"));
    await ftp.download(entry!.name, join(to, "copy"));
    expect(received(server, "RETR")).toEqual([bytes("RETR ", name)]);
    expect(await ftp.downloadDir("/", join(to, "tree"))).toBe(1);
    expect(await readdir(join(to, "tree"))).toEqual(["café über.txt"]);
    await ftp.quit();
  });
});
