//! Issue 11 at the database level: the group roles `migrate` makes, what each may do (the
//! database refuses the rest), the audit log that no non-owner can change, and the schema
//! version checked read-only by a non-owner. The logins themselves: `db_logins`.
//!
//! Roles are cluster-wide: every login made here has a unique name and is dropped at the end.

pub use crate::common::Login;
use crate::common::*;
use partnerdesk::service::Desk;
use partnerdesk::service::operators::Claim;
use sqlx::Connection;

pub const GROUPS: [&str; 5] = ["curator", "support", "finance", "admin", "readonly"];

/// Runs `sql` as `group` (SET ROLE on the owner's connection, or on `login`'s own connection)
/// inside a transaction that is rolled back: Ok, or the SQLSTATE and message of the refusal.
async fn try_as(db: &TestDb, group: &str, login: Option<&Login>, sql: &str) -> Result<(), String> {
    let mut c = match login {
        Some(l) => l.pool.acquire().await.unwrap(),
        None => db.pool.acquire().await.unwrap(),
    };
    let mut tx = c.begin().await.unwrap();
    if login.is_none() {
        let pg_role: String = sqlx::query_scalar("SELECT pg_role FROM app_roles WHERE role = $1")
            .bind(group)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("SET LOCAL ROLE \"{pg_role}\"")))
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    let r = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&mut *tx)
        .await;
    tx.rollback().await.ok();
    match r {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(e)) => {
            Err(format!("{} {}", e.code().unwrap_or_default(), e.message()))
        }
        Err(e) => Err(e.to_string()),
    }
}

#[tokio::test]
async fn migrate_makes_one_group_per_role_named_after_the_database() {
    let db = TestDb::new().await;
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT role, pg_role::text FROM app_roles ORDER BY role")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    let mut want: Vec<(String, String)> = GROUPS
        .iter()
        .map(|g| (g.to_string(), format!("{}_{g}", db.name)))
        .collect();
    want.sort();
    assert_eq!(rows, want);
    // None can log in; the admin group holds the other application groups.
    let logins: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_roles r JOIN app_roles a ON a.pg_role = r.rolname
          WHERE r.rolcanlogin OR r.rolsuper OR r.rolcreaterole",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(logins, 0);
    let admin_holds: Vec<String> = sqlx::query_scalar(
        "SELECT a.role FROM app_roles a
           JOIN pg_roles g ON g.rolname = a.pg_role
           JOIN pg_auth_members m ON m.roleid = g.oid
          WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = $1) ORDER BY 1",
    )
    .bind(format!("{}_admin", db.name))
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(admin_holds, vec!["curator", "finance", "support"]);
    // Migrating again (idempotent) changes nothing.
    partnerdesk::store::migrate::run(&db.pool).await.unwrap();
    assert_eq!(db.count("SELECT count(*) FROM app_roles").await, 5);
}

#[tokio::test]
async fn each_group_may_do_exactly_what_spec_1_1_allows_and_the_database_refuses_the_rest() {
    let db = TestDb::new().await;
    let ada = db.admin().await;
    let deal = active_deal(&ada, "ROLES1").await;
    let p = deal.partner_id;
    let d = deal.id;
    let m = member(&db, "mia", "public", false, None, &[]).await;
    let r = ada.record_redemption(d, m, None).await.unwrap().id;
    let new_login = format!(
        "pdt_never_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );

    // (use case, SQL, [curator, support, finance, admin, readonly])
    let reads = "SELECT (SELECT count(*) FROM operators) + (SELECT count(*) FROM audit_log)
        + (SELECT count(*) FROM partners) + (SELECT count(*) FROM members)
        + (SELECT count(*) FROM deals) + (SELECT count(*) FROM deal_coupon_codes)
        + (SELECT count(*) FROM deal_search_documents) + (SELECT count(*) FROM redemptions)
        + (SELECT count(*) FROM outbox_events) + (SELECT count(*) FROM partner_checks)
        + (SELECT count(*) FROM deal_conversions) + (SELECT count(*) FROM app_roles)
        + (SELECT count(*) FROM _sqlx_migrations)";
    let cases: Vec<(&str, String, [bool; 5])> = vec![
        ("read every table", reads.into(), [true; 5]),
        ("create a partner", "INSERT INTO partners (legal_name, display_name, created_by, updated_by) VALUES ('L', 'D', session_user, session_user)".into(), [true, false, false, true, false]),
        ("edit a partner", format!("UPDATE partners SET notes = 'n' WHERE id = {p}"), [true, false, false, true, false]),
        ("store a vetting check", format!("INSERT INTO partner_checks (partner_id, check_name, outcome, detail, checked_by) VALUES ({p}, 'website', 'pass', 'ok', session_user)"), [true, false, false, true, false]),
        ("hard-delete a partner", format!("DELETE FROM partners WHERE id = {p}"), [false; 5]),
        ("author a deal", format!("INSERT INTO deals (partner_id, title, kind, redemption_url, audience_scope, valid_from, valid_until, created_by, updated_by) VALUES ({p}, 'T', 'link', 'https://x.example/', 'public', now(), now() + interval '1 day', session_user, session_user)"), [true, false, false, true, false]),
        ("change a deal's state", format!("UPDATE deals SET state = 'paused' WHERE id = {d}"), [true, false, false, true, false]),
        ("change a coupon code", format!("INSERT INTO deal_coupon_codes (deal_id, code, set_by) VALUES ({d}, 'C2', session_user)"), [true, false, false, true, false]),
        ("take a deal out of search", format!("DELETE FROM deal_search_documents WHERE deal_id = {d}"), [true, false, false, true, false]),
        ("flag a redemption", format!("UPDATE redemptions SET flag_kind = 'fraud', flag_note = 'n', flagged_by = coalesce((SELECT login FROM operators WHERE login = session_user), 'ada'), flagged_at = now() WHERE id = {r}"), [false, true, false, true, false]),
        ("move a redemption to another deal", format!("UPDATE redemptions SET deal_id = deal_id WHERE id = {r}"), [false; 5]),
        ("delete a redemption", format!("DELETE FROM redemptions WHERE id = {r}"), [false; 5]),
        ("enter confirmed conversions", format!("INSERT INTO deal_conversions (deal_id, confirmed, entered_by) VALUES ({d}, 1, session_user)"), [false, true, false, true, false]),
        ("record a redemption (the platform)", format!("INSERT INTO redemptions (deal_id, member_id, source, coupon_code) VALUES ({d}, {m}, 'copy_code', 'X')"), [false, false, false, true, false]),
        ("add a member", "INSERT INTO members (handle, display_name, role) VALUES ('h', 'H', 'public')".into(), [false; 5]),
        ("register an operator", "INSERT INTO operators (login, display_name, roles, updated_by) VALUES ('zed', 'Zed', '{curator}', session_user)".into(), [false, false, false, true, false]),
        ("change an operator's roles", "UPDATE operators SET roles = '{curator}' WHERE login = 'ada'".into(), [false, false, false, true, false]),
        ("re-run the grants", "SELECT app_roles_grant()".into(), [false; 5]),
        ("give a person a database login", format!("SELECT db_login_set_roles('{new_login}', ARRAY['admin'])"), [false, false, false, true, false]),
        ("write an audit row", "INSERT INTO audit_log (actor, action, entity_type, entity_id) VALUES ('x', 'a', 't', '1')".into(), [false; 5]),
        ("write an outbox event", "INSERT INTO outbox_events (event_type, entity_type, entity_id, payload) VALUES ('e', 't', '1', '{}')".into(), [false; 5]),
        ("allow a status move (0024)", "INSERT INTO status_moves (entity, from_status, to_status, move) VALUES ('settlement', 'paid', 'draft', 'undo')".into(), [false; 5]),
        ("change a status move (0024)", "UPDATE status_moves SET to_status = 'draft' WHERE entity = 'settlement'".into(), [false; 5]),
        ("grant itself a table (0024)", "INSERT INTO app_grants (feature, role, privilege, object) VALUES ('x', 'support', 'UPDATE', 'settlements')".into(), [false; 5]),
        ("drop an outbox entity (0024)", "DELETE FROM outbox_entities".into(), [false; 5]),
        ("set who wrote an audit row (0024)", "UPDATE audit_log SET db_login = 'mallory'".into(), [false; 5]),
        ("reset a deal's redemption count", format!("UPDATE deals SET redemption_count = 0 WHERE id = {d}"), [false, false, false, true, false]),
        ("change the audit log", "UPDATE audit_log SET actor = 'mallory'".into(), [false; 5]),
        ("delete the audit log", "DELETE FROM audit_log".into(), [false; 5]),
        ("truncate the audit log", "TRUNCATE audit_log".into(), [false; 5]),
        ("disable the audit log's triggers", "ALTER TABLE audit_log DISABLE TRIGGER ALL".into(), [false; 5]),
        ("turn triggers off for the session", "SET LOCAL session_replication_role = replica".into(), [false; 5]),
        ("drop the audit log", "DROP TABLE audit_log".into(), [false; 5]),
        ("change the schema", "CREATE TABLE public.evil (x int)".into(), [false; 5]),
        ("grant itself another role", format!("GRANT \"{}_admin\" TO CURRENT_USER", db.name), [false; 5]),
    ];
    // The grant matrix through SET ROLE, then again on a real login of each group.
    let mut logins = Vec::new();
    for group in GROUPS {
        let login = Login::new(&db, &[group]).await;
        // An operator of its own name, as `operators add --db-login` makes (a flag names one).
        sqlx::query(
            "INSERT INTO operators (login, display_name, roles, updated_by) VALUES ($1, $1, '{support}', 'test')",
        )
        .bind(&login.name)
        .execute(&db.pool)
        .await
        .expect("register the login's operator");
        logins.push(login);
    }
    let mut wrong = Vec::new();
    for (what, sql, allowed) in &cases {
        for ((group, want), login) in GROUPS.iter().zip(allowed).zip(&logins) {
            for (how, on) in [("SET ROLE", None), ("login", Some(login))] {
                let got = try_as(&db, group, on, sql).await;
                match (&got, want) {
                    (Ok(()), true) => {}
                    (Err(e), false) if e.starts_with("42501 ") => {}
                    _ => wrong.push(format!(
                        "{group} ({how}) / {what}: expected {}, got {got:?}",
                        if *want { "ok" } else { "refused (42501)" }
                    )),
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM pg_roles WHERE rolname = '{new_login}'"
        ))
        .await,
        0,
        "rolled back"
    );
}

#[tokio::test]
async fn no_login_of_any_group_can_change_the_audit_log_triggers_or_not() {
    let db = TestDb::new().await;
    let ada = db.admin().await;
    ada.create_partner(&partner_draft("Northwind", "northwind.example"))
        .await
        .unwrap();
    let before: Vec<(i64, String)> = sqlx::query_as("SELECT id, actor FROM audit_log ORDER BY id")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert!(!before.is_empty());
    let attacks = [
        "UPDATE audit_log SET actor = 'mallory'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "ALTER TABLE audit_log DISABLE TRIGGER ALL",
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete",
        "SET session_replication_role = replica",
        "DROP TRIGGER audit_log_no_update_delete ON audit_log",
        "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$",
        "DROP TABLE audit_log",
        "ALTER TABLE audit_log RENAME TO audit_old",
    ];
    for group in GROUPS {
        let login = Login::new(&db, &[group]).await;
        for sql in attacks {
            let mut c = login.pool.acquire().await.unwrap();
            let e = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(&mut *c)
                .await
                .expect_err(&format!("{group} may not: {sql}"));
            let code = e
                .as_database_error()
                .and_then(|d| d.code())
                .map(|c| c.to_string());
            assert_eq!(code.as_deref(), Some("42501"), "{group}: {sql}: {e}");
            // Even after a refused SET, a DELETE on the same connection is refused.
            let e = sqlx::query("DELETE FROM audit_log")
                .execute(&mut *c)
                .await
                .unwrap_err();
            assert!(e.to_string().contains("permission denied"), "{group}: {e}");
        }
    }
    let after: Vec<(i64, String)> = sqlx::query_as("SELECT id, actor FROM audit_log ORDER BY id")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert_eq!(before, after);
}

#[tokio::test]
async fn a_non_owner_starts_on_a_current_schema_and_is_told_what_to_run_on_an_old_one() {
    let db = TestDb::new().await;
    let reader = Login::new(&db, &["readonly"]).await;
    use partnerdesk::store::migrate;
    assert!(!migrate::may_migrate(&reader.pool).await.unwrap());
    assert!(migrate::may_migrate(&db.pool).await.unwrap());
    // Current: the check passes without writing (a migration attempt would be refused).
    migrate::ensure_current(&reader.pool).await.unwrap();
    let e = migrate::run(&reader.pool).await.unwrap_err();
    assert!(e.to_string().contains("permission denied"), "{e}");

    // One migration missing: one line saying what to run.
    let last = *migrate::known_versions().last().unwrap();
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = $1")
        .bind(last)
        .execute(&db.pool)
        .await
        .unwrap();
    let e = migrate::ensure_current(&reader.pool).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "the database schema is behind this partnerdesk (1 migration pending): the schema owner runs partnerdesk migrate"
    );
    // A read-only identity on it (readonly group): registered as nothing, read-only.
    let desk = Desk::identify(reader.pool.clone(), &Claim::named(&reader.name), false)
        .await
        .unwrap();
    assert!(desk.actor().read_only && desk.actor().roles.is_empty());
}
