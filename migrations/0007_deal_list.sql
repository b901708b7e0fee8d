-- The Deals pane: keyset pages in each sort order, filtered by state and partner, and a
-- substring filter on titles and coupon codes.
CREATE INDEX deals_title_sort_idx ON deals (lower(title), id);
CREATE INDEX deals_valid_until_sort_idx ON deals (valid_until, id);
CREATE INDEX deals_used_sort_idx ON deals (redemption_count, id);
CREATE INDEX deals_title_trgm_idx ON deals USING gin (lower(title) gin_trgm_ops);
CREATE INDEX deals_code_trgm_idx ON deals USING gin (lower(coupon_code) gin_trgm_ops);
