-- 0002: what the one-shot backfill needs.

-- Legacy columns the trades table does not know, kept as they were
-- ({"column": value}) rather than dropped.
ALTER TABLE trades ADD COLUMN extra JSONB DEFAULT NULL;

-- Rows that could not be copied exactly and validly: one per source row,
-- with the column and the problem, and the raw values as SQLite stored them.
-- resolution stays NULL until an operator retries or accepts the row.
CREATE TABLE trades_quarantine (
  source_id     BIGINT      PRIMARY KEY,
  reason        TEXT        NOT NULL,
  raw           JSONB       NOT NULL,
  first_seen_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  last_seen_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
  resolution    TEXT        DEFAULT NULL,
  resolution_reason TEXT    DEFAULT NULL,
  resolved_at   TIMESTAMPTZ DEFAULT NULL,
  CONSTRAINT trades_quarantine_resolution_check
    CHECK (resolution IS NULL OR resolution IN ('retried', 'accepted'))
);

-- Progress of a backfill, committed in the same transaction as each batch:
-- a new run continues after last_id, so a kill loses nothing and repeats
-- nothing. One row per source store (its store_id).
CREATE TABLE backfill_checkpoints (
  source_store_id  TEXT        PRIMARY KEY,
  source_path      TEXT        NOT NULL,
  last_id          BIGINT      NOT NULL,
  high_water_id    BIGINT      NOT NULL,
  rows_copied      BIGINT      NOT NULL DEFAULT 0,
  rows_quarantined BIGINT      NOT NULL DEFAULT 0,
  rows_skipped     BIGINT      NOT NULL DEFAULT 0,
  started_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
  completed_at     TIMESTAMPTZ DEFAULT NULL
);
