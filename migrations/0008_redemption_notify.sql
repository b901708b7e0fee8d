-- Live redemption counts: every change of a deal's count is announced (LISTEN/NOTIFY), so a
-- console updates without polling whoever recorded it. Delivered when the transaction commits.
CREATE FUNCTION deals_notify_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('partnerdesk_redemptions', NEW.id || ':' || NEW.redemption_count);
    RETURN NULL;
END;
$$;
CREATE TRIGGER deals_notify_count AFTER UPDATE OF redemption_count ON deals
    FOR EACH ROW WHEN (OLD.redemption_count IS DISTINCT FROM NEW.redemption_count)
    EXECUTE FUNCTION deals_notify_count();
