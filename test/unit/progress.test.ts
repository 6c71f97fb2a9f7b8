import { describe, expect, test } from "bun:test";
import { Progress, formatProgress } from "../../src/cli/progress";

describe("replay progress", () => {
  test("formatProgress: done of total, rate, ETA", () => {
    expect(formatProgress(2_000, 10_000, 1_000)).toBe("bars 2,000 / 10,000 (20%)  2,000 bars/s  ETA 4s");
    expect(formatProgress(1_000, 400_000, 1_000)).toBe("bars 1,000 / 400,000 (0%)  1,000 bars/s  ETA 6m39s");
    expect(formatProgress(5, null, 0)).toBe("bars 5  0 bars/s");
  });

  test("on a TTY one line is rewritten in place and cleared at the end", () => {
    let t = 0;
    const w: string[] = [];
    const p = new Progress({ write: (s) => w.push(s), tty: true, now: () => t });
    t = 1_000;
    p.update(2_000, 4_000);
    t = 2_000;
    p.update(4_000, 4_000);
    p.end(4_000);
    expect(w[0]).toBe("\r  bars 2,000 / 4,000 (50%)  2,000 bars/s  ETA 1s");
    expect(w[1]!.startsWith("\r  bars 4,000 / 4,000 (100%)")).toBe(true);
    expect(w.every((s) => !s.includes("\n"))).toBe(true);
    expect(w[2]).toMatch(/^\r +\r$/);
  });

  test("otherwise plain lines, one per tenth, only once the replay is long", () => {
    let t = 0;
    const w: string[] = [];
    const p = new Progress({ write: (s) => w.push(s), tty: false, now: () => t, quietMs: 2_000 });
    t = 500;
    p.update(1_000, 10_000); // early: quiet
    t = 2_500;
    p.update(2_000, 10_000);
    p.update(2_500, 10_000); // same tenth: nothing
    t = 5_000;
    p.update(4_000, 10_000);
    p.end(10_000);
    expect(w).toEqual([
      "replay: bars 2,000 / 10,000 (20%)  800 bars/s  ETA 10s\n",
      "replay: bars 4,000 / 10,000 (40%)  800 bars/s  ETA 8s\n",
      "replay: bars 10,000 done in 5s\n",
    ]);
    const quiet: string[] = [];
    const q = new Progress({ write: (s) => quiet.push(s), tty: false, now: () => 0 });
    q.update(5_000, 10_000);
    q.end(10_000);
    expect(quiet).toEqual([]);
  });
});
