-- Partners pane: typo-tolerant server-side filter and a maintained deal count for sorting.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

ALTER TABLE partners
    ADD COLUMN search_text text NOT NULL DEFAULT '',
    ADD COLUMN deal_count integer NOT NULL DEFAULT 0 CHECK (deal_count >= 0);

CREATE FUNCTION partners_search_text() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_text := lower(NEW.display_name || ' ' || NEW.legal_name || ' ' ||
                             coalesce(NEW.domain, '') || ' ' || array_to_string(NEW.categories, ' '));
    RETURN NEW;
END;
$$;
CREATE TRIGGER partners_search_text
    BEFORE INSERT OR UPDATE OF display_name, legal_name, domain, categories ON partners
    FOR EACH ROW EXECUTE FUNCTION partners_search_text();
UPDATE partners SET display_name = display_name;

CREATE INDEX partners_search_trgm_idx ON partners USING gin (search_text gin_trgm_ops)
    WHERE deleted_at IS NULL;
CREATE INDEX partners_domain_sort_idx ON partners (coalesce(domain, ''), id) WHERE deleted_at IS NULL;
CREATE INDEX partners_deal_count_idx ON partners (deal_count, id) WHERE deleted_at IS NULL;
CREATE INDEX partners_vetted_at_idx ON partners (coalesce(vetted_at, '-infinity'::timestamptz), id)
    WHERE deleted_at IS NULL;

-- deal_count follows the deals table, per statement (so COPY of a million deals is cheap).
CREATE FUNCTION deals_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE partners p SET deal_count = p.deal_count + n.c
      FROM (SELECT partner_id, count(*) AS c FROM new_rows GROUP BY partner_id) n
     WHERE p.id = n.partner_id;
    RETURN NULL;
END;
$$;
CREATE FUNCTION deals_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE partners p SET deal_count = p.deal_count - o.c
      FROM (SELECT partner_id, count(*) AS c FROM old_rows GROUP BY partner_id) o
     WHERE p.id = o.partner_id;
    RETURN NULL;
END;
$$;
-- A deal moves to another partner only while a draft: a row trigger that fires only then.
CREATE FUNCTION deals_count_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE partners SET deal_count = deal_count - 1 WHERE id = OLD.partner_id;
    UPDATE partners SET deal_count = deal_count + 1 WHERE id = NEW.partner_id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER deals_count_insert AFTER INSERT ON deals
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION deals_count_insert();
CREATE TRIGGER deals_count_delete AFTER DELETE ON deals
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION deals_count_delete();
CREATE TRIGGER deals_count_move AFTER UPDATE OF partner_id ON deals
    FOR EACH ROW WHEN (OLD.partner_id IS DISTINCT FROM NEW.partner_id)
    EXECUTE FUNCTION deals_count_move();
UPDATE partners p SET deal_count = (SELECT count(*) FROM deals d WHERE d.partner_id = p.id);
