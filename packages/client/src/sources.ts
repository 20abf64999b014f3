/** The kinds of upload source: bytes, text (encoded), or a (sync or async) iterable of chunks. */
export type UploadSource =
  | Uint8Array
  | string
  | Iterable<Uint8Array>
  | AsyncIterable<Uint8Array | string>;

/** The source as an async iterable of byte chunks of at most `blocksize` bytes (views, not copies). */
export async function* chunksOf(
  source: UploadSource,
  blocksize: number,
  encode: (text: string) => Uint8Array,
): AsyncGenerator<Uint8Array> {
  const split = function* (bytes: Uint8Array) {
    for (let at = 0; at < bytes.length; at += blocksize) yield bytes.subarray(at, at + blocksize);
  };
  if (typeof source === "string") {
    yield* split(encode(source));
  } else if (source instanceof Uint8Array) {
    yield* split(source);
  } else if (Symbol.asyncIterator in source) {
    for await (const chunk of source) yield* split(typeof chunk === "string" ? encode(chunk) : chunk);
  } else {
    for (const chunk of source) yield* split(chunk);
  }
}
