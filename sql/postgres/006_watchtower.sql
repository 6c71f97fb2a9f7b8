-- Watchtower (issue 19): one heartbeat row per process of the deployment, and the consumer lag
-- Watchtower last observed per group, topic and partition.
CREATE TABLE process_heartbeats (
  process_id       TEXT PRIMARY KEY,
  host             TEXT NOT NULL,
  pid              INTEGER NOT NULL,
  agents           JSONB NOT NULL,
  consumer_groups  JSONB NOT NULL DEFAULT '[]',
  version          TEXT NOT NULL,
  bus              TEXT NOT NULL,
  store            TEXT NOT NULL,
  url              TEXT,
  started_at       TIMESTAMPTZ NOT NULL,
  last_beat        TIMESTAMPTZ NOT NULL
);

CREATE TABLE consumer_lag (
  group_id      TEXT NOT NULL,
  topic         TEXT NOT NULL,
  partition_no  INTEGER NOT NULL,
  committed     BIGINT,
  end_offset    BIGINT NOT NULL,
  lag           BIGINT NOT NULL CHECK (lag >= 0),
  above_since   TIMESTAMPTZ,
  observed_at   TIMESTAMPTZ NOT NULL,
  observed_by   TEXT NOT NULL,
  PRIMARY KEY (group_id, topic, partition_no)
);
