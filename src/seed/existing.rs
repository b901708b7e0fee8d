//! What the demo seed finds before it runs: the rows and operators already there, whether they
//! are all the seed's own, and the reset that empties the seeded tables.

use crate::error::Result;
use crate::service::record::Change;
use crate::store;
use sqlx::PgPool;

/// Rows in the tables the seed fills (to refuse seeding over real data).
pub async fn existing_rows(pool: &PgPool) -> Result<(i64, i64)> {
    let r: (i64, i64) =
        sqlx::query_as("SELECT (SELECT count(*) FROM partners), (SELECT count(*) FROM deals)")
            .fetch_one(pool)
            .await?;
    Ok(r)
}

/// Registered operators.
pub async fn operator_count(pool: &PgPool) -> Result<i64> {
    let mut conn = pool.acquire().await?;
    Ok(store::operators::count(&mut conn).await?)
}

/// Is everything in the seeded tables the demo seed's own? The last `seed.demo` must exist and
/// nothing but operators and the expiry job may have changed since (every change through
/// partnerdesk leaves an audit row); no demo seed at all means the data came from elsewhere.
pub async fn only_demo_data(pool: &PgPool) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT FROM audit_log WHERE action = 'seed.demo')
            AND NOT EXISTS (
                SELECT FROM audit_log
                 WHERE id > (SELECT max(id) FROM audit_log WHERE action = 'seed.demo')
                   AND entity_type NOT IN ('operator', 'database')
                   AND actor <> 'system')",
    )
    .fetch_one(pool)
    .await?)
}

/// Empties every table the seed fills (the one row of marketplace settings stays; the seed sets
/// it again), and the outbox with its webhook deliveries. The audit
/// log is append-only and stays; webhook endpoints are configuration and stay too, and since
/// event ids start again from 1, each endpoint takes every event written from now on (else
/// it would wait for the ids to pass where they had been).
pub async fn reset(pool: &PgPool, actor: &str) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "TRUNCATE payout_batch_items, payout_batches, partner_payout_details, minimum_payouts,
                  settlement_lines, settlements, payout_ledger, referral_payouts, referral_accounts,
                  claim_tokens, commission_rules, referral_codes, plans, redemptions, deal_search_documents,
                  deal_coupon_codes, deals, partner_checks, partners, members, webhook_attempts,
                  webhook_deliveries, outbox_events
                  RESTART IDENTITY CASCADE",
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE webhook_endpoints SET after_event_id = 0 WHERE after_event_id <> 0")
        .execute(&mut *tx)
        .await?;
    Change::by_login(actor, "seed.reset", "database", "demo")
        .reason(Some("seed --demo --reset"))
        .no_event()
        .commit(tx)
        .await?;
    Ok(())
}
