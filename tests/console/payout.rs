//! `P` on the Partners pane (issue "Finance: … payout batches"): finance sets where the
//! marketplace pays a partner through one prompt checked as it is typed and a confirmation
//! showing the account masked; the database holds it; a curator is told who may.

use super::common::{self, TestDb};
use super::render;
use super::settlements::{console, drive, press, typed};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use partnerdesk::console::action::Action;
use partnerdesk::console::app::Overlay;
use partnerdesk::console::msg::Msg;
use partnerdesk::domain::Role;

#[tokio::test]
async fn finance_sets_a_partners_payout_account_and_a_curator_is_told_who_may() {
    let db = TestDb::new().await;
    let admin = db.admin().await;
    let p = common::verified_partner(&admin, "Aster Books", "aster-books.example").await;
    let finance = db.desk("fay", &[Role::Finance]).await;
    let mut app = console(&finance, false);
    let fx = app.perform(Action::Refresh);
    drive(&mut app, &finance, fx).await;
    let fx = press(&mut app, KeyCode::Enter);
    drive(&mut app, &finance, fx).await;
    app.update(Msg::Terminal(Event::Key(KeyEvent::new(
        KeyCode::Char('P'),
        KeyModifiers::SHIFT,
    ))));
    assert!(
        matches!(app.overlay, Overlay::Prompt(_)),
        "the account first: {:?}\n{}",
        app.toasts.last().map(|t| t.text.clone()),
        render(&mut app, 120, 40)
    );
    // A mistyped digit is said as it is typed.
    typed(
        &mut app,
        "Aster Books GmbH | DE88 3704 0044 0532 0130 00 | COBADEFFXXX",
    );
    let s = render(&mut app, 120, 40);
    assert!(
        s.contains("iban: its check digits do not match"),
        "the prompt says what is wrong:\n{s}"
    );
    press(&mut app, KeyCode::Enter);
    assert!(
        matches!(app.overlay, Overlay::Prompt(_)),
        "asked again, nothing confirmed"
    );
    app.update(Msg::Terminal(Event::Key(KeyEvent::new(
        KeyCode::Char('u'),
        KeyModifiers::CONTROL,
    ))));
    typed(
        &mut app,
        "Aster Books GmbH | DE89 3704 0044 0532 0130 00 | COBADEFFXXX",
    );
    press(&mut app, KeyCode::Enter);
    let Overlay::Confirm(c) = &app.overlay else {
        panic!("a confirmation:\n{}", render(&mut app, 120, 40));
    };
    assert_eq!(c.title, "Pay Aster Books at DE89 •••• •••• 3000?");
    assert_eq!(c.selected, 0, "Cancel first");
    assert!(!c.body.join(" ").contains("0532"), "masked: {:?}", c.body);
    app.perform(Action::ToggleChoice);
    let fx = app.perform(Action::Confirm);
    drive(&mut app, &finance, fx).await;
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM partner_payout_details WHERE partner_id = {}
               AND iban = 'DE89370400440532013000' AND bic = 'COBADEFFXXX'
               AND holder = 'Aster Books GmbH' AND updated_by = 'fay'",
            p.id
        ))
        .await,
        1
    );
    let s = render(&mut app, 120, 40);
    assert!(
        s.contains("Payout         DE89 •••• •••• 3000 · EUR · fay"),
        "{s}"
    );

    // A curator sees it masked, and `P` says who may.
    let curator = db.curator().await;
    let mut app = console(&curator, false);
    let fx = app.perform(Action::Refresh);
    drive(&mut app, &curator, fx).await;
    let fx = press(&mut app, KeyCode::Enter);
    drive(&mut app, &curator, fx).await;
    app.update(Msg::Terminal(Event::Key(KeyEvent::new(
        KeyCode::Char('P'),
        KeyModifiers::SHIFT,
    ))));
    assert!(!matches!(app.overlay, Overlay::Prompt(_)));
    let said = &app.toasts.last().expect("a refusal").text;
    assert!(said.contains("finance"), "{said}");
}
