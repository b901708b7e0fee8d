-- The referral program (SPEC §1.7, seed 003, issue 14): subscription plans, referral codes,
-- one-time claim tokens (only their hash is kept), first-touch attribution, commission rules
-- per plan, and conversions into payouts that join the partner's settlement.

CREATE TABLE plans (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code        text NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9][a-z0-9_-]{0,39}$'),
    name        text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 100),
    price_minor bigint NOT NULL CHECK (price_minor >= 0),
    currency    text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  text NOT NULL
);

-- A partner's codes: unique whatever the case, URL-safe; one default per partner.
CREATE TABLE referral_codes (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    partner_id      bigint NOT NULL REFERENCES partners (id),
    code            text NOT NULL CHECK (code ~ '^[A-Za-z0-9_-]{3,40}$'),
    is_default      boolean NOT NULL DEFAULT false,
    disabled_at     timestamptz,
    disabled_by     text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    created_by      text NOT NULL,
    CHECK ((disabled_at IS NULL) = (disabled_by IS NULL))
);
CREATE UNIQUE INDEX referral_codes_code_key ON referral_codes (lower(code));
CREATE UNIQUE INDEX referral_codes_default_key ON referral_codes (partner_id) WHERE is_default;
CREATE INDEX referral_codes_partner_idx ON referral_codes (partner_id, id);

-- Claim tokens for partner-provisioned accounts. The token itself is shown once and never
-- stored: only its SHA-256 and its last four characters.
CREATE TABLE claim_tokens (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    partner_id      bigint NOT NULL REFERENCES partners (id),
    plan_id         bigint NOT NULL REFERENCES plans (id),
    email           text CHECK (email ~ '^[^@\s]+@[^@\s]+$' AND length(email) <= 254),
    expires_at      timestamptz,
    token_hash      text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    last4           text NOT NULL CHECK (length(last4) = 4),
    claimed_at      timestamptz,
    claimed_account bigint,
    revoked_at      timestamptz,
    revoked_by      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    created_by      text NOT NULL,
    CHECK ((claimed_at IS NULL) = (claimed_account IS NULL)),
    CHECK (claimed_at IS NULL OR revoked_at IS NULL)
);
CREATE INDEX claim_tokens_partner_idx ON claim_tokens (partner_id, id);

-- Attribution: an account belongs to the partner that touched it first (the primary key).
CREATE TABLE referral_accounts (
    account_id     bigint PRIMARY KEY CHECK (account_id > 0),
    partner_id     bigint NOT NULL REFERENCES partners (id),
    code_id        bigint REFERENCES referral_codes (id),
    token_id       bigint REFERENCES claim_tokens (id),
    attributed_at  timestamptz NOT NULL DEFAULT now(),
    attributed_by  text NOT NULL,
    CHECK ((code_id IS NULL) <> (token_id IS NULL))
);
CREATE INDEX referral_accounts_partner_idx ON referral_accounts (partner_id, attributed_at DESC);

-- Commission rules: a partner's default (no plan) and plan-specific ones; basis points of the
-- plan's monthly list price, or a flat amount in minor units of a currency.
CREATE TABLE commission_rules (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    partner_id   bigint NOT NULL REFERENCES partners (id),
    plan_id      bigint REFERENCES plans (id),
    bps          integer CHECK (bps BETWEEN 0 AND 10000),
    amount_minor bigint CHECK (amount_minor >= 0),
    currency     text CHECK (currency ~ '^[A-Z]{3}$'),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    updated_by   text NOT NULL,
    version      integer NOT NULL DEFAULT 1,
    CONSTRAINT commission_rules_scope_key UNIQUE NULLS NOT DISTINCT (partner_id, plan_id),
    CHECK ((bps IS NULL) <> (amount_minor IS NULL)),
    CHECK ((amount_minor IS NULL) = (currency IS NULL))
);

-- A conversion's payout: one per account (converting again changes nothing), with the rule it
-- used. Never changed.
CREATE TABLE referral_payouts (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id    bigint NOT NULL UNIQUE REFERENCES referral_accounts (account_id),
    partner_id    bigint NOT NULL REFERENCES partners (id),
    plan_id       bigint NOT NULL REFERENCES plans (id),
    rule_id       bigint NOT NULL REFERENCES commission_rules (id),
    rule_scope    text NOT NULL CHECK (rule_scope IN ('plan', 'default')),
    bps           integer,
    price_minor   bigint NOT NULL,
    currency      text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    amount_minor  bigint NOT NULL CHECK (amount_minor >= 0),
    converted_at  timestamptz NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    created_by    text NOT NULL
);
CREATE INDEX referral_payouts_partner_time_idx ON referral_payouts (partner_id, converted_at);
CREATE TRIGGER referral_payouts_append_only
    BEFORE UPDATE OR DELETE ON referral_payouts
    FOR EACH ROW EXECUTE FUNCTION append_only_row();

-- Statement lines for referral payouts (what the marketplace owes).
ALTER TABLE settlement_lines
    DROP CONSTRAINT settlement_lines_kind_check,
    ADD CONSTRAINT settlement_lines_kind_check
        CHECK (kind IN ('redemption', 'period_fee', 'referral', 'exception')),
    ADD COLUMN payout_id bigint;
-- Which statement a payout is on (the referral tab); few rows, so a partial index.
CREATE INDEX settlement_lines_payout_idx ON settlement_lines (payout_id) WHERE payout_id IS NOT NULL;

-- The grants: curators (and admins) manage plans, codes, tokens and rules; the platform's
-- claims, attributions and conversions are recorded by admins; finance reads.
CREATE FUNCTION app_roles_grant_referrals() RETURNS void LANGUAGE plpgsql AS $grant$
DECLARE
    cur text := (SELECT pg_role FROM app_roles WHERE role = 'curator');
    adm text := (SELECT pg_role FROM app_roles WHERE role = 'admin');
BEGIN
    IF cur IS NULL THEN
        RETURN;
    END IF;
    EXECUTE format('GRANT INSERT, UPDATE ON plans, referral_codes, claim_tokens, commission_rules TO %I', cur);
    EXECUTE format('GRANT INSERT ON referral_accounts, referral_payouts TO %I', adm);
END
$grant$;
REVOKE ALL ON FUNCTION app_roles_grant_referrals() FROM PUBLIC;

-- 0020's settlement grants, then 0021's webhook grants and the referral grants:
-- app_roles_grant() reaches this.
CREATE OR REPLACE FUNCTION app_roles_grant_settlements() RETURNS void LANGUAGE plpgsql AS $grant$
DECLARE
    fin text := (SELECT pg_role FROM app_roles WHERE role = 'finance');
BEGIN
    IF fin IS NULL THEN
        RETURN;
    END IF;
    EXECUTE format('GRANT INSERT, UPDATE ON settlements TO %I', fin);
    EXECUTE format('GRANT INSERT, DELETE ON settlement_lines TO %I', fin);
    EXECUTE format('GRANT INSERT ON payout_ledger, agreements TO %I', fin);
    PERFORM app_roles_grant_webhooks();
    PERFORM app_roles_grant_referrals();
END
$grant$;

SELECT app_roles_grant();
