/**
 * Files embedded into the single binary (`npm run build`), so `dist/awet` runs from any directory
 * with nothing beside it. From a checkout the files on disk are used; a test checks that this list
 * matches them.
 */
import sqlite001 from "../sql/sqlite/001_init.sql" with { type: "text" };
import appYaml from "../config/app.yaml" with { type: "text" };
import llmYaml from "../config/llm.yaml" with { type: "text" };
import spy from "../data/minute/SPY.csv" with { type: "text" };
import aig from "../data/minute/AIG.csv" with { type: "text" };
import bac from "../data/minute/BAC.csv" with { type: "text" };
import ibm from "../data/minute/IBM.csv" with { type: "text" };

export const EMBEDDED_MIGRATIONS: Record<"sqlite" | "postgres", Record<string, string>> = {
  sqlite: { "001_init.sql": sqlite001 },
  postgres: {},
};

export const EMBEDDED_CONFIG: Record<string, string> = { "app.yaml": appYaml, "llm.yaml": llmYaml };

export const EMBEDDED_MINUTE_DATA: Record<string, string> = { "AIG.csv": aig, "BAC.csv": bac, "IBM.csv": ibm, "SPY.csv": spy };
