-- Issue 21, continued: what a person's own login writes is what really happened, by whom.
--
-- 1. Every function of the schema resolves names in pg_catalog, then public, then (last) the
--    session's temporary schema: a temporary table named like one of ours (status_moves,
--    outbox_entities, audit_log, …) can no longer stand in for it inside a trigger or a
--    SECURITY DEFINER function.
-- 2. An event needs the change it announces, made by the same transaction: the triggers below
--    log every real change of an entity's tables (an insert, a delete, an update that changes
--    something other than a counter) in a temporary table only the owner writes, emptied at
--    every commit; record_changes() refuses an event without its logged change, and an event
--    type that names a move (`settlement.paid`, `deal.activated`, …) or a creation
--    (`partner.created`, …) needs exactly that (outbox_event_needs). A no-op UPDATE is no
--    longer a change.
-- 3. Who did it: every `*_by` column (and an offer's or a message's author, a signature's
--    operator, a ledger entry's login) holds, on a person's own login, that login or one of the
--    documented system actors (`system`, `platform`), whenever a statement writes it.
-- 4. A delivered benefit records when and by whom (issue 22): set by the database when the
--    benefit moves to delivered, never by the statement.
--
-- Refusals use SQLSTATE PDR01, as in 0024.

-- 1. Search paths ---------------------------------------------------------------------------------

DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
              WHERE p.pronamespace = 'public'::regnamespace
                AND NOT EXISTS (SELECT FROM pg_depend d
                                 WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                                   AND d.deptype = 'e') LOOP
        EXECUTE format('ALTER FUNCTION %s SET search_path = pg_catalog, public, pg_temp', f);
    END LOOP;
END
$$;

-- 2. The change log -------------------------------------------------------------------------------

-- This session's change log, created on first use as the owner's temporary table (rows vanish
-- at commit or with a rolled-back savepoint). A temporary table of that name that is not the
-- owner's is refused: it could hold made-up changes.
CREATE FUNCTION pd_change_log() RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    t regclass := to_regclass('pg_temp.pd_changes');
BEGIN
    IF t IS NULL THEN
        CREATE TEMPORARY TABLE pd_changes (
            entity_type  text   NOT NULL,
            entity_id    bigint NOT NULL,
            table_name   name   NOT NULL,
            op           text   NOT NULL,
            state_before text,
            state_after  text
        ) ON COMMIT DELETE ROWS;
    ELSIF (SELECT relowner FROM pg_class WHERE oid = t)
          <> (SELECT relowner FROM pg_class WHERE oid = 'public.audit_log'::regclass) THEN
        RAISE EXCEPTION 'outbox: the temporary table pd_changes is not the schema owner''s; drop it (the database keeps this transaction''s changes there)'
            USING ERRCODE = 'PDR01';
    END IF;
END
$$;
REVOKE ALL ON FUNCTION pd_change_log() FROM PUBLIC;

-- AFTER INSERT or DELETE, per statement: log the rows (TG_ARGV: entity type, id column, state
-- column or '').
CREATE FUNCTION pd_log_rows() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    state text := CASE WHEN TG_ARGV[2] = '' THEN 'NULL::text' ELSE format('%I::text', TG_ARGV[2]) END;
BEGIN
    IF pd_owner_session() THEN
        RETURN NULL;
    END IF;
    PERFORM pd_change_log();
    IF TG_OP = 'INSERT' THEN
        EXECUTE format('INSERT INTO pg_temp.pd_changes SELECT %L, %I, %L, ''insert'', NULL, %s FROM pd_rows',
                       TG_ARGV[0], TG_ARGV[1], TG_TABLE_NAME, state);
    ELSE
        EXECUTE format('INSERT INTO pg_temp.pd_changes SELECT %L, %I, %L, ''delete'', %s, NULL FROM pd_rows',
                       TG_ARGV[0], TG_ARGV[1], TG_TABLE_NAME, state);
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION pd_log_rows() FROM PUBLIC;

-- AFTER UPDATE of what is not a counter, per row, when the row really changed.
CREATE FUNCTION pd_log_update() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF pd_owner_session() THEN
        RETURN NULL;
    END IF;
    PERFORM pd_change_log();
    INSERT INTO pg_temp.pd_changes
    VALUES (TG_ARGV[0], (to_jsonb(NEW) ->> TG_ARGV[1])::bigint, TG_TABLE_NAME, 'update',
            CASE WHEN TG_ARGV[2] <> '' THEN to_jsonb(OLD) ->> TG_ARGV[2] END,
            CASE WHEN TG_ARGV[2] <> '' THEN to_jsonb(NEW) ->> TG_ARGV[2] END);
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION pd_log_update() FROM PUBLIC;

-- The change-log triggers of one of outbox_entities' tables. `counters` are columns that the
-- database's own triggers keep (a deal's redemption count): writing them alone is no change
-- of the entity, and the redemption path gets no trigger. A migration that adds a column to
-- such a table runs this again, so that the column counts as a change.
CREATE FUNCTION pd_track_changes(tbl name, state_column name, counters name[]) RETURNS void
    LANGUAGE plpgsql AS $$
DECLARE
    e record;
    cols text;
BEGIN
    SELECT * INTO e FROM outbox_entities WHERE table_name = tbl;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'pd_track_changes: % is not one of outbox_entities'' tables', tbl;
    END IF;
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols FROM pg_attribute
     WHERE attrelid = ('public.' || quote_ident(tbl))::regclass AND attnum > 0 AND NOT attisdropped
       AND attname <> ALL (coalesce(counters, '{}'));
    EXECUTE format('DROP TRIGGER IF EXISTS pd_log_insert ON %I', tbl);
    EXECUTE format('DROP TRIGGER IF EXISTS pd_log_delete ON %I', tbl);
    EXECUTE format('DROP TRIGGER IF EXISTS pd_log_update ON %I', tbl);
    EXECUTE format('CREATE TRIGGER pd_log_insert AFTER INSERT ON %I REFERENCING NEW TABLE AS pd_rows
                    FOR EACH STATEMENT EXECUTE FUNCTION pd_log_rows(%L, %L, %L)',
                   tbl, e.entity_type, e.id_column, coalesce(state_column, ''));
    EXECUTE format('CREATE TRIGGER pd_log_delete AFTER DELETE ON %I REFERENCING OLD TABLE AS pd_rows
                    FOR EACH STATEMENT EXECUTE FUNCTION pd_log_rows(%L, %L, %L)',
                   tbl, e.entity_type, e.id_column, coalesce(state_column, ''));
    EXECUTE format('CREATE TRIGGER pd_log_update AFTER UPDATE OF %s ON %I FOR EACH ROW
                    WHEN (OLD.* IS DISTINCT FROM NEW.*)
                    EXECUTE FUNCTION pd_log_update(%L, %L, %L)',
                   cols, tbl, e.entity_type, e.id_column, coalesce(state_column, ''));
END
$$;
REVOKE ALL ON FUNCTION pd_track_changes(name, name, name[]) FROM PUBLIC;

SELECT pd_track_changes('partners', 'verification', ARRAY['deal_count']);
SELECT pd_track_changes('deals', 'state', ARRAY['redemption_count']);
SELECT pd_track_changes('negotiation_threads', 'status', NULL);
SELECT pd_track_changes('negotiation_messages', NULL, NULL);
SELECT pd_track_changes('negotiation_offers', NULL, NULL);
SELECT pd_track_changes('agreements', NULL, NULL);
SELECT pd_track_changes('contracts', 'status', NULL);
SELECT pd_track_changes('contract_signatures', NULL, NULL);
SELECT pd_track_changes('contract_benefits', 'status', NULL);
SELECT pd_track_changes('settlements', 'status', NULL);
SELECT pd_track_changes('plans', NULL, NULL);
SELECT pd_track_changes('referral_codes', NULL, NULL);
SELECT pd_track_changes('claim_tokens', NULL, NULL);
SELECT pd_track_changes('referral_accounts', NULL, NULL);
SELECT pd_track_changes('commission_rules', NULL, NULL);
SELECT pd_track_changes('referral_payouts', NULL, NULL);

-- What an event type announces, when it is more than "its entity changed": the creation of a
-- row of `table_name` (op 'insert'), or the move of its state to `state` (an insert in that
-- state counts). An event type without a row here needs any logged change of its entity.
CREATE TABLE outbox_event_needs (
    event_type text PRIMARY KEY,
    table_name name NOT NULL,
    op         text NOT NULL CHECK (op IN ('insert', 'move')),
    state      text,
    CHECK ((op = 'move') = (state IS NOT NULL))
);
INSERT INTO outbox_event_needs (event_type, table_name, op, state) VALUES
    ('partner.created', 'partners', 'insert', NULL),
    ('partner.verified', 'partners', 'move', 'verified'),
    ('partner.disabled', 'partners', 'move', 'disabled'),
    ('partner.revet_requested', 'partners', 'move', 'pending'),
    ('deal.created', 'deals', 'insert', NULL),
    ('deal.activated', 'deals', 'move', 'active'),
    ('deal.paused', 'deals', 'move', 'paused'),
    ('deal.expired', 'deals', 'move', 'expired'),
    ('deal.drafted', 'deals', 'move', 'draft'),
    ('negotiation.opened', 'negotiation_threads', 'insert', NULL),
    ('negotiation.message_posted', 'negotiation_messages', 'insert', NULL),
    ('negotiation.offered', 'negotiation_offers', 'insert', NULL),
    ('negotiation.accepted', 'negotiation_threads', 'move', 'accepted'),
    ('negotiation.rejected', 'negotiation_threads', 'move', 'rejected'),
    ('negotiation.withdrawn', 'negotiation_threads', 'move', 'withdrawn'),
    ('negotiation.expired', 'negotiation_threads', 'move', 'expired'),
    ('agreement.added', 'agreements', 'insert', NULL),
    ('agreement.created', 'agreements', 'insert', NULL),
    ('contract.created', 'contracts', 'insert', NULL),
    ('contract.signed', 'contract_signatures', 'insert', NULL),
    ('settlement.in_review', 'settlements', 'move', 'in_review'),
    ('settlement.approved', 'settlements', 'move', 'approved'),
    ('settlement.disputed', 'settlements', 'move', 'disputed'),
    ('settlement.paid', 'settlements', 'move', 'paid'),
    ('plan.added', 'plans', 'insert', NULL),
    ('referral_code.added', 'referral_codes', 'insert', NULL),
    ('claim_token.issued', 'claim_tokens', 'insert', NULL),
    ('payout.created', 'referral_payouts', 'insert', NULL);

-- Does this transaction's change log hold what `event_type` about (entity_type, id) announces?
CREATE FUNCTION pd_event_backed(event_type text, entity_type text, id bigint) RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    need outbox_event_needs%ROWTYPE;
    found_ boolean;
BEGIN
    IF to_regclass('pg_temp.pd_changes') IS NULL THEN
        RETURN false;
    END IF;
    SELECT * INTO need FROM outbox_event_needs n WHERE n.event_type = pd_event_backed.event_type;
    IF NOT FOUND THEN
        EXECUTE 'SELECT EXISTS (SELECT FROM pg_temp.pd_changes c WHERE c.entity_type = $1 AND c.entity_id = $2)'
            INTO found_ USING entity_type, id;
    ELSIF need.op = 'insert' THEN
        EXECUTE 'SELECT EXISTS (SELECT FROM pg_temp.pd_changes c WHERE c.entity_type = $1 AND c.entity_id = $2
                                   AND c.table_name = $3 AND c.op = ''insert'')'
            INTO found_ USING entity_type, id, need.table_name;
    ELSE
        EXECUTE 'SELECT EXISTS (SELECT FROM pg_temp.pd_changes c WHERE c.entity_type = $1 AND c.entity_id = $2
                                   AND c.table_name = $3 AND c.state_after = $4
                                   AND (c.op = ''insert'' OR c.state_before IS DISTINCT FROM c.state_after))'
            INTO found_ USING entity_type, id, need.table_name, need.state;
    END IF;
    RETURN found_;
END
$$;
REVOKE ALL ON FUNCTION pd_event_backed(text, text, bigint) FROM PUBLIC;

-- The one writer of audit rows and events, as in 0024, with the event checked against the
-- change log instead of the rows' xmin (which a no-op UPDATE also sets).
CREATE OR REPLACE FUNCTION record_changes(
    actors text[], actions text[], entity_types text[], entity_ids text[],
    befores jsonb[], afters jsonb[], reasons text[],
    event_types text[], event_entity_types text[], event_entity_ids text[], payloads jsonb[])
    RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $fn$
DECLARE
    who  text := session_user;
    bad  text;
    ev   record;
    need outbox_event_needs%ROWTYPE;
BEGIN
    IF NOT pd_owner_session() THEN
        SELECT a INTO bad FROM unnest(actors) a
         WHERE a IS DISTINCT FROM who AND a NOT IN ('system', 'platform') LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'audit: database login % writes changes as itself (or as system or platform), not as %', who, coalesce(bad, 'no one')
                USING ERRCODE = 'PDR01';
        END IF;
        -- Every event comes with its audit row.
        SELECT e.t || ' ' || e.i INTO bad
          FROM unnest(event_entity_types, event_entity_ids) AS e(t, i)
         WHERE NOT EXISTS (SELECT FROM unnest(entity_types, entity_ids) AS a(t, i)
                            WHERE a.t = e.t AND a.i = e.i)
         LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'outbox: an event about % needs its audit row in the same call', bad
                USING ERRCODE = 'PDR01';
        END IF;
        FOR ev IN SELECT DISTINCT x.ty, x.t, x.i
                   FROM unnest(event_types, event_entity_types, event_entity_ids) AS x(ty, t, i) LOOP
            IF NOT EXISTS (SELECT FROM outbox_entities WHERE entity_type = ev.t) THEN
                RAISE EXCEPTION 'outbox: events about % are not published', ev.t
                    USING ERRCODE = 'PDR01';
            END IF;
            IF ev.i !~ '^[0-9]{1,18}$' THEN
                RAISE EXCEPTION 'outbox: % % is not an id', ev.t, ev.i USING ERRCODE = 'PDR01';
            END IF;
            IF NOT pd_event_backed(ev.ty, ev.t, ev.i::bigint) THEN
                SELECT * INTO need FROM outbox_event_needs WHERE event_type = ev.ty;
                IF NOT FOUND THEN
                    RAISE EXCEPTION 'outbox: % % was not changed by this transaction; an event is published only with its change', ev.t, ev.i
                        USING ERRCODE = 'PDR01';
                ELSIF need.op = 'insert' THEN
                    RAISE EXCEPTION 'outbox: % needs % % created by this transaction (a row of %)', ev.ty, ev.t, ev.i, need.table_name
                        USING ERRCODE = 'PDR01';
                ELSE
                    RAISE EXCEPTION 'outbox: % needs % % moved to % by this transaction', ev.ty, ev.t, ev.i, need.state
                        USING ERRCODE = 'PDR01';
                END IF;
            END IF;
        END LOOP;
    END IF;
    IF coalesce(cardinality(actors), 0) > 0 THEN
        INSERT INTO audit_log (actor, action, entity_type, entity_id, before, after, reason, db_login)
        SELECT r.actor, r.action, r.entity_type, r.entity_id, r.before, r.after, r.reason, who
          FROM unnest(actors, actions, entity_types, entity_ids, befores, afters, reasons)
               WITH ORDINALITY AS r(actor, action, entity_type, entity_id, before, after, reason, n)
         ORDER BY r.n;
    END IF;
    IF coalesce(cardinality(event_types), 0) > 0 THEN
        INSERT INTO outbox_events (event_type, entity_type, entity_id, payload)
        SELECT e.event_type, e.entity_type, e.entity_id, e.payload
          FROM unnest(event_types, event_entity_types, event_entity_ids, payloads)
               WITH ORDINALITY AS e(event_type, entity_type, entity_id, payload, n)
         ORDER BY e.n;
    END IF;
END
$fn$;

DROP FUNCTION pd_written_here(xid, xid);

-- 3. Who did it -----------------------------------------------------------------------------------

-- May the session's login write `who` into a `*_by` column? Itself, a system actor, or anyone
-- when it is the owner's shared login (whose operator is self-declared).
CREATE FUNCTION pd_may_name(who text) RETURNS boolean
    LANGUAGE sql STABLE SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT who IS NULL OR who = session_user OR who IN ('system', 'platform') OR pd_owner_session()
$$;

-- AFTER INSERT, per statement: every named column of every new row (TG_ARGV: the columns).
CREATE FUNCTION pd_by_login_rows() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    c   text;
    bad text;
BEGIN
    IF pd_owner_session() THEN
        RETURN NULL;
    END IF;
    FOREACH c IN ARRAY TG_ARGV LOOP
        EXECUTE format('SELECT %I::text FROM pd_rows WHERE NOT pd_may_name(%I::text) LIMIT 1', c, c) INTO bad;
        IF bad IS NOT NULL THEN
            RAISE EXCEPTION '%.%: database login % writes as itself (or as system or platform), not as %', TG_TABLE_NAME, c, session_user, bad
                USING ERRCODE = 'PDR01';
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;

-- BEFORE UPDATE of the named columns, per row: a value that changes names the login.
CREATE FUNCTION pd_by_login_row() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    c   text;
    o   jsonb;
    n   jsonb;
BEGIN
    IF pd_owner_session() THEN
        RETURN NEW;
    END IF;
    o := to_jsonb(OLD);
    n := to_jsonb(NEW);
    FOREACH c IN ARRAY TG_ARGV LOOP
        IF n ->> c IS DISTINCT FROM o ->> c AND NOT pd_may_name(n ->> c) THEN
            RAISE EXCEPTION '%.%: database login % writes as itself (or as system or platform), not as %', TG_TABLE_NAME, c, session_user, n ->> c
                USING ERRCODE = 'PDR01';
        END IF;
    END LOOP;
    RETURN NEW;
END
$$;

-- The triggers of one table's `*_by` columns; `on_insert` false where inserts are the
-- redemption path (a redemption's flag is set by an update).
CREATE FUNCTION pd_names_login(tbl name, cols name[], on_insert boolean) RETURNS void
    LANGUAGE plpgsql AS $$
DECLARE
    args text := (SELECT string_agg(quote_literal(c), ', ') FROM unnest(cols) c);
    list text := (SELECT string_agg(quote_ident(c), ', ') FROM unnest(cols) c);
BEGIN
    EXECUTE format('DROP TRIGGER IF EXISTS pd_by_login_insert ON %I', tbl);
    EXECUTE format('DROP TRIGGER IF EXISTS pd_by_login_update ON %I', tbl);
    IF on_insert THEN
        EXECUTE format('CREATE TRIGGER pd_by_login_insert AFTER INSERT ON %I REFERENCING NEW TABLE AS pd_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION pd_by_login_rows(%s)', tbl, args);
    END IF;
    EXECUTE format('CREATE TRIGGER pd_by_login_update BEFORE UPDATE OF %s ON %I
                    FOR EACH ROW EXECUTE FUNCTION pd_by_login_row(%s)', list, tbl, args);
END
$$;
REVOKE ALL ON FUNCTION pd_names_login(name, name[], boolean) FROM PUBLIC;

-- 4. Delivered benefits (issue 22) ----------------------------------------------------------------

ALTER TABLE contract_benefits ADD COLUMN delivered_at timestamptz, ADD COLUMN delivered_by text;
UPDATE contract_benefits SET delivered_at = updated_at, delivered_by = updated_by
 WHERE status = 'delivered';
ALTER TABLE contract_benefits ADD CONSTRAINT contract_benefits_delivered
    CHECK ((status = 'delivered') = (delivered_at IS NOT NULL AND delivered_by IS NOT NULL));

-- When and by whom: the moment of the move and its login (on the owner's shared login, the
-- operator the statement names in updated_by). Never set by a statement.
CREATE FUNCTION contract_benefits_delivered() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.delivered_at := NULL;
        NEW.delivered_by := NULL;
        RETURN NEW;
    END IF;
    IF NEW.status = 'delivered' AND OLD.status IS DISTINCT FROM 'delivered' THEN
        NEW.delivered_at := now();
        NEW.delivered_by := CASE WHEN pd_owner_session() THEN NEW.updated_by ELSE session_user END;
    ELSE
        NEW.delivered_at := OLD.delivered_at;
        NEW.delivered_by := OLD.delivered_by;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER contract_benefits_delivered BEFORE INSERT OR UPDATE ON contract_benefits
    FOR EACH ROW EXECUTE FUNCTION contract_benefits_delivered();

SELECT pd_names_login('agreements', ARRAY['created_by'], true);
SELECT pd_names_login('claim_tokens', ARRAY['created_by', 'revoked_by'], true);
SELECT pd_names_login('commission_rules', ARRAY['updated_by'], true);
SELECT pd_names_login('contract_benefits', ARRAY['updated_by'], true);
SELECT pd_names_login('contract_signatures', ARRAY['operator'], true);
SELECT pd_names_login('contracts', ARRAY['created_by', 'updated_by'], true);
SELECT pd_names_login('deal_conversions', ARRAY['entered_by'], true);
SELECT pd_names_login('deal_coupon_codes', ARRAY['set_by'], true);
SELECT pd_names_login('deals', ARRAY['created_by', 'updated_by'], true);
SELECT pd_names_login('negotiation_messages', ARRAY['author'], true);
SELECT pd_names_login('negotiation_offers', ARRAY['author'], true);
SELECT pd_names_login('negotiation_threads', ARRAY['created_by', 'updated_by'], true);
SELECT pd_names_login('operators', ARRAY['updated_by'], true);
SELECT pd_names_login('partner_checks', ARRAY['checked_by'], true);
SELECT pd_names_login('partners', ARRAY['created_by', 'vetted_by', 'updated_by', 'deleted_by'], true);
SELECT pd_names_login('payout_ledger', ARRAY['by_login'], true);
SELECT pd_names_login('plans', ARRAY['created_by', 'updated_by'], true);
SELECT pd_names_login('redemptions', ARRAY['flagged_by'], false);
SELECT pd_names_login('referral_accounts', ARRAY['attributed_by'], true);
SELECT pd_names_login('referral_codes', ARRAY['created_by', 'disabled_by'], true);
SELECT pd_names_login('referral_payouts', ARRAY['created_by'], true);
SELECT pd_names_login('settlements', ARRAY['updated_by', 'computed_by', 'approved_by', 'tally_by'], true);
SELECT pd_names_login('webhook_endpoints', ARRAY['created_by', 'updated_by'], true);

SELECT app_roles_grant();
