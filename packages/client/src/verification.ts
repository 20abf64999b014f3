/**
 * Verified transfers (`verify` on download and upload): the local hash computed while the bytes
 * stream, compared with the server's once the transfer is done. A server that cannot hash gets the
 * size comparison instead, said in debug output and to `onVerify`; `verify: "hash"` refuses it.
 */
import { ErrorProto } from "@ftplib/protocol";
import { type Checksum, type HashAlgorithm, checksum, checksumFile } from "./checksums.js";
import type { RemoteHash, RemoteHashOptions } from "./remote-hash.js";
import { functionOption, invalidOption } from "./options.js";

/**
 * What `verify` asks: `true` a hash where the server offers one, else the size; `"hash"` a hash or an error.
 *
 * @group Files and listings
 */
export type VerifyMode = boolean | "hash";

/**
 * How a verified transfer was checked, as given to `onVerify`.
 *
 * @group Files and listings
 */
export type Verification =
  /** The server's hash equals the local one. */
  | { method: "hash"; algorithm: HashAlgorithm; hex: string }
  /** The server cannot hash: the sizes were compared (`bytes`, the file's) and are equal. */
  | { method: "size"; bytes: number }
  /** The server can neither hash nor tell the size: nothing could be compared. */
  | { method: "none" };

/**
 * `verify` and `onVerify`, on transfers.
 *
 * @group Files and listings
 */
export interface VerifyOptions {
  /**
   * Compare the file with the server's after the transfer: its hash (HASH, or XSHA512 to XCRC)
   * where the server offers one, else its size (`true`); `"hash"` fails with `ERR_FTP_NO_HASH`
   * before anything moves when the server cannot hash. A mismatch fails with
   * `ERR_FTP_CHECKSUM_MISMATCH` and leaves no file under the final name.
   */
  verify?: VerifyMode;
  /** Called once a `verify` transfer is checked, with how it was. */
  onVerify?: (verification: Verification) => void;
}

/** The calls verification makes on the connection (see FileClient). */
export interface VerifyClient {
  hashAlgorithms(): Promise<HashAlgorithm[]>;
  remoteHash(path: string, options?: RemoteHashOptions): Promise<RemoteHash | null>;
  size(filename: string): Promise<number | null>;
  readonly debugging: number;
  debug(line: string): void;
}

function mismatch(remote: string, what: string, local: string, server: string): ErrorProto {
  return new ErrorProto(`${remote}: ${what} differs: ${local} here, ${server} on the server`, {
    code: "ERR_FTP_CHECKSUM_MISMATCH",
  });
}

/** One transfer's check: feed it the file's bytes (`prefix` for a resumed part, `update` as they stream), then `finish`. */
export class Verifier {
  private readonly sum: Checksum | undefined;

  private constructor(
    private readonly ftp: VerifyClient,
    private readonly remote: string,
    private readonly algorithm: HashAlgorithm | undefined,
    private readonly onVerify: VerifyOptions["onVerify"],
  ) {
    this.sum = algorithm === undefined ? undefined : checksum(algorithm);
  }

  /**
   * The verifier for a transfer with these options, or undefined without `verify`. Chooses the
   * algorithm before the transfer, so that the local hash runs alongside it.
   */
  static async start(ftp: VerifyClient, remote: string, options: VerifyOptions): Promise<Verifier | undefined> {
    const mode = verifyOption(options.verify);
    const onVerify = functionOption("onVerify", options.onVerify);
    if (mode === false) return undefined;
    const [algorithm] = await ftp.hashAlgorithms();
    if (algorithm === undefined && mode === "hash") {
      throw new ErrorProto(`${remote}: verify: "hash" asked, and the server offers no hash command`, {
        code: "ERR_FTP_NO_HASH",
      });
    }
    if (algorithm === undefined && ftp.debugging) {
      ftp.debug(`*verify* ${remote}: the server offers no hash command; comparing sizes instead`);
    }
    return new Verifier(ftp, remote, algorithm, onVerify);
  }

  /** Hashes the first `length` bytes of a local file: the part a resumed transfer does not send again. */
  async prefix(path: string | Buffer, length: number): Promise<void> {
    if (this.sum !== undefined) await checksumFile(path, this.sum, length);
  }

  /** Hashes a block as it streams (before it is written: the transport may reuse its buffer after). */
  update(block: Uint8Array): void {
    this.sum?.update(block);
  }

  /** Wraps an upload's source so that each block is hashed as it is sent. */
  async *tap(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const block of source) {
      this.update(block);
      yield block;
    }
  }

  /**
   * Compares with the server, once the whole file (`bytes` long) has moved. `sizeChecked`: the
   * caller has compared the size with the server's already (a download with SIZE).
   */
  async finish(bytes: number, sizeChecked: boolean): Promise<Verification> {
    const verification = await this.compare(bytes, sizeChecked);
    if (this.ftp.debugging) this.ftp.debug(`*verify* ${this.remote}: ${describe(verification)}`);
    this.onVerify?.(verification);
    return verification;
  }

  private async compare(bytes: number, sizeChecked: boolean): Promise<Verification> {
    if (this.algorithm !== undefined && this.sum !== undefined) {
      const local = this.sum.digest();
      const server = await this.ftp.remoteHash(this.remote, { algorithm: this.algorithm });
      if (server === null)
        throw new ErrorProto(`${this.remote}: no ${this.algorithm} hash`, { code: "ERR_FTP_NO_HASH" });
      if (server.hex !== local) throw mismatch(this.remote, `the ${this.algorithm} hash`, local, server.hex);
      return { method: "hash", algorithm: this.algorithm, hex: local };
    }
    if (sizeChecked) return { method: "size", bytes };
    const size = await this.ftp.size(this.remote).catch(() => null);
    if (size === null) return { method: "none" };
    if (size !== bytes) throw mismatch(this.remote, "the size", `${bytes} bytes`, `${size} bytes`);
    return { method: "size", bytes };
  }
}

function describe(verification: Verification): string {
  if (verification.method === "hash") return `${verification.algorithm} ${verification.hex} matches the server's`;
  if (verification.method === "size") return `no hash; the size, ${verification.bytes} bytes, matches the server's`;
  return "no hash and no size from the server: nothing compared";
}

/** Refuses `verify` and `onVerify` of the wrong kind, before anything is sent. */
export function checkVerifyOptions(options: VerifyOptions): void {
  verifyOption(options.verify);
  functionOption("onVerify", options.onVerify);
}

function verifyOption(value: unknown): VerifyMode {
  if (value === undefined) return false;
  if (value === true || value === false || value === "hash") return value;
  throw invalidOption(TypeError, "verify", 'true, false or "hash"', value);
}
