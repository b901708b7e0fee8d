-- Redemption flags (SPEC §1.5): support flags a redemption as fraud or dispute with a note;
-- a flagged redemption is excluded from settlement until it is unflagged (resolved). The four
-- columns are all set (flagged) or all null (not flagged); resolving clears them, and the audit
-- log keeps the history (who flagged, why, who resolved it and why).
ALTER TABLE redemptions
    ADD COLUMN flag_kind  text CHECK (flag_kind IN ('fraud', 'dispute')),
    ADD COLUMN flag_note  text CHECK (length(flag_note) BETWEEN 1 AND 1000),
    ADD COLUMN flagged_by text REFERENCES operators (login),
    ADD COLUMN flagged_at timestamptz,
    ADD CONSTRAINT redemptions_flag_complete CHECK (
        (flag_kind IS NULL) = (flag_note IS NULL)
        AND (flag_kind IS NULL) = (flagged_by IS NULL)
        AND (flag_kind IS NULL) = (flagged_at IS NULL)
    );

-- The flagged rows: few, looked at often (the support queue, "flagged" marks in lists).
CREATE INDEX redemptions_flagged_idx ON redemptions (flagged_at DESC, id DESC)
    WHERE flag_kind IS NOT NULL;
