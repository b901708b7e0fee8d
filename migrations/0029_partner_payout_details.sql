-- Where the marketplace pays a partner (issue "Finance: … payout batches"): the account holder,
-- the IBAN (ISO 13616: its country's format and the mod-97 checksum, checked here too), the BIC
-- and the payout currency, one row per partner. Finance and admin read it whole; every other
-- group reads only the masked IBAN (`DE89 •••• •••• 3000`), the currency and who changed it
-- when. When the account last changed (`changed_at`) is set by the database, never by the
-- statement; `updated_by` names the login (0027's rule).

-- Is `iban` (electronic form) an IBAN by its shape and its mod-97 checksum?
CREATE FUNCTION pd_iban_ok(iban text) RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    r text;
    m int := 0;
    c text;
BEGIN
    IF iban IS NULL OR iban !~ '^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$' THEN
        RETURN false;
    END IF;
    r := substr(iban, 5) || substr(iban, 1, 4);
    FOR i IN 1..length(r) LOOP
        c := substr(r, i, 1);
        IF c ~ '[0-9]' THEN
            m := (m * 10 + c::int) % 97;
        ELSE
            m := (m * 100 + ascii(c) - 55) % 97;
        END IF;
    END LOOP;
    RETURN m = 1;
END
$$;

CREATE TABLE partner_payout_details (
    partner_id  bigint PRIMARY KEY REFERENCES partners (id),
    holder      text NOT NULL CHECK (pd_one_line(holder) AND length(btrim(holder)) BETWEEN 1 AND 70),
    iban        text NOT NULL CHECK (pd_iban_ok(iban)),
    bic         text NOT NULL CHECK (bic ~ '^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$'),
    currency    text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    iban_masked text GENERATED ALWAYS AS (left(iban, 4) || ' •••• •••• ' || right(iban, 4)) STORED,
    changed_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  text NOT NULL,
    version     int NOT NULL DEFAULT 1
);

-- The account's last change: now, when the holder, IBAN, BIC or currency change.
CREATE FUNCTION partner_payout_details_changed() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF TG_OP = 'INSERT' OR (NEW.holder, NEW.iban, NEW.bic, NEW.currency)
                           IS DISTINCT FROM (OLD.holder, OLD.iban, OLD.bic, OLD.currency) THEN
        NEW.changed_at := now();
    ELSE
        NEW.changed_at := OLD.changed_at;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER partner_payout_details_changed BEFORE INSERT OR UPDATE ON partner_payout_details
    FOR EACH ROW EXECUTE FUNCTION partner_payout_details_changed();
SELECT pd_names_login('partner_payout_details', ARRAY['updated_by'], true);

INSERT INTO app_grants (feature, role, privilege, object, columns, but) VALUES
    ('payouts', 'finance', 'INSERT', 'partner_payout_details', NULL, NULL),
    ('payouts', 'finance', 'UPDATE', 'partner_payout_details', NULL,
        ARRAY['partner_id', 'iban_masked', 'changed_at']),
    ('payouts', 'curator', 'SELECT', 'partner_payout_details',
        ARRAY['partner_id', 'iban_masked', 'currency', 'changed_at', 'updated_by', 'version'], NULL),
    ('payouts', 'support', 'SELECT', 'partner_payout_details',
        ARRAY['partner_id', 'iban_masked', 'currency', 'changed_at', 'updated_by', 'version'], NULL),
    ('payouts', 'readonly', 'SELECT', 'partner_payout_details',
        ARRAY['partner_id', 'iban_masked', 'currency', 'changed_at', 'updated_by', 'version'], NULL);

SELECT app_roles_grant();
