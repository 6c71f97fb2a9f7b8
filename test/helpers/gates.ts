import { limitsFrom } from "../../src/portfolio/book";
import { defaultApp } from "../../src/config";
import type { Limits, Snapshot } from "../../src/gates";

/** The default limits, and a snapshot in which every gate passes. */
export const limits: Limits = limitsFrom(defaultApp());
export const open: Snapshot = {
  brokerName: "sim", brokerIsPaper: true, dryRun: false, approved: true, tradingState: "ACTIVE", duplicate: false,
  ordersLastMinute: 0, symbolOrdersToday: 0, openOrders: 0, lastSymbolOrderTs: null, positionQty: 0, openSellQty: 0,
  totalExposureUsd: 0, symbolExposureUsd: 0, lastPrice: 100, equityUsd: 100_000, dayTradesLast5Days: 0, boughtToday: false,
  stopLossExitTs: [], globalStopLossExitTs: [], dayPnlUsd: 0,
};
