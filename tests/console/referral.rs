//! The Partners pane's referral tab (issue 14) over real services and a fresh database: the
//! tab as a curator sees it, a claim token issued through the pane (shown once, only its hash
//! kept), finance reading without moves, and changes made in another session reaching the
//! open tab. The commission rule form: `referral_rules.rs`.

use super::common::TestDb;
use super::render;
use super::settlements::{console, drive, press, typed};
use chrono::{TimeZone, Utc};
use crossterm::event::KeyCode;
use partnerdesk::console::action::Action;
use partnerdesk::console::app::{App, Overlay};
use partnerdesk::console::msg::{Changed, Effect, Msg, Notice};
use partnerdesk::console::runtime;
use partnerdesk::console::view;
use partnerdesk::domain::Role;
use partnerdesk::domain::referral::{PlanDraft, token_hash};
use partnerdesk::service::Desk;

const MOVES: [Action; 5] = [
    Action::NewCode,
    Action::DisableCode,
    Action::NewToken,
    Action::RevokeToken,
    Action::SetRule,
];

/// Bluebird Travel in the referral program: two plans, its default code and another, a
/// default rule and one for `pro`, two attributed accounts of which one converted, a token.
pub(super) async fn setup(db: &TestDb) -> i64 {
    let admin = db.admin().await;
    let p =
        super::common::verified_partner(&admin, "Bluebird Travel", "bluebird-travel.example").await;
    for (code, name, price) in [("basic", "Basic", "19.00"), ("pro", "Pro", "49.00")] {
        admin
            .add_plan(&PlanDraft {
                code: code.into(),
                name: name.into(),
                price: price.into(),
                currency: "EUR".into(),
            })
            .await
            .expect("plan");
    }
    admin.add_referral_code(p.id, None).await.expect("code");
    admin
        .add_referral_code(p.id, Some("BLUE-SPRING"))
        .await
        .expect("code");
    admin
        .set_commission_rule(p.id, None, Some(1000), None, None)
        .await
        .expect("rule");
    admin
        .set_commission_rule(p.id, Some("pro"), None, Some("12.50"), Some("EUR"))
        .await
        .expect("rule");
    let at = Utc.with_ymd_and_hms(2026, 10, 15, 9, 0, 0).unwrap();
    // Registered the day before it converted (reported late).
    admin
        .attribute_account_at("BLUE-SPRING", 4101, Some(at - chrono::Duration::days(1)))
        .await
        .expect("attribute");
    admin
        .attribute_account_at("BLUE-SPRING", 4102, Some(at - chrono::Duration::days(1)))
        .await
        .expect("attribute");
    admin
        .convert_account(4101, "pro", Some(at))
        .await
        .expect("convert");
    admin
        .issue_claim_token(
            p.id,
            "basic",
            Some("ana@example.com"),
            Some(Utc.with_ymd_and_hms(2030, 1, 31, 23, 59, 59).unwrap()),
        )
        .await
        .expect("token");
    p.id
}

/// The Partners pane with Bluebird selected and its referral tab open.
pub(super) async fn open_tab(desk: &Desk, read_only: bool) -> App {
    let mut app = console(desk, read_only);
    view::pin_now(Some(Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap()));
    let fx = app.perform(Action::Refresh);
    drive(&mut app, desk, fx).await;
    let fx = press(&mut app, KeyCode::Char('f'));
    drive(&mut app, desk, fx).await;
    assert!(app.panes.partners.referral.is_some(), "f opens the tab");
    app
}

#[tokio::test]
async fn referral_tab_shows_codes_tokens_accounts_rules_and_payouts() {
    let db = TestDb::new().await;
    setup(&db).await;
    let curator = db.curator().await;
    let mut app = open_tab(&curator, false).await;
    // The issued token's last four characters are random: mask them.
    let last4 = app
        .panes
        .partners
        .referral
        .as_ref()
        .unwrap()
        .data
        .as_ref()
        .unwrap()
        .view
        .tokens[0]
        .last4
        .clone();
    for (w, h) in [(80, 24), (120, 40)] {
        let s = render(&mut app, w, h).replace(&format!("…{last4}"), "…XXXX");
        insta::assert_snapshot!(format!("referral_tab_{w}x{h}"), s);
    }
    let s = render(&mut app, 120, 40);
    assert!(s.contains("/register?ref=BLUE-SPRING"), "{s}");
    assert!(s.contains("10% of the plan's monthly price"), "{s}");
    assert!(s.contains("12.50 EUR flat"), "{s}");
    assert!(s.contains("not converted"), "{s}");
    assert!(s.contains("open"), "{s}");

    // Settled on a referral-only statement, the payout line names its settlement in full at
    // 120 columns (payouts span the tab's width). The 30-day holding period puts the
    // conversion of October 15 on November's statement.
    let admin = db.admin().await;
    let partner = app.panes.partners.referral.as_ref().unwrap().partner_id;
    let terms = partnerdesk::domain::terms::TermsDraft {
        model: "referral_only".into(),
        currency: "EUR".into(),
        frequency: "monthly".into(),
        ..Default::default()
    };
    let a = admin
        .add_agreement(partner, &terms, "2026-10-01".parse().unwrap())
        .await
        .expect("agreement");
    let st = admin
        .compute_settlement(a.id, "2026-11")
        .await
        .expect("settlement");
    assert_eq!((st.payouts_minor, st.net_minor), (1250, -1250));
    let fx = app.perform(Action::Refresh);
    drive(&mut app, &curator, fx).await;
    let s = render(&mut app, 120, 40);
    let line = s
        .lines()
        .find(|l| l.contains("12.50 EUR  flat (plan)"))
        .expect("the payout line");
    assert!(
        line.contains(&format!("flat (plan) · settlement #{}   ", st.id)),
        "{line}"
    );

    // `l` copies the selected code's link (the default code is first).
    press(&mut app, KeyCode::Char('j'));
    let fx = press(&mut app, KeyCode::Char('l'));
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Copy { text, .. } if text == "/register?ref=BLUE-SPRING")),
        "{fx:?}"
    );
    // Esc closes the tab.
    press(&mut app, KeyCode::Esc);
    assert!(app.panes.partners.referral.is_none());
    view::pin_now(None);
}

#[tokio::test]
async fn referral_token_is_shown_once_and_only_its_hash_is_stored() {
    let db = TestDb::new().await;
    setup(&db).await;
    let curator = db.curator().await;
    let mut app = open_tab(&curator, false).await;

    // A wrong plan and a past expiry are named in the prompt, which stays open.
    press(&mut app, KeyCode::Char('t'));
    typed(&mut app, "gold");
    press(&mut app, KeyCode::Enter);
    let Overlay::Prompt(p) = &app.overlay else {
        panic!("the prompt stays open");
    };
    assert!(
        p.error
            .as_deref()
            .unwrap_or("")
            .starts_with("plan: 'gold' is not an active plan"),
        "{:?}",
        p.error
    );
    for _ in 0..4 {
        press(&mut app, KeyCode::Backspace);
    }
    typed(&mut app, "pro bo@example.com 2030-06-30");
    let fx = press(&mut app, KeyCode::Enter);
    drive(&mut app, &curator, fx).await;
    let Overlay::Confirm(c) = &app.overlay else {
        panic!("the token popup:\n{}", render(&mut app, 120, 40));
    };
    let token = c.body[2].trim().to_owned();
    assert!(token.starts_with("pdc_"), "{token}");
    let s = render(&mut app, 120, 40);
    assert!(s.contains(&token), "the popup shows the token:\n{s}");

    // The database holds its hash, never the token.
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM claim_tokens WHERE token_hash = '{}' AND email = 'bo@example.com'",
            token_hash(&token)
        ))
        .await,
        1
    );
    for table in ["claim_tokens", "audit_log", "outbox_events"] {
        assert_eq!(
            db.count(&format!(
                "SELECT count(*) FROM {table} t WHERE row_to_json(t)::text LIKE '%{token}%'"
            ))
            .await,
            0,
            "{table} holds the token"
        );
    }
    let last4 = &token[token.len() - 4..];
    let snap = render(&mut app, 120, 40)
        .replace(&token, &format!("pdc_{}", "X".repeat(token.len() - 4)))
        .replace(&format!("…{last4}"), "…YYYY");
    // The first token's last four are random too.
    let first = app
        .panes
        .partners
        .referral
        .as_ref()
        .unwrap()
        .data
        .as_ref()
        .unwrap()
        .view
        .tokens
        .iter()
        .find(|t| t.last4 != last4)
        .map(|t| t.last4.clone())
        .unwrap();
    let snap = snap.replace(&format!("…{first}"), "…XXXX");
    insta::assert_snapshot!("referral_token_popup_120x40", snap);

    // The other answer copies it, and the popup closes.
    app.perform(Action::ToggleChoice);
    let fx = app.perform(Action::Confirm);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Copy { text, .. } if *text == token)),
        "{fx:?}"
    );
    assert!(matches!(app.overlay, Overlay::None));
    for (w, h) in [(80, 24), (120, 40)] {
        let s = render(&mut app, w, h);
        assert!(!s.contains(&token), "the token is shown once:\n{s}");
    }
    let s = render(&mut app, 120, 40);
    assert!(s.contains(&format!("…{last4}")), "{s}");
    view::pin_now(None);
}

#[tokio::test]
async fn referral_tab_finance_reads_without_moves() {
    let db = TestDb::new().await;
    setup(&db).await;
    let finance = db.desk("fay", &[Role::Finance]).await;
    let mut app = open_tab(&finance, false).await;
    let s = render(&mut app, 120, 40);
    assert!(s.contains("BLUE-SPRING"), "finance reads the tab:\n{s}");
    let footer = s.lines().rev().nth(1).unwrap();
    assert!(footer.contains("link"), "{footer}");
    assert!(!footer.contains("new code"), "{footer}");
    let palette = app.palette_actions();
    assert!(palette.contains(&Action::CopyLink));
    for a in MOVES {
        assert!(!palette.contains(&a), "{a} in finance's palette");
    }
    let audit = db.audit_count().await;
    for key in ['a', 'X', 't', 'T', 'b'] {
        let fx = press(&mut app, KeyCode::Char(key));
        assert!(fx.is_empty(), "{key}: {fx:?}");
        assert!(matches!(app.overlay, Overlay::None), "{key}");
    }
    assert_eq!(db.audit_count().await, audit);

    // Read-only: the moves have no key.
    let app = open_tab(&finance, true).await;
    for a in MOVES {
        assert!(app.keymap.keys_in(a, "partners").is_empty(), "{a} bound");
    }
    assert!(!app.keymap.keys_in(Action::CopyLink, "partners").is_empty());
    view::pin_now(None);
}

#[tokio::test]
async fn referral_disable_and_revoke_through_the_tab_and_stale_loads_are_dropped() {
    let db = TestDb::new().await;
    let partner = setup(&db).await;
    let curator = db.curator().await;
    let mut app = open_tab(&curator, false).await;

    // A load answered after the tab was closed and opened again is dropped.
    press(&mut app, KeyCode::Char('f'));
    let stale = press(&mut app, KeyCode::Char('f'));
    assert!(press(&mut app, KeyCode::Char('f')).is_empty(), "f closes");
    let fresh = press(&mut app, KeyCode::Char('f'));
    drive(&mut app, &curator, stale).await;
    assert!(
        app.panes.partners.referral.as_ref().unwrap().data.is_none(),
        "the stale answer is dropped"
    );
    drive(&mut app, &curator, fresh).await;
    assert!(app.panes.partners.referral.as_ref().unwrap().data.is_some());

    // X on BLUE-SPRING (the second code): confirmed, then disabled.
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('X'));
    let Overlay::Confirm(c) = &app.overlay else {
        panic!("a confirmation");
    };
    assert_eq!(c.title, "Disable referral code BLUE-SPRING?");
    app.perform(Action::ToggleChoice);
    let fx = app.perform(Action::Confirm);
    drive(&mut app, &curator, fx).await;
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM referral_codes WHERE partner_id = {partner}
                AND code = 'BLUE-SPRING' AND disabled_at IS NOT NULL"
        ))
        .await,
        1
    );
    // T on the token (after the two codes): revoked; its status says so.
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('T'));
    assert!(matches!(app.overlay, Overlay::Confirm(_)), "a confirmation");
    app.perform(Action::ToggleChoice);
    let fx = app.perform(Action::Confirm);
    drive(&mut app, &curator, fx).await;
    assert_eq!(
        db.count("SELECT count(*) FROM claim_tokens WHERE revoked_at IS NOT NULL")
            .await,
        1
    );
    let s = render(&mut app, 120, 40);
    assert!(s.contains("revoked"), "{s}");
    assert!(s.contains("disabled"), "{s}");
    view::pin_now(None);
}

#[tokio::test]
async fn referral_changes_in_another_session_reload_the_open_tab() {
    let db = TestDb::new().await;
    let partner = setup(&db).await;
    let curator = db.curator().await;
    let mut app = open_tab(&curator, false).await;
    let s = render(&mut app, 120, 40);
    assert!(!s.contains("SUMMER-26"), "{s}");

    // Another session (another Desk, its own connection) adds a code, sets a rule and
    // converts an account: the database announces each kind, as the console listens.
    let mut listener = sqlx::postgres::PgListener::connect_with(&db.pool)
        .await
        .expect("listen");
    listener
        .listen("partnerdesk_changes")
        .await
        .expect("listen");
    let admin = db.admin().await;
    admin
        .add_referral_code(partner, Some("SUMMER-26"))
        .await
        .expect("code");
    admin
        .set_commission_rule(partner, Some("basic"), Some(1750), None, None)
        .await
        .expect("rule");
    admin
        .convert_account(
            4102,
            "basic",
            Some(Utc.with_ymd_and_hms(2026, 10, 20, 9, 0, 0).unwrap()),
        )
        .await
        .expect("convert");
    let mut kinds = Vec::new();
    while kinds.len() < 3 {
        let n = tokio::time::timeout(std::time::Duration::from_secs(10), listener.recv())
            .await
            .expect("a notice within 10 s")
            .expect("notification");
        let notice = runtime::notice_of(n.channel(), n.payload()).expect("a notice");
        assert_eq!(
            notice,
            Notice::Changed(Changed::Referral),
            "{}",
            n.payload()
        );
        kinds.push(n.payload().to_owned());
        let fx = app.update(Msg::Notice(notice));
        assert!(!fx.is_empty(), "the open tab reloads on {}", n.payload());
        drive(&mut app, &curator, fx).await;
    }
    assert_eq!(
        kinds,
        ["referral_code", "commission_rule", "referral_payout"]
    );
    let s = render(&mut app, 120, 40);
    assert!(s.contains("SUMMER-26"), "{s}");
    assert!(s.contains("17.5% of the plan's monthly price"), "{s}");
    assert!(s.contains("converted 2026-10-20 basic"), "{s}");

    // With the tab closed, nothing is loaded for it.
    press(&mut app, KeyCode::Char('f'));
    assert!(app.panes.partners.referral.is_none());
    let fx = app.update(Msg::Notice(Notice::Changed(Changed::Referral)));
    assert!(fx.is_empty(), "{fx:?}");
    view::pin_now(None);
}
