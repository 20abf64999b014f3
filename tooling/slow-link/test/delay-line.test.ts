/** DelayLine between two real sockets: order, delay of a steady stream, and backpressure. */
import { createHash, randomBytes } from "node:crypto";
import { createServer, connect, type AddressInfo, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { DelayLine } from "../index.js";

const cleanup: (() => void)[] = [];
afterEach(() => cleanup.splice(0).forEach((f) => f()));

/** Two connected sockets: what is written to `a` is read from `b`. */
async function socketPair(): Promise<[Socket, Socket]> {
  const server = createServer({ allowHalfOpen: true });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const accepted = new Promise<Socket>((resolve) => server.once("connection", resolve));
  const a = connect({ port: (server.address() as AddressInfo).port, host: "127.0.0.1", allowHalfOpen: true });
  const b = await accepted;
  server.close();
  cleanup.push(() => (a.destroy(), b.destroy()));
  return [a, b];
}

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

describe("DelayLine", () => {
  it("delays a stream by the delay once, not once per chunk, and keeps its order", async () => {
    const [sender, source] = await socketPair();
    const [destination, receiver] = await socketPair();
    new DelayLine(source, destination, { delayMs: 100 }).attach();
    const data = randomBytes(4 * 1024 * 1024);
    const chunks: Buffer[] = [];
    let first = 0;
    const started = performance.now();
    receiver.on("data", (chunk: Buffer) => {
      if (chunks.length === 0) first = performance.now() - started;
      chunks.push(chunk);
    });
    const ended = new Promise<void>((resolve) => receiver.on("end", resolve));
    // 64 writes, 5 ms apart: a delay per chunk added up would take 6.4 s.
    for (let i = 0; i < 64; i++) {
      sender.write(data.subarray(i * 65536, (i + 1) * 65536));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    sender.end();
    await ended;
    const total = performance.now() - started;
    expect(first).toBeGreaterThanOrEqual(99);
    expect(total).toBeLessThan(3000);
    expect(sha(Buffer.concat(chunks))).toBe(sha(data));
  });

  it("pauses a fast sender while the receiver does not read: the queue stays bounded", async () => {
    const [sender, source] = await socketPair();
    const [destination, receiver] = await socketPair();
    receiver.pause();
    const line = new DelayLine(source, destination, { delayMs: 10, rate: 10_000_000 }).attach();
    const data = randomBytes(64 * 1024 * 1024);
    sender.end(data);
    let most = 0;
    const sampler = setInterval(() => (most = Math.max(most, line.queued)), 5);
    cleanup.push(() => clearInterval(sampler));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    // At most the link's capacity and a margin, plus one read of the socket.
    expect(most).toBeLessThanOrEqual(line.highWater + 1024 * 1024);
    expect(line.highWater).toBeLessThan(1024 * 1024);
    expect(line.delivered).toBeLessThan(data.length);
  });
});
