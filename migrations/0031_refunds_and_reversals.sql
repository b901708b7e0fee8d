-- Refunds and reversals (issue "Finance: late data, refunds, minimum payouts and payout
-- batches"): each source counts once.
--
-- 1. A redemption may be refunded (support, finance, admin), once, with who and why; a referral
--    payout reversed (its subscription refunded; the platform's admin), once. When a
--    redemption's flag or refund changes, the database notes when (`counted_change_at`), so
--    that computing finds what changed without reading every redemption.
-- 2. A statement line may be an `adjustment`: a change of a source (redemption or referral
--    payout) counted on a statement past draft, carried by a later draft of the partner in
--    the same currency — a `reversal` (flagged or refunded after its statement closed: the
--    negative of what it was charged) or a `restore` (unflagged after its reversal: what it
--    was charged again), naming the statement it comes from and why. The closed statement
--    never changes.
-- 3. Each source is counted at most once per kind (charge, reversal, restore) over every
--    statement: a unique index per source and kind, so that recomputing a disputed statement
--    can never count again what an adjustment already carries.
-- 4. A statement's totals include its adjustments: commission the redemptions', payouts the
--    referral payouts' (the review's check of the totals, redefined below).

ALTER TABLE redemptions
    ADD COLUMN refunded_at       timestamptz,
    ADD COLUMN refunded_by       text,
    ADD COLUMN refund_reason     text CHECK (refund_reason IS NULL
                                            OR (pd_one_line(refund_reason) AND length(btrim(refund_reason)) BETWEEN 1 AND 1000)),
    ADD COLUMN counted_change_at timestamptz,
    ADD CONSTRAINT redemptions_refund_whole
        CHECK ((refunded_at IS NULL) = (refunded_by IS NULL) AND (refunded_at IS NULL) = (refund_reason IS NULL));
CREATE INDEX redemptions_counted_change_idx ON redemptions (deal_id) WHERE counted_change_at IS NOT NULL;

-- A refund is final and the database's to date; a change of the flag or the refund is noted.
CREATE FUNCTION redemptions_counted_change() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF OLD.refunded_at IS NOT NULL
       AND (NEW.refunded_at, NEW.refunded_by, NEW.refund_reason)
           IS DISTINCT FROM (OLD.refunded_at, OLD.refunded_by, OLD.refund_reason) THEN
        RAISE EXCEPTION 'redemption %: it was refunded on % by %; a refund is final', OLD.id,
            OLD.refunded_at::date, OLD.refunded_by USING ERRCODE = 'PDR01';
    END IF;
    IF OLD.refunded_at IS NULL AND NEW.refunded_at IS NOT NULL THEN
        NEW.refunded_at := now();
    END IF;
    IF NEW.flag_kind IS DISTINCT FROM OLD.flag_kind OR NEW.refunded_at IS DISTINCT FROM OLD.refunded_at THEN
        NEW.counted_change_at := clock_timestamp();
    ELSE
        NEW.counted_change_at := OLD.counted_change_at;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER redemptions_counted_change
    BEFORE UPDATE OF flag_kind, refunded_at, refunded_by, refund_reason, counted_change_at ON redemptions
    FOR EACH ROW EXECUTE FUNCTION redemptions_counted_change();
SELECT pd_names_login('redemptions', ARRAY['flagged_by', 'refunded_by'], false);

ALTER TABLE referral_payouts
    ADD COLUMN reversed_at    timestamptz,
    ADD COLUMN reversed_by    text,
    ADD COLUMN reverse_reason text CHECK (reverse_reason IS NULL
                                         OR (pd_one_line(reverse_reason) AND length(btrim(reverse_reason)) BETWEEN 1 AND 1000)),
    ADD CONSTRAINT referral_payouts_reversal_whole
        CHECK ((reversed_at IS NULL) = (reversed_by IS NULL) AND (reversed_at IS NULL) = (reverse_reason IS NULL));
CREATE INDEX referral_payouts_reversed_idx ON referral_payouts (partner_id) WHERE reversed_at IS NOT NULL;

-- A payout is never edited or deleted; it is reversed once, dated by the database.
CREATE FUNCTION referral_payouts_reversed_once() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.reversed_at IS NULL AND NEW.reversed_at IS NOT NULL
       AND (to_jsonb(NEW) - ARRAY['reversed_at', 'reversed_by', 'reverse_reason'])
           = (to_jsonb(OLD) - ARRAY['reversed_at', 'reversed_by', 'reverse_reason']) THEN
        NEW.reversed_at := now();
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'referral payout %: a payout is never changed; it is reversed once (referrals reverse)', OLD.id
        USING ERRCODE = 'PDR01';
END
$$;
DROP TRIGGER referral_payouts_append_only ON referral_payouts;
CREATE TRIGGER referral_payouts_reversed_once BEFORE UPDATE OR DELETE ON referral_payouts
    FOR EACH ROW EXECUTE FUNCTION referral_payouts_reversed_once();
SELECT pd_names_login('referral_payouts', ARRAY['reversed_by'], false);

-- Adjustment lines.
ALTER TABLE settlement_lines
    DROP CONSTRAINT settlement_lines_kind_check,
    ADD CONSTRAINT settlement_lines_kind_check
        CHECK (kind IN ('redemption', 'period_fee', 'referral', 'adjustment', 'exception')),
    ADD COLUMN counts               text CHECK (counts IN ('charge', 'reversal', 'restore')),
    ADD COLUMN origin_settlement_id bigint,
    ADD COLUMN reason               text,
    ADD CONSTRAINT settlement_lines_adjustment CHECK (
        (kind = 'adjustment') = (origin_settlement_id IS NOT NULL)
        AND (kind = 'adjustment') = (counts IS NOT NULL)
        AND (kind = 'adjustment') = (reason IS NOT NULL)
        AND (kind <> 'adjustment' OR ((redemption_id IS NULL) <> (payout_id IS NULL))));
-- Each source once per kind: a statement's own line of a redemption or payout is its charge.
CREATE UNIQUE INDEX settlement_lines_redemption_counted
    ON settlement_lines (redemption_id, (coalesce(counts, 'charge')))
    WHERE redemption_id IS NOT NULL AND kind IN ('redemption', 'adjustment');
CREATE UNIQUE INDEX settlement_lines_payout_counted
    ON settlement_lines (payout_id, (coalesce(counts, 'charge')))
    WHERE payout_id IS NOT NULL AND kind IN ('referral', 'adjustment');
CREATE INDEX settlement_lines_adjusted_idx ON settlement_lines (redemption_id, payout_id)
    WHERE kind = 'adjustment';

-- The totals checked at review include the adjustments.
CREATE OR REPLACE FUNCTION settlements_frozen()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'pg_catalog', 'public', 'pg_temp'
AS $function$
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
               coalesce(sum(amount_minor) FILTER (WHERE kind IN ('redemption', 'period_fee')
                                                    OR (kind = 'adjustment' AND redemption_id IS NOT NULL)), 0) AS commission,
               coalesce(sum(amount_minor) FILTER (WHERE kind = 'referral'
                                                    OR (kind = 'adjustment' AND payout_id IS NOT NULL)), 0) AS payouts
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
$function$;

INSERT INTO app_grants (feature, role, privilege, object, columns, but) VALUES
    ('refunds', 'finance', 'UPDATE', 'redemptions', ARRAY['refunded_at', 'refunded_by', 'refund_reason'], NULL),
    ('refunds', 'admin', 'UPDATE', 'referral_payouts', ARRAY['reversed_at', 'reversed_by', 'reverse_reason'], NULL);
UPDATE app_grants SET columns = columns || ARRAY['refunded_at', 'refunded_by', 'refund_reason']
 WHERE role = 'support' AND privilege = 'UPDATE' AND object = 'redemptions';

SELECT app_roles_grant();
