/**
 * One direction of a link: bytes read from `source` reach `destination` `delayMs` after they
 * arrived, in order (a pipe with latency, not a delay per chunk added up), no faster than `rate`
 * bytes a second when a rate is given (a token bucket that holds `burst` bytes). The source is
 * paused while more than the link can hold is queued (the bandwidth-delay product and a margin),
 * so a fast sender never piles up memory here.
 */

const END = Symbol("end");
const RESET = Symbol("reset");

export class DelayLine {
  /**
   * @param {import("node:net").Socket} source
   * @param {import("node:net").Socket} destination
   * @param {{ delayMs?: number, rate?: number, burst?: number, margin?: number,
   *   onDeliver?: (chunk: Buffer) => void }} [options]
   */
  constructor(source, destination, options = {}) {
    this.source = source;
    this.destination = destination;
    this.delayMs = options.delayMs ?? 0;
    this.rate = options.rate;
    this.burst = options.burst ?? (this.rate === undefined ? 0 : Math.max(16 * 1024, this.rate / 100));
    // Without a rate the link's capacity is what a window holds: 8 MiB per delay.
    const inFlight = this.rate === undefined ? 8 * 1024 * 1024 : (this.rate * this.delayMs) / 1000 + this.burst;
    this.highWater = inFlight + (options.margin ?? 256 * 1024);
    this.onDeliver = options.onDeliver;
    /** @type {{ item: Buffer | symbol, at: number }[]} */
    this.queue = [];
    this.queued = 0;
    this.lastRelease = 0;
    this.nextFree = 0; // when the token bucket has sent everything given to it so far (ms)
    this.timer = undefined;
    this.paused = false;
    this.done = false;
    this.resetting = false;
    /** Bytes delivered so far. */
    this.delivered = 0;
    destination.on("drain", () => this.pump());
  }

  /** Relays what `source` sends by itself (the usual case; a caller that rewrites calls `push`). */
  attach() {
    this.source.on("data", (chunk) => this.push(chunk));
    this.source.on("end", () => this.end());
    this.source.on("close", () => this.reset());
    return this;
  }

  /** Queues `chunk`, which arrived at `arrived` (ms, performance.now()). */
  push(chunk, arrived = performance.now()) {
    if (this.done || chunk.length === 0) return;
    let at = arrived;
    if (this.rate !== undefined) {
      const start = Math.max(arrived - (this.burst / this.rate) * 1000, this.nextFree);
      this.nextFree = start + (chunk.length / this.rate) * 1000;
      at = Math.max(arrived, this.nextFree);
    }
    this.enqueue(chunk, at + this.delayMs);
    this.queued += chunk.length;
    if (this.queued > this.highWater && !this.paused) {
      this.paused = true;
      this.source.pause();
    }
  }

  /** The source ended: the destination is ended once everything before has been delivered. */
  end(arrived = performance.now()) {
    if (this.done) return;
    this.enqueue(END, arrived + this.delayMs);
    this.done = true;
  }

  /** The source closed without ending (or closed after): the destination is destroyed in turn. */
  reset(arrived = performance.now()) {
    // After an end too: a peer whose socket is closed answers more data with a reset, which is
    // what stops a server still sending (vsftpd reads no ABOR while it writes).
    if (this.resetting) return;
    this.resetting = true;
    this.enqueue(RESET, arrived + this.delayMs);
    this.done = true;
  }

  /** Stops at once, dropping what is queued. */
  destroy() {
    this.resetting = true;
    clearTimeout(this.timer);
    this.queue.length = 0;
    this.done = true;
  }

  enqueue(item, at) {
    // Release times never go backwards, so the order of arrival is kept.
    this.lastRelease = Math.max(this.lastRelease, at);
    this.queue.push({ item, at: this.lastRelease });
    if (this.queue.length === 1) this.pump();
  }

  pump() {
    clearTimeout(this.timer);
    this.timer = undefined;
    const now = performance.now();
    while (this.queue.length > 0 && this.queue[0].at <= now) {
      if (this.destination.writableNeedDrain) return; // "drain" pumps again
      const { item } = this.queue.shift();
      if (item === END) this.destination.end();
      else if (item === RESET) this.destination.destroy();
      else {
        this.queued -= item.length;
        this.delivered += item.length;
        if (!this.destination.destroyed) this.destination.write(item);
        this.onDeliver?.(item);
      }
    }
    if (this.paused && this.queued <= this.highWater / 2) {
      this.paused = false;
      this.source.resume();
    }
    if (this.queue.length > 0) this.timer = setTimeout(() => this.pump(), Math.max(0, this.queue[0].at - now));
  }
}
