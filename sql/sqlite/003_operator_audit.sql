-- Operator actions and refused requests are audit_events with source 'operator' (issue 13):
-- `awet ops snapshot` lists the newest ones, so they are looked up by source and time.
CREATE INDEX IF NOT EXISTS audit_events_source_idx ON audit_events (source, ts);
