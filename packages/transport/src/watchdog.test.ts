import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Watchdog } from "./watchdog.js";

describe("Watchdog", () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it("expires at the deadline of the latest arm, re-armed or disarmed before", () => {
    const expire = vi.fn();
    const dog = new Watchdog(expire);
    dog.arm(1000);
    vi.advanceTimersByTime(600);
    dog.arm(1000); // moved to 1600
    vi.advanceTimersByTime(900);
    expect(expire).not.toHaveBeenCalled();
    vi.advanceTimersByTime(100);
    expect(expire).toHaveBeenCalledTimes(1);
    dog.arm(500);
    dog.disarm();
    vi.advanceTimersByTime(1000);
    expect(expire).toHaveBeenCalledTimes(1);
    dog.stop();
  });

  it("expires on time when armed with a shorter timeout than the last, armed or disarmed", () => {
    const expire = vi.fn();
    const dog = new Watchdog(expire);
    dog.arm(60_000);
    dog.arm(100);
    vi.advanceTimersByTime(100);
    expect(expire).toHaveBeenCalledTimes(1);
    dog.arm(60_000);
    dog.disarm();
    dog.arm(200);
    vi.advanceTimersByTime(199);
    expect(expire).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1);
    expect(expire).toHaveBeenCalledTimes(2);
    dog.stop();
  });

  it("never expires after stop", () => {
    const expire = vi.fn();
    const dog = new Watchdog(expire);
    dog.arm(100);
    dog.stop();
    vi.advanceTimersByTime(1000);
    expect(expire).not.toHaveBeenCalled();
  });
});
