-- Every amount has a maximum (issue 21; `domain::money::AMOUNT_MAX_MINOR`, 900,000,000 minor
-- units: a million lines of a statement and ten thousand statements of a batch at that
-- maximum still fit a bigint), kept by the database too, so that a row written by plain SQL
-- cannot make `settle compute` overflow. NOT VALID: enforced on every row written from now
-- on without scanning (or refusing) what is already there; a partner's tally is a statement
-- total (`TOTAL_MAX_MINOR`, 10^6 × the maximum).
ALTER TABLE redemptions ADD CONSTRAINT redemptions_value_max
    CHECK (value_minor <= 900000000) NOT VALID;
ALTER TABLE agreements ADD CONSTRAINT agreements_amount_max
    CHECK (amount_minor <= 900000000) NOT VALID;
ALTER TABLE plans ADD CONSTRAINT plans_price_max
    CHECK (price_minor <= 900000000) NOT VALID;
ALTER TABLE commission_rules ADD CONSTRAINT commission_rules_amount_max
    CHECK (amount_minor <= 900000000) NOT VALID;
ALTER TABLE settlements ADD CONSTRAINT settlements_tally_max
    CHECK (tally_amount_minor BETWEEN -900000000000000 AND 900000000000000) NOT VALID;
