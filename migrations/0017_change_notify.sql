-- Every change an operator makes writes its audit row: announce which kind of record changed
-- (LISTEN/NOTIFY on `partnerdesk_changes`, payload the entity type), once per statement and
-- kind, so that every console showing such records reloads them without polling. Delivered
-- when the transaction commits; the same payload twice in one transaction is delivered once.
CREATE FUNCTION audit_log_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    kind text;
BEGIN
    FOR kind IN SELECT DISTINCT entity_type FROM new_rows LOOP
        PERFORM pg_notify('partnerdesk_changes', kind);
    END LOOP;
    RETURN NULL;
END;
$$;
CREATE TRIGGER audit_log_notify_change AFTER INSERT ON audit_log
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_notify_change();
