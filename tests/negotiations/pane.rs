//! The Negotiations pane over real services: the list, a thread's timeline with the
//! difference between revisions, and accepting from the console.

use crate::common::TestDb;
use crate::{offer, thread_with_offer};
use partnerdesk::console::action::Action;
use partnerdesk::console::app::{App, ConnState, Overlay, Session};
use partnerdesk::console::msg::{Effect, Msg, TaskCtx};
use partnerdesk::console::runtime;
use partnerdesk::domain::negotiation::Side;
use partnerdesk::service::Desk;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn screen(app: &mut App) -> String {
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
        .collect::<Vec<_>>()
        .join("\n")
}

/// A connected console acting as `desk`'s operator.
fn console(desk: &Desk) -> App {
    let session = Session {
        operator: desk.actor().login.clone(),
        roles: desk.actor().roles_text(),
        registered: true,
        read_only: false,
        database: "test".into(),
    };
    let mut app = App::new(
        partnerdesk::console::keymap::Keymap::builtin(),
        partnerdesk::console::theme::Theme::builtin("default").unwrap(),
        session,
    );
    app.actor = Some(desk.actor().clone());
    app.conn = ConnState::Connected;
    app
}

/// Runs the effects as the console's runtime would, feeding the answers back.
async fn drive(app: &mut App, desk: &Desk, fx: Vec<Effect>) {
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let ctx = TaskCtx {
        tx,
        vetting: Default::default(),
        thresholds: Default::default(),
    };
    let mut queue: std::collections::VecDeque<Effect> = fx.into();
    while let Some(e) = queue.pop_front() {
        if matches!(
            e,
            Effect::ExpiryJob | Effect::TrackForm(_) | Effect::Copy { .. }
        ) {
            continue;
        }
        if let Some(msg) = runtime::execute(desk.clone(), e, ctx.clone()).await {
            queue.extend(app.update(msg));
        }
    }
}

#[tokio::test]
async fn the_pane_lists_shows_the_difference_and_accepts() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let thread = thread_with_offer(&db, &desk, "Aster Books").await;
    // The partner counters (recorded on its behalf) with a lower rate and a message.
    desk.make_offer(thread.id, Side::Partner, &offer(1000), None, Some(1))
        .await
        .unwrap();
    desk.post_negotiation_message(thread.id, Side::Partner, "Ten percent works for us.")
        .await
        .unwrap();

    let mut app = console(&desk);
    let fx = app.perform(Action::PaneNegotiations);
    drive(&mut app, &desk, fx).await;
    let s = screen(&mut app);
    let row = s
        .lines()
        .find(|l| l.contains("Terms for Aster Books"))
        .unwrap();
    assert!(row.contains("negotiating"), "{row}");
    assert!(row.contains("r2 by partner"), "{row}");
    assert!(row.contains("marketplace"), "the marketplace's turn: {row}");

    // The thread's timeline: revision 2 as its difference from revision 1.
    let fx = app.perform(Action::Open);
    drive(&mut app, &desk, fx).await;
    let s = screen(&mut app);
    assert!(s.contains("made revision 1"), "{s}");
    assert!(
        s.contains("made revision 2 for the partner (on its behalf)"),
        "{s}"
    );
    assert!(s.contains("12% → 10%"), "the rate's change: {s}");
    assert!(s.contains("Ten percent works for us."), "{s}");

    // `a` accepts for the side that did not make the latest revision, after saying what it
    // creates.
    let key = crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char('a'),
        crossterm::event::KeyModifiers::NONE,
    );
    app.update(Msg::Terminal(crossterm::event::Event::Key(key)));
    let Overlay::Confirm(c) = &app.shell.overlay else {
        panic!("a confirmation: {}", screen(&mut app));
    };
    assert_eq!(
        c.body[0],
        "Accept revision 2 (made by the partner) for the marketplace."
    );
    assert!(c.body.iter().any(|l| l.contains("a draft deal")));
    let fx = app.perform(Action::ToggleChoice);
    assert!(fx.is_empty());
    let fx = app.perform(Action::Confirm);
    drive(&mut app, &desk, fx).await;
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM negotiation_threads WHERE id = {} AND status = 'accepted'",
            thread.id
        ))
        .await,
        1
    );
    assert_eq!(db.count("SELECT count(*) FROM agreements").await, 1);
    assert_eq!(db.count("SELECT count(*) FROM contracts").await, 1);
    assert_eq!(
        db.count("SELECT count(*) FROM deals WHERE state = 'draft'")
            .await,
        1
    );
    let s = screen(&mut app);
    assert!(s.contains("accepted"), "{s}");
    // The contract: its hash, no signature yet, its benefit pending.
    assert!(s.contains("SHA-256"), "{s}");
    assert!(s.contains("marketplace: not yet"), "{s}");
    assert!(s.contains("1. logo placement pending"), "{s}");
    // `s` signs for a side (the prompt starts at the marketplace).
    app.perform(Action::Sign);
    let enter = crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Enter,
        crossterm::event::KeyModifiers::NONE,
    );
    let fx = app.update(Msg::Terminal(crossterm::event::Event::Key(enter)));
    drive(&mut app, &desk, fx).await;
    assert_eq!(
        db.count("SELECT count(*) FROM contract_signatures WHERE side = 'marketplace'")
            .await,
        1
    );
    let s = screen(&mut app);
    assert!(s.contains("marketplace by cara"), "{s}");
}

#[tokio::test]
async fn a_counter_offer_starts_from_the_latest_revision_and_checks_as_you_type() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let thread = thread_with_offer(&db, &desk, "Bluebird Travel").await;
    desk.make_offer(thread.id, Side::Partner, &offer(1000), None, Some(1))
        .await
        .unwrap();
    let mut app = console(&desk);
    let fx = app.perform(Action::PaneNegotiations);
    drive(&mut app, &desk, fx).await;
    let fx = app.perform(Action::Open);
    drive(&mut app, &desk, fx).await;
    let fx = app.perform(Action::CounterOffer);
    drive(&mut app, &desk, fx).await;
    {
        let form = app.form_mut().expect("the counter-offer form");
        // From revision 2 (the partner's 10%), answered by the marketplace.
        assert_eq!(form.value("rate_bps"), "1000");
        assert_eq!(form.value("side"), "marketplace");
        assert_eq!(form.value("coupon_code"), "SPRING10");
        form.set_value("rate_bps", "20000");
        form.set_value("currency", "XYZ");
        // Fixed dates, so that the snapshot does not depend on today.
        form.set_value("benefits", "logo placement 2026-03-20");
        form.set_value("valid_from", "2026-03-01 09:00");
        form.set_value("valid_until", "2026-04-30 18:00");
    }
    app.form_changed();
    let s = screen(&mut app);
    let rate = s.lines().find(|l| l.contains("Rate (bps)")).unwrap();
    assert!(rate.contains('✕'), "{rate}");
    let cur = s.lines().find(|l| l.contains("Currency")).unwrap();
    assert!(cur.contains('✕'), "{cur}");
    insta::assert_snapshot!("counter_offer_form_with_errors", s);
    // Nothing is sent while fields are wrong.
    assert!(app.perform(Action::Save).is_empty());
    {
        let form = app.form_mut().unwrap();
        form.set_value("rate_bps", "1100");
        form.set_value("currency", "EUR");
    }
    app.form_changed();
    let fx = app.perform(Action::Save);
    drive(&mut app, &desk, fx).await;
    let rate: serde_json::Value = sqlx::query_scalar(
        "SELECT terms FROM negotiation_offers WHERE thread_id = $1 AND revision = 3 AND side = 'marketplace'",
    )
    .bind(thread.id)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!(rate.to_string().contains("1100"), "{rate}");
    let s = screen(&mut app);
    assert!(s.contains("made revision 3"), "{s}");
    assert!(s.contains("10% → 11%"), "{s}");
}

/// Render snapshots of the list, a timeline with a difference, and the contract; the times the
/// database stamped are set to fixed ones so that the screens do not depend on today.
#[tokio::test]
async fn snapshots_of_the_list_the_timeline_and_the_contract() {
    use chrono::TimeZone;
    partnerdesk::console::view::pin_display_zone(Some(chrono::FixedOffset::east_opt(0).unwrap()));
    let at = |h: u32| chrono::Utc.with_ymd_and_hms(2026, 3, 2, h, 0, 0).unwrap();
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let thread = thread_with_offer(&db, &desk, "Aster Books").await;
    desk.make_offer(
        thread.id,
        Side::Partner,
        &offer(1000),
        Some("lower, please"),
        Some(1),
    )
    .await
    .unwrap();
    desk.post_negotiation_message(thread.id, Side::Partner, "Ten percent works for us.")
        .await
        .unwrap();
    let mut app = console(&desk);
    let fx = app.perform(Action::PaneNegotiations);
    drive(&mut app, &desk, fx).await;
    for r in &mut app.panes.negotiations.list.rows {
        r.deadline = at(18) + chrono::Duration::days(3650);
        r.updated_at = at(11);
    }
    insta::assert_snapshot!("negotiations_list", screen(&mut app));

    let fx = app.perform(Action::Open);
    drive(&mut app, &desk, fx).await;
    let v = app.panes.negotiations.detail.data.as_mut().unwrap();
    v.thread.deadline = at(18) + chrono::Duration::days(3650);
    v.thread.updated_at = at(11);
    for (i, m) in v.messages.iter_mut().enumerate() {
        m.created_at = at(9 + 2 * i as u32);
    }
    for (i, o) in v.offers.iter_mut().enumerate() {
        o.offer.created_at = at(10 + 2 * i as u32);
    }
    insta::assert_snapshot!("negotiations_timeline_with_a_difference", screen(&mut app));

    // Accepted, one signature: the contract.
    desk.accept_offer(thread.id, Some(2), None).await.unwrap();
    let fx = app.perform(Action::Refresh);
    drive(&mut app, &desk, fx).await;
    let contract = app
        .panes
        .negotiations
        .contract
        .as_ref()
        .unwrap()
        .contract
        .id;
    desk.sign_contract(contract, Side::Marketplace)
        .await
        .unwrap();
    let fx = app.perform(Action::Refresh);
    drive(&mut app, &desk, fx).await;
    let v = app.panes.negotiations.detail.data.as_mut().unwrap();
    v.thread.deadline = at(18) + chrono::Duration::days(3650);
    v.thread.updated_at = at(11);
    for m in v.messages.iter_mut() {
        m.created_at = at(9);
    }
    for o in v.offers.iter_mut() {
        o.offer.created_at = at(10);
    }
    let c = app.panes.negotiations.contract.as_mut().unwrap();
    c.contract.snapshot_hash = "9f2c…(the snapshot's SHA-256)".into();
    for s in c.signatures.iter_mut() {
        s.signed_at = at(12);
    }
    for b in c.benefits.iter_mut() {
        b.due_date = Some(at(0).date_naive() + chrono::Duration::days(3650));
    }
    c.overdue.clear();
    insta::assert_snapshot!("negotiations_contract", screen(&mut app));
}

/// Issue 22 item 2: on a thread the marketplace just opened, `o` is the marketplace's opening
/// offer (its turn), and the form's title says so.
#[tokio::test]
async fn the_opening_offer_is_for_the_side_that_opened_the_thread() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let p = crate::common::verified_partner(&desk, "Opal Tea", "opal-tea.example").await;
    let t = desk
        .open_negotiation(&partnerdesk::service::negotiations::NewThread {
            partner_id: p.id,
            deal_id: None,
            subject: "Opal terms".into(),
            deadline: Some(chrono::Utc::now() + chrono::Duration::days(7)),
            side: Side::Marketplace,
            message: None,
            offer: None,
        })
        .await
        .unwrap();
    assert_eq!(
        desk.get_negotiation(t.id).await.unwrap().turn,
        Some(Side::Marketplace)
    );
    let rows = desk
        .list_negotiations(&Default::default(), 10)
        .await
        .unwrap();
    assert_eq!(rows[0].turn.as_deref(), Some("marketplace"));
    let mut app = console(&desk);
    let fx = app.perform(Action::PaneNegotiations);
    drive(&mut app, &desk, fx).await;
    let fx = app.perform(Action::Open);
    drive(&mut app, &desk, fx).await;
    assert!(screen(&mut app).contains("the marketplace's turn"));
    let fx = app.perform(Action::CounterOffer);
    drive(&mut app, &desk, fx).await;
    let form = app.form_mut().expect("the offer form");
    assert_eq!(form.value("side"), "marketplace");
    assert_eq!(
        form.title,
        "Opening offer for the marketplace on “Opal terms”"
    );
}

fn screen_at(app: &mut App, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| partnerdesk::console::screen::draw(f, app))
        .unwrap();
    let buf = term.backend().buffer().clone();
    (0..h)
        .map(|y| {
            (0..w)
                .map(|x| buf[(x, y)].symbol().to_owned())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn press(app: &mut App, code: crossterm::event::KeyCode, mods: crossterm::event::KeyModifiers) {
    let key = crossterm::event::KeyEvent::new(code, mods);
    app.update(Msg::Terminal(crossterm::event::Event::Key(key)));
}

/// Issue 22 item 1: a long thread's timeline scrolls with the list keys (`j`, `↓`, `Ctrl-d`,
/// `PgDn`, `G`, `g`) and its border says which lines are shown; at 80×24 and 120×40.
#[tokio::test]
async fn a_long_timeline_scrolls_with_the_list_keys_and_says_where_it_is() {
    use chrono::TimeZone;
    use crossterm::event::{KeyCode, KeyModifiers};
    partnerdesk::console::view::pin_display_zone(Some(chrono::FixedOffset::east_opt(0).unwrap()));
    let at = |m: u32| chrono::Utc.with_ymd_and_hms(2026, 3, 2, 9, m, 0).unwrap();
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let thread = thread_with_offer(&db, &desk, "Cobalt Kites").await;
    for i in 1..=40 {
        desk.post_negotiation_message(thread.id, Side::Partner, &format!("Message number {i}."))
            .await
            .unwrap();
    }
    desk.make_offer(
        thread.id,
        Side::Partner,
        &offer(1000),
        Some("the last word"),
        Some(1),
    )
    .await
    .unwrap();
    for (w, h) in [(80u16, 24u16), (120, 40)] {
        let mut app = console(&desk);
        let fx = app.perform(Action::PaneNegotiations);
        drive(&mut app, &desk, fx).await;
        let fx = app.perform(Action::Open);
        drive(&mut app, &desk, fx).await;
        let v = app.panes.negotiations.detail.data.as_mut().unwrap();
        v.thread.deadline = at(0) + chrono::Duration::days(3650);
        for (i, m) in v.messages.iter_mut().enumerate() {
            m.created_at = at(i as u32);
        }
        for (i, o) in v.offers.iter_mut().enumerate() {
            o.offer.created_at = at(i as u32 * 50 + 1) - chrono::Duration::seconds(30);
        }
        let s = screen_at(&mut app, w, h);
        assert!(s.contains("Message number 1."), "{s}");
        assert!(!s.contains("the last word"), "{s}");
        let room = (h - 5) as usize;
        assert!(s.contains(&format!(" 1–{room} of ")), "the position: {s}");

        press(&mut app, KeyCode::Char('j'), KeyModifiers::NONE);
        let s = screen_at(&mut app, w, h);
        assert!(s.contains(&format!(" 2–{} of ", room + 1)), "j: {s}");
        press(&mut app, KeyCode::Down, KeyModifiers::NONE);
        press(&mut app, KeyCode::Char('d'), KeyModifiers::CONTROL);
        press(&mut app, KeyCode::PageDown, KeyModifiers::NONE);
        let s = screen_at(&mut app, w, h);
        let first = (3 + 2 * (room - 1)).min(92 - room + 1);
        assert!(s.contains(&format!(" {first}–")), "↓, Ctrl-d, PgDn: {s}");

        press(&mut app, KeyCode::Char('G'), KeyModifiers::SHIFT);
        let s = screen_at(&mut app, w, h);
        assert!(
            s.contains("note: the last word"),
            "G shows the latest revision: {s}"
        );
        insta::assert_snapshot!(format!("negotiations_long_timeline_bottom_{w}x{h}"), s);

        press(&mut app, KeyCode::Char('g'), KeyModifiers::NONE);
        let s = screen_at(&mut app, w, h);
        assert!(s.contains(&format!(" 1–{room} of ")), "g: {s}");
    }
}

/// Issue 22 item 3: an accepted thread's footer offers the contract and deal keys (not the
/// moves of an open thread), its timeline ends with the acceptance, and `C` completes the
/// signed contract after asking the reason.
#[tokio::test]
async fn an_accepted_thread_offers_its_contract_keys_and_completes_the_contract() {
    use crossterm::event::{KeyCode, KeyModifiers};
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let thread = thread_with_offer(&db, &desk, "Dune Cycles").await;
    let acc = desk.accept_offer(thread.id, Some(1), None).await.unwrap();
    let mut app = console(&desk);
    let fx = app.perform(Action::PaneNegotiations);
    drive(&mut app, &desk, fx).await;
    let fx = app.perform(Action::Open);
    drive(&mut app, &desk, fx).await;
    let s = screen(&mut app);
    let footer = s.lines().nth(38).unwrap();
    for want in ["s sign", "b benefit", "J open deal", "C complete contract"] {
        assert!(footer.contains(want), "{want:?} in the footer: {footer}");
    }
    for not in [
        "m reply",
        "o counter offer",
        "a accept",
        "X reject",
        "W withdraw",
    ] {
        assert!(!footer.contains(not), "{not:?} not in the footer: {footer}");
    }
    assert!(
        s.contains("cara accepted revision 1 for the partner (on its behalf)"),
        "the acceptance in the timeline: {s}"
    );
    desk.sign_contract(acc.contract.id, Side::Marketplace)
        .await
        .unwrap();
    desk.sign_contract(acc.contract.id, Side::Partner)
        .await
        .unwrap();
    // C asks the reason, and an empty one is asked again.
    press(&mut app, KeyCode::Char('C'), KeyModifiers::SHIFT);
    assert!(
        screen(&mut app).contains("Complete contract #"),
        "{}",
        screen(&mut app)
    );
    for c in "all delivered".chars() {
        press(&mut app, KeyCode::Char(c), KeyModifiers::NONE);
    }
    let key = crossterm::event::KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE);
    let fx = app.update(Msg::Terminal(crossterm::event::Event::Key(key)));
    drive(&mut app, &desk, fx).await;
    assert_eq!(
        db.count("SELECT count(*) FROM contracts WHERE status = 'completed' AND status_reason = 'all delivered'")
            .await,
        1
    );
    assert!(screen(&mut app).contains("completed"));
}

/// Issue 22 item 4: the accept confirmation states when the agreement takes effect and when
/// the draft deal's window starts, and the draft deal starts no earlier than the agreement.
#[tokio::test]
async fn the_accept_confirmation_states_both_dates_and_the_deal_starts_with_the_agreement() {
    partnerdesk::console::view::pin_display_zone(Some(chrono::FixedOffset::east_opt(0).unwrap()));
    let db = TestDb::new().await;
    let desk = db.curator().await;
    // The offer's window starts now, mid-period: the agreement only from the next period.
    thread_with_offer(&db, &desk, "Ember Games").await;
    let mut app = console(&desk);
    let fx = app.perform(Action::PaneNegotiations);
    drive(&mut app, &desk, fx).await;
    let fx = app.perform(Action::Open);
    drive(&mut app, &desk, fx).await;
    let terms = app.panes.negotiations.detail.data.as_ref().unwrap().offers[0]
        .offer
        .terms
        .clone();
    let effective = terms
        .frequency
        .effective_from(chrono::Utc::now(), terms.deal.valid_from);
    let key = crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char('a'),
        crossterm::event::KeyModifiers::NONE,
    );
    app.update(Msg::Terminal(crossterm::event::Event::Key(key)));
    let Overlay::Confirm(c) = &app.shell.overlay else {
        panic!("a confirmation: {}", screen(&mut app));
    };
    let body = c.body.join("\n");
    assert!(
        body.contains(&format!("in effect from {effective}")),
        "{body}"
    );
    assert!(
        body.contains(&format!("its window from {effective} 00:00")),
        "{body}"
    );
    assert!(
        body.contains(&format!(
            "The offer's window started {}",
            partnerdesk::console::view::local(terms.deal.valid_from)
        )),
        "{body}"
    );
    app.perform(Action::ToggleChoice);
    let fx = app.perform(Action::Confirm);
    drive(&mut app, &desk, fx).await;
    let from: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT valid_from FROM deals WHERE state = 'draft'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(from, effective.and_time(chrono::NaiveTime::MIN).and_utc());
}

/// The accept confirmation and an accepted thread's footer, as snapshots at both sizes: the
/// console's clock and the offer's window are pinned, so that the dates it names are fixed
/// (the agreement from 2027-01-01, the offer's window from 2026-12-13).
#[tokio::test]
async fn snapshots_of_the_accept_confirmation_and_the_accepted_footer_at_both_sizes() {
    use chrono::TimeZone;
    partnerdesk::console::view::pin_display_zone(Some(chrono::FixedOffset::east_opt(0).unwrap()));
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let thread = thread_with_offer(&db, &desk, "Ember Games").await;
    for (w, h) in [(80, 24), (120, 40)] {
        let mut app = console(&desk);
        partnerdesk::console::view::pin_now(Some(
            chrono::Utc.with_ymd_and_hms(2026, 12, 6, 10, 0, 0).unwrap(),
        ));
        let fx = app.perform(Action::PaneNegotiations);
        drive(&mut app, &desk, fx).await;
        let fx = app.perform(Action::Open);
        drive(&mut app, &desk, fx).await;
        let v = app.panes.negotiations.detail.data.as_mut().unwrap();
        v.offers[0].offer.terms.deal.valid_from =
            chrono::Utc.with_ymd_and_hms(2026, 12, 13, 9, 0, 0).unwrap();
        let key = crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::Char('a'),
            crossterm::event::KeyModifiers::NONE,
        );
        app.update(Msg::Terminal(crossterm::event::Event::Key(key)));
        let s = screen_at(&mut app, w, h);
        // The dialog alone: the timeline behind it names the days the database stamped.
        let top = s
            .lines()
            .find(|l| l.contains("Accept “Terms for Ember Games”?"))
            .unwrap_or_else(|| panic!("the confirmation: {s}"));
        let chars: Vec<char> = top.chars().collect();
        let left = chars.iter().position(|&c| c == '┌').unwrap();
        let right = chars.iter().rposition(|&c| c == '┐').unwrap();
        let dialog: Vec<String> = s
            .lines()
            .skip_while(|l| !l.contains("Accept “Terms for Ember Games”?"))
            .take_while(|l| !l.contains("Esc cancels"))
            .map(|l| l.chars().skip(left).take(right + 1 - left).collect())
            .collect();
        insta::assert_snapshot!(
            format!("negotiations_accept_confirmation_{w}x{h}"),
            dialog.join("\n")
        );
    }
    partnerdesk::console::view::pin_now(None);
    desk.accept_offer(thread.id, Some(1), None).await.unwrap();
    for (w, h) in [(80, 24), (120, 40)] {
        let mut app = console(&desk);
        let fx = app.perform(Action::PaneNegotiations);
        drive(&mut app, &desk, fx).await;
        let fx = app.perform(Action::Open);
        drive(&mut app, &desk, fx).await;
        let s = screen_at(&mut app, w, h);
        let footer = s.lines().nth(h as usize - 2).unwrap().trim_end().to_owned();
        insta::assert_snapshot!(format!("negotiations_accepted_footer_{w}x{h}"), footer);
    }
}
