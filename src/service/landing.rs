//! Where a change of a source's count lands (a refund, a reversal), said on a line of its
//! own: the draft that leaves it out, or the adjustment that reverses its charge on a
//! statement past draft.

use crate::domain::money::format_amount;
use crate::domain::settlement::{Period, period_label};
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
    Ok(Some(
        late_on(conn, home, &status, start, &freq, partner_id, currency).await?,
    ))
}

/// "late: settlement 9 (2026-10) is approved; it is charged as an adjustment on settlement
/// 12 (2026-11, draft) when it is computed again": where a source dated into `home`, past
/// draft, lands.
pub(crate) async fn late_on(
    conn: &mut PgConnection,
    home: i64,
    status: &str,
    start: chrono::NaiveDate,
    freq: &str,
    partner_id: i64,
    currency: &str,
) -> sqlx::Result<String> {
    let period = period_label(freq, start);
    let head =
        format!("late: settlement {home} ({period}) is {status}; it is charged as an adjustment");
    Ok(
        match store::redemptions::next_draft(conn, partner_id, currency, start).await? {
            Some((d, s, f)) => format!(
                "{head} on settlement {d} ({}, draft) when it is computed again",
                period_label(&f, s)
            ),
            None => {
                format!("{head} on the partner's next {currency} statement computed after {period}")
            }
        },
    )
}

/// Where a referral payout waits: `text` on a line of its own for the command that records
/// it (`None`: its own period's statement takes it), `short` for a list's column.
pub(crate) struct PayoutLanding {
    pub text: Option<String>,
    pub short: String,
}

/// For a referral payout converted at `converted_at`: its statement is the first whose period
/// ends more than the holding period after it. Late when that statement is past draft
/// already; held (said, with the statement it waits for) when that is a later period than its
/// conversion's; else its own period's statement takes it.
pub(crate) async fn payout(
    conn: &mut PgConnection,
    partner_id: i64,
    currency: &str,
    converted_at: chrono::DateTime<chrono::Utc>,
) -> sqlx::Result<PayoutLanding> {
    let due = due(conn, converted_at).await?;
    let days = (due - converted_at).num_days();
    if let Some(late) = late(conn, partner_id, currency, due).await? {
        return Ok(PayoutLanding {
            text: Some(late),
            short: "late: on the next draft".into(),
        });
    }
    // (Monthly until the partner has an agreement: the CLI says what it needs.)
    let frequency = store::agreements::in_effect(conn, partner_id, due.date_naive())
        .await?
        .map_or(crate::domain::money::Frequency::Monthly, |a| a.frequency);
    let own = Period::of(frequency, converted_at.date_naive());
    let lands = Period::of(frequency, due.date_naive()).label();
    if own.label() == lands {
        return Ok(PayoutLanding {
            text: None,
            short: format!("for {lands}"),
        });
    }
    Ok(PayoutLanding {
        text: Some(format!(
            "held {days} days: it is priced on the statement of {lands}"
        )),
        short: format!("held for {lands}"),
    })
}

/// A payout converted at `converted_at` is due (priced) on the statement of the period holding
/// this: its conversion plus the holding period.
pub(crate) async fn due(
    conn: &mut PgConnection,
    converted_at: chrono::DateTime<chrono::Utc>,
) -> sqlx::Result<chrono::DateTime<chrono::Utc>> {
    let days = store::settings::get(conn, false).await?.holding_days;
    Ok(converted_at + chrono::Duration::days(days.into()))
}
