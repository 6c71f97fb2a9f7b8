const n = (x: number) => Math.round(x).toLocaleString("en-US");

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** "bars 2,000 / 13,429 (15%)  8,123 bars/s  ETA 1s". Pure. */
export function formatProgress(done: number, total: number | null, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? (done / elapsedMs) * 1000 : 0;
  const parts = [total ? `bars ${n(done)} / ${n(total)} (${Math.floor((done / total) * 100)}%)` : `bars ${n(done)}`, `${n(rate)} bars/s`];
  if (total && rate > 0) parts.push(`ETA ${duration(((total - done) / rate) * 1000)}`);
  return parts.join("  ");
}

export interface ProgressOptions {
  write: (s: string) => void;
  /** A terminal: one line updated in place. Otherwise plain lines, one per tenth done. */
  tty: boolean;
  now: () => number;
  /** Plain lines start only once a replay has run this long, so short ones stay quiet. */
  quietMs?: number;
}

/** Progress of a long replay on stderr: in place on a TTY, plain lines otherwise. */
export class Progress {
  private t0: number;
  private lastTenth = 0;
  private shown = false;
  private width = 0;

  constructor(private o: ProgressOptions) {
    this.t0 = o.now();
  }

  update(done: number, total: number | null): void {
    const el = this.o.now() - this.t0;
    const line = formatProgress(done, total, el);
    if (this.o.tty) {
      this.o.write(`\r  ${line.padEnd(this.width)}`);
      this.width = Math.max(this.width, line.length);
      this.shown = true;
      return;
    }
    const tenth = total ? Math.floor((done / total) * 10) : 0;
    if (tenth <= this.lastTenth || el < (this.o.quietMs ?? 2000)) return;
    this.lastTenth = tenth;
    this.shown = true;
    this.o.write(`replay: ${line}\n`);
  }

  /** Clear the line on a TTY; on plain output, a closing line if any progress was shown. */
  end(done: number): void {
    if (!this.shown) return;
    const el = this.o.now() - this.t0;
    if (this.o.tty) this.o.write(`\r${" ".repeat(this.width + 2)}\r`);
    else this.o.write(`replay: bars ${n(done)} done in ${duration(el)}\n`);
  }
}
