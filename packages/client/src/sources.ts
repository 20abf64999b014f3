/**
 * The kinds of upload source: bytes, text (encoded), or a (sync or async) iterable of chunks.
 * An upload writes one chunk while it asks the source for the next: a source that reuses its
 * buffers must take turns between at least two (Node streams hand out fresh ones).
 */
import { open } from "node:fs/promises";

/** `bytes` in views of at most `size` bytes (`Infinity`: `bytes` whole), never copies. */
export function* slices(bytes: Uint8Array, size: number): Generator<Uint8Array> {
  if (bytes.length <= size) {
    yield bytes;
    return;
  }
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

/**
 * What `storBinary` and `storLines` send: bytes, text, a Readable, or any (async) iterable of chunks.
 *
 * @group The ftplib API
 */
export type UploadSource = Uint8Array | string | Iterable<Uint8Array> | AsyncIterable<Uint8Array | string>;

/**
 * The source as an async iterable of byte chunks of at most `blocksize` bytes (views, not copies).
 * An async source's own code runs inside `pull`: the client passes its callback window, so a call
 * that the source makes on the connection it feeds, and awaits, is refused instead of waiting for
 * the upload that waits for it.
 */
export async function* chunksOf(
  source: UploadSource,
  blocksize: number,
  encode: (text: string) => Uint8Array,
  pull: <T>(step: () => T) => T = (step) => step(),
): AsyncGenerator<Uint8Array> {
  const split = (bytes: Uint8Array) => slices(bytes, blocksize);
  if (typeof source === "string") {
    yield* split(encode(source));
  } else if (source instanceof Uint8Array) {
    yield* split(source);
  } else if (Symbol.asyncIterator in source) {
    // As `for await`, by hand: each next() inside `pull`, and return() only when left early.
    const iterator = source[Symbol.asyncIterator]();
    let open = true;
    try {
      for (;;) {
        let step: IteratorResult<Uint8Array | string>;
        try {
          step = await pull(() => iterator.next());
        } catch (error) {
          open = false;
          throw error;
        }
        if (step.done === true) {
          open = false;
          break;
        }
        yield* split(typeof step.value === "string" ? encode(step.value) : step.value);
      }
    } finally {
      if (open) await iterator.return?.();
    }
  } else {
    for (const chunk of source) yield* split(chunk);
  }
}

/** Bytes of each buffer a file is read through, and of each write an upload from a file makes. */
export const FILE_BUFFER = 1024 * 1024;

/**
 * A local file from `start` on, read ahead into three buffers that take turns: while one chunk
 * is being written and the next is being read, the third is free (an upload keeps one write
 * in flight while it asks for the next chunk).
 */
export async function* fileChunks(path: string, start = 0): AsyncGenerator<Uint8Array> {
  const file = await open(path, "r");
  const buffers = [Buffer.allocUnsafe(FILE_BUFFER), Buffer.allocUnsafe(FILE_BUFFER), Buffer.allocUnsafe(FILE_BUFFER)];
  let position = start;
  let reading = file.read(buffers[0]!, 0, FILE_BUFFER, position);
  try {
    for (let turn = 0; ; turn = (turn + 1) % 3) {
      const { bytesRead, buffer } = await reading;
      if (bytesRead === 0) return;
      position += bytesRead;
      reading = file.read(buffers[(turn + 1) % 3]!, 0, FILE_BUFFER, position);
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await reading.catch(() => undefined);
    await file.close();
  }
}
