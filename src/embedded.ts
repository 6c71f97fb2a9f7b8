/**
 * Files embedded into the single binary (`npm run build`), so `dist/awet` runs from any directory
 * with nothing beside it. From a checkout the files on disk are used; a test checks that this list
 * matches them.
 */
import sqlite001 from "../sql/sqlite/001_init.sql" with { type: "text" };
import postgres001 from "../sql/postgres/001_init.sql" with { type: "text" };
import sqlite002 from "../sql/sqlite/002_order_wall_times.sql" with { type: "text" };
import postgres002 from "../sql/postgres/002_order_wall_times.sql" with { type: "text" };
import sqlite005 from "../sql/sqlite/005_backtest_runs.sql" with { type: "text" };
import postgres005 from "../sql/postgres/005_backtest_runs.sql" with { type: "text" };
import sqlite006 from "../sql/sqlite/006_watchtower.sql" with { type: "text" };
import postgres006 from "../sql/postgres/006_watchtower.sql" with { type: "text" };
import sqlite008 from "../sql/sqlite/008_audit_lean.sql" with { type: "text" };
import postgres008 from "../sql/postgres/008_audit_lean.sql" with { type: "text" };
import sqlite009 from "../sql/sqlite/009_job_runs.sql" with { type: "text" };
import postgres009 from "../sql/postgres/009_job_runs.sql" with { type: "text" };
import sqlite010 from "../sql/sqlite/010_production_model.sql" with { type: "text" };
import postgres010 from "../sql/postgres/010_production_model.sql" with { type: "text" };
import postgres011 from "../sql/postgres/011_raise.sql" with { type: "text" };
import appYaml from "../config/app.yaml" with { type: "text" };
import llmYaml from "../config/llm.yaml" with { type: "text" };
import spy from "../data/minute/SPY.csv" with { type: "text" };
import aig from "../data/minute/AIG.csv" with { type: "text" };
import bac from "../data/minute/BAC.csv" with { type: "text" };
import ibm from "../data/minute/IBM.csv" with { type: "text" };
import avsc_market_raw from "../schemas/market.raw.avsc" with { type: "text" };
import avsc_market_engineered from "../schemas/market.engineered.avsc" with { type: "text" };
import avsc_predictions from "../schemas/predictions.avsc" with { type: "text" };
import avsc_risk_approved from "../schemas/risk.approved.avsc" with { type: "text" };
import avsc_risk_rejected from "../schemas/risk.rejected.avsc" with { type: "text" };
import avsc_execution_completed from "../schemas/execution.completed.avsc" with { type: "text" };
import avsc_execution_blocked from "../schemas/execution.blocked.avsc" with { type: "text" };
import avsc_market_rejected from "../schemas/market.rejected.avsc" with { type: "text" };
import avsc_audit from "../schemas/audit.avsc" with { type: "text" };
import avsc_exit_signals from "../schemas/exit.signals.avsc" with { type: "text" };

export const EMBEDDED_MIGRATIONS: Record<"sqlite" | "postgres", Record<string, string>> = {
  sqlite: {
    "001_init.sql": sqlite001, "002_order_wall_times.sql": sqlite002, "005_backtest_runs.sql": sqlite005, "006_watchtower.sql": sqlite006, "008_audit_lean.sql": sqlite008,
    "009_job_runs.sql": sqlite009, "010_production_model.sql": sqlite010,
  },
  postgres: {
    "001_init.sql": postgres001, "002_order_wall_times.sql": postgres002, "005_backtest_runs.sql": postgres005, "006_watchtower.sql": postgres006, "008_audit_lean.sql": postgres008,
    "009_job_runs.sql": postgres009, "010_production_model.sql": postgres010, "011_raise.sql": postgres011,
  },
};

export const EMBEDDED_CONFIG: Record<string, string> = { "app.yaml": appYaml, "llm.yaml": llmYaml };

export const EMBEDDED_MINUTE_DATA: Record<string, string> = { "AIG.csv": aig, "BAC.csv": bac, "IBM.csv": ibm, "SPY.csv": spy };

export const EMBEDDED_SCHEMAS: Record<string, string> = {
  "market.raw": avsc_market_raw,
  "market.engineered": avsc_market_engineered,
  "predictions": avsc_predictions,
  "risk.approved": avsc_risk_approved,
  "risk.rejected": avsc_risk_rejected,
  "execution.completed": avsc_execution_completed,
  "execution.blocked": avsc_execution_blocked,
  "market.rejected": avsc_market_rejected,
  "audit": avsc_audit,
  "exit.signals": avsc_exit_signals,
};
