//! The demo seed's negotiations: a thread in every status, most with several revisions, made
//! through the services (so each has its audit rows and events), one accepted into an
//! agreement, a contract and a draft deal.

use crate::domain::Role;
use crate::domain::negotiation::{Benefit, OfferDraft, Side};
use crate::error::Result;
use crate::service::negotiations::NewThread;
use crate::service::{Actor, Desk};
use crate::store;
use chrono::{DateTime, Duration, Utc};
use sqlx::{PgConnection, PgPool};

fn offer(now: DateTime<Utc>, n: usize, model: &str) -> OfferDraft {
    let mut d = OfferDraft {
        model: model.into(),
        currency: "EUR".into(),
        frequency: if n.is_multiple_of(2) {
            "monthly"
        } else {
            "quarterly"
        }
        .into(),
        benefits: vec![Benefit {
            name: "logo placement".into(),
            due: Some(now.date_naive() + Duration::days(30)),
        }],
        title: format!("Partner offer {n}"),
        description: "Negotiated with the partner".into(),
        kind: "coupon".into(),
        coupon_code: Some(format!("DEMO{n}")),
        audience_scope: "public".into(),
        valid_from: Some(now + Duration::days(7)),
        valid_until: Some(now + Duration::days(120)),
        redemption_cap: Some(1_000),
        ..OfferDraft::default()
    };
    match model {
        "percentage" => d.rate_bps = Some(1_200),
        "fixed_fee" => d.amount = Some("2.50".into()),
        "flat_fee" => d.amount = Some("400".into()),
        _ => {
            d.base_bps = Some(800);
            d.bonus_bps = Some(200);
            d.bonus_threshold = Some(100);
        }
    }
    d
}

/// One thread per status (partners 1–6), opened by `cara`; the accepted one (which makes a
/// draft deal) only when `accept`. Returns how many threads.
pub async fn seed(
    pool: &PgPool,
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    accept: bool,
) -> Result<u64> {
    let desk = Desk::new(pool.clone(), Actor::operator("cara", &[Role::Curator]));
    let plan = [
        ("pending", "percentage"),
        ("negotiating", "hybrid"),
        ("accepted", "fixed_fee"),
        ("rejected", "percentage"),
        ("withdrawn", "flat_fee"),
        ("expired", "percentage"),
    ];
    let mut n = 0;
    for (i, (status, model)) in plan.into_iter().enumerate() {
        if status == "accepted" && !accept {
            continue;
        }
        let partner_id = i as i64 + 1;
        let first = offer(now, i + 1, model);
        let t = desk
            .open_negotiation(&NewThread {
                partner_id,
                deal_id: None,
                subject: format!("{} terms for {}", capital(model), now.format("%B")),
                deadline: Some(now + Duration::days(3 + i as i64 * 2)),
                side: Side::Marketplace,
                message: Some("Here is our proposal for the coming season.".into()),
                offer: Some(first.clone()),
            })
            .await?;
        n += 1;
        if status == "pending" {
            continue;
        }
        desk.post_negotiation_message(t.id, Side::Partner, "Thanks. The rate is too high for us.")
            .await?;
        let mut counter = first.clone();
        match model {
            "percentage" => counter.rate_bps = Some(900),
            "fixed_fee" => counter.amount = Some("1.75".into()),
            "flat_fee" => counter.amount = Some("300".into()),
            _ => counter.base_bps = Some(600),
        }
        counter.benefits.push(Benefit {
            name: "newsletter mention".into(),
            due: Some(now.date_naive() + Duration::days(45)),
        });
        desk.make_offer(
            t.id,
            Side::Partner,
            &counter,
            Some("our counter-proposal"),
            Some(1),
        )
        .await?;
        let mut third = counter.clone();
        match model {
            "percentage" => third.rate_bps = Some(1_000),
            "fixed_fee" => third.amount = Some("2.00".into()),
            "flat_fee" => third.amount = Some("350".into()),
            _ => third.bonus_bps = Some(300),
        }
        third.benefits.retain(|b| b.name != "logo placement");
        desk.make_offer(
            t.id,
            Side::Marketplace,
            &third,
            Some("meeting you half way"),
            Some(2),
        )
        .await?;
        match status {
            "accepted" => {
                let a = desk.accept_offer(t.id, Some(3), None).await?;
                desk.sign_contract(a.contract.id, Side::Marketplace).await?;
            }
            "rejected" => {
                desk.reject_negotiation(t.id, Side::Partner, "the terms do not fit our margins")
                    .await?;
            }
            "withdrawn" => {
                desk.withdraw_negotiation(t.id, Side::Marketplace, "the campaign was cancelled")
                    .await?;
            }
            "expired" => {
                store::negotiations::set_deadline(conn, t.id, now - Duration::days(1)).await?;
                desk.expire_due_negotiations(now).await?;
            }
            _ => {}
        }
    }
    Ok(n)
}

fn capital(model: &str) -> String {
    let s = model.replace('_', " ");
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => s,
    }
}
