-- 000015 (aggregate, retention): whether a window's own state was removed by the retention sweep and not
-- rebuilt since. The sweep sets it on every window of a unit it deletes; recomputing the window clears it.
-- A rollup reads the state of the level below, so a rollup window with a source window marked here is not
-- redone (it would silently lose that source's data): the aggregation job refuses it, and a backfill that
-- would re-open it, until the source is rebuilt (its raw days restored with recompute).
ALTER TABLE aggregation_windows ADD COLUMN state_removed boolean NOT NULL DEFAULT false;

-- Units removed before this migration: their windows not recomputed since the removal.
UPDATE aggregation_windows w SET state_removed = true
FROM archives a
WHERE a.kind = 'aggregate' AND a.status IN ('archived', 'deleted')
  AND w.level = split_part(a.unit, '/', 1) AND w.bucket >= a.range_start AND w.bucket < a.range_end
  AND (w.done_seq IS NULL OR w.done_seq < w.changed_seq OR a.removed_at IS NULL OR w.updated_at <= a.removed_at);
