//! A fresh PostgreSQL database per test, found by the product's own connection rules
//! (DATABASE_URL, PG* variables, or the local default socket), dropped when the test ends.

use partnerdesk::config::Config;
use partnerdesk::domain::{DealDraft, PartnerDraft, Role};
use partnerdesk::service::{Actor, Desk};
use partnerdesk::store::deals::Deal;
use partnerdesk::store::partners::Partner;
use partnerdesk::store::{ConnectRequest, DbSettings, migrate};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

pub struct TestDb {
    pub pool: PgPool,
    pub name: String,
    pub options: PgConnectOptions,
    admin: PgConnectOptions,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// The password the tests give the database logins they make.
pub const LOGIN_PASSWORD: &str = "pd-test-login-pw";

fn base_settings() -> DbSettings {
    DbSettings::resolve(
        &ConnectRequest::default(),
        &Config::default(),
        Path::new("(tests)"),
    )
    .expect("tests need a PostgreSQL server: set DATABASE_URL or PG* or run a local server")
}

impl TestDb {
    pub async fn new() -> Self {
        Self::with_connections(16).await
    }

    pub async fn with_connections(max: u32) -> Self {
        let base = base_settings();
        let admin = base.options.clone().database("postgres");
        let name = format!(
            "pd_test_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst),
            uuid::Uuid::new_v4()
                .simple()
                .to_string()
                .get(..8)
                .unwrap_or("x")
        );
        let mut conn = PgConnection::connect_with(&admin)
            .await
            .expect("connect as admin");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        conn.close().await.ok();
        let options = base.options.clone().database(&name);
        let pool = PgPoolOptions::new()
            .max_connections(max)
            .connect_with(options.clone())
            .await
            .expect("connect to test database");
        migrate::run(&pool).await.expect("migrate");
        Self {
            pool,
            name,
            options,
            admin,
        }
    }

    /// A desk acting as a registered operator with these roles (registered on first use).
    pub async fn desk(&self, login: &str, roles: &[Role]) -> Desk {
        let names: Vec<String> = roles.iter().map(|r| r.as_str().to_owned()).collect();
        sqlx::query(
            "INSERT INTO operators (login, display_name, roles, updated_by) VALUES ($1, $1, $2, 'test')
             ON CONFLICT (login) DO UPDATE SET roles = EXCLUDED.roles",
        )
        .bind(login)
        .bind(&names)
        .execute(&self.pool)
        .await
        .expect("register operator");
        Desk::new(self.pool.clone(), Actor::operator(login, roles))
    }

    pub async fn admin(&self) -> Desk {
        self.desk("ada", &[Role::Admin]).await
    }

    pub async fn curator(&self) -> Desk {
        self.desk("cara", &[Role::Curator]).await
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(&self.pool)
            .await
            .expect("count query")
    }

    pub async fn audit_count(&self) -> i64 {
        self.count("SELECT count(*) FROM audit_log").await
    }

    /// Gives database login `name` a password and returns how to connect as it: over TCP
    /// (127.0.0.1 when the tests use the local socket, whose default `peer` rule would refuse
    /// another name than the OS user's), so that trust and password rules both let it in.
    pub async fn login_options(&self, name: &str) -> PgConnectOptions {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "ALTER ROLE \"{name}\" PASSWORD '{LOGIN_PASSWORD}'"
        )))
        .execute(&self.pool)
        .await
        .expect("set the login's password");
        let host = match self.options.get_socket() {
            Some(_) => "127.0.0.1".to_owned(),
            None => self.options.get_host().to_owned(),
        };
        PgConnectOptions::new_without_pgpass()
            .host(&host)
            .port(self.options.get_port())
            .database(&self.name)
            .username(name)
            .password(LOGIN_PASSWORD)
    }

    /// The PG* environment for running the binary as login `name` (see [`TestDb::login_options`]).
    pub async fn login_env(&self, name: &str) -> Vec<(String, String)> {
        let o = self.login_options(name).await;
        vec![
            ("PGHOST".into(), o.get_host().to_owned()),
            ("PGPORT".into(), o.get_port().to_string()),
            ("PGUSER".into(), name.to_owned()),
            ("PGPASSWORD".into(), LOGIN_PASSWORD.to_owned()),
            ("PGDATABASE".into(), self.name.clone()),
        ]
    }

    /// Environment for running the real binary against this database via the PG* rules.
    pub fn pg_env(&self) -> Vec<(String, String)> {
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
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let name = self.name.clone();
        // Drop runs inside the test's runtime, which is blocked here: do the clean-up on a
        // thread of its own, and let FORCE end the pool's connections (closing the pool would
        // wait for the blocked runtime).
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(rt) = rt {
                rt.block_on(async move {
                    if let Ok(mut c) = PgConnection::connect_with(&admin).await {
                        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        )))
                        .execute(&mut c)
                        .await;
                        let _ = sqlx::query(sqlx::AssertSqlSafe(drop_group_roles_sql(&name)))
                            .execute(&mut c)
                            .await;
                    }
                });
            }
        })
        .join();
    }
}

/// Drops the group roles `migrate` made for database `name` (roles are cluster-wide and
/// outlive the database); run after the database is dropped.
pub fn drop_group_roles_sql(name: &str) -> String {
    format!(
        "DO $$ DECLARE r text; BEGIN
           FOREACH r IN ARRAY ARRAY['admin', 'curator', 'support', 'finance', 'readonly'] LOOP
             EXECUTE format('DROP ROLE IF EXISTS %I', '{}' || '_' || r);
           END LOOP;
         END $$",
        name.replace('\'', "''")
    )
}

pub fn partner_draft(name: &str, domain: &str) -> PartnerDraft {
    PartnerDraft {
        legal_name: format!("{name} Ltd"),
        display_name: name.into(),
        logo_url: Some(format!("https://cdn.{domain}/logo.png")),
        website_url: Some(format!("https://www.{domain}/")),
        contact_email: Some(format!("partners@{domain}")),
        categories: vec!["food".into()],
        region: Some("EU".into()),
        notes: None,
    }
}

pub fn coupon_draft(partner_id: i64, code: &str) -> DealDraft {
    let now = chrono::Utc::now();
    DealDraft {
        partner_id: Some(partner_id),
        title: format!("Deal {code}"),
        description: "A fine deal".into(),
        kind: "coupon".into(),
        coupon_code: Some(code.into()),
        audience_scope: "public".into(),
        valid_from: Some(now - chrono::Duration::days(1)),
        valid_until: Some(now + chrono::Duration::days(30)),
        ..Default::default()
    }
}

/// A verified partner (created and vetted by `desk`).
pub async fn verified_partner(desk: &Desk, name: &str, domain: &str) -> Partner {
    let p = desk
        .create_partner(&partner_draft(name, domain))
        .await
        .expect("create partner");
    desk.mark_vetted(p.id, Some(p.version))
        .await
        .expect("vet partner")
}

/// An active coupon deal of a fresh verified partner.
pub async fn active_deal(desk: &Desk, code: &str) -> Deal {
    let domain = format!("{}.example", code.to_ascii_lowercase());
    let p = verified_partner(desk, &format!("Partner {code}"), &domain).await;
    let mut d = coupon_draft(p.id, code);
    d.state = Some("active".into());
    desk.create_deal(&d).await.expect("create active deal")
}

/// Inserts a member directly (members belong to the platform).
pub async fn member(
    db: &TestDb,
    handle: &str,
    role: &str,
    verified: bool,
    batch: Option<i32>,
    chapters: &[&str],
) -> i64 {
    let chapters: Vec<String> = chapters.iter().map(|s| s.to_string()).collect();
    sqlx::query_scalar(
        "INSERT INTO members (handle, display_name, role, institute_verified, batch_year, chapters)
         VALUES ($1, $1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(handle)
    .bind(role)
    .bind(verified)
    .bind(batch)
    .bind(&chapters)
    .fetch_one(&db.pool)
    .await
    .expect("insert member")
}

/// A PostgreSQL LOGIN role for one person, member of some groups, with a pool connected as it.
pub struct Login {
    pub name: String,
    pub pool: PgPool,
    owner: PgConnectOptions,
}

impl Login {
    pub async fn new(db: &TestDb, groups: &[&str]) -> Self {
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
    pub async fn connect(db: &TestDb, name: String) -> Self {
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .connect_with(db.login_options(&name).await)
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

/// A person with a database login of their own, registered as an operator of the same name
/// with the same roles, and a desk on that login (the session *is* that person).
pub async fn person(db: &TestDb, groups: &[&str]) -> (Login, Desk) {
    let login = Login::new(db, groups).await;
    let roles: Vec<Role> = groups.iter().filter_map(|g| g.parse().ok()).collect();
    if !roles.is_empty() {
        db.desk(&login.name, &roles).await;
    }
    let desk = Desk::identify(
        login.pool.clone(),
        &partnerdesk::service::operators::Claim::named(&login.name),
        false,
    )
    .await
    .expect("identify the person");
    (login, desk)
}

/// Runs `sql` in its own transaction on `pool`: Ok, or the SQLSTATE and message of the
/// refusal (`PDR01 settlement 3: …`, `42501 permission denied …`).
pub async fn try_sql(pool: &PgPool, sql: &str) -> Result<(), String> {
    let mut tx = pool.begin().await.map_err(|e| e.to_string())?;
    let run = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&mut *tx)
        .await;
    let done = match run {
        Ok(_) => tx.commit().await,
        Err(e) => Err(e),
    };
    done.map_err(|e| match e.as_database_error() {
        Some(d) => format!("{} {}", d.code().unwrap_or_default(), d.message()),
        None => e.to_string(),
    })
}

/// Takes the database back to before migration 0026's text rules (its CHECK constraints), so
/// that a test can store what an older version may have stored: control characters.
pub async fn without_text_rules(db: &TestDb) {
    sqlx::raw_sql(
        "DO $$ DECLARE c record; BEGIN
           FOR c IN SELECT conrelid::regclass AS t, conname FROM pg_constraint
                     WHERE contype = 'c' AND (pg_get_constraintdef(oid) LIKE '%pd_one_line(%'
                                              OR pg_get_constraintdef(oid) LIKE '%pd_lines(%') LOOP
             EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', c.t, c.conname);
           END LOOP;
         END $$",
    )
    .execute(&db.pool)
    .await
    .expect("drop the text rules");
}

/// Percentage terms: `bps` basis points of each redemption's value, monthly, in `currency`.
pub fn percentage(bps: i64, currency: &str) -> partnerdesk::domain::terms::TermsDraft {
    partnerdesk::domain::terms::TermsDraft {
        model: "percentage".into(),
        rate_bps: Some(bps),
        currency: currency.into(),
        frequency: "monthly".into(),
        ..Default::default()
    }
}
