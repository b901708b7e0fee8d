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

-- The planner estimates the text filter (LIKE '%…%' on lower(title), lower(coupon_code) and
-- lower(display_name)) by trying the pattern on the histogram of these index expressions.
-- With the default 100 entries a word in 2% of the titles shows up in none or in a few of
-- them, so the estimate swung between 100 and 20,000 deals, and the plan between reading deals
-- in sort order (seconds when the text is rare) and collecting every match (seconds when it
-- is common). 1,000 entries put those estimates within a few percent. The statistics exist
-- only once the table is analyzed after the index is made (a database upgraded to 0007 had
-- none until autovacuum got to it), hence the ANALYZE.
ALTER INDEX deals_title_sort_idx ALTER COLUMN 1 SET STATISTICS 1000;
ALTER INDEX deals_title_trgm_idx ALTER COLUMN 1 SET STATISTICS 1000;
ALTER INDEX deals_state_title_sort_idx ALTER COLUMN 2 SET STATISTICS 1000;
ALTER INDEX deals_code_trgm_idx ALTER COLUMN 1 SET STATISTICS 1000;
ALTER INDEX partners_display_name_trgm_idx ALTER COLUMN 1 SET STATISTICS 1000;
ANALYZE deals, partners;
