/**
 * Text encodings for the control connection and for listings.
 *
 * Names on a server are bytes. Decoding must never lose them: a byte that is not valid in the
 * encoding becomes a lone surrogate U+DC80..U+DCFF (Python's "surrogateescape", PEP 383), and
 * encoding turns such a surrogate back into the same byte. A name read from a listing can thus be
 * sent back in a command byte for byte, whatever the server's encoding.
 */
import { LocalProtocolError } from "./errors.js";

/**
 * Turns bytes into text and back, losslessly.
 *
 * @group Connecting
 */
export interface TextEncoding {
  /** A label for messages and debugging, such as `utf-8`. */
  readonly name: string;
  /**
   * Decodes bytes; a byte that is not valid in the encoding becomes a lone surrogate U+DC80..U+DCFF.
   *
   * @returns the text.
   */
  decode(bytes: Uint8Array): string;
  /**
   * Throws {@link LocalProtocolError} for text the encoding cannot represent.
   *
   * @returns the bytes (lone surrogates U+DC80..U+DCFF back to the bytes they stand for).
   */
  encode(text: string): Uint8Array;
  /**
   * Optional fast path: the text of `bytes` when every byte becomes exactly one UTF-16 unit (so
   * byte offsets are string offsets), otherwise `null`. Lets a reader decode a whole chunk once
   * and slice its lines out of the string.
   *
   * @returns the text, or null when the bytes are not one unit each.
   */
  decodeAligned?(bytes: Uint8Array): string | null;
}

const SURROGATE = /[\uD800-\uDFFF]/;
const SMALL = 64;

// `fromCharCode.apply` over a typed array is the cheapest way to build short ASCII strings.
const fromCodes = String.fromCharCode as (...codes: ArrayLike<number> & unknown[]) => string;
function bytesToCodes(bytes: Uint8Array): string {
  // eslint-disable-next-line prefer-spread -- spreading a typed array goes through an iterator
  return fromCodes.apply(null, bytes as unknown as number[]);
}

function unencodable(name: string, text: string, at: number): never {
  const unit = text.charCodeAt(at).toString(16).toUpperCase().padStart(4, "0");
  throw new LocalProtocolError(`U+${unit} at index ${at} cannot be encoded in ${name}`, "ERR_FTP_UNENCODABLE");
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const textEncoder = new TextEncoder();

/** Decodes UTF-8, escaping each byte of an invalid sequence as U+DC80 + (byte - 0x80). */
function decodeUtf8Escaped(bytes: Uint8Array): string {
  let out = "";
  let codes: number[] = [];
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i]!;
    let cp = -1;
    let len = 1;
    if (b < 0x80) {
      cp = b;
    } else if (b >= 0xc2 && b <= 0xdf) {
      const b1 = bytes[i + 1];
      if (b1 !== undefined && (b1 & 0xc0) === 0x80) {
        cp = ((b & 0x1f) << 6) | (b1 & 0x3f);
        len = 2;
      }
    } else if (b >= 0xe0 && b <= 0xef) {
      const b1 = bytes[i + 1];
      const b2 = bytes[i + 2];
      if (b1 !== undefined && b2 !== undefined && (b1 & 0xc0) === 0x80 && (b2 & 0xc0) === 0x80) {
        const c = ((b & 0x0f) << 12) | ((b1 & 0x3f) << 6) | (b2 & 0x3f);
        // Reject overlong forms and encoded surrogates.
        if (c >= 0x800 && (c < 0xd800 || c > 0xdfff)) {
          cp = c;
          len = 3;
        }
      }
    } else if (b >= 0xf0 && b <= 0xf4) {
      const b1 = bytes[i + 1];
      const b2 = bytes[i + 2];
      const b3 = bytes[i + 3];
      if (
        b1 !== undefined &&
        b2 !== undefined &&
        b3 !== undefined &&
        (b1 & 0xc0) === 0x80 &&
        (b2 & 0xc0) === 0x80 &&
        (b3 & 0xc0) === 0x80
      ) {
        const c = ((b & 0x07) << 18) | ((b1 & 0x3f) << 12) | ((b2 & 0x3f) << 6) | (b3 & 0x3f);
        if (c >= 0x10000 && c <= 0x10ffff) {
          cp = c;
          len = 4;
        }
      }
    }
    if (cp < 0) {
      codes.push(0xdc00 + b);
    } else if (cp > 0xffff) {
      const v = cp - 0x10000;
      codes.push(0xd800 + (v >> 10), 0xdc00 + (v & 0x3ff));
    } else {
      codes.push(cp);
    }
    i += len;
    if (codes.length > 4096) {
      out += String.fromCharCode(...codes);
      codes = [];
    }
  }
  return out + String.fromCharCode(...codes);
}

/** Encodes text holding escaped bytes (lone U+DC80..U+DCFF) or other surrogates. */
function encodeUtf8Escaped(text: string): Uint8Array {
  const out = new Uint8Array(text.length * 3);
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) {
      out[o++] = c;
    } else if (c < 0x800) {
      out[o++] = 0xc0 | (c >> 6);
      out[o++] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c <= 0xdbff) {
      const d = text.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) unencodable("utf-8", text, i);
      const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
      out[o++] = 0xf0 | (cp >> 18);
      out[o++] = 0x80 | ((cp >> 12) & 0x3f);
      out[o++] = 0x80 | ((cp >> 6) & 0x3f);
      out[o++] = 0x80 | (cp & 0x3f);
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      // A lone low surrogate: an escaped byte, if it is in the escape range.
      if (c < 0xdc80 || c > 0xdcff) unencodable("utf-8", text, i);
      out[o++] = c - 0xdc00;
    } else {
      out[o++] = 0xe0 | (c >> 12);
      out[o++] = 0x80 | ((c >> 6) & 0x3f);
      out[o++] = 0x80 | (c & 0x3f);
    }
  }
  return out.subarray(0, o);
}

/** UTF-8, the default (RFC 2640); invalid bytes survive a round trip. */
export const utf8: TextEncoding = {
  name: "utf-8",
  decode(bytes) {
    // The native decoder beats any JavaScript loop, even for short ASCII lines.
    try {
      return strictUtf8.decode(bytes);
    } catch {
      return decodeUtf8Escaped(bytes);
    }
  },
  decodeAligned(bytes) {
    // Valid UTF-8 decodes to as many units as bytes only when it is all ASCII.
    try {
      const text = strictUtf8.decode(bytes);
      return text.length === bytes.length ? text : null;
    } catch {
      return null;
    }
  },
  encode(text) {
    return SURROGATE.test(text) ? encodeUtf8Escaped(text) : textEncoder.encode(text);
  },
};

/**
 * An encoding of one byte per character, from a table of the 256 characters (U+FFFD for a byte the
 * encoding leaves undefined, which then decodes to its escape).
 */
function tableEncoding(name: string, table: readonly number[]): TextEncoding {
  const decodeTable = table.map((c, b) => (c === 0xfffd ? 0xdc00 + b : c));
  const encodeMap = new Map<number, number>();
  decodeTable.forEach((c, b) => encodeMap.set(c, b));
  return {
    name,
    decodeAligned(bytes) {
      return this.decode(bytes);
    },
    decode(bytes) {
      let out = "";
      for (let start = 0; start < bytes.length; start += 4096) {
        const part = bytes.subarray(start, start + 4096);
        const codes = new Array<number>(part.length);
        for (let i = 0; i < part.length; i++) codes[i] = decodeTable[part[i]!]!;
        out += String.fromCharCode(...codes);
      }
      return out;
    },
    encode(text) {
      const out = new Uint8Array(text.length);
      for (let i = 0; i < text.length; i++) {
        const b = encodeMap.get(text.charCodeAt(i));
        if (b === undefined) unencodable(name, text, i);
        out[i] = b;
      }
      return out;
    },
  };
}

const identity = Array.from({ length: 256 }, (_, b) => b);

/** ISO-8859-1 as Python's `latin-1`: every byte is the character of the same number. */
export const latin1: TextEncoding = {
  ...tableEncoding("latin-1", identity),
  decode(bytes) {
    if (bytes.length <= SMALL) return bytesToCodes(bytes);
    let out = "";
    for (let start = 0; start < bytes.length; start += 4096) {
      out += bytesToCodes(bytes.subarray(start, start + 4096));
    }
    return out;
  },
};

/**
 * Any single-byte encoding the runtime's `TextDecoder` knows (`windows-1251`, `koi8-r`,
 * `iso-8859-2`, `ibm866`, ...), with an encoder derived from its table.
 *
 * @returns the encoding; LocalProtocolError for a label the runtime does not know or that is not single-byte.
 */
export function singleByteEncoding(label: string): TextEncoding {
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(label, { ignoreBOM: true });
  } catch (cause) {
    throw new LocalProtocolError(`unknown encoding: ${label}`, "ERR_FTP_UNKNOWN_ENCODING", cause);
  }
  const table = Array.from(decoder.decode(Uint8Array.from(identity)), (ch) => ch.charCodeAt(0));
  if (table.length !== 256) {
    throw new LocalProtocolError(
      `${label} is not a single-byte encoding; pass a TextEncoding object for it`,
      "ERR_FTP_UNKNOWN_ENCODING",
    );
  }
  return tableEncoding(decoder.encoding, table);
}

const cache = new Map<string, TextEncoding>();

/**
 * The encoding for a label or object: `utf-8` (default), `latin-1`, any single-byte label that
 * `TextDecoder` knows, or a {@link TextEncoding} of the caller's own.
 *
 * @returns the encoding object.
 */
export function resolveEncoding(encoding: string | TextEncoding = utf8): TextEncoding {
  if (typeof encoding !== "string") return encoding;
  const key = encoding.trim().toLowerCase().replace(/_/g, "-");
  if (key === "utf-8" || key === "utf8") return utf8;
  if (key === "latin-1" || key === "latin1" || key === "iso-8859-1" || key === "l1") return latin1;
  let found = cache.get(key);
  if (found === undefined) {
    found = singleByteEncoding(key);
    cache.set(key, found);
  }
  return found;
}
