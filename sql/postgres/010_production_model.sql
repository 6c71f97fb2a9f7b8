-- One record of the production model: the models row whose status is 'production'. Older versions
-- also wrote the system_state key 'production_model'; it goes. A database where that key was the
-- only record (it names a model, but no row is production) gets that model promoted first.
UPDATE models
   SET status = 'production',
       promoted_at = COALESCE(promoted_at, (SELECT updated_at FROM system_state WHERE key = 'production_model'))
 WHERE version = (SELECT value FROM system_state WHERE key = 'production_model')
   AND NOT EXISTS (SELECT 1 FROM models WHERE status = 'production');
DELETE FROM system_state WHERE key = 'production_model';
