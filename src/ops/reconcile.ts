import { Reconciler, reconcileWindows } from "../agents/reconciler";
import { isReconcilable, type ReconcilableBroker } from "../broker/port";
import { openBroker } from "../compose/adapters";
import type { Settings } from "../config/load";
import type { Logger } from "../obs/log";
import type { Store } from "../store/port";

/**
 * The configured broker when it is reconciled by asking it (Alpaca), else null: the simulator fills
 * from bars and has nothing to reconcile.
 */
export function reconcilableBroker(s: Settings): ReconcilableBroker | null {
  const b = openBroker(s);
  return isReconcilable(b) ? b : null;
}

/** A wall-clock reconciler for an operator action outside the daemon (`awet reconcile`, `awet positions`, the EOD job). */
export function operatorReconciler(s: Settings, broker: ReconcilableBroker, store: Store, log: Logger): Reconciler {
  return new Reconciler({ store, broker, log, now: () => Date.now(), wallNow: () => Date.now(), ...reconcileWindows(s.app) });
}

/** One RECONCILE_CYCLE line: the counts of a reconcile of open orders. */
export function reconcileLine(st: Record<string, number>): string {
  return `RECONCILE_CYCLE pending_found=${st.pending_found} updated=${st.updated} became_terminal=${st.became_terminal} unchanged=${st.unchanged} errors=${st.errors} unknown=${st.became_unknown} linked=${st.linked} adopted=${st.adopted}`;
}
