import { randomBytes } from "node:crypto";
import { mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileWriter } from "./file-writer.js";

describe("FileWriter", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ftplib-writer-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("writes every block in order while the caller goes on, and waits only when far behind", async () => {
    const path = join(dir, "order");
    const file = await open(path, "w");
    const writer = new FileWriter(file, 0);
    const blocks = Array.from({ length: 200 }, (_, i) => randomBytes(1000 + i * 517));
    let waits = 0;
    for (const block of blocks) {
      const wait = writer.write(block);
      if (wait !== undefined) {
        waits++;
        await wait;
      }
    }
    await writer.close();
    await file.close();
    expect(Buffer.compare(await readFile(path), Buffer.concat(blocks))).toBe(0);
    // About 10 MB handed over without awaiting: only a few calls had to wait for the disk.
    expect(waits).toBeLessThan(blocks.length / 4);
  });

  it("keeps nothing of a block: the caller may read into the same buffer again at once", async () => {
    const path = join(dir, "reused");
    const file = await open(path, "w");
    const writer = new FileWriter(file, 0);
    // One buffer read into again and again, as a transport's own (zeroCopy); larger than a
    // staging buffer, so that a block is copied in pieces across batches too.
    const reused = Buffer.alloc(5 << 20);
    const expected: Buffer[] = [];
    for (let i = 0; i < 12; i++) {
      const length = i % 3 === 0 ? reused.length : 1000 + i * 4099;
      reused.fill(i + 1, 0, length);
      expected.push(Buffer.from(reused.subarray(0, length)));
      await writer.write(reused.subarray(0, length));
    }
    await writer.close();
    await file.close();
    expect(Buffer.compare(await readFile(path), Buffer.concat(expected))).toBe(0);
  });

  it("starts at the given position, after a resumed part", async () => {
    const path = join(dir, "resume");
    await writeFile(path, "already here|");
    const file = await open(path, "r+");
    const writer = new FileWriter(file, 13);
    for (const word of ["and ", "the ", "rest"]) await writer.write(Buffer.from(word));
    await writer.close();
    await file.close();
    expect(await readFile(path, "utf8")).toBe("already here|and the rest");
  });

  it("throws a failed write's error at the next write or at close, never loses it", async () => {
    const file = await open(join(dir, "closed"), "w");
    const writer = new FileWriter(file, 0);
    await file.close();
    void writer.write(Buffer.from("lost"));
    await expect(writer.close()).rejects.toMatchObject({ code: "EBADF" });
    expect(() => writer.write(Buffer.from("more"))).toThrow();
  });
});
