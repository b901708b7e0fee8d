//! What one `partnerdesk simulate` run created, found by its run id: members whose handle is
//! `sim-RUN-N`, the deal titled `Simulation RUN` with code `SIM-RUN`, and the partner
//! `Simulation RUN Ltd`; and their removal (the service audits it).

use sqlx::PgConnection;

/// The handle prefix of a run's members (`sim-RUN-1`, `sim-RUN-2`, …).
pub fn member_prefix(run: &str) -> String {
    format!("sim-{run}")
}

/// What a cleanup removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Removed {
    pub redemptions: i64,
    pub members: i64,
    pub deals: Vec<i64>,
    pub partners: Vec<i64>,
}

/// Removes a run's redemptions (its members', and any of its own deal), the members, its deal
/// and its partner, in the caller's transaction. Another deal's redemption_count goes down by
/// the run's redemptions of it.
pub async fn remove(conn: &mut PgConnection, run: &str) -> sqlx::Result<Removed> {
    let handles = format!("{}-%", member_prefix(run));
    let title = format!("Simulation {run}");
    let code = format!("SIM-{}", run.to_ascii_uppercase());
    let legal = format!("Simulation {run} Ltd");
    let run_deals: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM deals WHERE title = $1 AND coupon_code = $2 FOR UPDATE")
            .bind(&title)
            .bind(&code)
            .fetch_all(&mut *conn)
            .await?;
    let redemptions: i64 = sqlx::query_scalar(
        "WITH gone AS (
             DELETE FROM redemptions r
              WHERE r.deal_id = ANY ($2)
                 OR r.member_id IN (SELECT id FROM members WHERE handle LIKE $1)
             RETURNING r.deal_id),
         per AS (SELECT deal_id, count(*) AS n FROM gone GROUP BY deal_id),
         counted AS (
             UPDATE deals d SET redemption_count = greatest(d.redemption_count - per.n, 0)
               FROM per WHERE d.id = per.deal_id
             RETURNING per.n)
         SELECT coalesce(sum(n), 0)::bigint FROM counted",
    )
    .bind(&handles)
    .bind(&run_deals)
    .fetch_one(&mut *conn)
    .await?;
    let members = sqlx::query("DELETE FROM members WHERE handle LIKE $1")
        .bind(&handles)
        .execute(&mut *conn)
        .await?
        .rows_affected() as i64;
    let deals: Vec<i64> = sqlx::query_scalar("DELETE FROM deals WHERE id = ANY ($1) RETURNING id")
        .bind(&run_deals)
        .fetch_all(&mut *conn)
        .await?;
    let partners: Vec<i64> = sqlx::query_scalar(
        "DELETE FROM partners p WHERE p.legal_name = $1
            AND NOT EXISTS (SELECT 1 FROM deals d WHERE d.partner_id = p.id)
         RETURNING p.id",
    )
    .bind(&legal)
    .fetch_all(&mut *conn)
    .await?;
    Ok(Removed {
        redemptions,
        members,
        deals,
        partners,
    })
}
