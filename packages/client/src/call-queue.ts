/**
 * Runs a client's calls one at a time, in the order they were made. A call made from inside a
 * running one (a transfer callback calling `abort()`) runs at once instead of waiting behind the
 * call it is part of, which would never finish.
 */
import { AsyncLocalStorage } from "node:async_hooks";

const running = new AsyncLocalStorage<CallQueue>();

export class CallQueue {
  private tail: Promise<void> = Promise.resolve();
  /** Set while the connection cannot take calls from outside without a deadlock (a listing being iterated). */
  busy: Error | undefined;

  /** True when called from inside a call of this queue. */
  get inside(): boolean {
    return running.getStore() === this;
  }

  /** Runs `task` after every call queued before it. */
  run<T>(task: () => Promise<T>): Promise<T> {
    if (this.inside) return task();
    if (this.busy !== undefined) return Promise.reject(this.busy);
    return this.hold().then((release) => running.run(this, task).finally(release));
  }

  /** Waits for the turn and returns the function that ends it. */
  hold(): Promise<() => void> {
    let release!: () => void;
    const turn = new Promise<void>((resolve) => {
      release = resolve;
    });
    const previous = this.tail;
    this.tail = previous.then(() => turn);
    return previous.then(() => release);
  }
}
