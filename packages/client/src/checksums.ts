/**
 * Local checksums, computed as bytes stream past: the algorithms FTP servers offer (SHA-512,
 * SHA-256, SHA-1, MD5 with node:crypto; CRC32 with zlib's where Node has it, Node 20.15 and later,
 * and a table otherwise).
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import * as zlib from "node:zlib";

/**
 * The algorithms a server may hash a file with, strongest first (the names HASH uses).
 *
 * @group Files and listings
 */
export const HASH_ALGORITHMS = ["SHA-512", "SHA-256", "SHA-1", "MD5", "CRC32"] as const;

/**
 * A hash algorithm, as HASH names it.
 *
 * @group Files and listings
 */
export type HashAlgorithm = (typeof HASH_ALGORITHMS)[number];

/** Hex digits of each algorithm's digest. */
export const HEX_LENGTH: Readonly<Record<HashAlgorithm, number>> = {
  "SHA-512": 128,
  "SHA-256": 64,
  "SHA-1": 40,
  MD5: 32,
  CRC32: 8,
};

/** A running checksum: blocks in, a lower-case hex digest out. */
export interface Checksum {
  update(block: Uint8Array): void;
  digest(): string;
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (ISO-HDLC, zlib's) of `block`, continuing from `crc`, with a 256-entry table. */
export function crc32Table(block: Uint8Array, crc = 0): number {
  if (crcTable === undefined) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = ~crc >>> 0;
  for (let i = 0; i < block.length; i++) c = crcTable[(c ^ block[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

function crc32Checksum(): Checksum {
  let crc = 0;
  return {
    update(block) {
      crc = nativeCrc32 === undefined ? crc32Table(block, crc) : nativeCrc32(block, crc);
    },
    digest: () => crc.toString(16).padStart(8, "0"),
  };
}

const NODE_NAMES: Readonly<Record<Exclude<HashAlgorithm, "CRC32">, string>> = {
  "SHA-512": "sha512",
  "SHA-256": "sha256",
  "SHA-1": "sha1",
  MD5: "md5",
};

/** A new running checksum of `algorithm`. */
export function checksum(algorithm: HashAlgorithm): Checksum {
  if (algorithm === "CRC32") return crc32Checksum();
  const hash = createHash(NODE_NAMES[algorithm]);
  return {
    update: (block) => void hash.update(block),
    digest: () => hash.digest("hex"),
  };
}

/** Feeds the first `length` bytes of a local file (all of it when undefined) into `sum`. */
export async function checksumFile(path: string | Buffer, sum: Checksum, length?: number): Promise<void> {
  if (length === 0) return;
  const stream = createReadStream(path, length === undefined ? {} : { end: length - 1 });
  for await (const chunk of stream) sum.update(chunk as Buffer);
}

/**
 * The lower-case hex digest of a whole local file by `algorithm` (as a server's HASH gives it).
 *
 * @returns the digest, in lower-case hex.
 * @group Files and listings
 */
export async function fileHash(path: string | Buffer, algorithm: HashAlgorithm): Promise<string> {
  const sum = checksum(algorithm);
  await checksumFile(path, sum);
  return sum.digest();
}
