-- 0006: the archives of the SQLite store, written by `tradestore archive`.
-- The move into the archived phase needs a verified archive taken after
-- SQLite stopped being written (postgres_only). content_sha256 is over each
-- trade's immutable columns in id order, so it can be recomputed from
-- Postgres (postgres_content_sha256) even after statuses moved on there.
CREATE TABLE archives (
  id                      BIGSERIAL   PRIMARY KEY,
  source_store_id         TEXT        NOT NULL,
  path                    TEXT        NOT NULL,
  file_sha256             TEXT        NOT NULL,
  row_count               BIGINT      NOT NULL,
  exact_rows              BIGINT      NOT NULL,
  min_id                  BIGINT      DEFAULT NULL,
  max_id                  BIGINT      DEFAULT NULL,
  content_sha256          TEXT        NOT NULL,
  postgres_content_sha256 TEXT        NOT NULL,
  verified                BOOLEAN     NOT NULL,
  created_at              TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX archives_source_store_id_idx ON archives (source_store_id, created_at);
