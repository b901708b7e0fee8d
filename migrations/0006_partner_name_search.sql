-- Typo tolerance applies to names only: a domain or category shares too many trigrams with
-- every other (".example", ".com") to be matched loosely; those match by substring.
ALTER TABLE partners ADD COLUMN name_text text NOT NULL DEFAULT '';

CREATE OR REPLACE FUNCTION partners_search_text() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_text := lower(NEW.display_name || ' ' || NEW.legal_name || ' ' ||
                             coalesce(NEW.domain, '') || ' ' || array_to_string(NEW.categories, ' '));
    NEW.name_text := lower(NEW.display_name || ' ' || NEW.legal_name);
    RETURN NEW;
END;
$$;
UPDATE partners SET name_text = lower(display_name || ' ' || legal_name);

CREATE INDEX partners_name_trgm_idx ON partners USING gin (name_text gin_trgm_ops)
    WHERE deleted_at IS NULL;
