import { existsSync, renameSync, writeFileSync } from "node:fs";
import { extname, resolve } from "node:path";
import { UsageError } from "../core/errors";
import { findRun, runJson, runListItem } from "../ops/runs";
import type { BacktestResults } from "../reports/backtest";
import { equitySvg } from "../reports/equity-svg";
import { compareRuns, renderComparison, renderRun, renderRunList } from "../reports/runs";
import { openStore } from "../compose/adapters";
import type { Store } from "../store/port";
import { intFlag, parseArgs } from "./args";
import { GLOBAL_VALUE_FLAGS, out, settingsFrom } from "./common";

export const RUNS_HELP = `Usage: awet runs list [--limit N] [--json]
       awet runs show RUN [--json]
       awet runs compare RUN_A RUN_B [--home-b DIR] [--json]
       awet runs plot RUN --out FILE.svg|FILE.png [--width 960] [--height 540]

Every \`awet replay\` is stored as a run: its id and label, the data files with their sha256, the
symbols and date range, the effective config and its hash, the code version, start and end, the
counts and the results (see \`awet replay --help\`).

  list      newest first: return, buy and hold, trades, max drawdown, Sharpe (--limit, default 20)
  show      one run: what was replayed, under what, and the results; --json has every config key
            and the equity curve
  compare   the config keys that differ and the results side by side (B − A); with --home-b,
            RUN_B is read from that home (configurations replayed into separate homes)
  plot      the equity curve against buy and hold, with the max drawdown shaded: SVG, or PNG
            rendered without a browser (resvg)

An unknown run id exits 2 naming it, and nothing is written.`;

async function withRuns<T>(p: ReturnType<typeof parseArgs>, f: (store: Store | null) => Promise<T>): Promise<T> {
  const s = settingsFrom(p);
  // A home without a database has no runs: say so without creating one.
  if (s.app.store === "sqlite" && !existsSync(s.paths.db)) return f(null);
  const store = await openStore(s);
  try {
    return await f(store);
  } finally {
    await store.close();
  }
}

const noRun = (id: string) => new UsageError(`no run '${id}' (\`awet runs list\` shows the stored runs)`);

export async function runsCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { bool: ["help", "json"], value: [...GLOBAL_VALUE_FLAGS, "limit", "out", "width", "height", "home-b"] });
  if (p.flags.help) return out(RUNS_HELP), 0;
  const [sub, ...args] = p.positionals;
  const json = Boolean(p.flags.json);
  const need = (n: number, what: string) => {
    if (args.length !== n) throw new UsageError(`awet runs ${sub}: expected ${what}; got ${args.length ? args.map((a) => `'${a}'`).join(" ") : "nothing"}`);
  };
  switch (sub) {
    case "list": {
      need(0, "no argument");
      const limit = intFlag(p, "limit", 20, 1, 10_000);
      return withRuns(p, async (store) => {
        const rows = store ? await store.listBacktestRuns(limit) : [];
        out(json ? JSON.stringify({ runs: rows.map(runListItem) }, null, 2) : renderRunList(rows));
        return 0;
      });
    }
    case "show": {
      need(1, "one run id");
      return withRuns(p, async (store) => {
        if (!store) throw noRun(args[0]!);
        const r = await findRun(store, args[0]!);
        out(json ? JSON.stringify(runJson(r), null, 2) : renderRun(r));
        return 0;
      });
    }
    case "compare": {
      need(2, "two run ids (RUN_A RUN_B)");
      const homeB = p.flags["home-b"] as string | undefined;
      return withRuns(p, async (store) => {
        if (!store) throw noRun(args[0]!);
        const a = await findRun(store, args[0]!);
        const b = homeB === undefined
          ? await findRun(store, args[1]!)
          : await withRuns({ ...p, flags: { ...p.flags, home: homeB } }, async (sb) => {
              if (!sb) throw noRun(args[1]!);
              return findRun(sb, args[1]!);
            });
        const c = compareRuns(a, b);
        out(json ? JSON.stringify(c, null, 2) : renderComparison(c, a, b));
        return 0;
      });
    }
    case "plot": {
      need(1, "one run id");
      const file = p.flags.out as string | undefined;
      if (!file) throw new UsageError("awet runs plot: --out FILE.svg or FILE.png is required");
      const ext = extname(file).toLowerCase();
      if (ext !== ".svg" && ext !== ".png") throw new UsageError(`--out must end in .svg or .png; got '${file}'`);
      const width = intFlag(p, "width", 960, 320, 4000);
      const height = intFlag(p, "height", 540, 240, 3000);
      return withRuns(p, async (store) => {
        if (!store) throw noRun(args[0]!);
        const r = await findRun(store, args[0]!);
        const title = `Equity — run ${r.id}${r.label ? ` “${r.label}”` : ""} · ${r.symbols.join(", ")}`;
        const svg = equitySvg(r.results as unknown as BacktestResults, title, { width, height });
        const data = ext === ".svg" ? svg : await (await import("../reports/png")).svgToPng(svg);
        // Written whole or not at all.
        const path = resolve(file);
        writeFileSync(`${path}.part`, data);
        renameSync(`${path}.part`, path);
        out(`wrote ${path} (${ext.slice(1)}, ${r.results && (r.results as unknown as BacktestResults).equity_curve.length} points)`);
        return 0;
      });
    }
    default:
      if (sub === undefined) return out(RUNS_HELP), 2;
      throw new UsageError(`awet runs: expected list, show, compare or plot; got '${sub}'`);
  }
}
