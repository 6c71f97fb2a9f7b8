import { existsSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import type { Logger } from "../obs/log";
import { reloadSettings, type Settings } from "./load";
import type { AppConfig } from "./schema";

/**
 * The settings a running daemon re-reads when config/app.yaml changes on disk (`awet paper on`,
 * `awet exit off` edit the file): checked by modification time, at most once per `minGapMs` of
 * wall time. A file that no longer validates keeps the last good values but forces
 * execution_dry_run on — a broken config fails closed.
 */
export class LiveConfig {
  private current: AppConfig;
  private mtime: number;
  private lastCheck = 0;
  private file: string;
  private dir: string;
  broken: string | null = null;

  constructor(
    private base: Settings,
    private log?: Logger,
    private minGapMs = 250,
  ) {
    this.current = base.app;
    this.dir = base.configDir;
    this.file = join(base.configDir, "app.yaml");
    this.mtime = this.stat();
  }

  /**
   * Follows the file an operator edit writes to: when the daemon runs on the bundled defaults,
   * `awet paper on` creates <home>/config/app.yaml, and from then on that file rules.
   */
  private follow(): void {
    const r = relative(resolve(this.base.home), resolve(this.base.configDir));
    const inHome = r === "" || !r.startsWith("..");
    if (inHome || this.base.configDirPinned) return;
    const homeDir = join(this.base.home, "config");
    if (this.dir !== homeDir && existsSync(join(homeDir, "app.yaml"))) {
      this.dir = homeDir;
      this.file = join(homeDir, "app.yaml");
      this.mtime = -1;
    }
  }

  private stat(): number {
    try {
      return statSync(this.file).mtimeMs;
    } catch {
      return 0;
    }
  }

  /** Re-read on the next access regardless of the gap (after an in-process edit). */
  refresh(): void {
    this.lastCheck = 0;
  }

  get app(): AppConfig {
    const now = Date.now();
    if (now - this.lastCheck < this.minGapMs) return this.current;
    this.lastCheck = now;
    this.follow();
    const m = this.stat();
    if (m === this.mtime) return this.current;
    this.mtime = m;
    try {
      this.current = reloadSettings(this.base, this.dir).app;
      this.broken = null;
      this.log?.info({ file: this.file, execution_dry_run: this.current.execution_dry_run, enable_exit_logic: this.current.enable_exit_logic }, "config reloaded");
    } catch (e) {
      this.broken = (e as Error).message;
      this.current = { ...this.current, execution_dry_run: true };
      this.log?.error({ file: this.file, err: this.broken }, "config no longer valid: keeping the last good values with execution_dry_run forced on");
    }
    return this.current;
  }
}
