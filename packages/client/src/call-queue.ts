/**
 * Who may send a command now: the one rule of a client, in one place.
 *
 * 1. **A call takes its turn.** Every public call of an FTP client runs after every call made
 *    before it, in the order they were made, and holds the turn until it settles: a call is one
 *    command, or all the commands of one operation (a login, a transfer, a `walk`). Calls made
 *    while another runs wait; they are never an error.
 * 2. **A call made from a user's callback runs at once.** A transfer runs its callbacks
 *    (`retrBinary`'s blocks, `retrLines`' lines, an upload's source and callback) in a *window*
 *    (`nested`): a call made from the callback, or from anything it awaits, until what it returns
 *    settles, does not wait for the turn (it would wait for the transfer that waits for it). Such
 *    a call can only send what the codec takes during a transfer: ABOR and STAT. Anything else is
 *    refused with `LocalProtocolError` (`ERR_FTP_BUSY`), the codec's `canSend`.
 * 3. **`abort()` during a transfer runs at once**, from anywhere: it is how a transfer is stopped.
 *    Without a transfer it takes its turn like any call.
 * 4. **While a listing is iterated** (`listStream`), the loop's body runs between two chunks of the
 *    transfer: a call from outside would wait for a loop that waits for it, so it fails at once
 *    with `ERR_FTP_BUSY` (`busy`). Calls from the loop itself are nested calls (rule 2).
 *
 * An operation that holds the turn and makes several calls (`walk`, `ensureDir`, `downloadDir`)
 * makes them on the session directly (FTP.direct), never through the queue.
 *
 * Windows are told apart with one AsyncLocalStorage, which is never disabled: nothing else in
 * JavaScript follows a callback past its awaits, and both cheaper guesses break a promise above
 * (queueing a callback's call hangs it; refusing every call while a window is open refuses other
 * code). On Node 20 and 22 it costs every promise of the process a hook once the first window
 * has opened (`node packages/client/bench/async-context.mjs` measures it); Node 24 propagates
 * the context without hooks.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { LocalProtocolError } from "@ftplib/protocol";

interface Window {
  readonly queue: CallQueue;
  open: boolean;
}

/** A window stays in the context of what its callback started, so it also says whether it is still open. */
const windows = new AsyncLocalStorage<Window>();

function closeWindow(window: Window): void {
  window.open = false;
}

export class CallQueue {
  private tail: Promise<void> = Promise.resolve();
  /** Set while a listing is iterated (rule 4): why calls from outside are refused. */
  private busy: Error | undefined;

  /** True when called from a callback that a call of this queue is running (rule 2). */
  get inside(): boolean {
    const window = windows.getStore();
    return window !== undefined && window.open && window.queue === this;
  }

  /** Runs `task` in its turn (rule 1), at once from a window (rule 2), or refuses it (rule 4). */
  run<T>(task: () => Promise<T>): Promise<T> {
    if (this.inside) return Promise.resolve().then(task);
    if (this.busy !== undefined) return Promise.reject(this.busy);
    return this.hold().then(async (release) => {
      try {
        return await task();
      } finally {
        release();
      }
    });
  }

  /** Waits for the turn and returns the function that ends it (`ntransferCmd` holds it until `voidResp`). */
  hold(): Promise<() => void> {
    let release!: () => void;
    const turn = new Promise<void>((resolve) => {
      release = resolve;
    });
    const previous = this.tail;
    this.tail = previous.then(() => turn);
    return previous.then(() => release);
  }

  /** Rule 4: refuse calls from outside, saying why; `undefined` ends it. */
  setBusy(why: string | undefined): void {
    this.busy = why === undefined ? undefined : new LocalProtocolError(why, "ERR_FTP_BUSY");
  }

  /**
   * Runs a user callback (or several, synchronously) in a window (rule 2): calls it makes on this
   * connection, until what it returns settles, run at once instead of queueing.
   */
  nested<T>(callback: () => T): T {
    const window: Window = { queue: this, open: true };
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
