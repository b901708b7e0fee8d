//! Agreement versions: their rules, which version a period uses, and computing every
//! agreement due at once.

use super::{Fixture, percentage};
use partnerdesk::domain::terms::TermsDraft;

#[tokio::test]
async fn an_agreement_starts_on_a_period_start_and_names_bad_fields() {
    let f = Fixture::new().await;
    let e = f
        .finance
        .add_agreement(
            f.partner_id,
            &percentage(500, "EUR"),
            "2026-10-02".parse().unwrap(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "from: must be the first day of a monthly period, such as 2026-10-01 or 2026-11-01"
    );
    let bad = TermsDraft {
        model: "percentage".into(),
        rate_bps: Some(12_000),
        currency: "EURO".into(),
        frequency: "weekly".into(),
        ..Default::default()
    };
    let e = f
        .finance
        .add_agreement(f.partner_id, &bad, "2026-10-01".parse().unwrap())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("currency: must be an ISO 4217 currency code"),
        "{e}"
    );
    assert!(e.contains("rate_bps: must be 0–10000 basis points"), "{e}");
    assert!(e.contains("frequency:"), "{e}");
    let quarterly = TermsDraft {
        frequency: "quarterly".into(),
        ..percentage(500, "EUR")
    };
    let e = f
        .finance
        .add_agreement(f.partner_id, &quarterly, "2026-11-01".parse().unwrap())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("2026-10-01 or 2027-01-01"), "{e}");
    assert_eq!(f.db.count("SELECT count(*) FROM agreements").await, 0);
    // A support operator may not add terms.
    let support =
        f.db.desk("sam", &[partnerdesk::domain::Role::Support])
            .await;
    assert!(
        support
            .add_agreement(
                f.partner_id,
                &percentage(500, "EUR"),
                "2026-10-01".parse().unwrap()
            )
            .await
            .is_err()
    );
}

#[tokio::test]
async fn each_period_uses_the_version_in_effect() {
    let f = Fixture::new().await;
    let v1 = f.agreement(percentage(500, "EUR"), "2026-07-01").await;
    let v2 = f.agreement(percentage(800, "EUR"), "2026-09-01").await;
    assert_eq!((v1.version, v2.version), (1, 2));
    f.redemption("2026-08-15T10:00:00Z", Some((1000, "EUR")))
        .await;
    f.redemption("2026-09-15T10:00:00Z", Some((1000, "EUR")))
        .await;
    // August is v1's (5% of 10.00), September v2's (8%).
    let aug = f
        .finance
        .compute_settlement(v1.id, "2026-08")
        .await
        .unwrap();
    assert_eq!(aug.commission_minor, 50);
    let sep = f
        .finance
        .compute_settlement(v2.id, "2026-09")
        .await
        .unwrap();
    assert_eq!(sep.commission_minor, 80);
    let e = f
        .finance
        .compute_settlement(v1.id, "2026-09")
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "agreement {} (version 1) is not in effect for 2026-09: version 2 (agreement {}) is, from 2026-09-01",
            v1.id, v2.id
        )
    );
    let e = f
        .finance
        .compute_settlement(v2.id, "2026-Q3")
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "period: agreement {} settles monthly: give a month such as 2026-07",
            v2.id
        )
    );
    // A new version may not start under a statement already in review.
    f.finance.review_settlement(sep.id, None).await.unwrap();
    let e = f
        .finance
        .add_agreement(
            f.partner_id,
            &percentage(900, "EUR"),
            "2026-09-01".parse().unwrap(),
        )
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("a new version may start from 2026-10-01 at the earliest"),
        "{e}"
    );
}

#[tokio::test]
async fn compute_all_settles_every_agreement_due_and_leaves_reviewed_ones_alone() {
    let f = Fixture::new().await;
    let admin = f.db.admin().await;
    // Three more partners: monthly, quarterly (due with September), annual (not due).
    let mut partners = Vec::new();
    for (i, freq) in ["monthly", "quarterly", "annual"].iter().enumerate() {
        let d = common_deal(&admin, &format!("ALL{i}")).await;
        let draft = TermsDraft {
            frequency: (*freq).into(),
            ..percentage(1000, "EUR")
        };
        let from = if *freq == "monthly" {
            "2026-09-01"
        } else {
            "2026-01-01"
        };
        f.finance
            .add_agreement(d.partner_id, &draft, from.parse().unwrap())
            .await
            .unwrap();
        partners.push(d);
    }
    let mine = f.agreement(percentage(1000, "EUR"), "2026-09-01").await;
    f.redemption("2026-09-05T10:00:00Z", Some((1000, "EUR")))
        .await;
    let r = f.finance.compute_due("2026-09").await.unwrap();
    // Monthly: the fixture's and ALL0's; quarterly Q3: ALL1's; the annual one is not due.
    assert_eq!(r.computed.len(), 3, "{r:?}");
    assert!(r.skipped.is_empty());
    let mine_s = r
        .computed
        .iter()
        .find(|s| s.agreement_id == mine.id)
        .unwrap();
    assert_eq!(mine_s.commission_minor, 100);
    let q = r
        .computed
        .iter()
        .find(|s| s.partner_id == partners[1].partner_id)
        .unwrap();
    assert_eq!(
        (q.period_start.to_string(), q.period_end.to_string()),
        ("2026-07-01".into(), "2026-10-01".into())
    );
    // Once one is in review, computing again leaves it alone and says so.
    f.finance.review_settlement(mine_s.id, None).await.unwrap();
    let r = f.finance.compute_due("2026-09").await.unwrap();
    assert_eq!(r.computed.len(), 2);
    assert_eq!(r.skipped.len(), 1);
    assert_eq!(r.skipped[0].settlement_id, mine_s.id);
    assert_eq!(r.skipped[0].status.as_str(), "in_review");
}

async fn common_deal(
    admin: &partnerdesk::service::Desk,
    code: &str,
) -> partnerdesk::store::deals::Deal {
    super::common::active_deal(admin, code).await
}
