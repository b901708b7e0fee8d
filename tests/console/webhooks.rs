//! The Audit pane's webhook view (issue 15) over real services, a fresh database, a real relay
//! and real local HTTP receivers: endpoints with their deliveries counted, an endpoint's
//! deliveries, a delivery's attempts and event, replaying a delivery and an event and
//! disabling an endpoint through confirmations (the database checked), and who may see it.

use super::common::{self, TestDb};
use super::render;
use super::settlements::{console, drive, press, typed};
use chrono::{TimeZone, Utc};
use crossterm::event::KeyCode;
use partnerdesk::console::action::Action;
use partnerdesk::console::app::{App, Overlay};
use partnerdesk::console::panes::PaneId;
use partnerdesk::console::panes::audit::Focus;
use partnerdesk::console::view;
use partnerdesk::domain::Role;
use partnerdesk::domain::webhook::Addresses;
use partnerdesk::service::Desk;
use partnerdesk::service::relay::RelayConfig;
use std::time::Duration;

#[path = "../webhooks/receiver.rs"]
#[allow(dead_code)]
mod receiver;
use receiver::Receiver;

/// Two endpoints (one answering 200 and taking every event, one answering 500 and taking
/// partner events only), three partners verified, and one relay pass: the first endpoint
/// has every event delivered, the second its partner events waiting for a retry.
async fn setup(db: &TestDb) -> (Desk, Receiver, Receiver) {
    let admin = db.admin().await;
    let ok = Receiver::answering(200).await;
    let failing = Receiver::answering(500).await;
    // The receivers are local: loopback is allowed, as the config file may allow it.
    let local = Addresses::AllowPrivate;
    admin
        .add_webhook(&ok.url(), &[], local.clone())
        .await
        .expect("endpoint 1");
    admin
        .add_webhook(
            &failing.url(),
            &["partner.verified".to_owned()],
            local.clone(),
        )
        .await
        .expect("endpoint 2");
    for (name, domain) in [
        ("Bluebird Travel", "bluebird.example"),
        ("Cedar Books", "cedar.example"),
        ("Dune Outdoor", "dune.example"),
    ] {
        common::verified_partner(&admin, name, domain).await;
    }
    let cfg = RelayConfig {
        once: true,
        timeout: Duration::from_secs(5),
        lease: Duration::from_secs(30),
        addresses: local,
        ..RelayConfig::default()
    };
    admin
        .run_relay(&cfg, std::future::pending())
        .await
        .expect("relay");
    (admin, ok, failing)
}

/// Times and addresses made the same on every run (the rows as loaded).
fn pin(app: &mut App) {
    let at = |m: u32| Utc.with_ymd_and_hms(2026, 11, 20, 9, m, 0).unwrap();
    view::pin_now(Some(at(30)));
    let h = &mut app.panes.audit.hooks;
    for (i, r) in h.endpoints.rows.iter_mut().enumerate() {
        r.endpoint.url = format!("https://hooks{}.example/partnerdesk", i + 1);
        r.endpoint.failing_since = r.endpoint.failing_since.map(|_| at(5));
    }
    for d in h.deliveries.rows.iter_mut() {
        d.next_attempt_at = at(15);
        d.delivered_at = d.delivered_at.map(|_| at(10));
    }
}

async fn open_view(app: &mut App, desk: &Desk) {
    let fx = app.perform(Action::Webhooks);
    drive(app, desk, fx).await;
}

#[tokio::test]
async fn endpoints_deliveries_and_attempts_as_the_admin_sees_them() {
    let db = TestDb::new().await;
    let (admin, ok, failing) = setup(&db).await;
    assert!(ok.count() > 0 && failing.count() == 3, "the relay ran");
    let mut app = console(&admin, false);

    open_view(&mut app, &admin).await;
    assert_eq!(app.pane, PaneId::Audit);
    let h = &app.panes.audit.hooks;
    assert_eq!(h.endpoints.rows.len(), 2);
    let first = &h.endpoints.rows[0];
    let delivered = db
        .count("SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = 1 AND status = 'delivered'")
        .await;
    assert_eq!((first.delivered, first.pending), (delivered, 0));
    assert_eq!(
        h.deliveries.rows.len() as i64,
        delivered,
        "endpoint 1's deliveries"
    );
    pin(&mut app);
    insta::assert_snapshot!("webhooks_endpoints_120x40", render(&mut app, 120, 40));
    insta::assert_snapshot!("webhooks_endpoints_80x24", render(&mut app, 80, 24));

    // The second endpoint: three partner events, each tried once and answered 500.
    let fx = press(&mut app, KeyCode::Char('j'));
    drive(&mut app, &admin, fx).await;
    let h = &app.panes.audit.hooks;
    assert_eq!(h.endpoint_id, Some(2));
    assert_eq!(h.deliveries.rows.len(), 3);
    assert!(
        h.deliveries
            .rows
            .iter()
            .all(|d| d.status == "pending" && d.attempts == 1 && d.last_status == Some(500)),
        "{:?}",
        h.deliveries.rows
    );
    let fx = press(&mut app, KeyCode::Enter);
    drive(&mut app, &admin, fx).await;
    assert_eq!(app.panes.audit.hooks.focus, Focus::Deliveries);
    let fx = press(&mut app, KeyCode::Enter);
    drive(&mut app, &admin, fx).await;
    let s = render(&mut app, 120, 40);
    assert!(s.contains("Delivery "), "{s}");
    assert!(s.contains("partner.verified"), "{s}");
    assert!(s.contains("attempts"), "{s}");
    assert!(s.contains(" 1. "), "one attempt listed:\n{s}");
    assert!(s.contains("500"), "its status:\n{s}");
    assert!(s.contains("\"to\": \"verified\""), "the payload:\n{s}");
    // At 80×24 the partner's payload outgrows the box: it scrolls with the list keys and the
    // border says where it is, as every detail view does.
    let s = render(&mut app, 80, 24);
    let at = |s: &str| {
        s.lines()
            .find_map(|l| {
                let (_, rest) = l.split_once("└")?;
                let t = rest.trim_end_matches(['─', '┘', ' ']);
                let t = t.trim_start_matches('─').trim();
                t.contains(" of ").then(|| t.to_owned())
            })
            .unwrap_or_else(|| panic!("a position on the border:\n{s}"))
    };
    let first = at(&s);
    assert!(first.starts_with("1–"), "{first}");
    press(&mut app, KeyCode::Char('G'));
    let s = render(&mut app, 80, 24);
    let last = at(&s);
    let total = last.rsplit(' ').next().unwrap().to_owned();
    assert!(last.ends_with(&format!("–{total} of {total}")), "{last}");
    assert!(s.contains('}'), "the payload's end is shown:\n{s}");
    press(&mut app, KeyCode::Char('g'));
    assert_eq!(at(&render(&mut app, 80, 24)), first);
    render(&mut app, 120, 40);

    // Esc steps back: the delivery, the deliveries, then the log.
    press(&mut app, KeyCode::Esc);
    assert!(!app.panes.audit.hooks.delivery.open);
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.panes.audit.hooks.focus, Focus::Endpoints);
    let fx = press(&mut app, KeyCode::Esc);
    drive(&mut app, &admin, fx).await;
    assert!(!app.panes.audit.hooks.open);
    let s = render(&mut app, 120, 40);
    assert!(s.contains("Audit log"), "{s}");
}

#[tokio::test]
async fn replaying_and_disabling_ask_first_then_write() {
    let db = TestDb::new().await;
    let (admin, _ok, _failing) = setup(&db).await;
    let mut app = console(&admin, false);
    open_view(&mut app, &admin).await;
    // The first endpoint's newest delivery, delivered.
    let fx = press(&mut app, KeyCode::Enter);
    drive(&mut app, &admin, fx).await;
    let d = app.panes.audit.hooks.deliveries.rows[0].clone();
    assert_eq!(d.status, "delivered");
    let replays = "SELECT count(*) FROM audit_log WHERE action = 'webhook.replay'";

    // R: a confirmation whose safe answer is first; Enter on it does nothing.
    press(&mut app, KeyCode::Char('R'));
    let Overlay::Confirm(c) = &app.overlay else {
        panic!("a confirmation:\n{}", render(&mut app, 80, 24));
    };
    assert_eq!(c.title, format!("Send delivery {} again?", d.id));
    assert_eq!(c.selected, 0);
    let fx = press(&mut app, KeyCode::Enter);
    drive(&mut app, &admin, fx).await;
    assert_eq!(db.count(replays).await, 0);

    press(&mut app, KeyCode::Char('R'));
    app.perform(Action::ToggleChoice);
    let fx = app.perform(Action::Confirm);
    drive(&mut app, &admin, fx).await;
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM webhook_deliveries WHERE id = {} AND status = 'pending'
                AND attempts = 0 AND delivered_at IS NULL",
            d.id
        ))
        .await,
        1
    );
    assert_eq!(db.count(replays).await, 1);
    assert_eq!(
        app.toasts.last().unwrap().text,
        format!(
            "delivery {} queued again: event {} ({}) to endpoint 1",
            d.id, d.event_id, d.event_type
        )
    );
    assert_eq!(
        app.panes.audit.hooks.deliveries.rows[0].status, "pending",
        "the list reloaded"
    );

    // E on a partner.verified event: both endpoints take it.
    let ev: i64 =
        sqlx::query_scalar("SELECT max(event_id) FROM webhook_deliveries WHERE endpoint_id = 2")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    let row = app
        .panes
        .audit
        .hooks
        .deliveries
        .rows
        .iter()
        .position(|r| r.event_id == ev)
        .expect("the event's delivery to endpoint 1");
    app.panes.audit.hooks.deliveries.selected = row;
    press(&mut app, KeyCode::Char('E'));
    let Overlay::Confirm(c) = &app.overlay else {
        panic!("a confirmation:\n{}", render(&mut app, 80, 24));
    };
    assert_eq!(c.title, format!("Send event {ev} again?"));
    app.perform(Action::ToggleChoice);
    let fx = app.perform(Action::Confirm);
    drive(&mut app, &admin, fx).await;
    assert_eq!(
        app.toasts.last().unwrap().text,
        format!("event {ev} queued again for endpoints 1, 2")
    );
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM webhook_deliveries WHERE event_id = {ev} AND attempts = 0"
        ))
        .await,
        2
    );
    assert_eq!(db.count(replays).await, 3);

    // D on the second endpoint: a reason, then it is disabled with it.
    press(&mut app, KeyCode::Esc);
    let fx = app.perform(Action::Down);
    drive(&mut app, &admin, fx).await;
    press(&mut app, KeyCode::Char('D'));
    assert!(matches!(app.overlay, Overlay::Prompt(_)), "a reason first");
    typed(&mut app, "receiver down for maintenance");
    let fx = press(&mut app, KeyCode::Enter);
    drive(&mut app, &admin, fx).await;
    assert_eq!(
        db.count(
            "SELECT count(*) FROM webhook_endpoints WHERE id = 2 AND NOT enabled
                AND disabled_reason = 'receiver down for maintenance'"
        )
        .await,
        1
    );
    let s = render(&mut app, 120, 40);
    assert!(s.contains("disabled: receiver down for maintenance"), "{s}");

    // D again: enabling is confirmed.
    press(&mut app, KeyCode::Char('D'));
    let Overlay::Confirm(c) = &app.overlay else {
        panic!("a confirmation:\n{}", render(&mut app, 80, 24));
    };
    assert_eq!(c.title, "Enable endpoint 2?");
    app.perform(Action::ToggleChoice);
    let fx = app.perform(Action::Confirm);
    drive(&mut app, &admin, fx).await;
    assert_eq!(
        db.count("SELECT count(*) FROM webhook_endpoints WHERE id = 2 AND enabled")
            .await,
        1
    );
}

#[tokio::test]
async fn a_read_only_admin_sees_and_others_are_told_who_may() {
    let db = TestDb::new().await;
    let (admin, _ok, _failing) = setup(&db).await;

    // Read-only: the view opens; replaying and disabling are nowhere.
    let mut app = console(&admin, true);
    open_view(&mut app, &admin).await;
    assert_eq!(app.panes.audit.hooks.endpoints.rows.len(), 2);
    let fx = press(&mut app, KeyCode::Enter);
    drive(&mut app, &admin, fx).await;
    assert!(!app.panes.audit.hooks.deliveries.rows.is_empty());
    press(&mut app, KeyCode::Char('R'));
    assert!(matches!(app.overlay, Overlay::None), "no confirmation");
    for a in [
        Action::ReplayDelivery,
        Action::ReplayEvent,
        Action::ToggleEndpoint,
    ] {
        assert!(!app.palette_actions().contains(&a), "{a} in the palette");
    }
    assert!(app.palette_actions().contains(&Action::Webhooks));

    // A curator: not offered in the palette; the key says who may.
    let curator = db.desk("cara", &[Role::Curator]).await;
    let mut app = console(&curator, false);
    assert!(!app.palette_actions().contains(&Action::Webhooks));
    let fx = app.perform(Action::Webhooks);
    assert!(fx.is_empty());
    assert_ne!(app.pane, PaneId::Audit);
    assert_eq!(
        app.toasts.last().unwrap().text,
        "cara may not view webhook endpoints and deliveries: it needs the admin role"
    );
    // And the service refuses whatever the console offers.
    let err = curator.webhooks().await.unwrap_err().to_string();
    assert!(err.contains("admin"), "{err}");
}

#[tokio::test]
async fn a_change_made_elsewhere_shows_and_redemptions_do_not_reload() {
    use partnerdesk::console::msg::{Changed, Msg, Notice};
    let db = TestDb::new().await;
    let (admin, _ok, _failing) = setup(&db).await;
    let mut app = console(&admin, false);
    open_view(&mut app, &admin).await;
    assert!(app.panes.audit.hooks.endpoints.rows[0].endpoint.enabled);

    // A redemption stream writes no event: the view does not read again.
    let fx = app.update(Msg::Notice(Notice::Changed(Changed::Redemption)));
    assert!(fx.is_empty(), "{fx:?}");

    // Another session disables endpoint 1: its audit row announces it.
    let other = db.desk("ola", &[Role::Admin]).await;
    other
        .disable_webhook(1, Some("rotating the receiver"))
        .await
        .unwrap();
    let fx = app.update(Msg::Notice(Notice::Changed(Changed::Other)));
    drive(&mut app, &admin, fx).await;
    let e = &app.panes.audit.hooks.endpoints.rows[0].endpoint;
    assert!(!e.enabled);
    let s = render(&mut app, 120, 40);
    assert!(s.contains("disabled: rotating the receiver"), "{s}");
}
