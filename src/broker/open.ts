import type { Settings } from "../config/load";
import { AlpacaPaperBroker } from "./alpaca";
import type { BarDrivenBroker } from "./port";
import { SimBroker } from "./sim";

/** The broker the settings name. Alpaca reads its keys and URL from the environment (.env included). */
export function openBroker(s: Settings, env: Record<string, string | undefined> = process.env): BarDrivenBroker {
  if (s.app.broker === "alpaca")
    return new AlpacaPaperBroker({
      baseUrl: env.ALPACA_BASE_URL,
      paper: env.ALPACA_PAPER,
      keyId: env.APCA_API_KEY_ID,
      secret: env.APCA_API_SECRET_KEY,
      allowLoopback: env.AWET_ALLOW_LOOPBACK_BROKER === "1",
    });
  return new SimBroker(s.app.sim_slippage_bps, s.app.sim_account_equity_usd);
}
