-- Negotiations, agreements, contracts and benefits (SPEC §1.6–1.7, issue 12).
--
-- Offer revisions and messages are append-only (like the audit log): a trigger refuses UPDATE
-- and DELETE. A contract's snapshot, its hash and the revision it came from never change, and
-- a contract is never deleted. The agreement table is the one settlements compute from.

CREATE TABLE negotiation_threads (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    partner_id   bigint NOT NULL REFERENCES partners (id),
    deal_id      bigint REFERENCES deals (id),
    subject      text NOT NULL CHECK (length(btrim(subject)) BETWEEN 1 AND 255),
    deadline     timestamptz NOT NULL,
    status       text NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'negotiating', 'accepted', 'rejected', 'withdrawn', 'expired')),
    opened_side  text NOT NULL CHECK (opened_side IN ('marketplace', 'partner')),
    closed_reason text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    created_by   text NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    updated_by   text NOT NULL,
    version      integer NOT NULL DEFAULT 1
);
CREATE INDEX negotiation_threads_partner_idx ON negotiation_threads (partner_id, id);
CREATE INDEX negotiation_threads_open_deadline_idx ON negotiation_threads (deadline)
    WHERE status IN ('pending', 'negotiating');
CREATE INDEX negotiation_threads_updated_idx ON negotiation_threads (updated_at DESC, id DESC);

CREATE TABLE negotiation_messages (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    thread_id  bigint NOT NULL REFERENCES negotiation_threads (id),
    side       text NOT NULL CHECK (side IN ('marketplace', 'partner')),
    author     text NOT NULL,
    body       text NOT NULL CHECK (length(body) BETWEEN 1 AND 10000),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX negotiation_messages_thread_idx ON negotiation_messages (thread_id, id);

CREATE TABLE negotiation_offers (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    thread_id  bigint NOT NULL REFERENCES negotiation_threads (id),
    revision   integer NOT NULL CHECK (revision >= 1),
    side       text NOT NULL CHECK (side IN ('marketplace', 'partner')),
    author     text NOT NULL,
    terms      jsonb NOT NULL,
    note       text,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT negotiation_offers_revision_key UNIQUE (thread_id, revision)
);

CREATE FUNCTION append_only_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;
CREATE TRIGGER negotiation_offers_append_only
    BEFORE UPDATE OR DELETE ON negotiation_offers
    FOR EACH ROW EXECUTE FUNCTION append_only_row();
CREATE TRIGGER negotiation_messages_append_only
    BEFORE UPDATE OR DELETE ON negotiation_messages
    FOR EACH ROW EXECUTE FUNCTION append_only_row();

-- A partner's commercial terms from a date (SPEC §1.7); one row per version.
CREATE TABLE agreements (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    partner_id      bigint NOT NULL REFERENCES partners (id),
    version         integer NOT NULL CHECK (version >= 1),
    effective_from  date NOT NULL,
    currency        text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    frequency       text NOT NULL CHECK (frequency IN ('monthly', 'quarterly', 'annual')),
    take_rate_bps   integer NOT NULL DEFAULT 1500 CHECK (take_rate_bps BETWEEN 0 AND 10000),
    model           text NOT NULL CHECK (model IN ('percentage', 'fixed_fee', 'hybrid', 'flat_fee')),
    rate_bps        integer CHECK (rate_bps BETWEEN 0 AND 10000),
    amount_minor    bigint CHECK (amount_minor >= 0),
    base_bps        integer CHECK (base_bps BETWEEN 0 AND 10000),
    bonus_bps       integer CHECK (bonus_bps BETWEEN 0 AND 10000),
    bonus_threshold integer CHECK (bonus_threshold >= 1),
    source_offer_id bigint REFERENCES negotiation_offers (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    created_by      text NOT NULL,
    CONSTRAINT agreements_version_key UNIQUE (partner_id, version),
    CONSTRAINT agreements_model_params CHECK (
        (model = 'percentage' AND rate_bps IS NOT NULL)
        OR (model IN ('fixed_fee', 'flat_fee') AND amount_minor IS NOT NULL)
        OR (model = 'hybrid' AND base_bps IS NOT NULL AND bonus_bps IS NOT NULL AND bonus_threshold IS NOT NULL)
    )
);
CREATE INDEX agreements_effective_idx ON agreements (partner_id, effective_from, version);
CREATE TRIGGER agreements_append_only
    BEFORE UPDATE OR DELETE ON agreements
    FOR EACH ROW EXECUTE FUNCTION append_only_row();

CREATE TABLE contracts (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    thread_id     bigint NOT NULL UNIQUE REFERENCES negotiation_threads (id),
    offer_id      bigint NOT NULL REFERENCES negotiation_offers (id),
    partner_id    bigint NOT NULL REFERENCES partners (id),
    agreement_id  bigint NOT NULL REFERENCES agreements (id),
    deal_id       bigint NOT NULL REFERENCES deals (id),
    snapshot      jsonb NOT NULL,
    snapshot_hash text NOT NULL CHECK (snapshot_hash ~ '^[0-9a-f]{64}$'),
    status        text NOT NULL DEFAULT 'draft'
                  CHECK (status IN ('draft', 'pending_signature', 'signed', 'completed', 'cancelled', 'disputed')),
    status_reason text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    created_by    text NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    updated_by    text NOT NULL,
    version       integer NOT NULL DEFAULT 1
);

CREATE FUNCTION contracts_snapshot_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'contracts are never deleted (contract %)', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.snapshot IS DISTINCT FROM OLD.snapshot
       OR NEW.snapshot_hash IS DISTINCT FROM OLD.snapshot_hash
       OR NEW.thread_id IS DISTINCT FROM OLD.thread_id
       OR NEW.offer_id IS DISTINCT FROM OLD.offer_id
       OR NEW.partner_id IS DISTINCT FROM OLD.partner_id THEN
        RAISE EXCEPTION 'contract %: the snapshot of the accepted terms never changes (status %)', OLD.id, OLD.status
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER contracts_snapshot_fixed
    BEFORE UPDATE OR DELETE ON contracts
    FOR EACH ROW EXECUTE FUNCTION contracts_snapshot_fixed();

CREATE TABLE contract_signatures (
    contract_id bigint NOT NULL REFERENCES contracts (id),
    side        text NOT NULL CHECK (side IN ('marketplace', 'partner')),
    operator    text NOT NULL,
    signed_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (contract_id, side)
);
CREATE TRIGGER contract_signatures_append_only
    BEFORE UPDATE OR DELETE ON contract_signatures
    FOR EACH ROW EXECUTE FUNCTION append_only_row();

CREATE TABLE contract_benefits (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contract_id bigint NOT NULL REFERENCES contracts (id),
    position    integer NOT NULL,
    name        text NOT NULL,
    due_date    date,
    status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'missed')),
    note        text,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  text NOT NULL,
    CONSTRAINT contract_benefits_position_key UNIQUE (contract_id, position),
    CONSTRAINT contract_benefits_note CHECK (status = 'pending' OR length(btrim(note)) > 0)
);
CREATE INDEX contract_benefits_due_idx ON contract_benefits (due_date) WHERE status = 'pending';

-- The grants, extended: curator (and so admin) negotiate; everyone reads.
CREATE OR REPLACE FUNCTION app_roles_grant_negotiations() RETURNS void LANGUAGE plpgsql AS $grant$
DECLARE
    cur text := (SELECT pg_role FROM app_roles WHERE role = 'curator');
BEGIN
    IF cur IS NULL THEN
        RETURN;
    END IF;
    EXECUTE format('GRANT INSERT, UPDATE ON negotiation_threads, contracts, contract_benefits TO %I', cur);
    EXECUTE format('GRANT INSERT ON negotiation_messages, negotiation_offers, agreements, contract_signatures TO %I', cur);
END
$grant$;
REVOKE ALL ON FUNCTION app_roles_grant_negotiations() FROM PUBLIC;

-- app_roles_grant() as in 0018, now calling the negotiation grants too.
CREATE OR REPLACE FUNCTION app_roles_grant() RETURNS void LANGUAGE plpgsql AS $grant$
DECLARE
    cur text := (SELECT pg_role FROM app_roles WHERE role = 'curator');
    sup text := (SELECT pg_role FROM app_roles WHERE role = 'support');
    fin text := (SELECT pg_role FROM app_roles WHERE role = 'finance');
    adm text := (SELECT pg_role FROM app_roles WHERE role = 'admin');
    ro  text := (SELECT pg_role FROM app_roles WHERE role = 'readonly');
    g   text;
BEGIN
    IF adm IS NULL THEN
        RETURN;
    END IF;
    EXECUTE 'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC';
    FOREACH g IN ARRAY ARRAY[cur, sup, fin, adm, ro] LOOP
        EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA public FROM %I', g);
        EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM %I', g);
        EXECUTE format('GRANT USAGE ON SCHEMA public TO %I', g);
        EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA public TO %I', g);
    END LOOP;

    -- The admin may do what every other role may (SPEC §1.1), and registers operators.
    EXECUTE format('GRANT %I, %I, %I TO %I', cur, sup, fin, adm);

    -- curator: partners (create, edit, vet, disable, soft-delete, off-board), vetting checks,
    -- deals (author, edit, change state, the expiry job), their coupon codes and search index.
    EXECUTE format('GRANT INSERT, UPDATE ON partners, deals, deal_coupon_codes, partner_checks TO %I', cur);
    EXECUTE format('GRANT INSERT, UPDATE, DELETE ON deal_search_documents TO %I', cur);
    -- support: flag and unflag redemptions; partners' confirmed conversions.
    EXECUTE format('GRANT UPDATE (flag_kind, flag_note, flagged_by, flagged_at) ON redemptions TO %I', sup);
    EXECUTE format('GRANT INSERT, UPDATE ON deal_conversions TO %I', sup);
    -- finance: settlements arrive later; reads only for now.
    -- admin: operators; recording redemptions as the platform does (deal counts are curator's).
    EXECUTE format('GRANT INSERT, UPDATE ON operators TO %I', adm);
    EXECUTE format('GRANT INSERT ON redemptions TO %I', adm);

    -- Every role that writes anything writes its audit row and outbox event.
    FOREACH g IN ARRAY ARRAY[cur, sup, fin, adm] LOOP
        EXECUTE format('GRANT INSERT ON audit_log, outbox_events TO %I', g);
        EXECUTE format('GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO %I', g);
    END LOOP;
    -- Append-only for everyone but the owner (the triggers stay as a second wall).
    EXECUTE 'REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC';
    FOREACH g IN ARRAY ARRAY[cur, sup, fin, adm, ro] LOOP
        EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON audit_log FROM %I', g);
    END LOOP;

    EXECUTE 'REVOKE ALL ON FUNCTION db_login_set_roles(text, text[]) FROM PUBLIC';
    EXECUTE format('GRANT EXECUTE ON FUNCTION db_login_set_roles(text, text[]) TO %I', adm);
    -- Negotiations, agreements, contracts and benefits (0019).
    PERFORM app_roles_grant_negotiations();
END
$grant$;
REVOKE ALL ON FUNCTION app_roles_grant() FROM PUBLIC;

SELECT app_roles_grant();
