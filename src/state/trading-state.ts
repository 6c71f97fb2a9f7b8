import { envelope } from "../core/events";
import { timeId } from "../core/ids";
import type { TradingState } from "../gates/types";
import type { Metrics } from "../obs/metrics";
import type { Store } from "../store/port";

export const TRADING_STATES: readonly TradingState[] = ["ACTIVE", "REDUCING", "HALTED", "RECONCILING"];
const GAUGE: Record<TradingState, number> = { ACTIVE: 0, REDUCING: 1, HALTED: 2, RECONCILING: 3 };

/** Who changed the state: the CLI, REST (with the client address), a job, an agent, start-up. */
export type StateActor = string;

export interface TradingStateInfo {
  state: TradingState;
  reason: string | null;
  by: string | null;
  at: number | null;
}

/**
 * How long a state read is trusted while the store's watch is live (wall ms). Notifications make a
 * change by any process visible at once; this bounds what a silently broken watch connection could
 * hide (the watch reconnects and re-reads, but notifications sent meanwhile are lost).
 */
export const STATE_CACHE_MS = 1000;

/**
 * The trading state, in one place (ARCHITECTURE.md §5: ACTIVE / REDUCING / HALTED / RECONCILING).
 * It lives in the store, so a change made by one process (`awet halt`) is seen by a running daemon
 * on its next order intent. Every change records its reason and actor, is appended to the audit
 * trail as an `audit` event `trading_state`, and updates the awet_trading_state gauge when a
 * Metrics is attached. Everything else asks this service; nobody reads the raw key.
 *
 * Reads: on a store with a state version (SQLite's data_version) a read is reused while the version
 * stays the same: any other process's commit moves it, so `awet halt` acts on the next intent.
 * After `watch()` on a store that announces state writes (PostgreSQL LISTEN/NOTIFY), a read is
 * reused until a write by any process is announced, the watch reconnects, or STATE_CACHE_MS pass —
 * no round trip per order intent, and a halt from another process still lands within
 * milliseconds. A store with neither is read on every `current()`.
 */
export class TradingStateService {
  private cached: { state: TradingState; at: number; version: string | undefined } | null = null;
  /** Bumped by every announced write: a read that overlapped one is not cached. */
  private generation = 0;
  private live = false;
  private unwatch: (() => Promise<void>) | null = null;

  constructor(
    private store: Store,
    private opts: { metrics?: Metrics; now?: () => number } = {},
  ) {}

  private wall(): number {
    return this.opts.now ? this.opts.now() : performance.now();
  }

  /** Start trusting reads between announced writes; false on a store that cannot announce them. */
  async watch(): Promise<boolean> {
    if (this.unwatch || !this.store.watchState) return this.unwatch !== null;
    this.unwatch = await this.store.watchState(
      (key) => {
        if (key === "trading_state") this.invalidate();
      },
      () => {
        this.invalidate(); // (re)connected: whatever was announced while away is unknown
        this.live = true;
      },
    );
    return true;
  }

  /** End the watch (reads go to the store again). */
  async close(): Promise<void> {
    const u = this.unwatch;
    this.unwatch = null;
    this.live = false;
    this.cached = null;
    if (u) await u();
  }

  private invalidate(): void {
    this.generation++;
    this.cached = null;
  }

  async current(): Promise<TradingState> {
    const c = this.cached;
    // read before the store is: a write after this point moves the token past what is cached
    const version = this.store.stateVersion?.();
    if (c !== null && ((this.live && this.wall() - c.at < STATE_CACHE_MS) || (version !== undefined && c.version === version))) return c.state;
    const gen = this.generation;
    const at = this.wall();
    const v = await this.store.getState("trading_state");
    const s = (v && (TRADING_STATES as string[]).includes(v) ? v : "ACTIVE") as TradingState;
    if ((this.live || version !== undefined) && gen === this.generation) this.cached = { state: s, at, version };
    this.opts.metrics?.tradingState.set(GAUGE[s]);
    return s;
  }

  async info(): Promise<TradingStateInfo> {
    const [state, raw] = await Promise.all([this.current(), this.store.getState("trading_state_reason")]);
    let meta: { reason?: string; by?: string; at?: number } = {};
    if (raw) {
      try {
        const j = JSON.parse(raw);
        meta = j && typeof j === "object" ? j : { reason: String(raw) };
      } catch {
        meta = { reason: raw }; // written by an older version: plain text
      }
    }
    return { state, reason: meta.reason ?? null, by: meta.by ?? null, at: meta.at ?? null };
  }

  /** Switch to `to`; returns the state before. A no-op switch is still recorded (the reason may differ). */
  async set(to: TradingState, reason: string, at: number, by: StateActor): Promise<{ from: TradingState; to: TradingState }> {
    if (!(TRADING_STATES as string[]).includes(to)) throw new RangeError(`unknown trading state ${JSON.stringify(to)} (one of ${TRADING_STATES.join(", ")})`);
    const from = await this.current();
    this.invalidate();
    await this.store.setState("trading_state", to, at);
    await this.store.setState("trading_state_reason", JSON.stringify({ reason, by, at }), at);
    await this.store.appendAudit([
      envelope("audit", {
        ts: at, correlation_id: timeId(at, `trading_state|${by}|${to}`), idempotency_key: `trading_state:${at}:${from}:${to}:${by}`, source: "TradingState", symbol: "*",
        payload: { event: "trading_state", from, to, reason, by },
      }),
    ]);
    this.opts.metrics?.tradingState.set(GAUGE[to]);
    return { from, to };
  }
}
