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
