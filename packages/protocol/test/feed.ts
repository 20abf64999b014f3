/**
 * Feeding strategies for codec fixtures: every fixture must give identical results fed whole, one
 * byte at a time, split at every offset, and followed by trailing bytes.
 */
export const enc = (text: string): Uint8Array => new TextEncoder().encode(text);

export interface Feeding {
  readonly name: string;
  readonly chunks: Uint8Array[];
  /** Bytes appended after the fixture, which must not change its results. */
  readonly trailing: Uint8Array;
}

/** A prefix of a reply that is not complete, so results stay the same when it follows. */
export const TRAILING = enc("226-partial\r\n226");

export function* feedings(input: Uint8Array): Generator<Feeding> {
  yield { name: "whole", chunks: [input], trailing: new Uint8Array(0) };
  yield {
    name: "byte by byte",
    chunks: Array.from(input, (b) => Uint8Array.of(b)),
    trailing: new Uint8Array(0),
  };
  for (let at = 1; at < input.length; at++) {
    yield { name: `split at ${at}`, chunks: [input.slice(0, at), input.slice(at)], trailing: new Uint8Array(0) };
  }
  const withTrailing = new Uint8Array(input.length + TRAILING.length);
  withTrailing.set(input);
  withTrailing.set(TRAILING, input.length);
  yield { name: "with trailing bytes", chunks: [withTrailing], trailing: TRAILING };
}
