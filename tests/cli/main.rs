//! The real `partnerdesk` binary against real PostgreSQL: what a user sees (standard output,
//! standard error, exit codes) and what lands in the database.
//!
//! Every test gets a fresh database (`TestDb`), and every run of the binary a fresh
//! `PARTNERDESK_HOME` (config, state and logs isolated), a known `USER`, no `DATABASE_URL`,
//! and only the connection settings the test gives it.

#[path = "../db/common.rs"]
#[allow(dead_code)]
mod common;

mod redemptions;

use common::TestDb;
use partnerdesk::config::Config;
use partnerdesk::store::{ConnectRequest, DbSettings};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_partnerdesk");

/// Every variable that could point the child at some other database.
const CONNECTION_VARS: &[&str] = &[
    "DATABASE_URL",
    "PGHOST",
    "PGHOSTADDR",
    "PGPORT",
    "PGUSER",
    "PGPASSWORD",
    "PGDATABASE",
    "PGSSLMODE",
    "PGPASSFILE",
    "PGSERVICE",
    "PGSERVICEFILE",
    "PGAPPNAME",
];

/// Text that must never reach a user: panics, backtraces, raw debug dumps.
const DEBUG_NOISE: &[&str] = &[
    "panicked",
    "stack backtrace",
    "RUST_BACKTRACE",
    "Error {",
    "Error(",
    "Os {",
    "kind: ",
];

// The harness ---------------------------------------------------------------------------------

/// A fresh, empty PARTNERDESK_HOME, removed when dropped.
struct Home(PathBuf);

impl Home {
    fn new() -> Self {
        let p = std::env::temp_dir().join(format!("pd-cli-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&p).expect("create temp PARTNERDESK_HOME");
        Self(p)
    }

    /// Everything the binary logged.
    fn logs(&self) -> String {
        let mut all = String::new();
        if let Ok(dir) = std::fs::read_dir(self.0.join("state").join("logs")) {
            for e in dir.flatten() {
                all.push_str(&std::fs::read_to_string(e.path()).unwrap_or_default());
            }
        }
        all
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One run of the binary being prepared.
struct Pd {
    cmd: Command,
    args: Vec<String>,
    home: Home,
}

/// `partnerdesk ARGS…` as OS user `user`, with no connection settings yet.
fn pd(user: &str, args: &[&str]) -> Pd {
    let home = Home::new();
    let mut cmd = Command::new(BIN);
    cmd.args(args);
    for v in CONNECTION_VARS {
        cmd.env_remove(v);
    }
    cmd.env("PARTNERDESK_HOME", &home.0)
        .env("USER", user)
        .env("RUST_BACKTRACE", "1")
        .env("TERM", "dumb")
        .env_remove("COLORTERM")
        .env_remove("NO_COLOR")
        .env_remove("PARTNERDESK_LOG");
    Pd {
        cmd,
        args: args.iter().map(|a| a.to_string()).collect(),
        home,
    }
}

impl Pd {
    /// Connect through the PG* variables to this database.
    fn on(mut self, env: &[(String, String)]) -> Self {
        self.cmd.envs(env.iter().map(|(k, v)| (k, v)));
        self
    }

    fn env(mut self, k: &str, v: &str) -> Self {
        self.cmd.env(k, v);
        self
    }

    fn run(mut self) -> Out {
        let o = self.cmd.output().expect("start partnerdesk");
        Out {
            args: self.args.join(" "),
            code: o
                .status
                .code()
                .expect("partnerdesk exited (not killed by a signal)"),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            home: self.home,
        }
    }
}

/// What one run printed and how it exited.
struct Out {
    args: String,
    code: i32,
    stdout: String,
    stderr: String,
    home: Home,
}

impl fmt::Display for Out {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "\n$ partnerdesk {}\nexit code {}\n--- stdout\n{}--- stderr\n{}---",
            self.args, self.code, self.stdout, self.stderr
        )
    }
}

impl Out {
    /// No panic, backtrace or debug dump anywhere.
    fn assert_clean(&self) -> &Self {
        for noise in DEBUG_NOISE {
            assert!(
                !self.stdout.contains(noise) && !self.stderr.contains(noise),
                "output contains {noise:?}:{self}"
            );
        }
        self
    }

    /// Exit 0 and clean output.
    fn success(&self) -> &Self {
        assert_eq!(self.code, 0, "expected success:{self}");
        self.assert_clean()
    }

    /// A failure: exit code `code`, nothing on standard output, exactly one line on standard
    /// error, starting with `partnerdesk: `. Returns that line without the prefix.
    fn error_line(&self, code: i32) -> String {
        assert_eq!(self.code, code, "expected exit code {code}:{self}");
        self.assert_clean();
        assert_eq!(self.stdout, "", "nothing on standard output:{self}");
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "exactly one line on standard error:{self}");
        lines[0]
            .strip_prefix("partnerdesk: ")
            .unwrap_or_else(|| panic!("the line starts with 'partnerdesk: ':{self}"))
            .to_owned()
    }

    fn stdout_lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }

    /// The password appears nowhere: not in output, not in the log files.
    fn assert_never_shows(&self, secret: &str) -> &Self {
        assert!(!self.stdout.contains(secret), "password on stdout:{self}");
        assert!(!self.stderr.contains(secret), "password on stderr:{self}");
        let logs = self.home.logs();
        assert!(!logs.contains(secret), "password in the log:\n{logs}");
        self
    }
}

fn env_map(env: &[(String, String)]) -> HashMap<String, String> {
    env.iter().cloned().collect()
}

/// `user@host:port/db` as the binary shows a database reached through these PG* variables.
fn target_of(env: &[(String, String)]) -> String {
    let e = env_map(env);
    format!(
        "{}@{}:{}/{}",
        e["PGUSER"], e["PGHOST"], e["PGPORT"], e["PGDATABASE"]
    )
}

/// A `postgres://` URL to `database` on the test server, as `user` (with an optional password).
fn url(env: &[(String, String)], user: &str, password: Option<&str>, database: &str) -> String {
    let e = env_map(env);
    let auth = match password {
        Some(p) => format!("{user}:{p}"),
        None => user.to_owned(),
    };
    let (host, port) = (&e["PGHOST"], &e["PGPORT"]);
    if host.starts_with('/') {
        format!("postgres://{auth}@localhost:{port}/{database}?host={host}")
    } else {
        format!("postgres://{auth}@{host}:{port}/{database}")
    }
}

/// How the binary shows the database behind `url(...)`.
fn url_target(env: &[(String, String)], user: &str, database: &str) -> String {
    let e = env_map(env);
    format!("{user}@{}:{}/{database}", e["PGHOST"], e["PGPORT"])
}

/// Runs SQL on its own thread and runtime (usable from Drop inside a blocked test runtime).
fn run_detached(options: PgConnectOptions, sql: String) {
    let _ = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build();
        if let Ok(rt) = rt {
            rt.block_on(async move {
                if let Ok(mut c) = PgConnection::connect_with(&options).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut c).await;
                    let _ = c.close().await;
                }
            });
        }
    })
    .join();
}

fn random_suffix() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..10].to_owned()
}

/// A fresh database with no schema at all (TestDb migrates its databases).
struct EmptyDb {
    name: String,
    options: PgConnectOptions,
    admin: PgConnectOptions,
}

impl EmptyDb {
    async fn new() -> Self {
        let base = DbSettings::resolve(
            &ConnectRequest::default(),
            &Config::default(),
            Path::new("(tests)"),
        )
        .expect("tests need a PostgreSQL server");
        let admin = base.options.clone().database("postgres");
        let name = format!("pd_cli_empty_{}", random_suffix());
        let mut c = PgConnection::connect_with(&admin)
            .await
            .expect("connect as admin");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut c)
            .await
            .expect("create empty database");
        c.close().await.ok();
        let options = base.options.clone().database(&name);
        Self {
            name,
            options,
            admin,
        }
    }

    fn pg_env(&self) -> Vec<(String, String)> {
        let host = match self.options.get_socket() {
            Some(s) => s.display().to_string(),
            None => self.options.get_host().to_owned(),
        };
        vec![
            ("PGHOST".into(), host),
            ("PGPORT".into(), self.options.get_port().to_string()),
            ("PGUSER".into(), self.options.get_username().to_owned()),
            ("PGDATABASE".into(), self.name.clone()),
        ]
    }

    async fn exec(&self, sql: &str) {
        let mut c = PgConnection::connect_with(&self.options)
            .await
            .expect("connect");
        sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&mut c)
            .await
            .expect("execute");
        c.close().await.ok();
    }

    async fn table_exists(&self, table: &str) -> bool {
        let mut c = PgConnection::connect_with(&self.options)
            .await
            .expect("connect");
        let exists = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
            .bind(table)
            .fetch_one(&mut c)
            .await
            .expect("to_regclass");
        c.close().await.ok();
        exists
    }
}

impl Drop for EmptyDb {
    fn drop(&mut self) {
        run_detached(
            self.admin.clone(),
            format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name),
        );
        run_detached(self.admin.clone(), common::drop_group_roles_sql(&self.name));
    }
}

/// A login role that may not create databases, dropped when the test ends.
struct TempRole {
    name: String,
    admin: PgConnectOptions,
}

impl TempRole {
    /// Created through `admin` (a superuser connection to any database of the server).
    async fn nocreate(admin: &PgConnectOptions) -> Self {
        let name = format!("pd_nocreate_{}", random_suffix());
        let mut c = PgConnection::connect_with(admin).await.expect("connect");
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE ROLE \"{name}\" LOGIN NOCREATEDB"
        )))
        .execute(&mut c)
        .await
        .expect("create role");
        c.close().await.ok();
        Self {
            name,
            admin: admin.clone().database("postgres"),
        }
    }
}

impl Drop for TempRole {
    fn drop(&mut self) {
        run_detached(
            self.admin.clone(),
            format!("DROP ROLE IF EXISTS \"{}\"", self.name),
        );
    }
}

/// The number right before `word` in `text` ("seeded 25 partners" → 25 for "partners").
fn number_before(text: &str, word: &str) -> i64 {
    let tokens: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')')
        .filter(|t| !t.is_empty())
        .collect();
    tokens
        .windows(2)
        .find(|w| w[1] == word)
        .and_then(|w| w[0].parse().ok())
        .unwrap_or_else(|| panic!("no number before {word:?} in {text:?}"))
}

async fn strings(db: &TestDb, sql: &str) -> Vec<String> {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_all(&db.pool)
        .await
        .expect("query")
}

// migrate -------------------------------------------------------------------------------------

#[tokio::test]
async fn migrate_applies_the_schema_to_an_empty_database_then_says_it_is_current() {
    let db = EmptyDb::new().await;
    let env = db.pg_env();
    let target = target_of(&env);
    let n = partnerdesk::store::migrate::known_versions().len();
    assert!(!db.table_exists("deals").await, "starts empty");

    let out = pd("pd_ops", &["migrate"]).on(&env).run();
    out.success();
    assert_eq!(
        out.stdout,
        format!("{target}: applied {n} migration(s); {n} in all\n"),
        "{out}"
    );
    assert_eq!(out.stderr, "", "{out}");
    for table in [
        "operators",
        "audit_log",
        "partners",
        "partner_checks",
        "members",
        "deals",
        "deal_coupon_codes",
        "deal_search_documents",
        "redemptions",
        "outbox_events",
        "_sqlx_migrations",
    ] {
        assert!(db.table_exists(table).await, "table {table} exists");
    }

    let again = pd("pd_ops", &["migrate"]).on(&env).run();
    again.success();
    assert_eq!(
        again.stdout,
        format!("{target}: schema is current ({n} migrations)\n"),
        "{again}"
    );
    assert_eq!(again.stderr, "", "{again}");
}

// doctor --------------------------------------------------------------------------------------

fn line_starting<'a>(out: &'a Out, prefix: &str) -> &'a str {
    out.stdout_lines()
        .into_iter()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("a line starting {prefix:?}:{out}"))
}

#[tokio::test]
async fn doctor_reports_every_step_ok_for_a_registered_operator_and_never_a_password() {
    let db = TestDb::new().await;
    let env = db.pg_env();
    let target = target_of(&env);
    db.admin().await;
    pd("ada", &["operators", "add", "doc", "--role", "curator"])
        .on(&env)
        .run()
        .success();

    let secret = "sekrit-pw-4711";
    let out = pd("doc", &["doctor"])
        .on(&env)
        .env("PGPASSWORD", secret)
        .env("TERM", "xterm-256color")
        .run();
    out.success().assert_never_shows(secret);
    assert_eq!(out.stderr, "", "{out}");
    let v = env!("CARGO_PKG_VERSION");
    assert_eq!(out.stdout_lines()[0], format!("partnerdesk {v} doctor"));
    assert_eq!(
        line_starting(&out, "  ok    connection"),
        format!("  ok    connection   {target} (from PG* environment variables)")
    );
    assert!(line_starting(&out, "  ok    server").starts_with("  ok    server       PostgreSQL "));
    let n = partnerdesk::store::migrate::known_versions().len();
    assert_eq!(
        line_starting(&out, "  ok    migrations"),
        format!("  ok    migrations   current ({n} applied)")
    );
    assert_eq!(
        line_starting(&out, "  ok    operator"),
        "  ok    operator     doc (doc) as curator"
    );
    // The config file and log directory are the isolated PARTNERDESK_HOME's.
    assert!(
        line_starting(&out, "  ok    config").contains(&out.home.0.display().to_string()),
        "{out}"
    );
    // Standard output is a pipe here: a warning, not a failure.
    assert!(
        line_starting(&out, "  warn  terminal").contains("256 colours"),
        "{out}"
    );
    assert_eq!(out.stdout_lines().last(), Some(&"all checks passed"));
    assert!(!out.stdout.contains("FAIL"), "{out}");

    // The same through a URL that carries a password: shown without it.
    let user = env_map(&env)["PGUSER"].clone();
    let with_pw = url(&env, &user, Some(secret), &db.name);
    let out = pd("doc", &["--database-url", &with_pw, "doctor"]).run();
    out.success().assert_never_shows(secret);
    assert_eq!(
        line_starting(&out, "  ok    connection"),
        format!(
            "  ok    connection   {} (from --database-url)",
            url_target(&env, &user, &db.name)
        )
    );
}

#[tokio::test]
async fn doctor_warns_an_unregistered_operator_with_the_command_to_run() {
    let db = TestDb::new().await;
    let env = db.pg_env();
    // No operators yet: the command that would work registers an admin.
    let out = pd("stranger", &["doctor"]).on(&env).run();
    out.success();
    assert_eq!(
        line_starting(&out, "  warn  operator"),
        "  warn  operator     stranger is not registered and there are no operators yet: the \
         console opens read-only; the first operator must be an admin: partnerdesk operators add \
         stranger --role admin"
    );
    pd("stranger", &["operators", "add", "ops", "--role", "admin"])
        .on(&env)
        .run()
        .success();
    let out = pd("stranger", &["doctor"]).on(&env).run();
    out.success();
    assert_eq!(
        line_starting(&out, "  warn  operator"),
        "  warn  operator     stranger is not registered: the console opens read-only; \
         an admin can run: partnerdesk operators add stranger --role curator"
    );
    assert!(line_starting(&out, "  ok    connection").contains(&target_of(&env)));
    assert_eq!(out.stdout_lines().last(), Some(&"all checks passed"));

    // --operator wins over USER.
    let out = pd("stranger", &["--operator", "ops", "doctor"])
        .on(&env)
        .run();
    out.success();
    assert_eq!(
        line_starting(&out, "  ok    operator"),
        "  ok    operator     ops (ops) as admin"
    );
}

#[tokio::test]
async fn doctor_fails_the_connection_step_for_an_unreachable_server() {
    let out = pd(
        "doc",
        &[
            "--database-url",
            "postgres://u:secretpw@127.0.0.1:1/x",
            "doctor",
        ],
    )
    .run();
    assert_eq!(out.code, 1, "{out}");
    out.assert_clean().assert_never_shows("secretpw");
    assert_eq!(
        line_starting(&out, "  FAIL  connection"),
        "  FAIL  connection   cannot reach PostgreSQL at u@127.0.0.1:1/x: connection refused (is the server running?)"
    );
    assert_eq!(
        line_starting(&out, "  warn  server"),
        "  warn  server       skipped: no connection"
    );
    assert_eq!(out.stdout_lines().last(), Some(&"some checks failed"));
}

// operators -----------------------------------------------------------------------------------

#[tokio::test]
async fn operators_first_add_bootstraps_then_only_an_admin_may_add() {
    let db = TestDb::new().await;
    let env = db.pg_env();

    let out = pd("alice", &["operators", "list"]).on(&env).run();
    out.success();
    assert_eq!(
        out.stdout,
        "no operators registered; the first one may be added by anyone: partnerdesk operators add LOGIN --role admin\n"
    );

    // Bootstrap: alice is not registered and nobody is; the first add needs no admin.
    let out = pd(
        "alice",
        &[
            "operators",
            "add",
            "alice",
            "--role",
            "admin",
            "--name",
            "Alice Admin",
        ],
    )
    .on(&env)
    .run();
    out.success();
    assert_eq!(out.stdout, "registered alice (Alice Admin) as admin\n");

    // The admin adds a curator with two roles.
    let out = pd(
        "alice",
        &["operators", "add", "bob", "--role", "curator", "support"],
    )
    .on(&env)
    .run();
    out.success();
    assert_eq!(out.stdout, "registered bob (bob) as curator, support\n");

    // A registered non-admin may not.
    let line = pd("bob", &["operators", "add", "carol", "--role", "curator"])
        .on(&env)
        .run()
        .error_line(3);
    assert_eq!(
        line,
        "bob may not register operators and change roles: it needs the admin role"
    );
    // Neither may an unregistered operator once the first one exists.
    let out = pd(
        "mallory",
        &["operators", "add", "mallory", "--role", "admin"],
    )
    .on(&env)
    .run();
    let line = out.error_line(3);
    assert_eq!(
        line,
        "mallory is not a registered operator, so may not register operators and change roles: \
         it needs the admin role (an admin can run: partnerdesk operators add mallory --role admin)",
        "{out}"
    );

    // Registering twice is refused plainly.
    let line = pd("alice", &["operators", "add", "bob", "--role", "curator"])
        .on(&env)
        .run()
        .error_line(3);
    assert_eq!(line, "operator bob is already registered");

    let logins = strings(&db, "SELECT login FROM operators ORDER BY login").await;
    assert_eq!(logins, ["alice", "bob"]);
    assert_eq!(
        db.count("SELECT count(*) FROM audit_log WHERE action = 'operator.register'")
            .await,
        2
    );
    let actor: String = sqlx::query_scalar(
        "SELECT actor FROM audit_log WHERE action = 'operator.register' AND entity_id = 'bob'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(actor, "alice");

    let out = pd("bob", &["operators", "list"]).on(&env).run();
    out.success();
    let lines = out.stdout_lines();
    assert_eq!(lines.len(), 3, "{out}");
    let cols = |l: &str| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(cols(lines[0]), ["LOGIN", "NAME", "ROLES"]);
    assert_eq!(cols(lines[1]), ["alice", "Alice", "Admin", "admin"]);
    assert_eq!(cols(lines[2]), ["bob", "bob", "curator,support"]);

    // set-roles: admin only, and the change shows in the list.
    let line = pd(
        "bob",
        &["operators", "set-roles", "alice", "--role", "curator"],
    )
    .on(&env)
    .run()
    .error_line(3);
    assert!(line.ends_with("it needs the admin role"), "{line}");
    let out = pd(
        "alice",
        &["operators", "set-roles", "bob", "--role", "finance"],
    )
    .on(&env)
    .run();
    out.success();
    assert_eq!(out.stdout, "bob is now finance\n");
    let roles: Vec<String> = sqlx::query_scalar("SELECT roles FROM operators WHERE login = 'bob'")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(roles, ["finance"]);
}

// seed ----------------------------------------------------------------------------------------

#[tokio::test]
async fn seed_demo_matches_its_summary_and_every_rule() {
    let db = TestDb::new().await;
    let env = db.pg_env();
    let target = target_of(&env);

    let out = pd("pd_seeder", &["seed", "--demo"]).on(&env).run();
    out.success();
    let lines = out.stdout_lines();
    assert_eq!(lines.len(), 1, "one summary line:{out}");
    let summary = lines[0];
    assert!(summary.starts_with(&format!("{target}: seeded ")), "{out}");
    // Progress goes to standard error when it is not a terminal, one line per phase.
    for phase in ["partners", "members", "deals", "redemptions"] {
        assert!(
            out.stderr
                .lines()
                .any(|l| l.starts_with(&format!("seeding {phase} ("))),
            "progress for {phase}:{out}"
        );
    }

    for (word, table) in [
        ("partners", "partners"),
        ("members", "members"),
        ("deals", "deals"),
        ("redemptions", "redemptions"),
        ("operators", "operators"),
    ] {
        assert_eq!(
            number_before(summary, word),
            db.count(&format!("SELECT count(*) FROM {table}")).await,
            "{word} in the summary match the table"
        );
    }
    assert_eq!(
        number_before(summary, "deals"),
        partnerdesk::seed::Plan::DEMO_DEALS as i64
    );
    assert!(number_before(summary, "redemptions") > 0);

    // The OS user is an admin.
    let roles: Vec<String> =
        sqlx::query_scalar("SELECT roles FROM operators WHERE login = 'pd_seeder'")
            .fetch_one(&db.pool)
            .await
            .expect("the OS user is registered");
    assert_eq!(roles, ["admin"]);

    // Every state and every scope.
    assert_eq!(
        strings(&db, "SELECT DISTINCT state FROM deals ORDER BY 1").await,
        ["active", "draft", "expired", "paused"]
    );
    assert_eq!(
        strings(&db, "SELECT DISTINCT audience_scope FROM deals ORDER BY 1").await,
        ["alumni", "batch", "chapter", "institute", "public"]
    );

    // The KYC gate: an active deal's partner is verified.
    assert_eq!(
        db.count(
            "SELECT count(*) FROM deals d JOIN partners p ON p.id = d.partner_id
              WHERE d.state = 'active' AND p.verification <> 'verified'"
        )
        .await,
        0
    );
    // The search index holds exactly the active deals.
    assert!(
        db.count("SELECT count(*) FROM deals WHERE state = 'active'")
            .await
            > 0
    );
    assert_eq!(
        db.count(
            "SELECT count(*) FROM deals d
              WHERE (d.state = 'active')
                 <> EXISTS (SELECT 1 FROM deal_search_documents s WHERE s.deal_id = d.id)"
        )
        .await,
        0
    );
    assert_eq!(
        db.count("SELECT count(*) FROM deal_search_documents").await,
        db.count("SELECT count(*) FROM deals WHERE state = 'active'")
            .await
    );
    // Caps hold (cap 1: one per member; cap N: N in total) and the counters agree.
    assert_eq!(
        db.count(
            "SELECT count(*) FROM deals d
              WHERE d.redemption_cap > 1
                AND (SELECT count(*) FROM redemptions r WHERE r.deal_id = d.id) > d.redemption_cap"
        )
        .await,
        0
    );
    assert_eq!(
        db.count(
            "SELECT count(*) FROM (SELECT r.deal_id, r.member_id FROM redemptions r
               JOIN deals d ON d.id = r.deal_id WHERE d.redemption_cap = 1
              GROUP BY 1, 2 HAVING count(*) > 1) x"
        )
        .await,
        0
    );
    assert!(
        db.count(
            "SELECT count(*) FROM deals d WHERE d.redemption_cap = 1
                AND (SELECT count(DISTINCT member_id) FROM redemptions r WHERE r.deal_id = d.id) > 1"
        )
        .await
            > 0,
        "some cap-1 deals were redeemed by several members"
    );
    assert_eq!(
        db.count(
            "SELECT count(*) FROM deals d
              WHERE d.redemption_count <> (SELECT count(*) FROM redemptions r WHERE r.deal_id = d.id)"
        )
        .await,
        0
    );
    // Drafts have never been redeemed.
    assert_eq!(
        db.count(
            "SELECT count(*) FROM redemptions r JOIN deals d ON d.id = r.deal_id WHERE d.state = 'draft'"
        )
        .await,
        0
    );

    // A second run without --reset changes nothing and says so.
    let tables = [
        "partners",
        "members",
        "deals",
        "redemptions",
        "operators",
        "audit_log",
        "deal_coupon_codes",
    ];
    let mut before = Vec::new();
    for t in tables {
        before.push(db.count(&format!("SELECT count(*) FROM {t}")).await);
    }
    let again = pd("pd_seeder", &["seed", "--demo"]).on(&env).run();
    again.success();
    let (p, d) = (
        number_before(summary, "partners"),
        number_before(summary, "deals"),
    );
    assert_eq!(
        again.stdout,
        format!(
            "{target}: already holds data ({p} partners, {d} deals); nothing seeded (use --reset to wipe and seed again)\n"
        ),
        "{again}"
    );
    let mut after = Vec::new();
    for t in tables {
        after.push(db.count(&format!("SELECT count(*) FROM {t}")).await);
    }
    assert_eq!(before, after, "nothing changed ({tables:?})");
}

#[tokio::test]
async fn seed_demo_is_deterministic_and_reset_seeds_the_same_again() {
    let one = TestDb::new().await;
    let two = TestDb::new().await;
    for db in [&one, &two] {
        pd("pd_seeder", &["seed", "--demo"])
            .on(&db.pg_env())
            .run()
            .success();
    }
    let domains = "SELECT domain FROM partners ORDER BY id";
    let titles = "SELECT title FROM deals ORDER BY id";
    let states = "SELECT state || ' ' || audience_scope FROM deals ORDER BY id";
    let first_domains = strings(&one, domains).await;
    assert!(!first_domains.is_empty());
    assert_eq!(first_domains, strings(&two, domains).await);
    let first_titles = strings(&one, titles).await;
    assert_eq!(first_titles, strings(&two, titles).await);
    assert_eq!(strings(&one, states).await, strings(&two, states).await);

    // An endpoint that has had deliveries: the reset empties the outbox and its deliveries
    // and the endpoint takes the events written from then on (ids start again from 1).
    sqlx::query(
        "INSERT INTO webhook_endpoints (url, secret, after_event_id, created_by, updated_by)
         SELECT 'https://hooks.example/in', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
                max(id) - 5, 'ops', 'ops' FROM outbox_events",
    )
    .execute(&one.pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO webhook_deliveries (event_id, endpoint_id)
         SELECT e.id, w.id FROM outbox_events e, webhook_endpoints w WHERE e.id > w.after_event_id",
    )
    .execute(&one.pool)
    .await
    .unwrap();

    // --reset wipes and seeds the same data again; the audit log is kept.
    let audits = one.audit_count().await;
    let out = pd("pd_seeder", &["seed", "--demo", "--reset", "--yes"])
        .on(&one.pg_env())
        .run();
    out.success();
    assert!(out.stdout.contains(": seeded "), "{out}");
    assert_eq!(strings(&one, domains).await, first_domains);
    assert_eq!(strings(&one, titles).await, first_titles);
    assert!(one.audit_count().await > audits, "the audit log only grows");
    assert_eq!(
        one.count("SELECT count(*) FROM audit_log WHERE action = 'seed.reset'")
            .await,
        1
    );
    assert_eq!(
        one.count("SELECT count(*) FROM webhook_endpoints WHERE after_event_id = 0")
            .await,
        1,
        "the endpoint stays and takes the new events"
    );
    assert_eq!(
        one.count("SELECT count(*) FROM webhook_deliveries").await,
        0
    );
}

#[tokio::test]
async fn seed_demo_scale_creates_that_many_deals() {
    let db = TestDb::new().await;
    let out = pd("pd_seeder", &["seed", "--demo", "--scale", "2000"])
        .on(&db.pg_env())
        .run();
    out.success();
    assert_eq!(number_before(&out.stdout, "deals"), 2000, "{out}");
    assert_eq!(db.count("SELECT count(*) FROM deals").await, 2000);
    assert_eq!(
        db.count("SELECT count(*) FROM partners").await,
        number_before(&out.stdout, "partners")
    );
    assert!(db.count("SELECT count(*) FROM partners").await >= 2000 / 12);
    assert_eq!(
        db.count(
            "SELECT count(*) FROM deals d
              WHERE d.redemption_count <> (SELECT count(*) FROM redemptions r WHERE r.deal_id = d.id)"
        )
        .await,
        0
    );
}

// bad input -----------------------------------------------------------------------------------

#[test]
fn usage_errors_are_one_line_with_exit_code_2() {
    let line = pd("u", &["--bogus"]).run().error_line(2);
    assert_eq!(
        line,
        "unexpected argument '--bogus' found (see partnerdesk --help)"
    );
    let line = pd("u", &["migrate", "--bogus"]).run().error_line(2);
    assert!(line.contains("'--bogus'"), "{line}");

    let line = pd("u", &["operators", "add", "bob"]).run().error_line(2);
    assert!(line.contains("--role"), "{line}");
    assert!(line.contains("required"), "{line}");

    let line = pd("u", &["operators", "add", "bob", "--role", "wizard"])
        .run()
        .error_line(2);
    assert!(
        line.contains("unknown role 'wizard' (expected curator, support, finance or admin)"),
        "{line}"
    );

    let line = pd("u", &["seed"]).run().error_line(2);
    assert!(line.contains("--demo"), "{line}");
    let line = pd("u", &["seed", "--demo", "--scale", "0"])
        .run()
        .error_line(2);
    assert!(line.contains("--scale"), "{line}");
    let line = pd("u", &["redeem", "--deal", "x", "--member", "1"])
        .run()
        .error_line(2);
    assert!(line.contains("'x'") && line.contains("--deal"), "{line}");
    let line = pd("u", &["frobnicate"]).run().error_line(2);
    assert!(line.contains("'frobnicate'"), "{line}");
}

#[test]
fn bad_database_urls_are_one_line_and_never_show_the_password() {
    // A bad flag value: usage, exit code 2.
    let out = pd("u", &["--database-url", "mysql://x", "migrate"]).run();
    assert_eq!(
        out.error_line(2),
        "--database-url must be a postgres:// URL, like postgres://user@host:5432/partnerdesk"
    );

    let out = pd(
        "u",
        &[
            "--database-url",
            "postgres://u:secretpw@127.0.0.1:1/x",
            "migrate",
        ],
    )
    .run();
    let line = out.error_line(1);
    out.assert_never_shows("secretpw");
    assert_eq!(
        line,
        "cannot reach PostgreSQL at u@127.0.0.1:1/x: connection refused (is the server running?)"
    );

    let out = pd(
        "u",
        &[
            "--database-url",
            "postgres://u:secretpw@h:notaport/db",
            "migrate",
        ],
    )
    .run();
    let line = out.error_line(2);
    out.assert_never_shows("secretpw");
    assert!(
        line.starts_with("--database-url is not a valid PostgreSQL URL"),
        "{line}"
    );

    // DATABASE_URL is used when no flag is given, with the same care.
    let out = pd("u", &["migrate"])
        .env("DATABASE_URL", "postgres://u:secretpw@127.0.0.1:1/x")
        .run();
    let line = out.error_line(1);
    out.assert_never_shows("secretpw");
    assert!(line.contains("u@127.0.0.1:1/x"), "{line}");
}

#[tokio::test]
async fn a_missing_database_or_role_is_one_line_saying_what_to_do() {
    let db = TestDb::new().await;
    let env = db.pg_env();
    let role = TempRole::nocreate(&db.options).await;
    let missing = format!("pd_missing_{}", random_suffix());

    // The role exists but may not create databases; the database does not exist.
    let u = url(&env, &role.name, None, &missing);
    let line = pd("u", &["--database-url", &u, "migrate"])
        .run()
        .error_line(1);
    assert_eq!(
        line,
        format!(
            "{}: database \"{missing}\" does not exist; create it with: createdb {missing}",
            url_target(&env, &role.name, &missing)
        )
    );

    // The same through PG*: a named database is not created behind the user's back.
    let mut pg = env.clone();
    for (k, v) in pg.iter_mut() {
        if k == "PGUSER" {
            *v = role.name.clone();
        }
        if k == "PGDATABASE" {
            *v = missing.clone();
        }
    }
    let out = pd("u", &["doctor"]).on(&pg).run();
    assert_eq!(out.code, 1, "{out}");
    out.assert_clean();
    assert_eq!(
        line_starting(&out, "  FAIL  connection"),
        format!(
            "  FAIL  connection   {}: database \"{missing}\" does not exist; create it with: createdb {missing}",
            target_of(&pg)
        )
    );
    let line = pd("u", &["operators", "list"]).on(&pg).run().error_line(1);
    assert!(
        line.ends_with(&format!(
            "database \"{missing}\" does not exist; create it with: createdb {missing}"
        )),
        "{line}"
    );
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&missing)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert!(!exists, "nothing created");

    // A role that does not exist.
    let ghost = format!("pd_ghost_{}", random_suffix());
    let u = url(&env, &ghost, None, &db.name);
    let line = pd("u", &["--database-url", &u, "migrate"])
        .run()
        .error_line(1);
    assert_eq!(
        line,
        format!(
            "{}: role \"{ghost}\" does not exist",
            url_target(&env, &ghost, &db.name)
        )
    );
}

#[tokio::test]
async fn a_role_without_privileges_gets_one_line_from_migrate() {
    let db = EmptyDb::new().await;
    let env = db.pg_env();
    // As on PostgreSQL 15 and later: PUBLIC may connect but not create in schema public.
    db.exec("REVOKE CREATE ON SCHEMA public FROM PUBLIC").await;
    let role = TempRole::nocreate(&db.options).await;
    let u = url(&env, &role.name, None, &db.name);
    let out = pd("u", &["--database-url", &u, "migrate"]).run();
    let line = out.error_line(1);
    // Not the schema's owner: told so, and what to run, before anything is tried.
    assert_eq!(
        line,
        format!(
            "{}: {} migrations pending, and {} does not own the schema: run partnerdesk migrate as the schema owner",
            url_target(&env, &role.name, &db.name),
            partnerdesk::store::migrate::known_versions().len(),
            role.name
        )
    );
    assert!(!db.table_exists("deals").await);
}

#[tokio::test]
async fn a_failed_tls_handshake_is_one_line_about_tls() {
    let db = TestDb::new().await;
    let e = env_map(&db.pg_env());
    // TLS needs TCP: the same server over 127.0.0.1 when the tests use its socket.
    let host = if e["PGHOST"].starts_with('/') {
        "127.0.0.1"
    } else {
        e["PGHOST"].as_str()
    };
    let (user, port) = (&e["PGUSER"], &e["PGPORT"]);
    // verify-full: a self-signed server certificate (or no TLS at all) cannot pass.
    let u = format!(
        "postgres://{user}:tls-secret@{host}:{port}/{}?sslmode=verify-full",
        db.name
    );
    let out = pd("u", &["--database-url", &u, "migrate"]).run();
    let line = out.error_line(1);
    out.assert_never_shows("tls-secret");
    assert!(
        line.starts_with(&format!(
            "TLS with {user}@{host}:{port}/{} failed: ",
            db.name
        )),
        "{line}"
    );
}

// jobs expire ---------------------------------------------------------------------------------

#[tokio::test]
async fn jobs_expire_expires_due_deals_once() {
    let db = TestDb::new().await;
    let env = db.pg_env();
    let desk = db.admin().await;
    let due = common::active_deal(&desk, "DUE1").await;
    let current = common::active_deal(&desk, "NOW1").await;
    sqlx::query(
        "UPDATE deals SET valid_from = now() - interval '10 days',
                          valid_until = now() - interval '1 hour'
          WHERE id = $1",
    )
    .bind(due.id)
    .execute(&db.pool)
    .await
    .unwrap();

    // The job runs as a registered operator who may change deals (never an unregistered one).
    let out = pd("cron", &["jobs", "expire"]).on(&env).run();
    assert!(
        out.error_line(3)
            .starts_with("cron is not a registered operator, so may not author and change deals"),
        "{out}"
    );
    db.desk("cron", &[partnerdesk::domain::Role::Curator]).await;
    let out = pd("cron", &["jobs", "expire"]).on(&env).run();
    out.success();
    assert_eq!(out.stdout, "expired 1 deal\n", "{out}");
    assert_eq!(out.stderr, "", "{out}");

    let state = |id: i64| {
        let pool = db.pool.clone();
        async move {
            sqlx::query_scalar::<_, String>("SELECT state FROM deals WHERE id = $1")
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(state(due.id).await, "expired");
    assert_eq!(state(current.id).await, "active");
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM deal_search_documents WHERE deal_id = {}",
            due.id
        ))
        .await,
        0,
        "an expired deal leaves the search index"
    );
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM audit_log
              WHERE action = 'deal.expire' AND entity_id = '{}' AND actor = 'system'",
            due.id
        ))
        .await,
        1
    );

    let again = pd("cron", &["jobs", "expire"]).on(&env).run();
    again.success();
    assert_eq!(again.stdout, "expired 0 deals\n", "{again}");
    assert_eq!(state(current.id).await, "active");
}

// redeem --------------------------------------------------------------------------------------

#[tokio::test]
async fn redeem_records_on_an_active_deal_and_refuses_a_paused_one_with_exit_3() {
    let db = TestDb::new().await;
    let env = db.pg_env();
    pd("pd_seeder", &["seed", "--demo"])
        .on(&env)
        .run()
        .success();
    let deal: i64 = sqlx::query_scalar(
        "SELECT id FROM deals WHERE state = 'active' AND audience_scope = 'public'
            AND redemption_cap IS NULL AND valid_from <= now() AND valid_until > now()
          ORDER BY id LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .expect("an active public deal without cap");
    let member: i64 = sqlx::query_scalar("SELECT min(id) FROM members")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let count = |id: i64| {
        let pool = db.pool.clone();
        async move {
            sqlx::query_scalar::<_, i32>("SELECT redemption_count FROM deals WHERE id = $1")
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let before = count(deal).await;
    let rows = db.count("SELECT count(*) FROM redemptions").await;

    let (d, m) = (deal.to_string(), member.to_string());
    let out = pd("platform", &["redeem", "--deal", &d, "--member", &m])
        .on(&env)
        .run();
    out.success();
    assert!(out.stdout.starts_with("redeemed: redemption "), "{out}");
    assert!(
        out.stdout
            .contains(&format!(" of deal {deal} by member {member} at ")),
        "{out}"
    );
    assert_eq!(out.stdout.lines().count(), 1, "{out}");
    assert_eq!(count(deal).await, before + 1);
    assert_eq!(db.count("SELECT count(*) FROM redemptions").await, rows + 1);

    // A paused deal everyone could see: refused, exit code 3, nothing recorded.
    let paused: i64 = sqlx::query_scalar(
        "SELECT id FROM deals WHERE state = 'paused' AND audience_scope = 'public' ORDER BY id LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .expect("a paused public deal");
    let paused_count = count(paused).await;
    let p = paused.to_string();
    let out = pd("platform", &["redeem", "--deal", &p, "--member", &m])
        .on(&env)
        .run();
    assert_eq!(out.code, 3, "{out}");
    out.assert_clean();
    assert_eq!(
        out.stdout,
        format!("refused: not active: deal {paused} is paused\n")
    );
    assert_eq!(count(paused).await, paused_count);
    assert_eq!(db.count("SELECT count(*) FROM redemptions").await, rows + 1);

    // A deal that does not exist is refused, and a member that does not exist is an error,
    // both with the one exit code for "not found".
    let out = pd(
        "platform",
        &["redeem", "--deal", "99999999", "--member", &m],
    )
    .on(&env)
    .run();
    assert_eq!(out.code, 4, "{out}");
    assert_eq!(out.stdout, "refused: not found: deal 99999999\n");
    let line = pd(
        "platform",
        &["redeem", "--deal", &d, "--member", "99999999"],
    )
    .on(&env)
    .run()
    .error_line(4);
    assert_eq!(line, "member 99999999 not found");
}

// --help --------------------------------------------------------------------------------------

/// Arguments allowed to have no help text (none).
const UNDESCRIBED: &[(&str, &str)] = &[];

#[test]
fn every_subcommand_has_help_that_documents_its_flags() {
    let cases: &[(&[&str], &[&str])] = &[
        (
            &[],
            &[
                "migrate",
                "doctor",
                "operators",
                "seed",
                "jobs",
                "redeem",
                "redemptions",
                "--database-url",
                "--profile",
                "--operator",
                "--config",
                "--read-only",
                "--theme",
                "--help",
                "--version",
            ],
        ),
        (&["migrate"], &["--database-url", "--help"]),
        (&["doctor"], &["--database-url", "--help"]),
        (&["operators"], &["add", "list", "set-roles"]),
        (&["operators", "add"], &["<LOGIN>", "--role", "--name"]),
        (&["operators", "list"], &["--help"]),
        (&["operators", "set-roles"], &["<LOGIN>", "--role"]),
        (&["seed"], &["--demo", "--scale", "--reset"]),
        (&["jobs"], &["expire"]),
        (&["jobs", "expire"], &["--help"]),
        (
            &["redeem"],
            &["--deal", "--member", "--value", "--currency"],
        ),
        (&["redemptions"], &["import"]),
        (
            &["redemptions", "import"],
            &["<FILE>", "--dry-run", "--json"],
        ),
    ];
    for (sub, flags) in cases {
        let mut args: Vec<&str> = sub.to_vec();
        args.push("--help");
        let out = pd("u", &args).run();
        out.success();
        assert_eq!(out.stderr, "", "{out}");
        assert!(out.stdout.contains("Usage: partnerdesk"), "{out}");
        for flag in *flags {
            assert!(out.stdout.contains(flag), "{flag} documented:{out}");
        }
        // Every argument and option is described, not just listed: its line (or the next,
        // when clap wraps) carries text after the name.
        let command = sub.join(" ");
        let lines = out.stdout_lines();
        for (i, l) in lines.iter().enumerate() {
            let t = l.trim_start();
            if !(l.starts_with("  ") && (t.starts_with('-') || t.starts_with('<'))) {
                continue;
            }
            let name = t
                .split_whitespace()
                .find(|w| !w.ends_with(','))
                .unwrap_or(t);
            if UNDESCRIBED.contains(&(command.as_str(), name)) {
                continue;
            }
            let described = t.split("  ").filter(|s| !s.trim().is_empty()).count() > 1
                || lines.get(i + 1).is_some_and(|n| {
                    n.starts_with("          ")
                        && !n.trim_start().starts_with('-')
                        && !n.trim().is_empty()
                });
            assert!(described, "{name} has a description:{out}");
        }
    }
    let out = pd("u", &["--version"]).run();
    out.success();
    assert_eq!(
        out.stdout,
        format!("partnerdesk {}\n", env!("CARGO_PKG_VERSION"))
    );
}
