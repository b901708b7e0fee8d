//! The referral tab's commission rule form (issue 14): each field's error beside it as it is
//! typed, Tab completing a plan, the selected rule filling it, a refusal of the service shown
//! on it, a save with its audit row, and an unsaved form offered back after a crash.

use super::common::TestDb;
use super::referral::{open_tab, setup};
use super::render;
use super::settlements::{drive, press, typed};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use partnerdesk::console::action::Action;
use partnerdesk::console::app::{App, Overlay};
use partnerdesk::console::form::Form;
use partnerdesk::console::msg::{Effect, Msg};
use partnerdesk::console::recovery::FormSnapshot;
use partnerdesk::console::view;
use partnerdesk::domain::referral::PlanDraft;

fn ctrl_s(app: &mut App) -> Vec<Effect> {
    app.update(Msg::Terminal(Event::Key(KeyEvent::new(
        KeyCode::Char('s'),
        KeyModifiers::CONTROL,
    ))))
}

/// The rule form of the open tab.
fn rule_form(app: &App) -> &Form {
    &app.panes
        .partners
        .referral
        .as_ref()
        .expect("the tab")
        .rule
        .as_ref()
        .expect("the rule form")
        .form
}

#[tokio::test]
async fn referral_rule_form_shows_each_fields_error_beside_it_then_saves_the_rule() {
    let db = TestDb::new().await;
    let partner = setup(&db).await;
    let curator = db.curator().await;
    let mut app = open_tab(&curator, false).await;
    // Nothing selected is a rule: `b` opens a new rule's form, blank and without errors.
    let fx = press(&mut app, KeyCode::Char('b'));
    assert!(
        fx.iter().any(|e| matches!(e, Effect::TrackForm(Some(_)))),
        "kept for recovery: {fx:?}"
    );
    assert!(rule_form(&app).errors.is_empty());
    assert_eq!(rule_form(&app).focused(), Some("plan"));

    // Tab on a blank plan moves on (blank: the default rule); a bad amount and a missing
    // currency are named beside their fields as they are typed.
    press(&mut app, KeyCode::Tab);
    typed(&mut app, "4.001");
    assert!(
        rule_form(&app)
            .error_for("currency")
            .unwrap_or("")
            .starts_with("a flat rule needs its currency"),
        "{:?}",
        rule_form(&app).errors
    );
    press(&mut app, KeyCode::Tab);
    typed(&mut app, "eur");
    assert_eq!(
        rule_form(&app).error_for("pay"),
        Some("EUR has 2 decimal places; got 4.001")
    );
    assert_eq!(rule_form(&app).error_for("currency"), None);
    let s = render(&mut app, 120, 40);
    insta::assert_snapshot!("referral_rule_form_error_120x40", s);
    assert!(s.contains("EUR has 2 decimal places; got 4.001"), "{s}");

    // Ctrl-s with an error saves nothing and says so.
    let audit = db.audit_count().await;
    assert!(ctrl_s(&mut app).is_empty());
    assert_eq!(db.audit_count().await, audit);

    // Fixed, Ctrl-s saves the default rule: 4.00 EUR flat, with its audit row.
    press(&mut app, KeyCode::Up);
    press(&mut app, KeyCode::Backspace);
    assert!(
        rule_form(&app).errors.is_empty(),
        "{:?}",
        rule_form(&app).errors
    );
    let fx = ctrl_s(&mut app);
    drive(&mut app, &curator, fx).await;
    assert!(
        app.panes.partners.referral.as_ref().unwrap().rule.is_none(),
        "saved: the form closes"
    );
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM commission_rules WHERE partner_id = {partner}
                AND plan_id IS NULL AND bps IS NULL AND amount_minor = 400 AND currency = 'EUR'"
        ))
        .await,
        1
    );
    assert_eq!(
        db.count(
            "SELECT count(*) FROM audit_log WHERE action = 'commission_rule.set'
                AND actor = 'cara' AND after->>'amount_minor' = '400'"
        )
        .await,
        1
    );
    let s = render(&mut app, 120, 40);
    assert!(s.contains("4.00 EUR flat"), "{s}");
    view::pin_now(None);
}

#[tokio::test]
async fn referral_rule_form_opens_on_the_selected_rule_and_shows_a_refusal() {
    let db = TestDb::new().await;
    let partner = setup(&db).await;
    let admin = db.admin().await;
    admin
        .add_plan(&PlanDraft {
            code: "gold".into(),
            name: "Gold".into(),
            price: "99.00".into(),
            currency: "EUR".into(),
        })
        .await
        .expect("plan");
    let curator = db.curator().await;
    let mut app = open_tab(&curator, false).await;
    // The rows: two codes, a token, then the rules (default, then plan pro).
    for _ in 0..4 {
        press(&mut app, KeyCode::Char('j'));
    }
    press(&mut app, KeyCode::Char('b'));
    let form = rule_form(&app);
    assert_eq!(
        (
            form.value("plan"),
            form.value("pay"),
            form.value("currency")
        ),
        ("pro".into(), "12.50".into(), "EUR".into())
    );
    assert!(form.errors.is_empty());
    // Esc on an unchanged form closes it.
    press(&mut app, KeyCode::Esc);
    assert!(app.panes.partners.referral.as_ref().unwrap().rule.is_none());
    assert!(app.panes.partners.referral.is_some(), "the tab stays");

    // A plan is completed by Tab; one gone meanwhile is refused by the service, on the form.
    for _ in 0..4 {
        press(&mut app, KeyCode::Char('k'));
    }
    press(&mut app, KeyCode::Char('b'));
    typed(&mut app, "go");
    press(&mut app, KeyCode::Tab);
    assert_eq!(rule_form(&app).value("plan"), "gold");
    assert_eq!(rule_form(&app).focused(), Some("plan"), "Tab completed");
    press(&mut app, KeyCode::Tab);
    for _ in 0..5 {
        press(&mut app, KeyCode::Backspace);
    }
    typed(&mut app, "7.5%");
    sqlx::query("DELETE FROM plans WHERE code = 'gold'")
        .execute(&db.pool)
        .await
        .expect("delete");
    let fx = ctrl_s(&mut app);
    drive(&mut app, &curator, fx).await;
    let form = rule_form(&app);
    assert!(!form.saving);
    assert!(
        form.notice.as_deref().unwrap_or("").contains("gold"),
        "{:?}",
        form.notice
    );
    let s = render(&mut app, 120, 40);
    assert!(s.contains("gold"), "{s}");
    // Back to pro at 7.5%: the plan rule changes.
    press(&mut app, KeyCode::Up);
    for _ in 0..4 {
        press(&mut app, KeyCode::Backspace);
    }
    typed(&mut app, "pro");
    let fx = ctrl_s(&mut app);
    drive(&mut app, &curator, fx).await;
    assert!(app.panes.partners.referral.as_ref().unwrap().rule.is_none());
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM commission_rules r JOIN plans p ON p.id = r.plan_id
              WHERE r.partner_id = {partner} AND p.code = 'pro' AND r.bps = 750
                AND r.amount_minor IS NULL"
        ))
        .await,
        1
    );
    view::pin_now(None);
}

#[tokio::test]
async fn an_unsaved_rule_form_is_offered_back_on_the_partners_referral_tab() {
    let db = TestDb::new().await;
    let partner = setup(&db).await;
    let curator = db.curator().await;
    let mut app = super::settlements::console(&curator, false);
    let fields = [("plan", "pro"), ("pay", "4.001"), ("currency", "EUR")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    app.recovered = Some(FormSnapshot {
        entity: "commission rule".into(),
        record_id: Some(partner),
        version: None,
        label: "Bluebird Travel".into(),
        fields,
        saved_at: chrono::Utc::now(),
    });
    let fx = app.update(Msg::Connected(curator.clone()));
    drive(&mut app, &curator, fx).await;
    let Overlay::Confirm(c) = &app.overlay else {
        panic!("restore is offered");
    };
    assert!(
        c.body[0].starts_with("A commission rule form (Bluebird Travel)"),
        "{:?}",
        c.body
    );
    // The default answer restores it: the partner's tab, the form filled and checked.
    let fx = app.perform(Action::Confirm);
    drive(&mut app, &curator, fx).await;
    let tab = app.panes.partners.referral.as_ref().expect("the tab");
    assert_eq!(tab.partner_id, partner);
    assert!(tab.data.is_some(), "the tab loaded");
    let form = rule_form(&app);
    assert_eq!(form.value("pay"), "4.001");
    assert_eq!(
        form.error_for("pay"),
        Some("EUR has 2 decimal places; got 4.001")
    );
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Backspace);
    let fx = ctrl_s(&mut app);
    drive(&mut app, &curator, fx).await;
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM commission_rules r JOIN plans p ON p.id = r.plan_id
              WHERE r.partner_id = {partner} AND p.code = 'pro' AND r.amount_minor = 400"
        ))
        .await,
        1
    );
}
