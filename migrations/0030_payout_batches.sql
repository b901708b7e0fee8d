-- Marketplace settings, minimum payouts and payout batches (issue "Finance: … payout batches").
--
-- 1. marketplace_settings: one row, the marketplace's own rules (holding period) and bank
--    account (the debtor of every SEPA file). Set by admins only; the bank columns are read
--    only by finance and admin.
-- 2. minimum_payouts: a minimum per currency (none by default); a partner's override lives on
--    its payout details (`minimum_minor`, in the details' currency).
-- 3. payout_batches and payout_batch_items: a batch gathers approved statements the
--    marketplace owes in one currency, with each partner's bank details as they stood when the
--    batch was made. A statement is in at most one batch that is not cancelled (a unique
--    index); statements join a batch only in the transaction that creates it; while the batch
--    is open the statement moves neither on its own (pay, dispute) nor out; paying the batch
--    pays every statement in it in that transaction, each with its payment ledger entry.

-- Settings -------------------------------------------------------------------------------------

CREATE TABLE marketplace_settings (
    id           boolean PRIMARY KEY DEFAULT true CHECK (id),
    holding_days integer NOT NULL DEFAULT 30 CHECK (holding_days BETWEEN 0 AND 365),
    bank_holder  text CHECK (bank_holder IS NULL
                             OR (pd_one_line(bank_holder) AND length(btrim(bank_holder)) BETWEEN 1 AND 70)),
    bank_iban    text CHECK (bank_iban IS NULL OR pd_iban_ok(bank_iban)),
    bank_bic     text CHECK (bank_bic IS NULL OR bank_bic ~ '^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$'),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    updated_by   text NOT NULL DEFAULT 'system',
    version      integer NOT NULL DEFAULT 1,
    CONSTRAINT marketplace_settings_bank_whole
        CHECK ((bank_holder IS NULL) = (bank_iban IS NULL) AND (bank_iban IS NULL) = (bank_bic IS NULL))
);
INSERT INTO marketplace_settings DEFAULT VALUES;
SELECT pd_names_login('marketplace_settings', ARRAY['updated_by'], false);

CREATE TABLE minimum_payouts (
    currency     text PRIMARY KEY CHECK (currency ~ '^[A-Z]{3}$'),
    amount_minor bigint NOT NULL CHECK (amount_minor > 0 AND amount_minor <= 100000000000000),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    updated_by   text NOT NULL
);
SELECT pd_names_login('minimum_payouts', ARRAY['updated_by'], true);

ALTER TABLE partner_payout_details
    ADD COLUMN minimum_minor bigint CHECK (minimum_minor IS NULL
                                           OR (minimum_minor >= 0 AND minimum_minor <= 100000000000000));

-- Batches --------------------------------------------------------------------------------------

CREATE TABLE payout_batches (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    currency          text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status            text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'paid', 'cancelled')),
    -- Kept by the database from the batch's items.
    statement_count   integer NOT NULL DEFAULT 0 CHECK (statement_count >= 0),
    total_minor       bigint NOT NULL DEFAULT 0 CHECK (total_minor >= 0),
    changed_accounts  integer NOT NULL DEFAULT 0 CHECK (changed_accounts >= 0),
    note              text CHECK (note IS NULL OR (length(note) BETWEEN 1 AND 2000 AND pd_lines(note))),
    created_at        timestamptz NOT NULL DEFAULT now(),
    created_by        text NOT NULL,
    -- The transaction that made it: the only one that may add its statements.
    created_xact      xid8 NOT NULL DEFAULT pg_current_xact_id(),
    paid_on           date,
    payment_reference text CHECK (payment_reference IS NULL
                                  OR (pd_one_line(payment_reference) AND length(btrim(payment_reference)) BETWEEN 1 AND 140)),
    paid_at           timestamptz,
    paid_by           text,
    cancelled_at      timestamptz,
    cancelled_by      text,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    updated_by        text NOT NULL,
    version           integer NOT NULL DEFAULT 1,
    CONSTRAINT payout_batches_paid CHECK ((status = 'paid') = (paid_on IS NOT NULL AND payment_reference IS NOT NULL
                                                                AND paid_at IS NOT NULL AND paid_by IS NOT NULL)),
    CONSTRAINT payout_batches_cancelled CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL AND cancelled_by IS NOT NULL))
);
CREATE INDEX payout_batches_list_idx ON payout_batches (id DESC);
SELECT pd_names_login('payout_batches', ARRAY['created_by', 'paid_by', 'cancelled_by', 'updated_by'], true);

CREATE TABLE payout_batch_items (
    batch_id           bigint NOT NULL REFERENCES payout_batches (id),
    settlement_id      bigint NOT NULL REFERENCES settlements (id),
    partner_id         bigint NOT NULL REFERENCES partners (id),
    -- What the marketplace pays: the statement's net, owed (-net_minor), in the batch's currency.
    amount_minor       bigint NOT NULL CHECK (amount_minor > 0),
    -- The partner's account as it stood when the batch was made.
    holder             text NOT NULL,
    iban               text NOT NULL,
    iban_masked        text GENERATED ALWAYS AS (left(iban, 4) || ' •••• •••• ' || right(iban, 4)) STORED,
    bic                text NOT NULL,
    account_changed_at timestamptz NOT NULL,
    -- Set by the database when its batch is cancelled: the statement may join another batch.
    released           boolean NOT NULL DEFAULT false,
    PRIMARY KEY (batch_id, settlement_id)
);
-- Each statement is in at most one batch that is not cancelled.
CREATE UNIQUE INDEX payout_batch_items_settlement_key ON payout_batch_items (settlement_id) WHERE NOT released;
CREATE INDEX payout_batch_items_partner_idx ON payout_batch_items (partner_id);

-- A batch's identity, note and currency never change; once paid or cancelled nothing does.
-- Its transaction is the database's to say.
CREATE FUNCTION payout_batches_rules() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.created_xact := pg_current_xact_id();
        NEW.created_at := now();
        IF NEW.status <> 'open' OR NEW.statement_count <> 0 OR NEW.total_minor <> 0 OR NEW.changed_accounts <> 0 THEN
            RAISE EXCEPTION 'payout batch: a batch starts open and empty; its statements make its totals'
                USING ERRCODE = 'PDR01';
        END IF;
        RETURN NEW;
    END IF;
    IF OLD.status <> 'open' THEN
        RAISE EXCEPTION 'payout batch % is %: it never changes', OLD.id, OLD.status USING ERRCODE = 'PDR01';
    END IF;
    IF (NEW.currency, NEW.note, NEW.created_at, NEW.created_by, NEW.created_xact)
       IS DISTINCT FROM (OLD.currency, OLD.note, OLD.created_at, OLD.created_by, OLD.created_xact) THEN
        RAISE EXCEPTION 'payout batch %: its currency, note and creation never change', OLD.id USING ERRCODE = 'PDR01';
    END IF;
    IF NEW.status = 'paid' THEN
        NEW.paid_at := now();
    END IF;
    IF NEW.status = 'cancelled' THEN
        NEW.cancelled_at := now();
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER payout_batches_rules BEFORE INSERT OR UPDATE ON payout_batches
    FOR EACH ROW EXECUTE FUNCTION payout_batches_rules();

INSERT INTO status_moves (entity, from_status, to_status, move) VALUES
    ('payout_batch', 'open', 'paid', 'pay'),
    ('payout_batch', 'open', 'cancelled', 'cancel');
CREATE TRIGGER payout_batches_status_move BEFORE UPDATE OF status ON payout_batches
    FOR EACH ROW EXECUTE FUNCTION status_move_allowed('payout_batch');

-- Statements join a batch in the transaction that makes it, while it is open: approved, in its
-- currency, owed to the partner (the item's amount is the net owed), with the partner's payout
-- details in that currency as they stand. Then the batch's totals are counted again from its
-- items; a batch paying an account changed in the last 14 days needs a note.
CREATE FUNCTION payout_batch_items_added() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    bad record;
BEGIN
    SELECT b.id, b.status INTO bad
      FROM payout_batches b
     WHERE b.id IN (SELECT batch_id FROM pd_rows)
       AND (b.status <> 'open' OR b.created_xact <> pg_current_xact_id())
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'payout batch %: statements join a batch only in the transaction that makes it', bad.id
            USING ERRCODE = 'PDR01';
    END IF;
    SELECT i.settlement_id, s.status, s.currency, s.net_minor, b.currency AS batch_currency INTO bad
      FROM pd_rows i
      JOIN payout_batches b ON b.id = i.batch_id
      JOIN settlements s ON s.id = i.settlement_id
     WHERE s.status <> 'approved' OR s.currency <> b.currency OR i.partner_id <> s.partner_id
        OR i.amount_minor <> -s.net_minor
     ORDER BY i.settlement_id LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'payout batch: settlement % is % in % with net %; a batch pays approved statements of its currency (%) what they owe the partner',
            bad.settlement_id, bad.status, bad.currency, bad.net_minor, bad.batch_currency
            USING ERRCODE = 'PDR01';
    END IF;
    SELECT i.settlement_id, i.partner_id INTO bad
      FROM pd_rows i
      JOIN payout_batches b ON b.id = i.batch_id
      LEFT JOIN partner_payout_details d ON d.partner_id = i.partner_id
     WHERE d.partner_id IS NULL OR d.currency <> b.currency
        OR (d.holder, d.iban, d.bic, d.changed_at) IS DISTINCT FROM (i.holder, i.iban, i.bic, i.account_changed_at)
     ORDER BY i.settlement_id LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'payout batch: settlement % pays partner % to its payout details in the batch''s currency, as they stand',
            bad.settlement_id, bad.partner_id
            USING ERRCODE = 'PDR01';
    END IF;
    UPDATE payout_batches b
       SET statement_count = t.n, total_minor = t.total, changed_accounts = t.changed
      FROM (SELECT i.batch_id, count(*) AS n, sum(i.amount_minor)::bigint AS total,
                   count(DISTINCT i.partner_id) FILTER (WHERE i.account_changed_at > now() - interval '14 days') AS changed
              FROM payout_batch_items i
             WHERE i.batch_id IN (SELECT batch_id FROM pd_rows)
             GROUP BY i.batch_id) t
     WHERE b.id = t.batch_id;
    SELECT b.id, b.changed_accounts INTO bad
      FROM payout_batches b
     WHERE b.id IN (SELECT batch_id FROM pd_rows) AND b.changed_accounts > 0 AND b.note IS NULL
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'payout batch %: % partner account(s) changed in the last 14 days; a batch that pays them needs a note',
            bad.id, bad.changed_accounts
            USING ERRCODE = 'PDR01';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER payout_batch_items_added AFTER INSERT ON payout_batch_items
    REFERENCING NEW TABLE AS pd_rows FOR EACH STATEMENT EXECUTE FUNCTION payout_batch_items_added();

-- Items never change but by the database, which releases them when their batch is cancelled.
CREATE FUNCTION payout_batch_items_frozen() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND (NEW.batch_id, NEW.settlement_id, NEW.partner_id, NEW.amount_minor, NEW.holder, NEW.iban, NEW.bic,
            NEW.account_changed_at) IS NOT DISTINCT FROM
           (OLD.batch_id, OLD.settlement_id, OLD.partner_id, OLD.amount_minor, OLD.holder, OLD.iban, OLD.bic,
            OLD.account_changed_at)
       AND NEW.released AND NOT OLD.released
       AND EXISTS (SELECT FROM payout_batches b WHERE b.id = OLD.batch_id AND b.status = 'cancelled') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'payout batch %: its statements never change (cancel the batch to free them)', OLD.batch_id
        USING ERRCODE = 'PDR01';
END
$$;
CREATE TRIGGER payout_batch_items_frozen BEFORE UPDATE OR DELETE ON payout_batch_items
    FOR EACH ROW EXECUTE FUNCTION payout_batch_items_frozen();

-- A cancelled batch frees its statements.
CREATE FUNCTION payout_batches_release() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    UPDATE payout_batch_items SET released = true WHERE batch_id = NEW.id AND NOT released;
    RETURN NULL;
END
$$;
CREATE TRIGGER payout_batches_release AFTER UPDATE OF status ON payout_batches
    FOR EACH ROW WHEN (NEW.status = 'cancelled' AND OLD.status <> 'cancelled')
    EXECUTE FUNCTION payout_batches_release();

-- A paid batch has paid every statement in it when its transaction commits.
CREATE FUNCTION payout_batches_paid_whole() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    left_over bigint;
BEGIN
    SELECT i.settlement_id INTO left_over
      FROM payout_batch_items i JOIN settlements s ON s.id = i.settlement_id
     WHERE i.batch_id = NEW.id AND s.status <> 'paid'
     ORDER BY i.settlement_id LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'payout batch % is paid: settlement % in it must be paid in the same transaction', NEW.id, left_over
            USING ERRCODE = 'PDR01';
    END IF;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER payout_batches_paid_whole AFTER UPDATE OF status ON payout_batches
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (NEW.status = 'paid' AND OLD.status <> 'paid')
    EXECUTE FUNCTION payout_batches_paid_whole();

-- A statement in a batch that is not cancelled moves only with it: while the batch is open
-- not at all (neither paid nor disputed on its own), once the batch is paid only to paid,
-- with the batch's reference and date.
CREATE FUNCTION settlements_in_batch() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    b payout_batches%ROWTYPE;
BEGIN
    IF OLD.status IS NOT DISTINCT FROM NEW.status THEN
        RETURN NEW;
    END IF;
    SELECT pb.* INTO b
      FROM payout_batch_items i JOIN payout_batches pb ON pb.id = i.batch_id
     WHERE i.settlement_id = OLD.id AND NOT i.released;
    IF NOT FOUND THEN
        RETURN NEW;
    END IF;
    IF b.status = 'open' THEN
        RAISE EXCEPTION 'settlement % is in open payout batch %: pay or cancel the batch', OLD.id, b.id
            USING ERRCODE = 'PDR01';
    END IF;
    IF NEW.status <> 'paid' OR NEW.payment_reference IS DISTINCT FROM b.payment_reference
       OR NEW.paid_on IS DISTINCT FROM b.paid_on THEN
        RAISE EXCEPTION 'settlement %: payout batch % pays it (reference %, on %)', OLD.id, b.id, b.payment_reference, b.paid_on
            USING ERRCODE = 'PDR01';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER settlements_in_batch BEFORE UPDATE OF status ON settlements
    FOR EACH ROW EXECUTE FUNCTION settlements_in_batch();

-- Events --------------------------------------------------------------------------------------

INSERT INTO outbox_entities (entity_type, table_name, id_column) VALUES
    ('payout_batch', 'payout_batches', 'id');
SELECT pd_track_changes('payout_batches', 'status', ARRAY['statement_count', 'total_minor', 'changed_accounts']);
INSERT INTO outbox_event_needs (event_type, table_name, op, state) VALUES
    ('payout_batch.created', 'payout_batches', 'insert', NULL),
    ('payout_batch.paid', 'payout_batches', 'move', 'paid'),
    ('payout_batch.cancelled', 'payout_batches', 'move', 'cancelled');

-- Grants --------------------------------------------------------------------------------------

INSERT INTO app_grants (feature, role, privilege, object, columns, but) VALUES
    ('settings', 'admin', 'UPDATE', 'marketplace_settings',
        ARRAY['holding_days', 'bank_holder', 'bank_iban', 'bank_bic', 'updated_at', 'updated_by', 'version'], NULL),
    ('settings', 'admin', 'INSERT', 'minimum_payouts', NULL, NULL),
    ('settings', 'admin', 'UPDATE', 'minimum_payouts', ARRAY['amount_minor', 'updated_at', 'updated_by'], NULL),
    ('settings', 'admin', 'DELETE', 'minimum_payouts', NULL, NULL),
    ('settings', 'curator', 'SELECT', 'marketplace_settings',
        ARRAY['id', 'holding_days', 'updated_at', 'updated_by', 'version'], NULL),
    ('settings', 'support', 'SELECT', 'marketplace_settings',
        ARRAY['id', 'holding_days', 'updated_at', 'updated_by', 'version'], NULL),
    ('settings', 'readonly', 'SELECT', 'marketplace_settings',
        ARRAY['id', 'holding_days', 'updated_at', 'updated_by', 'version'], NULL),
    ('payouts', 'finance', 'INSERT', 'payout_batches',
        ARRAY['currency', 'note', 'created_by', 'updated_by'], NULL),
    ('payouts', 'finance', 'UPDATE', 'payout_batches',
        ARRAY['status', 'paid_on', 'payment_reference', 'paid_by', 'cancelled_by', 'updated_at', 'updated_by', 'version'], NULL),
    ('payouts', 'finance', 'INSERT', 'payout_batch_items',
        ARRAY['batch_id', 'settlement_id', 'partner_id', 'amount_minor', 'holder', 'iban', 'bic', 'account_changed_at'], NULL),
    ('payouts', 'curator', 'SELECT', 'payout_batch_items',
        ARRAY['batch_id', 'settlement_id', 'partner_id', 'amount_minor', 'iban_masked', 'account_changed_at', 'released'], NULL),
    ('payouts', 'support', 'SELECT', 'payout_batch_items',
        ARRAY['batch_id', 'settlement_id', 'partner_id', 'amount_minor', 'iban_masked', 'account_changed_at', 'released'], NULL),
    ('payouts', 'readonly', 'SELECT', 'payout_batch_items',
        ARRAY['batch_id', 'settlement_id', 'partner_id', 'amount_minor', 'iban_masked', 'account_changed_at', 'released'], NULL);

-- Others read the partner's minimum beside the masked account.
UPDATE app_grants SET columns = columns || ARRAY['minimum_minor']
 WHERE object = 'partner_payout_details' AND privilege = 'SELECT';

SELECT app_roles_grant();
