//! The demo seed's money: order values on the redemptions, an agreement for nine busy
//! partners (every model, the last referral-only; EUR, JPY and KWD; monthly and one
//! quarterly), and their settlements
//! for the last two months moved through every status — made through the services, so each
//! has its lines, audit rows, events and ledger entries.

use crate::domain::Role;
use crate::domain::money::Frequency;
use crate::domain::settlement::Period;
use crate::domain::terms::TermsDraft;
use crate::error::Result;
use crate::service::{Actor, Desk};
use chrono::{DateTime, Months, Utc};
use sqlx::{PgConnection, PgPool};

/// (model, currency, frequency) of each seeded agreement, in partner order.
const TERMS: &[(&str, &str, &str)] = &[
    ("percentage", "EUR", "monthly"),
    ("hybrid", "EUR", "monthly"),
    ("fixed_fee", "EUR", "monthly"),
    ("flat_fee", "EUR", "monthly"),
    ("percentage", "JPY", "monthly"),
    ("percentage", "KWD", "monthly"),
    ("hybrid", "EUR", "quarterly"),
    ("percentage", "EUR", "monthly"),
    // Paid for its referrals only: its statements hold its payouts, and the net it is owed.
    ("referral_only", "EUR", "monthly"),
];

fn terms(model: &str, currency: &str, frequency: &str, i: usize) -> TermsDraft {
    let mut d = TermsDraft {
        model: model.into(),
        currency: currency.into(),
        frequency: frequency.into(),
        ..Default::default()
    };
    match model {
        "percentage" => d.rate_bps = Some(500 + 250 * (i as i64 % 3)),
        "fixed_fee" => d.amount = Some("1.25".into()),
        "flat_fee" => d.amount = Some("300".into()),
        "referral_only" => {}
        _ => {
            d.base_bps = Some(400);
            d.bonus_bps = Some(200);
            d.bonus_threshold = Some(3);
        }
    }
    d
}

/// Seeds the money side; returns how many settlements it made.
pub async fn seed(pool: &PgPool, conn: &mut PgConnection, now: DateTime<Utc>) -> Result<u64> {
    let this_month = Period::of(Frequency::Monthly, now.date_naive());
    // The month before last, the first one settled.
    let first = Period::of(
        Frequency::Monthly,
        this_month
            .start
            .checked_sub_months(Months::new(2))
            .unwrap_or(this_month.start),
    );
    // The busiest partners of the last two months (not the negotiation demo's 1–6).
    let partners: Vec<i64> = sqlx::query_scalar(
        "SELECT d.partner_id FROM redemptions r JOIN deals d ON d.id = r.deal_id
          WHERE d.partner_id > 6 AND r.redeemed_at >= $1
          GROUP BY d.partner_id ORDER BY count(*) DESC, d.partner_id LIMIT $2",
    )
    .bind(first.starts_at())
    .bind(TERMS.len() as i64)
    .fetch_all(&mut *conn)
    .await?;
    let fin = Desk::new(pool.clone(), Actor::operator("fin", &[Role::Finance]));
    // Effective from the start of the year before the first month, so the quarterly one too.
    let from = Period::of(Frequency::Annual, first.start).start;
    let mut currencies = Vec::new();
    for (i, (&partner, &(model, currency, frequency))) in partners.iter().zip(TERMS).enumerate() {
        fin.add_agreement(partner, &terms(model, currency, frequency, i), from)
            .await?;
        currencies.push((partner, currency));
    }
    // Their referral programs, converted before the statements are computed.
    super::referrals::seed(pool, &currencies, now).await?;
    // The referral-only partner (the last) converts two more accounts early in the first
    // month, so that its settled (paid) statement holds payouts whatever today's date.
    if let Some(&(partner, _)) = currencies
        .last()
        .filter(|_| currencies.len() == TERMS.len())
    {
        let day =
            |d: i64| first.starts_at() + chrono::Duration::days(d) + chrono::Duration::hours(10);
        super::referrals::convert_at(pool, partner, "pro", 19_001, &[day(4), day(11)]).await?;
    }
    // Order values in each partner's currency (EUR 5.00–120.00, ¥500–15,499, KWD
    // 1.000–40.999); one in 33 reported without a value and one in 97 in USD: exceptions.
    let (ids, codes): (Vec<i64>, Vec<&str>) = currencies.iter().copied().unzip();
    sqlx::query(
        "UPDATE redemptions r
            SET value_minor = CASE
                    WHEN r.id % 33 = 0 THEN NULL
                    WHEN c.code = 'JPY' THEN (r.id * 7919) % 15000 + 500
                    WHEN c.code = 'KWD' THEN (r.id * 7919) % 40000 + 1000
                    ELSE (r.id * 7919) % 11500 + 500 END,
                currency = CASE
                    WHEN r.id % 33 = 0 THEN NULL
                    WHEN r.id % 97 = 5 THEN 'USD'
                    ELSE coalesce(c.code, 'EUR') END
           FROM deals d
           LEFT JOIN unnest($1::bigint[], $2::text[]) AS c(partner_id, code)
                  ON c.partner_id = d.partner_id
          WHERE d.id = r.deal_id",
    )
    .bind(&ids)
    .bind(&codes)
    .execute(&mut *conn)
    .await?;

    // The two months before this one (the demo's redemptions span about 90 days): the
    // older paid or approved, the last a draft, in review, disputed, or in review with the
    // partner's matching tally.
    let mut made = 0u64;
    let months = [first, Period::of(Frequency::Monthly, first.end)];
    for (age, month) in months.iter().enumerate() {
        let report = fin.compute_due(&month.label()).await?;
        made += report.computed.len() as u64;
        for (k, s) in report.computed.iter().enumerate() {
            let step = if age == 0 { 4 + k % 2 } else { k % 4 };
            if step == 0 {
                continue;
            }
            let note = (s.exception_count > 0).then(|| {
                format!(
                    "{} redemption(s) without a usable value: the partner confirms them separately",
                    s.exception_count
                )
            });
            fin.review_settlement(s.id, note.as_deref()).await?;
            let ours = crate::domain::money::decimal_string(s.commission_minor, &s.currency);
            match step {
                2 => {
                    let theirs =
                        crate::domain::money::decimal_string(s.commission_minor + 150, &s.currency);
                    fin.enter_tally(s.id, i64::from(s.redemption_count) + 2, &theirs)
                        .await?;
                    fin.dispute_settlement(s.id, "the partner counts two more redemptions")
                        .await?;
                }
                3 => {
                    fin.enter_tally(s.id, i64::from(s.redemption_count), &ours)
                        .await?;
                }
                4 | 5 => {
                    fin.enter_tally(s.id, i64::from(s.redemption_count), &ours)
                        .await?;
                    fin.approve_settlement(s.id, None).await?;
                    if step == 4 {
                        let reference = format!("SEPA-{}-{:04}", month.label(), s.id);
                        fin.pay_settlement(s.id, &reference, None).await?;
                    }
                }
                _ => {}
            }
        }
    }
    // The referral-only partner's last statement approved: what the marketplace owes it
    // waits for a payout batch.
    if let Some(&(partner, _)) = currencies
        .last()
        .filter(|_| currencies.len() == TERMS.len())
    {
        let last: Option<(i64, String)> = sqlx::query_as(
            "SELECT id, status FROM settlements WHERE partner_id = $1
              ORDER BY period_start DESC LIMIT 1",
        )
        .bind(partner)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some((id, _)) = last.filter(|(_, s)| s == "draft") {
            fin.review_settlement(id, None).await?;
            fin.approve_settlement(id, None).await?;
        }
    }
    super::payouts::seed(pool, &currencies).await?;
    Ok(made)
}
