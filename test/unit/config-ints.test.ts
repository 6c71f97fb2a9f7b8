import { describe, expect, test } from "bun:test";
import { loadSettings } from "../../src/config/load";
import { tempHome } from "../helpers";

describe("config: integer lists (forecast_horizons_bars)", () => {
  test("default, env override (sorted, deduplicated), and a bad value named", () => {
    const h = tempHome();
    try {
      expect(loadSettings({ home: h.home, env: {} }).app.forecast_horizons_bars).toEqual([30, 45, 60]);
      expect(loadSettings({ home: h.home, env: { AWET_FORECAST_HORIZONS_BARS: "60, 15,15" } }).app.forecast_horizons_bars).toEqual([15, 60]);
      expect(() => loadSettings({ home: h.home, env: { AWET_FORECAST_HORIZONS_BARS: "30,x" } })).toThrow(/AWET_FORECAST_HORIZONS_BARS.*has "x"; expected integers >= 1 and <= 390/);
      expect(() => loadSettings({ home: h.home, env: { AWET_FORECAST_HORIZONS_BARS: "0" } })).toThrow(/has "0"; expected integers >= 1/);
      expect(() => loadSettings({ home: h.home, env: { AWET_MODEL_KIND: "lstm" } })).toThrow(/AWET_MODEL_KIND.*must be one of tft, linear/);
    } finally {
      h.cleanup();
    }
  });
});
