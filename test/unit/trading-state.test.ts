import { describe, expect, test } from "bun:test";
import { STATE_CACHE_MS, TradingStateService } from "../../src/state/trading-state";
import type { Store } from "../../src/store/port";

/** Just the state part of a Store, with a watch the test drives by hand and a count of reads. */
function fakeStore(opts: { canWatch: boolean; versioned?: boolean }) {
  const kv = new Map<string, string>();
  let onChange: ((k: string) => void) | null = null;
  let onListen: (() => void) | null = null;
  let pending: (() => void) | null = null;
  let version = 0;
  const f = {
    reads: 0,
    /** Hold the next read until release() (to overlap a write with it). */
    holdNextRead: false,
    release: () => pending?.(),
    announce: (k: string) => onChange?.(k),
    reconnect: () => onListen?.(),
    /** A write by "another process": the value changes, announced only if `announce`. */
    external(v: string, announce = true) {
      kv.set("trading_state", v);
      version++; // another process's commit moves the version (SQLite's data_version)
      if (announce) onChange?.("trading_state");
    },
    store: {
      async getState(k: string) {
        f.reads++;
        const v = kv.get(k) ?? null;
        if (f.holdNextRead) {
          f.holdNextRead = false;
          await new Promise<void>((r) => (pending = r));
        }
        return v;
      },
      async setState(k: string, v: string) {
        kv.set(k, v);
        version++;
        onChange?.(k);
      },
      appendAudit() {},
      ...(opts.versioned ? { stateVersion: () => String(version) } : {}),
      ...(opts.canWatch
        ? {
            async watchState(c: (k: string) => void, l: () => void) {
              onChange = c;
              onListen = l;
              l();
              return async () => {
                onChange = onListen = null;
              };
            },
          }
        : {}),
    } as unknown as Store,
  };
  return f;
}

describe("TradingStateService reads", () => {
  test("without a watch every read goes to the store (a write by another process is seen at once)", async () => {
    const f = fakeStore({ canWatch: false });
    const s = new TradingStateService(f.store, { now: () => 0 });
    expect(await s.watch()).toBe(false);
    expect(await s.current()).toBe("ACTIVE");
    f.external("HALTED", false);
    expect(await s.current()).toBe("HALTED");
    expect(f.reads).toBe(2);
  });

  test("with a live watch reads are reused until a write is announced", async () => {
    let now = 0;
    const f = fakeStore({ canWatch: true });
    const s = new TradingStateService(f.store, { now: () => now });
    expect(await s.watch()).toBe(true);
    expect(await s.current()).toBe("ACTIVE");
    for (let i = 0; i < 100; i++) expect(await s.current()).toBe("ACTIVE");
    expect(f.reads).toBe(1);
    f.external("HALTED"); // announced: the next read goes to the store
    expect(await s.current()).toBe("HALTED");
    expect(f.reads).toBe(2);
    // an unannounced write (a lost notification) is seen once the read is STATE_CACHE_MS old
    f.external("REDUCING", false);
    now += STATE_CACHE_MS - 1;
    expect(await s.current()).toBe("HALTED");
    now += 1;
    expect(await s.current()).toBe("REDUCING");
  });

  test("with a state version (SQLite) reads are reused while it stays the same; another process's write is seen at once", async () => {
    const f = fakeStore({ canWatch: false, versioned: true });
    const s = new TradingStateService(f.store, { now: () => 0 });
    expect(await s.current()).toBe("ACTIVE");
    for (let i = 0; i < 100; i++) expect(await s.current()).toBe("ACTIVE");
    expect(f.reads).toBe(1);
    f.external("HALTED", false); // no announcement: only the version tells
    expect(await s.current()).toBe("HALTED");
    expect(f.reads).toBe(2);
    await s.set("ACTIVE", "test", 1, "test");
    expect(await s.current()).toBe("ACTIVE");
    f.holdNextRead = true; // a write while a read is in flight: the read's version is the older one
    f.external("REDUCING", false);
    f.external("HALTED", false);
    const r = s.current();
    await Bun.sleep(0);
    f.release();
    expect(await r).toBe("HALTED");
    f.external("ACTIVE", false);
    expect(await s.current()).toBe("ACTIVE");
  });

  test("a reconnect of the watch forgets the cached read (notifications may have been missed)", async () => {
    const f = fakeStore({ canWatch: true });
    const s = new TradingStateService(f.store, { now: () => 0 });
    await s.watch();
    expect(await s.current()).toBe("ACTIVE");
    f.external("HALTED", false);
    f.reconnect();
    expect(await s.current()).toBe("HALTED");
  });

  test("a read that overlapped an announced write is not cached", async () => {
    const f = fakeStore({ canWatch: true });
    const s = new TradingStateService(f.store, { now: () => 0 });
    await s.watch();
    f.holdNextRead = true;
    const r = s.current(); // reads ACTIVE, then is held
    await Bun.sleep(0);
    f.external("HALTED"); // announced while the read is in flight
    f.release();
    expect(await r).toBe("ACTIVE");
    expect(await s.current()).toBe("HALTED"); // not the stale ACTIVE from the overlapped read
  });

  test("set() by this process is seen by the next read, and close() ends the reuse", async () => {
    const f = fakeStore({ canWatch: true });
    const s = new TradingStateService(f.store, { now: () => 0 });
    await s.watch();
    expect(await s.current()).toBe("ACTIVE");
    await s.set("HALTED", "test", 1, "test");
    expect(await s.current()).toBe("HALTED");
    await s.close();
    f.external("ACTIVE", false);
    expect(await s.current()).toBe("ACTIVE");
  });
});
