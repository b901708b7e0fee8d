//! Redemption import benchmark: `Desk::import_redemptions` (what `partnerdesk redemptions
//! import FILE.csv` runs) on a generated file of 1,000,000 rows, next to `psql \copy` of the
//! same file into a plain table of the same columns, and next to `psql \copy` of the same rows
//! straight into `redemptions` (its indexes and foreign keys, none of the import's checks):
//! what writing a million rows into that table costs at the least. Not a test: it prints each
//! run, the medians and the ratios, and fails (exit 1) only when an import does not write what
//! it should.
//!
//! ```text
//! cargo bench --bench redemption_import
//! cargo bench --bench redemption_import -- --runs 5 --rows 200000
//! cargo bench --bench redemption_import -- --database-url postgres://me@db.example:5432/anything
//! ```
//!
//! The databases are `partnerdesk_bench_rimport_tpl` (migrated once per run of the benchmark,
//! with a verified partner, `--deals` active public deals without caps, half coupons and half
//! links, open from 2026-01-01 to 2031-01-01, and `--members` members) and
//! `partnerdesk_bench_rimport`, made again from the template before every timed run, so that
//! each import and each `\copy` starts on a fresh database. Both are dropped at the end.
//! Without `--database-url` the server is reached as the binary reaches one (the `PG*`
//! variables, else the local server's socket; `DATABASE_URL` and `PGDATABASE` from the
//! environment are ignored); with it, on that server. The role needs CREATEDB.
//!
//! The file is generated once with a fixed seed (`--seed`) into a temporary folder: each row a
//! random deal and member, a time between 2026-01-01 and 2026-11-01, the source matching the
//! deal's kind, and a value in EUR on four rows in five (empty on the fifth). Each of `--runs`
//! N (default 3) rounds times, alternating:
//! - the service, reading the file from disk as the command line does: every row read and
//!   checked, loaded with COPY into the staging table, the caps checked with the deals locked,
//!   then one INSERT … SELECT, one UPDATE of the counts and one audit row, in one
//!   transaction; timed from the call to its return. Checked afterwards: N redemptions, the
//!   deals' counts adding up to N, one `redemption.import` audit row.
//! - `psql -X -q -c "\copy plain_redemptions (…) from 'FILE' with (format csv, header)"`: the
//!   same file into a table with the file's columns (no checks, no indexes, no audit), wall
//!   clock from spawn to exit.
//! - `psql -X -q -c "\copy redemptions (…) from 'DIRECT' with (format csv)"`: the same rows as
//!   `redemptions` columns (value in minor units, the coupon code), into the real table.

#[path = "support/mod.rs"]
mod support;
use support::{Args, Res, Server, drop_database, loadavg, median, thousands};

use partnerdesk::service::Desk;
use partnerdesk::store::{self, DbSettings};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sqlx::{Connection, PgConnection, PgPool};
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

const TEMPLATE: &str = "partnerdesk_bench_rimport_tpl";
const DATABASE: &str = "partnerdesk_bench_rimport";
/// Records the redemptions: not a registered operator, so it acts as the platform.
const PLATFORM: &str = "bench-platform";

const USAGE: &str = "usage: cargo bench --bench redemption_import -- [--database-url URL] \
[--runs N] [--rows N] [--deals N] [--members N] [--seed N]";

struct Options {
    database_url: Option<String>,
    runs: usize,
    rows: usize,
    deals: i64,
    members: i64,
    seed: u64,
}

fn parse_args() -> Res<Options> {
    let mut o = Options {
        database_url: None,
        runs: 3,
        rows: 1_000_000,
        deals: 4,
        members: 200_000,
        seed: 11,
    };
    let mut args = Args::new(USAGE);
    while let Some(flag) = args.flag() {
        match flag.as_str() {
            "--database-url" => o.database_url = Some(args.text(&flag)?),
            "--runs" => o.runs = args.number(&flag)?,
            "--rows" => o.rows = args.number(&flag)?,
            "--deals" => o.deals = args.number(&flag)?,
            "--members" => o.members = args.number(&flag)?,
            "--seed" => o.seed = args.number(&flag)?,
            other => return Err(args.unknown(other)),
        }
    }
    if o.runs == 0 || o.rows == 0 || o.deals < 2 || o.members == 0 {
        return Err(format!(
            "--runs, --rows and --members must be at least 1, --deals at least 2\n{USAGE}"
        )
        .into());
    }
    Ok(o)
}

fn main() {
    support::main("redemption import", || {
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
    println!("partnerdesk redemption import benchmark");
    println!(
        "  server    {}",
        store::display_target(&server.options("postgres"))
    );
    println!(
        "  versions  PostgreSQL {version}; {}",
        String::from_utf8_lossy(&psql.stdout).trim()
    );
    println!("{}", support::machine());
    let started = Instant::now();
    let (deals, members) = prepare_template(&mut admin, &server, &opts).await?;
    let dir =
        std::env::temp_dir().join(format!("partnerdesk-bench-rimport-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("redemptions.csv");
    let direct = dir.join("direct.csv");
    let bytes = generate(&file, &direct, opts.rows, &deals, members, opts.seed)?;
    println!(
        "  data      {} deals without caps, {} members; {} rows ({:.1} MB of CSV); prepared in {:.1} s",
        deals.len(),
        thousands(members.1 - members.0 + 1),
        thousands(opts.rows as i64),
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );

    let (mut service, mut copy, mut table) = (Vec::new(), Vec::new(), Vec::new());
    let mut failure = None;
    for run in 1..=opts.runs {
        let s = match time_service(&mut admin, &server, &file, opts.rows).await {
            Ok(s) => s,
            Err(e) => {
                failure = Some(e);
                break;
            }
        };
        let c = time_copy(
            &mut admin,
            &server,
            &file,
            PLAIN_COPY,
            "plain_redemptions",
            opts.rows,
        )
        .await?;
        let t = time_copy(
            &mut admin,
            &server,
            &direct,
            TABLE_COPY,
            "redemptions",
            opts.rows,
        )
        .await?;
        println!(
            "  run {run}: service {s:>8.3} s   \\copy plain table {c:>7.3} s   \\copy redemptions {t:>8.3} s"
        );
        service.push(s);
        copy.push(c);
        table.push(t);
    }
    let _ = std::fs::remove_dir_all(&dir);
    for db in [DATABASE, TEMPLATE] {
        drop_database(&mut admin, db).await?;
    }
    if let Some(e) = failure {
        return Err(e);
    }
    let (s, c, t) = (median(&mut service), median(&mut copy), median(&mut table));
    println!();
    println!(
        "summary (medians of {} runs; load {} at end)",
        opts.runs,
        loadavg()
    );
    println!(
        "  {:>10}  {:>10}  {:>12}  {:>7}  {:>12}  {:>7}  {:>10}",
        "rows", "service", "\\copy plain", "ratio", "\\copy table", "ratio", "service/s"
    );
    println!(
        "  {:>10}  {:>8.3} s  {:>10.3} s  {:>6.1}×  {:>10.3} s  {:>6.2}×  {:>10}",
        thousands(opts.rows as i64),
        s,
        c,
        s / c,
        t,
        s / t,
        thousands((opts.rows as f64 / s) as i64)
    );
    Ok(())
}

// Databases ------------------------------------------------------------------------------------

/// A deal of the template: its id, kind (`coupon` or `link`) and coupon code.
type BenchDeal = (i64, String, Option<String>);

/// The template: migrated, with a partner, the deals and the members; returns the deals and
/// the first and last member id.
async fn prepare_template(
    admin: &mut PgConnection,
    server: &Server,
    opts: &Options,
) -> Res<(Vec<BenchDeal>, (i64, i64))> {
    drop_database(admin, DATABASE).await?;
    drop_database(admin, TEMPLATE).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE DATABASE \"{TEMPLATE}\""
    )))
    .execute(&mut *admin)
    .await?;
    let pool = PgPool::connect_with(server.options(TEMPLATE)).await?;
    store::migrate::run(&pool).await?;
    // The curator who vetted the partner and authored the deals.
    sqlx::query(
        "INSERT INTO operators (login, display_name, roles, updated_by)
         VALUES ('bench', 'Redemption import benchmark', ARRAY['curator'], 'bench')",
    )
    .execute(&pool)
    .await?;
    let partner: i64 = sqlx::query_scalar(
        "INSERT INTO partners (legal_name, display_name, website_url, domain, verification,
                               vetted_by, vetted_at, created_by, updated_by)
         VALUES ('Bench Ltd', 'Bench', 'https://bench.example/', 'bench.example', 'verified',
                 'bench', now(), 'bench', 'bench')
         RETURNING id",
    )
    .fetch_one(&pool)
    .await?;
    let deals: Vec<BenchDeal> = sqlx::query_as(
        "INSERT INTO deals (partner_id, title, kind, coupon_code, redemption_url, audience_scope,
                            valid_from, valid_until, state, published_at, created_by, updated_by)
         SELECT $1, 'Bench deal ' || g,
                CASE WHEN g % 2 = 1 THEN 'coupon' ELSE 'link' END,
                CASE WHEN g % 2 = 1 THEN 'BENCH' || g END,
                CASE WHEN g % 2 = 0 THEN 'https://bench.example/go/' || g END,
                'public', '2026-01-01T00:00:00Z', '2031-01-01T00:00:00Z', 'active', now(),
                'bench', 'bench'
           FROM generate_series(1, $2) g
         RETURNING id, kind, coupon_code",
    )
    .bind(partner)
    .bind(opts.deals)
    .fetch_all(&pool)
    .await?;
    sqlx::query(
        "INSERT INTO deal_coupon_codes (deal_id, code, set_at, set_by)
         SELECT id, coupon_code, '2026-01-01T00:00:00Z', 'bench' FROM deals WHERE kind = 'coupon'",
    )
    .execute(&pool)
    .await?;
    let members: (i64, i64) = sqlx::query_as(
        "WITH m AS (
             INSERT INTO members (handle, display_name, role)
             SELECT 'bench' || g, 'Bench member ' || g, 'public' FROM generate_series(1, $1) g
             RETURNING id)
         SELECT min(id), max(id) FROM m",
    )
    .bind(opts.members)
    .fetch_one(&pool)
    .await?;
    sqlx::query(
        "CREATE TABLE plain_redemptions (deal_id bigint, member_id bigint,
             redeemed_at timestamptz, value numeric, currency text, source text)",
    )
    .execute(&pool)
    .await?;
    sqlx::query("VACUUM ANALYZE").execute(&pool).await?;
    pool.close().await;
    Ok((deals, members))
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

async fn count(pool: &PgPool, sql: &'static str) -> Res<i64> {
    Ok(sqlx::query_scalar(sql).fetch_one(pool).await?)
}

// The runs -------------------------------------------------------------------------------------

async fn time_service(
    admin: &mut PgConnection,
    server: &Server,
    file: &Path,
    rows: usize,
) -> Res<f64> {
    fresh(admin).await?;
    let pool = PgPool::connect_with(server.options(DATABASE)).await?;
    let desk = Desk::for_operator(pool.clone(), PLATFORM, false).await?;
    let t = Instant::now();
    let reader = std::io::BufReader::with_capacity(256 * 1024, std::fs::File::open(file)?);
    let report = desk.import_redemptions("bench.csv", reader, false).await?;
    let secs = t.elapsed().as_secs_f64();
    if let Some(p) = report.problems.first() {
        return Err(format!(
            "the generated file has {} problems, the first: {p}",
            report.problem_count
        )
        .into());
    }
    let written = [
        report.imported as i64,
        count(&pool, "SELECT count(*) FROM redemptions").await?,
        count(
            &pool,
            "SELECT coalesce(sum(redemption_count), 0)::bigint FROM deals",
        )
        .await?,
    ];
    let audit = count(
        &pool,
        "SELECT count(*) FROM audit_log WHERE action = 'redemption.import'",
    )
    .await?;
    pool.close().await;
    if written != [rows as i64; 3] || audit != 1 {
        return Err(format!(
            "expected {rows} redemptions and one audit row; got (report, rows, counts) {written:?} and {audit} audit rows"
        )
        .into());
    }
    Ok(secs)
}

/// `\copy` of the generated file into the plain table.
const PLAIN_COPY: &str = "\\copy plain_redemptions (deal_id, member_id, redeemed_at, value, \
    currency, source) from '{}' with (format csv, header)";
/// `\copy` of the same rows, as its columns, into `redemptions`.
const TABLE_COPY: &str = "\\copy redemptions (deal_id, member_id, redeemed_at, value_minor, \
    currency, source, coupon_code) from '{}' with (format csv)";

/// `statement` (with `{}` for the file) on a fresh database; checks that `table` has `rows`.
async fn time_copy(
    admin: &mut PgConnection,
    server: &Server,
    file: &Path,
    statement: &str,
    table: &str,
    rows: usize,
) -> Res<f64> {
    fresh(admin).await?;
    let mut cmd = server.psql(DATABASE)?;
    cmd.arg("-c")
        .arg(statement.replace("{}", &file.display().to_string()));
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
    let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
        .fetch_one(&pool)
        .await?;
    pool.close().await;
    if n != rows as i64 {
        return Err(format!("psql \\copy wrote {n} rows into {table}, not {rows}").into());
    }
    Ok(secs)
}

// The file -------------------------------------------------------------------------------------

/// Writes the import file and the same rows as `redemptions` columns for `\copy` (the value in
/// minor units, the coupon code); returns the import file's size in bytes.
fn generate(
    file: &Path,
    direct: &Path,
    rows: usize,
    deals: &[BenchDeal],
    (first, last): (i64, i64),
    seed: u64,
) -> Res<u64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(file)?);
    let mut d = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(direct)?);
    writeln!(w, "deal_id,member_id,redeemed_at,value,currency,source")?;
    let start = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")?.to_utc();
    // Ten months of seconds: every time before 2026-11-01.
    let span = 304 * 24 * 3600;
    for _ in 0..rows {
        let (deal, kind, coupon_code) = &deals[rng.random_range(0..deals.len())];
        let member = rng.random_range(first..=last);
        let at = start + chrono::Duration::seconds(rng.random_range(0..span));
        let (source, code) = if kind == "coupon" {
            ("copy_code", coupon_code.as_deref().unwrap_or_default())
        } else {
            ("outbound_click", "")
        };
        let at = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        if rng.random_range(0..5) == 0 {
            writeln!(w, "{deal},{member},{at},,,{source}")?;
            writeln!(d, "{deal},{member},{at},,,{source},{code}")?;
        } else {
            let cents: u32 = rng.random_range(0..100_000);
            writeln!(
                w,
                "{deal},{member},{at},{}.{:02},EUR,{source}",
                cents / 100,
                cents % 100
            )?;
            writeln!(d, "{deal},{member},{at},{cents},EUR,{source},{code}")?;
        }
    }
    w.flush()?;
    d.flush()?;
    Ok(std::fs::metadata(file)?.len())
}

// Figures --------------------------------------------------------------------------------------
