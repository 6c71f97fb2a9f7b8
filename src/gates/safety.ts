import type { Gate } from "./types";
import { ALLOW, block } from "./types";

/** No order to anything but a paper broker, whatever else is configured. */
export const paperGate: Gate = (_i, s) =>
  s.brokerIsPaper ? ALLOW : block("not_paper", `broker '${s.brokerName}' is not a paper broker; AWET trades paper only`);

export const dryRunGate: Gate = (_i, s) =>
  s.dryRun ? block("dry_run", "execution_dry_run is true (config/app.yaml); no order is sent") : ALLOW;

export const approvalGate: Gate = (_i, s) =>
  s.approved ? ALLOW : block("not_approved", "approval file .tmp/APPROVE_EXECUTION is missing (run `awet approve`)");

/** HALTED stops everything; REDUCING lets only orders that shrink a position through. */
export const tradingStateGate: Gate = (i, s) => {
  if (s.tradingState === "HALTED") return block("trading_halted", "trading state is HALTED (run `awet resume`)");
  if (s.tradingState === "RECONCILING") return block("reconciling", "start-up reconciliation with the broker is running; no new orders until it completes");
  if (s.tradingState === "REDUCING" && !(i.side === "sell" && s.positionQty > 0))
    return block("reducing_only", `trading state is REDUCING: only orders that shrink a position pass (${i.side} ${i.symbol})`);
  return ALLOW;
};
