-- Watchtower (issue 19): one heartbeat row per process of the deployment, and the consumer lag
-- Watchtower last observed per group, topic and partition. Times are ISO-8601 UTC text.
CREATE TABLE process_heartbeats (
  process_id       TEXT PRIMARY KEY,
  host             TEXT NOT NULL,
  pid              INTEGER NOT NULL,
  agents           TEXT NOT NULL,              -- JSON array of agent names
  consumer_groups  TEXT NOT NULL DEFAULT '[]', -- JSON [{"group", "topics": [...]}]
  version          TEXT NOT NULL,
  bus              TEXT NOT NULL,
  store            TEXT NOT NULL,
  url              TEXT,
  started_at       TEXT NOT NULL,
  last_beat        TEXT NOT NULL
);

CREATE TABLE consumer_lag (
  group_id      TEXT NOT NULL,
  topic         TEXT NOT NULL,
  partition_no  INTEGER NOT NULL,
  committed     INTEGER,                 -- NULL: the group has committed nothing on this partition
  end_offset    INTEGER NOT NULL,
  lag           INTEGER NOT NULL CHECK (lag >= 0),
  above_since   TEXT,                    -- when lag went above max_consumer_lag; NULL while within it
  observed_at   TEXT NOT NULL,
  observed_by   TEXT NOT NULL,           -- process_id of the observer
  PRIMARY KEY (group_id, topic, partition_no)
);
