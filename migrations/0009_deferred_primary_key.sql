-- 0009: a backfill into an empty trades table defers its primary key too,
-- and builds it after the load like the secondary indexes: checking and
-- inserting each row's key took about a third of the server's COPY time
-- (1M rows from one binary file: 3.8-4.1 s with the key, 2.3-2.7 s without,
-- 0.4 s to build it afterwards).
--
-- The key must hold against every other writer meanwhile, so while it is
-- deferred a fence stands: a statement trigger, created and dropped in the
-- same transactions as the deferral, that refuses every write to trades but
-- those of the backfill that deferred the key (its transactions name their
-- store in tradestore.backfill_store). A refused writer fails as it does when
-- Postgres is down: the relay retries, execution-service acknowledges on
-- SQLite with the outbox entry. The row of the key in deferred_indexes
-- (constraint_name set) names the store; it goes when the key is back.
ALTER TABLE deferred_indexes ADD COLUMN constraint_name TEXT DEFAULT NULL;

-- It reads deferred_indexes as its owner, so that a least-privilege writer
-- is refused by the fence, not by a permission it lacks; search_path is
-- fixed at creation, so that no writer's own can point the check at another
-- deferred_indexes.
CREATE FUNCTION trades_backfill_fence() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  owner TEXT := (SELECT deferred_by FROM deferred_indexes
                 WHERE constraint_name IS NOT NULL LIMIT 1);
BEGIN
  IF current_setting('tradestore.backfill_store', true)
     IS DISTINCT FROM owner THEN
    RAISE EXCEPTION 'trades is being loaded by the backfill of store % with '
      'its primary key deferred: no other writes until that backfill has '
      'built the key again', coalesce(owner, '(unknown)')
      USING ERRCODE = 'object_in_use',
            HINT = 'If that backfill stopped, run tradestore backfill on the '
                   'same store again: it resumes and lifts the fence.';
  END IF;
  RETURN NULL;
END
$$;
