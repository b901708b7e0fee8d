-- SPEC §1.5: a cap of 1 means one redemption per member (the unique index enforces it), not
-- one in total; a cap of N > 1 is the first N in total.
ALTER TABLE deals DROP CONSTRAINT deals_check5;
ALTER TABLE deals ADD CONSTRAINT deals_cap_holds
    CHECK (redemption_cap IS NULL OR redemption_cap = 1 OR redemption_count <= redemption_cap);
