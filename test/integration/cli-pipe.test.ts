import { describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "bun";
import { join } from "node:path";
import { ROOT, tempHome } from "../helpers";

describe("the CLI under a reader that stops early", () => {
  test("`awet trades --json | head -c 100`: the closed pipe ends the command quietly, exit 0, no stack trace", async () => {
    const h = tempHome();
    try {
      const env = { ...process.env, AWET_HOME: "" };
      const r = spawnSync({ cmd: [process.execPath, join(ROOT, "src", "main.ts"), "replay", join(ROOT, "data", "minute"), "--home", h.home], env, stdout: "pipe", stderr: "pipe" });
      expect(r.exitCode).toBe(0);
      // a shell pipe into head, as an operator types it; pipefail reports awet's own exit code
      const cmd = `"${process.execPath}" "${join(ROOT, "src", "main.ts")}" trades --json --limit 1000 --home "${h.home}" | head -c 100 > /dev/null`;
      const p = spawn({ cmd: ["bash", "-o", "pipefail", "-c", cmd], env, stdout: "pipe", stderr: "pipe" });
      const code = await p.exited;
      const err = await new Response(p.stderr).text();
      expect(err).not.toContain("EPIPE");
      expect(err).not.toContain("    at ");
      expect(code).toBe(0);
    } finally {
      h.cleanup();
    }
  }, 120_000);
});
