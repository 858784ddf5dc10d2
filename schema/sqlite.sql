-- The full SQLite schema tradestore creates in a new file. A legacy file is
-- upgraded in place to the same columns (see sqlite_trade_store.cc); its
-- existing rows are never rewritten.
--
-- Decimals are TEXT so that they are stored exactly ("1.50000000"), never as
-- REAL. Times are ISO 8601 UTC text with microseconds.
CREATE TABLE trades (
  id              INTEGER PRIMARY KEY,
  symbol          TEXT    NOT NULL,
  side            TEXT    NOT NULL,
  quantity        TEXT    NOT NULL,
  price           TEXT    NOT NULL,
  timestamp       TEXT    NOT NULL,
  status          TEXT    NOT NULL,
  client_order_id TEXT,
  fee             TEXT,
  version         INTEGER NOT NULL DEFAULT 1,
  created_at      TEXT,
  updated_at      TEXT
);
CREATE INDEX IF NOT EXISTS idx_trades_symbol ON trades(symbol);
CREATE UNIQUE INDEX IF NOT EXISTS idx_trades_client_order_id
  ON trades(client_order_id) WHERE client_order_id IS NOT NULL;
-- What changed since a time (incremental verify); legacy rows have no
-- updated_at and never change, so the index leaves them out.
CREATE INDEX IF NOT EXISTS idx_trades_updated_at
  ON trades(updated_at) WHERE updated_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS tradestore_meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
-- The dual-write outbox: each write of the dual-write phases adds an entry in
-- the trade's own transaction; the relay applies the trade's current row to
-- Postgres (version-guarded, so replays are harmless) and then deletes the
-- entries it applied. A seq is never reused, so "applied through seq N"
-- stays true: the insert gives max(seq, the last acked seq) + 1, the ack
-- records its seq in tradestore_meta ('relay_acked_seq'). Not AUTOINCREMENT,
-- whose sqlite_sequence write costs each commit a page; files made with it
-- keep it.
CREATE TABLE IF NOT EXISTS tradestore_outbox (
  seq         INTEGER PRIMARY KEY,
  trade_id    INTEGER NOT NULL,
  version     INTEGER NOT NULL,
  enqueued_at TEXT    NOT NULL
);
