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
        term.draw(|f| partnerdesk::console::screen::draw(f, app))
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
    platform.record_redemption(deal.id, m, None).await.unwrap();
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

/// A redemption of `deal` by `member` at `at` (straight into the table, as an import would).
async fn redeem_on(db: &TestDb, deal: i64, member: i64, at: chrono::DateTime<Utc>) {
    sqlx::query(
        "INSERT INTO redemptions (deal_id, member_id, source, coupon_code, redeemed_at)
         SELECT id, $2, 'copy_code', coupon_code, $3 FROM deals WHERE id = $1",
    )
    .bind(deal)
    .bind(member)
    .bind(at)
    .execute(&db.pool)
    .await
    .unwrap();
}

/// Issue 10 item 1: a member's history in the deal's time range holds only that range's rows.
#[tokio::test]
async fn a_members_history_keeps_the_time_range() {
    use chrono::TimeZone;
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let a = active_deal(&desk, "RANGEA").await;
    let b = active_deal(&desk, "RANGEB").await;
    let m = member(&db, "pat", "public", false, None, &[]).await;
    let t = |d: u32, h: u32| Utc.with_ymd_and_hms(2026, 11, d, h, 0, 0).unwrap();
    for (deal, at) in [
        (a.id, t(27, 12)),
        (b.id, t(28, 23)),
        (a.id, t(29, 0)),
        (b.id, t(30, 23)),
        (a.id, t(30, 12)),
    ] {
        redeem_on(&db, deal, m, at).await;
    }
    redeem_on(
        &db,
        a.id,
        m,
        Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap(),
    )
    .await;
    let sam = db.desk("sam", &[Role::Support]).await;
    // from:2026-11-29 to:2026-11-30, whole days: [29th 00:00, 1st 00:00).
    let (from, to) = (
        Some(t(29, 0)),
        Some(Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap()),
    );
    let rows = sam
        .redemptions_of_member(m, from, to, None, 100)
        .await
        .unwrap();
    let got: Vec<_> = rows.iter().map(|r| r.redeemed_at).collect();
    assert_eq!(got, vec![t(30, 23), t(30, 12), t(29, 0)]);
    // Paged inside the range.
    let first = sam
        .redemptions_of_member(m, from, to, None, 2)
        .await
        .unwrap();
    let rest = sam
        .redemptions_of_member(m, from, to, Some(first[1].cursor()), 100)
        .await
        .unwrap();
    assert_eq!(
        rest.iter().map(|r| r.redeemed_at).collect::<Vec<_>>(),
        vec![t(29, 0)]
    );
    // Open ends.
    assert_eq!(
        sam.redemptions_of_member(m, None, None, None, 100)
            .await
            .unwrap()
            .len(),
        6
    );
}

/// Issue 10 item 13: the monitor finds active deals by title or partner name on the server,
/// taking `%` and `_` literally.
#[tokio::test]
async fn the_monitor_finds_deals_by_title_or_partner() {
    use partnerdesk::service::rows::MonitorFilter;
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let coffee = active_deal(&desk, "COFFEE").await;
    let tea = active_deal(&desk, "TEA").await;
    sqlx::query("UPDATE deals SET title = '50% off tea' WHERE id = $1")
        .bind(tea.id)
        .execute(&db.pool)
        .await
        .unwrap();
    let sam = db.desk("sam", &[Role::Support]).await;
    let find = |text: &str| {
        let filter = MonitorFilter {
            text: text.into(),
            deal_id: None,
        };
        let sam = sam.clone();
        async move {
            sam.monitor_deals(&filter, None, 50, Utc::now())
                .await
                .unwrap()
                .iter()
                .map(|r| r.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(find("").await, vec![tea.id, coffee.id]);
    assert_eq!(find("coffee").await, vec![coffee.id], "the title, any case");
    assert_eq!(
        find("partner tea").await,
        vec![tea.id],
        "the partner's name"
    );
    assert_eq!(find("50%").await, vec![tea.id]);
    assert_eq!(find("5_%").await, Vec::<i64>::new(), "_ is not a wildcard");
    assert_eq!(find("nothing like it").await, Vec::<i64>::new());
    // One deal, as a deal that has just become active is fetched.
    let one = MonitorFilter {
        text: String::new(),
        deal_id: Some(coffee.id),
    };
    let rows = sam.monitor_deals(&one, None, 1, Utc::now()).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].per_minute.len(), 60);
}

/// Issue 10 item 2: the minute bars are clock minutes, the last one being the current minute.
#[tokio::test]
async fn the_monitor_bars_are_clock_minutes() {
    use chrono::TimeZone;
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let deal = active_deal(&desk, "CLOCK").await;
    let m = member(&db, "pat", "public", false, None, &[]).await;
    let now = Utc.with_ymd_and_hms(2026, 11, 29, 10, 30, 40).unwrap();
    let at = |h: u32, mi: u32, s: u32| Utc.with_ymd_and_hms(2026, 11, 29, h, mi, s).unwrap();
    // This minute (10:30), the one before (10:29:59), the oldest shown (09:31:00), too old.
    for t in [at(10, 30, 1), at(10, 29, 59), at(9, 31, 0), at(9, 30, 59)] {
        redeem_on(&db, deal.id, m, t).await;
    }
    let sam = db.desk("sam", &[Role::Support]).await;
    let rows = sam
        .monitor_deals(&Default::default(), None, 50, now)
        .await
        .unwrap();
    let r = rows.iter().find(|r| r.id == deal.id).unwrap();
    assert_eq!(r.minute, Some(at(10, 30, 0)));
    assert_eq!(
        (r.per_minute[59], r.per_minute[58], r.per_minute[0]),
        (1, 1, 1)
    );
    assert_eq!(r.per_minute.iter().sum::<u64>(), 3);
}

/// Issue 10 item 2: a deal activated, paused or expired by anyone is announced, and the
/// monitor on screen gains or loses it with no key pressed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deals_entering_and_leaving_the_active_set_reach_the_monitor() {
    use partnerdesk::console::app::{App, ConnState, Session};
    use partnerdesk::console::msg::{LoadMode, Msg, Notice, TaskCtx};
    use partnerdesk::console::panes::redemptions;
    use partnerdesk::domain::DealState;

    let db = TestDb::new().await;
    let desk = db.curator().await;
    let shown = active_deal(&desk, "SHOWN").await;
    let p = verified_partner(&desk, "Later", "later.example").await;
    let draft = desk
        .create_deal(&coupon_draft(p.id, "LATER"))
        .await
        .unwrap();

    let support = db.desk("sam", &[Role::Support]).await;
    let mut app = App::new(
        partnerdesk::console::keymap::Keymap::builtin(),
        partnerdesk::console::theme::Theme::builtin("default").unwrap(),
        Session {
            operator: "sam".into(),
            roles: "support".into(),
            registered: true,
            read_only: false,
            database: "test".into(),
        },
    );
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
    let ids = |app: &App| {
        app.panes
            .redemptions
            .monitor
            .rows
            .iter()
            .map(|r| r.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&app), vec![shown.id]);

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    partnerdesk::console::runtime::spawn_listener(support.clone(), tx.clone());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await; // LISTEN is in place
    // The deal-state notices (the audit log's change notices are another test's).
    let next = async |rx: &mut tokio::sync::mpsc::UnboundedReceiver<Msg>| loop {
        let msg = tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv())
            .await
            .expect("a NOTIFY arrives")
            .unwrap();
        if !matches!(msg, Msg::Notice(Notice::Changed(_))) {
            return msg;
        }
    };
    let ctx = TaskCtx {
        tx,
        vetting: Default::default(),
        thresholds: Default::default(),
    };

    // Another session activates the draft: announced, fetched, shown.
    let other = db.curator().await;
    other
        .change_deal_state(draft.id, None, DealState::Active, None)
        .await
        .unwrap();
    let msg = next(&mut rx).await;
    assert!(
        matches!(msg, Msg::Notice(Notice::DealState { deal_id, active: true }) if deal_id == draft.id),
        "{msg:?}"
    );
    let fx = app.update(msg);
    let [Some(e)] = fx
        .iter()
        .map(|e| e.pane::<redemptions::Effect>())
        .collect::<Vec<_>>()[..]
    else {
        panic!("the pane fetches the deal: {fx:?}");
    };
    assert!(matches!(e, redemptions::Effect::MonitorDeal { deal_id, .. } if *deal_id == draft.id));
    for fx in fx {
        let answer = partnerdesk::console::runtime::execute(support.clone(), fx, ctx.clone())
            .await
            .unwrap();
        app.update(answer);
    }
    assert_eq!(ids(&app), vec![draft.id, shown.id]);

    // It is paused elsewhere: it leaves the monitor.
    other
        .change_deal_state(draft.id, None, DealState::Paused, None)
        .await
        .unwrap();
    let msg = next(&mut rx).await;
    assert!(
        matches!(msg, Msg::Notice(Notice::DealState { deal_id, active: false }) if deal_id == draft.id),
        "{msg:?}"
    );
    assert!(app.update(msg).is_empty());
    assert_eq!(ids(&app), vec![shown.id]);

    // The expiry job ends the other one.
    sqlx::query("UPDATE deals SET valid_until = now() - interval '1 second', valid_from = now() - interval '2 days' WHERE id = $1")
        .bind(shown.id)
        .execute(&db.pool)
        .await
        .unwrap();
    assert_eq!(desk.expire_due_deals(Utc::now()).await.unwrap(), 1);
    let msg = next(&mut rx).await;
    app.update(msg);
    assert_eq!(ids(&app), Vec::<i64>::new());
}
