/**
 * Runs a client's calls one at a time, in the order they were made.
 *
 * A call that is part of another (a transfer's callback calling `abort()`, or a `pwd()` there,
 * which the codec then refuses) must not wait behind the call it is part of: that would never
 * finish. The client runs user callbacks in a *window* (`nested`); a call made in an open window,
 * or in what it awaits, runs at once. Windows are tracked with AsyncLocalStorage, which is on
 * only while one is open anywhere: always on, its hooks would tax every promise of the process.
 * The client's own calls that make other calls use their unqueued forms, and need no window.
 */
import { AsyncLocalStorage } from "node:async_hooks";

interface Window {
  readonly queue: CallQueue;
  open: boolean;
}

const windows = new AsyncLocalStorage<Window>();
/** Windows open in the process: the storage is disabled (and its hooks off) while there are none. */
let openWindows = 0;

function closeWindow(window: Window): void {
  if (!window.open) return;
  window.open = false;
  if (--openWindows === 0) windows.disable();
}

export class CallQueue {
  private tail: Promise<void> = Promise.resolve();
  /** Set while the connection cannot take calls from outside without a deadlock (a listing being iterated). */
  busy: Error | undefined;

  /** True when called from a callback that a call of this queue is running (see `nested`). */
  get inside(): boolean {
    if (openWindows === 0) return false;
    const window = windows.getStore();
    return window !== undefined && window.open && window.queue === this;
  }

  /** Runs `task` after every call queued before it. */
  run<T>(task: () => Promise<T>): Promise<T> {
    if (this.inside) return task();
    if (this.busy !== undefined) return Promise.reject(this.busy);
    return this.hold().then((release) => task().finally(release));
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

  /**
   * Runs a user callback (or several, synchronously) in a window: calls it makes on this
   * connection, until what it returns settles, run at once instead of queueing.
   */
  nested<T>(callback: () => T): T {
    const window: Window = { queue: this, open: true };
    openWindows++;
    let result: T;
    try {
      result = windows.run(window, callback);
    } catch (error) {
      closeWindow(window);
      throw error;
    }
    if (typeof (result as { then?: unknown } | null | undefined)?.then === "function") {
      const close = () => closeWindow(window);
      Promise.resolve(result).then(close, close);
    } else {
      closeWindow(window);
    }
    return result;
  }
}

/** Runs every call at once: the queue of a client whose caller holds the turn already. */
export const UNQUEUED: CallQueue = new (class extends CallQueue {
  override run<T>(task: () => Promise<T>): Promise<T> {
    return task();
  }
})();
