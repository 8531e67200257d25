-- 000014 (reports): failed_seq, the done_seq of the period's aggregation window when a row's last attempt
-- failed. A report's retries are counted against the data it was made from: once late data re-aggregates the
-- window (done_seq moves past failed_seq) the period is due again with its retries afresh, whatever the old
-- error, while a report that keeps failing on the same data stops after its retries. NULL: no failure recorded
-- since this column came, or no window (the test report); such a row is due again once.
ALTER TABLE reports ADD COLUMN failed_seq bigint;
