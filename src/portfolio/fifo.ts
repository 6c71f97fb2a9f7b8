/**
 * FIFO lots per symbol in integer micro-dollars: the one implementation of lot matching, used by
 * the PnL reports (src/reports/pnl.ts) and by the in-memory Portfolio that feeds the daily-loss
 * gate, so the gate sees the same realized figure the operator sees. Pure (no I/O, no clock).
 */
export interface Lot {
  qty: number;
  priceM: number; // micro-dollars per share
  ts: number;
}

export interface SellMatch {
  matched: number; // shares matched against open lots
  costM: number; // their cost in micro-dollars (unrounded)
  pnlM: number; // realized PnL in micro-dollars
  opened: number; // earliest lot time matched (the sell's time when nothing matched)
  excess: number; // shares sold beyond the open lots (not matched)
}

export class FifoLots {
  readonly lots = new Map<string, Lot[]>();

  buy(symbol: string, qty: number, priceM: number, ts: number): void {
    let ls = this.lots.get(symbol);
    if (!ls) this.lots.set(symbol, (ls = []));
    ls.push({ qty, priceM, ts });
  }

  sell(symbol: string, qty: number, priceM: number, ts: number): SellMatch {
    let ls = this.lots.get(symbol);
    if (!ls) this.lots.set(symbol, (ls = []));
    let left = qty;
    let matched = 0, costM = 0, pnlM = 0, opened = ts;
    while (left > 0 && ls.length > 0) {
      const lot = ls[0]!;
      const q = Math.min(left, lot.qty);
      pnlM += Math.round((priceM - lot.priceM) * q);
      costM += lot.priceM * q;
      matched += q;
      opened = Math.min(opened, lot.ts);
      lot.qty -= q;
      left -= q;
      if (lot.qty <= 1e-12) ls.shift();
    }
    return { matched, costM, pnlM, opened, excess: left > 1e-12 ? left : 0 };
  }

  /** Shares held in open lots of a symbol. */
  qty(symbol: string): number {
    let q = 0;
    for (const l of this.lots.get(symbol) ?? []) q += l.qty;
    return q;
  }

  /** Unrealized PnL of a symbol's open lots at a mark (micro-dollars); a lot without a mark is at cost. */
  unrealizedM(symbol: string, markM: number | undefined): number {
    let u = 0;
    for (const l of this.lots.get(symbol) ?? []) u += Math.round(((markM ?? l.priceM) - l.priceM) * l.qty);
    return u;
  }
}
