-- Issue 12: wall-clock times of each order's submission attempt and broker contacts, beside the
-- event-time columns (ts, updated_at) the reports use; the in-flight and unfilled windows are
-- measured on them. adopted_at marks a row recorded from a broker order that had none.
ALTER TABLE trades ADD COLUMN submit_wall_at TIMESTAMPTZ;
ALTER TABLE trades ADD COLUMN first_contact_wall_at TIMESTAMPTZ;
ALTER TABLE trades ADD COLUMN last_contact_wall_at TIMESTAMPTZ;
ALTER TABLE trades ADD COLUMN adopted_at TIMESTAMPTZ;
-- TRUE when the broker held the position and its opening fill was not found: opened_at is then
-- the reconcile's wall time, not a fill time.
ALTER TABLE positions ADD COLUMN inherited BOOLEAN NOT NULL DEFAULT FALSE;
-- Rows the old reconciler recorded `rejected` because a lookup found nothing were never a broker
-- rejection: they become `unknown` (terminal but revisable), so the order listing can link them.
UPDATE trades SET status = 'unknown'
 WHERE status = 'rejected' AND error_message LIKE 'not found at the broker by client_order_id % never resubmitted';
CREATE INDEX trades_adopted_idx ON trades (adopted_at);
