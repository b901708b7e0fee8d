-- A referral conversion comes after its account's attribution, whoever writes it (issue
-- "Finance: late data…"): a payout dated before the attribution is refused (SQLSTATE PDR01).
-- Per row, on the conversion path only (one row per conversion).
CREATE FUNCTION referral_payouts_after_attribution() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    attributed timestamptz;
BEGIN
    SELECT attributed_at INTO attributed FROM referral_accounts WHERE account_id = NEW.account_id;
    IF attributed IS NOT NULL AND NEW.converted_at < attributed THEN
        RAISE EXCEPTION 'referral payout: account % converted at % is before its attribution at %', NEW.account_id, NEW.converted_at, attributed
            USING ERRCODE = 'PDR01';
    END IF;
    RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION referral_payouts_after_attribution() FROM PUBLIC;
CREATE TRIGGER referral_payouts_after_attribution BEFORE INSERT OR UPDATE OF converted_at, account_id
    ON referral_payouts FOR EACH ROW EXECUTE FUNCTION referral_payouts_after_attribution();
