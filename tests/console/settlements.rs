//! The Settlements pane (issue 13) over real services and a fresh database: the list and a
//! statement's detail as finance sees them, a move confirmed and written, what a curator and a
//! read-only session are offered, and the lines paged from the database.

use super::common::{self, TestDb};
use super::render;
use chrono::{NaiveDate, TimeZone, Utc};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use partnerdesk::console::action::Action;
use partnerdesk::console::app::{App, ConnState, Overlay, Session};
use partnerdesk::console::msg::{Changed, Effect, Msg, Notice, TaskCtx};
use partnerdesk::console::{runtime, screen, view};
use partnerdesk::domain::Role;
use partnerdesk::domain::terms::TermsDraft;
use partnerdesk::service::Desk;

const SETTLE: [Action; 6] = [
    Action::Compute,
    Action::SendToReview,
    Action::Approve,
    Action::Dispute,
    Action::MarkPaid,
    Action::Tally,
];

/// A connected console acting as `desk`'s operator, times shown in UTC.
pub(super) fn console(desk: &Desk, read_only: bool) -> App {
    view::pin_display_zone(Some(chrono::FixedOffset::east_opt(0).unwrap()));
    let session = Session {
        operator: desk.actor().login.clone(),
        roles: desk.actor().roles_text(),
        registered: true,
        read_only,
        database: "fay@db.example:5432/partnerdesk".into(),
    };
    let mut app = App::new(
        partnerdesk::console::keymap::Keymap::builtin(),
        partnerdesk::console::theme::Theme::builtin("default").unwrap(),
        session,
    );
    let mut actor = desk.actor().clone();
    actor.read_only = read_only;
    app.actor = Some(actor);
    app.conn = ConnState::Connected;
    app
}

/// Runs the effects as the console's runtime would, feeding the answers back.
pub(super) async fn drive(app: &mut App, desk: &Desk, fx: Vec<Effect>) {
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

pub(super) fn press(app: &mut App, code: KeyCode) -> Vec<Effect> {
    app.update(Msg::Terminal(Event::Key(KeyEvent::new(
        code,
        KeyModifiers::NONE,
    ))))
}

pub(super) fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, KeyCode::Char(c));
    }
}

/// The settlements a test works on.
struct Data {
    /// Bluebird's statements for 2026-07 (paid), 2026-08 (in review), 2026-09 (draft, 250
    /// lines of which 2 exceptions, the partner's tally entered).
    july: i64,
    august: i64,
    september: i64,
    agreement: i64,
}

/// `n` redemptions of `deal` on a day of 2026, one a minute from 09:00, each worth `value`
/// cents (none: no value reported) plus a cent per redemption.
async fn redeem(db: &TestDb, deal: i64, member: i64, day: (u32, u32), n: i64, value: Option<i64>) {
    let start = Utc.with_ymd_and_hms(2026, day.0, day.1, 9, 0, 0).unwrap();
    sqlx::query(
        "INSERT INTO redemptions (deal_id, member_id, source, coupon_code, redeemed_at,
                                  value_minor, currency)
         SELECT $1, $2, 'copy_code', 'BLUE10', $3 + g * interval '1 minute',
                $5 + g, CASE WHEN $5 IS NULL THEN NULL ELSE 'EUR' END
           FROM generate_series(1, $4) g",
    )
    .bind(deal)
    .bind(member)
    .bind(start)
    .bind(n)
    .bind(value)
    .execute(&db.pool)
    .await
    .expect("insert redemptions");
}

async fn setup(db: &TestDb) -> (Desk, Data) {
    let admin = db.admin().await;
    let finance = db.desk("fay", &[Role::Finance]).await;
    let p = common::verified_partner(&admin, "Bluebird Travel", "bluebird-travel.example").await;
    let mut d = common::coupon_draft(p.id, "BLUE10");
    d.state = Some("active".into());
    let deal = admin.create_deal(&d).await.expect("deal");
    let member = common::member(db, "pat", "alumni", true, Some(2019), &[]).await;
    let terms = TermsDraft {
        model: "percentage".into(),
        rate_bps: Some(500),
        currency: "EUR".into(),
        frequency: "monthly".into(),
        ..Default::default()
    };
    let day = |m: u32| NaiveDate::from_ymd_opt(2026, m, 1).unwrap();
    let a = finance
        .add_agreement(p.id, &terms, day(7))
        .await
        .expect("agreement");
    redeem(db, deal.id, member, (7, 2), 40, Some(1000)).await;
    redeem(db, deal.id, member, (8, 2), 90, Some(1500)).await;
    redeem(db, deal.id, member, (9, 2), 248, Some(1200)).await;
    redeem(db, deal.id, member, (9, 20), 2, None).await;
    let mut ids = Vec::new();
    for period in ["2026-07", "2026-08", "2026-09"] {
        ids.push(
            finance
                .compute_settlement(a.id, period)
                .await
                .expect("compute")
                .id,
        );
    }
    let (july, august, september) = (ids[0], ids[1], ids[2]);
    finance.review_settlement(july, None).await.unwrap();
    finance.approve_settlement(july, None).await.unwrap();
    finance
        .pay_settlement(july, "TR-2026-0042", Some(Utc::now().date_naive()))
        .await
        .unwrap();
    finance.review_settlement(august, None).await.unwrap();
    finance.enter_tally(september, 247, "149.00").await.unwrap();

    // Another partner, a fixed fee, one draft for 2026-09.
    let q = common::verified_partner(&admin, "Aster Books", "aster-books.example").await;
    let mut d = common::coupon_draft(q.id, "ASTER5");
    d.state = Some("active".into());
    let aster_deal = admin.create_deal(&d).await.expect("deal");
    redeem(db, aster_deal.id, member, (9, 3), 5, Some(2000)).await;
    let fixed = TermsDraft {
        model: "fixed_fee".into(),
        amount: Some("2.50".into()),
        currency: "EUR".into(),
        frequency: "monthly".into(),
        ..Default::default()
    };
    let b = finance.add_agreement(q.id, &fixed, day(9)).await.unwrap();
    finance.compute_settlement(b.id, "2026-09").await.unwrap();
    (
        finance,
        Data {
            july,
            august,
            september,
            agreement: a.id,
        },
    )
}

/// Stamps that the database took from the clock, set to fixed ones (and "now" pinned), so that
/// the screens do not depend on today.
fn pin_times(app: &mut App) {
    let at = |d: u32, h: u32| Utc.with_ymd_and_hms(2026, 10, d, h, 0, 0).unwrap();
    view::pin_now(Some(at(5, 12)));
    let pane = &mut app.panes.settlements;
    let rows = pane.list.rows.iter_mut().map(|r| &mut r.settlement).chain(
        pane.detail
            .data
            .as_mut()
            .map(|o| &mut o.view.row.settlement),
    );
    for s in rows {
        s.computed_at = at(2, 8);
        s.review_deadline = s.review_deadline.map(|_| at(8, 9));
        s.approved_at = s.approved_at.map(|_| at(3, 10));
        s.paid_on = s.paid_on.map(|_| at(4, 0).date_naive());
    }
    if let Some(o) = pane.detail.data.as_mut() {
        for (i, e) in o.view.ledger.iter_mut().enumerate() {
            e.at = at(3 + i as u32, 10);
        }
    }
}

/// Opens settlement `id` from the list.
async fn open(app: &mut App, desk: &Desk, id: i64) {
    let i = app
        .panes
        .settlements
        .list
        .rows
        .iter()
        .position(|r| r.settlement.id == id)
        .expect("the settlement is listed");
    app.panes.settlements.list.selected = i;
    let fx = app.perform(Action::Open);
    drive(app, desk, fx).await;
}

#[tokio::test]
async fn settlements_list_and_detail() {
    let db = TestDb::new().await;
    let (finance, data) = setup(&db).await;
    let mut app = console(&finance, false);
    let fx = app.perform(Action::PaneSettlements);
    drive(&mut app, &finance, fx).await;
    pin_times(&mut app);
    for (w, h) in [(80, 24), (120, 40)] {
        insta::assert_snapshot!(format!("settlements_list_{w}x{h}"), render(&mut app, w, h));
    }
    let s = render(&mut app, 120, 40);
    let row = s.lines().find(|l| l.contains("2026-08")).unwrap();
    assert!(row.contains("in_review"), "{row}");
    assert!(row.contains("2026-10-08 (2 days left)"), "{row}");
    // A name too long for its column ends in …; the id, the amounts and the differences are
    // whole, at 80 and at 120 columns.
    let saved = app.panes.settlements.list.rows.clone();
    for r in &mut app.panes.settlements.list.rows {
        r.partner_name = "Riverstone Bike Rentals and Outdoor Adventure Tours of the Lakes".into();
    }
    for w in [80, 120] {
        let s = render(&mut app, w, 40);
        let row = s
            .lines()
            .find(|l| l.contains("2026-09") && l.contains("248"))
            .unwrap();
        assert!(
            row.contains("Riverstone Bike") && row.contains('…'),
            "{row}"
        );
        assert!(row.contains("164.28 EUR"), "{row}");
        assert!(
            row.trim_start_matches('│')
                .trim_start()
                .starts_with(char::is_numeric),
            "the id: {row}"
        );
        if w == 120 {
            assert!(row.contains("-1 / -15.28 EUR"), "{row}");
        }
    }
    app.panes.settlements.list.rows = saved;

    // The draft of 2026-09: totals, exceptions, the partner's tally beside ours, the chart
    // and the first page of lines.
    open(&mut app, &finance, data.september).await;
    pin_times(&mut app);
    for (w, h) in [(80, 24), (120, 40)] {
        insta::assert_snapshot!(
            format!("settlements_detail_{w}x{h}"),
            render(&mut app, w, h)
        );
    }
    let s = render(&mut app, 120, 40);
    assert!(s.contains("2 exceptions, not in the totals"), "{s}");
    assert!(
        s.contains("247 · 149.00 EUR (ours 248 · 164.28 EUR)"),
        "{s}"
    );
    assert!(s.contains("Difference -1 / -15.28 EUR"), "{s}");
    // The summary, the lines' panel and the list count the same: 248 lines, 2 exceptions.
    assert!(
        s.contains("Lines      248 · 2 exceptions, not in the totals"),
        "{s}"
    );
    assert!(s.contains("248 lines + 2 exceptions · 1–100 of 250"), "{s}");
    // Recomputing says the same counts.
    let row = app
        .panes
        .settlements
        .detail
        .data
        .as_ref()
        .unwrap()
        .view
        .row
        .clone();
    let body = partnerdesk::console::panes::settlements::recompute_body(&row);
    assert!(
        body[1].starts_with("Its 248 lines (and 2 exceptions) and totals"),
        "{body:?}"
    );

    // The paid one of 2026-07: its ledger, approval then payment.
    app.perform(Action::Back);
    open(&mut app, &finance, data.july).await;
    pin_times(&mut app);
    insta::assert_snapshot!("settlements_paid_80x24", render(&mut app, 80, 24));
    let s = render(&mut app, 120, 40);
    assert!(s.contains("approval 20.42 EUR"), "{s}");
    assert!(s.contains("payment -20.42 EUR"), "{s}");
    view::pin_now(None);
}

#[tokio::test]
async fn approving_asks_first_then_writes_the_ledger() {
    let db = TestDb::new().await;
    let (finance, data) = setup(&db).await;
    let mut app = console(&finance, false);
    let fx = app.perform(Action::PaneSettlements);
    drive(&mut app, &finance, fx).await;
    open(&mut app, &finance, data.august).await;
    pin_times(&mut app);
    let status = |id: i64| {
        format!("SELECT count(*) FROM settlements WHERE id = {id} AND status = 'approved'")
    };

    // `a`: a note (optional), then the confirmation saying what will be written.
    press(&mut app, KeyCode::Char('a'));
    assert!(matches!(app.overlay, Overlay::Prompt(_)), "a note first");
    press(&mut app, KeyCode::Enter);
    let Overlay::Confirm(c) = &app.overlay else {
        panic!("a confirmation:\n{}", render(&mut app, 80, 24));
    };
    let net = "69.55 EUR"; // 90 redemptions of 15.01…15.90 EUR at 5%
    assert_eq!(
        c.body[0],
        format!(
            "Approve settlement {}: writes {net} due from Bluebird Travel to the payout ledger.",
            data.august
        )
    );
    assert_eq!(c.selected, 0, "the safe answer first");
    insta::assert_snapshot!(
        "settlements_confirm_approve_80x24",
        render(&mut app, 80, 24)
    );
    // Enter on the default answer does nothing.
    let fx = press(&mut app, KeyCode::Enter);
    drive(&mut app, &finance, fx).await;
    assert_eq!(db.count(&status(data.august)).await, 0);

    press(&mut app, KeyCode::Char('a'));
    typed(&mut app, "checked against the partner's mail");
    press(&mut app, KeyCode::Enter);
    app.perform(Action::ToggleChoice);
    let fx = app.perform(Action::Confirm);
    drive(&mut app, &finance, fx).await;
    assert_eq!(db.count(&status(data.august)).await, 1);
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM payout_ledger WHERE settlement_id = {} AND kind = 'approval'
                AND amount_minor = 6955",
            data.august
        ))
        .await,
        1
    );
    let s = render(&mut app, 120, 40);
    assert!(s.contains("approved"), "{s}");
    assert!(s.contains("approval 69.55 EUR"), "{s}");
    assert!(
        app.messages
            .last()
            .unwrap()
            .2
            .contains("approved: 69.55 EUR written to the payout ledger"),
        "{:?}",
        app.messages
    );

    // Paying on a future day is refused in the prompt, before the confirmation.
    press(&mut app, KeyCode::Char('p'));
    for c in "TR-1 2099-01-01".chars() {
        press(&mut app, KeyCode::Char(c));
    }
    let Overlay::Prompt(p) = &app.overlay else {
        panic!("a prompt:\n{}", render(&mut app, 80, 24));
    };
    let today = view::now().date_naive();
    assert_eq!(
        p.error.as_deref(),
        Some(
            format!("the payment date 2099-01-01 is in the future: at most today, {today}")
                .as_str()
        )
    );
    press(&mut app, KeyCode::Enter);
    assert!(
        matches!(app.overlay, Overlay::Prompt(_)),
        "not a confirmation"
    );
    press(&mut app, KeyCode::Esc);

    // Sending the draft with exceptions without a note: the prompt says so as it is typed and
    // refuses the empty note, before any confirmation.
    app.perform(Action::Back);
    open(&mut app, &finance, data.september).await;
    press(&mut app, KeyCode::Char('R'));
    press(&mut app, KeyCode::Char('x'));
    press(&mut app, KeyCode::Backspace);
    let Overlay::Prompt(p) = &app.overlay else {
        panic!("a prompt");
    };
    assert_eq!(
        p.error.as_deref(),
        Some("a note is required: it has 2 exceptions (say why it may go to review)")
    );
    let fx = press(&mut app, KeyCode::Enter);
    assert!(fx.is_empty(), "{fx:?}");
    let Overlay::Prompt(p) = &app.overlay else {
        panic!("still the prompt:\n{}", render(&mut app, 80, 24));
    };
    assert!(
        p.error
            .as_deref()
            .unwrap()
            .starts_with("a note is required")
    );
    let s = render(&mut app, 80, 24);
    assert!(s.contains("a note is required"), "{s}");
    // Typing a note clears it; Esc leaves the statement as it was.
    press(&mut app, KeyCode::Char('o'));
    let Overlay::Prompt(p) = &app.overlay else {
        panic!("a prompt");
    };
    assert_eq!(p.error, None);
    press(&mut app, KeyCode::Esc);

    // A change made elsewhere reaches the pane through the database's notice.
    finance
        .review_settlement(data.september, Some("two without value: next month"))
        .await
        .unwrap();
    let fx = app.update(Msg::Notice(Notice::Changed(Changed::Settlement)));
    drive(&mut app, &finance, fx).await;
    let s = render(&mut app, 120, 40);
    assert!(s.contains("two without value: next month"), "{s}");

    // Recompute: `c` offers the selected draft's agreement and period.
    let draft = db
        .count(&format!(
            "SELECT id FROM settlements WHERE agreement_id <> {} AND status = 'draft'",
            data.agreement
        ))
        .await;
    app.perform(Action::Back);
    let fx = app.perform(Action::Refresh);
    drive(&mut app, &finance, fx).await;
    open(&mut app, &finance, draft).await;
    press(&mut app, KeyCode::Char('c'));
    let Overlay::Prompt(p) = &app.overlay else {
        panic!("a prompt");
    };
    assert!(
        p.input.starts_with('#') && p.input.ends_with("2026-09"),
        "{}",
        p.input
    );
    press(&mut app, KeyCode::Enter);
    let Overlay::Confirm(c) = &app.overlay else {
        panic!("a confirmation");
    };
    assert!(
        c.body[0].starts_with("Recompute settlement"),
        "{:?}",
        c.body
    );
}

#[tokio::test]
async fn curators_read_and_read_only_sessions_have_no_moves() {
    let db = TestDb::new().await;
    let (finance, data) = setup(&db).await;
    let curator = db.curator().await;
    let mut app = console(&curator, false);
    let fx = app.perform(Action::PaneSettlements);
    drive(&mut app, &curator, fx).await;
    assert!(!app.panes.settlements.list.rows.is_empty(), "curators read");
    // No move in the palette or the footer; the help marks each as finance's.
    let palette = app.palette_actions();
    for a in SETTLE {
        assert!(!palette.contains(&a), "{a} in a curator's palette");
    }
    let s = render(&mut app, 120, 40);
    let footer = s.lines().rev().nth(1).unwrap();
    assert!(footer.contains("open"), "{footer}");
    assert!(!footer.contains("approve"), "{footer}");
    app.perform(Action::Help);
    let s = render(&mut app, 120, 40);
    let line = s
        .lines()
        .find(|l| l.contains("approve the settlement"))
        .unwrap();
    assert!(line.contains("(needs finance or admin)"), "{line}");
    app.perform(Action::Help);
    // The keys are refused, saying who may.
    open(&mut app, &curator, data.august).await;
    for key in ['c', 'R', 'a', 'D', 'p', 't'] {
        let fx = press(&mut app, KeyCode::Char(key));
        assert!(fx.is_empty(), "{key}: {fx:?}");
        assert!(matches!(app.overlay, Overlay::None), "{key}");
    }
    assert_eq!(
        app.toasts.last().unwrap().text,
        "cara may not compute, approve and pay settlements: it needs the finance or admin role"
    );

    // Read-only: the moves are gone from the keymap, the help and the palette.
    let mut app = console(&finance, true);
    let fx = app.perform(Action::PaneSettlements);
    drive(&mut app, &finance, fx).await;
    let help: Vec<&str> = screen::help_lines(&app)
        .into_iter()
        .map(|(_, _, d)| d)
        .collect();
    let palette = app.palette_actions();
    for a in SETTLE {
        assert!(
            !help.contains(&a.description()),
            "{a} in the read-only help"
        );
        assert!(!palette.contains(&a), "{a} in the read-only palette");
        assert!(app.keymap.keys_in(a, "settlements").is_empty(), "{a} bound");
    }
    open(&mut app, &finance, data.august).await;
    for key in ['c', 'R', 'a', 'D', 'p', 't'] {
        let fx = press(&mut app, KeyCode::Char(key));
        assert!(fx.is_empty(), "{key}: {fx:?}");
        assert!(matches!(app.overlay, Overlay::None), "{key}");
    }
    // Finance, not read-only: every move has its key, in the help and the palette.
    let mut app = console(&finance, false);
    let fx = app.perform(Action::PaneSettlements);
    drive(&mut app, &finance, fx).await;
    let help: Vec<&str> = screen::help_lines(&app)
        .into_iter()
        .map(|(_, _, d)| d)
        .collect();
    let palette = app.palette_actions();
    for (a, key) in SETTLE.iter().zip(["c", "R", "a", "D", "p", "t"]) {
        assert!(help.contains(&a.description()), "{a} not in the help");
        assert!(palette.contains(a), "{a} not in the palette");
        assert_eq!(app.keymap.keys_text_in(*a, "settlements"), key);
    }
}

#[tokio::test]
async fn lines_are_read_a_page_at_a_time() {
    let db = TestDb::new().await;
    let (finance, data) = setup(&db).await;
    let mut app = console(&finance, false);
    let fx = app.perform(Action::PaneSettlements);
    drive(&mut app, &finance, fx).await;
    open(&mut app, &finance, data.september).await;
    let lines = |app: &App| -> Vec<i32> {
        app.panes
            .settlements
            .lines
            .rows
            .iter()
            .map(|l| l.line_no)
            .collect()
    };
    // The first page only: 100 of 250.
    assert_eq!(lines(&app), (1..=100).collect::<Vec<_>>());
    let s = render(&mut app, 80, 24);
    assert!(s.contains("248 lines + 2 exceptions · 1–100 of 250"), "{s}");
    assert!(!s.contains("of 250 · loading"), "{s}");

    // Scrolling down nears the end of the page: the next one is read.
    for _ in 0..85 {
        let fx = app.perform(Action::Down);
        drive(&mut app, &finance, fx).await;
    }
    assert_eq!(lines(&app), (1..=200).collect::<Vec<_>>());
    let s = render(&mut app, 80, 24);
    assert!(s.contains("248 lines + 2 exceptions · 1–200 of 250"), "{s}");
    // The selected line is on screen.
    assert!(
        s.lines()
            .any(|l| l.trim_start_matches('│').trim_start().starts_with("86 ")),
        "{s}"
    );

    // G reads the last page; paging up reads the one before it, by line number.
    let fx = app.perform(Action::Bottom);
    drive(&mut app, &finance, fx).await;
    assert_eq!(lines(&app), (151..=250).collect::<Vec<_>>());
    let s = render(&mut app, 80, 24);
    assert!(
        s.contains("248 lines + 2 exceptions · 151–250 of 250"),
        "{s}"
    );
    assert!(
        s.contains("no value"),
        "the exceptions are the last lines: {s}"
    );
    for _ in 0..100 {
        if app.panes.settlements.lines.at_start {
            break;
        }
        let fx = app.perform(Action::PageUp);
        drive(&mut app, &finance, fx).await;
    }
    assert_eq!(lines(&app).first(), Some(&1));
    assert_eq!(lines(&app).last(), Some(&250));

    // Enter on a line: its redemption.
    app.panes.settlements.lines.selected = 0;
    let fx = app.perform(Action::Open);
    drive(&mut app, &finance, fx).await;
    let Overlay::Info { title, lines } = &app.overlay else {
        panic!("the redemption:\n{}", render(&mut app, 80, 24));
    };
    assert!(title.starts_with("Redemption #"), "{title}");
    assert!(lines[0].starts_with("Line 1 of settlement"), "{lines:?}");
    assert!(lines.iter().any(|l| l.contains("Member #")), "{lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("Value 12.01 EUR at 5% → 0.60 EUR")),
        "{lines:?}"
    );
}

/// Computing every agreement due names, before it happens, each disputed statement it will
/// reset to draft (read from the database), and the toast says it afterwards.
#[tokio::test]
async fn computing_a_period_names_the_disputed_statements_it_resets() {
    let db = TestDb::new().await;
    let (finance, data) = setup(&db).await;
    finance
        .dispute_settlement(data.august, "the partner's tally differs")
        .await
        .unwrap();
    let mut app = console(&finance, false);
    let fx = app.perform(Action::PaneSettlements);
    drive(&mut app, &finance, fx).await;
    press(&mut app, KeyCode::Char('c'));
    assert!(
        matches!(app.overlay, Overlay::Prompt(_)),
        "the period first"
    );
    app.update(Msg::Terminal(Event::Key(KeyEvent::new(
        KeyCode::Char('u'),
        KeyModifiers::CONTROL,
    ))));
    typed(&mut app, "2026-08");
    let fx = press(&mut app, KeyCode::Enter);
    assert!(
        !matches!(app.overlay, Overlay::Confirm(_)),
        "the disputed statements are read before asking"
    );
    drive(&mut app, &finance, fx).await;
    let Overlay::Confirm(c) = &app.overlay else {
        panic!("a confirmation:\n{}", render(&mut app, 120, 40));
    };
    let body = c.body.join("\n");
    assert!(
        body.contains("It resets 1 disputed statement to draft and computes it again:"),
        "{body}"
    );
    assert!(
        body.contains(&format!(
            "  · settlement {} (agreement {}, 2026-08), disputed: “the partner's tally differs”",
            data.august, data.agreement
        )),
        "{body}"
    );
    app.perform(Action::ToggleChoice);
    let fx = app.perform(Action::Confirm);
    drive(&mut app, &finance, fx).await;
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM settlements WHERE id = {} AND status = 'draft'",
            data.august
        ))
        .await,
        1
    );
    let said = &app.messages.last().unwrap().2;
    assert!(
        said.ends_with(&format!("; reset from disputed to draft: {}", data.august)),
        "{said}"
    );
}

/// `x` on the list writes every statement the filter matches, newest period first (a tie
/// falls to the id), in the columns shown at the screen's width; a difference that reads as
/// a formula is defused.
#[tokio::test]
async fn x_exports_the_settlements_list_in_its_order_and_columns() {
    let db = TestDb::new().await;
    let (finance, data) = setup(&db).await;
    let mut app = console(&finance, false);
    app.shell.size = Some((120, 40));
    let fx = app.perform(Action::PaneSettlements);
    drive(&mut app, &finance, fx).await;
    let dir = std::env::temp_dir().join(format!("pd-settlements-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("settlements.csv");
    app.perform(Action::Export);
    match &mut app.shell.overlay {
        Overlay::Prompt(p) => p.input = path.display().to_string(),
        _ => panic!("x asks where to write"),
    }
    let fx = press(&mut app, KeyCode::Enter);
    assert!(matches!(&fx[..], [Effect::ExportList { .. }]), "{fx:?}");
    drive(&mut app, &finance, fx).await;
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        text.lines().next(),
        Some("id,partner,period,status,lines,exceptions,commission,net,review_by,discrepancy")
    );
    let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap())
        .collect();
    let ids: Vec<i64> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    let want: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM settlements ORDER BY period_start DESC, id DESC")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(want.len(), 4);
    assert_eq!(ids, want, "every statement, in the list's order");
    let september = rows
        .iter()
        .find(|r| r[0] == data.september.to_string())
        .unwrap();
    assert_eq!(&september[1], "Bluebird Travel v1");
    assert_eq!(&september[2], "2026-09");
    assert_eq!(&september[4], "248");
    assert_eq!(&september[5], "2");
    assert_eq!(&september[6], "164.28 EUR");
    assert_eq!(&september[9], "'-1 / -15.28 EUR");
    let july = rows.iter().find(|r| r[0] == data.july.to_string()).unwrap();
    assert_eq!(&july[3], "paid");
    std::fs::remove_dir_all(&dir).ok();
}
