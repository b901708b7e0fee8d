//! Paying a payout batch's statements: every one moved `approved → paid` with the batch's
//! reference and date, and its payment ledger entry (the opposite of its net), in two
//! statements however many there are.

use super::Settlement;
use chrono::NaiveDate;
use sqlx::PgConnection;

/// Moves the batch's statements still approved to paid and writes their payment entries;
/// returns them as they are now. The batch must already be marked paid in this transaction
/// (the database lets a statement in a batch move only with it).
pub async fn pay_batch(
    conn: &mut PgConnection,
    batch_id: i64,
    paid_on: NaiveDate,
    reference: &str,
    by: &str,
) -> sqlx::Result<Vec<Settlement>> {
    let sql = format!(
        "UPDATE settlements s SET status = 'paid', paid_on = $2, payment_reference = $3,
                updated_at = now(), updated_by = $4, version = s.version + 1
           FROM payout_batch_items i
          WHERE i.batch_id = $1 AND NOT i.released AND s.id = i.settlement_id
            AND s.status = 'approved'
         RETURNING {}",
        cols!("s.")
    );
    let mut paid: Vec<Settlement> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(batch_id)
        .bind(paid_on)
        .bind(reference)
        .bind(by)
        .fetch_all(&mut *conn)
        .await?;
    paid.sort_by_key(|s| s.id);
    let ids: Vec<i64> = paid.iter().map(|s| s.id).collect();
    sqlx::query(
        "INSERT INTO payout_ledger (partner_id, settlement_id, kind, currency, amount_minor,
                reference, by_login)
         SELECT s.partner_id, s.id, 'payment', s.currency, -s.net_minor, $2, $3
           FROM settlements s WHERE s.id = ANY($1) ORDER BY s.id",
    )
    .bind(&ids)
    .bind(reference)
    .bind(by)
    .execute(&mut *conn)
    .await?;
    Ok(paid)
}
