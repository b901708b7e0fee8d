-- Deals entering and leaving the active set are announced (LISTEN/NOTIFY), so a console's
-- redemption monitor follows deals activated, paused or expired by anyone (another session,
-- the expiry job, a script) without polling. The payload is `ID:STATE`; an active deal whose
-- title or partner changes is announced again, so the monitor shows the new title.
-- Delivered when the transaction commits.
CREATE FUNCTION deals_notify_state() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('partnerdesk_deal_states', NEW.id || ':' || NEW.state);
    RETURN NULL;
END;
$$;
CREATE TRIGGER deals_notify_state_insert AFTER INSERT ON deals
    FOR EACH ROW WHEN (NEW.state = 'active')
    EXECUTE FUNCTION deals_notify_state();
CREATE TRIGGER deals_notify_state_update AFTER UPDATE OF state, title, partner_id ON deals
    FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state
                       OR (NEW.state = 'active' AND (OLD.title IS DISTINCT FROM NEW.title
                                                    OR OLD.partner_id IS DISTINCT FROM NEW.partner_id)))
    EXECUTE FUNCTION deals_notify_state();
