//! The Settlements pane's batches view (issue "Finance: … payout batches"): `B` lists the
//! batches under the settings; `n` asks for the currency (and a note), shows the dry run's
//! preview — what goes in, what waits and why — and makes the batch once confirmed; `p` pays
//! it with the bank's reference, confirmed; the database holds each step.

use super::common::TestDb;
use super::owed::{details, owed};
use super::render;
use super::settlements::{console, drive, press, typed};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use partnerdesk::console::action::Action;
use partnerdesk::console::app::Overlay;
use partnerdesk::console::msg::Msg;
use partnerdesk::domain::Role;
use partnerdesk::domain::settings::SettingChange;

fn shift(
    app: &mut partnerdesk::console::app::App,
    c: char,
) -> Vec<partnerdesk::console::msg::Effect> {
    app.update(Msg::Terminal(Event::Key(KeyEvent::new(
        KeyCode::Char(c),
        KeyModifiers::SHIFT,
    ))))
}

/// Alder is owed 3 × 4.00 = 12.00 EUR (in), Birch 2 × 4.00 = 8.00 EUR, below the 10.00 EUR
/// minimum (waits): the batch is 12.00 EUR.
#[tokio::test]
async fn finance_makes_and_pays_a_batch_from_its_preview() {
    let db = TestDb::new().await;
    let fin = db.desk("fay", &[Role::Finance]).await;
    let admin = db.admin().await;
    admin
        .set_setting(&SettingChange::parse("minimum_payout.EUR", "10.00").unwrap())
        .await
        .unwrap();
    let (a, sa) = owed(&db, "Alder", "EUR", "4.00", 3).await;
    let (b, _) = owed(&db, "Birch", "EUR", "4.00", 2).await;
    details(&fin, a, "DE89370400440532013000", "EUR").await;
    details(&fin, b, "DE02500105170137075030", "EUR").await;

    let mut app = console(&fin, false);
    let fx = app.perform(Action::PaneSettlements);
    drive(&mut app, &fin, fx).await;
    let fx = shift(&mut app, 'B');
    drive(&mut app, &fin, fx).await;
    let s = render(&mut app, 120, 40);
    assert!(
        s.contains("Settings  holding 30 days · minimum 10.00 EUR · debtor not set"),
        "the settings above the batches:\n{s}"
    );
    assert!(s.contains("no payout batch yet"), "{s}");

    // n: the currency, checked as typed.
    press(&mut app, KeyCode::Char('n'));
    assert!(matches!(app.overlay, Overlay::Prompt(_)), "{s}");
    app.update(Msg::Terminal(Event::Key(KeyEvent::new(
        KeyCode::Char('u'),
        KeyModifiers::CONTROL,
    ))));
    typed(&mut app, "EUX");
    let s = render(&mut app, 120, 40);
    assert!(s.contains("currency: "), "said as typed:\n{s}");
    app.update(Msg::Terminal(Event::Key(KeyEvent::new(
        KeyCode::Char('u'),
        KeyModifiers::CONTROL,
    ))));
    // Without a note: the preview says the changed accounts need one, and nothing is made.
    typed(&mut app, "EUR");
    let fx = press(&mut app, KeyCode::Enter);
    drive(&mut app, &fin, fx).await;
    let s = render(&mut app, 120, 40);
    assert!(s.contains("A note is required"), "{s}");
    assert_eq!(db.count("SELECT count(*) FROM payout_batches").await, 0);
    press(&mut app, KeyCode::Esc);

    press(&mut app, KeyCode::Char('n'));
    app.update(Msg::Terminal(Event::Key(KeyEvent::new(
        KeyCode::Char('u'),
        KeyModifiers::CONTROL,
    ))));
    typed(&mut app, "EUR | confirmed by phone");
    let fx = press(&mut app, KeyCode::Enter);
    drive(&mut app, &fin, fx).await;
    let Overlay::Confirm(c) = &app.overlay else {
        panic!("the preview, to confirm:\n{}", render(&mut app, 120, 40));
    };
    assert_eq!(c.title, "Make a EUR payout batch?");
    assert_eq!(c.selected, 0, "Cancel first");
    let body = c.body.join("\n");
    assert!(
        body.starts_with("1 statement owed in EUR, 12.00 EUR in all:"),
        "{body}"
    );
    assert!(
        body.contains(&format!(
            "#{sa} Alder 2026-09 · 12.00 EUR → DE89 •••• •••• 3000"
        )),
        "{body}"
    );
    assert!(
        body.contains("Waits: Birch (8.00 EUR): below its minimum payout: 8.00 EUR of 10.00 EUR (the currency's), carried since 2026-09"),
        "{body}"
    );
    app.perform(Action::ToggleChoice);
    let fx = app.perform(Action::Confirm);
    drive(&mut app, &fin, fx).await;
    assert_eq!(
        db.count("SELECT count(*) FROM payout_batches WHERE status = 'open' AND total_minor = 1200 AND note = 'confirmed by phone' AND created_by = 'fay'")
            .await,
        1
    );
    let s = render(&mut app, 120, 40);
    assert!(
        s.contains("payout batch 1 created: 1 statement, 12.00 EUR"),
        "{s}"
    );
    assert!(s.contains("open"), "the list shows it:\n{s}");

    // p: the reference, then the confirmation; paid once.
    press(&mut app, KeyCode::Char('p'));
    assert!(matches!(app.overlay, Overlay::Prompt(_)));
    typed(&mut app, "BANK-77");
    press(&mut app, KeyCode::Enter);
    let Overlay::Confirm(c) = &app.overlay else {
        panic!("a confirmation:\n{}", render(&mut app, 120, 40));
    };
    assert_eq!(c.title, "Pay batch 1 · 1 statement · 12.00 EUR?");
    app.perform(Action::ToggleChoice);
    let fx = app.perform(Action::Confirm);
    drive(&mut app, &fin, fx).await;
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM settlements WHERE id = {sa} AND status = 'paid' AND payment_reference = 'BANK-77'"
        ))
        .await,
        1
    );
    // Enter opens it: its statement, the account masked.
    let fx = press(&mut app, KeyCode::Enter);
    drive(&mut app, &fin, fx).await;
    let s = render(&mut app, 120, 40);
    assert!(s.contains("Payout batch 1 · EUR"), "{s}");
    assert!(s.contains("BANK-77, by fay"), "{s}");
    assert!(s.contains("DE89 •••• •••• 3000"), "{s}");
    // The statements list says which batch paid a statement and which waits.
    press(&mut app, KeyCode::Esc);
    let fx = press(&mut app, KeyCode::Esc);
    drive(&mut app, &fin, fx).await;
    let s = render(&mut app, 120, 40);
    assert!(s.contains("paid · batch 1"), "{s}");
    assert!(s.contains("approved · carried"), "{s}");
    // A curator reads the batches and is told who may make one.
    let cur = db.curator().await;
    let mut app = console(&cur, false);
    let fx = app.perform(Action::PaneSettlements);
    drive(&mut app, &cur, fx).await;
    let fx = shift(&mut app, 'B');
    drive(&mut app, &cur, fx).await;
    press(&mut app, KeyCode::Char('n'));
    let s = render(&mut app, 120, 40);
    assert!(s.contains("needs the finance or admin role"), "{s}");
    assert!(
        s.contains("the settings are finance's and admins' to read"),
        "{s}"
    );
}
