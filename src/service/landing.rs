//! Where a change of a source's count lands (a refund, a reversal), said on a line of its
//! own: the draft that leaves it out, or the adjustment that reverses its charge on a
//! statement past draft.

use crate::domain::money::format_amount;
use crate::domain::settlement::period_label;
use crate::store;
use sqlx::PgConnection;

/// "settlement 9 (2026-10, approved) charged 2.00 EUR: the reversal is on settlement 12
/// (2026-11, draft) when it is computed again", and the other cases.
pub(crate) async fn landing(
    conn: &mut PgConnection,
    id: i64,
    payout: bool,
) -> sqlx::Result<String> {
    let lines = store::redemptions::counted(conn, id, payout).await?;
    let Some(charge) = lines.iter().find(|c| c.counts == "charge") else {
        return Ok("it is on no statement: its period's statement leaves it out".into());
    };
    let period = period_label(&charge.frequency, charge.period_start);
    if matches!(charge.status.as_str(), "draft" | "disputed") {
        return Ok(format!(
            "settlement {} ({period}, {}) leaves it out when it is computed again",
            charge.settlement_id, charge.status
        ));
    }
    if let Some(r) = lines.iter().find(|c| c.counts == "reversal") {
        return Ok(format!(
            "its charge on settlement {} ({period}) is reversed already, on settlement {}",
            charge.settlement_id, r.settlement_id
        ));
    }
    let head = format!(
        "settlement {} ({period}, {}) charged {}: the reversal is",
        charge.settlement_id,
        charge.status,
        format_amount(charge.amount_minor, &charge.currency)
    );
    Ok(
        match store::redemptions::next_draft(
            conn,
            charge.partner_id,
            &charge.currency,
            charge.period_start,
        )
        .await?
        {
            Some((d, start, freq)) => format!(
                "{head} on settlement {d} ({}, draft) when it is computed again",
                period_label(&freq, start)
            ),
            None => format!(
                "{head} on the partner's next {} statement computed after {period}",
                charge.currency
            ),
        },
    )
}

/// For a source dated `at` of the partner: when the statement of its period is past draft
/// already, where it is charged late (`None` when its own statement will take it).
pub(crate) async fn late(
    conn: &mut PgConnection,
    partner_id: i64,
    currency: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> sqlx::Result<Option<String>> {
    let Some((home, status, start, freq)) =
        store::redemptions::statement_at(conn, partner_id, at).await?
    else {
        return Ok(None);
    };
    if !matches!(status.as_str(), "in_review" | "approved" | "paid") {
        return Ok(None);
    }
    let period = period_label(&freq, start);
    let head =
        format!("late: settlement {home} ({period}) is {status}; it is charged as an adjustment");
    Ok(Some(
        match store::redemptions::next_draft(conn, partner_id, currency, start).await? {
            Some((d, s, f)) => format!(
                "{head} on settlement {d} ({}, draft) when it is computed again",
                period_label(&f, s)
            ),
            None => {
                format!("{head} on the partner's next {currency} statement computed after {period}")
            }
        },
    ))
}
