-- 0005: the migration phase, where every service and operator reads it.
-- One row (the current phase, with a version that grows by one per change)
-- and the history of every change: who, when, why, forced or not, and the
-- gate report that allowed it. The phase is mirrored into the SQLite file so
-- a service restarted during a Postgres outage still knows it.
CREATE TABLE migration_phase (
  singleton  BOOLEAN     PRIMARY KEY DEFAULT true,
  phase      TEXT        NOT NULL,
  version    BIGINT      NOT NULL,
  changed_by TEXT        NOT NULL,
  changed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  reason     TEXT        NOT NULL,
  CONSTRAINT migration_phase_singleton_check CHECK (singleton),
  CONSTRAINT migration_phase_phase_check CHECK (phase IN ('sqlite_only',
    'dual_write', 'read_postgres', 'postgres_only', 'archived'))
);
INSERT INTO migration_phase (phase, version, changed_by, reason)
  VALUES ('sqlite_only', 1, 'schema migration 0005', 'initial phase');

CREATE TABLE migration_phase_history (
  version    BIGINT      PRIMARY KEY,
  from_phase TEXT        DEFAULT NULL,
  to_phase   TEXT        NOT NULL,
  changed_by TEXT        NOT NULL,
  changed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  reason     TEXT        NOT NULL,
  forced     BOOLEAN     NOT NULL DEFAULT false,
  gates      JSONB       NOT NULL DEFAULT '[]'
);
INSERT INTO migration_phase_history (version, to_phase, changed_by, reason)
  VALUES (1, 'sqlite_only', 'schema migration 0005', 'initial phase');
