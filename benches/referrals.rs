//! Conversion recording benchmark (issue 14): the latency of `Desk::convert_account` (what
//! `partnerdesk referrals convert` runs) next to the same SQL statements sent directly, one
//! conversion at a time. Not a test: it prints p50, p95 and their ratios.
//!
//! ```text
//! cargo bench --bench referrals
//! cargo bench --bench referrals -- --conversions 5000 --rounds 3
//! ```
//!
//! The database `partnerdesk_bench_referrals` is made afresh (migrated; a partner, a plan, a
//! default and a plan rule, and 2 × `--conversions` accounts attributed by code per round) and
//! dropped at the end. Each round times `--conversions` conversions through the service and as
//! many through plain SQL (the same reads, the payout insert, the audit row and the outbox event
//! in one transaction, on one connection with prepared statements), alternating in blocks of
//! 100 so that both see the same server state.

use partnerdesk::domain::Role;
use partnerdesk::domain::referral::PlanDraft;
use partnerdesk::service::{Actor, Desk};
use partnerdesk::store::{DbSettings, migrate};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection};
use std::time::Instant;

#[path = "support/mod.rs"]
mod support;
use support::Res;

const DATABASE: &str = "partnerdesk_bench_referrals";

fn main() {
    support::main("referrals", || {
        let mut n = 2000i64;
        let mut rounds = 3usize;
        let mut args = std::env::args().skip(1);
        while let Some(a) = args.next() {
            match a.as_str() {
                "--bench" => {}
                "--conversions" => n = args.next().ok_or("--conversions N")?.parse()?,
                "--rounds" => rounds = args.next().ok_or("--rounds N")?.parse()?,
                other => return Err(format!("unknown argument {other:?}").into()),
            }
        }
        let settings = support::settings(None)?;
        support::runtime()?.block_on(bench(settings, n.max(100), rounds.max(1)))
    })
}

async fn bench(settings: DbSettings, n: i64, rounds: usize) -> Res<()> {
    let mut admin =
        PgConnection::connect_with(&settings.options.clone().database("postgres")).await?;
    for sql in [
        format!("DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"),
        format!("CREATE DATABASE {DATABASE}"),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut admin)
            .await?;
    }
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(settings.options.clone().database(DATABASE))
        .await?;
    migrate::run(&pool).await?;
    sqlx::query(
        "INSERT INTO operators (login, display_name, roles, updated_by)
         VALUES ('bench', 'bench', '{admin}', 'bench')",
    )
    .execute(&pool)
    .await?;
    sqlx::query(
        "INSERT INTO partners (legal_name, display_name, verification, vetted_by, vetted_at, created_by, updated_by)
         VALUES ('Bench Ltd', 'Bench', 'verified', 'bench', now(), 'bench', 'bench')",
    )
    .execute(&pool)
    .await?;
    let partner: i64 = sqlx::query_scalar("SELECT id FROM partners")
        .fetch_one(&pool)
        .await?;
    let desk = Desk::new(pool.clone(), Actor::operator("bench", &[Role::Admin]));
    desk.add_plan(&PlanDraft {
        code: "pro".into(),
        name: "Pro".into(),
        price: "19.90".into(),
        currency: "EUR".into(),
    })
    .await?;
    let code = desk.add_referral_code(partner, None).await?;
    desk.set_commission_rule(partner, None, Some(1250), None, None)
        .await?;
    desk.set_commission_rule(partner, Some("pro"), Some(1500), None, None)
        .await?;
    sqlx::query(
        "INSERT INTO referral_accounts (account_id, partner_id, code_id, attributed_by)
         SELECT g, $1, $2, 'bench' FROM generate_series(1, $3) g",
    )
    .bind(partner)
    .bind(code.id)
    .bind(2 * n * rounds as i64)
    .execute(&pool)
    .await?;
    sqlx::query("VACUUM ANALYZE").execute(&pool).await?;

    let mut plain_conn = pool.acquire().await?;
    let (mut ours, mut plain) = (Vec::new(), Vec::new());
    let mut account = 0i64;
    for _ in 0..rounds {
        let mut done = 0;
        while done < n {
            for _ in 0..100 {
                account += 1;
                let t = Instant::now();
                let c = desk.convert_account(account, "pro", None).await?;
                ours.push(t.elapsed().as_secs_f64() * 1e3);
                if c.payout.amount_minor != 299 {
                    return Err(format!(
                        "19.90 × 15% = 2.985 → 2.99, got {}",
                        c.payout.amount_minor
                    )
                    .into());
                }
            }
            for _ in 0..100 {
                account += 1;
                let t = Instant::now();
                plain_conversion(&mut plain_conn, account).await?;
                plain.push(t.elapsed().as_secs_f64() * 1e3);
            }
            done += 100;
        }
    }
    drop(plain_conn);
    let payouts: i64 = sqlx::query_scalar("SELECT count(*) FROM referral_payouts")
        .fetch_one(&pool)
        .await?;
    if payouts != 2 * n * rounds as i64 {
        return Err(format!(
            "expected {} payouts, found {payouts}",
            2 * n * rounds as i64
        )
        .into());
    }
    pool.close().await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE {DATABASE} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await?;
    let (o50, o95) = (pct(&mut ours, 50.0), pct(&mut ours, 95.0));
    let (p50, p95) = (pct(&mut plain, 50.0), pct(&mut plain, 95.0));
    println!(
        "conversion recording, {} conversions each ({rounds} round(s) of {n})",
        ours.len()
    );
    println!("                      p50        p95");
    println!("  referrals convert   {o50:>6.2} ms  {o95:>6.2} ms");
    println!("  the same SQL        {p50:>6.2} ms  {p95:>6.2} ms");
    println!(
        "  ratio               {:>6.2}×    {:>6.2}×",
        o50 / p50,
        o95 / p95
    );
    Ok(())
}

/// What the service sends for one conversion, sent directly: the idempotency read, the
/// attribution, the plan, the rule, the payout, the agreement in effect (whose statement
/// holds it), the audit row and the event, in one transaction.
async fn plain_conversion(c: &mut PgConnection, account: i64) -> Res<()> {
    let mut tx = c.begin().await?;
    let _: Option<i64> =
        sqlx::query_scalar("SELECT id FROM referral_payouts WHERE account_id = $1")
            .bind(account)
            .fetch_optional(&mut *tx)
            .await?;
    let (partner,): (i64,) =
        sqlx::query_as("SELECT partner_id FROM referral_accounts WHERE account_id = $1")
            .bind(account)
            .fetch_one(&mut *tx)
            .await?;
    let (plan, price, currency): (i64, i64, String) =
        sqlx::query_as("SELECT id, price_minor, currency FROM plans WHERE code = $1")
            .bind("pro")
            .fetch_one(&mut *tx)
            .await?;
    let (rule, bps): (i64, Option<i32>) = sqlx::query_as(
        "SELECT r.id, r.bps FROM commission_rules r LEFT JOIN plans p ON p.id = r.plan_id
          WHERE r.partner_id = $1 AND (r.plan_id = $2 OR r.plan_id IS NULL)
          ORDER BY r.plan_id NULLS LAST LIMIT 1",
    )
    .bind(partner)
    .bind(plan)
    .fetch_one(&mut *tx)
    .await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO referral_payouts (account_id, partner_id, plan_id, rule_id, rule_scope, bps,
                price_minor, currency, amount_minor, converted_at, created_by)
         VALUES ($1, $2, $3, $4, 'plan', $5, $6, $7,
                 round($6::numeric * $5 / 10000)::bigint, now(), 'bench')
         ON CONFLICT (account_id) DO NOTHING RETURNING id",
    )
    .bind(account)
    .bind(partner)
    .bind(plan)
    .bind(rule)
    .bind(bps)
    .bind(price)
    .bind(&currency)
    .fetch_one(&mut *tx)
    .await?;
    let _: Option<i64> = sqlx::query_scalar(
        "SELECT a.id FROM agreements a
          WHERE a.partner_id = $1 AND a.effective_from <= current_date
          ORDER BY a.effective_from DESC, a.version DESC LIMIT 1",
    )
    .bind(partner)
    .fetch_optional(&mut *tx)
    .await?;
    let payload = serde_json::json!({ "payout": { "id": id, "account_id": account } });
    sqlx::query(
        "INSERT INTO audit_log (actor, action, entity_type, entity_id, after, reason)
         VALUES ('bench', 'referral.convert', 'referral_payout', $1, $2, 'plain')",
    )
    .bind(id.to_string())
    .bind(&payload)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO outbox_events (event_type, entity_type, entity_id, payload)
         VALUES ('payout.created', 'referral_payout', $1, $2)",
    )
    .bind(id.to_string())
    .bind(&payload)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let i = ((p / 100.0) * (v.len() - 1) as f64).round() as usize;
    v[i.min(v.len() - 1)]
}
