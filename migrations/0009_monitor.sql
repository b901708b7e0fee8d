-- The support monitor: partners' own tallies of confirmed conversions for link deals, and an
-- index for looking at recent redemptions across members (burst signal).
CREATE TABLE deal_conversions (
    deal_id    bigint PRIMARY KEY REFERENCES deals (id) ON DELETE CASCADE,
    confirmed  integer NOT NULL CHECK (confirmed >= 0),
    entered_by text NOT NULL,
    entered_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX redemptions_time_idx ON redemptions (redeemed_at);
