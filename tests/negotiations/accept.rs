//! Acceptance: only the latest revision, only by the other side, only before the deadline,
//! exactly once under concurrency; it creates one agreement version, one contract and one
//! draft deal, or nothing.

use super::common::TestDb;
use super::{offer, thread_with_offer};
use chrono::{Datelike, Utc};
use partnerdesk::domain::DealState;
use partnerdesk::domain::contract::{ContractStatus, snapshot_hash};
use partnerdesk::domain::negotiation::{Side, ThreadStatus};

async fn created(db: &TestDb) -> (i64, i64, i64) {
    (
        db.count("SELECT count(*) FROM agreements").await,
        db.count("SELECT count(*) FROM contracts").await,
        db.count("SELECT count(*) FROM deals").await,
    )
}

#[tokio::test]
async fn accepting_creates_one_agreement_contract_and_draft_deal() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let t = thread_with_offer(&db, &desk, "Acme").await;
    desk.make_offer(t.id, Side::Partner, &offer(1000), None, Some(1))
        .await
        .unwrap();
    let a = desk.accept_offer(t.id, Some(2), None).await.unwrap();
    assert_eq!(
        a.side,
        Side::Marketplace,
        "the side that did not make revision 2"
    );
    assert_eq!(a.thread.status, ThreadStatus::Accepted);
    assert_eq!(created(&db).await, (1, 1, 1));
    assert_eq!(a.agreement.version, 1);
    assert_eq!(a.agreement.rate_bps, Some(1000));
    assert_eq!(a.agreement.take_rate_bps, 1500, "the default take rate");
    let eff = a.agreement.effective_from;
    assert_eq!(eff.day(), 1);
    assert!(eff > Utc::now().date_naive(), "from the next period start");
    assert_eq!(a.deal.state, DealState::Draft);
    assert_eq!(a.deal.coupon_code.as_deref(), Some("SPRING10"));
    assert_eq!(a.deal.redemption_cap, Some(500));
    assert_eq!(a.contract.status, ContractStatus::Draft);
    assert_eq!(
        a.contract.snapshot_hash,
        snapshot_hash(&a.contract.snapshot)
    );
    assert_eq!(a.contract.deal_id, a.deal.id);
    let view = desk.get_contract(a.contract.id).await.unwrap();
    assert_eq!(view.benefits.len(), 1);
    assert_eq!(view.benefits[0].name, "logo placement");
    for (action, n) in [
        ("negotiation.accept", 1),
        ("agreement.create", 1),
        ("contract.create", 1),
        ("deal.create", 1),
    ] {
        let got = db
            .count(&format!(
                "SELECT count(*) FROM audit_log WHERE action = '{action}'"
            ))
            .await;
        assert_eq!(got, n, "{action}");
    }
    for ev in [
        "negotiation.accepted",
        "agreement.created",
        "contract.created",
        "deal.created",
    ] {
        let got = db
            .count(&format!(
                "SELECT count(*) FROM outbox_events WHERE event_type = '{ev}'"
            ))
            .await;
        assert_eq!(got, 1, "{ev}");
    }
}

#[tokio::test]
async fn a_stale_revision_own_revision_and_late_acceptance_are_refused_and_create_nothing() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let t = thread_with_offer(&db, &desk, "Acme").await;
    desk.make_offer(t.id, Side::Partner, &offer(1000), None, None)
        .await
        .unwrap();
    let e = desk.accept_offer(t.id, Some(1), None).await.unwrap_err();
    assert!(
        e.to_string()
            .contains("revision 1 of negotiation 1 is no longer the latest: cara made revision 2 for the partner side"),
        "{e}"
    );
    let e = desk
        .accept_offer(t.id, None, Some(Side::Partner))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("cannot accept its own offer"), "{e}");
    sqlx::query(
        "UPDATE negotiation_threads SET deadline = now() - interval '1 minute' WHERE id = $1",
    )
    .bind(t.id)
    .execute(&db.pool)
    .await
    .unwrap();
    let e = desk.accept_offer(t.id, None, None).await.unwrap_err();
    assert!(e.to_string().contains("passed its deadline"), "{e}");
    assert_eq!(e.exit_code(), 3);
    assert_eq!(created(&db).await, (0, 0, 0));
    let v = desk.get_negotiation(t.id).await.unwrap();
    assert_eq!(v.thread.status, ThreadStatus::Negotiating);
}

#[tokio::test]
async fn a_failure_part_way_rolls_back_everything() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let t = thread_with_offer(&db, &desk, "Acme").await;
    // The contract insert (after the agreement and the deal) fails.
    sqlx::query("ALTER TABLE contracts ADD CONSTRAINT sabotage CHECK (false) NOT VALID")
        .execute(&db.pool)
        .await
        .unwrap();
    let audits = db.audit_count().await;
    desk.accept_offer(t.id, None, None).await.unwrap_err();
    assert_eq!(created(&db).await, (0, 0, 0));
    assert_eq!(db.audit_count().await, audits);
    let v = desk.get_negotiation(t.id).await.unwrap();
    assert_eq!(v.thread.status, ThreadStatus::Pending);
}

#[tokio::test]
async fn many_accepting_at_once_exactly_one_wins() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let other = db.admin().await;
    let t = thread_with_offer(&db, &desk, "Acme").await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let d = if i % 2 == 0 {
            desk.clone()
        } else {
            other.clone()
        };
        let id = t.id;
        tasks.push(tokio::spawn(async move {
            d.accept_offer(id, Some(1), None).await
        }));
    }
    // And one counter-offer racing them.
    let counter = {
        let d = desk.clone();
        let id = t.id;
        tokio::spawn(async move {
            d.make_offer(id, Side::Partner, &offer(800), None, Some(1))
                .await
        })
    };
    let mut wins = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => wins += 1,
            Err(e) => {
                let s = e.to_string();
                assert!(
                    s.contains("was already accepted by") || s.contains("is no longer the latest"),
                    "{s}"
                );
                assert_eq!(e.exit_code(), 3);
            }
        }
    }
    let countered = counter.await.unwrap().is_ok();
    if countered {
        assert_eq!(wins, 0, "revision 1 was superseded before any acceptance");
        assert_eq!(created(&db).await, (0, 0, 0));
    } else {
        assert_eq!(wins, 1);
        assert_eq!(created(&db).await, (1, 1, 1));
    }
}

#[tokio::test]
async fn a_second_acceptance_for_a_partner_is_its_next_agreement_version() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let t = thread_with_offer(&db, &desk, "Acme").await;
    let a = desk.accept_offer(t.id, None, None).await.unwrap();
    let t2 = desk
        .open_negotiation(&partnerdesk::service::negotiations::NewThread {
            partner_id: t.partner_id,
            deal_id: Some(a.deal.id),
            subject: "Renewal".into(),
            deadline: Some(Utc::now() + chrono::Duration::days(3)),
            side: Side::Partner,
            message: None,
            offer: Some(offer(700)),
        })
        .await
        .unwrap();
    let b = desk.accept_offer(t2.id, None, None).await.unwrap();
    assert_eq!(b.side, Side::Marketplace);
    assert_eq!(b.agreement.version, 2);
    assert_eq!(
        desk.partner_agreements(t.partner_id).await.unwrap().len(),
        2
    );
}
