-- 0007: client_order_id stays unique, now through a partial unique index over
-- the rows that have one. The rule is the same (NULLs were never equal to
-- each other), but legacy rows, which have none, no longer each add an index
-- entry: a backfill's COPY spent about a fifth of its server CPU on the NULL
-- entries (1M rows: 3.2-3.3 CPU-s with them, 2.5-2.7 without). Lookups by
-- client_order_id = $1 use it (the equality implies IS NOT NULL), and
-- ON CONFLICT DO NOTHING sees it. The backfill never defers a unique index.
ALTER TABLE trades DROP CONSTRAINT trades_client_order_id_key;
CREATE UNIQUE INDEX trades_client_order_id_key ON trades (client_order_id)
  WHERE client_order_id IS NOT NULL;
