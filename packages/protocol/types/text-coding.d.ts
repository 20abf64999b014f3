// The two WHATWG text APIs the codec uses, present in every runtime it targets (Node, Deno, Bun,
// browsers, workers). Declared here so that the package compiles without DOM or Node types.
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  readonly encoding: string;
  decode(input?: Uint8Array): string;
}
declare class TextEncoder {
  encode(input?: string): Uint8Array;
}
