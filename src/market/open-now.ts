import type { Broker } from "../broker/port";
import { isMarketOpen } from "./calendar";

/** Is the market open now? The broker's clock when it answers, the NYSE calendar otherwise. */
export async function marketIsOpen(broker: Broker, now: number): Promise<{ open: boolean; source: "broker" | "calendar" }> {
  if (broker.clock) {
    try {
      return { open: (await broker.clock()).is_open, source: "broker" };
    } catch {
      // fall through to the calendar
    }
  }
  return { open: isMarketOpen(now), source: "calendar" };
}
