import { describe, expect, it } from "vitest";
import { EntryIterator } from "./entry-iterator.js";
import type { FileEntry } from "./file-entry.js";

/** Batches of lines that record whether their generator was ended. */
function batches(lines: string[][]) {
  const state = { ended: false, given: 0 };
  const generator = (async function* () {
    try {
      for (const batch of lines) {
        await new Promise((resolve) => setImmediate(resolve));
        state.given++;
        yield batch;
      }
    } finally {
      state.ended = true;
    }
  })();
  return { generator, state };
}

const entry = (line: string): FileEntry | null => {
  if (line === "skip") return null;
  if (line === "bad") throw new Error("unparsable line");
  return { name: line, type: "file", raw: line };
};

describe("EntryIterator", () => {
  it("gives every entry in order, skipping lines without one and empty batches", async () => {
    const { generator, state } = batches([["a", "skip", "b"], [], ["skip"], ["c"]]);
    const names: string[] = [];
    for await (const e of new EntryIterator(generator, entry)) names.push(e.name);
    expect(names).toEqual(["a", "b", "c"]);
    expect(state.ended).toBe(true);
  });

  it("answers next() calls made before the previous settled in order, as a generator does", async () => {
    const { generator } = batches([["a"], ["b", "c"], ["d"]]);
    const iterator = new EntryIterator(generator, entry);
    const results = await Promise.all([
      iterator.next(),
      iterator.next(),
      iterator.next(),
      iterator.next(),
      iterator.next(),
    ]);
    expect(results.map((r) => (r.done ? "done" : r.value.name))).toEqual(["a", "b", "c", "d", "done"]);
  });

  it("ends the batches when the loop is left early, and gives nothing after", async () => {
    const { generator, state } = batches([["a", "b"], ["c"], ["d"]]);
    const iterator = new EntryIterator(generator, entry);
    for await (const e of iterator) if (e.name === "a") break;
    expect(state).toEqual({ ended: true, given: 1 });
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });

  it("ends the batches before rejecting with a line's parse error", async () => {
    const { generator, state } = batches([["a", "bad", "b"], ["c"]]);
    const iterator = new EntryIterator(generator, entry);
    expect((await iterator.next()).value).toMatchObject({ name: "a" });
    await expect(iterator.next()).rejects.toThrow("unparsable line");
    expect(state).toEqual({ ended: true, given: 1 });
    expect((await iterator.next()).done).toBe(true);
  });

  it("rejects with the batches' own error", async () => {
    const generator = (async function* (): AsyncGenerator<readonly string[], void, undefined> {
      yield await Promise.resolve(["a"]);
      throw new Error("transfer failed");
    })();
    const iterator = new EntryIterator(generator, entry);
    expect((await iterator.next()).value).toMatchObject({ name: "a" });
    await expect(iterator.next()).rejects.toThrow("transfer failed");
  });
});
