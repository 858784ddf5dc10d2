-- 0003: a backfill into an empty trades table loads first and builds the
-- secondary indexes afterwards (about twice as fast as maintaining them row
-- by row). A dropped index's definition waits here, committed with the drop,
-- until the end of the backfill (or of the run that resumes it) builds it
-- again, so a kill in between never loses an index. Constraint indexes (the
-- primary key, unique client_order_id) are never dropped.
CREATE TABLE deferred_indexes (
  name        TEXT        PRIMARY KEY,
  definition  TEXT        NOT NULL,
  deferred_by TEXT        NOT NULL,
  deferred_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
