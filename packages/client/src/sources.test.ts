import { describe, expect, it } from "vitest";
import { chunksOf } from "./sources.js";

const encode = (text: string) => new TextEncoder().encode(text);

/** An async source that records whether return() was called on it. */
function recorded(chunks: string[], failAt = -1) {
  const state = { returned: false };
  const iterator: AsyncIterableIterator<string> = {
    [Symbol.asyncIterator]: () => iterator,
    next: () => {
      const chunk = chunks.shift();
      if (chunks.length === failAt) return Promise.reject(new Error("source failed"));
      return Promise.resolve(chunk === undefined ? { value: undefined, done: true } : { value: chunk, done: false });
    },
    return: () => {
      state.returned = true;
      return Promise.resolve({ value: undefined, done: true });
    },
  };
  return { iterator, state };
}

describe("chunksOf", () => {
  it("pulls every chunk of an async source inside `pull`, split to the block size", async () => {
    const { iterator, state } = recorded(["abcde", "fg"]);
    let pulls = 0;
    const out: string[] = [];
    for await (const block of chunksOf(iterator, 2, encode, (step) => (pulls++, step())))
      out.push(new TextDecoder().decode(block));
    expect(out).toEqual(["ab", "cd", "e", "fg"]);
    expect(pulls).toBe(3); // two chunks and the end
    expect(state.returned).toBe(false); // finished on its own: no return(), as with for await
  });

  it("calls return() on the source when the upload stops early, and not when the source failed", async () => {
    const early = recorded(["a", "b", "c"]);
    for await (const block of chunksOf(early.iterator, 4, encode)) if (block.length > 0) break;
    expect(early.state.returned).toBe(true);

    const failing = recorded(["a", "b", "c"], 1);
    await expect(async () => {
      for await (const block of chunksOf(failing.iterator, 4, encode)) void block;
    }).rejects.toThrow("source failed");
    expect(failing.state.returned).toBe(false);
  });
});
