//! Payout batch benchmark (issue "Finance: … payout batches"): a batch of `--statements`
//! approved statements made, written as a SEPA file and paid, each next to the same SQL run
//! directly. Not a test: it prints medians and ratios.
//!
//! ```text
//! cargo bench --bench payouts
//! cargo bench --bench payouts -- --runs 3 --statements 10000
//! cargo bench --bench payouts -- --drop          # remove the database at the end
//! ```
//!
//! The data, generated afresh into `partnerdesk_bench_payouts` by bulk SQL: `--statements`
//! referral-only partners, each with payout details and one referral payout in each of
//! `--runs` months from September 2026, whose statements are computed by
//! `Desk::compute_due` (one transaction a month). Before each run, untimed, one month's
//! statements are sent to review and approved (bulk SQL, the ledger's approval entries with
//! them); then, timed:
//! - **create**: `Desk::create_batch("EUR", note)` (what `payouts batch create --currency
//!   EUR` runs: the candidates read with the partners' accounts, the minimum applied, the batch
//!   and its items inserted, the database's checks, audit row and event); beside it, the same
//!   candidates query and the two INSERTs run directly, then rolled back;
//! - **SEPA file**: `Desk::write_batch_file(id, Sepa, file)`; beside it, the items read
//!   directly in the same pages;
//! - **pay**: `Desk::pay_batch` (the batch's move, every statement's move and payment entry,
//!   the deferred ledger checks, an audit row and an event per statement); beside it, the same
//!   UPDATEs and INSERT run directly, then rolled back.

#[path = "support/mod.rs"]
mod support;
use support::{Res, median, thousands};

use partnerdesk::domain::Role;
use partnerdesk::service::batches::BatchFormat;
use partnerdesk::service::{Actor, Desk};
use partnerdesk::store::migrate;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection, PgPool};
use std::time::Instant;

const DATABASE: &str = "partnerdesk_bench_payouts";
const USAGE: &str = "usage: cargo bench --bench payouts -- [--runs N] [--statements N] [--drop]";

fn main() {
    support::main("payouts", || {
        let mut args = support::Args::new(USAGE);
        let (mut runs, mut statements, mut drop) = (3usize, 10_000i64, false);
        while let Some(flag) = args.flag() {
            match flag.as_str() {
                "--runs" => runs = args.number::<usize>("--runs")?.clamp(1, 12),
                "--statements" => statements = args.number::<i64>("--statements")?.max(1),
                "--drop" => drop = true,
                other => return Err(args.unknown(other)),
            }
        }
        let settings = support::settings(None)?;
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
            let result = bench(&pool, runs, statements).await;
            pool.close().await;
            if drop {
                support::drop_database(&mut admin, DATABASE).await?;
            }
            result
        })
    })
}

/// The month a run pays: September 2026 and on.
fn month(run: usize) -> String {
    let m = 9 + run as u32;
    format!("{}-{:02}", 2026 + (m - 1) / 12, (m - 1) % 12 + 1)
}

async fn generate(pool: &PgPool, runs: usize, n: i64) -> Res<()> {
    let t = Instant::now();
    for sql in [
        "INSERT INTO operators (login, display_name, roles, updated_by)
         VALUES ('bench', 'bench', '{finance,admin}', 'bench')",
        "INSERT INTO plans (code, name, price_minor, currency, created_by, updated_by)
         VALUES ('pro', 'Pro', 2900, 'EUR', 'bench', 'bench')",
        "UPDATE marketplace_settings SET bank_holder = 'Bench Marketplace',
                bank_iban = 'DE02120300000000202051', bank_bic = 'BYLADEM1001'",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(pool).await?;
    }
    let steps = [
        "INSERT INTO partners (legal_name, display_name, verification, vetted_by, vetted_at,
                created_by, updated_by)
         SELECT 'Bench ' || g || ' Ltd', 'Bench ' || g, 'verified', 'bench', now(), 'bench', 'bench'
           FROM generate_series(1, $1) g",
        "INSERT INTO partner_payout_details (partner_id, holder, iban, bic, currency, updated_by)
         SELECT id, legal_name, 'DE89370400440532013000', 'COBADEFFXXX', 'EUR', 'bench' FROM partners",
        "INSERT INTO agreements (partner_id, version, effective_from, currency, frequency, model,
                take_rate_bps, created_by)
         SELECT id, 1, '2026-01-01', 'EUR', 'monthly', 'referral_only', 1500, 'bench' FROM partners",
        "INSERT INTO referral_codes (partner_id, code, created_by)
         SELECT id, 'BENCH' || id, 'bench' FROM partners",
        "INSERT INTO commission_rules (partner_id, plan_id, amount_minor, currency, updated_by)
         SELECT id, NULL, 400 + id % 900, 'EUR', 'bench' FROM partners",
    ];
    for sql in steps {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(n)
            .execute(pool)
            .await?;
    }
    for run in 0..runs {
        let start = format!("{}-01", month(run));
        sqlx::query(
            "INSERT INTO referral_accounts (account_id, partner_id, code_id, attributed_at, attributed_by)
             SELECT p.id * 100 + $2, p.id, c.id, '2026-01-01', 'bench'
               FROM partners p JOIN referral_codes c ON c.partner_id = p.id",
        )
        .bind(n)
        .bind(run as i64)
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
        .bind(run as i64)
        .bind(chrono::NaiveDate::parse_from_str(&start, "%Y-%m-%d")?)
        .execute(pool)
        .await?;
    }
    let desk = Desk::new(pool.clone(), Actor::operator("bench", &[Role::Finance]));
    for run in 0..runs {
        let r = desk.compute_due(&month(run)).await?;
        if r.computed.len() as i64 != n {
            return Err(format!("{}: {} statements, not {n}", month(run), r.computed.len()).into());
        }
    }
    sqlx::query("VACUUM ANALYZE").execute(pool).await?;
    println!(
        "generated {} partners with {} statements in {:.0}s",
        thousands(n),
        thousands(n * runs as i64),
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Sends one month's statements to review and approves them, with their approval entries
/// (untimed, bulk SQL under the database's own rules).
async fn approve(pool: &PgPool, run: usize) -> Res<()> {
    let start = chrono::NaiveDate::parse_from_str(&format!("{}-01", month(run)), "%Y-%m-%d")?;
    let mut tx = pool.begin().await?;
    for sql in [
        "UPDATE settlements SET status = 'in_review', review_deadline = now() + interval '7 days',
                updated_by = 'bench' WHERE period_start = $1 AND status = 'draft'",
        "UPDATE settlements SET status = 'approved', approved_at = now(), approved_by = 'bench',
                updated_by = 'bench' WHERE period_start = $1 AND status = 'in_review'",
        "INSERT INTO payout_ledger (partner_id, settlement_id, kind, currency, amount_minor, by_login)
         SELECT partner_id, id, 'approval', currency, net_minor, 'bench'
           FROM settlements WHERE period_start = $1 AND status = 'approved'",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(start)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    sqlx::query("CHECKPOINT").execute(pool).await?;
    Ok(())
}

/// Runs `sqls` in one transaction, rolled back; returns the seconds it took.
async fn plain(pool: &PgPool, sqls: &[&str], batch: Option<i64>) -> Res<f64> {
    let mut c = pool.acquire().await?;
    let t = Instant::now();
    let mut tx = c.begin().await?;
    for sql in sqls {
        let q = sqlx::query(sqlx::AssertSqlSafe(*sql));
        let q = match batch {
            Some(b) if sql.contains("$1") => q.bind(b),
            _ => q,
        };
        q.execute(&mut *tx).await?;
    }
    let s = t.elapsed().as_secs_f64();
    tx.rollback().await?;
    Ok(s)
}

const PLAIN_CREATE: &[&str] = &[
    "CREATE TEMP TABLE bench_candidates ON COMMIT DROP AS
     SELECT s.id, s.partner_id, -s.net_minor AS owed, d.holder, d.iban, d.bic, d.changed_at
       FROM settlements s
       JOIN partners p ON p.id = s.partner_id
       JOIN agreements a ON a.id = s.agreement_id
       LEFT JOIN partner_payout_details d ON d.partner_id = s.partner_id
       LEFT JOIN minimum_payouts m ON m.currency = s.currency
      WHERE s.status = 'approved' AND s.currency = 'EUR' AND s.net_minor < 0
        AND NOT EXISTS (SELECT FROM payout_batch_items i WHERE i.settlement_id = s.id AND NOT i.released)",
    "INSERT INTO payout_batches (currency, note, created_by, updated_by)
     VALUES ('EUR', 'bench', 'bench', 'bench')",
    "INSERT INTO payout_batch_items (batch_id, settlement_id, partner_id, amount_minor, holder, iban,
            bic, account_changed_at)
     SELECT currval(pg_get_serial_sequence('payout_batches', 'id')), id, partner_id, owed, holder,
            iban, bic, changed_at FROM bench_candidates",
];

const PLAIN_PAY: &[&str] = &[
    "UPDATE payout_batches SET status = 'paid', paid_on = current_date, payment_reference = 'PLAIN',
            paid_by = 'bench', updated_by = 'bench' WHERE id = $1 AND status = 'open'",
    "UPDATE settlements s SET status = 'paid', paid_on = current_date, payment_reference = 'PLAIN',
            updated_by = 'bench', version = s.version + 1
       FROM payout_batch_items i WHERE i.batch_id = $1 AND NOT i.released AND s.id = i.settlement_id",
    "INSERT INTO payout_ledger (partner_id, settlement_id, kind, currency, amount_minor, reference, by_login)
     SELECT s.partner_id, s.id, 'payment', s.currency, -s.net_minor, 'PLAIN', 'bench'
       FROM payout_batch_items i JOIN settlements s ON s.id = i.settlement_id WHERE i.batch_id = $1",
    "SET CONSTRAINTS ALL IMMEDIATE",
];

/// The batch's items read directly, a page of 1,000 at a time (what the file's writer reads).
async fn plain_read(pool: &PgPool, batch: i64) -> Res<f64> {
    let mut c = pool.acquire().await?;
    let t = Instant::now();
    let mut after = 0i64;
    loop {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT i.settlement_id FROM payout_batch_items i
               JOIN settlements s ON s.id = i.settlement_id
               JOIN agreements a ON a.id = s.agreement_id
               JOIN partners p ON p.id = i.partner_id
              WHERE i.batch_id = $1 AND i.settlement_id > $2
              ORDER BY i.settlement_id LIMIT 1000",
        )
        .bind(batch)
        .bind(after)
        .fetch_all(&mut *c)
        .await?;
        match ids.last() {
            Some(l) => after = *l,
            None => break,
        }
    }
    Ok(t.elapsed().as_secs_f64())
}

async fn bench(pool: &PgPool, runs: usize, n: i64) -> Res<()> {
    generate(pool, runs, n).await?;
    let desk = Desk::new(pool.clone(), Actor::operator("bench", &[Role::Finance]));
    let dir = std::env::temp_dir().join("partnerdesk-bench-payouts");
    std::fs::create_dir_all(&dir)?;
    let (mut create, mut create_sql) = (Vec::new(), Vec::new());
    let (mut file, mut file_sql) = (Vec::new(), Vec::new());
    let (mut pay, mut pay_sql) = (Vec::new(), Vec::new());
    let mut bytes = 0u64;
    for run in 0..runs {
        approve(pool, run).await?;
        create_sql.push(plain(pool, PLAIN_CREATE, None).await?);
        let t = Instant::now();
        let (batch, _) = desk
            .create_batch("EUR", Some("bench: accounts confirmed"))
            .await?;
        create.push(t.elapsed().as_secs_f64());
        if i64::from(batch.statement_count) != n {
            return Err(format!("batch of {} statements, not {n}", batch.statement_count).into());
        }
        let path = dir.join(format!("batch-{}.xml", batch.id));
        let t = Instant::now();
        let out = tokio::fs::File::create(&path).await?;
        let written = desk
            .write_batch_file(batch.id, BatchFormat::Sepa, out)
            .await?;
        file.push(t.elapsed().as_secs_f64());
        file_sql.push(plain_read(pool, batch.id).await?);
        if written as i64 != n {
            return Err(format!("{written} transfers written, not {n}").into());
        }
        bytes = std::fs::metadata(&path)?.len();
        pay_sql.push(plain(pool, PLAIN_PAY, Some(batch.id)).await?);
        let t = Instant::now();
        let (_, paid) = desk
            .pay_batch(batch.id, &format!("BENCH-{run}"), None)
            .await?;
        pay.push(t.elapsed().as_secs_f64());
        if paid.len() as i64 != n {
            return Err(format!("{} statements paid, not {n}", paid.len()).into());
        }
        std::fs::remove_file(&path)?;
    }
    println!(
        "\npartnerdesk payout batch benchmark: a batch of {} statements, {runs} run(s), median shown\n",
        thousands(n)
    );
    let row = |what: &str, ours: &mut Vec<f64>, sql: &mut Vec<f64>, plain: &str| {
        let (o, s) = (median(ours), median(sql));
        println!("{what:<34} {o:>7.2} s");
        println!("  {plain:<32} {s:>7.2} s   (ours {:.2}×)", o / s);
    };
    row(
        "payouts batch create",
        &mut create,
        &mut create_sql,
        "plain SQL, same reads and inserts",
    );
    row(
        &format!("payouts batch file (SEPA, {} MB)", bytes / 1_000_000),
        &mut file,
        &mut file_sql,
        "plain SQL, the items read",
    );
    row(
        "payouts batch pay",
        &mut pay,
        &mut pay_sql,
        "plain SQL, same updates and inserts",
    );
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}
