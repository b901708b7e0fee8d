//! Issue 11 through the real binary: `operators add --db-login`, a session on a person's own
//! database login (it is that operator; `--operator` naming another is refused), `doctor`
//! saying whether identity is enforced or self-declared, `migrate` and `seed` as a non-owner,
//! and `seed --demo --reset` (an admin, a confirmation, demo-only data).
//!
//! Roles are cluster-wide: the logins made here have unique names and are dropped at the end.

#[path = "../support/cli.rs"]
#[allow(dead_code)]
mod cli;
#[path = "../db/common.rs"]
#[allow(dead_code)]
mod common;

use cli::{Out, TempDir, command, output};
use common::TestDb;

const REFUSED: i32 = 3;

/// `partnerdesk ARGS…` as OS user `user`, connected to `db` as the owner or, given
/// `pg_user`, as that database login.
async fn run_as(db: &TestDb, user: &str, pg_user: Option<&str>, args: &[&str]) -> Out {
    let home = TempDir::new("pd-roles-home");
    let mut cmd = command(Some(db), user, args, &home);
    if let Some(u) = pg_user {
        cmd.envs(db.login_env(u).await);
    }
    output(&mut cmd, args)
}

/// A seed run: exit 0 and clean (it reports progress on standard error).
fn seeded(out: Out) {
    assert_eq!(out.code, 0, "{out}");
    out.assert_clean();
}

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

/// Drops the logins when the test ends (even when it fails).
struct Logins<'a>(&'a TestDb, Vec<String>);

impl Drop for Logins<'_> {
    fn drop(&mut self) {
        let names = self.1.clone();
        let options = self.0.options.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                use sqlx::Connection;
                if let Ok(mut c) = sqlx::PgConnection::connect_with(&options).await {
                    for n in names {
                        let _ = sqlx::query(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1",
                        )
                        .bind(&n)
                        .execute(&mut c)
                        .await;
                        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                            "DROP ROLE IF EXISTS \"{n}\""
                        )))
                        .execute(&mut c)
                        .await;
                    }
                }
            });
        })
        .join();
    }
}

#[tokio::test]
async fn a_database_login_is_its_operator_and_the_shared_login_is_self_declared() {
    let db = TestDb::new().await;
    let ada = unique("pdc_ada");
    let cara = unique("pdc_cara");
    let _cleanup = Logins(&db, vec![ada.clone(), cara.clone()]);

    // The first operator must be an admin.
    let line = run_as(
        &db,
        "root",
        None,
        &["operators", "add", &cara, "--role", "curator"],
    )
    .await
    .error_line(REFUSED);
    assert_eq!(
        line,
        "roles: the first operator of a database must be an admin (add --role admin)"
    );

    // The owner's shared session registers ada with a login of her own.
    let out = run_as(
        &db,
        "root",
        None,
        &[
            "operators",
            "add",
            &ada,
            "--role",
            "admin",
            "--name",
            "Ada",
            "--db-login",
        ],
    )
    .await;
    out.success();
    assert_eq!(
        out.stdout_text(),
        format!("registered {ada} (Ada) as admin; database login {ada} may connect as itself\n")
    );

    // The shared login: doctor says plainly that identity is self-declared.
    let out = run_as(&db, "root", None, &["doctor"]).await;
    let text = out.stdout_text();
    let identity = text
        .lines()
        .find(|l| l.contains("identity"))
        .unwrap_or_else(|| panic!("an identity line:{out}"));
    assert!(
        identity.contains("self-declared") && identity.contains("can name anyone"),
        "{identity}"
    );

    // Connected as ada, with $USER mallory: the operator is ada.
    let out = run_as(&db, "mallory", Some(&ada), &["doctor"]).await;
    let text = out.stdout_text();
    let identity = text.lines().find(|l| l.contains("identity")).unwrap();
    assert!(
        identity.contains(&format!("database login {ada}")) && identity.contains("(admin)"),
        "{identity}"
    );
    let operator = text.lines().find(|l| l.contains("operator")).unwrap();
    assert!(
        operator.contains(&format!("{ada} (Ada) as admin")),
        "{operator}"
    );

    // --operator naming someone else: one line, refused.
    let line = run_as(
        &db,
        "mallory",
        Some(&ada),
        &["--operator", "root", "operators", "list"],
    )
    .await
    .error_line(REFUSED);
    assert_eq!(
        line,
        format!(
            "--operator root: this session's database login is {ada}, so it acts as {ada} and no one else (drop --operator, or connect as root)"
        )
    );
    // Naming herself is fine.
    run_as(
        &db,
        "mallory",
        Some(&ada),
        &["--operator", &ada, "operators", "list"],
    )
    .await
    .success();

    // Ada registers a curator with a login; the curator works as itself and the database
    // refuses what it may not do.
    run_as(
        &db,
        "mallory",
        Some(&ada),
        &["operators", "add", &cara, "--role", "curator", "--db-login"],
    )
    .await
    .success();
    let audit: (String, String) = sqlx::query_as(
        "SELECT actor, action FROM audit_log WHERE entity_id = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(&cara)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(audit, (ada.clone(), "operator.register".to_owned()));
    let out = run_as(
        &db,
        "mallory",
        Some(&cara),
        &[
            "partners",
            "add",
            "--legal-name",
            "Bean There Ltd",
            "--display-name",
            "Bean There",
            "--website",
            "https://www.beanthere.example/",
        ],
    )
    .await;
    out.success();
    let created_by: String = sqlx::query_scalar("SELECT created_by FROM partners")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(created_by, cara);
    let line = run_as(
        &db,
        "mallory",
        Some(&cara),
        &["operators", "set-roles", &cara, "--role", "admin"],
    )
    .await
    .error_line(REFUSED);
    assert_eq!(
        line,
        format!("{cara} may not register operators and change roles: it needs the admin role")
    );

    // A non-owner neither migrates nor seeds; a current schema is no error.
    let out = run_as(&db, "mallory", Some(&cara), &["migrate"]).await;
    out.success();
    assert!(
        out.stdout_text().contains("schema is current (")
            && out
                .stdout_text()
                .contains("only the schema owner applies migrations"),
        "{out}"
    );
    let line = run_as(&db, "mallory", Some(&cara), &["seed", "--demo"])
        .await
        .error_line(REFUSED);
    assert_eq!(
        line,
        format!("seed loads tables directly: run it as the schema owner, not as {cara}")
    );

    // An old schema: one line saying what to run, for every command.
    sqlx::query(
        "DELETE FROM _sqlx_migrations WHERE version = (SELECT max(version) FROM _sqlx_migrations)",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let out = run_as(&db, "mallory", Some(&cara), &["partners", "list"]).await;
    assert_eq!(
        out.error_line(1),
        "the database schema is behind this partnerdesk (1 migration pending): the schema owner runs partnerdesk migrate"
    );
    let line = run_as(&db, "mallory", Some(&cara), &["migrate"])
        .await
        .error_line(1);
    assert!(
        line.ends_with(&format!(
            ": 1 migration pending, and {cara} does not own the schema: run partnerdesk migrate as the schema owner"
        )),
        "{line}"
    );
}

#[tokio::test]
async fn seed_reset_needs_an_admin_a_confirmation_and_demo_only_data() {
    let db = TestDb::new().await;
    seeded(run_as(&db, "pd_seeder", None, &["seed", "--demo", "--scale", "40"]).await);
    let partners = "SELECT count(*) FROM partners";
    let seeded_partners = db.count(partners).await;
    let resets = "SELECT count(*) FROM audit_log WHERE action = 'seed.reset'";

    // Not registered; registered but not an admin; read-only.
    let line = run_as(&db, "zed", None, &["seed", "--demo", "--reset", "--yes"])
        .await
        .error_line(REFUSED);
    assert_eq!(
        line,
        "seed --reset wipes every partner, deal, member and redemption: it needs an admin, and zed is not a registered operator"
    );
    let line = run_as(&db, "cara", None, &["seed", "--demo", "--reset", "--yes"])
        .await
        .error_line(REFUSED);
    assert!(line.ends_with("and cara is curator only"), "{line}");
    let line = run_as(
        &db,
        "pd_seeder",
        None,
        &["--read-only", "seed", "--demo", "--reset", "--yes"],
    )
    .await
    .error_line(REFUSED);
    assert!(
        line.ends_with("and pd_seeder is in a read-only session"),
        "{line}"
    );

    // No terminal and no --yes: refused, not wiped.
    let line = run_as(&db, "pd_seeder", None, &["seed", "--demo", "--reset"])
        .await
        .error_line(REFUSED);
    assert_eq!(
        line,
        "seed --reset asks for confirmation and standard input is not a terminal: add --yes to wipe without asking"
    );
    assert_eq!(db.count(resets).await, 0);

    // Data made since the seed: refused unless --force.
    run_as(
        &db,
        "pd_seeder",
        None,
        &[
            "partners",
            "add",
            "--legal-name",
            "Real Ltd",
            "--display-name",
            "Real",
        ],
    )
    .await
    .success();
    let line = run_as(
        &db,
        "pd_seeder",
        None,
        &["seed", "--demo", "--reset", "--yes"],
    )
    .await
    .error_line(REFUSED);
    assert!(
        line.contains("holds data not made by seed --demo"),
        "{line}"
    );
    assert!(line.ends_with("add --force to wipe it anyway"), "{line}");
    assert_eq!(db.count(partners).await, seeded_partners + 1);
    seeded(
        run_as(
            &db,
            "pd_seeder",
            None,
            &[
                "seed", "--demo", "--reset", "--yes", "--force", "--scale", "40",
            ],
        )
        .await,
    );
    assert_eq!(db.count(partners).await, seeded_partners);
    assert_eq!(db.count(resets).await, 1);
    // Freshly seeded again: a reset needs no --force now.
    seeded(
        run_as(
            &db,
            "pd_seeder",
            None,
            &["seed", "--demo", "--reset", "--yes", "--scale", "40"],
        )
        .await,
    );
    assert_eq!(db.count(resets).await, 2);

    // --yes and --force only go with --reset.
    let out = run_as(&db, "pd_seeder", None, &["seed", "--demo", "--yes"]).await;
    assert_eq!(out.code, 2, "{out}");
}

#[tokio::test]
async fn plain_seed_never_makes_the_os_user_an_admin_of_a_database_with_operators() {
    let db = TestDb::new().await;
    run_as(
        &db,
        "root",
        None,
        &["operators", "add", "ada", "--role", "admin"],
    )
    .await
    .success();
    seeded(run_as(&db, "zed", None, &["seed", "--demo", "--scale", "20"]).await);
    let zed = db
        .count("SELECT count(*) FROM operators WHERE login = 'zed'")
        .await;
    assert_eq!(zed, 0, "zed was not made an operator");
    let admins: Vec<String> =
        sqlx::query_scalar("SELECT login FROM operators WHERE 'admin' = ANY (roles) ORDER BY 1")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(admins, vec!["ada"]);

    // On an empty database the OS user is the admin, as before.
    let fresh = TestDb::new().await;
    seeded(run_as(&fresh, "zed", None, &["seed", "--demo", "--scale", "20"]).await);
    assert_eq!(
        fresh
            .count("SELECT count(*) FROM operators WHERE login = 'zed' AND 'admin' = ANY (roles)")
            .await,
        1
    );
}

#[tokio::test]
async fn a_read_only_session_records_nothing_and_runs_no_job() {
    let db = TestDb::new().await;
    let ada = db.admin().await;
    let deal = common::active_deal(&ada, "RO1").await;
    let m = common::member(&db, "mia", "public", false, None, &[]).await;
    sqlx::query("UPDATE deals SET valid_from = now() - interval '3 days', valid_until = now() - interval '1 day' WHERE id = $1")
        .bind(deal.id)
        .execute(&db.pool)
        .await
        .unwrap();
    let footprint =
        "SELECT (SELECT count(*) FROM audit_log) * 1000 + (SELECT count(*) FROM redemptions)
                     + (SELECT count(*) FROM deals WHERE state = 'expired') * 100";
    let before = db.count(footprint).await;
    let (d, ms) = (deal.id.to_string(), m.to_string());
    for user in ["ada", "platform"] {
        let line = run_as(
            &db,
            user,
            None,
            &["--read-only", "redeem", "--deal", &d, "--member", &ms],
        )
        .await
        .error_line(REFUSED);
        assert_eq!(
            line,
            "read-only: recording redemptions is not available in a read-only session"
        );
    }
    let line = run_as(&db, "ada", None, &["--read-only", "jobs", "expire"])
        .await
        .error_line(REFUSED);
    assert_eq!(
        line,
        "read-only: author and change deals is not available in a read-only session"
    );
    let line = run_as(&db, "nobody", None, &["jobs", "expire"])
        .await
        .error_line(REFUSED);
    assert!(
        line.starts_with("nobody is not a registered operator"),
        "{line}"
    );
    assert_eq!(db.count(footprint).await, before, "nothing written");
    let out = run_as(&db, "ada", None, &["jobs", "expire"]).await;
    out.success();
    assert_eq!(out.stdout_text(), "expired 1 deal\n");
}

#[tokio::test]
async fn an_operator_name_with_control_characters_is_refused() {
    let db = TestDb::new().await;
    let out = run_as(
        &db,
        "root",
        None,
        &[
            "operators",
            "add",
            "ada",
            "--role",
            "admin",
            "--name",
            "Ada\u{1b}[2J\u{7}",
        ],
    )
    .await;
    assert_eq!(
        out.error_line(3),
        "display_name: must not contain control characters (found U+001B at character 4)"
    );
    assert_eq!(db.count("SELECT count(*) FROM operators").await, 0);

    // A name stored before the rule (straight into the table, as before migration 0026) is
    // listed with its control characters escaped.
    common::without_text_rules(&db).await;
    sqlx::query(
        "INSERT INTO operators (login, display_name, roles, updated_by) VALUES ('root', E'Root\\x1b[2J\\x07', '{admin}', 'root')",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let out = run_as(&db, "root", None, &["operators", "list"]).await;
    out.success();
    let text = out.stdout_text();
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "{text:?}"
    );
    assert!(text.contains("Root\\x1b[2J\\x07"), "{text:?}");
}

#[tokio::test]
async fn doctor_suggests_only_commands_this_session_may_run() {
    let db = TestDb::new().await;
    let cara = unique("pdc_cara");
    let _cleanup = Logins(&db, vec![cara.clone()]);
    let line_of = |out: &Out, step: &str| -> String {
        out.stdout_text()
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some(step))
            .unwrap_or_else(|| panic!("a {step} line:{out}"))
            .to_owned()
    };
    run_as(
        &db,
        "root",
        None,
        &["operators", "add", "root", "--role", "admin"],
    )
    .await
    .success();
    run_as(
        &db,
        "root",
        None,
        &["operators", "add", "sam", "--role", "curator"],
    )
    .await
    .success();
    run_as(
        &db,
        "root",
        None,
        &["operators", "add", &cara, "--role", "curator", "--db-login"],
    )
    .await
    .success();

    // On the shared login an admin is given the command; a curator is told who may.
    let admin = run_as(&db, "root", None, &["doctor"]).await;
    let identity = line_of(&admin, "identity");
    assert!(
        identity.contains("partnerdesk operators add LOGIN --role ROLE --db-login"),
        "{identity}"
    );
    let curator = run_as(&db, "sam", None, &["doctor"]).await;
    let identity = line_of(&curator, "identity");
    assert!(
        identity.contains("an admin gives each person a login"),
        "{identity}"
    );
    assert!(
        !identity.contains("partnerdesk operators add"),
        "{identity}"
    );

    // A schema behind the binary: the owner is told to migrate, a person's login whom to ask.
    sqlx::query(
        "DELETE FROM _sqlx_migrations WHERE version = (SELECT max(version) FROM _sqlx_migrations)",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let owner = run_as(&db, "root", None, &["doctor"]).await;
    assert!(
        line_of(&owner, "migrations").ends_with("1 pending; run: partnerdesk migrate"),
        "{owner}"
    );
    let person = run_as(&db, "mallory", Some(&cara), &["doctor"]).await;
    let migrations = line_of(&person, "migrations");
    assert!(
        migrations.ends_with(
            "1 pending; this connection may not migrate: ask the schema owner to run partnerdesk migrate"
        ),
        "{migrations}"
    );
}

#[tokio::test]
async fn webhook_secrets_are_read_by_the_admin_login_alone() {
    let db = TestDb::new().await;
    let ada = unique("pdc_ada");
    let fin = unique("pdc_fin");
    let _cleanup = Logins(&db, vec![ada.clone(), fin.clone()]);
    run_as(
        &db,
        "root",
        None,
        &["operators", "add", &ada, "--role", "admin", "--db-login"],
    )
    .await
    .success();
    run_as(
        &db,
        "mallory",
        Some(&ada),
        &["operators", "add", &fin, "--role", "finance", "--db-login"],
    )
    .await
    .success();
    let out = run_as(
        &db,
        "mallory",
        Some(&ada),
        &["webhooks", "add", "--url", "https://hooks.example/in"],
    )
    .await;
    out.success();
    let secret = out
        .stdout_lines()
        .into_iter()
        .find_map(|l| l.strip_prefix("secret: ").map(str::to_owned))
        .unwrap_or_else(|| panic!("the secret, shown once:{out}"));
    assert!(secret.starts_with("whsec_"), "{secret}");

    // A read-only session of the admin lists endpoints, never a secret, and neither makes nor
    // rotates one.
    let out = run_as(
        &db,
        "mallory",
        Some(&ada),
        &["--read-only", "webhooks", "list", "--json"],
    )
    .await;
    out.success();
    let text = out.stdout_text();
    assert!(text.contains("https://hooks.example/in"), "{out}");
    assert!(
        !text.contains("whsec_") && !text.contains("secret"),
        "{out}"
    );
    for args in [
        &["--read-only", "webhooks", "rotate", "1"][..],
        &[
            "--read-only",
            "webhooks",
            "add",
            "--url",
            "https://other.example/in",
        ][..],
    ] {
        let line = run_as(&db, "mallory", Some(&ada), args)
            .await
            .error_line(REFUSED);
        assert_eq!(
            line,
            "read-only: manage webhooks and run the relay is not available in a read-only session"
        );
    }

    // Finance's own login: the command says who may; the database itself keeps the secrets
    // from it (its grants name every column but the secrets).
    let line = run_as(&db, "mallory", Some(&fin), &["webhooks", "list"])
        .await
        .error_line(REFUSED);
    assert_eq!(
        line,
        format!("{fin} may not view webhook endpoints and deliveries: it needs the admin role")
    );
    let mut conn = {
        use sqlx::Connection;
        sqlx::PgConnection::connect_with(&db.login_options(&fin).await)
            .await
            .expect("connect as finance")
    };
    for column in ["secret", "previous_secret", "*"] {
        let err = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {column} FROM webhook_endpoints"
        )))
        .fetch_all(&mut conn)
        .await
        .expect_err("the secrets are the admin's");
        assert!(
            err.to_string().contains("permission denied"),
            "{column}: {err}"
        );
    }
    let urls: Vec<String> = sqlx::query_scalar("SELECT url FROM webhook_endpoints")
        .fetch_all(&mut conn)
        .await
        .expect("the other columns are readable");
    assert_eq!(urls, ["https://hooks.example/in"]);
    // The admin's login reads them (the relay signs with them).
    let mut conn = {
        use sqlx::Connection;
        sqlx::PgConnection::connect_with(&db.login_options(&ada).await)
            .await
            .expect("connect as the admin")
    };
    let kept: String = sqlx::query_scalar("SELECT secret FROM webhook_endpoints")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(kept, secret);
}

/// Issue 21: the whole CLI as each role's own login, through one table of (command, exit code
/// per role): a grant change that breaks a flow, or opens one, fails here. On the demo data.
#[tokio::test]
async fn every_role_s_login_runs_its_flows_and_is_refused_the_rest() {
    let db = TestDb::new().await;
    seeded(run_as(&db, "root", None, &["seed", "--demo"]).await);
    let roles = ["curator", "support", "finance", "admin"];
    let names: Vec<String> = roles.iter().map(|r| unique(&format!("pdr_{r}"))).collect();
    let _cleanup = Logins(&db, names.clone());
    for (role, name) in roles.iter().zip(&names) {
        run_as(
            &db,
            "root",
            None,
            &["operators", "add", name, "--role", role, "--db-login"],
        )
        .await
        .success();
    }
    let (deal, member, source): (i64, i64, String) = sqlx::query_as(
        "SELECT d.id, (SELECT id FROM members WHERE role = 'public' ORDER BY id LIMIT 1),
                CASE d.kind WHEN 'coupon' THEN 'copy_code' ELSE 'outbound_click' END
           FROM deals d WHERE d.state = 'active' AND d.audience_scope = 'public'
            AND d.redemption_cap IS NULL ORDER BY d.id LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let fresh: i64 = sqlx::query_scalar(
        "SELECT id FROM partners p WHERE deleted_at IS NULL AND verification = 'verified'
            AND NOT EXISTS (SELECT FROM settlements s WHERE s.partner_id = p.id) ORDER BY id LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let (deal, member, fresh) = (deal.to_string(), member.to_string(), fresh.to_string());
    let home = TempDir::new("pd-roles-import");
    let at = (chrono::Utc::now() - chrono::Duration::hours(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let csv = home.file(
        "one.csv",
        &format!("deal_id,member_id,redeemed_at,value,currency,source\n{deal},{member},{at},12.50,EUR,{source}\n"),
    );
    // [curator, support, finance, admin]; `{r}` stands for the role's name.
    let table: Vec<(Vec<&str>, [i32; 4])> = vec![
        (vec!["partners", "list"], [0, 0, 0, 0]),
        (vec!["deals", "list", "--limit", "5"], [0, 0, 0, 0]),
        (vec!["agreements", "list", "--json"], [0, REFUSED, 0, 0]),
        (vec!["settle", "list"], [0, REFUSED, 0, 0]),
        (vec!["webhooks", "list"], [REFUSED, REFUSED, REFUSED, 0]),
        (vec!["jobs", "expire"], [0, REFUSED, REFUSED, 0]),
        (
            vec![
                "partners",
                "add",
                "--legal-name",
                "Legal {r}",
                "--display-name",
                "Shown {r}",
            ],
            [0, REFUSED, REFUSED, 0],
        ),
        (
            vec![
                "plans",
                "add",
                "--code",
                "plan-{r}",
                "--name",
                "Plan {r}",
                "--price",
                "9.90",
                "--currency",
                "EUR",
            ],
            [0, REFUSED, REFUSED, 0],
        ),
        (
            vec![
                "negotiations",
                "open",
                "--partner",
                &fresh,
                "--subject",
                "Terms {r}",
                "--deadline",
                "2027-06-01 12:00",
            ],
            [0, REFUSED, REFUSED, 0],
        ),
        (
            vec![
                "agreements",
                "add",
                "--partner",
                &fresh,
                "--currency",
                "EUR",
                "--frequency",
                "monthly",
                "--model",
                "percentage",
                "--bps",
                "500",
                "--from",
                "2027-01-01",
            ],
            [0, REFUSED, 0, 0],
        ),
        (
            vec!["settle", "compute", "--all", "--period", "2026-11"],
            [REFUSED, REFUSED, 0, 0],
        ),
        (
            vec!["redeem", "--deal", &deal, "--member", &member],
            [REFUSED, REFUSED, REFUSED, 0],
        ),
        (
            vec!["redemptions", "import", &csv],
            [REFUSED, REFUSED, REFUSED, 0],
        ),
    ];
    let mut wrong = Vec::new();
    for (args, want) in &table {
        for ((role, name), code) in roles.iter().zip(&names).zip(want) {
            let args: Vec<String> = args.iter().map(|a| a.replace("{r}", role)).collect();
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = run_as(&db, name, Some(name), &args).await;
            if out.code != *code {
                wrong.push(format!(
                    "{role}: {} → {} (expected {code}): {} {}",
                    args.join(" "),
                    out.code,
                    out.stderr.trim(),
                    out.stdout_text().trim()
                ));
            } else if *code == REFUSED && !out.stderr.contains("needs the") {
                wrong.push(format!(
                    "{role}: {} is refused without naming the role it needs: {}",
                    args.join(" "),
                    out.stderr.trim()
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // What the admin's login wrote names it, on the audit row and beside it.
    let (actor, login): (String, String) = sqlx::query_as(
        "SELECT actor, db_login FROM audit_log WHERE action = 'redemption.record' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        (actor.as_str(), login.as_str()),
        (names[3].as_str(), names[3].as_str())
    );
}

/// Issue 21: a login in none of the database's groups is told so, not "permission denied for
/// table _sqlx_migrations"; a superuser cannot be made a person's login (exit code 3).
#[tokio::test]
async fn a_login_with_no_role_and_a_superuser_login_are_refused_in_words() {
    let db = TestDb::new().await;
    run_as(
        &db,
        "root",
        None,
        &["operators", "add", "ada", "--role", "admin"],
    )
    .await
    .success();
    let nobody = unique("pdr_nobody");
    let _cleanup = Logins(&db, vec![nobody.clone()]);
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE ROLE \"{nobody}\" LOGIN"
    )))
    .execute(&db.pool)
    .await
    .unwrap();
    let line = run_as(&db, &nobody, Some(&nobody), &["partners", "list"])
        .await
        .error_line(REFUSED);
    assert_eq!(
        line,
        format!(
            "database login {nobody} has no partnerdesk role in database {}: an admin gives it one with `partnerdesk operators add {nobody} --role ROLE --db-login`",
            db.name
        )
    );
    let line = run_as(
        &db,
        "ada",
        None,
        &[
            "operators",
            "add",
            "postgres",
            "--role",
            "curator",
            "--db-login",
        ],
    )
    .await
    .error_line(REFUSED);
    assert!(
        line.contains("postgres is a database role that cannot be a person's login"),
        "{line}"
    );
}
