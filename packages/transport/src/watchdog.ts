/**
 * A timeout for a wait that recurs many times a second (each read of a data connection, each
 * write): arming and disarming only move a deadline, so no timer is created or cancelled per
 * wait. The one timer, when it fires early, sleeps again until the deadline; while disarmed it
 * does not keep the process alive.
 */
export class Watchdog {
  private timer: NodeJS.Timeout | undefined;
  /** When the timer fires: at or before the deadline, never after it. */
  private timerAt = 0;
  private deadline = 0;
  private armed = false;
  private readonly expire: () => void;

  constructor(expire: () => void) {
    this.expire = expire;
  }

  /** Expires `ms` from now unless disarmed or armed again before (`ms` <= 0: never). */
  arm(ms: number): void {
    if (ms <= 0) return this.disarm();
    this.armed = true;
    this.deadline = Date.now() + ms;
    if (this.timer !== undefined && this.timerAt <= this.deadline) {
      this.timer.ref();
      return;
    }
    // No timer, or one that fires after the new deadline (a shorter timeout than the last): a new one.
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.schedule(ms);
  }

  disarm(): void {
    if (!this.armed) return;
    this.armed = false;
    this.timer?.unref();
  }

  /** Disarms for good: the timer goes too. */
  stop(): void {
    this.armed = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(this.check, ms);
    this.timerAt = Date.now() + ms;
  }

  private readonly check = (): void => {
    this.timer = undefined;
    if (!this.armed) return;
    const left = this.deadline - Date.now();
    if (left > 0) {
      this.schedule(left);
      return;
    }
    this.armed = false;
    this.expire();
  };
}
