/**
 * A download's blocks written to a file at their positions while the network goes on: what arrives
 * while a write is in flight is gathered and written in one writev when it ends. A slow link gets
 * each block written at once; a fast one gets large writes, one hand-off to the thread pool per
 * batch instead of one per received chunk. The caller waits only when MAX_GATHERED bytes are
 * waiting for the disk.
 */
import type { FileHandle } from "node:fs/promises";

/** Bytes gathered while a write is in flight before the caller is made to wait. */
const MAX_GATHERED = 4 << 20;

export class FileWriter {
  private blocks: Uint8Array[] = [];
  private gathered = 0;
  /** The batch being written, while there is one. */
  private batch: Promise<void> | undefined;
  private failure: unknown;

  /** `position`: where the first block goes (the resumed part's length). */
  constructor(
    private readonly file: FileHandle,
    private position: number,
  ) {}

  /**
   * Takes a block that nobody changes afterwards (an owned chunk). Returns a promise only when the
   * caller must wait for the disk: until the batch in flight is down and the gathered one has
   * started, so that the network and the disk never take turns.
   */
  write(block: Uint8Array): Promise<void> | undefined {
    if (this.failure !== undefined) throw this.failure;
    this.blocks.push(block);
    this.gathered += block.length;
    if (this.batch === undefined) this.writeGathered();
    return this.gathered >= MAX_GATHERED ? this.batch : undefined;
  }

  /** Everything written (or the first write's failure thrown). */
  async close(): Promise<void> {
    while (this.batch !== undefined) await this.batch;
    if (this.failure !== undefined) throw this.failure;
  }

  /** Writes what is gathered as one batch; the next batch starts when it is down. */
  private writeGathered(): void {
    const blocks = this.blocks;
    const at = this.position;
    this.position += this.gathered;
    this.blocks = [];
    this.gathered = 0;
    this.batch = writeAll(this.file, blocks, at).then(
      () => {
        this.batch = undefined;
        if (this.gathered > 0) this.writeGathered();
      },
      (error: unknown) => {
        this.failure = error;
        this.batch = undefined;
      },
    );
  }
}

/** writev until every byte is down: a regular file may take fewer bytes than asked. */
async function writeAll(file: FileHandle, blocks: Uint8Array[], position: number): Promise<void> {
  let pending = blocks;
  while (pending.length > 0) {
    const { bytesWritten } = await file.writev(pending, position);
    if (bytesWritten === 0) throw new Error("the file took no bytes of a write");
    position += bytesWritten;
    let skip = bytesWritten;
    while (pending.length > 0 && skip >= pending[0]!.length) {
      skip -= pending[0]!.length;
      pending = pending.slice(1);
    }
    if (skip > 0) pending = [pending[0]!.subarray(skip), ...pending.slice(1)];
  }
}
