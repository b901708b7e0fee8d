-- The database holds its own rules, whoever connects (issue 21).
--
-- 1. Audit rows and outbox events are written by one function, record_changes(), which runs
--    as the owner: no group may INSERT into audit_log or outbox_events any more. On a person's
--    own login the actor of every row is that login (or the documented system actors `system`
--    and `platform`), the login is recorded beside it in `db_login` (which the caller cannot
--    set), and an event is refused unless its entity's row was written by this transaction.
-- 2. A settlement moves only along the status machine of SPEC §1.7 (the table status_moves,
--    which later moves extend with rows), with each move's fields; its lines and totals are
--    frozen outside draft; its payout-ledger entries must agree with its status at commit.
-- 3. Agreements: version numbering, a start on a period's first day, never under a statement
--    past draft; a settlement is opened only for the version in effect for its period.
-- 4. What only the product's own flow writes (a deal's redemption count, a token's claim) is
--    not granted to a role whose flow does not write it, and a claim is final.
-- 5. One registry of grants (app_grants) that app_roles_grant() loops over: a later feature
--    adds rows, not a copy of the function.
--
-- Every refusal here is raised with SQLSTATE PDR01 ("a partnerdesk rule"), which the program
-- shows as the refusal it is (exit code 3).

-- Helpers -------------------------------------------------------------------------------------

-- Is the session's login the schema owner (or a superuser)? Those are the shared logins whose
-- operator is self-declared and who could write every table directly anyway.
CREATE FUNCTION pd_owner_session() RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT coalesce((SELECT r.rolsuper OR r.rolname = c.relowner::regrole::name
                       FROM pg_roles r, pg_class c
                      WHERE r.rolname = session_user AND c.oid = 'public.audit_log'::regclass),
                    false)
$$;

-- Was a row version whose xmin is `x` written by this transaction (or one of its
-- subtransactions)? A visible row version written by a transaction still in progress can only
-- be this transaction's own: other transactions' uncommitted rows are invisible.
CREATE FUNCTION pd_written_here(x xid, me xid) RETURNS boolean
    LANGUAGE plpgsql STABLE AS $$
DECLARE
    cur  bigint;
    x64 bigint;
BEGIN
    IF x = me THEN
        RETURN true;
    END IF;
    IF x::text::bigint < 3 THEN
        RETURN false;
    END IF;
    cur := pg_current_xact_id()::text::bigint;
    x64 := (cur >> 32 << 32) + x::text::bigint;
    IF x64 > cur THEN
        x64 := x64 - 4294967296;
    END IF;
    RETURN coalesce(pg_xact_status(x64::text::xid8) = 'in progress', false);
END
$$;

-- How many months a settlement period of `frequency` lasts.
CREATE FUNCTION pd_period_months(frequency text) RETURNS int
    LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE frequency WHEN 'monthly' THEN 1 WHEN 'quarterly' THEN 3 ELSE 12 END
$$;

-- The partner's agreement in effect for the period that starts `day`: its latest version
-- from that day or before.
CREATE FUNCTION pd_agreement_in_effect(partner bigint, day date) RETURNS agreements
    LANGUAGE sql STABLE AS $$
    SELECT * FROM agreements WHERE partner_id = partner AND effective_from <= day
     ORDER BY version DESC LIMIT 1
$$;

-- Who wrote each audit row: the session's login, set by record_changes (NULL: written before
-- 0024 recorded it).
ALTER TABLE audit_log ADD COLUMN db_login text;
ALTER TABLE audit_log ALTER COLUMN db_login SET DEFAULT session_user;

-- Where an event's entity lives: an event about (entity_type, id) needs a row of one of these
-- tables whose column equals id, written by the same transaction.
CREATE TABLE outbox_entities (
    entity_type text NOT NULL,
    table_name  name NOT NULL,
    id_column   name NOT NULL,
    PRIMARY KEY (entity_type, table_name, id_column)
);
INSERT INTO outbox_entities (entity_type, table_name, id_column) VALUES
    ('partner', 'partners', 'id'),
    ('deal', 'deals', 'id'),
    ('negotiation', 'negotiation_threads', 'id'),
    ('negotiation', 'negotiation_messages', 'thread_id'),
    ('negotiation', 'negotiation_offers', 'thread_id'),
    ('agreement', 'agreements', 'id'),
    ('contract', 'contracts', 'id'),
    ('contract', 'contract_signatures', 'contract_id'),
    ('contract', 'contract_benefits', 'contract_id'),
    ('settlement', 'settlements', 'id'),
    ('plan', 'plans', 'id'),
    ('referral_code', 'referral_codes', 'id'),
    ('claim_token', 'claim_tokens', 'id'),
    ('referral_account', 'referral_accounts', 'account_id'),
    ('commission_rule', 'commission_rules', 'id'),
    ('referral_payout', 'referral_payouts', 'id');

-- The one writer of audit rows and events (service::record calls it). Audit rows and events
-- are written in the order given, each set in one statement.
CREATE FUNCTION record_changes(
    actors text[], actions text[], entity_types text[], entity_ids text[],
    befores jsonb[], afters jsonb[], reasons text[],
    event_types text[], event_entity_types text[], event_entity_ids text[], payloads jsonb[])
    RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $fn$
DECLARE
    who    text := session_user;
    me     xid;
    bad    text;
    kind   text;
    ids    bigint[];
    found_ text;
    m      record;
    q      text;
    n      bigint;
BEGIN
    IF NOT pd_owner_session() THEN
        SELECT a INTO bad FROM unnest(actors) a
         WHERE a IS DISTINCT FROM who AND a NOT IN ('system', 'platform') LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'audit: database login % writes changes as itself (or as system or platform), not as %', who, coalesce(bad, 'no one')
                USING ERRCODE = 'PDR01';
        END IF;
        IF coalesce(cardinality(event_types), 0) > 0 THEN
            me := pg_current_xact_id()::xid;
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
            FOR kind IN SELECT DISTINCT t FROM unnest(event_entity_types) t LOOP
                IF NOT EXISTS (SELECT FROM outbox_entities WHERE entity_type = kind) THEN
                    RAISE EXCEPTION 'outbox: events about % are not published', kind
                        USING ERRCODE = 'PDR01';
                END IF;
                SELECT e.i INTO bad FROM unnest(event_entity_types, event_entity_ids) AS e(t, i)
                 WHERE e.t = kind AND e.i !~ '^[0-9]{1,18}$' LIMIT 1;
                IF FOUND THEN
                    RAISE EXCEPTION 'outbox: % % is not an id', kind, bad USING ERRCODE = 'PDR01';
                END IF;
                SELECT array_agg(DISTINCT e.i::bigint) INTO ids
                  FROM unnest(event_entity_types, event_entity_ids) AS e(t, i) WHERE e.t = kind;
                q := NULL;
                FOR m IN SELECT * FROM outbox_entities WHERE entity_type = kind LOOP
                    q := coalesce(q || ' UNION ', '') || format(
                        'SELECT %I AS k FROM %I WHERE %I = ANY ($1) AND (xmin = $2 OR pd_written_here(xmin, $2))',
                        m.id_column, m.table_name, m.id_column);
                END LOOP;
                EXECUTE format('SELECT count(DISTINCT k) FROM (%s) w', q) INTO n USING ids, me;
                IF n < cardinality(ids) THEN
                    EXECUTE format('SELECT min(i)::text FROM unnest($1) i WHERE i NOT IN (%s)', q)
                        INTO found_ USING ids, me;
                    RAISE EXCEPTION 'outbox: % % was not changed by this transaction; an event is published only with its change', kind, found_
                        USING ERRCODE = 'PDR01';
                END IF;
            END LOOP;
        END IF;
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
REVOKE ALL ON FUNCTION record_changes(text[], text[], text[], text[], jsonb[], jsonb[], text[],
    text[], text[], text[], jsonb[]) FROM PUBLIC;

-- Status machines ------------------------------------------------------------------------------

-- Every allowed status move, in one place (later features add rows). A status that does not
-- change is no move.
CREATE TABLE status_moves (
    entity      text NOT NULL,
    from_status text NOT NULL,
    to_status   text NOT NULL,
    move        text NOT NULL,
    PRIMARY KEY (entity, from_status, to_status)
);
INSERT INTO status_moves (entity, from_status, to_status, move) VALUES
    ('settlement', 'draft', 'in_review', 'review'),
    ('settlement', 'in_review', 'approved', 'approve'),
    ('settlement', 'in_review', 'disputed', 'dispute'),
    ('settlement', 'approved', 'disputed', 'dispute'),
    ('settlement', 'approved', 'paid', 'pay'),
    ('settlement', 'disputed', 'draft', 'recompute'),
    ('negotiation', 'pending', 'negotiating', 'reply'),
    ('negotiation', 'pending', 'accepted', 'accept'),
    ('negotiation', 'negotiating', 'accepted', 'accept'),
    ('negotiation', 'pending', 'rejected', 'reject'),
    ('negotiation', 'negotiating', 'rejected', 'reject'),
    ('negotiation', 'pending', 'withdrawn', 'withdraw'),
    ('negotiation', 'negotiating', 'withdrawn', 'withdraw'),
    ('negotiation', 'pending', 'expired', 'expire'),
    ('negotiation', 'negotiating', 'expired', 'expire'),
    ('contract', 'draft', 'pending_signature', 'sign'),
    ('contract', 'pending_signature', 'signed', 'sign'),
    ('contract', 'signed', 'completed', 'complete'),
    ('contract', 'signed', 'cancelled', 'cancel'),
    ('contract', 'signed', 'disputed', 'dispute'),
    ('contract', 'draft', 'cancelled', 'cancel'),
    ('contract', 'pending_signature', 'cancelled', 'cancel'),
    ('benefit', 'pending', 'delivered', 'deliver'),
    ('benefit', 'pending', 'missed', 'miss');

-- BEFORE UPDATE OF status: the move must be in status_moves (TG_ARGV[0] names the entity).
CREATE FUNCTION status_move_allowed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    o text := to_jsonb(OLD) ->> 'status';
    n text := to_jsonb(NEW) ->> 'status';
BEGIN
    IF o IS DISTINCT FROM n AND NOT EXISTS (
        SELECT FROM status_moves WHERE entity = TG_ARGV[0] AND from_status = o AND to_status = n
    ) THEN
        RAISE EXCEPTION '% %: % → % is not a move of its status machine%', TG_ARGV[0], OLD.id, o, n,
            coalesce(' (from ' || o || ': ' || (SELECT string_agg(to_status, ', ' ORDER BY to_status)
                FROM status_moves WHERE entity = TG_ARGV[0] AND from_status = o) || ')', ' (' || o || ' is final)')
            USING ERRCODE = 'PDR01';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER settlements_status_move BEFORE UPDATE OF status ON settlements
    FOR EACH ROW EXECUTE FUNCTION status_move_allowed('settlement');
CREATE TRIGGER negotiation_threads_status_move BEFORE UPDATE OF status ON negotiation_threads
    FOR EACH ROW EXECUTE FUNCTION status_move_allowed('negotiation');
CREATE TRIGGER contracts_status_move BEFORE UPDATE OF status ON contracts
    FOR EACH ROW EXECUTE FUNCTION status_move_allowed('contract');
CREATE TRIGGER contract_benefits_status_move BEFORE UPDATE OF status ON contract_benefits
    FOR EACH ROW EXECUTE FUNCTION status_move_allowed('benefit');

-- Settlements ----------------------------------------------------------------------------------

-- A new settlement is an empty draft of the version in effect for one period of its
-- agreement's frequency, in the agreement's partner and currency.
CREATE FUNCTION settlements_opened() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    a agreements%ROWTYPE;
    months int;
BEGIN
    SELECT * INTO a FROM agreements WHERE id = NEW.agreement_id;
    IF NOT FOUND THEN
        RETURN NEW; -- the foreign key refuses it
    END IF;
    IF NEW.status <> 'draft' OR NEW.line_count <> 0 OR NEW.redemption_count <> 0
       OR NEW.exception_count <> 0 OR NEW.commission_minor <> 0 OR NEW.payouts_minor <> 0
       OR NEW.take_minor <> 0 OR NEW.net_minor <> 0 OR NEW.review_deadline IS NOT NULL
       OR NEW.approved_at IS NOT NULL OR NEW.approved_by IS NOT NULL OR NEW.paid_on IS NOT NULL
       OR NEW.payment_reference IS NOT NULL OR NEW.dispute_reason IS NOT NULL THEN
        RAISE EXCEPTION 'settlement: a new settlement is an empty draft; its lines and moves come after'
            USING ERRCODE = 'PDR01';
    END IF;
    IF NEW.partner_id <> a.partner_id OR NEW.currency <> a.currency THEN
        RAISE EXCEPTION 'settlement: agreement % is partner %''s, in %', a.id, a.partner_id, a.currency
            USING ERRCODE = 'PDR01';
    END IF;
    months := pd_period_months(a.frequency);
    IF NEW.period_start <> make_date(extract(year FROM NEW.period_start)::int,
                                     (extract(month FROM NEW.period_start)::int - 1) / months * months + 1, 1)
       OR NEW.period_end <> (NEW.period_start + make_interval(months => months))::date THEN
        RAISE EXCEPTION 'settlement: % to % is not a % period', NEW.period_start, NEW.period_end, a.frequency
            USING ERRCODE = 'PDR01';
    END IF;
    IF (pd_agreement_in_effect(a.partner_id, NEW.period_start)).id IS DISTINCT FROM a.id THEN
        RAISE EXCEPTION 'settlement: agreement % (version %) is not in effect for the period from %', a.id, a.version, NEW.period_start
            USING ERRCODE = 'PDR01';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER settlements_opened BEFORE INSERT ON settlements
    FOR EACH ROW EXECUTE FUNCTION settlements_opened();

-- What each move sets, and what never changes: a statement's identity always; its lines'
-- totals and computation outside a (re)computed draft; each move's own fields outside that
-- move. Entering review checks that the totals are the sums of the lines.
CREATE FUNCTION settlements_frozen() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    recompute boolean := OLD.status IN ('draft', 'disputed') AND NEW.status = 'draft';
    t record;
    take_bps int;
BEGIN
    IF NEW.id <> OLD.id OR NEW.agreement_id <> OLD.agreement_id OR NEW.partner_id <> OLD.partner_id
       OR NEW.period_start <> OLD.period_start OR NEW.period_end <> OLD.period_end
       OR NEW.currency <> OLD.currency OR NEW.created_at <> OLD.created_at THEN
        RAISE EXCEPTION 'settlement %: its agreement, partner, period and currency never change', OLD.id
            USING ERRCODE = 'PDR01';
    END IF;
    IF NOT recompute AND (
           NEW.line_count <> OLD.line_count OR NEW.redemption_count <> OLD.redemption_count
        OR NEW.exception_count <> OLD.exception_count OR NEW.commission_minor <> OLD.commission_minor
        OR NEW.payouts_minor <> OLD.payouts_minor OR NEW.take_minor <> OLD.take_minor
        OR NEW.net_minor <> OLD.net_minor OR NEW.computed_at <> OLD.computed_at
        OR NEW.computed_by <> OLD.computed_by) THEN
        RAISE EXCEPTION 'settlement %: a statement past draft never changes (it is %); dispute it, then recompute it', OLD.id, OLD.status
            USING ERRCODE = 'PDR01';
    END IF;
    IF recompute AND OLD.status = 'disputed' AND (NEW.review_deadline IS NOT NULL
        OR NEW.approved_at IS NOT NULL OR NEW.approved_by IS NOT NULL OR NEW.dispute_reason IS NOT NULL) THEN
        RAISE EXCEPTION 'settlement %: a recomputed statement is a new draft (its review, approval and dispute are cleared)', OLD.id
            USING ERRCODE = 'PDR01';
    END IF;
    IF OLD.status = 'paid' AND (NEW.tally_count IS DISTINCT FROM OLD.tally_count
        OR NEW.tally_amount_minor IS DISTINCT FROM OLD.tally_amount_minor) THEN
        RAISE EXCEPTION 'settlement %: a paid statement never changes', OLD.id USING ERRCODE = 'PDR01';
    END IF;
    -- Each move's own fields.
    IF NOT recompute THEN
        IF (NEW.review_deadline IS DISTINCT FROM OLD.review_deadline
            OR NEW.review_note IS DISTINCT FROM OLD.review_note)
           AND NOT (OLD.status = 'draft' AND NEW.status = 'in_review') THEN
            RAISE EXCEPTION 'settlement %: the review window is set by the move to review', OLD.id
                USING ERRCODE = 'PDR01';
        END IF;
        IF (NEW.approved_at IS DISTINCT FROM OLD.approved_at OR NEW.approved_by IS DISTINCT FROM OLD.approved_by)
           AND NOT (OLD.status = 'in_review' AND NEW.status = 'approved') THEN
            RAISE EXCEPTION 'settlement %: the approval is set by the move to approved', OLD.id
                USING ERRCODE = 'PDR01';
        END IF;
        IF NEW.dispute_reason IS DISTINCT FROM OLD.dispute_reason AND NEW.status <> 'disputed' THEN
            RAISE EXCEPTION 'settlement %: the dispute reason is set by the move to disputed', OLD.id
                USING ERRCODE = 'PDR01';
        END IF;
        IF (NEW.paid_on IS DISTINCT FROM OLD.paid_on OR NEW.payment_reference IS DISTINCT FROM OLD.payment_reference)
           AND NOT (OLD.status = 'approved' AND NEW.status = 'paid') THEN
            RAISE EXCEPTION 'settlement %: the payment is set by the move to paid', OLD.id
                USING ERRCODE = 'PDR01';
        END IF;
    END IF;
    IF NEW.status = 'approved' AND OLD.status <> 'approved' AND (NEW.approved_at IS NULL OR NEW.approved_by IS NULL) THEN
        RAISE EXCEPTION 'settlement %: an approval names who approved it and when', OLD.id USING ERRCODE = 'PDR01';
    END IF;
    IF NEW.status = 'disputed' AND OLD.status <> 'disputed' AND coalesce(btrim(NEW.dispute_reason), '') = '' THEN
        RAISE EXCEPTION 'settlement %: a dispute has a reason', OLD.id USING ERRCODE = 'PDR01';
    END IF;
    IF NEW.status = 'in_review' AND OLD.status = 'draft' THEN
        SELECT count(*) FILTER (WHERE kind <> 'exception') AS lines,
               count(*) FILTER (WHERE kind = 'redemption') AS redemptions,
               count(*) FILTER (WHERE kind = 'exception') AS exceptions,
               coalesce(sum(amount_minor) FILTER (WHERE kind IN ('redemption', 'period_fee')), 0) AS commission,
               coalesce(sum(amount_minor) FILTER (WHERE kind = 'referral'), 0) AS payouts
          INTO t FROM settlement_lines WHERE settlement_id = OLD.id;
        SELECT take_rate_bps INTO take_bps FROM agreements WHERE id = OLD.agreement_id;
        IF t.lines <> NEW.line_count OR t.redemptions <> NEW.redemption_count
           OR t.exceptions <> NEW.exception_count OR t.commission <> NEW.commission_minor
           OR t.payouts <> NEW.payouts_minor OR NEW.net_minor <> NEW.commission_minor - NEW.payouts_minor
           OR NEW.take_minor <> round(NEW.commission_minor::numeric * take_bps / 10000) THEN
            RAISE EXCEPTION 'settlement %: its totals are not the sums of its lines; recompute it before review', OLD.id
                USING ERRCODE = 'PDR01';
        END IF;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER settlements_frozen BEFORE UPDATE ON settlements
    FOR EACH ROW EXECUTE FUNCTION settlements_frozen();

-- Lines are written (and deleted) only while their statement is a draft: checked once per
-- statement over the settlements it touched, which it locks against a concurrent move.
-- (TRUNCATE is the owner's alone: `seed --demo --reset`.)
CREATE FUNCTION settlement_lines_frozen() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    s record;
BEGIN
    FOR s IN
        SELECT st.id, st.status FROM settlements st
         WHERE st.id IN (SELECT settlement_id FROM changed_rows)
         ORDER BY st.id FOR SHARE
    LOOP
        IF s.status <> 'draft' THEN
            RAISE EXCEPTION 'settlement %: a statement past draft never changes (it is %); its lines are frozen', s.id, s.status
                USING ERRCODE = 'PDR01';
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;
CREATE TRIGGER settlement_lines_frozen_insert AFTER INSERT ON settlement_lines
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION settlement_lines_frozen();
CREATE TRIGGER settlement_lines_frozen_update AFTER UPDATE ON settlement_lines
    REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION settlement_lines_frozen();
CREATE TRIGGER settlement_lines_frozen_delete AFTER DELETE ON settlement_lines
    REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION settlement_lines_frozen();

-- The payout ledger agrees with each settlement's status when the transaction commits: an
-- approved statement has exactly one standing approval entry of its net; a paid one that and
-- one standing payment of the opposite amount with its reference; any other none of either.
-- A reversal reverses an entry of the same settlement by its opposite amount.
CREATE FUNCTION settlement_ledger_holds() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    sid bigint;
    s settlements%ROWTYPE;
    approvals int;
    approval_sum bigint;
    payments int;
    payment_sum bigint;
    payment_ref text;
BEGIN
    IF TG_TABLE_NAME = 'settlements' THEN
        sid := NEW.id;
    ELSE
        sid := NEW.settlement_id;
        IF NEW.settlement_id IS NULL THEN
            RAISE EXCEPTION 'payout_ledger: every entry belongs to a settlement' USING ERRCODE = 'PDR01';
        END IF;
        IF NEW.kind = 'reversal' AND NOT EXISTS (
            SELECT FROM payout_ledger r WHERE r.id = NEW.reverses_id AND r.settlement_id = NEW.settlement_id
               AND r.kind <> 'reversal' AND r.amount_minor = -NEW.amount_minor) THEN
            RAISE EXCEPTION 'payout_ledger: a reversal reverses an entry of the same settlement by its opposite amount'
                USING ERRCODE = 'PDR01';
        END IF;
    END IF;
    SELECT * INTO s FROM settlements WHERE id = sid;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF TG_TABLE_NAME = 'payout_ledger' AND (NEW.partner_id <> s.partner_id OR NEW.currency <> s.currency) THEN
        RAISE EXCEPTION 'payout_ledger: settlement % is partner %''s, in %', s.id, s.partner_id, s.currency
            USING ERRCODE = 'PDR01';
    END IF;
    SELECT count(*) FILTER (WHERE kind = 'approval'), coalesce(sum(amount_minor) FILTER (WHERE kind = 'approval'), 0),
           count(*) FILTER (WHERE kind = 'payment'), coalesce(sum(amount_minor) FILTER (WHERE kind = 'payment'), 0),
           max(reference) FILTER (WHERE kind = 'payment')
      INTO approvals, approval_sum, payments, payment_sum, payment_ref
      FROM payout_ledger e
     WHERE e.settlement_id = s.id AND e.kind IN ('approval', 'payment')
       AND NOT EXISTS (SELECT FROM payout_ledger r WHERE r.reverses_id = e.id);
    IF s.status IN ('draft', 'in_review', 'disputed') AND (approvals > 0 OR payments > 0) THEN
        RAISE EXCEPTION 'settlement % is %: its approval must be reversed in the payout ledger', s.id, s.status
            USING ERRCODE = 'PDR01';
    ELSIF s.status IN ('approved', 'paid') AND (approvals <> 1 OR approval_sum <> s.net_minor) THEN
        RAISE EXCEPTION 'settlement % is %: the payout ledger must hold exactly one approval of its net (%), it holds %', s.id, s.status, s.net_minor, approvals
            USING ERRCODE = 'PDR01';
    ELSIF s.status = 'approved' AND payments > 0 THEN
        RAISE EXCEPTION 'settlement % is approved, not paid: the payout ledger holds a payment', s.id
            USING ERRCODE = 'PDR01';
    ELSIF s.status = 'paid' AND (payments <> 1 OR payment_sum <> -s.net_minor
                                 OR payment_ref IS DISTINCT FROM s.payment_reference) THEN
        RAISE EXCEPTION 'settlement % is paid: the payout ledger must hold exactly one payment of % with its reference', s.id, -s.net_minor
            USING ERRCODE = 'PDR01';
    END IF;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER settlements_ledger_holds AFTER UPDATE OF status ON settlements
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION settlement_ledger_holds();
CREATE CONSTRAINT TRIGGER payout_ledger_holds AFTER INSERT ON payout_ledger
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    EXECUTE FUNCTION settlement_ledger_holds();

-- Agreements -----------------------------------------------------------------------------------

-- The next version of the partner's agreements (numbered here, under a lock on the partner,
-- whatever the statement said), from
-- the first day of a period of its frequency, never under a statement past draft; a statement
-- that leaves draft afterwards is checked against the versions then (settlements_review).
CREATE FUNCTION agreements_added() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    months int := pd_period_months(NEW.frequency);
    next_version int;
    s record;
BEGIN
    PERFORM FROM partners WHERE id = NEW.partner_id FOR UPDATE;
    SELECT coalesce(max(version), 0) + 1 INTO next_version FROM agreements WHERE partner_id = NEW.partner_id;
    NEW.version := next_version;
    IF extract(day FROM NEW.effective_from) <> 1
       OR (extract(month FROM NEW.effective_from)::int - 1) % months <> 0 THEN
        RAISE EXCEPTION 'from: must be the first day of a % period (got %)', NEW.frequency, NEW.effective_from
            USING ERRCODE = 'PDR01';
    END IF;
    SELECT id, period_start, status INTO s FROM settlements
     WHERE partner_id = NEW.partner_id AND period_end > NEW.effective_from AND status <> 'draft'
     ORDER BY period_end DESC LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'agreement: settlement % of partner % for the period from % is %; a new version may not start before its period ends',
            s.id, NEW.partner_id, s.period_start, s.status
            USING ERRCODE = 'PDR01';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER agreements_added BEFORE INSERT ON agreements
    FOR EACH ROW EXECUTE FUNCTION agreements_added();

-- A draft goes to review only under the version in effect for its period (an agreement added
-- meanwhile waits on the partner's lock, then is refused by agreements_added).
CREATE FUNCTION settlements_review() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    a agreements%ROWTYPE;
BEGIN
    PERFORM FROM partners WHERE id = NEW.partner_id FOR SHARE;
    a := pd_agreement_in_effect(NEW.partner_id, NEW.period_start);
    IF a.id IS DISTINCT FROM NEW.agreement_id THEN
        RAISE EXCEPTION 'settlement %: agreement % (version %) is in effect for its period now; compute that version''s statement', NEW.id, a.id, a.version
            USING ERRCODE = 'PDR01';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER settlements_review BEFORE UPDATE OF status ON settlements
    FOR EACH ROW WHEN (OLD.status = 'draft' AND NEW.status = 'in_review')
    EXECUTE FUNCTION settlements_review();

-- Claims ---------------------------------------------------------------------------------------

-- A claim is final: once claimed, a token's claim never changes; a revocation is final too.
CREATE FUNCTION claim_tokens_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.claimed_at IS NOT NULL AND (NEW.claimed_at IS DISTINCT FROM OLD.claimed_at
                                       OR NEW.claimed_account IS DISTINCT FROM OLD.claimed_account) THEN
        RAISE EXCEPTION 'claim token %: a claim is final', OLD.id USING ERRCODE = 'PDR01';
    END IF;
    IF OLD.revoked_at IS NOT NULL AND (NEW.revoked_at IS DISTINCT FROM OLD.revoked_at
                                       OR NEW.revoked_by IS DISTINCT FROM OLD.revoked_by) THEN
        RAISE EXCEPTION 'claim token %: a revocation is final', OLD.id USING ERRCODE = 'PDR01';
    END IF;
    IF NEW.token_hash <> OLD.token_hash OR NEW.partner_id <> OLD.partner_id OR NEW.plan_id <> OLD.plan_id
       OR NEW.last4 <> OLD.last4 OR NEW.created_at <> OLD.created_at THEN
        RAISE EXCEPTION 'claim token %: a token never changes', OLD.id USING ERRCODE = 'PDR01';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER claim_tokens_final BEFORE UPDATE ON claim_tokens
    FOR EACH ROW EXECUTE FUNCTION claim_tokens_final();

-- A partner's deal count follows its deals whoever writes them (the curator writes deals, not
-- the count): the count's triggers run as the owner.
ALTER FUNCTION deals_count_insert() SECURITY DEFINER SET search_path = pg_catalog, public;
ALTER FUNCTION deals_count_delete() SECURITY DEFINER SET search_path = pg_catalog, public;
ALTER FUNCTION deals_count_move() SECURITY DEFINER SET search_path = pg_catalog, public;

-- The grants -----------------------------------------------------------------------------------

-- One row per grant beyond "every group reads every table": a privilege of a role on a table
-- (or EXECUTE on a function), optionally on some columns (`columns`) or on every column but
-- some (`but`). A SELECT row narrows that role's reading of the table to its columns.
CREATE TABLE app_grants (
    feature   text NOT NULL,
    role      text NOT NULL CHECK (role IN ('curator', 'support', 'finance', 'admin', 'readonly')),
    privilege text NOT NULL CHECK (privilege IN ('SELECT', 'INSERT', 'UPDATE', 'DELETE', 'EXECUTE')),
    object    text NOT NULL,
    columns   text[],
    but       text[],
    PRIMARY KEY (role, privilege, object),
    CHECK (columns IS NULL OR but IS NULL),
    CHECK (privilege <> 'SELECT' OR columns IS NOT NULL)
);
INSERT INTO app_grants (feature, role, privilege, object, columns, but) VALUES
    -- Every writer writes its audit rows and events through the one function.
    ('audit', 'curator', 'EXECUTE', 'record_changes', NULL, NULL),
    ('audit', 'support', 'EXECUTE', 'record_changes', NULL, NULL),
    ('audit', 'finance', 'EXECUTE', 'record_changes', NULL, NULL),
    ('audit', 'admin', 'EXECUTE', 'record_changes', NULL, NULL),
    -- Curators: partners and their vetting, deals (not their redemption count), coupon codes,
    -- the search index.
    ('partners', 'curator', 'INSERT', 'partners', NULL, NULL),
    ('partners', 'curator', 'UPDATE', 'partners', NULL,
        ARRAY['id', 'deal_count', 'search_text', 'name_text', 'created_at', 'created_by']),
    ('partners', 'curator', 'INSERT', 'partner_checks', NULL, NULL),
    ('deals', 'curator', 'INSERT', 'deals', NULL, NULL),
    ('deals', 'curator', 'UPDATE', 'deals', NULL,
        ARRAY['id', 'redemption_count', 'created_at', 'created_by']),
    ('deals', 'curator', 'INSERT', 'deal_coupon_codes', NULL, NULL),
    ('deals', 'curator', 'INSERT', 'deal_search_documents', NULL, NULL),
    ('deals', 'curator', 'UPDATE', 'deal_search_documents', NULL, NULL),
    ('deals', 'curator', 'DELETE', 'deal_search_documents', NULL, NULL),
    -- Support: the flag of a redemption; partners' confirmed conversions.
    ('redemptions', 'support', 'UPDATE', 'redemptions',
        ARRAY['flag_kind', 'flag_note', 'flagged_by', 'flagged_at'], NULL),
    ('monitor', 'support', 'INSERT', 'deal_conversions', NULL, NULL),
    ('monitor', 'support', 'UPDATE', 'deal_conversions', NULL, NULL),
    -- Admins: operators and their logins; redemptions as the platform records them, with the
    -- deal's count.
    ('operators', 'admin', 'INSERT', 'operators', NULL, NULL),
    ('operators', 'admin', 'UPDATE', 'operators', NULL, NULL),
    ('operators', 'admin', 'EXECUTE', 'db_login_set_roles', NULL, NULL),
    ('redemptions', 'admin', 'INSERT', 'redemptions', NULL, NULL),
    ('redemptions', 'admin', 'UPDATE', 'deals', ARRAY['redemption_count'], NULL),
    -- Negotiations (0019): curators negotiate, sign and track benefits.
    ('negotiations', 'curator', 'INSERT', 'negotiation_threads', NULL, NULL),
    ('negotiations', 'curator', 'UPDATE', 'negotiation_threads', NULL,
        ARRAY['id', 'partner_id', 'opened_side', 'created_at', 'created_by']),
    ('negotiations', 'curator', 'INSERT', 'negotiation_messages', NULL, NULL),
    ('negotiations', 'curator', 'INSERT', 'negotiation_offers', NULL, NULL),
    ('negotiations', 'curator', 'INSERT', 'agreements', NULL, NULL),
    ('negotiations', 'curator', 'INSERT', 'contracts', NULL, NULL),
    ('negotiations', 'curator', 'UPDATE', 'contracts', ARRAY['status', 'status_reason', 'updated_at', 'updated_by', 'version'], NULL),
    ('negotiations', 'curator', 'INSERT', 'contract_signatures', NULL, NULL),
    ('negotiations', 'curator', 'INSERT', 'contract_benefits', NULL, NULL),
    ('negotiations', 'curator', 'UPDATE', 'contract_benefits', ARRAY['status', 'note', 'updated_at', 'updated_by'], NULL),
    -- Settlements (0020): finance computes, moves and pays statements; adds agreements.
    ('settlements', 'finance', 'INSERT', 'settlements', NULL, NULL),
    ('settlements', 'finance', 'UPDATE', 'settlements', NULL, ARRAY['id', 'created_at']),
    ('settlements', 'finance', 'INSERT', 'settlement_lines', NULL, NULL),
    ('settlements', 'finance', 'DELETE', 'settlement_lines', NULL, NULL),
    ('settlements', 'finance', 'INSERT', 'payout_ledger', NULL, NULL),
    ('settlements', 'finance', 'INSERT', 'agreements', NULL, NULL),
    -- Webhooks (0021): the admin manages endpoints and runs the relay; the others read
    -- endpoints without their secrets.
    ('webhooks', 'admin', 'INSERT', 'webhook_endpoints', NULL, NULL),
    ('webhooks', 'admin', 'UPDATE', 'webhook_endpoints', NULL, ARRAY['id', 'created_at', 'created_by']),
    ('webhooks', 'admin', 'INSERT', 'webhook_deliveries', NULL, NULL),
    ('webhooks', 'admin', 'UPDATE', 'webhook_deliveries', NULL, ARRAY['id', 'event_id', 'endpoint_id', 'created_at']),
    ('webhooks', 'admin', 'INSERT', 'webhook_attempts', NULL, NULL),
    ('webhooks', 'admin', 'UPDATE', 'webhook_relay_state', ARRAY['horizon'], NULL),
    ('webhooks', 'curator', 'SELECT', 'webhook_endpoints', ARRAY['id', 'url', 'event_types', 'previous_expires_at', 'enabled', 'disabled_reason', 'failing_since', 'after_event_id', 'created_at', 'created_by', 'updated_at', 'updated_by', 'version'], NULL),
    ('webhooks', 'support', 'SELECT', 'webhook_endpoints', ARRAY['id', 'url', 'event_types', 'previous_expires_at', 'enabled', 'disabled_reason', 'failing_since', 'after_event_id', 'created_at', 'created_by', 'updated_at', 'updated_by', 'version'], NULL),
    ('webhooks', 'finance', 'SELECT', 'webhook_endpoints', ARRAY['id', 'url', 'event_types', 'previous_expires_at', 'enabled', 'disabled_reason', 'failing_since', 'after_event_id', 'created_at', 'created_by', 'updated_at', 'updated_by', 'version'], NULL),
    ('webhooks', 'readonly', 'SELECT', 'webhook_endpoints', ARRAY['id', 'url', 'event_types', 'previous_expires_at', 'enabled', 'disabled_reason', 'failing_since', 'after_event_id', 'created_at', 'created_by', 'updated_at', 'updated_by', 'version'], NULL),
    -- Referrals (0022): curators manage plans, codes, tokens (revoking, not claiming) and
    -- rules; the platform's claims, attributions and conversions are the admin's.
    ('referrals', 'curator', 'INSERT', 'plans', NULL, NULL),
    ('referrals', 'curator', 'UPDATE', 'plans', ARRAY['active', 'updated_at', 'updated_by'], NULL),
    ('referrals', 'curator', 'INSERT', 'referral_codes', NULL, NULL),
    ('referrals', 'curator', 'UPDATE', 'referral_codes', ARRAY['disabled_at', 'disabled_by'], NULL),
    ('referrals', 'curator', 'INSERT', 'claim_tokens', NULL, NULL),
    ('referrals', 'curator', 'UPDATE', 'claim_tokens', ARRAY['revoked_at', 'revoked_by'], NULL),
    ('referrals', 'curator', 'INSERT', 'commission_rules', NULL, NULL),
    ('referrals', 'curator', 'UPDATE', 'commission_rules', NULL, ARRAY['id', 'partner_id', 'plan_id']),
    ('referrals', 'admin', 'UPDATE', 'claim_tokens', ARRAY['claimed_at', 'claimed_account'], NULL),
    ('referrals', 'admin', 'INSERT', 'referral_accounts', NULL, NULL),
    ('referrals', 'admin', 'INSERT', 'referral_payouts', NULL, NULL);

-- The grants: every group reads every table (but what a SELECT row narrows), then the rows of
-- app_grants. Run again by every migration that adds a table or a row here.
CREATE OR REPLACE FUNCTION app_roles_grant() RETURNS void LANGUAGE plpgsql AS $grant$
DECLARE
    adm  text := (SELECT pg_role FROM app_roles WHERE role = 'admin');
    g    text;
    r    record;
    cols text;
    f    regprocedure;
BEGIN
    IF adm IS NULL THEN
        RETURN;
    END IF;
    EXECUTE 'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC';
    FOR g IN SELECT pg_role FROM app_roles LOOP
        EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA public FROM %I', g);
        EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM %I', g);
        EXECUTE format('GRANT USAGE ON SCHEMA public TO %I', g);
        EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA public TO %I', g);
    END LOOP;
    -- The admin may do what every other role may (SPEC §1.1).
    EXECUTE format('GRANT %I, %I, %I TO %I',
        (SELECT pg_role FROM app_roles WHERE role = 'curator'),
        (SELECT pg_role FROM app_roles WHERE role = 'support'),
        (SELECT pg_role FROM app_roles WHERE role = 'finance'), adm);
    FOR r IN SELECT x.*, a.pg_role FROM app_grants x JOIN app_roles a USING (role)
              ORDER BY x.feature, x.object, x.role, x.privilege LOOP
        IF r.privilege = 'EXECUTE' THEN
            FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
                      WHERE p.proname = r.object AND p.pronamespace = 'public'::regnamespace LOOP
                EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
                EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', f, r.pg_role);
            END LOOP;
            CONTINUE;
        END IF;
        cols := CASE
            WHEN r.columns IS NOT NULL THEN
                (SELECT string_agg(quote_ident(c), ', ') FROM unnest(r.columns) c)
            WHEN r.but IS NOT NULL THEN
                (SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute
                  WHERE attrelid = ('public.' || quote_ident(r.object))::regclass AND attnum > 0
                    AND NOT attisdropped AND attname <> ALL (r.but))
        END;
        IF r.privilege = 'SELECT' THEN
            EXECUTE format('REVOKE SELECT ON %I FROM %I', r.object, r.pg_role);
        END IF;
        IF cols IS NULL THEN
            EXECUTE format('GRANT %s ON %I TO %I', r.privilege, r.object, r.pg_role);
        ELSE
            EXECUTE format('GRANT %s (%s) ON %I TO %I', r.privilege, cols, r.object, r.pg_role);
        END IF;
    END LOOP;
    -- Writers take ids from the tables' sequences.
    FOR g IN SELECT pg_role FROM app_roles WHERE role <> 'readonly' LOOP
        EXECUTE format('GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO %I', g);
    END LOOP;
END
$grant$;
REVOKE ALL ON FUNCTION app_roles_grant() FROM PUBLIC;

DROP FUNCTION app_roles_grant_negotiations();
DROP FUNCTION app_roles_grant_settlements();
DROP FUNCTION app_roles_grant_webhooks();
DROP FUNCTION app_roles_grant_referrals();

SELECT app_roles_grant();
