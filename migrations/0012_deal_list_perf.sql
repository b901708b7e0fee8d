-- The Deals pane at a million deals (issue 4; measured by benches/deals.rs).
--
-- A state filter with any sort but "created": with only the sort indexes of 0007 the planner
-- walks the sort order and drops the other states' rows, assuming they are spread evenly. They
-- are not: drafts start later and expired deals ended earlier (valid_until), and drafts have
-- no redemptions (the used count), so one page of drafts read up to 640,000 rows (3 s).
-- Created is served by deals_state_idx (state, id), the state sort has one state.
-- IF NOT EXISTS: on a big database they may be built beforehand with CREATE INDEX CONCURRENTLY
-- (same names and definitions), so that upgrading does not hold writes for the build.
CREATE INDEX IF NOT EXISTS deals_state_title_sort_idx ON deals (state, lower(title), id);
CREATE INDEX IF NOT EXISTS deals_state_valid_until_sort_idx ON deals (state, valid_until, id);
CREATE INDEX IF NOT EXISTS deals_state_used_sort_idx ON deals (state, redemption_count, id);

-- The text filter also matches the partner's display name: deals.list looks the partners up
-- by this index and the deals by partner_id, next to the title and coupon-code trigram
-- indexes of 0007 (not partners_name_trgm_idx: that one has the legal name too and leaves out
-- offboarded partners, whose deals the list still shows).
CREATE INDEX IF NOT EXISTS partners_display_name_trgm_idx
    ON partners USING gin (lower(display_name) gin_trgm_ops);

-- The planner estimates LIKE on lower(title) and lower(coupon_code) from the statistics of
-- these index expressions, which exist only once the table is analyzed after 0007 (a database
-- seeded before 0007 had none: every text filter then read the deals in id order, up to the
-- whole table for a rare word).
ANALYZE deals, partners;
