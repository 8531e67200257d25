-- 000006 (reports): what generate-report needs on the reports table of 000001, and one row per delivery.
--
-- A reports row is one (report_type, period_start, format). location/size_bytes/sha256 describe the object
-- that is served; they are set only once that object is wholly written, so a row never points at half a
-- report. status: generating (a run holds the row: locked_by/locked_at, a lease), stored (an object is
-- served), failed (no object, the last attempt failed). A failed regeneration of a stored report keeps it
-- stored, with the error and retry state beside it. source_seq is the done_seq of the aggregation window
-- the stored report was built from: when late data re-aggregates the window, the report is due again.
ALTER TABLE reports
  ADD COLUMN period_label text,
  ADD COLUMN time_zone    text        NOT NULL DEFAULT 'UTC',
  ADD COLUMN content_type text,
  ADD COLUMN source_seq   bigint,
  ADD COLUMN render_ms    integer,
  ADD COLUMN stored_at    timestamptz,
  ADD COLUMN attempts     integer     NOT NULL DEFAULT 0,
  ADD COLUMN retry_at     timestamptz,
  ADD COLUMN error_code   text,
  ADD COLUMN error        text,
  ADD COLUMN locked_by    text,
  ADD COLUMN locked_at    timestamptz,
  ADD COLUMN run_id       bigint,
  ADD COLUMN updated_at   timestamptz NOT NULL DEFAULT now();

CREATE INDEX reports_created_idx ON reports (created_at DESC, id DESC);
CREATE INDEX reports_retry_idx ON reports (retry_at) WHERE error_code IS NOT NULL;

-- One row per (report, recipient, attempt series): sent, or failed with the SMTP answer and when to retry.
-- report_ids are the reports rows (formats) the message carries; a failed delivery never touches them.
CREATE TABLE report_deliveries (
  id            bigserial   PRIMARY KEY,
  report_ids    bigint[]    NOT NULL,
  report_type   text        NOT NULL,
  period_start  timestamptz NOT NULL,
  channel       text        NOT NULL CHECK (channel IN ('email')),
  recipient     text        NOT NULL,
  status        text        NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
  mode          text        CHECK (mode IN ('attached', 'linked')),
  subject       text        NOT NULL,
  body          text        NOT NULL,
  attempts      integer     NOT NULL DEFAULT 0,
  retry_at      timestamptz,
  response      text,
  error_code    text,
  message_id    text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  sent_at       timestamptz
);
CREATE INDEX report_deliveries_due_idx ON report_deliveries (retry_at) WHERE status <> 'sent';
CREATE INDEX report_deliveries_report_idx ON report_deliveries USING gin (report_ids);
