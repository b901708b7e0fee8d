-- Settlements for finance (SPEC §1.7, issue 13): redemption values, settlements and their
-- lines, and the append-only payout ledger.

-- What the member spent at the partner, as the platform reports it: an amount in the
-- currency's minor units (EUR cents, JPY yen, KWD fils) and its ISO 4217 code. Both or neither.
ALTER TABLE redemptions
    ADD COLUMN value_minor bigint CHECK (value_minor >= 0),
    ADD COLUMN currency    text CHECK (currency ~ '^[A-Z]{3}$'),
    ADD CONSTRAINT redemptions_value_currency CHECK ((value_minor IS NULL) = (currency IS NULL));

-- One agreement version over one period [period_start, period_end).
CREATE TABLE settlements (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agreement_id      bigint NOT NULL REFERENCES agreements (id),
    partner_id        bigint NOT NULL REFERENCES partners (id),
    period_start      date NOT NULL,
    period_end        date NOT NULL CHECK (period_end > period_start),
    currency          text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status            text NOT NULL DEFAULT 'draft'
                      CHECK (status IN ('draft', 'in_review', 'approved', 'paid', 'disputed')),
    -- Totals, in minor units of `currency`, each a sum of rounded lines (take: rounded once).
    line_count        integer NOT NULL DEFAULT 0 CHECK (line_count >= 0),
    redemption_count  integer NOT NULL DEFAULT 0 CHECK (redemption_count >= 0),
    exception_count   integer NOT NULL DEFAULT 0 CHECK (exception_count >= 0),
    commission_minor  bigint NOT NULL DEFAULT 0,
    payouts_minor     bigint NOT NULL DEFAULT 0,
    take_minor        bigint NOT NULL DEFAULT 0,
    net_minor         bigint NOT NULL DEFAULT 0,
    computed_at       timestamptz NOT NULL DEFAULT now(),
    computed_by       text NOT NULL,
    review_deadline   timestamptz,
    review_note       text,
    approved_at       timestamptz,
    approved_by       text,
    dispute_reason    text,
    paid_on           date,
    payment_reference text,
    -- The partner's own tally of the period, as finance entered it.
    tally_count       integer CHECK (tally_count >= 0),
    tally_amount_minor bigint,
    tally_by          text,
    tally_at          timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    updated_by        text NOT NULL,
    version           integer NOT NULL DEFAULT 1,
    CONSTRAINT settlements_period_key UNIQUE (agreement_id, period_start),
    CONSTRAINT settlements_review CHECK (status = 'draft' OR review_deadline IS NOT NULL),
    CONSTRAINT settlements_paid CHECK (status <> 'paid' OR (paid_on IS NOT NULL AND payment_reference IS NOT NULL)),
    CONSTRAINT settlements_tally CHECK ((tally_count IS NULL) = (tally_amount_minor IS NULL))
);
CREATE INDEX settlements_list_idx ON settlements (period_start DESC, id DESC);
CREATE INDEX settlements_partner_idx ON settlements (partner_id, period_start DESC, id DESC);
CREATE INDEX settlements_status_idx ON settlements (status, period_start DESC, id DESC);

-- A settlement's statement: numbered lines, recomputed as a whole while the settlement is a
-- draft or disputed. No foreign key to settlements: its per-row check would double the time
-- of writing a million lines; lines are written only by the computation, in the transaction
-- that opens (and locks) their settlement, and a settlement is never deleted (trigger below). `redemption` lines carry what the partner owes for one redemption;
-- `period_fee` is a flat fee's one line; `exception` lines are redemptions that could not be
-- priced (no value, or another currency): listed, never in the totals.
CREATE TABLE settlement_lines (
    settlement_id bigint NOT NULL,
    line_no       integer NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('redemption', 'period_fee', 'exception')),
    redemption_id bigint,
    at            timestamptz NOT NULL,
    value_minor   bigint,
    currency      text,
    rate_bps      integer,
    amount_minor  bigint,
    exception     text CHECK (exception IN ('no_value', 'other_currency')),
    PRIMARY KEY (settlement_id, line_no),
    CHECK ((kind = 'exception') = (amount_minor IS NULL)),
    CHECK ((kind = 'exception') = (exception IS NOT NULL))
);

CREATE FUNCTION settlements_never_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'settlements are never deleted (settlement %); dispute it or recompute it', OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;
CREATE TRIGGER settlements_never_deleted
    BEFORE DELETE ON settlements
    FOR EACH ROW EXECUTE FUNCTION settlements_never_deleted();

-- Money the marketplace and a partner owe each other, one entry per event, never edited:
-- `approval` (the settlement's net: positive, the partner owes), `payment` (the opposite
-- amount, with its reference) and `reversal` (the opposite of an earlier entry, naming it).
CREATE TABLE payout_ledger (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    partner_id    bigint NOT NULL REFERENCES partners (id),
    settlement_id bigint REFERENCES settlements (id),
    kind          text NOT NULL CHECK (kind IN ('approval', 'payment', 'reversal', 'referral')),
    currency      text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    amount_minor  bigint NOT NULL,
    reverses_id   bigint REFERENCES payout_ledger (id),
    reference     text,
    note          text,
    at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    by_login      text NOT NULL,
    CHECK ((kind = 'reversal') = (reverses_id IS NOT NULL))
);
CREATE INDEX payout_ledger_partner_idx ON payout_ledger (partner_id, id);
CREATE INDEX payout_ledger_settlement_idx ON payout_ledger (settlement_id, id);
-- An entry is reversed at most once.
CREATE UNIQUE INDEX payout_ledger_reverses_key ON payout_ledger (reverses_id) WHERE reverses_id IS NOT NULL;
CREATE TRIGGER payout_ledger_append_only
    BEFORE UPDATE OR DELETE ON payout_ledger
    FOR EACH ROW EXECUTE FUNCTION append_only_row();

-- The grants: finance (and so admin) settle (the ledger: INSERT only, never UPDATE, DELETE or
-- TRUNCATE, as for the audit log); curators read; agreements are added by curators
-- (negotiations) and by finance.
CREATE FUNCTION app_roles_grant_settlements() RETURNS void LANGUAGE plpgsql AS $grant$
DECLARE
    fin text := (SELECT pg_role FROM app_roles WHERE role = 'finance');
BEGIN
    IF fin IS NULL THEN
        RETURN;
    END IF;
    EXECUTE format('GRANT INSERT, UPDATE ON settlements TO %I', fin);
    EXECUTE format('GRANT INSERT, DELETE ON settlement_lines TO %I', fin);
    EXECUTE format('GRANT INSERT ON payout_ledger, agreements TO %I', fin);
END
$grant$;
REVOKE ALL ON FUNCTION app_roles_grant_settlements() FROM PUBLIC;

-- 0019's negotiation grants, then the settlement grants: app_roles_grant() calls this.
CREATE OR REPLACE FUNCTION app_roles_grant_negotiations() RETURNS void LANGUAGE plpgsql AS $grant$
DECLARE
    cur text := (SELECT pg_role FROM app_roles WHERE role = 'curator');
BEGIN
    IF cur IS NULL THEN
        RETURN;
    END IF;
    EXECUTE format('GRANT INSERT, UPDATE ON negotiation_threads, contracts, contract_benefits TO %I', cur);
    EXECUTE format('GRANT INSERT ON negotiation_messages, negotiation_offers, agreements, contract_signatures TO %I', cur);
    PERFORM app_roles_grant_settlements();
END
$grant$;

SELECT app_roles_grant();
