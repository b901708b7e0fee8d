-- Events out (SPEC §1.8, issue 15): webhook endpoints, one delivery per (event, endpoint),
-- every attempt, and what the relay needs to find new events without losing one.

-- The transaction that wrote each event. Ids are taken in insertion order but committed in
-- another: an event with a lower id may become visible after one with a higher id. The relay
-- therefore never trusts "the highest id seen"; it keeps a horizon of transaction ids below
-- which every writer has finished (the snapshot's xmin), and re-reads events from there on.
ALTER TABLE outbox_events ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX outbox_events_xid_idx ON outbox_events (xid);

-- A committed insert wakes the relays (NOTIFY is delivered at commit; one per statement).
CREATE FUNCTION outbox_events_published() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('partnerdesk_outbox', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER outbox_events_published
    AFTER INSERT ON outbox_events
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_events_published();

CREATE TABLE webhook_endpoints (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url                 text NOT NULL CHECK (url ~* '^https?://[^[:space:]]+$' AND length(url) <= 2000),
    -- NULL: every event type.
    event_types         text[] CHECK (event_types IS NULL OR cardinality(event_types) > 0),
    -- Standard Webhooks secrets: whsec_ + base64 of the key.
    secret              text NOT NULL CHECK (secret ~ '^whsec_[A-Za-z0-9+/=]{32,}$'),
    previous_secret     text CHECK (previous_secret ~ '^whsec_[A-Za-z0-9+/=]{32,}$'),
    previous_expires_at timestamptz,
    enabled             boolean NOT NULL DEFAULT true,
    disabled_reason     text,
    -- Since when every attempt failed (NULL after a success); days of it disable the endpoint.
    failing_since       timestamptz,
    -- Events with a greater id are delivered: those written after the endpoint was added.
    after_event_id      bigint NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text NOT NULL,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    updated_by          text NOT NULL,
    version             integer NOT NULL DEFAULT 1,
    CHECK ((previous_secret IS NULL) = (previous_expires_at IS NULL)),
    CHECK (enabled OR disabled_reason IS NOT NULL)
);

-- One delivery per event and endpoint, however many relays enqueue it.
CREATE TABLE webhook_deliveries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id        bigint NOT NULL REFERENCES outbox_events (id),
    endpoint_id     bigint NOT NULL REFERENCES webhook_endpoints (id),
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'delivering', 'delivered', 'failed')),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- While delivering: until when the relay that claimed it owns it.
    lease_until     timestamptz,
    last_status     integer,
    last_error      text,
    delivered_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT webhook_deliveries_event_endpoint_key UNIQUE (event_id, endpoint_id),
    CHECK ((status = 'delivering') = (lease_until IS NOT NULL)),
    CHECK ((status = 'delivered') = (delivered_at IS NOT NULL))
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint_due_idx ON webhook_deliveries (endpoint_id, next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_lease_idx ON webhook_deliveries (lease_until) WHERE status = 'delivering';
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, id DESC);

-- Every attempt: when, the HTTP status (none when no answer came), how long, what went wrong.
CREATE TABLE webhook_attempts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id bigint NOT NULL REFERENCES webhook_deliveries (id),
    at          timestamptz NOT NULL DEFAULT now(),
    status      integer,
    duration_ms integer,
    error       text
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, id);

-- The relays' horizon: every event whose transaction id is below it has been enqueued.
CREATE TABLE webhook_relay_state (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    horizon   xid8 NOT NULL
);
INSERT INTO webhook_relay_state (horizon) VALUES (pg_snapshot_xmin(pg_current_snapshot()));

-- The grants: the admin manages endpoints and runs the relay. Secrets are read by the admin
-- alone: the other roles read endpoints without them.
CREATE FUNCTION app_roles_grant_webhooks() RETURNS void LANGUAGE plpgsql AS $grant$
DECLARE
    adm text := (SELECT pg_role FROM app_roles WHERE role = 'admin');
    g   text;
BEGIN
    IF adm IS NULL THEN
        RETURN;
    END IF;
    EXECUTE format('GRANT INSERT, UPDATE ON webhook_endpoints, webhook_deliveries, webhook_relay_state TO %I', adm);
    EXECUTE format('GRANT INSERT ON webhook_attempts TO %I', adm);
    FOREACH g IN ARRAY ARRAY(SELECT pg_role FROM app_roles WHERE role <> 'admin') LOOP
        EXECUTE format('REVOKE SELECT ON webhook_endpoints FROM %I', g);
        EXECUTE format('GRANT SELECT (id, url, event_types, previous_expires_at, enabled, disabled_reason,
            failing_since, after_event_id, created_at, created_by, updated_at, updated_by, version)
            ON webhook_endpoints TO %I', g);
    END LOOP;
END
$grant$;
REVOKE ALL ON FUNCTION app_roles_grant_webhooks() FROM PUBLIC;

-- 0020's settlement grants, then the webhook grants: app_roles_grant() calls this.
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
END
$grant$;

SELECT app_roles_grant();
