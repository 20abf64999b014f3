import { describe, expect, it } from "vitest";
import { Fifo } from "./fifo.js";

describe("Fifo", () => {
  it("gives items back in the order they came, across compactions", () => {
    const queue = new Fifo<number>();
    const out: number[] = [];
    let next = 0;
    // Interleaved pushes and shifts, so the front is dropped while items remain.
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 3000; i++) queue.push(next++);
      for (let i = 0; i < 2000; i++) out.push(queue.shift()!);
    }
    expect(queue.length).toBe(50 * 1000);
    out.push(...queue.drain());
    expect(queue.length).toBe(0);
    expect(queue.shift()).toBeUndefined();
    expect(out).toEqual(Array.from({ length: next }, (_, i) => i));
  });

  it("shifts 200,000 waiting in well under a microsecond each", () => {
    const queue = new Fifo<() => void>();
    for (let i = 0; i < 200_000; i++) queue.push(() => undefined);
    const started = performance.now();
    while (queue.length > 0) queue.shift();
    // About 20 ns each; an array's shift takes 10 µs each at this length.
    expect((performance.now() - started) / 200_000).toBeLessThan(0.001);
  });
});
