/**
 * Verified transfers against the Debian servers: proftpd hashes (mod_digest: HASH with CRC32 to
 * SHA-512, and XCRC to XSHA512), vsftpd and pure-ftpd cannot, so `verify: true` falls back to the
 * size there and `verify: "hash"` refuses. Runs when FTPLIB_REAL_SERVERS=1.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { crc32 } from "node:zlib";
import { type RealServer, realServers } from "@ftplib/test-servers";
import { parseXHashReply } from "@ftplib/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorPerm, ErrorProto, FTP, HASH_ALGORITHMS, type HashAlgorithm, type Verification } from "../src/index.js";

const wanted = process.env.FTPLIB_REAL_SERVERS === "1";
const servers = realServers();
const proftpd = servers.find((s) => s.name === "proftpd");
const unhashing = servers.filter((s) => s.name === "vsftpd" || s.name === "pure-ftpd");

const DATA = randomBytes(700_000);
const NODE: Record<HashAlgorithm, (data: Buffer) => string> = {
  "SHA-512": (d) => createHash("sha512").update(d).digest("hex"),
  "SHA-256": (d) => createHash("sha256").update(d).digest("hex"),
  "SHA-1": (d) => createHash("sha1").update(d).digest("hex"),
  MD5: (d) => createHash("md5").update(d).digest("hex"),
  CRC32: (d) => crc32(d).toString(16).padStart(8, "0"),
};

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "ftplib-verify-"));
  await writeFile(join(tmp, "source.bin"), DATA);
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function open(server: RealServer): Promise<FTP> {
  const e = server.endpoints.find((x) => x.tls === "none" && x.family === 4) ?? server.endpoints[0]!;
  return FTP.open({ host: e.host, port: e.port, user: server.user, password: server.password, timeout: 10_000 });
}

async function failure(work: Promise<unknown>): Promise<ErrorProto> {
  const error = await work.then(
    () => new Error("expected a failure"),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ErrorProto);
  return error as ErrorProto;
}

describe.runIf(wanted && proftpd !== undefined)("verified transfers on proftpd", { timeout: 30_000 }, () => {
  const name = (what: string) => `verify-${process.pid}-${what}.bin`;

  it("hashes with every algorithm it offers, each as node:crypto does, by HASH and by the X commands", async () => {
    const ftp = await open(proftpd!);
    try {
      expect(await ftp.hashAlgorithms()).toEqual([...HASH_ALGORITHMS]);
      await ftp.upload(join(tmp, "source.bin"), name("all"));
      expect(await ftp.remoteHash(name("all"))).toEqual({ algorithm: "SHA-512", hex: NODE["SHA-512"](DATA) });
      for (const algorithm of HASH_ALGORITHMS) {
        expect(await ftp.remoteHash(name("all"), { algorithm })).toEqual({ algorithm, hex: NODE[algorithm](DATA) });
      }
      const older = { XSHA512: "SHA-512", XSHA256: "SHA-256", XSHA1: "SHA-1", XMD5: "MD5", XCRC: "CRC32" } as const;
      for (const [command, algorithm] of Object.entries(older)) {
        const reply = await ftp.sendCmd(`${command} ${name("all")}`);
        expect(parseXHashReply(reply, NODE[algorithm](DATA).length)).toBe(NODE[algorithm](DATA));
      }
      // A selection changed behind the client's back (OPTS HASH by hand) is selected again.
      await ftp.sendCmd("OPTS HASH MD5");
      expect((await ftp.remoteHash(name("all"), { algorithm: "SHA-1" }))?.hex).toBe(NODE["SHA-1"](DATA));
      await expect(ftp.remoteHash(`verify-${process.pid}-missing.bin`)).rejects.toBeInstanceOf(ErrorPerm);
      await ftp.delete(name("all"));
    } finally {
      ftp.close();
    }
  });

  it("verifies an upload and a download by SHA-512", async () => {
    const ftp = await open(proftpd!);
    const seen: Verification[] = [];
    try {
      await ftp.upload(join(tmp, "source.bin"), name("up"), { verify: true, onVerify: (v) => seen.push(v) });
      const local = join(tmp, "down.bin");
      await ftp.download(name("up"), local, { verify: "hash", onVerify: (v) => seen.push(v) });
      expect((await readFile(local)).equals(DATA)).toBe(true);
      const expected = { method: "hash", algorithm: "SHA-512", hex: NODE["SHA-512"](DATA) };
      expect(seen).toEqual([expected, expected]);
      await ftp.delete(name("up"));
    } finally {
      ftp.close();
    }
  });

  it("hashes a resumed download and a resumed upload whole", async () => {
    const ftp = await open(proftpd!);
    const seen: Verification[] = [];
    try {
      await ftp.upload(join(tmp, "source.bin"), name("resume"));
      const local = join(tmp, "resumed.bin");
      await writeFile(`${local}.part`, DATA.subarray(0, 300_000));
      const moved = await ftp.download(name("resume"), local, {
        resume: true,
        verify: true,
        onVerify: (v) => seen.push(v),
      });
      expect(moved).toBe(DATA.length - 300_000);
      expect((await readFile(local)).equals(DATA)).toBe(true);

      await ftp.storBinary(`STOR ${name("resume-up")}`, DATA.subarray(0, 123_456));
      const sent = await ftp.upload(join(tmp, "source.bin"), name("resume-up"), {
        resume: true,
        verify: true,
        onVerify: (v) => seen.push(v),
      });
      expect(sent).toBe(DATA.length - 123_456);
      const expected = { method: "hash", algorithm: "SHA-512", hex: NODE["SHA-512"](DATA) };
      expect(seen).toEqual([expected, expected]);
      await ftp.delete(name("resume"));
      await ftp.delete(name("resume-up"));
    } finally {
      ftp.close();
    }
  });

  it("verifies each file of uploadDir and downloadDir", async () => {
    const ftp = await open(proftpd!);
    const tree = join(tmp, "tree");
    const { mkdir } = await import("node:fs/promises");
    await mkdir(join(tree, "sub"), { recursive: true });
    await writeFile(join(tree, "a.bin"), DATA.subarray(0, 1000));
    await writeFile(join(tree, "sub", "b.bin"), DATA);
    const seen: string[] = [];
    const onVerify = (v: Verification) => seen.push(v.method === "hash" ? v.hex : v.method);
    try {
      await ftp.uploadDir(tree, name("tree"), { verify: "hash", onVerify });
      await ftp.downloadDir(name("tree"), join(tmp, "tree-back"), { verify: "hash", onVerify });
      const digests = [NODE["SHA-512"](DATA.subarray(0, 1000)), NODE["SHA-512"](DATA)];
      expect(seen.sort()).toEqual([...digests, ...digests].sort());
      expect((await readFile(join(tmp, "tree-back", "sub", "b.bin"))).equals(DATA)).toBe(true);
      await expect(ftp.downloadDir(name("tree"), join(tmp, "x"), { verify: "yes" as never })).rejects.toThrow(
        /verify must be/,
      );
      await ftp.removeDir(name("tree"));
    } finally {
      ftp.close();
    }
  });

  it("fails a download whose file changed on the server during the transfer", async () => {
    const ftp = await open(proftpd!);
    const other = await open(proftpd!);
    try {
      await ftp.upload(join(tmp, "source.bin"), name("changed"));
      await other.storBinary(`STOR ${name("changed-new")}`, randomBytes(DATA.length));
      let swapped = false;
      // Once the first block is in, another session renames different bytes over the name: the
      // transfer reads the old file to the end, and HASH the new one.
      const sink = new Writable({
        write(_chunk, _encoding, done) {
          if (swapped) return done();
          swapped = true;
          other.rename(name("changed-new"), name("changed")).then(() => done(), done);
        },
      });
      const error = await failure(ftp.download(name("changed"), sink, { verify: true }));
      expect(error.code).toBe("ERR_FTP_CHECKSUM_MISMATCH");
      expect(error.message).toContain(NODE["SHA-512"](DATA));
      await ftp.delete(name("changed"));
    } finally {
      ftp.close();
      other.close();
    }
  });

  it("fails an upload whose remote file changed before the check, and deletes it", async () => {
    const ftp = await open(proftpd!);
    const other = await open(proftpd!);
    try {
      await other.storBinary(`STOR ${name("swap-new")}`, randomBytes(1000));
      async function* source() {
        yield DATA.subarray(0, 400_000);
        // Renamed over the name while the upload still writes: what STOR wrote is unlinked.
        await other.rename(name("swap-new"), name("swapped"));
        yield DATA.subarray(400_000);
      }
      const { Readable } = await import("node:stream");
      const error = await failure(ftp.upload(Readable.from(source()), name("swapped"), { verify: true }));
      expect(error.code).toBe("ERR_FTP_CHECKSUM_MISMATCH");
      expect(error.message).toContain("the remote file was deleted");
      expect(await other.size(name("swapped")).catch((e: unknown) => e)).toBeInstanceOf(ErrorPerm);
    } finally {
      ftp.close();
      other.close();
    }
  });
});

for (const server of unhashing) {
  describe.runIf(wanted)(`verified transfers on ${server.name} (no hash command)`, { timeout: 30_000 }, () => {
    const remote = `verify-${process.pid}-${server.name}.bin`;

    it("falls back to the size with verify: true, and refuses verify: 'hash' before anything moves", async () => {
      const ftp = await open(server);
      const seen: Verification[] = [];
      try {
        expect(await ftp.hashAlgorithms()).toEqual([]);
        await ftp.upload(join(tmp, "source.bin"), remote, { verify: true, onVerify: (v) => seen.push(v) });
        expect(await ftp.remoteHash(remote)).toBeNull();
        const local = join(tmp, `${server.name}.bin`);
        await ftp.download(remote, local, { verify: true, onVerify: (v) => seen.push(v) });
        expect((await readFile(local)).equals(DATA)).toBe(true);
        expect(seen).toEqual([
          { method: "size", bytes: DATA.length },
          { method: "size", bytes: DATA.length },
        ]);

        const strict = join(tmp, `${server.name}-strict.bin`);
        const error = await failure(ftp.download(remote, strict, { verify: "hash" }));
        expect(error.code).toBe("ERR_FTP_NO_HASH");
        expect((await readdir(tmp)).filter((f) => f.startsWith(`${server.name}-strict`))).toEqual([]);
        const upError = await failure(ftp.upload(join(tmp, "source.bin"), `${remote}.strict`, { verify: "hash" }));
        expect(upError.code).toBe("ERR_FTP_NO_HASH");
        expect(await ftp.size(`${remote}.strict`).catch((e: unknown) => e)).toBeInstanceOf(ErrorPerm);
        await ftp.delete(remote);
      } finally {
        ftp.close();
      }
    });
  });
}
