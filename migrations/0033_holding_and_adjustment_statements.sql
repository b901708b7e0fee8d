-- The holding period, and statements of adjustments alone (issue "Finance: late data,
-- refunds, minimum payouts and payout batches").
--
-- A referral payout is priced on the first statement whose period ends more than the holding
-- period (marketplace_settings.holding_days) after its conversion: the statement of
-- [from, to) takes the payouts converted in [from − H, to − H). That is computing's rule; the
-- database keeps what it can check on its own: each source counts once (0031's unique key).
--
-- Where a partner's currency has no statement coming (a later version in another currency
-- is in effect), the reversals, restores and late charges of its closed statements go on a
-- statement of adjustments alone: the draft of the partner's latest version in that currency,
-- for a period that version is no longer in effect for, holding adjustment lines (and the
-- exceptions of late sources) only.

-- Whether `agreement` is its partner's version in effect for the period from `day`.
CREATE FUNCTION pd_in_effect(agreement bigint, day date) RETURNS boolean
    LANGUAGE sql STABLE SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT EXISTS (SELECT FROM agreements a WHERE a.id = agreement
                      AND (pd_agreement_in_effect(a.partner_id, day)).id = a.id)
$$;

-- Whether `agreement` settles adjustments alone for the period from `day`: a version of
-- another currency is in effect then, and it is the partner's latest in its own currency.
CREATE FUNCTION pd_settles_adjustments(agreement bigint, day date) RETURNS boolean
    LANGUAGE sql STABLE SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT EXISTS (
        SELECT FROM agreements a
         WHERE a.id = agreement AND a.effective_from <= day
           AND (pd_agreement_in_effect(a.partner_id, day)).currency <> a.currency
           AND NOT EXISTS (SELECT FROM agreements v
                            WHERE v.partner_id = a.partner_id AND v.currency = a.currency
                              AND v.effective_from <= day AND v.version > a.version))
$$;

-- A new settlement is an empty draft of the version in effect for one period of its
-- agreement's frequency (or of the latest version of a currency no longer in effect: a
-- statement of adjustments alone), in the agreement's partner and currency.
CREATE OR REPLACE FUNCTION settlements_opened() RETURNS trigger
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
    IF NOT pd_in_effect(a.id, NEW.period_start)
       AND NOT pd_settles_adjustments(a.id, NEW.period_start) THEN
        RAISE EXCEPTION 'settlement: agreement % (version %) is not in effect for the period from %', a.id, a.version, NEW.period_start
            USING ERRCODE = 'PDR01';
    END IF;
    RETURN NEW;
END
$$;

-- A draft goes to review only under the version in effect for its period, or as a statement
-- of adjustments alone of a currency no longer in effect.
CREATE OR REPLACE FUNCTION settlements_review() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    a agreements%ROWTYPE;
BEGIN
    PERFORM FROM partners WHERE id = NEW.partner_id FOR SHARE;
    a := pd_agreement_in_effect(NEW.partner_id, NEW.period_start);
    IF a.id IS DISTINCT FROM NEW.agreement_id
       AND NOT pd_settles_adjustments(NEW.agreement_id, NEW.period_start) THEN
        RAISE EXCEPTION 'settlement %: agreement % (version %) is in effect for its period now; compute that version''s statement', NEW.id, a.id, a.version
            USING ERRCODE = 'PDR01';
    END IF;
    RETURN NEW;
END
$$;

-- A statement of adjustments alone holds nothing of its own period: adjustment lines, and
-- the exceptions of late sources, only.
CREATE FUNCTION settlement_lines_adjustments_only() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    s record;
BEGIN
    SELECT st.id, l.kind INTO s
      FROM changed_rows l JOIN settlements st ON st.id = l.settlement_id
     WHERE l.kind NOT IN ('adjustment', 'exception')
       AND NOT pd_in_effect(st.agreement_id, st.period_start)
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'settlement %: a statement of adjustments alone holds adjustment lines only (got a % line)', s.id, s.kind
            USING ERRCODE = 'PDR01';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER settlement_lines_adjustments_only AFTER INSERT ON settlement_lines
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT
    EXECUTE FUNCTION settlement_lines_adjustments_only();
