-- The audit trail keeps only the indexes its readers use: the primary key (event_id, ts; ids are
-- time-ordered), correlation_id (the trade chain) and ts (time partitioning / retention). The
-- (event_type, ts) index had no reader and cost a write per event.
DROP INDEX IF EXISTS audit_events_type_idx;
