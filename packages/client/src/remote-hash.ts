/**
 * A remote file's hash, computed by the server: HASH (draft-bryan-ftpext-hash) where FEAT offers
 * it, else the older XSHA512, XSHA256, XSHA1, XMD5 and XCRC commands. The strongest algorithm
 * the server offers is chosen, HASH before the older command of the same strength (its reply has
 * a specified form).
 */
import { ErrorReply, parseHashFeature, parseHashReply, parseXHashReply, replyIs } from "@ftplib/protocol";
import { HASH_ALGORITHMS, HEX_LENGTH, type HashAlgorithm } from "./checksums.js";
import { invalidOption } from "./options.js";
import type { Session } from "./session.js";

/**
 * A hash a server computed: the algorithm (as HASH names it) and the lower-case hex digest.
 *
 * @group Files and listings
 */
export interface RemoteHash {
  algorithm: HashAlgorithm;
  hex: string;
}

/**
 * What `remoteHash()` takes.
 *
 * @group Files and listings
 */
export interface RemoteHashOptions {
  /** This algorithm only (null when the server cannot compute it); default: the strongest it offers. */
  algorithm?: HashAlgorithm;
}

/** How to ask a server for a hash: HASH with an algorithm, or an older command of its own. */
export interface HashMethod {
  readonly algorithm: HashAlgorithm;
  readonly command: "HASH" | "XSHA512" | "XSHA256" | "XSHA1" | "XSHA" | "XMD5" | "XCRC";
}

/** The older commands for each algorithm, in FEAT's names (proftpd's XSHA is SHA-1). */
const OLDER: Readonly<Record<HashAlgorithm, readonly HashMethod["command"][]>> = {
  "SHA-512": ["XSHA512"],
  "SHA-256": ["XSHA256"],
  "SHA-1": ["XSHA1", "XSHA"],
  MD5: ["XMD5"],
  CRC32: ["XCRC"],
};

/** The ways this server can hash a file, strongest first, from its features (FEAT). */
export function hashMethods(features: ReadonlyMap<string, string>): HashMethod[] {
  const hash = features.get("HASH");
  const offered = new Set(hash === undefined ? [] : parseHashFeature(hash).algorithms);
  const methods: HashMethod[] = [];
  for (const algorithm of HASH_ALGORITHMS) {
    if (offered.has(algorithm)) methods.push({ algorithm, command: "HASH" });
    else {
      const command = OLDER[algorithm].find((name) => features.has(name));
      if (command !== undefined) methods.push({ algorithm, command });
    }
  }
  return methods;
}

/** Refuses an algorithm option that is not one of {@link HASH_ALGORITHMS}. */
export function algorithmOption(value: unknown): HashAlgorithm | undefined {
  if (value === undefined || (HASH_ALGORITHMS as readonly unknown[]).includes(value))
    return value as HashAlgorithm | undefined;
  throw invalidOption(TypeError, "algorithm", `one of ${HASH_ALGORITHMS.join(", ")}`, value);
}

/** The method for `algorithm`, or the strongest; undefined when the server offers none. */
export async function hashMethod(session: Session, algorithm?: HashAlgorithm): Promise<HashMethod | undefined> {
  const methods = hashMethods(await session.features());
  return algorithm === undefined ? methods[0] : methods.find((m) => m.algorithm === algorithm);
}

/** Asks the server for the hash of `path` by `method`. */
export async function askHash(session: Session, method: HashMethod, path: string): Promise<RemoteHash> {
  const { algorithm, command } = method;
  const length = HEX_LENGTH[algorithm];
  if (command !== "HASH") {
    return { algorithm, hex: parseXHashReply(await session.command(`${command} ${path}`), length) };
  }
  // HASH computes the algorithm the session has selected: select ours unless known to be set.
  if (session.hashSelection !== algorithm) {
    const reply = await session.command(`OPTS HASH ${algorithm}`);
    if (!replyIs(reply, "2xx")) throw new ErrorReply(reply);
    session.hashSelection = algorithm;
  }
  return { algorithm, hex: parseHashReply(await session.command(`HASH ${path}`), algorithm, length).hex };
}

/** The hash of a remote file by the strongest method the server offers (or `algorithm`'s), or null with none. */
export async function remoteHash(
  session: Session,
  path: string,
  options: RemoteHashOptions = {},
): Promise<RemoteHash | null> {
  const method = await hashMethod(session, options.algorithm);
  return method === undefined ? null : askHash(session, method, path);
}
