//! Issue 11 at the database level: the group roles `migrate` makes, what each may do (the
//! database refuses the rest), a person's own database login as its operator, the audit log
//! that no non-owner can change, and a read-only connection that the console works against.
//!
//! Roles are cluster-wide: every login made here has a unique name and is dropped at the end.

use crate::common::*;
use partnerdesk::Error;
use partnerdesk::domain::{FlagKind, Role};
use partnerdesk::service::operators::{Claim, ClaimSource};
use partnerdesk::service::{Actor, Desk};
use partnerdesk::store::partners::PartnerFilter;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};

const GROUPS: [&str; 5] = ["curator", "support", "finance", "admin", "readonly"];

/// A PostgreSQL LOGIN role for one person, member of some groups, with a pool connected as it.
struct Login {
    name: String,
    pool: PgPool,
    owner: PgConnectOptions,
}

impl Login {
    async fn new(db: &TestDb, groups: &[&str]) -> Self {
        let name = format!(
            "pdt_{}_{}",
            groups.join("_"),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        let groups: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
        sqlx::query("SELECT db_login_set_roles($1, $2)")
            .bind(&name)
            .bind(&groups)
            .execute(&db.pool)
            .await
            .expect("make the login");
        Self::connect(db, name).await
    }

    /// Connects as an existing login.
    async fn connect(db: &TestDb, name: String) -> Self {
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .connect_with(db.options.clone().username(&name))
            .await
            .expect("connect as the login");
        Self {
            name,
            pool,
            owner: db.options.clone(),
        }
    }
}

impl Drop for Login {
    fn drop(&mut self) {
        let owner = self.owner.clone();
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(rt) = rt
                && let Ok(mut c) = rt.block_on(PgConnection::connect_with(&owner))
            {
                rt.block_on(async {
                    let _ = sqlx::query(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1",
                    )
                    .bind(&name)
                    .execute(&mut c)
                    .await;
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP ROLE IF EXISTS \"{name}\""
                    )))
                    .execute(&mut c)
                    .await;
                    let _ = c.close().await;
                });
            }
        })
        .join();
    }
}

/// Runs `sql` as `group` (SET ROLE) inside a transaction that is rolled back: Ok, or the
/// SQLSTATE of the refusal.
async fn try_as(db: &TestDb, group: &str, sql: &str) -> Result<(), String> {
    let mut c = db.pool.acquire().await.unwrap();
    let mut tx = c.begin().await.unwrap();
    let pg_role: String = sqlx::query_scalar("SELECT pg_role FROM app_roles WHERE role = $1")
        .bind(group)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("SET LOCAL ROLE \"{pg_role}\"")))
        .execute(&mut *tx)
        .await
        .unwrap();
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
    let r = ada.record_redemption(d, m).await.unwrap().id;
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
        ("create a partner", "INSERT INTO partners (legal_name, display_name, created_by, updated_by) VALUES ('L', 'D', 'x', 'x')".into(), [true, false, false, true, false]),
        ("edit a partner", format!("UPDATE partners SET notes = 'n' WHERE id = {p}"), [true, false, false, true, false]),
        ("store a vetting check", format!("INSERT INTO partner_checks (partner_id, check_name, outcome, detail, checked_by) VALUES ({p}, 'website', 'pass', 'ok', 'x')"), [true, false, false, true, false]),
        ("hard-delete a partner", format!("DELETE FROM partners WHERE id = {p}"), [false; 5]),
        ("author a deal", format!("INSERT INTO deals (partner_id, title, kind, redemption_url, audience_scope, valid_from, valid_until, created_by, updated_by) VALUES ({p}, 'T', 'link', 'https://x.example/', 'public', now(), now() + interval '1 day', 'x', 'x')"), [true, false, false, true, false]),
        ("change a deal's state", format!("UPDATE deals SET state = 'paused' WHERE id = {d}"), [true, false, false, true, false]),
        ("change a coupon code", format!("INSERT INTO deal_coupon_codes (deal_id, code, set_by) VALUES ({d}, 'C2', 'x')"), [true, false, false, true, false]),
        ("take a deal out of search", format!("DELETE FROM deal_search_documents WHERE deal_id = {d}"), [true, false, false, true, false]),
        ("flag a redemption", format!("UPDATE redemptions SET flag_kind = 'fraud', flag_note = 'n', flagged_by = 'ada', flagged_at = now() WHERE id = {r}"), [false, true, false, true, false]),
        ("move a redemption to another deal", format!("UPDATE redemptions SET deal_id = deal_id WHERE id = {r}"), [false; 5]),
        ("delete a redemption", format!("DELETE FROM redemptions WHERE id = {r}"), [false; 5]),
        ("enter confirmed conversions", format!("INSERT INTO deal_conversions (deal_id, confirmed, entered_by) VALUES ({d}, 1, 'x')"), [false, true, false, true, false]),
        ("record a redemption (the platform)", format!("INSERT INTO redemptions (deal_id, member_id, source, coupon_code) VALUES ({d}, {m}, 'copy_code', 'X')"), [false, false, false, true, false]),
        ("add a member", "INSERT INTO members (handle, display_name, role) VALUES ('h', 'H', 'public')".into(), [false; 5]),
        ("register an operator", "INSERT INTO operators (login, display_name, roles, updated_by) VALUES ('zed', 'Zed', '{curator}', 'x')".into(), [false, false, false, true, false]),
        ("change an operator's roles", "UPDATE operators SET roles = '{curator}' WHERE login = 'ada'".into(), [false, false, false, true, false]),
        ("give a person a database login", format!("SELECT db_login_set_roles('{new_login}', ARRAY['admin'])"), [false, false, false, true, false]),
        ("write an audit row", "INSERT INTO audit_log (actor, action, entity_type, entity_id) VALUES ('x', 'a', 't', '1')".into(), [true, true, true, true, false]),
        ("write an outbox event", "INSERT INTO outbox_events (event_type, entity_type, entity_id, payload) VALUES ('e', 't', '1', '{}')".into(), [true, true, true, true, false]),
        ("change the audit log", "UPDATE audit_log SET actor = 'mallory'".into(), [false; 5]),
        ("delete the audit log", "DELETE FROM audit_log".into(), [false; 5]),
        ("truncate the audit log", "TRUNCATE audit_log".into(), [false; 5]),
        ("disable the audit log's triggers", "ALTER TABLE audit_log DISABLE TRIGGER ALL".into(), [false; 5]),
        ("turn triggers off for the session", "SET LOCAL session_replication_role = replica".into(), [false; 5]),
        ("drop the audit log", "DROP TABLE audit_log".into(), [false; 5]),
        ("change the schema", "CREATE TABLE public.evil (x int)".into(), [false; 5]),
        ("grant itself another role", format!("GRANT \"{}_admin\" TO CURRENT_USER", db.name), [false; 5]),
    ];
    let mut wrong = Vec::new();
    for (what, sql, allowed) in &cases {
        for (group, want) in GROUPS.iter().zip(allowed) {
            let got = try_as(&db, group, sql).await;
            match (&got, want) {
                (Ok(()), true) => {}
                (Err(e), false) if e.starts_with("42501 ") => {}
                _ => wrong.push(format!(
                    "{group} / {what}: expected {}, got {got:?}",
                    if *want { "ok" } else { "refused (42501)" }
                )),
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
async fn a_database_login_is_its_operator_with_the_roles_the_database_gives_it() {
    let db = TestDb::new().await;
    // The shared owner session bootstraps an admin with a login of its own.
    let root = Desk::for_operator(db.pool.clone(), "root", false)
        .await
        .unwrap();
    let name = format!(
        "pdt_ada_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let op = root
        .add_operator_with(&name, "Ada Admin", &[Role::Admin], true)
        .await
        .unwrap();
    assert_eq!(op.roles, vec!["admin"]);
    let ada_login = Login::connect(&db, name.clone()).await;

    // $USER says mallory: a default, not a claim; the session is ada all the same.
    let os_user = Claim {
        login: "mallory".into(),
        source: ClaimSource::OsUser,
    };
    let ada = Desk::identify(ada_login.pool.clone(), &os_user, false)
        .await
        .unwrap();
    assert_eq!(
        ada.actor(),
        &Actor {
            login: name.clone(),
            display_name: "Ada Admin".into(),
            roles: vec![Role::Admin],
            registered: true,
            read_only: false,
        }
    );
    let id = ada.db_identity().await.unwrap();
    assert!(
        id.is_person_login() && !id.superuser && id.roles_set_up,
        "{id:?}"
    );

    // --operator or the config file naming somebody else: refused, one line.
    for (source, flag) in [
        (ClaimSource::Flag, "--operator"),
        (ClaimSource::Config, "the config file's operator"),
    ] {
        let claim = Claim {
            login: "root".into(),
            source,
        };
        let e = Desk::identify(ada_login.pool.clone(), &claim, false)
            .await
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{flag} root: this session's database login is {name}, so it acts as {name} and no one else (drop {flag}, or connect as root)"
            )
        );
        assert!(matches!(e, Error::Impersonation { .. }));
        assert_eq!(e.exit_code(), 3);
    }
    let e = Desk::for_operator(ada_login.pool.clone(), "root", false)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Impersonation { .. }), "{e:?}");
    // Naming oneself is fine.
    Desk::for_operator(ada_login.pool.clone(), &name, false)
        .await
        .unwrap();

    // Ada registers a curator with a login; the roles come from the database, not the table.
    let cara_name = format!(
        "pdt_cara_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    ada.add_operator_with(&cara_name, "Cara", &[Role::Curator], true)
        .await
        .unwrap();
    let cara_login = Login::connect(&db, cara_name.clone()).await;
    sqlx::query("UPDATE operators SET roles = '{admin}' WHERE login = $1")
        .bind(&cara_name)
        .execute(&db.pool)
        .await
        .unwrap();
    let cara = Desk::identify(cara_login.pool.clone(), &Claim::named(&cara_name), false)
        .await
        .unwrap();
    assert_eq!(
        cara.actor().roles,
        vec![Role::Curator],
        "the database says curator"
    );
    let e = cara
        .add_operator("eve", "Eve", &[Role::Admin])
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e:?}");

    // A forged actor on cara's connection gets past the application's check, not the database's.
    let forged = Desk::new(
        cara_login.pool.clone(),
        Actor::operator(&cara_name, &[Role::Admin]),
    );
    let before = db.audit_count().await;
    let e = forged
        .add_operator("eve", "Eve", &[Role::Admin])
        .await
        .unwrap_err();
    assert_eq!(e.sqlstate(), Some("42501"), "{e:?}");
    let e = forged
        .set_operator_roles(&cara_name, &[Role::Admin], None)
        .await
        .unwrap_err();
    assert_eq!(e.sqlstate(), Some("42501"), "{e:?}");
    assert_eq!(db.audit_count().await, before, "nothing written");
    assert!(ada.get_operator("eve").await.unwrap().is_none());

    // What the curator may do works through the services on its own connection.
    let partner = cara
        .create_partner(&partner_draft("Northwind", "northwind.example"))
        .await
        .unwrap();
    let partner = cara
        .mark_vetted(partner.id, Some(partner.version))
        .await
        .unwrap();
    let mut draft = coupon_draft(partner.id, "CARA1");
    draft.state = Some("active".into());
    let deal = cara.create_deal(&draft).await.unwrap();
    assert_eq!(deal.created_by, cara_name);
    assert_eq!(
        cara.expire_due_deals(chrono::Utc::now() + chrono::Duration::days(60))
            .await
            .unwrap(),
        1
    );

    // set-roles changes the memberships too; the same roles again write nothing.
    ada.set_operator_roles(&cara_name, &[Role::Support], None)
        .await
        .unwrap();
    let cara = Desk::identify(cara_login.pool.clone(), &Claim::named(&cara_name), false)
        .await
        .unwrap();
    assert_eq!(cara.actor().roles, vec![Role::Support]);
    let audits = db.audit_count().await;
    let again = ada
        .set_operator_roles(&cara_name, &[Role::Support], None)
        .await
        .unwrap();
    assert_eq!(
        db.audit_count().await,
        audits,
        "the same roles again: no audit row"
    );
    assert_eq!(again.roles, vec!["support"]);

    // A support login may flag; its own connection cannot change partners.
    let m = member(&db, "mia", "public", false, None, &[]).await;
    let deal = active_deal(&db.admin().await, "SUP1").await;
    let r = ada.record_redemption(deal.id, m).await.unwrap();
    cara.flag_redemption(r.id, FlagKind::Fraud, "shared code")
        .await
        .unwrap();
    let forged = Desk::new(
        cara_login.pool.clone(),
        Actor::operator(&cara_name, &[Role::Curator]),
    );
    let e = forged
        .create_partner(&partner_draft("Sneaky", "sneaky.example"))
        .await
        .unwrap_err();
    assert_eq!(e.sqlstate(), Some("42501"), "{e:?}");

    // A superuser, or a login of no group, is not a person's login: the shared set-up.
    assert!(!root.db_identity().await.unwrap().is_person_login());
    drop((ada_login, cara_login));
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

#[tokio::test]
async fn operators_keep_an_admin_the_first_is_an_admin_and_the_same_roles_write_nothing() {
    let db = TestDb::new().await;
    let root = Desk::for_operator(db.pool.clone(), "root", false)
        .await
        .unwrap();
    let e = root
        .add_operator("cara", "Cara", &[Role::Curator])
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "roles: the first operator of a database must be an admin (add --role admin)"
    );
    assert_eq!(db.count("SELECT count(*) FROM operators").await, 0);
    assert_eq!(db.audit_count().await, 0);
    root.add_operator("ada", "Ada", &[Role::Admin, Role::Curator])
        .await
        .unwrap();
    let ada = Desk::for_operator(db.pool.clone(), "ada", false)
        .await
        .unwrap();

    // The last admin keeps the admin role.
    let e = ada
        .set_operator_roles("ada", &[Role::Curator], None)
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "ada is the last admin and keeps the admin role: give another operator the admin role first"
    );
    assert_eq!(e.exit_code(), 3);
    assert_eq!(
        ada.get_operator("ada").await.unwrap().unwrap().roles,
        vec!["curator", "admin"]
    );

    // The same roles again (in any order): nothing written, version unchanged.
    let before = ada.get_operator("ada").await.unwrap().unwrap();
    let audits = db.audit_count().await;
    let same = ada
        .set_operator_roles("ada", &[Role::Admin, Role::Curator, Role::Admin], None)
        .await
        .unwrap();
    assert_eq!(same, before);
    assert_eq!(db.audit_count().await, audits);

    // With a second admin, the first may step down.
    ada.add_operator("bob", "Bob", &[Role::Admin])
        .await
        .unwrap();
    let after = ada
        .set_operator_roles("ada", &[Role::Curator], None)
        .await
        .unwrap();
    assert_eq!(after.roles, vec!["curator"]);
    assert_eq!(db.audit_count().await, audits + 2);
    let bob = Desk::for_operator(db.pool.clone(), "bob", false)
        .await
        .unwrap();
    let e = bob
        .set_operator_roles("bob", &[Role::Support], None)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Refused(_)), "{e:?}");
}

/// Drives the console's loads (every pane) against `desk`, answering each effect through the
/// runtime's own `execute`; returns the failures.
async fn console_loads(desk: Desk) -> (Vec<String>, usize) {
    use partnerdesk::console::action::Action;
    use partnerdesk::console::app::{App, Session};
    use partnerdesk::console::keymap::Keymap;
    use partnerdesk::console::msg::{Msg, Reply, TaskCtx};
    use partnerdesk::console::panes::PaneId;
    use partnerdesk::console::runtime::execute;
    use partnerdesk::console::theme::Theme;
    let session = Session {
        operator: desk.actor().login.clone(),
        roles: String::new(),
        registered: true,
        read_only: desk.actor().read_only,
        database: "test".into(),
    };
    let mut app = App::new(
        Keymap::builtin(),
        Theme::builtin("default").unwrap(),
        session,
    );
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Msg>();
    let ctx = TaskCtx {
        tx,
        vetting: Default::default(),
        thresholds: Default::default(),
    };
    let mut failures = Vec::new();
    let mut answered = 0;
    let mut effects = app.update(Msg::Connected(desk.clone()));
    for _ in 0..PaneId::ALL.len() {
        let mut rounds = 0;
        while !effects.is_empty() && rounds < 20 {
            rounds += 1;
            let mut next = Vec::new();
            for fx in effects.drain(..) {
                if let Some(msg) = execute(desk.clone(), fx, ctx.clone()).await {
                    answered += 1;
                    if let Some(e) = msg.failure() {
                        failures.push(e.to_string());
                    }
                    next.extend(app.update(msg));
                }
                while let Ok(m) = rx.try_recv() {
                    next.extend(app.update(m));
                }
            }
            effects = next;
        }
        effects = app.perform(Action::NextPane);
    }
    (failures, answered)
}

#[tokio::test]
async fn the_read_only_console_works_on_a_read_only_connection_and_writes_nothing() {
    let db = TestDb::new().await;
    let ada = db.admin().await;
    let deal = active_deal(&ada, "RO1").await;
    let m = member(&db, "mia", "public", false, None, &[]).await;
    ada.record_redemption(deal.id, m).await.unwrap();
    // A deal past its window: the expiry job would expire it.
    sqlx::query("UPDATE deals SET valid_from = now() - interval '3 days', valid_until = now() - interval '1 day' WHERE id = $1")
        .bind(deal.id)
        .execute(&db.pool)
        .await
        .unwrap();
    let footprint =
        "SELECT (SELECT count(*) FROM audit_log) * 1000 + (SELECT count(*) FROM outbox_events)
                     + (SELECT count(*) FROM deals WHERE state = 'expired') * 100";
    let before = db.count(footprint).await;

    // Like a hot standby: every transaction read-only.
    let ro_pool = PgPoolOptions::new()
        .max_connections(4)
        .connect_with(
            db.options
                .clone()
                .options([("default_transaction_read_only", "on")]),
        )
        .await
        .unwrap();
    partnerdesk::store::migrate::ensure_current(&ro_pool)
        .await
        .unwrap();
    for (login, read_only) in [("ada", true), ("nobody", false)] {
        let desk = Desk::for_operator(ro_pool.clone(), login, read_only)
            .await
            .unwrap();
        assert!(desk.actor().read_only && !desk.actor().may_run_jobs());
        let (failures, answered) = console_loads(desk.clone()).await;
        // An unregistered operator is told it may not see redemptions; nothing else fails
        // (no write refused by the read-only connection).
        let failures: Vec<&String> = failures
            .iter()
            .filter(|f| !f.contains("is not a registered operator"))
            .collect();
        assert!(failures.is_empty(), "{login}: {failures:?}");
        assert!(
            answered >= 4,
            "{login}: the panes loaded ({answered} answers)"
        );
        // The expiry job is not run for it, and the service refuses it too.
        let ctx_less = partnerdesk::console::runtime::execute(
            desk.clone(),
            partnerdesk::console::msg::Effect::ExpiryJob,
            partnerdesk::console::msg::TaskCtx {
                tx: tokio::sync::mpsc::unbounded_channel().0,
                vetting: Default::default(),
                thresholds: Default::default(),
            },
        )
        .await;
        assert!(ctx_less.is_none(), "{login}: the expiry job ran");
        assert!(desk.expire_due_deals(chrono::Utc::now()).await.is_err());
        let listed = desk
            .list_partners(&PartnerFilter::default(), 10)
            .await
            .unwrap();
        assert_eq!(listed.len(), 1);
    }
    // On the read-write pool too, a read-only or unregistered session never runs the job.
    for (login, read_only) in [("ada", true), ("nobody", false)] {
        let desk = Desk::for_operator(db.pool.clone(), login, read_only)
            .await
            .unwrap();
        let e = desk.expire_due_deals(chrono::Utc::now()).await.unwrap_err();
        assert!(
            matches!(e, Error::ReadOnly { .. } | Error::NotRegistered { .. }),
            "{e:?}"
        );
    }
    assert_eq!(db.count(footprint).await, before, "nothing written");
    // The admin's own session runs it.
    assert_eq!(ada.expire_due_deals(chrono::Utc::now()).await.unwrap(), 1);
}
