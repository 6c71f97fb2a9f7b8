import { excludedSet, valuesList, type Db } from "../db";
import type { Heartbeat, LagRecord, WatchRepository } from "../port";

/** What the Watchtower keeps: one heartbeat row per process, one lag row per group, topic and partition. */
export function watchRepository(db: Db): WatchRepository {
  const beats = db.codec<Heartbeat>("process_heartbeats");
  const lag = db.codec<LagRecord>("consumer_lag");
  const beat = `INSERT INTO process_heartbeats (${beats.insertColumns.join(", ")}) VALUES ${valuesList(1, beats.insertColumns.length)}
    ON CONFLICT (process_id) DO UPDATE SET ${excludedSet(beats.insertColumns.filter((c) => c !== "process_id"))}`;
  const lagKey = ["group_id", "topic", "partition_no"];
  return {
    async saveHeartbeat(h) {
      await db.run("saveHeartbeat", beat, beats.values(h));
    },
    listHeartbeats: async () => (await db.all("listHeartbeats", "SELECT * FROM process_heartbeats ORDER BY process_id")).map(beats.decode),
    async deleteHeartbeat(processId) {
      await db.run("deleteHeartbeat", "DELETE FROM process_heartbeats WHERE process_id = ?", [processId]);
    },
    async saveLag(rows) {
      if (rows.length === 0) return;
      const cols = lag.insertColumns;
      // one multi-row statement: every row or none
      await db.run(
        "saveLag",
        `INSERT INTO consumer_lag (${cols.join(", ")}) VALUES ${valuesList(rows.length, cols.length)}
         ON CONFLICT (${lagKey.join(", ")}) DO UPDATE SET ${excludedSet(cols.filter((c) => !lagKey.includes(c)))}`,
        rows.flatMap((r) => lag.values(r)),
      );
    },
    listLag: async () => (await db.all("listLag", "SELECT * FROM consumer_lag ORDER BY group_id, topic, partition_no")).map(lag.decode),
    async pruneWatch(before) {
      const heartbeats = await db.run("pruneWatch", "DELETE FROM process_heartbeats WHERE last_beat < ?", [beats.value("last_beat", before)]);
      const lagRows = await db.run("pruneWatch", "DELETE FROM consumer_lag WHERE observed_at < ?", [lag.value("observed_at", before)]);
      return { heartbeats, lag: lagRows };
    },
  };
}
