import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { describe, expect, it } from "vitest";
import { HASH_ALGORITHMS, HEX_LENGTH, checksum, checksumFile, crc32Table } from "./checksums.js";

const data = randomBytes(100_003);

describe("checksums", () => {
  it("computes CRC-32 with its table as zlib does, block by block", () => {
    expect(crc32Table(new Uint8Array())).toBe(0);
    expect(crc32Table(Buffer.from("123456789"))).toBe(0xcbf43926);
    let crc = 0;
    for (let i = 0; i < data.length; i += 4099) crc = crc32Table(data.subarray(i, i + 4099), crc);
    expect(crc).toBe(crc32(data));
  });

  it("gives each algorithm's lower-case hex digest, fed in blocks", () => {
    const node = { "SHA-512": "sha512", "SHA-256": "sha256", "SHA-1": "sha1", MD5: "md5" } as const;
    for (const algorithm of HASH_ALGORITHMS) {
      const sum = checksum(algorithm);
      for (let i = 0; i < data.length; i += 65536) sum.update(data.subarray(i, i + 65536));
      const hex = sum.digest();
      expect(hex).toHaveLength(HEX_LENGTH[algorithm]);
      const expected =
        algorithm === "CRC32"
          ? crc32(data).toString(16).padStart(8, "0")
          : createHash(node[algorithm]).update(data).digest("hex");
      expect(hex).toBe(expected);
    }
    expect(checksum("CRC32").digest()).toBe("00000000");
  });

  it("hashes the first bytes of a file, or all of it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ftplib-checksums-"));
    try {
      const path = join(dir, "f");
      await writeFile(path, data);
      for (const length of [0, 1, 70_000, undefined]) {
        const sum = checksum("SHA-256");
        await checksumFile(path, sum, length);
        expect(sum.digest()).toBe(
          createHash("sha256")
            .update(data.subarray(0, length ?? data.length))
            .digest("hex"),
        );
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
