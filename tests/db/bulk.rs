//! Bulk actions against real PostgreSQL (issue 24): each row through the single service call
//! in its own transaction — refusals of one row leave the others done, a refused permission
//! writes nothing, a cancel stops between rows, a dry run commits nothing, and runs at once
//! never apply a row twice.

use crate::common::*;
use partnerdesk::Error;
use partnerdesk::domain::{DealState, FlagKind, Role};
use partnerdesk::service::bulk::{BulkAction, Target};
use partnerdesk::service::{Actor, Desk};
use partnerdesk::store::deals::Deal;
use std::sync::atomic::{AtomicBool, Ordering};

fn pause() -> BulkAction {
    BulkAction::DealPause { reason: None }
}

fn no_progress(_: usize, _: usize) {}

/// `n` active deals of one verified partner.
async fn active_deals(desk: &Desk, n: usize) -> Vec<Deal> {
    let p = verified_partner(desk, "Bulk Partner", "bulk.example").await;
    let mut deals = Vec::with_capacity(n);
    for i in 0..n {
        let mut d = coupon_draft(p.id, &format!("BULK{i}"));
        d.state = Some("active".into());
        deals.push(desk.create_deal(&d).await.expect("create active deal"));
    }
    deals
}

/// Each deal as the operator saw it.
fn seen(deals: &[Deal]) -> Vec<Target> {
    deals
        .iter()
        .map(|d| Target {
            id: d.id,
            version: Some(d.version),
        })
        .collect()
}

/// The deal ids with a `deal.pause` audit row, and those with a `deal.paused` event, sorted.
async fn paused_records(db: &TestDb) -> (Vec<i64>, Vec<i64>) {
    let audit: Vec<i64> = sqlx::query_scalar(
        "SELECT entity_id::bigint FROM audit_log WHERE action = 'deal.pause' ORDER BY 1",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let events: Vec<i64> = sqlx::query_scalar(
        "SELECT entity_id::bigint FROM outbox_events WHERE event_type = 'deal.paused' ORDER BY 1",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    (audit, events)
}

async fn state_of(db: &TestDb, id: i64) -> String {
    sqlx::query_scalar("SELECT state FROM deals WHERE id = $1")
        .bind(id)
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_bulk_pause_refuses_only_the_deal_changed_since_it_was_seen() {
    let db = TestDb::new().await;
    let ada = db.admin().await;
    let deals = active_deals(&ada, 5).await;
    let targets = seen(&deals);
    // Somebody else pauses and resumes the third one after the operator saw it.
    let other = db.curator().await;
    let stale = deals[2].id;
    let p = other
        .change_deal_state(stale, None, DealState::Paused, None)
        .await
        .unwrap();
    other
        .change_deal_state(stale, Some(p.version), DealState::Active, None)
        .await
        .unwrap();
    let before = paused_records(&db).await.0.len();
    assert_eq!(before, 1, "the other operator's own pause");

    let cancel = AtomicBool::new(false);
    let r = ada
        .bulk(&pause(), &targets, &no_progress, &cancel, false)
        .await
        .unwrap();

    let others: Vec<i64> = deals.iter().map(|d| d.id).filter(|&i| i != stale).collect();
    assert_eq!(r.done, others);
    assert_eq!(r.refused, vec![(stale, "changed elsewhere".to_owned())]);
    assert!(r.not_tried.is_empty());
    assert_eq!(
        r.summary(),
        format!("4 paused, 1 refused: #{stale} changed elsewhere")
    );
    assert_eq!(state_of(&db, stale).await, "active");
    for id in &others {
        assert_eq!(state_of(&db, *id).await, "paused");
    }
    let (audit, events) = paused_records(&db).await;
    let mut expected = others.clone();
    expected.push(stale);
    expected.sort();
    assert_eq!(
        audit, expected,
        "one pause row per deal paused, and the earlier one"
    );
    assert_eq!(
        events, expected,
        "one event per deal paused, and the earlier one"
    );
    let by_ada = db
        .count("SELECT count(*) FROM audit_log WHERE action = 'deal.pause' AND actor = 'ada'")
        .await;
    assert_eq!(by_ada, 4);
}

#[tokio::test]
async fn a_bulk_pause_says_which_deal_is_already_expired_and_pauses_the_rest() {
    let db = TestDb::new().await;
    let ada = db.admin().await;
    let deals = active_deals(&ada, 5).await;
    let gone = deals[4].id;
    let p = ada
        .change_deal_state(gone, None, DealState::Paused, None)
        .await
        .unwrap();
    ada.change_deal_state(gone, Some(p.version), DealState::Expired, None)
        .await
        .unwrap();
    let targets: Vec<Target> = deals.iter().map(|d| Target::id(d.id)).collect();
    let cancel = AtomicBool::new(false);
    let r = ada
        .bulk(&pause(), &targets, &no_progress, &cancel, false)
        .await
        .unwrap();
    assert_eq!(r.done.len(), 4);
    assert_eq!(r.refused, vec![(gone, "already expired".to_owned())]);
    assert_eq!(
        r.summary(),
        format!("4 paused, 1 refused: #{gone} already expired")
    );
    assert_eq!(state_of(&db, gone).await, "expired");
}

#[tokio::test]
async fn an_operator_who_may_not_pause_deals_is_refused_once_and_nothing_is_written() {
    let db = TestDb::new().await;
    let ada = db.admin().await;
    let deals = active_deals(&ada, 3).await;
    let targets: Vec<Target> = deals.iter().map(|d| Target::id(d.id)).collect();
    let audit = db.audit_count().await;
    let events = db.count("SELECT count(*) FROM outbox_events").await;
    let cancel = AtomicBool::new(false);

    let sam = db.desk("sam", &[Role::Support]).await;
    let e = sam
        .bulk(&pause(), &targets, &no_progress, &cancel, false)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        "sam may not author and change deals: it needs the curator or admin role",
        "one clear line naming the role it needs"
    );

    let mut watcher = Actor::operator("ada", &[Role::Admin]);
    watcher.read_only = true;
    let read_only = ada.as_actor(watcher);
    let e = read_only
        .bulk(&pause(), &targets, &no_progress, &cancel, true)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::ReadOnly { .. }), "{e}");

    assert_eq!(db.audit_count().await, audit);
    assert_eq!(db.count("SELECT count(*) FROM outbox_events").await, events);
    for d in &deals {
        assert_eq!(state_of(&db, d.id).await, "active");
    }
}

#[tokio::test]
async fn a_cancel_set_after_three_rows_leaves_the_rest_not_tried() {
    let db = TestDb::new().await;
    let ada = db.admin().await;
    let deals = active_deals(&ada, 7).await;
    let targets: Vec<Target> = deals.iter().map(|d| Target::id(d.id)).collect();
    let cancel = AtomicBool::new(false);
    let calls = std::sync::Mutex::new(Vec::new());
    let progress = |done: usize, total: usize| {
        calls.lock().unwrap().push((done, total));
        if done == 3 {
            cancel.store(true, Ordering::SeqCst);
        }
    };
    let r = ada
        .bulk(&pause(), &targets, &progress, &cancel, false)
        .await
        .unwrap();
    let ids: Vec<i64> = deals.iter().map(|d| d.id).collect();
    assert_eq!(r.done, ids[..3]);
    assert_eq!(r.not_tried, ids[3..]);
    assert!(r.refused.is_empty());
    assert_eq!(r.summary(), "3 paused, 4 not tried (cancelled)");
    assert_eq!(*calls.lock().unwrap(), vec![(1, 7), (2, 7), (3, 7)]);
    assert_eq!(paused_records(&db).await.0, ids[..3]);
    assert_eq!(state_of(&db, ids[3]).await, "active");
}

#[tokio::test]
async fn a_dry_run_reports_what_would_be_refused_and_commits_nothing() {
    let db = TestDb::new().await;
    let ada = db.admin().await;
    let deals = active_deals(&ada, 4).await;
    let mut targets = seen(&deals);
    targets[1].version = Some(deals[1].version + 1);
    targets.push(Target::id(999_999));
    let audit = db.audit_count().await;
    let events = db.count("SELECT count(*) FROM outbox_events").await;
    let cancel = AtomicBool::new(false);
    let r = ada
        .bulk(&pause(), &targets, &no_progress, &cancel, true)
        .await
        .unwrap();
    assert!(r.dry_run);
    assert_eq!(r.done, vec![deals[0].id, deals[2].id, deals[3].id]);
    assert_eq!(
        r.refused,
        vec![
            (deals[1].id, "changed elsewhere".to_owned()),
            (999_999, "not found".to_owned())
        ]
    );
    assert_eq!(
        r.summary(),
        format!(
            "would pause 3, 2 refused: #{} changed elsewhere, #999999 not found",
            deals[1].id
        )
    );
    assert_eq!(db.audit_count().await, audit);
    assert_eq!(db.count("SELECT count(*) FROM outbox_events").await, events);
    for d in &deals {
        assert_eq!(state_of(&db, d.id).await, "active");
    }
}

#[tokio::test]
async fn eight_bulk_pauses_at_once_pause_each_deal_exactly_once() {
    let db = TestDb::with_connections(24).await;
    let ada = db.admin().await;
    let deals = active_deals(&ada, 20).await;
    let targets: Vec<Target> = deals.iter().map(|d| Target::id(d.id)).collect();
    let runs = (0..8).map(|i| {
        let desk = ada.clone();
        let mut targets = targets.clone();
        // Half the runs go through the rows backwards, so they meet in the middle.
        if i % 2 == 1 {
            targets.reverse();
        }
        tokio::spawn(async move {
            let cancel = AtomicBool::new(false);
            desk.bulk(&pause(), &targets, &no_progress, &cancel, false)
                .await
        })
    });
    let reports: Vec<_> = futures::future::join_all(runs)
        .await
        .into_iter()
        .map(|r| r.expect("task").expect("bulk run"))
        .collect();
    let mut done: Vec<i64> = reports.iter().flat_map(|r| r.done.clone()).collect();
    done.sort();
    let mut ids: Vec<i64> = deals.iter().map(|d| d.id).collect();
    ids.sort();
    assert_eq!(done, ids, "every deal paused by exactly one run");
    for r in &reports {
        assert_eq!(r.done.len() + r.refused.len(), 20);
        assert!(r.refused.iter().all(|(_, why)| why == "already paused"));
    }
    let (audit, events) = paused_records(&db).await;
    assert_eq!(audit, ids, "one pause audit row per deal");
    assert_eq!(events, ids, "one paused event per deal");
}

#[tokio::test]
async fn a_bulk_flag_flags_each_redemption_once_and_names_the_one_flagged_already() {
    let db = TestDb::new().await;
    let cara = db.curator().await;
    let deal = active_deal(&cara, "FLAGS").await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let m = member(&db, &format!("fm{i}"), "public", false, None, &[]).await;
        ids.push(cara.record_redemption(deal.id, m, None).await.unwrap().id);
    }
    let sam = db.desk("sam", &[Role::Support]).await;
    sam.flag_redemption(ids[1], FlagKind::Dispute, "asked first")
        .await
        .unwrap();
    let flag = BulkAction::RedemptionFlag {
        kind: FlagKind::Fraud,
        note: "code posted on a forum".into(),
    };
    let targets: Vec<Target> = ids.iter().map(|&i| Target::id(i)).collect();
    let cancel = AtomicBool::new(false);
    let r = sam
        .bulk(&flag, &targets, &no_progress, &cancel, false)
        .await
        .unwrap();
    assert_eq!(r.done, vec![ids[0], ids[2]]);
    assert_eq!(
        r.refused,
        vec![(ids[1], "already flagged (dispute)".to_owned())]
    );
    assert_eq!(
        db.count("SELECT count(*) FROM audit_log WHERE action = 'redemption.flag'")
            .await,
        3
    );
    let unflag = BulkAction::RedemptionUnflag {
        reason: "resolved with the partner".into(),
    };
    let r = sam
        .bulk(&unflag, &targets, &no_progress, &cancel, false)
        .await
        .unwrap();
    assert_eq!(r.summary(), "3 unflagged");
}

#[tokio::test]
async fn a_bulk_refund_refunds_each_redemption_once_and_names_the_one_refunded_already() {
    let db = TestDb::new().await;
    let cara = db.curator().await;
    let deal = active_deal(&cara, "REFUNDS").await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let m = member(&db, &format!("rm{i}"), "public", false, None, &[]).await;
        ids.push(cara.record_redemption(deal.id, m, None).await.unwrap().id);
    }
    let fin = db.desk("fin", &[Role::Finance]).await;
    fin.refund_redemption(ids[2], "returned first")
        .await
        .unwrap();
    let refund = BulkAction::RedemptionRefund {
        reason: "order returned".into(),
    };
    let targets: Vec<Target> = ids.iter().map(|&i| Target::id(i)).collect();
    let cancel = AtomicBool::new(false);
    // A curator may not refund: refused once, nothing written.
    let e = cara
        .bulk(&refund, &targets, &no_progress, &cancel, false)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("may not"), "{e}");
    let r = fin
        .bulk(&refund, &targets, &no_progress, &cancel, false)
        .await
        .unwrap();
    assert_eq!(r.done, vec![ids[0], ids[1]]);
    assert_eq!(r.refused, vec![(ids[2], "already refunded".to_owned())]);
    assert_eq!(
        r.summary(),
        format!("2 refunded, 1 refused: #{} already refunded", ids[2])
    );
    assert_eq!(
        db.count("SELECT count(*) FROM audit_log WHERE action = 'redemption.refund'")
            .await,
        3
    );
    assert_eq!(
        db.count("SELECT count(*) FROM redemptions WHERE refunded_at IS NOT NULL")
            .await,
        3
    );
}

#[tokio::test]
async fn a_bulk_disable_pauses_each_partners_active_deals_in_its_own_step() {
    let db = TestDb::new().await;
    let ada = db.admin().await;
    let a = active_deal(&ada, "DISA").await;
    let b = active_deal(&ada, "DISB").await;
    let pending = ada
        .create_partner(&partner_draft("Pending", "pending.example"))
        .await
        .unwrap();
    let action = BulkAction::PartnerDisable {
        reason: "contract ended".into(),
    };
    let targets = [
        Target::id(a.partner_id),
        Target::id(pending.id),
        Target::id(b.partner_id),
    ];
    let cancel = AtomicBool::new(false);
    let r = ada
        .bulk(&action, &targets, &no_progress, &cancel, false)
        .await
        .unwrap();
    assert_eq!(
        r.summary(),
        format!("2 disabled, 1 refused: #{} is pending", pending.id)
    );
    assert_eq!(state_of(&db, a.id).await, "paused");
    assert_eq!(state_of(&db, b.id).await, "paused");
    assert_eq!(
        db.count(
            "SELECT count(*) FROM audit_log WHERE action = 'partner.disable' AND reason = 'contract ended'"
        )
        .await,
        2
    );
}
