/**
 * A cap on the bytes per second of data transfers: downloads and uploads wait before each block
 * until it fits in the rate. One limiter may serve several clients (a pool's connections): their
 * transfers then share the rate between them.
 */
import { invalidOption } from "./options.js";

/** Blocks are taken in pieces of a tenth of a second's worth, so that the data moves evenly. */
const PIECE_SECONDS = 0.1;
/** Waits shorter than this are not worth a timer; they are caught up at the next block. */
const MIN_WAIT_MS = 4;

export class RateLimiter {
  /** The most bytes per second that the transfers of this limiter move together. */
  readonly bytesPerSecond: number;
  /** When the bytes taken so far are due, in `performance.now()` milliseconds. */
  private due = 0;

  constructor(bytesPerSecond: number) {
    if (typeof bytesPerSecond !== "number" || !Number.isFinite(bytesPerSecond) || bytesPerSecond < 1)
      throw invalidOption(
        typeof bytesPerSecond === "number" ? RangeError : TypeError,
        "rateLimit",
        "a number of bytes per second, at least 1",
        bytesPerSecond,
      );
    this.bytesPerSecond = bytesPerSecond;
  }

  /** The most bytes worth taking at once (a tenth of a second's worth, at least 1). */
  get pieceSize(): number {
    return Math.max(1, Math.floor(this.bytesPerSecond * PIECE_SECONDS));
  }

  /**
   * Resolves when `bytes` more fit in the rate. Time spent idle is not saved up: a transfer that
   * starts after a pause gets the rate, not a burst.
   */
  async take(bytes: number): Promise<void> {
    const now = performance.now();
    this.due = Math.max(this.due, now) + (bytes * 1000) / this.bytesPerSecond;
    const wait = this.due - now;
    if (wait >= MIN_WAIT_MS) await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

/** `FTPOptions.rateLimit` checked: a limiter of the client's own for a number, the one given, or none. */
export function rateLimitOption(value: unknown): RateLimiter | undefined {
  if (value === undefined) return undefined;
  if (value instanceof RateLimiter) return value;
  if (typeof value === "number") return new RateLimiter(value);
  throw invalidOption(TypeError, "rateLimit", "a number of bytes per second or a RateLimiter", value);
}
