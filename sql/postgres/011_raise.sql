-- awet_raise(message): fails the statement that calls it with `message`. Db.atomic on PostgreSQL
-- runs several writes as one statement (data-modifying CTEs, one round trip, all or nothing) and
-- calls this when a write that must change a row changed none, so the whole statement rolls back.
CREATE OR REPLACE FUNCTION awet_raise(message text) RETURNS integer LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '%', message USING ERRCODE = 'P0001';
END
$$;
