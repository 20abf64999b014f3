/**
 * Hostile hash replies: a server whose HASH or XMD5 reports another digest than the bytes it
 * sent or received, or answers in a form no server should. Each ends in a typed error
 * (`ERR_FTP_CHECKSUM_MISMATCH`, `ERR_FTP_BAD_HASH`, a reply error) with no file under the final
 * name: a download's file is removed, an upload's remote file deleted.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorPerm, ErrorProto, ErrorReply, FTP, type Verification, allErrors } from "@ftplib/client";
import {
  type CommandHandlers,
  type HostileServer,
  patternBytes,
  receiveData,
  sendData,
  startHostileServer,
} from "@ftplib/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

const FILE = Buffer.from(patternBytes(50_000));
const SHA256 = createHash("sha256").update(FILE).digest("hex");
const MD5 = createHash("md5").update(FILE).digest("hex");
const OTHER = "0".repeat(64);
const FEAT_HASH = "211-Features:\r\n HASH SHA-1*;SHA-256;\r\n SIZE\r\n211 End";

let tmp: string;
const servers: HostileServer[] = [];
const clients: FTP[] = [];
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "ftplib-hostile-hash-"));
});
afterEach(async () => {
  for (const ftp of clients.splice(0)) ftp.close();
  for (const server of servers.splice(0)) await server.close();
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function client(handlers: CommandHandlers): Promise<[FTP, HostileServer]> {
  const server = await startHostileServer(handlers);
  servers.push(server);
  const ftp = new FTP({ timeout: 2000 });
  clients.push(ftp);
  await ftp.connect(server.host, server.port);
  await ftp.login("me", "secret");
  return [ftp, server];
}

async function failure(work: Promise<unknown>): Promise<unknown> {
  const error = await work.then(
    () => new Error("expected a failure, got success"),
    (e: unknown) => e,
  );
  expect(
    allErrors.some((kind) => kind.isInstance(error)),
    String(error),
  ).toBe(true);
  return error;
}

/** A download's directory, with nothing in it: neither the final name nor a part file. */
async function freshDir(name: string): Promise<string> {
  const dir = join(tmp, name);
  await rm(dir, { recursive: true, force: true });
  const { mkdir } = await import("node:fs/promises");
  await mkdir(dir);
  return dir;
}

/** A server with HASH that answers `hash`, and RETR from the offset of REST. */
function download(hash: string): CommandHandlers {
  let rest = 0;
  return {
    FEAT: FEAT_HASH,
    SIZE: `213 ${FILE.length}`,
    REST: (_session, argument) => {
      rest = Number(argument);
      return "350 Restarting";
    },
    RETR: (session, argument, line) => {
      const from = rest;
      rest = 0;
      return sendData(FILE.subarray(from))(session, argument, line);
    },
    OPTS: "200 SHA-256",
    HASH: hash,
  };
}

describe("hostile hash replies", () => {
  it("a wrong digest fails the download and leaves no file, resumed or not", async () => {
    const [ftp] = await client(download(`213 SHA-256 0-${FILE.length} ${OTHER} f`));
    const dir = await freshDir("wrong");
    const error = await failure(ftp.download("f", join(dir, "f"), { verify: true }));
    expect(ErrorProto.isInstance(error)).toBe(true);
    expect((error as ErrorProto).code).toBe("ERR_FTP_CHECKSUM_MISMATCH");
    expect((error as ErrorProto).message).toContain(SHA256);
    expect((error as ErrorProto).message).toContain(OTHER);
    expect((error as ErrorProto).message).toContain("SHA-256");
    expect(await readdir(dir)).toEqual([]);

    await writeFile(join(dir, "f.part"), FILE.subarray(0, 1000));
    const resumed = await failure(ftp.download("f", join(dir, "f"), { verify: true, resume: true }));
    expect((resumed as ErrorProto).code).toBe("ERR_FTP_CHECKSUM_MISMATCH");
    expect(await readdir(dir)).toEqual([]);
    expect(await ftp.voidCmd("NOOP")).toMatch(/^200/);
  });

  it("a matching digest passes, with OPTS HASH sent once", async () => {
    const [ftp, server] = await client(download(`213-Computing\r\n213 SHA-256 0-${FILE.length} ${SHA256} f`));
    const dir = await freshDir("match");
    const seen: Verification[] = [];
    for (let i = 0; i < 2; i++)
      await ftp.download("f", join(dir, "f"), { verify: true, onVerify: (v) => seen.push(v) });
    expect(seen).toEqual([
      { method: "hash", algorithm: "SHA-256", hex: SHA256 },
      { method: "hash", algorithm: "SHA-256", hex: SHA256 },
    ]);
    expect(server.commands.filter((c) => c.startsWith("OPTS HASH"))).toEqual(["OPTS HASH SHA-256"]);
  });

  it("a wrong digest after an upload deletes the remote file, and says so (or why not)", async () => {
    const source = join(tmp, "up.bin");
    await writeFile(source, FILE);
    const received: Buffer[] = [];
    const handlers = {
      ...download(`213 SHA-256 0-${FILE.length} ${OTHER} f`),
      STOR: receiveData((b) => received.push(b)),
    };
    const [ftp, server] = await client({ ...handlers, DELE: "250 Deleted" });
    const error = await failure(ftp.upload(source, "f", { verify: true }));
    expect((error as ErrorProto).code).toBe("ERR_FTP_CHECKSUM_MISMATCH");
    expect((error as ErrorProto).message).toContain("the remote file was deleted");
    expect(server.commands).toContain("DELE f");
    expect(Buffer.concat(received).equals(FILE)).toBe(true);

    const [kept] = await client({ ...handlers, DELE: "550 Permission denied" });
    const left = await failure(kept.upload(source, "f", { verify: true }));
    expect((left as ErrorProto).code).toBe("ERR_FTP_CHECKSUM_MISMATCH");
    expect((left as ErrorProto).message).toContain("left as it is (DELE failed: 550 Permission denied)");
  });

  const malformed = [
    ["another algorithm", `213 SHA-1 0-${FILE.length} ${SHA256.slice(0, 40)} f`],
    ["no byte range", `213 SHA-256 ${SHA256} f`],
    ["a short digest", `213 SHA-256 0-${FILE.length} ${SHA256.slice(1)} f`],
    ["a digest that is not hex", `213 SHA-256 0-${FILE.length} ${"x".repeat(64)} f`],
    ["nothing", "213 "],
  ] as const;
  for (const [what, reply] of malformed) {
    it(`a HASH reply with ${what} is ERR_FTP_BAD_HASH, and the download leaves no file`, async () => {
      const [ftp] = await client(download(reply));
      const error = await failure(ftp.remoteHash("f"));
      expect((error as ErrorProto).code).toBe("ERR_FTP_BAD_HASH");
      const dir = await freshDir(`bad-${what.replace(/\W+/g, "-")}`);
      const again = await failure(ftp.download("f", join(dir, "f"), { verify: true }));
      expect((again as ErrorProto).code).toBe("ERR_FTP_BAD_HASH");
      expect(await readdir(dir)).toEqual([]);
    });
  }

  it("a HASH answered 250, or refused, is a reply error", async () => {
    const [ftp] = await client(download(`250 SHA-256 0-${FILE.length} ${SHA256} f`));
    expect(ErrorReply.isInstance(await failure(ftp.remoteHash("f")))).toBe(true);
    const [refused] = await client({ ...download("213 x"), OPTS: "501 Unsupported algorithm" });
    expect(ErrorPerm.isInstance(await failure(refused.remoteHash("f")))).toBe(true);
  });

  it("XMD5 is used where HASH is not offered, with the name before or after the digest", async () => {
    const xmd5 = (reply: string): CommandHandlers => ({
      FEAT: "211-Features:\r\n XMD5\r\n XCRC\r\n211 End",
      SIZE: `213 ${FILE.length}`,
      RETR: sendData(FILE),
      XMD5: reply,
    });
    for (const reply of [`250 ${MD5.toUpperCase()}`, `250 f ${MD5}`, `250 ${MD5} f`]) {
      const [ftp] = await client(xmd5(reply));
      expect(await ftp.hashAlgorithms()).toEqual(["MD5", "CRC32"]);
      const seen: Verification[] = [];
      await ftp.download("f", join(tmp, "x.bin"), { verify: "hash", onVerify: (v) => seen.push(v) });
      expect(seen).toEqual([{ method: "hash", algorithm: "MD5", hex: MD5 }]);
    }
    for (const reply of ["250 OK", `250 ${MD5} ${MD5}`, `250 ${MD5.slice(2)}`]) {
      const [ftp] = await client(xmd5(reply));
      expect(((await failure(ftp.remoteHash("f"))) as ErrorProto).code).toBe("ERR_FTP_BAD_HASH");
    }
  });

  it("refuses an unknown algorithm and verify with append, before anything is sent", async () => {
    const [ftp, server] = await client(download("213 x"));
    const sent = server.commands.length;
    await expect(ftp.remoteHash("f", { algorithm: "SHA3" as never })).rejects.toThrow(/algorithm must be one of/);
    await expect(ftp.download("f", join(tmp, "y"), { verify: "yes" as never })).rejects.toThrow(/verify must be/);
    await expect(ftp.append(join(tmp, "up.bin"), "f", { verify: true })).rejects.toThrow(/not with append/);
    expect(server.commands.length).toBe(sent);
  });
});
