//! Negotiations (issue 12) against real PostgreSQL: one fresh database per test.

#[path = "../db/common.rs"]
#[allow(dead_code)]
mod common;

mod accept;
mod diff;
mod moves;
mod pane;
mod records;
mod roles;

use chrono::{Duration, Utc};
use common::TestDb;
use partnerdesk::domain::negotiation::{Benefit, OfferDraft, Side};
use partnerdesk::service::Desk;
use partnerdesk::service::negotiations::NewThread;
use partnerdesk::service::rows::Thread;

/// A valid percentage offer for a coupon deal.
pub fn offer(rate_bps: i64) -> OfferDraft {
    // One instant for every offer of the run (an hour ahead, whole minutes): two offers made
    // either side of a minute's turn must not differ in their window.
    static BASE: std::sync::OnceLock<chrono::DateTime<Utc>> = std::sync::OnceLock::new();
    let now = *BASE.get_or_init(|| {
        use chrono::{DurationRound, TimeDelta};
        (Utc::now() + Duration::hours(1))
            .duration_trunc(TimeDelta::minutes(1))
            .unwrap_or_else(|_| Utc::now())
    });
    OfferDraft {
        model: "percentage".into(),
        rate_bps: Some(rate_bps),
        currency: "EUR".into(),
        frequency: "monthly".into(),
        benefits: vec![Benefit {
            name: "logo placement".into(),
            due: Some(now.date_naive() + Duration::days(20)),
        }],
        title: "Spring coupon".into(),
        description: "Ten percent off".into(),
        kind: "coupon".into(),
        coupon_code: Some("SPRING10".into()),
        audience_scope: "public".into(),
        valid_from: Some(now),
        valid_until: Some(now + Duration::days(60)),
        redemption_cap: Some(500),
        ..OfferDraft::default()
    }
}

/// A thread opened by the marketplace with a first offer (revision 1), for a fresh partner.
pub async fn thread_with_offer(db: &TestDb, desk: &Desk, name: &str) -> Thread {
    let domain = format!("{}.example", name.to_ascii_lowercase().replace(' ', "-"));
    let p = common::verified_partner(desk, name, &domain).await;
    let _ = db;
    desk.open_negotiation(&NewThread {
        partner_id: p.id,
        deal_id: None,
        subject: format!("Terms for {name}"),
        deadline: Some(Utc::now() + Duration::days(7)),
        side: Side::Marketplace,
        message: Some("Our proposal".into()),
        offer: Some(offer(1200)),
    })
    .await
    .expect("open thread")
}
