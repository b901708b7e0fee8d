-- Who may do what, enforced by the database (SPEC §1.1, issue 11).
--
-- One NOLOGIN group role per application role, named after this database so that several
-- partnerdesk databases can share one cluster: database "partnerdesk" gets partnerdesk_curator,
-- partnerdesk_support, partnerdesk_finance, partnerdesk_admin and partnerdesk_readonly (a name
-- longer than 50 characters is cut to 41 and given 8 hex digits of its md5). app_roles keeps
-- the names, so a renamed database keeps its roles. Each group gets exactly what its use cases
-- write; everyone reads everything. A person's LOGIN role is a member of some of them (made by
-- `partnerdesk operators add LOGIN --db-login`, through db_login_set_roles below).
--
-- Only the owner (who runs `partnerdesk migrate`) may UPDATE, DELETE or TRUNCATE audit_log, and
-- only the owner may ALTER it (disable its triggers); session_replication_role is a superuser
-- setting. Creating roles needs CREATEROLE: an owner without it gets the tables, no roles, and
-- `partnerdesk doctor` says so.

CREATE TABLE app_roles (
    role    text PRIMARY KEY CHECK (role IN ('curator', 'support', 'finance', 'admin', 'readonly')),
    pg_role name NOT NULL UNIQUE
);

DO $roles$
DECLARE
    prefix text := current_database();
    may    boolean;
    r      text;
    g      text;
BEGIN
    IF length(prefix) > 50 THEN
        prefix := left(prefix, 41) || '_' || left(md5(current_database()), 8);
    END IF;
    SELECT rolsuper OR rolcreaterole INTO may FROM pg_roles WHERE rolname = current_user;
    IF NOT coalesce(may, false) THEN
        RAISE NOTICE 'partnerdesk: % may not create roles; database roles are not set up', current_user;
        RETURN;
    END IF;
    FOREACH r IN ARRAY ARRAY['curator', 'support', 'finance', 'admin', 'readonly'] LOOP
        g := prefix || '_' || r;
        IF EXISTS (SELECT FROM pg_roles WHERE rolname = g AND (rolcanlogin OR rolsuper)) THEN
            RAISE EXCEPTION 'partnerdesk: role % exists and is a login or superuser; rename it first', g;
        END IF;
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = g) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', g);
        END IF;
        INSERT INTO app_roles (role, pg_role) VALUES (r, g) ON CONFLICT (role) DO NOTHING;
    END LOOP;
END
$roles$;

-- The grants. Run again by every later migration that adds a table (see README).
CREATE FUNCTION app_roles_grant() RETURNS void LANGUAGE plpgsql AS $grant$
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
END
$grant$;

-- A person's LOGIN role and its groups: created if missing, then made a member of exactly
-- the groups of `roles`. Runs as the owner (who may create roles); only the admin group may
-- call it. Refuses superusers, the owner, group roles and roles that cannot log in.
CREATE FUNCTION db_login_set_roles(login text, roles text[]) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    a record;
    target pg_roles%ROWTYPE;
    is_member boolean;
BEGIN
    IF login IS NULL OR login !~ '^[a-z_][a-z0-9._-]{0,62}$' THEN
        RAISE EXCEPTION 'login: lowercase letters, digits, ''.'', ''_'' or ''-'', starting with a letter or ''_'''
            USING ERRCODE = 'check_violation';
    END IF;
    IF login LIKE 'pg\_%' THEN
        RAISE EXCEPTION 'login: names starting with pg_ are reserved' USING ERRCODE = 'check_violation';
    END IF;
    IF roles IS NULL OR cardinality(roles) = 0
       OR NOT roles <@ ARRAY['curator', 'support', 'finance', 'admin', 'readonly'] THEN
        RAISE EXCEPTION 'roles: one or more of curator, support, finance, admin, readonly'
            USING ERRCODE = 'check_violation';
    END IF;
    IF NOT EXISTS (SELECT FROM public.app_roles) THEN
        RAISE EXCEPTION 'this database has no roles set up: the schema owner needs CREATEROLE and runs partnerdesk migrate'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT * INTO target FROM pg_roles WHERE rolname = login;
    IF NOT FOUND THEN
        EXECUTE format('CREATE ROLE %I LOGIN INHERIT', login);
    ELSIF target.rolsuper OR NOT target.rolcanlogin OR login = current_user
          OR EXISTS (SELECT FROM public.app_roles WHERE pg_role = login) THEN
        RAISE EXCEPTION 'login: % is a database role that cannot be a person''s login (a superuser, the owner, a group or no LOGIN)', login
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    FOR a IN SELECT role, pg_role FROM public.app_roles LOOP
        SELECT EXISTS (
            SELECT FROM pg_auth_members m
             WHERE m.roleid = (SELECT oid FROM pg_roles WHERE rolname = a.pg_role)
               AND m.member = (SELECT oid FROM pg_roles WHERE rolname = login)
        ) INTO is_member;
        IF a.role = ANY (roles) AND NOT is_member THEN
            EXECUTE format('GRANT %I TO %I', a.pg_role, login);
        ELSIF NOT a.role = ANY (roles) AND is_member THEN
            EXECUTE format('REVOKE %I FROM %I', a.pg_role, login);
        END IF;
    END LOOP;
END
$fn$;

-- Only the owner runs the grants (functions are executable by PUBLIC unless revoked).
REVOKE ALL ON FUNCTION app_roles_grant() FROM PUBLIC;

SELECT app_roles_grant();
