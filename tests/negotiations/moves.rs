//! Every allowed and refused status move of a thread, through the services.

use super::common::TestDb;
use super::{offer, thread_with_offer};
use chrono::{Duration, Utc};
use partnerdesk::domain::Role;
use partnerdesk::domain::negotiation::{Side, ThreadStatus};
use partnerdesk::error::Error;
use partnerdesk::service::negotiations::NewThread;

#[tokio::test]
async fn a_partner_reply_moves_pending_to_negotiating_and_own_side_does_not() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let t = thread_with_offer(&db, &desk, "Acme").await;
    assert_eq!(t.status, ThreadStatus::Pending);
    desk.post_negotiation_message(t.id, Side::Marketplace, "Any thoughts?")
        .await
        .unwrap();
    assert_eq!(
        desk.get_negotiation(t.id).await.unwrap().thread.status,
        ThreadStatus::Pending
    );
    desk.make_offer(
        t.id,
        Side::Partner,
        &offer(900),
        Some("lower please"),
        Some(1),
    )
    .await
    .unwrap();
    let v = desk.get_negotiation(t.id).await.unwrap();
    assert_eq!(v.thread.status, ThreadStatus::Negotiating);
    assert_eq!(v.offers.len(), 2);
    assert_eq!(v.turn, Some(Side::Marketplace));
    assert_eq!(v.messages.len(), 2);
    let rows = desk
        .list_negotiations(&Default::default(), 10)
        .await
        .unwrap();
    assert_eq!(rows[0].turn.as_deref(), Some("marketplace"));
    assert_eq!(rows[0].latest_revision, Some(2));
    let none = desk
        .list_negotiations(
            &partnerdesk::service::rows::ThreadFilter {
                text: Some("no such".into()),
                ..Default::default()
            },
            10,
        )
        .await
        .unwrap();
    assert!(none.is_empty());
}

#[tokio::test]
async fn reject_and_withdraw_close_the_thread_and_need_a_reason() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let a = thread_with_offer(&db, &desk, "Alpha").await;
    let e = desk
        .reject_negotiation(a.id, Side::Partner, "  ")
        .await
        .unwrap_err();
    assert!(e.to_string().starts_with("reason: required"), "{e}");
    let r = desk
        .reject_negotiation(a.id, Side::Partner, "too expensive")
        .await
        .unwrap();
    assert_eq!(r.status, ThreadStatus::Rejected);
    let b = thread_with_offer(&db, &desk, "Beta").await;
    let w = desk
        .withdraw_negotiation(b.id, Side::Marketplace, "budget cut")
        .await
        .unwrap();
    assert_eq!(w.status, ThreadStatus::Withdrawn);
    // Every final status refuses every further move.
    for id in [a.id, b.id] {
        for e in [
            desk.reject_negotiation(id, Side::Partner, "x")
                .await
                .unwrap_err(),
            desk.withdraw_negotiation(id, Side::Partner, "x")
                .await
                .unwrap_err(),
            desk.accept_offer(id, None, None).await.unwrap_err(),
            desk.make_offer(id, Side::Partner, &offer(1), None, None)
                .await
                .unwrap_err(),
            desk.post_negotiation_message(id, Side::Partner, "hi")
                .await
                .unwrap_err(),
        ] {
            assert!(e.to_string().contains("was already"), "{e}");
            assert_eq!(e.exit_code(), 3);
        }
    }
}

#[tokio::test]
async fn expiry_moves_overdue_open_threads_once_even_with_two_jobs() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let mut ids = Vec::new();
    for i in 0..6 {
        let t = thread_with_offer(&db, &desk, &format!("Late {i}")).await;
        ids.push(t.id);
    }
    let closed = thread_with_offer(&db, &desk, "Closed").await;
    desk.reject_negotiation(closed.id, Side::Partner, "no")
        .await
        .unwrap();
    let later = Utc::now() + Duration::days(8);
    let (a, b) = tokio::join!(
        desk.expire_due_negotiations(later),
        desk.expire_due_negotiations(later)
    );
    assert_eq!(
        a.unwrap() + b.unwrap(),
        6,
        "each thread expired exactly once"
    );
    assert_eq!(
        desk.expire_due_negotiations(later).await.unwrap(),
        0,
        "idempotent"
    );
    for id in ids {
        let v = desk.get_negotiation(id).await.unwrap();
        assert_eq!(v.thread.status, ThreadStatus::Expired);
    }
    assert_eq!(
        db.count("SELECT count(*) FROM audit_log WHERE action = 'negotiation.expire'")
            .await,
        6
    );
    assert_eq!(
        db.count("SELECT count(*) FROM outbox_events WHERE event_type = 'negotiation.expired'")
            .await,
        6
    );
    let v = desk.get_negotiation(closed.id).await.unwrap();
    assert_eq!(
        v.thread.status,
        ThreadStatus::Rejected,
        "a final thread never expires"
    );
}

#[tokio::test]
async fn opening_is_checked_and_needs_the_curator_or_admin_role() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let t = thread_with_offer(&db, &desk, "Gamma").await;
    let support = db.desk("sam", &[Role::Support]).await;
    let e = support
        .post_negotiation_message(t.id, Side::Marketplace, "hi")
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");
    // Everyone reads.
    assert_eq!(support.get_negotiation(t.id).await.unwrap().thread.id, t.id);
    let e = desk
        .open_negotiation(&NewThread {
            partner_id: t.partner_id,
            deal_id: None,
            subject: "".into(),
            deadline: Some(Utc::now() - Duration::days(1)),
            side: Side::Marketplace,
            message: None,
            offer: None,
        })
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "subject: required; deadline: must be in the future"
    );
    let mut bad = offer(10_001);
    bad.currency = "EURO".into();
    bad.title = String::new();
    let e = desk
        .make_offer(t.id, Side::Partner, &bad, None, None)
        .await
        .unwrap_err();
    let s = e.to_string();
    assert!(s.contains("currency: must be an ISO 4217"), "{s}");
    assert!(s.contains("rate_bps: must be 0–10000"), "{s}");
    assert!(s.contains("title: required"), "{s}");
}

#[tokio::test]
async fn the_list_filters_by_status_partner_and_text_and_pages_by_keyset() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let mut ids = Vec::new();
    for name in ["Alpha", "Beta", "Gamma"] {
        ids.push(thread_with_offer(&db, &desk, name).await);
    }
    desk.reject_negotiation(ids[0].id, Side::Partner, "no")
        .await
        .unwrap();
    let f = |status, partner, text: Option<&str>| partnerdesk::service::rows::ThreadFilter {
        status,
        partner_id: partner,
        text: text.map(str::to_owned),
        after: None,
    };
    let rows = desk
        .list_negotiations(&f(None, None, None), 10)
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].id, ids[0].id, "the most recently updated first");
    let rejected = desk
        .list_negotiations(&f(Some(ThreadStatus::Rejected), None, None), 10)
        .await
        .unwrap();
    assert_eq!(rejected.len(), 1);
    let beta = desk
        .list_negotiations(&f(None, Some(ids[1].partner_id), None), 10)
        .await
        .unwrap();
    assert_eq!(beta[0].partner_name, "Beta");
    let gamma = desk
        .list_negotiations(&f(None, None, Some("gAMMa")), 10)
        .await
        .unwrap();
    assert_eq!(gamma.len(), 1);
    // Keyset pages: two, then the one after the last row.
    let page1 = desk
        .list_negotiations(&f(None, None, None), 2)
        .await
        .unwrap();
    let last = page1.last().unwrap();
    let mut next = f(None, None, None);
    next.after = Some((last.updated_at, last.id));
    let page2 = desk.list_negotiations(&next, 2).await.unwrap();
    assert_eq!(page2.len(), 1);
    assert!(page1.iter().all(|r| r.id != page2[0].id));
}
