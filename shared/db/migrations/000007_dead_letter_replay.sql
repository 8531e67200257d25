-- Dead letters can be replayed (POST /dead-letters/replay): each attempt is counted, the last one's outcome
-- kept, and a letter whose event made it into raw_events (stored, or already there) is marked replayed, so
-- it is never replayed twice. The reason index serves GET /dead-letters?reason= newest first.
ALTER TABLE dead_letters
  ADD COLUMN replay_attempts integer     NOT NULL DEFAULT 0,
  ADD COLUMN replayed_at     timestamptz,
  ADD COLUMN replay_outcome  text        CHECK (replay_outcome IN ('stored', 'duplicate', 'rejected')),
  ADD COLUMN replay_error    text;
CREATE INDEX dead_letters_reason_id_idx ON dead_letters (reason_code, id DESC);
