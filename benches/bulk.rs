//! Bulk action benchmark (issue 24): bulk approve of `--statements` in-review statements and
//! bulk pause of `--deals` active deals through `Desk::bulk` (each row its own transaction:
//! the service's permission check, lock, version and state checks, update, ledger entry,
//! audit row and event), next to the same per-row statements run directly. Not a test: it
//! prints medians and ratios.
//!
//! ```text
//! cargo bench --bench bulk
//! cargo bench --bench bulk -- --runs 3 --statements 1000 --deals 10000
//! cargo bench --bench bulk -- --database-url postgres://me@db.example:5432/postgres
//! cargo bench --bench bulk -- --drop          # remove the database at the end
//! ```
//!
//! The data, generated afresh into `partnerdesk_bench_bulk` by bulk SQL: `--statements`
//! referral-only partners, each with a referral payout in each of 2 × `--runs` months from
//! May 2026 (`--runs` at most 4), whose statements are computed by `Desk::compute_due` (one month per timed
//! approve run), and `--deals` active coupon deals of one verified partner, indexed for
//! search. Untimed before each run: one month's statements are sent to review (bulk SQL), or
//! every deal is made active again and indexed (bulk SQL, as the database's owner).
//!
//! Timed, each way alternating which goes first:
//! - **approve**: `Desk::bulk(SettlementApprove { note }, …)` over the month's statements at
//!   the versions read before; beside it, per statement in its own transaction, the same
//!   statements run directly: the row locked, the conditional UPDATE, the ledger entry and
//!   `record_changes` (audit row and event), through the store's functions.
//! - **pause**: `Desk::bulk(DealPause, …)` over every deal; beside it, per deal in its own
//!   transaction: the row locked, the UPDATE, the search document removed and
//!   `record_changes`.
//!
//! Measured on 2 CPUs shared with another build (load about 3), medians of 3 runs: approve of
//! 1,000 statements 2.85 s through `Desk::bulk` against 3.77 s directly (0.76×), pause of
//! 10,000 deals 25.1 s against 20.8 s (1.20×): about 2.5 ms a row either way, most of it each
//! row's own commit (one WAL flush per row), so the service's checks add little beside it.

#[path = "support/mod.rs"]
mod support;
use support::{Res, median, thousands};

use partnerdesk::domain::settlement::Move;
use partnerdesk::domain::{DealState, Role};
use partnerdesk::service::bulk::{BulkAction, Target};
use partnerdesk::service::{Actor, Desk};
use partnerdesk::store::settlements::{NewEntry, Update};
use partnerdesk::store::{self, migrate};
use serde_json::{Value, json};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection, PgPool};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

const DATABASE: &str = "partnerdesk_bench_bulk";
const LOGIN: &str = "bench";
const NOTE: &str = "checked in bulk";
const USAGE: &str = "usage: cargo bench --bench bulk -- [--database-url URL] [--runs N] \
[--statements N] [--deals N] [--drop]";

struct Options {
    database_url: Option<String>,
    runs: usize,
    statements: i64,
    deals: i64,
    drop: bool,
}

fn main() {
    support::main("bulk", || {
        let mut o = Options {
            database_url: None,
            runs: 3,
            statements: 1_000,
            deals: 10_000,
            drop: false,
        };
        let mut args = support::Args::new(USAGE);
        while let Some(flag) = args.flag() {
            match flag.as_str() {
                "--database-url" => o.database_url = Some(args.text(&flag)?),
                "--runs" => o.runs = args.number::<usize>(&flag)?.clamp(1, 4),
                "--statements" => o.statements = args.number::<i64>(&flag)?.max(1),
                "--deals" => o.deals = args.number::<i64>(&flag)?.max(1),
                "--drop" => o.drop = true,
                other => return Err(args.unknown(other)),
            }
        }
        let settings = support::settings(o.database_url.take())?;
        support::runtime()?.block_on(async {
            let mut admin =
                PgConnection::connect_with(&settings.options.clone().database("postgres")).await?;
            support::drop_database(&mut admin, DATABASE).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {DATABASE}")))
                .execute(&mut admin)
                .await?;
            let pool = PgPoolOptions::new()
                .max_connections(4)
                .connect_with(settings.options.clone().database(DATABASE))
                .await?;
            migrate::run(&pool).await?;
            let result = bench(&pool, &o).await;
            pool.close().await;
            if o.drop {
                support::drop_database(&mut admin, DATABASE).await?;
            }
            result
        })
    })
}

/// The month of timed approve number `i`: May 2026 and on (up to December: a month that has
/// not begun has no statement yet).
fn month(i: usize) -> String {
    let m = 5 + i as u32;
    format!("{}-{:02}", 2026 + (m - 1) / 12, (m - 1) % 12 + 1)
}

fn first_day(i: usize) -> Res<chrono::NaiveDate> {
    Ok(chrono::NaiveDate::parse_from_str(
        &format!("{}-01", month(i)),
        "%Y-%m-%d",
    )?)
}

async fn exec(pool: &PgPool, sql: &str, n: i64) -> Res<()> {
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(n)
        .execute(pool)
        .await?;
    Ok(())
}

async fn generate(pool: &PgPool, o: &Options, months: usize) -> Res<()> {
    let t = Instant::now();
    for sql in [
        "INSERT INTO operators (login, display_name, roles, updated_by)
         VALUES ('bench', 'bench', '{finance,admin}', 'bench')",
        "INSERT INTO plans (code, name, price_minor, currency, created_by, updated_by)
         VALUES ('pro', 'Pro', 2900, 'EUR', 'bench', 'bench')",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(pool).await?;
    }
    for sql in [
        "INSERT INTO partners (legal_name, display_name, verification, vetted_by, vetted_at,
                created_by, updated_by)
         SELECT 'Bench ' || g || ' Ltd', 'Bench ' || g, 'verified', 'bench', now(), 'bench', 'bench'
           FROM generate_series(1, $1) g",
        "INSERT INTO agreements (partner_id, version, effective_from, currency, frequency, model,
                take_rate_bps, created_by)
         SELECT id, 1, '2026-01-01', 'EUR', 'monthly', 'referral_only', 1500, 'bench' FROM partners",
        "INSERT INTO referral_codes (partner_id, code, created_by)
         SELECT id, 'BENCH' || id, 'bench' FROM partners",
        "INSERT INTO commission_rules (partner_id, plan_id, amount_minor, currency, updated_by)
         SELECT id, NULL, 400 + id % 900, 'EUR', 'bench' FROM partners",
    ] {
        exec(pool, sql, o.statements).await?;
    }
    for i in 0..months {
        sqlx::query(
            "INSERT INTO referral_accounts (account_id, partner_id, code_id, attributed_at, attributed_by)
             SELECT p.id * 100 + $1, p.id, c.id, '2026-01-01', 'bench'
               FROM partners p JOIN referral_codes c ON c.partner_id = p.id",
        )
        .bind(i as i64)
        .execute(pool)
        .await?;
        sqlx::query(
            "INSERT INTO referral_payouts (account_id, partner_id, plan_id, rule_id, rule_scope,
                    price_minor, currency, amount_minor, converted_at, created_by)
             SELECT p.id * 100 + $1, p.id, pl.id, r.id, 'default', 2900, 'EUR', r.amount_minor,
                    $2::date + interval '10 days', 'bench'
               FROM partners p JOIN commission_rules r ON r.partner_id = p.id
              CROSS JOIN (SELECT id FROM plans LIMIT 1) pl",
        )
        .bind(i as i64)
        .bind(first_day(i)?)
        .execute(pool)
        .await?;
    }
    let desk = Desk::new(pool.clone(), Actor::operator(LOGIN, &[Role::Finance]));
    for i in 0..months {
        let r = desk.compute_due(&month(i)).await?;
        if r.computed.len() as i64 != o.statements {
            return Err(format!(
                "{}: {} statements, not {}",
                month(i),
                r.computed.len(),
                o.statements
            )
            .into());
        }
    }
    // The deals: one verified partner's, active, valid for a year.
    exec(
        pool,
        "INSERT INTO deals (partner_id, title, description, kind, coupon_code, categories,
                audience_scope, valid_from, valid_until, state, published_at, created_by, updated_by)
         SELECT (SELECT min(id) FROM partners), 'Bench deal ' || g, 'A deal to pause', 'coupon',
                'BULK' || g, '{}', 'public', now() - interval '1 day', now() + interval '1 year',
                'active', now(), 'bench', 'bench'
           FROM generate_series(1, $1) g",
        o.deals,
    )
    .await?;
    sqlx::query("VACUUM ANALYZE").execute(pool).await?;
    println!(
        "generated {} partners with {} statements and {} deals in {:.0}s",
        thousands(o.statements),
        thousands(o.statements * months as i64),
        thousands(o.deals),
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Sends month `i`'s statements to review (untimed, bulk SQL); returns them as targets at
/// their versions then.
async fn to_review(pool: &PgPool, i: usize) -> Res<Vec<Target>> {
    let start = first_day(i)?;
    let rows: Vec<(i64, i32)> = sqlx::query_as(
        "UPDATE settlements SET status = 'in_review', review_deadline = now() + interval '7 days',
                updated_by = 'bench'
          WHERE period_start = $1 AND status = 'draft' RETURNING id, version",
    )
    .bind(start)
    .fetch_all(pool)
    .await?;
    sqlx::query("CHECKPOINT").execute(pool).await?;
    let mut targets: Vec<Target> = rows
        .into_iter()
        .map(|(id, version)| Target {
            id,
            version: Some(version),
        })
        .collect();
    targets.sort_by_key(|t| t.id);
    Ok(targets)
}

/// Every deal active again and in the search index (untimed, bulk SQL as the owner).
async fn reactivate(pool: &PgPool) -> Res<Vec<Target>> {
    let ids: Vec<i64> = sqlx::query_scalar(
        "UPDATE deals SET state = 'active', updated_by = 'bench', version = version + 1
         RETURNING id",
    )
    .fetch_all(pool)
    .await?;
    let mut conn = pool.acquire().await?;
    sqlx::query("DELETE FROM deal_search_documents")
        .execute(&mut *conn)
        .await?;
    store::deals::index_many_for_search(&mut conn, &ids).await?;
    drop(conn);
    sqlx::query("CHECKPOINT").execute(pool).await?;
    let mut ids = ids;
    ids.sort();
    Ok(ids.into_iter().map(Target::id).collect())
}

/// One audit row and its event, as `service::record` writes them.
#[allow(clippy::too_many_arguments)]
async fn record(
    conn: &mut PgConnection,
    action: &str,
    entity_type: &str,
    id: i64,
    before: Value,
    after: Value,
    reason: Option<&str>,
    event: (&str, Value),
) -> Res<()> {
    sqlx::query(
        "SELECT record_changes($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[],
                               $6::jsonb[], $7::text[], $8::text[], $9::text[], $10::text[],
                               $11::jsonb[])",
    )
    .bind(vec![LOGIN])
    .bind(vec![action])
    .bind(vec![entity_type])
    .bind(vec![id.to_string()])
    .bind(vec![before])
    .bind(vec![after])
    .bind(vec![reason])
    .bind(vec![event.0])
    .bind(vec![entity_type])
    .bind(vec![id.to_string()])
    .bind(vec![event.1])
    .execute(conn)
    .await?;
    Ok(())
}

/// The approvals run directly: per statement its own transaction.
async fn approve_directly(pool: &PgPool, targets: &[Target]) -> Res<usize> {
    let mut conn = pool.acquire().await?;
    let mut done = 0;
    for t in targets {
        let mut tx = conn.begin().await?;
        let before = store::settlements::lock(&mut tx, t.id)
            .await?
            .ok_or("statement gone")?;
        if Some(before.version) != t.version {
            continue;
        }
        let Some(after) =
            store::settlements::apply(&mut tx, t.id, Move::Approve.from(), Update::Approve, LOGIN)
                .await?
        else {
            continue;
        };
        let entry = store::settlements::add_entry(
            &mut tx,
            &after,
            NewEntry {
                kind: "approval",
                amount_minor: after.net_minor,
                reverses_id: None,
                reference: None,
                note: Some(NOTE),
            },
            LOGIN,
        )
        .await?;
        record(
            &mut tx,
            "settlement.approve",
            "settlement",
            t.id,
            serde_json::to_value(&before)?,
            json!({ "settlement": after, "ledger_entry": entry }),
            Some(NOTE),
            (
                "settlement.approved",
                json!({ "settlement": after, "ledger_entry": entry.id }),
            ),
        )
        .await?;
        tx.commit().await?;
        done += 1;
    }
    Ok(done)
}

/// The pauses run directly: per deal its own transaction.
async fn pause_directly(pool: &PgPool, targets: &[Target]) -> Res<usize> {
    let mut conn = pool.acquire().await?;
    let mut done = 0;
    for t in targets {
        let mut tx = conn.begin().await?;
        let before = store::deals::get_for_update(&mut tx, t.id)
            .await?
            .ok_or("deal gone")?;
        if before.state != DealState::Active {
            continue;
        }
        let after = store::deals::set_state(&mut tx, t.id, DealState::Paused, LOGIN).await?;
        store::deals::remove_from_search(&mut tx, t.id).await?;
        record(
            &mut tx,
            "deal.pause",
            "deal",
            t.id,
            serde_json::to_value(&before)?,
            serde_json::to_value(&after)?,
            None,
            (
                "deal.paused",
                json!({ "deal": after, "from": before.state, "to": after.state, "by": LOGIN, "reason": null }),
            ),
        )
        .await?;
        tx.commit().await?;
        done += 1;
    }
    Ok(done)
}

async fn through_desk(desk: &Desk, action: &BulkAction, targets: &[Target]) -> Res<usize> {
    let cancel = AtomicBool::new(false);
    let r = desk
        .bulk(action, targets, &|_, _| {}, &cancel, false)
        .await?;
    if !r.refused.is_empty() {
        return Err(format!("refused: {}", r.summary()).into());
    }
    Ok(r.done.len())
}

async fn bench(pool: &PgPool, o: &Options) -> Res<()> {
    println!(
        "bulk bench: {} runs, {} statements, {} deals",
        o.runs,
        thousands(o.statements),
        thousands(o.deals)
    );
    println!("{}", support::machine());
    generate(pool, o, 2 * o.runs).await?;
    let desk = Desk::new(pool.clone(), Actor::operator(LOGIN, &[Role::Admin]));
    let approve = BulkAction::SettlementApprove {
        note: Some(NOTE.into()),
    };
    let pause = BulkAction::DealPause { reason: None };
    let (mut a_desk, mut a_sql, mut p_desk, mut p_sql) = (vec![], vec![], vec![], vec![]);
    for run in 0..o.runs {
        // Approve: month 2·run and 2·run + 1, one each way, alternating which goes first.
        for k in 0..2 {
            let via_desk = (run + k) % 2 == 0;
            let targets = to_review(pool, 2 * run + k).await?;
            let t = Instant::now();
            let n = if via_desk {
                through_desk(&desk, &approve, &targets).await?
            } else {
                approve_directly(pool, &targets).await?
            };
            let s = t.elapsed().as_secs_f64();
            if n != targets.len() {
                return Err(format!("approved {n} of {}", targets.len()).into());
            }
            (if via_desk { &mut a_desk } else { &mut a_sql }).push(s);
        }
        for k in 0..2 {
            let via_desk = (run + k) % 2 == 0;
            let targets = reactivate(pool).await?;
            let t = Instant::now();
            let n = if via_desk {
                through_desk(&desk, &pause, &targets).await?
            } else {
                pause_directly(pool, &targets).await?
            };
            let s = t.elapsed().as_secs_f64();
            if n != targets.len() {
                return Err(format!("paused {n} of {}", targets.len()).into());
            }
            (if via_desk { &mut p_desk } else { &mut p_sql }).push(s);
        }
        println!(
            "  run {}: approve {:.2}s desk / {:.2}s sql, pause {:.2}s desk / {:.2}s sql",
            run + 1,
            a_desk[run],
            a_sql[run],
            p_desk[run],
            p_sql[run]
        );
    }
    report("approve", o.statements, &mut a_desk, &mut a_sql);
    report("pause", o.deals, &mut p_desk, &mut p_sql);
    Ok(())
}

fn report(what: &str, n: i64, desk: &mut [f64], sql: &mut [f64]) {
    let (d, s) = (median(desk), median(sql));
    println!(
        "  {what:<8} {:>7} rows: Desk::bulk {:>7.2}s ({:>6.0} rows/s, {:.2} ms/row), direct SQL {:>7.2}s ({:>6.0} rows/s), ratio {:.2}×",
        thousands(n),
        d,
        n as f64 / d,
        d * 1000.0 / n as f64,
        s,
        n as f64 / s,
        d / s
    );
}
