/**
 * The entries of a listing that arrives in batches of lines, one at a time. An async generator
 * that yields entry by entry makes several promises per entry; this makes one, and works through
 * a batch without waiting in between. Leaving the loop early, or a line that fails to parse,
 * ends the batches (and so the transfer behind them) before the loop goes on.
 */
import type { FileEntry } from "./file-entry.js";

export class EntryIterator implements AsyncGenerator<FileEntry, void, undefined> {
  private lines: readonly string[] = [];
  private index = 0;
  private readonly batches: AsyncGenerator<readonly string[], void, undefined>;
  private readonly parse: (line: string) => FileEntry | null;
  /** A batch being waited for: a next() called meanwhile waits for it too, as a generator's would. */
  private waiting: Promise<unknown> | undefined;

  constructor(batches: AsyncGenerator<readonly string[], void, undefined>, parse: (line: string) => FileEntry | null) {
    this.batches = batches;
    this.parse = parse;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<FileEntry, void>> {
    if (this.waiting !== undefined) {
      const after = () => this.next();
      return this.waiting.then(after, after);
    }
    try {
      const entry = this.nextInBatch();
      if (entry !== null) return Promise.resolve({ value: entry, done: false });
    } catch (error) {
      return this.fail(error);
    }
    const result = this.nextBatch();
    this.waiting = result;
    const done = () => {
      if (this.waiting === result) this.waiting = undefined;
    };
    result.then(done, done);
    return result;
  }

  async return(): Promise<IteratorResult<FileEntry, void>> {
    this.lines = [];
    await this.batches.return(undefined);
    return { value: undefined, done: true };
  }

  async throw(error: unknown): Promise<IteratorResult<FileEntry, void>> {
    return this.fail(error);
  }

  /** The next entry of the batch at hand, or null when it has no more. */
  private nextInBatch(): FileEntry | null {
    while (this.index < this.lines.length) {
      const entry = this.parse(this.lines[this.index++]!);
      if (entry !== null) return entry;
    }
    return null;
  }

  private async nextBatch(): Promise<IteratorResult<FileEntry, void>> {
    for (;;) {
      const batch = await this.batches.next();
      if (batch.done === true) return { value: undefined, done: true };
      this.lines = batch.value;
      this.index = 0;
      let entry: FileEntry | null;
      try {
        entry = this.nextInBatch();
      } catch (error) {
        return this.fail(error);
      }
      if (entry !== null) return { value: entry, done: false };
    }
  }

  /** Ends the batches, then rejects with `error`. */
  private async fail(error: unknown): Promise<never> {
    await this.return().catch(() => undefined);
    throw error;
  }
}
