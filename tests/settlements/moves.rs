//! The status machine, the review window, the partner's tally, the payout ledger (append-only,
//! reversals) and exactly-once approval.

use super::{Fixture, percentage};
use partnerdesk::domain::Role;
use partnerdesk::error::Error;
use partnerdesk::service::rows::Settlement;

/// A computed September statement of 2 lines: 10.00 and 20.00 at 10% → 1.00 + 2.00 = 3.00.
async fn september(f: &Fixture) -> Settlement {
    let a = f.agreement(percentage(1000, "EUR"), "2026-09-01").await;
    f.redemption("2026-09-10T10:00:00Z", Some((1000, "EUR")))
        .await;
    f.redemption("2026-09-11T10:00:00Z", Some((2000, "EUR")))
        .await;
    f.finance.compute_settlement(a.id, "2026-09").await.unwrap()
}

fn refused(e: Error) -> String {
    match e {
        Error::Refused(m) => m,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn every_move_allowed_and_refused() {
    let f = Fixture::new().await;
    let s = september(&f).await;
    let id = s.id;
    let d = &f.finance;
    // From draft: no approve, dispute or pay.
    assert_eq!(
        refused(d.approve_settlement(id, None).await.unwrap_err()),
        format!("settlement {id} is draft; approve needs in_review")
    );
    assert!(d.dispute_settlement(id, "why").await.is_err());
    assert!(d.pay_settlement(id, "TX-1", None).await.is_err());

    let r = d.review_settlement(id, None).await.unwrap();
    assert_eq!(r.status.as_str(), "in_review");
    let deadline = r.review_deadline.unwrap();
    let days = (deadline - chrono::Utc::now()).num_hours();
    assert!(
        (167..=168).contains(&days),
        "deadline in 7 days: {deadline}"
    );
    // In review: no recompute, no second review, no pay.
    assert_eq!(
        refused(
            d.compute_settlement(s.agreement_id, "2026-09")
                .await
                .unwrap_err()
        ),
        format!("settlement {id} is in_review; recompute needs draft or disputed")
    );
    assert!(d.review_settlement(id, None).await.is_err());
    assert!(d.pay_settlement(id, "TX-1", None).await.is_err());

    // Disputed from review, then recomputed back to draft.
    let disputed = d.dispute_settlement(id, "partner counts 3").await.unwrap();
    assert_eq!(disputed.status.as_str(), "disputed");
    assert_eq!(disputed.dispute_reason.as_deref(), Some("partner counts 3"));
    assert!(d.approve_settlement(id, None).await.is_err());
    let back = d
        .compute_settlement(s.agreement_id, "2026-09")
        .await
        .unwrap();
    assert_eq!((back.id, back.status.as_str()), (id, "draft"));
    assert_eq!(back.review_deadline, None);

    d.review_settlement(id, None).await.unwrap();
    let approved = d.approve_settlement(id, None).await.unwrap();
    assert_eq!(approved.status.as_str(), "approved");
    assert_eq!(approved.approved_by.as_deref(), Some("fin"));
    assert!(d.review_settlement(id, None).await.is_err());
    assert!(
        d.compute_settlement(s.agreement_id, "2026-09")
            .await
            .is_err()
    );

    let paid = d
        .pay_settlement(id, "SEPA-2026-10-0042", None)
        .await
        .unwrap();
    assert_eq!(paid.status.as_str(), "paid");
    assert_eq!(paid.payment_reference.as_deref(), Some("SEPA-2026-10-0042"));
    // Paid is final.
    assert!(d.dispute_settlement(id, "late").await.is_err());
    assert!(d.pay_settlement(id, "again", None).await.is_err());
    assert!(d.enter_tally(id, 2, "3.00").await.is_err());
    assert!(
        d.compute_settlement(s.agreement_id, "2026-09")
            .await
            .is_err()
    );

    // Ledger: the approval (+3.00 due from the partner), then the payment (−3.00).
    let ledger: Vec<(String, i64, Option<String>)> = sqlx::query_as(
        "SELECT kind, amount_minor, reference FROM payout_ledger WHERE settlement_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(&f.db.pool)
    .await
    .unwrap();
    assert_eq!(
        ledger,
        [
            ("approval".into(), 300, None),
            ("payment".into(), -300, Some("SEPA-2026-10-0042".into()))
        ]
    );
    // Each move left its audit row.
    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_log WHERE entity_type = 'settlement' AND entity_id = $1 ORDER BY id",
    )
    .bind(id.to_string())
    .fetch_all(&f.db.pool)
    .await
    .unwrap();
    assert_eq!(
        actions,
        [
            "settlement.compute",
            "settlement.review",
            "settlement.dispute",
            "settlement.compute",
            "settlement.review",
            "settlement.approve",
            "settlement.pay"
        ]
    );
}

#[tokio::test]
async fn disputing_an_approved_settlement_reverses_its_ledger_entry() {
    let f = Fixture::new().await;
    let s = september(&f).await;
    let d = &f.finance;
    d.review_settlement(s.id, None).await.unwrap();
    d.approve_settlement(s.id, None).await.unwrap();
    d.dispute_settlement(s.id, "double-counted order 17")
        .await
        .unwrap();
    let ledger: Vec<(i64, String, i64, Option<i64>)> =
        sqlx::query_as("SELECT id, kind, amount_minor, reverses_id FROM payout_ledger ORDER BY id")
            .fetch_all(&f.db.pool)
            .await
            .unwrap();
    assert_eq!(ledger.len(), 2);
    assert_eq!((ledger[0].1.as_str(), ledger[0].2), ("approval", 300));
    assert_eq!(
        (ledger[1].1.as_str(), ledger[1].2, ledger[1].3),
        ("reversal", -300, Some(ledger[0].0))
    );
    // The partner's balance over the ledger is back to zero; approving again adds a new entry.
    f.redemption("2026-09-12T10:00:00Z", Some((500, "EUR")))
        .await;
    d.compute_settlement(s.agreement_id, "2026-09")
        .await
        .unwrap();
    d.review_settlement(s.id, None).await.unwrap();
    d.approve_settlement(s.id, None).await.unwrap();
    assert_eq!(
        f.db.count("SELECT sum(amount_minor)::bigint FROM payout_ledger")
            .await,
        350
    );
}

#[tokio::test]
async fn the_ledger_refuses_updates_and_deletes() {
    let f = Fixture::new().await;
    let s = september(&f).await;
    f.finance.review_settlement(s.id, None).await.unwrap();
    f.finance.approve_settlement(s.id, None).await.unwrap();
    for sql in [
        "UPDATE payout_ledger SET amount_minor = 1",
        "DELETE FROM payout_ledger",
    ] {
        let e = sqlx::query(sql).execute(&f.db.pool).await.unwrap_err();
        assert!(
            e.to_string().contains("payout_ledger is append-only"),
            "{sql}: {e}"
        );
    }
    assert_eq!(f.db.count("SELECT count(*) FROM payout_ledger").await, 1);
}

#[tokio::test]
async fn two_dozen_operators_approving_at_once_approve_exactly_once() {
    let f = Fixture::new().await;
    let s = september(&f).await;
    f.finance.review_settlement(s.id, None).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..24 {
        let desk = f.db.desk(&format!("fin{i}"), &[Role::Finance]).await;
        tasks.push(tokio::spawn(async move {
            desk.approve_settlement(s.id, None).await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(e) => assert!(
                e.to_string()
                    .contains("is approved; approve needs in_review"),
                "{e}"
            ),
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(f.db.count("SELECT count(*) FROM payout_ledger").await, 1);
    assert_eq!(
        f.db.count("SELECT count(*) FROM audit_log WHERE action = 'settlement.approve'")
            .await,
        1
    );
}

#[tokio::test]
async fn exceptions_need_a_note_to_go_to_review_and_a_tally_gap_needs_one_to_approve() {
    let f = Fixture::new().await;
    let s = september(&f).await;
    f.redemption("2026-09-20T10:00:00Z", None).await;
    let s2 = f
        .finance
        .compute_settlement(s.agreement_id, "2026-09")
        .await
        .unwrap();
    assert_eq!(s2.exception_count, 1);
    let e = f.finance.review_settlement(s.id, None).await.unwrap_err();
    assert!(
        e.to_string()
            .contains("note: required: 1 redemption could not be priced"),
        "{e}"
    );
    let r = f
        .finance
        .review_settlement(s.id, Some("order 20 has no value: partner to confirm"))
        .await
        .unwrap();
    assert_eq!(
        r.review_note.as_deref(),
        Some("order 20 has no value: partner to confirm")
    );

    // The partner counts 3 redemptions and 3.50: ours are 2 and 3.00.
    let t = f.finance.enter_tally(s.id, 3, "3.50").await.unwrap();
    assert_eq!((t.tally_count, t.tally_amount_minor), (Some(3), Some(350)));
    let v = f.finance.settlement(s.id).await.unwrap();
    let d = v.discrepancy.unwrap();
    assert_eq!((d.count, d.amount_minor), (1, 50));
    let e = f.finance.approve_settlement(s.id, None).await.unwrap_err();
    assert!(e.to_string().contains("tally differs"), "{e}");
    assert!(e.to_string().contains("0.50 EUR"), "{e}");
    // Bad tallies name the field.
    let e = f.finance.enter_tally(s.id, -1, "3.50").await.unwrap_err();
    assert!(e.to_string().contains("count: must be 0 or more"), "{e}");
    let e = f.finance.enter_tally(s.id, 3, "3.505").await.unwrap_err();
    assert!(
        e.to_string().contains("amount: EUR has 2 decimal places"),
        "{e}"
    );
    f.finance
        .approve_settlement(s.id, Some("no-value order confirmed void"))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_period_still_running_cannot_go_to_review() {
    let f = Fixture::new().await;
    let a = f.agreement(percentage(1000, "EUR"), "2026-01-01").await;
    let this_month = chrono::Utc::now().format("%Y-%m").to_string();
    let s = f
        .finance
        .compute_settlement(a.id, &this_month)
        .await
        .unwrap();
    let e = f.finance.review_settlement(s.id, None).await.unwrap_err();
    assert!(e.to_string().contains("once its period is over"), "{e}");
    let next = (chrono::Utc::now() + chrono::Duration::days(40))
        .format("%Y-%m")
        .to_string();
    let e = f.finance.compute_settlement(a.id, &next).await.unwrap_err();
    assert!(e.to_string().contains("has not started yet"), "{e}");
}

#[tokio::test]
async fn curators_read_settlements_and_finance_acts() {
    let f = Fixture::new().await;
    let s = september(&f).await;
    let curator = f.db.curator().await;
    assert_eq!(
        curator.settlement(s.id).await.unwrap().settlement().id,
        s.id
    );
    let e = curator.review_settlement(s.id, None).await.unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e:?}");
    let support = f.db.desk("sam", &[Role::Support]).await;
    assert!(matches!(
        support.settlement(s.id).await.unwrap_err(),
        Error::Forbidden { .. }
    ));
    let admin = f.db.admin().await;
    admin.review_settlement(s.id, None).await.unwrap();
}
