import { describe, expect, it } from "vitest";
import { CallQueue } from "./call-queue.js";

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe("the command rule (CallQueue)", () => {
  it("rule 1: calls run one at a time, in the order they were made", async () => {
    const queue = new CallQueue();
    const log: string[] = [];
    const call = (name: string, ms: number) =>
      queue.run(async () => {
        log.push(`${name} starts`);
        await new Promise((resolve) => setTimeout(resolve, ms));
        log.push(`${name} ends`);
      });
    await Promise.all([call("a", 20), call("b", 1), call("c", 5)]);
    expect(log).toEqual(["a starts", "a ends", "b starts", "b ends", "c starts", "c ends"]);
  });

  it("rule 1: a call that fails, even at once, ends its turn", async () => {
    const queue = new CallQueue();
    await expect(queue.run(() => Promise.reject(new Error("no")))).rejects.toThrow("no");
    await expect(
      queue.run(() => {
        throw new Error("at once");
      }),
    ).rejects.toThrow("at once");
    expect(await queue.run(() => Promise.resolve("next"))).toBe("next");
  });

  it("rule 2: a call from a callback's window runs at once, after an await in it too", async () => {
    const queue = new CallQueue();
    const log: string[] = [];
    await queue.run(async () => {
      // The transfer holds the turn and runs the user's callback in a window.
      await queue.nested(async () => {
        log.push(await queue.run(() => Promise.resolve("nested, synchronously")));
        await tick();
        log.push(await queue.run(() => Promise.resolve("nested, after an await")));
      });
    });
    expect(log).toEqual(["nested, synchronously", "nested, after an await"]);
  });

  it("rule 2: a call from outside while a window is open waits for its turn", async () => {
    const queue = new CallQueue();
    const log: string[] = [];
    let windowOpen!: () => void;
    const opened = new Promise<void>((resolve) => (windowOpen = resolve));
    // Other code, started outside any window, that calls while the window is open.
    const outside = (async () => {
      await opened;
      await queue.run(() => Promise.resolve(void log.push("outside")));
    })();
    await queue.run(async () => {
      await queue.nested(async () => {
        windowOpen();
        await tick();
        await tick();
        log.push("callback done");
      });
      log.push("transfer done");
    });
    await outside;
    expect(log).toEqual(["callback done", "transfer done", "outside"]);
  });

  it("rule 2: the window closes when what the callback returned settles", async () => {
    const queue = new CallQueue();
    let later: (() => Promise<string>) | undefined;
    await queue.run(() => {
      queue.nested(() => {
        later = () => queue.run(() => Promise.resolve("queued"));
      });
      expect(queue.inside).toBe(false);
      return Promise.resolve();
    });
    // Called after the window closed: a queued call like any other.
    expect(await later!()).toBe("queued");
  });

  it("rule 4: while busy, calls are refused with ERR_FTP_BUSY instead of waiting", async () => {
    const queue = new CallQueue();
    queue.setBusy("a listing is being iterated on this connection");
    await expect(queue.run(() => Promise.resolve("x"))).rejects.toMatchObject({ code: "ERR_FTP_BUSY" });
    queue.setBusy(undefined);
    expect(await queue.run(() => Promise.resolve("x"))).toBe("x");
  });

  it("hold: the turn is kept until released (ntransferCmd until voidResp)", async () => {
    const queue = new CallQueue();
    const release = await queue.hold();
    let ran = false;
    const next = queue.run(() => Promise.resolve(void (ran = true)));
    await tick();
    expect(ran).toBe(false);
    release();
    await next;
    expect(ran).toBe(true);
  });
});
