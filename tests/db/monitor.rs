//! The support monitor: counts per minute and the three signals, against real rows.

use crate::common::*;
use chrono::{Duration, Utc};
use partnerdesk::domain::Role;
use partnerdesk::store::monitor::Thresholds;

async fn redeem_at(db: &TestDb, deal: i64, member: i64, minutes_ago: i64) {
    sqlx::query(
        "INSERT INTO redemptions (deal_id, member_id, source, coupon_code, redeemed_at)
         SELECT id, $2, CASE kind WHEN 'coupon' THEN 'copy_code' ELSE 'outbound_click' END, coupon_code,
                now() - make_interval(mins => $3::int)
           FROM deals WHERE id = $1",
    )
    .bind(deal)
    .bind(member)
    .bind(minutes_ago as i32)
    .execute(&db.pool)
    .await
    .unwrap();
    sqlx::query("UPDATE deals SET redemption_count = redemption_count + 1 WHERE id = $1")
        .bind(deal)
        .execute(&db.pool)
        .await
        .unwrap();
}

#[tokio::test]
async fn the_monitor_counts_each_minute_of_the_last_hour() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let deal = active_deal(&desk, "SPARK").await;
    let m = member(&db, "pat", "public", false, None, &[]).await;
    for ago in [0, 0, 1, 30, 59, 61, 300] {
        redeem_at(&db, deal.id, m, ago).await;
    }
    let support = db.desk("sam", &[Role::Support]).await;
    let rows = support
        .monitor_deals(&Default::default(), None, 50, Utc::now())
        .await
        .unwrap();
    let row = rows.iter().find(|r| r.id == deal.id).unwrap();
    assert_eq!(row.redemption_count, 7);
    assert_eq!(row.per_minute.len(), 60);
    assert_eq!(
        row.per_minute.iter().sum::<u64>(),
        5,
        "{:?}",
        row.per_minute
    );
    assert_eq!(row.per_minute[59], 2);
    assert_eq!(row.per_minute[58], 1);
    assert_eq!(row.per_minute[0], 1);
}

#[tokio::test]
async fn a_burst_by_one_member_is_a_signal_and_a_spread_is_not() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let a = active_deal(&desk, "BURSTA").await;
    let b = active_deal(&desk, "BURSTB").await;
    let sharer = member(&db, "sharer", "public", false, None, &[]).await;
    let regular = member(&db, "regular", "public", false, None, &[]).await;
    for (i, ago) in [1, 2, 3, 4, 5].iter().enumerate() {
        redeem_at(&db, if i % 2 == 0 { a.id } else { b.id }, sharer, *ago).await;
    }
    for ago in [10, 100, 200, 300, 400] {
        redeem_at(&db, a.id, regular, ago).await;
    }
    let s = db
        .desk("sam", &[Role::Support])
        .await
        .signals(&Thresholds::default(), Utc::now())
        .await
        .unwrap();
    assert_eq!(s.bursts.len(), 1, "{:?}", s.bursts);
    assert_eq!(s.bursts[0].handle, "sharer");
    assert_eq!(s.bursts[0].redemptions, 5);
    let mut deals = vec![a.id, b.id];
    deals.sort();
    assert_eq!(s.bursts[0].deals, deals);
}

#[tokio::test]
async fn a_cap_reached_minutes_after_publishing_is_a_signal() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let p = verified_partner(&desk, "Quick", "quick.example").await;
    let make = |code: &str| {
        let mut d = coupon_draft(p.id, code);
        d.state = Some("active".into());
        d.redemption_cap = Some(3);
        d
    };
    let fast = desk.create_deal(&make("FAST")).await.unwrap();
    let slow = desk.create_deal(&make("SLOW")).await.unwrap();
    sqlx::query("UPDATE deals SET published_at = now() - interval '2 hours' WHERE id IN ($1, $2)")
        .bind(fast.id)
        .bind(slow.id)
        .execute(&db.pool)
        .await
        .unwrap();
    let m = member(&db, "pat", "public", false, None, &[]).await;
    for ago in [119, 118, 115] {
        redeem_at(&db, fast.id, m, ago).await;
    }
    for ago in [119, 60, 5] {
        redeem_at(&db, slow.id, m, ago).await;
    }
    let s = desk
        .signals(&Thresholds::default(), Utc::now())
        .await
        .unwrap();
    let ids: Vec<i64> = s.quick_caps.iter().map(|q| q.deal_id).collect();
    assert_eq!(ids, vec![fast.id]);
    assert!(s.quick_caps[0].exhausted_at - s.quick_caps[0].published_at < Duration::minutes(10));
}

#[tokio::test]
async fn clicks_without_confirmed_conversions_are_a_signal_until_the_partner_confirms() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let p = verified_partner(&desk, "Clicky", "clicky.example").await;
    let mut d = coupon_draft(p.id, "X");
    d.kind = "link".into();
    d.coupon_code = None;
    d.redemption_url = Some("https://clicky.example/go".into());
    d.state = Some("active".into());
    let link = desk.create_deal(&d).await.unwrap();
    sqlx::query("UPDATE deals SET redemption_count = 60 WHERE id = $1")
        .bind(link.id)
        .execute(&db.pool)
        .await
        .unwrap();
    let t = Thresholds::default();
    let s = desk.signals(&t, Utc::now()).await.unwrap();
    assert_eq!(s.low_conversions.len(), 1);
    assert_eq!(
        (s.low_conversions[0].clicks, s.low_conversions[0].confirmed),
        (60, None)
    );

    // Curators may not enter the partner's tally; support may, and it is audited.
    assert!(desk.set_confirmed_conversions(link.id, 30).await.is_err());
    let support = db.desk("sam", &[Role::Support]).await;
    support.set_confirmed_conversions(link.id, 3).await.unwrap();
    assert_eq!(
        support
            .signals(&t, Utc::now())
            .await
            .unwrap()
            .low_conversions[0]
            .confirmed,
        Some(3)
    );
    support
        .set_confirmed_conversions(link.id, 30)
        .await
        .unwrap();
    assert!(
        support
            .signals(&t, Utc::now())
            .await
            .unwrap()
            .low_conversions
            .is_empty()
    );
    assert_eq!(
        db.count("SELECT count(*) FROM audit_log WHERE action = 'deal.conversions'")
            .await,
        2
    );
    // Coupon deals have no conversions to confirm; negative counts are refused.
    let coupon = active_deal(&desk, "NOCONV").await;
    assert_eq!(
        support
            .set_confirmed_conversions(coupon.id, 1)
            .await
            .unwrap_err()
            .to_string(),
        "confirmed: only link deals have conversions to confirm"
    );
    assert_eq!(
        support
            .set_confirmed_conversions(link.id, -1)
            .await
            .unwrap_err()
            .to_string(),
        "confirmed: a whole number, 0 or more"
    );
}

/// The monitor on screen changes when another connection records a redemption (NOTIFY).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_monitor_redraws_when_another_connection_records_a_redemption() {
    use partnerdesk::console::app::{App, ConnState, Session};
    use partnerdesk::console::msg::{LoadMode, Msg, Notice};
    use partnerdesk::console::panes::redemptions;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    let db = TestDb::new().await;
    let desk = db.curator().await;
    let deal = active_deal(&desk, "LIVE").await;
    let m = member(&db, "pat", "public", false, None, &[]).await;

    let session = Session {
        operator: "sam".into(),
        roles: "support".into(),
        registered: true,
        read_only: false,
        database: "test".into(),
    };
    let mut app = App::new(
        partnerdesk::console::keymap::Keymap::builtin(),
        partnerdesk::console::theme::Theme::builtin("default").unwrap(),
        session,
    );
    let support = db.desk("sam", &[Role::Support]).await;
    app.actor = Some(support.actor().clone());
    app.conn = ConnState::Connected;
    app.perform(partnerdesk::console::action::Action::PaneRedemptions);
    let tag = app.panes.redemptions.monitor.tag;
    let rows = support
        .monitor_deals(&Default::default(), None, 50, Utc::now())
        .await
        .unwrap();
    app.update(Msg::from(redemptions::Msg::Monitor {
        tag,
        mode: LoadMode::Replace,
        result: Ok(rows),
    }));
    let screen = |app: &mut App| {
        let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();
        term.draw(|f| partnerdesk::console::view::draw(f, app))
            .unwrap();
        let buf = term.backend().buffer().clone();
        (0..40u16)
            .map(|y| {
                (0..120u16)
                    .map(|x| buf[(x, y)].symbol().to_owned())
                    .collect::<String>()
            })
            .find(|l| l.contains("Deal LIVE"))
            .unwrap()
    };
    let before = screen(&mut app);
    assert!(before.contains(" 0 "), "{before}");

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    partnerdesk::console::runtime::spawn_listener(support.clone(), tx);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await; // LISTEN is in place
    // Another connection (the platform) records a redemption.
    let platform = partnerdesk::Desk::for_operator(db.pool.clone(), "storefront", true)
        .await
        .unwrap();
    platform.record_redemption(deal.id, m).await.unwrap();
    let msg = tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv())
        .await
        .expect("a NOTIFY arrives")
        .unwrap();
    assert!(
        matches!(msg, Msg::Notice(Notice::DealCount { deal_id, count: 1 }) if deal_id == deal.id),
        "{msg:?}"
    );
    app.update(msg);
    let after = screen(&mut app);
    assert_ne!(before, after);
    assert!(after.contains(" 1 ") && after.contains('█'), "{after}");
}
