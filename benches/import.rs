//! Deal import benchmark (issue 11, "Import speed"): `Desk::import_deals` (what
//! `partnerdesk deals import FILE.csv` runs) on 1,000, 10,000 and 50,000 generated rows, next to
//! `psql \copy` of the same rows straight into the deals table. Not a test: it prints medians,
//! the ratio against psql and the time per 1,000 rows at each size (flat when the import is
//! linear), and fails (exit 1) only when an import does not write what it should.
//!
//! ```text
//! cargo bench --bench import
//! cargo bench --bench import -- --runs 5 --sizes 1000,10000,50000,100000
//! cargo bench --bench import -- --database-url postgres://me@db.example:5432/anything
//! ```
//!
//! The databases are `partnerdesk_bench_import_tpl` (migrated once per run of the benchmark,
//! with a `bench` curator and 200 verified partners) and `partnerdesk_bench_import`, made again
//! from the template before every timed run, so that each import and each `\copy` starts on a
//! fresh database. Both are dropped at the end. Without `--database-url` the server is reached
//! as the binary reaches one (the `PG*` variables, else the local server's socket;
//! `DATABASE_URL` and `PGDATABASE` from the environment are ignored); with it, on that server
//! (the URL's database name is replaced). The role needs CREATEDB.
//!
//! The rows are generated with a fixed seed (`--seed`): partners named by id or by domain,
//! coupon and link deals, every audience scope, categories, caps, and the states draft, active
//! and paused; descriptions with commas, quotes and line breaks. Each size: `--runs` N
//! (default 3) timed runs of each, alternating:
//! - the service: the CSV bytes are in memory; timed from the call to its return (reading and
//!   checking every row, then writing the deals, their codes, search documents, audit rows and
//!   events in one transaction). Checked afterwards: N deals, N `deal.create` audit rows, N
//!   `deal.created` events.
//! - `psql -X -q -c "\copy deals (…) from 'FILE' with (format csv)"` of the same rows (the
//!   deals table only: no checks, no audit, no events), wall clock from spawn to exit.

#[path = "support/mod.rs"]
mod support;
use support::{Args, Res, Server, drop_database, loadavg, median, thousands};

use partnerdesk::service::{Actor, Desk};
use partnerdesk::store::{self, DbSettings};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection, PgPool};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

const TEMPLATE: &str = "partnerdesk_bench_import_tpl";
const DATABASE: &str = "partnerdesk_bench_import";
/// Registered as a curator: may author deals.
const OPERATOR: &str = "bench";
const PARTNERS: i64 = 200;

const USAGE: &str = "usage: cargo bench --bench import -- [--database-url URL] [--runs N] \
[--sizes N,N,…] [--seed N]";

struct Options {
    database_url: Option<String>,
    runs: usize,
    sizes: Vec<usize>,
    seed: u64,
}

fn parse_args() -> Res<Options> {
    let mut o = Options {
        database_url: None,
        runs: 3,
        sizes: vec![1_000, 10_000, 50_000],
        seed: 11,
    };
    let mut args = Args::new(USAGE);
    while let Some(flag) = args.flag() {
        match flag.as_str() {
            "--database-url" => o.database_url = Some(args.text(&flag)?),
            "--runs" => o.runs = args.number(&flag)?,
            "--seed" => o.seed = args.number(&flag)?,
            "--sizes" => {
                o.sizes = args
                    .text(&flag)?
                    .split(',')
                    .map(|s| s.trim().replace('_', "").parse::<usize>())
                    .collect::<Result<_, _>>()
                    .map_err(|e| format!("--sizes: {e}"))?
            }
            other => return Err(args.unknown(other)),
        }
    }
    if o.runs == 0 || o.sizes.is_empty() || o.sizes.contains(&0) {
        return Err(format!("--runs and every size must be at least 1\n{USAGE}").into());
    }
    Ok(o)
}

fn main() {
    support::main("import", || {
        let opts = parse_args()?;
        let settings = support::settings(opts.database_url.clone())?;
        support::runtime()?.block_on(run(opts, settings))
    })
}

async fn run(opts: Options, settings: DbSettings) -> Res<()> {
    let server = Server {
        options: settings.options.clone(),
        url: opts.database_url.clone(),
    };
    let mut admin = PgConnection::connect_with(&server.options("postgres")).await?;
    let version = support::server_version(&mut admin).await?;
    let psql = Command::new("psql").arg("--version").output()?;
    println!("partnerdesk deal import benchmark");
    println!("  server    {}", display(&server.options("postgres")));
    println!(
        "  versions  PostgreSQL {version}; {}",
        String::from_utf8_lossy(&psql.stdout).trim()
    );
    println!("{}", support::machine());
    let partners = prepare_template(&mut admin, &server).await?;
    let dir = std::env::temp_dir().join(format!("partnerdesk-bench-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;

    let mut results = Vec::new();
    let mut failures = Vec::new();
    for &size in &opts.sizes {
        let rows = generate(size, &partners, opts.seed);
        let import_csv = import_csv(&rows);
        let copy_file = dir.join(format!("deals-{size}.csv"));
        std::fs::write(&copy_file, copy_csv(&rows))?;
        println!(
            "{} rows ({:.1} MB of CSV):",
            thousands(size),
            import_csv.len() as f64 / 1e6
        );
        let (mut service, mut copy) = (Vec::new(), Vec::new());
        for run in 1..=opts.runs {
            let s = match time_service(&mut admin, &server, &import_csv, size).await {
                Ok(s) => s,
                Err(e) => {
                    failures.push(format!("{} rows: {e}", thousands(size)));
                    break;
                }
            };
            let c = time_copy(&mut admin, &server, &copy_file, size).await?;
            println!("  run {run}: service {s:>8.3} s   psql \\copy {c:>7.3} s");
            service.push(s);
            copy.push(c);
        }
        if !service.is_empty() {
            results.push((size, median(&mut service), median(&mut copy)));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    for db in [DATABASE, TEMPLATE] {
        drop_database(&mut admin, db).await?;
    }

    println!();
    println!(
        "summary (medians of {} runs; load {} at end)",
        opts.runs,
        loadavg()
    );
    println!(
        "  {:>8}  {:>10}  {:>10}  {:>7}  {:>14}",
        "rows", "service", "psql \\copy", "ratio", "service/1k rows"
    );
    for (size, s, c) in &results {
        println!(
            "  {:>8}  {:>8.3} s  {:>8.3} s  {:>6.1}×  {:>11.1} ms",
            thousands(*size),
            s,
            c,
            s / c,
            s / *size as f64 * 1000.0 * 1000.0
        );
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("; ").into())
    }
}

// Databases ------------------------------------------------------------------------------------

/// The template: migrated, with the operator and the partners; returns (id, domain) of each.
async fn prepare_template(admin: &mut PgConnection, server: &Server) -> Res<Vec<(i64, String)>> {
    drop_database(admin, DATABASE).await?;
    drop_database(admin, TEMPLATE).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE DATABASE \"{TEMPLATE}\""
    )))
    .execute(&mut *admin)
    .await?;
    let pool = PgPool::connect_with(server.options(TEMPLATE)).await?;
    store::migrate::run(&pool).await?;
    sqlx::query(
        "INSERT INTO operators (login, display_name, roles, updated_by)
         VALUES ($1, 'Import benchmark', ARRAY['curator'], $1)",
    )
    .bind(OPERATOR)
    .execute(&pool)
    .await?;
    let partners: Vec<(i64, String)> = sqlx::query_as(
        "INSERT INTO partners (legal_name, display_name, website_url, domain, verification,
                               vetted_by, vetted_at, created_by, updated_by)
         SELECT 'Bench ' || g || ' Ltd', 'Bench ' || g, 'https://p' || g || '.bench.example/',
                'p' || g || '.bench.example', 'verified', $1, now(), $1, $1
           FROM generate_series(1, $2) g
         RETURNING id, domain",
    )
    .bind(OPERATOR)
    .bind(PARTNERS)
    .fetch_all(&pool)
    .await?;
    sqlx::query("ANALYZE").execute(&pool).await?;
    pool.close().await;
    Ok(partners)
}

/// A fresh benchmark database, made from the template.
async fn fresh(admin: &mut PgConnection) -> Res<()> {
    drop_database(admin, DATABASE).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE DATABASE \"{DATABASE}\" TEMPLATE \"{TEMPLATE}\""
    )))
    .execute(&mut *admin)
    .await?;
    Ok(())
}

async fn count(pool: &PgPool, sql: &'static str) -> Res<usize> {
    let n: i64 = sqlx::query_scalar(sql).fetch_one(pool).await?;
    Ok(usize::try_from(n)?)
}

// The runs -------------------------------------------------------------------------------------

async fn time_service(
    admin: &mut PgConnection,
    server: &Server,
    csv: &[u8],
    size: usize,
) -> Res<f64> {
    fresh(admin).await?;
    let pool = PgPool::connect_with(server.options(DATABASE)).await?;
    let desk = Desk::new(
        pool.clone(),
        Actor::operator(OPERATOR, &[partnerdesk::domain::Role::Curator]),
    );
    let t = Instant::now();
    let report = desk.import_deals("bench.csv", csv, false).await?;
    let secs = t.elapsed().as_secs_f64();
    if let Some(p) = report.problems.first() {
        return Err(format!("the generated file has a problem: {p}").into());
    }
    let written = [
        report.imported.len(),
        count(&pool, "SELECT count(*) FROM deals").await?,
        count(
            &pool,
            "SELECT count(*) FROM audit_log WHERE action = 'deal.create'",
        )
        .await?,
        count(
            &pool,
            "SELECT count(*) FROM outbox_events WHERE event_type = 'deal.created'",
        )
        .await?,
    ];
    pool.close().await;
    if written != [size; 4] {
        return Err(format!(
            "expected {size} deals, audit rows and events; got (report, deals, audit, events) {written:?}"
        )
        .into());
    }
    Ok(secs)
}

async fn time_copy(
    admin: &mut PgConnection,
    server: &Server,
    file: &Path,
    size: usize,
) -> Res<f64> {
    fresh(admin).await?;
    let mut cmd = server.psql(DATABASE)?;
    cmd.arg("-c").arg(format!(
        "\\copy deals ({COPY_COLUMNS}) from '{}' with (format csv)",
        file.display()
    ));
    let t = Instant::now();
    let out = cmd.output()?;
    let secs = t.elapsed().as_secs_f64();
    if !out.status.success() {
        return Err(format!(
            "psql failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )
        .into());
    }
    let pool = PgPool::connect_with(server.options(DATABASE)).await?;
    let n = count(&pool, "SELECT count(*) FROM deals").await?;
    pool.close().await;
    if n != size {
        return Err(format!("psql \\copy wrote {n} deals, not {size}").into());
    }
    Ok(secs)
}

// The rows -------------------------------------------------------------------------------------

struct Row {
    partner_id: i64,
    /// The partner cell of the import file: the id, or the domain in some spelling.
    partner_cell: String,
    title: String,
    description: String,
    kind: &'static str,
    coupon_code: String,
    redemption_url: String,
    categories: Vec<&'static str>,
    scope: &'static str,
    scope_value: String,
    valid_from: String,
    valid_until: String,
    cap: String,
    state: &'static str,
}

const CATEGORIES: [&str; 6] = ["food", "travel", "books", "fashion", "software", "fitness"];
const CHAPTERS: [&str; 4] = ["Pune", "Berlin", "Lagos", "Lima"];

fn generate(n: usize, partners: &[(i64, String)], seed: u64) -> Vec<Row> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|i| {
            let (partner_id, domain) = &partners[rng.random_range(0..partners.len())];
            let partner_cell = match rng.random_range(0..3) {
                0 => partner_id.to_string(),
                1 => domain.clone(),
                _ => format!("https://www.{domain}/deals"),
            };
            let kind = if rng.random_bool(0.7) {
                "coupon"
            } else {
                "link"
            };
            let (scope, scope_value) = match rng.random_range(0..10) {
                0 => ("institute", String::new()),
                1 => ("alumni", String::new()),
                2 => ("batch", rng.random_range(2000..2026).to_string()),
                3 => ("chapter", CHAPTERS[i % CHAPTERS.len()].to_owned()),
                _ => ("public", String::new()),
            };
            let from = chrono::DateTime::parse_from_rfc3339("2030-01-01T09:00:00Z")
                .expect("a time")
                .to_utc()
                + chrono::Duration::days((i % 300) as i64);
            let time = |t: chrono::DateTime<chrono::Utc>| {
                t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            };
            Row {
                partner_id: *partner_id,
                partner_cell,
                title: format!("Bench deal {i}: {}% off", 5 + i % 50),
                description: match i % 4 {
                    0 => String::new(),
                    1 => format!("Save on \"everything\", deal {i}"),
                    2 => format!("Two lines\nfor deal {i}"),
                    _ => "Plain text".to_owned(),
                },
                kind,
                coupon_code: if kind == "coupon" {
                    format!("BENCH{i}")
                } else {
                    String::new()
                },
                redemption_url: if kind == "link" {
                    format!("https://{domain}/go/{i}")
                } else {
                    String::new()
                },
                categories: (0..rng.random_range(0..3))
                    .map(|k| CATEGORIES[(i + k) % CATEGORIES.len()])
                    .collect(),
                scope,
                scope_value,
                valid_from: time(from),
                valid_until: time(from + chrono::Duration::days(30)),
                cap: match rng.random_range(0..4) {
                    0 => "1".to_owned(),
                    1 => rng.random_range(2..5000).to_string(),
                    _ => String::new(),
                },
                state: ["draft", "active", "paused"][rng.random_range(0..3)],
            }
        })
        .collect()
}

/// The import file: every column of the field table, with a header.
fn import_csv(rows: &[Row]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(partnerdesk::service::import::COLUMNS)
        .expect("in memory");
    for r in rows {
        w.write_record([
            r.partner_cell.as_str(),
            &r.title,
            &r.description,
            r.kind,
            &r.coupon_code,
            &r.redemption_url,
            &r.categories.join(";"),
            r.scope,
            &r.scope_value,
            &r.valid_from,
            &r.valid_until,
            &r.cap,
            r.state,
        ])
        .expect("in memory");
    }
    w.into_inner().expect("in memory")
}

const COPY_COLUMNS: &str = "partner_id, title, description, kind, coupon_code, redemption_url, \
categories, audience_scope, audience_scope_value, valid_from, valid_until, redemption_cap, state, \
published_at, created_by, updated_by";

/// The same rows for `\copy deals (COPY_COLUMNS)`: an empty cell is NULL, a quoted one text.
fn copy_csv(rows: &[Row]) -> Vec<u8> {
    fn cell(out: &mut String, v: Option<&str>) {
        if let Some(v) = v {
            out.push('"');
            out.push_str(&v.replace('"', "\"\""));
            out.push('"');
        }
    }
    let some = |s: &str| Some(s.to_owned()).filter(|s| !s.is_empty());
    let mut out = String::new();
    for r in rows {
        let cells = [
            Some(r.partner_id.to_string()),
            Some(r.title.clone()),
            Some(r.description.clone()),
            Some(r.kind.to_owned()),
            some(&r.coupon_code),
            some(&r.redemption_url),
            Some(format!("{{{}}}", r.categories.join(","))),
            Some(r.scope.to_owned()),
            some(&r.scope_value),
            Some(r.valid_from.clone()),
            Some(r.valid_until.clone()),
            some(&r.cap),
            Some(r.state.to_owned()),
            (r.state == "active").then(|| r.valid_from.clone()),
            Some(OPERATOR.to_owned()),
            Some(OPERATOR.to_owned()),
        ];
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            cell(&mut out, c.as_deref());
        }
        out.push('\n');
    }
    out.into_bytes()
}

// Figures --------------------------------------------------------------------------------------

fn display(o: &PgConnectOptions) -> String {
    store::display_target(o)
}
