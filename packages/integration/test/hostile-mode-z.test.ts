/**
 * MODE Z against a scripted server: a deflate stream that is cut short, corrupt, or followed by
 * bytes that are not part of it ends in ErrorProto `ERR_FTP_DEFLATE`, with no file under the
 * final name and the session still usable; a whole one arrives inflated; an upload arrives as a
 * zlib stream of the file; a server that does not offer MODE Z, or refuses it, gets stream mode.
 */
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deflateSync, inflateSync } from "node:zlib";
import { ErrorProto, FTP, allErrors } from "@ftplib/client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type CommandHandlers, type HostileServer, receiveData, sendData, startHostileServer } from "@ftplib/testing";

const TIMEOUT = 1000;
const TEXT = Buffer.from(Array.from({ length: 20_000 }, (_, i) => `line ${i}: the same words again\n`).join(""));
const DEFLATED = deflateSync(TEXT);
const FEAT = "211-Features:\r\n MODE Z\r\n SIZE\r\n211 End";

let tmp: string;
const servers: HostileServer[] = [];
const clients: FTP[] = [];
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "ftplib-hostile-mode-z-"));
});
afterEach(async () => {
  for (const ftp of clients.splice(0)) ftp.close();
  for (const server of servers.splice(0)) await server.close();
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function connected(handlers: CommandHandlers, debug?: string[]): Promise<[HostileServer, FTP]> {
  const server = await startHostileServer({ FEAT, MODE: "200 OK", SIZE: "550 no SIZE here", ...handlers });
  servers.push(server);
  const ftp = new FTP({ timeout: TIMEOUT, modeZ: true, debugLevel: debug ? 1 : 0, debugOutput: (l) => debug?.push(l) });
  clients.push(ftp);
  await ftp.connect(server.host, server.port);
  await ftp.login("me", "secret");
  return [server, ftp];
}

const cases: { name: string; wire: Buffer }[] = [
  { name: "cut short (the data connection closed halfway)", wire: DEFLATED.subarray(0, DEFLATED.length >> 1) },
  { name: "cut short by its last byte (the checksum incomplete)", wire: DEFLATED.subarray(0, -1) },
  { name: "not a zlib stream at all (stream-mode bytes)", wire: TEXT },
  {
    name: "corrupt in the middle",
    wire: Buffer.concat([DEFLATED.subarray(0, 100), Buffer.alloc(64, 0xff), DEFLATED.subarray(164)]),
  },
  { name: "followed by bytes that are not part of it", wire: Buffer.concat([DEFLATED, Buffer.from("trailing")]) },
  { name: "empty (no zlib stream at all)", wire: Buffer.alloc(0) },
];

describe("MODE Z downloads that must not count as complete", () => {
  it.each(cases)("$name: ERR_FTP_DEFLATE, no file, the session usable", async ({ wire }) => {
    const [server, ftp] = await connected({ RETR: sendData(wire, { pieceSize: 4096 }) });
    const to = await mkdtemp(join(tmp, "case-"));
    const error: unknown = await ftp.download("file.txt", join(to, "file.txt")).then(
      () => new Error("expected a failure, got success"),
      (e: unknown) => e,
    );
    expect(ErrorProto.isInstance(error), String(error)).toBe(true);
    expect(allErrors.some((kind) => kind.isInstance(error))).toBe(true);
    expect((error as { code?: string }).code).toBe("ERR_FTP_DEFLATE");
    expect(await readdir(to)).toEqual([]);
    expect(await ftp.voidCmd("NOOP")).toMatch(/^200/);
    expect(server.commands).toContain("MODE Z");
    expect(server.errors).toEqual([]);
  });

  it("retrBinary and retrLines reject the same way", async () => {
    const [, ftp] = await connected({ RETR: sendData(DEFLATED.subarray(0, 500)) });
    await expect(ftp.retrBinary("RETR file.txt", () => undefined)).rejects.toMatchObject({ code: "ERR_FTP_DEFLATE" });
    await expect(ftp.retrLines("RETR file.txt", () => undefined)).rejects.toMatchObject({ code: "ERR_FTP_DEFLATE" });
    expect(await ftp.voidCmd("NOOP")).toMatch(/^200/);
  });
});

describe("MODE Z against a scripted server", () => {
  it("inflates a whole stream, blocks kept as they came", async () => {
    const [server, ftp] = await connected({ RETR: sendData(DEFLATED, { pieceSize: 1000 }) });
    const blocks: Uint8Array[] = [];
    await ftp.retrBinary("RETR file.txt", (block) => blocks.push(block));
    expect(Buffer.concat(blocks).equals(TEXT)).toBe(true);
    expect(server.commands.filter((c) => c.startsWith("MODE"))).toEqual(["MODE Z"]);
  });

  it("deflates an upload that asks for it into one zlib stream of the file", async () => {
    let received: Buffer = Buffer.alloc(0);
    const [server, ftp] = await connected({ STOR: receiveData((bytes) => (received = bytes)) });
    // The client's modeZ covers downloads: this upload goes in stream mode.
    await ftp.storBinary("STOR file.txt", TEXT);
    expect(received.equals(TEXT)).toBe(true);
    await ftp.storBinary("STOR file.txt", TEXT, { blocksize: 7000, modeZ: true });
    expect(received.length).toBeLessThan(TEXT.length / 10);
    expect(inflateSync(received).equals(TEXT)).toBe(true);
    expect(server.commands.filter((c) => c.startsWith("MODE"))).toEqual(["MODE Z"]);
  });

  it("uses stream mode where FEAT does not offer MODE Z, and says so in debug output", async () => {
    const debug: string[] = [];
    const [server, ftp] = await connected({ FEAT: "211-Features:\r\n SIZE\r\n211 End", RETR: sendData(TEXT) }, debug);
    const local = join(await mkdtemp(join(tmp, "plain-")), "file.txt");
    await ftp.download("file.txt", local);
    expect((await readFile(local)).equals(TEXT)).toBe(true);
    expect(server.commands.some((c) => c.startsWith("MODE"))).toBe(false);
    expect(debug.some((line) => line.includes("MODE Z not offered"))).toBe(true);
  });

  it("uses stream mode when MODE Z is refused although FEAT offers it", async () => {
    const debug: string[] = [];
    const [server, ftp] = await connected({ MODE: "504 not now", RETR: sendData(TEXT) }, debug);
    const blocks: Uint8Array[] = [];
    await ftp.retrBinary("RETR file.txt", (block) => blocks.push(block));
    await ftp.retrBinary("RETR file.txt", () => undefined);
    expect(Buffer.concat(blocks).equals(TEXT)).toBe(true);
    // Refused once, not asked again on this connection.
    expect(server.commands.filter((c) => c.startsWith("MODE"))).toEqual(["MODE Z"]);
    expect(debug.some((line) => line.includes("MODE Z refused"))).toBe(true);
  });

  it("sends MODE only on change, and gives ntransferCmd stream mode", async () => {
    let mode = "S";
    const [server, ftp] = await connected({
      MODE: (_, argument) => ((mode = argument), "200 OK"),
      RETR: (session, argument, line) => sendData(mode === "Z" ? DEFLATED : TEXT)(session, argument, line),
    });
    const got = async (options: { modeZ?: boolean }) => {
      const blocks: Uint8Array[] = [];
      await ftp.retrBinary("RETR file.txt", (block) => blocks.push(block), options);
      return Buffer.concat(blocks).equals(TEXT);
    };
    expect(await got({})).toBe(true);
    expect(await got({})).toBe(true);
    expect(await got({ modeZ: false })).toBe(true);
    expect(await got({ modeZ: false })).toBe(true);
    expect(await got({ modeZ: true })).toBe(true);
    const [conn] = await ftp.ntransferCmd("RETR file.txt");
    const raw: Buffer[] = [];
    for (let chunk = await conn.read(); chunk !== null; chunk = await conn.read()) raw.push(Buffer.from(chunk));
    await ftp.voidResp();
    expect(Buffer.concat(raw).equals(TEXT)).toBe(true);
    expect(server.commands.filter((c) => c.startsWith("MODE"))).toEqual(["MODE Z", "MODE S", "MODE Z", "MODE S"]);
  });
});
