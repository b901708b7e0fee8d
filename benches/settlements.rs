//! Settlement benchmark (issue 13): computing statements, next to the same aggregate run as
//! plain SQL. Not a test: it prints medians and ratios.
//!
//! ```text
//! cargo bench --bench settlements
//! cargo bench --bench settlements -- --runs 3 --lines 1000000 --month 10000000 --agreements 10000
//! cargo bench --bench settlements -- --fresh          # generate the data again
//! ```
//!
//! Two workloads, on one database `partnerdesk_bench_settle` (generated once and kept, so that
//! a rerun starts at once; `--fresh` makes it again; `--drop` removes it at the end):
//! - **one statement of `--lines` lines**: one partner, one deal, `--lines` redemptions with
//!   values in October 2026, a percentage agreement; timed: `Desk::compute_settlement` (what
//!   `settle compute --agreement ID --period 2026-10` runs: lines written, totals, audit row
//!   and event, one transaction).
//! - **a month of `--month` redemptions over `--agreements` agreements**: as many partners,
//!   each with a deal and an agreement (percentage, hybrid, fixed and flat fee in turn),
//!   redemptions spread over September 2026; timed: `Desk::compute_due("2026-09")` (what
//!   `settle compute --all --period 2026-09` runs).
//!
//! Beside each, two plain-SQL references on the same data, priced by the same rules: the
//! aggregate alone (a `SELECT` of each agreement's count and Σ round(value × bps / 10000),
//! nothing written), and the same lines written by one `INSERT … SELECT` into an empty plain
//! table shaped like `settlement_lines` (no totals, no audit row, no event, no locks).
//! Between timed runs the settlements are removed so that each run computes from scratch, and
//! a CHECKPOINT runs before each timed step.

#[path = "support/mod.rs"]
mod support;
use support::{median, thousands};

use partnerdesk::domain::Role;
use partnerdesk::domain::terms::TermsDraft;
use partnerdesk::service::{Actor, Desk};
use partnerdesk::store::{DbSettings, migrate};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection, PgPool};
use std::time::Instant;

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

const DATABASE: &str = "partnerdesk_bench_settle";
const USAGE: &str = "usage: cargo bench --bench settlements -- [--runs N] [--lines N] \
[--month N] [--agreements N] [--fresh] [--drop]";

struct Options {
    runs: usize,
    lines: i64,
    month: i64,
    agreements: i64,
    fresh: bool,
    drop: bool,
}

fn parse_args() -> Res<Options> {
    let mut o = Options {
        runs: 3,
        lines: 1_000_000,
        month: 10_000_000,
        agreements: 10_000,
        fresh: false,
        drop: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut num = |name: &str| -> Res<i64> {
            let v = args
                .next()
                .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))?;
            Ok(v.replace('_', "")
                .parse::<i64>()
                .map_err(|e| format!("{name}: {e}"))?)
        };
        match a.as_str() {
            "--bench" => {}
            "--runs" => o.runs = num("--runs")?.max(1) as usize,
            "--lines" => o.lines = num("--lines")?.max(1),
            "--month" => o.month = num("--month")?.max(1),
            "--agreements" => o.agreements = num("--agreements")?.max(1),
            "--fresh" => o.fresh = true,
            "--drop" => o.drop = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}\n{USAGE}").into()),
        }
    }
    Ok(o)
}

fn main() {
    support::main("settlements", || {
        let opts = parse_args()?;
        let settings = support::settings(None)?;
        support::runtime()?.block_on(bench(opts, settings))
    })
}

async fn bench(o: Options, settings: DbSettings) -> Res<()> {
    let mut admin =
        PgConnection::connect_with(&settings.options.clone().database("postgres")).await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(DATABASE)
            .fetch_one(&mut admin)
            .await?;
    let shape = format!("{}:{}:{}", o.lines, o.month, o.agreements);
    let pool = |max| {
        PgPoolOptions::new()
            .max_connections(max)
            .connect_with(settings.options.clone().database(DATABASE))
    };
    let mut reuse = exists && !o.fresh;
    if reuse {
        let p = pool(2).await?;
        let marker: Option<String> =
            sqlx::query_scalar("SELECT obj_description('redemptions'::regclass)")
                .fetch_one(&p)
                .await
                .unwrap_or(None);
        reuse = marker.as_deref() == Some(shape.as_str());
        p.close().await;
    }
    if !reuse {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"
        )))
        .execute(&mut admin)
        .await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {DATABASE}")))
            .execute(&mut admin)
            .await?;
    }
    let pool: PgPool = pool(8).await?;
    // A kept database may predate later migrations.
    migrate::run(&pool).await?;
    if !reuse {
        let t = Instant::now();
        generate(&pool, &o).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "COMMENT ON TABLE redemptions IS '{shape}'"
        )))
        .execute(&pool)
        .await?;
        println!("generated the data in {:.0}s", t.elapsed().as_secs_f64());
    }
    let desk = Desk::new(pool.clone(), Actor::operator("bench", &[Role::Finance]));
    let one: i64 = sqlx::query_scalar(
        "SELECT a.id FROM agreements a JOIN partners p ON p.id = a.partner_id
          WHERE p.display_name = 'Bench One'",
    )
    .fetch_one(&pool)
    .await?;
    println!(
        "partnerdesk settlement benchmark: {} run(s) each, median shown\n",
        o.runs
    );

    // One statement of --lines lines.
    let mut ours = Vec::new();
    let mut agg = Vec::new();
    let mut mat = Vec::new();
    for _ in 0..o.runs {
        clear(&pool).await?;
        let t = Instant::now();
        let s = desk.compute_settlement(one, "2026-10").await?;
        ours.push(t.elapsed().as_secs_f64());
        if i64::from(s.line_count) != o.lines {
            return Err(format!("expected {} lines, got {}", o.lines, s.line_count).into());
        }
        agg.push(plain(&pool, &aggregate_sql(Some(one), "2026-10-01", "2026-11-01")).await?);
        mat.push(
            plain(
                &pool,
                &materialise_sql(Some(one), "2026-10-01", "2026-11-01"),
            )
            .await?,
        );
    }
    report(
        &format!("one statement of {} lines", thousands(o.lines)),
        &mut ours,
        &mut agg,
        &mut mat,
    );

    // A month over --agreements agreements.
    let (mut ours, mut agg, mut mat) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..o.runs {
        clear(&pool).await?;
        let t = Instant::now();
        let r = desk.compute_due("2026-09").await?;
        ours.push(t.elapsed().as_secs_f64());
        let lines: i64 = r
            .computed
            .iter()
            .map(|s| i64::from(s.line_count + s.exception_count))
            .sum();
        // Every partner's agreement, Bench One's (no September redemptions) included.
        let settled = r.computed.len() as i64;
        if settled != o.agreements + 1 || lines < o.month {
            return Err(format!(
                "expected {} settlements of ≥ {} lines; got {settled} of {lines}",
                o.agreements + 1,
                o.month
            )
            .into());
        }
        agg.push(plain(&pool, &aggregate_sql(None, "2026-09-01", "2026-10-01")).await?);
        mat.push(plain(&pool, &materialise_sql(None, "2026-09-01", "2026-10-01")).await?);
    }
    report(
        &format!(
            "a month: {} redemptions over {} agreements (compute --all)",
            thousands(o.month),
            thousands(o.agreements)
        ),
        &mut ours,
        &mut agg,
        &mut mat,
    );
    clear(&pool).await?;
    pool.close().await;
    if o.drop {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE {DATABASE} WITH (FORCE)"
        )))
        .execute(&mut admin)
        .await?;
    }
    Ok(())
}

/// Partners, deals, agreements and redemptions, in bulk SQL.
async fn generate(pool: &PgPool, o: &Options) -> Res<()> {
    let mut c = pool.acquire().await?;
    for sql in [
        "INSERT INTO operators (login, display_name, roles, updated_by) VALUES ('bench', 'bench', '{finance,admin}', 'bench')",
        "INSERT INTO members (handle, display_name, role) VALUES ('bench-member', 'Bench Member', 'public')",
    ] {
        sqlx::query(sql).execute(&mut *c).await?;
    }
    sqlx::query(
        "INSERT INTO partners (legal_name, display_name, verification, vetted_by, vetted_at,
                created_by, updated_by)
         SELECT 'Bench ' || g || ' Ltd', CASE WHEN g = 0 THEN 'Bench One' ELSE 'Bench ' || g END,
                'verified', 'bench', now(), 'bench', 'bench'
           FROM generate_series(0, $1) g",
    )
    .bind(o.agreements)
    .execute(&mut *c)
    .await?;
    sqlx::query(
        "INSERT INTO deals (partner_id, title, kind, coupon_code, audience_scope, valid_from,
                valid_until, state, created_by, updated_by)
         SELECT id, 'Deal of ' || display_name, 'coupon', 'BENCH' || id, 'public',
                '2026-01-01', '2027-01-01', 'active', 'bench', 'bench'
           FROM partners ORDER BY id",
    )
    .execute(&mut *c)
    .await?;
    drop(c);
    let desk = Desk::new(pool.clone(), Actor::operator("bench", &[Role::Finance]));
    let partners: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, display_name FROM partners ORDER BY id")
            .fetch_all(pool)
            .await?;
    for (i, (id, name)) in partners.iter().enumerate() {
        let mut d = TermsDraft {
            model: "percentage".into(),
            rate_bps: Some(500),
            currency: "EUR".into(),
            frequency: "monthly".into(),
            ..Default::default()
        };
        if name != "Bench One" {
            match i % 4 {
                1 => {
                    d.model = "hybrid".into();
                    d.base_bps = Some(400);
                    d.bonus_bps = Some(150);
                    d.bonus_threshold = Some(500);
                }
                2 => {
                    d.model = "fixed_fee".into();
                    d.amount = Some("0.35".into());
                }
                3 => {
                    d.model = "flat_fee".into();
                    d.amount = Some("250".into());
                }
                _ => {}
            }
        }
        desk.add_agreement(*id, &d, "2026-01-01".parse()?).await?;
    }
    // The month: --month redemptions spread evenly over the partners except Bench One, with
    // values from 0.00 to 499.99 EUR, 1% without a value and 1% in USD.
    let t = Instant::now();
    let per = (o.month + o.agreements - 1) / o.agreements;
    sqlx::query(
        "INSERT INTO redemptions (deal_id, member_id, source, coupon_code, redeemed_at, value_minor, currency)
         SELECT d.id, m.id, 'copy_code', d.coupon_code,
                timestamptz '2026-09-01' + ((g * 2591) % 2592000) * interval '1 second',
                CASE WHEN g % 100 = 0 THEN NULL ELSE (g * 7919) % 50000 END,
                CASE WHEN g % 100 = 0 THEN NULL WHEN g % 100 = 1 THEN 'USD' ELSE 'EUR' END
           FROM generate_series(0, $1 - 1) g
           JOIN deals d ON d.partner_id = (SELECT min(id) FROM partners) + 1 + g / $2
          CROSS JOIN (SELECT id FROM members LIMIT 1) m",
    )
    .bind(o.month)
    .bind(per)
    .execute(pool)
    .await?;
    println!(
        "  {} month redemptions in {:.0}s",
        thousands(o.month),
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    sqlx::query(
        "INSERT INTO redemptions (deal_id, member_id, source, coupon_code, redeemed_at, value_minor, currency)
         SELECT d.id, m.id, 'copy_code', d.coupon_code,
                timestamptz '2026-10-01' + ((g * 2591) % 2678400) * interval '1 second',
                (g * 7919) % 50000, 'EUR'
           FROM generate_series(0, $1 - 1) g
           JOIN deals d ON d.partner_id = (SELECT id FROM partners WHERE display_name = 'Bench One')
          CROSS JOIN (SELECT id FROM members LIMIT 1) m",
    )
    .bind(o.lines)
    .execute(pool)
    .await?;
    println!(
        "  {} statement redemptions in {:.0}s",
        thousands(o.lines),
        t.elapsed().as_secs_f64()
    );
    sqlx::query("VACUUM ANALYZE").execute(pool).await?;
    Ok(())
}

/// Removes the settlements (the bench database's owner may; the ledger is empty here).
async fn clear(pool: &PgPool) -> Res<()> {
    for sql in [
        "TRUNCATE settlement_lines, settlements CASCADE",
        "DELETE FROM outbox_events WHERE event_type = 'settlement.computed'",
        "VACUUM ANALYZE settlement_lines, settlements",
        "CHECKPOINT",
    ] {
        sqlx::query(sql).execute(pool).await?;
    }
    Ok(())
}

/// The statements' rows, numbered and priced by the same rules as the computation (hybrid's
/// place among the priced lines included), as one plain query.
fn priced_sql(agreement: Option<i64>, from: &str, to: &str) -> String {
    let only = agreement
        .map(|a| format!("AND a.id = {a}"))
        .unwrap_or_default();
    format!(
        "WITH src AS (
             SELECT a.id AS agreement_id, a.model, a.rate_bps, a.amount_minor AS fee, a.base_bps,
                    a.bonus_bps, a.bonus_threshold, r.id AS rid, r.redeemed_at, r.value_minor,
                    r.currency,
                    CASE WHEN a.model IN ('percentage', 'hybrid') THEN
                         CASE WHEN r.value_minor IS NULL THEN 'no_value'
                              WHEN r.currency <> a.currency THEN 'other_currency' END END AS exc
               FROM agreements a
               JOIN deals d ON d.partner_id = a.partner_id
               JOIN redemptions r ON r.deal_id = d.id
              WHERE r.redeemed_at >= '{from}' AND r.redeemed_at < '{to}'
                AND r.flag_kind IS NULL {only}
         ), numbered AS (
             SELECT src.*, row_number() OVER w AS line_no,
                    row_number() OVER w - count(exc) OVER w AS nth
               FROM src
             WINDOW w AS (PARTITION BY agreement_id ORDER BY redeemed_at, rid
                          ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
         ), rated AS (
             SELECT numbered.*,
                    CASE WHEN exc IS NOT NULL THEN NULL
                         WHEN model = 'percentage' THEN rate_bps
                         WHEN model = 'hybrid' THEN CASE WHEN nth <= bonus_threshold
                              THEN base_bps ELSE base_bps + bonus_bps END END AS bps
               FROM numbered
         )
         SELECT agreement_id, line_no, CASE WHEN exc IS NULL THEN 'redemption' ELSE 'exception' END AS kind,
                rid, redeemed_at, value_minor, currency, bps,
                CASE WHEN exc IS NOT NULL THEN NULL
                     WHEN model IN ('percentage', 'hybrid') THEN round(value_minor::numeric * bps / 10000)::bigint
                     WHEN model = 'fixed_fee' THEN fee ELSE 0 END AS amount,
                exc
           FROM rated"
    )
}

/// Each agreement's count and Σ amount: the aggregate alone, nothing written.
fn aggregate_sql(agreement: Option<i64>, from: &str, to: &str) -> String {
    format!(
        "SELECT agreement_id, count(*), sum(amount) FROM ({}) x GROUP BY agreement_id",
        priced_sql(agreement, from, to)
    )
}

/// The same lines written into a plain table shaped like `settlement_lines` (same columns,
/// same primary key, logged), by one INSERT … SELECT.
fn materialise_sql(agreement: Option<i64>, from: &str, to: &str) -> String {
    format!(
        "INSERT INTO bench_lines (settlement_id, line_no, kind, redemption_id, at, value_minor,
                currency, rate_bps, amount_minor, exception)
         {}",
        priced_sql(agreement, from, to)
    )
}

/// Seconds to run `sql` on a connection of its own (what psql would do), with the same
/// sort memory the computation gives itself, into an empty `bench_lines`.
async fn plain(pool: &PgPool, sql: &str) -> Res<f64> {
    let mut c = pool.acquire().await?;
    for setup in [
        "DROP TABLE IF EXISTS bench_lines",
        "CREATE TABLE bench_lines (LIKE settlement_lines INCLUDING ALL)",
        "CHECKPOINT",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(setup))
            .execute(&mut *c)
            .await?;
    }
    let t = Instant::now();
    let mut tx = c.begin().await?;
    sqlx::query("SET LOCAL work_mem = '256MB'")
        .execute(&mut *tx)
        .await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    let s = t.elapsed().as_secs_f64();
    sqlx::query("DROP TABLE IF EXISTS bench_lines")
        .execute(&mut *c)
        .await?;
    Ok(s)
}

fn report(what: &str, ours: &mut [f64], agg: &mut [f64], mat: &mut [f64]) {
    let (o, a, m) = (median(ours), median(agg), median(mat));
    println!("{what}");
    println!("  settle compute                    {o:>8.2} s");
    println!(
        "  plain SQL, aggregate only         {a:>8.2} s   (ours {:.2}×)",
        o / a
    );
    println!(
        "  plain SQL, the same lines written {m:>8.2} s   (ours {:.2}×)\n",
        o / m
    );
}
