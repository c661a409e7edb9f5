-- Replaying a delivery: its stored body is decided again and makes a new set of jobs. The delivery
-- remembers when it was last replayed, and it settles on the jobs made since then (the earlier set
-- stays as history and no longer decides whether the delivery failed).

ALTER TABLE webhook_deliveries ADD COLUMN replayed_at timestamptz;
