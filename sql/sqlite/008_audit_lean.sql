-- The audit trail keeps only the indexes its readers use: event_id (unique, the redelivery guard;
-- ids are time-ordered, so it grows at its end) and correlation_id (the trade chain). Nothing reads
-- audit_events by time or by type on a hot path, and each extra index cost a write per event.
DROP INDEX IF EXISTS audit_events_ts_idx;
DROP INDEX IF EXISTS audit_events_type_idx;
