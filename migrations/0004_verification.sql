-- 0004: what the consistency verifier records and reads.

-- Each verify run, so the phase gates can ask "was the latest run clean,
-- did it cover every row, and how old is it" without running one.
CREATE TABLE verification_runs (
  id                  BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  source_store_id     TEXT        NOT NULL,
  mode                TEXT        NOT NULL,
  started_at          TIMESTAMPTZ NOT NULL,
  finished_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
  covers_all_rows     BOOLEAN     NOT NULL,
  id_from             BIGINT      DEFAULT NULL,
  id_to               BIGINT      DEFAULT NULL,
  changed_since       TIMESTAMPTZ DEFAULT NULL,
  rows_sqlite         BIGINT      NOT NULL,
  rows_postgres       BIGINT      NOT NULL,
  missing_in_postgres BIGINT      NOT NULL,
  missing_in_sqlite   BIGINT      NOT NULL,
  mismatched          BIGINT      NOT NULL,
  quarantined         BIGINT      NOT NULL,
  clean               BOOLEAN     NOT NULL,
  repaired            BIGINT      NOT NULL DEFAULT 0,
  summary             JSONB       NOT NULL,
  CONSTRAINT verification_runs_mode_check
    CHECK (mode IN ('full', 'ids', 'since', 'incremental'))
);
CREATE INDEX idx_verification_runs_store
  ON verification_runs (source_store_id, finished_at DESC);

-- Rows changed since a time: incremental verify reads through it.
CREATE INDEX idx_trades_updated_at ON trades (updated_at);
