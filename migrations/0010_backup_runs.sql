-- 0010: the backups and the restore drills of this database, recorded by
-- `tradestore backup` and `tradestore restore --drill --record`, so that
-- `tradestore status` can say how old the last good backup and the last
-- drill are. A role that only backs up needs INSERT on this table alone.
CREATE TABLE backup_runs (
  id           BIGSERIAL   PRIMARY KEY,
  kind         TEXT        NOT NULL CHECK (kind IN ('logical', 'drill')),
  name         TEXT        NOT NULL,
  destination  TEXT        NOT NULL,
  ok           BOOLEAN     NOT NULL,
  size_bytes   BIGINT      DEFAULT NULL,
  trades_rows  BIGINT      DEFAULT NULL,
  rto_seconds  DOUBLE PRECISION DEFAULT NULL,
  detail       TEXT        NOT NULL DEFAULT '',
  finished_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX backup_runs_kind_finished_idx ON backup_runs (kind, finished_at);
