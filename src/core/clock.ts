/** The Clock port: every "now" in the decision path comes from here, never from Date.now(). */
export interface Clock {
  now(): number; // epoch ms
  /** Optional: a clock driven by event time follows the bars (ReplayClock); wall clocks lack it. */
  advanceTo?(ts: number): void;
}

export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }
}

/**
 * Driven by event time: replay advances it with each bar, so a replay is deterministic and runs
 * as fast as the machine allows. It never goes backwards.
 */
export class ReplayClock implements Clock {
  private t: number;
  constructor(start = 0) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  advanceTo(ts: number): void {
    if (ts > this.t) this.t = ts;
  }
}

/** A clock whose time tests set explicitly. */
export class FixedClock implements Clock {
  constructor(public t: number) {}
  now(): number {
    return this.t;
  }
}
