//! Render snapshots of the console (ratatui TestBackend + insta) at 80×24 and 120×40, and the
//! rule that the help and the palette come from the keymap.

use chrono::{TimeZone, Utc};
use partnerdesk::console::action::{Action, Context};
use partnerdesk::console::app::{App, ConnState, Overlay, Session};
use partnerdesk::console::keymap::Keymap;
use partnerdesk::console::msg::{Effect, LoadMode, Msg};
use partnerdesk::console::panes::deals;
use partnerdesk::console::panes::partners::{self, PartnerDetail};
use partnerdesk::console::theme::Theme;
use partnerdesk::console::{screen, view};
use partnerdesk::domain::{Role, VerificationState};
use partnerdesk::service::Actor;
use partnerdesk::store::audit::AuditEntry;
use partnerdesk::store::partners::{Partner, PartnerListRow};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

#[path = "../db/common.rs"]
#[allow(dead_code)]
mod common;
#[path = "../support/owed.rs"]
mod owed;

mod batches;
mod columns;
mod daily;
mod marks;
mod mouse;
mod payout;
mod redemptions;
mod referral;
mod referral_rules;
mod round_two;
mod round_two_filters;
mod settlements;
mod shape;
mod views;
mod webhooks;

pub(crate) fn at(day: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, 9, 30, 0).unwrap()
}

fn rows() -> Vec<PartnerListRow> {
    let names = [
        (
            "Aster Books",
            "aster-books.com",
            VerificationState::Verified,
            "books",
            8,
        ),
        (
            "Bluebird Travel",
            "bluebird-travel.co",
            VerificationState::Pending,
            "travel",
            3,
        ),
        (
            "Cobalt Cycles",
            "cobalt-cycles.io",
            VerificationState::Disabled,
            "transport",
            12,
        ),
        (
            "Driftwood Coffee Roasters",
            "driftwood-coffee-roasters.shop",
            VerificationState::Verified,
            "food",
            0,
        ),
    ];
    names
        .iter()
        .enumerate()
        .map(|(i, (name, domain, state, cat, deals))| PartnerListRow {
            id: i as i64 + 1,
            display_name: (*name).into(),
            domain: Some((*domain).into()),
            verification: *state,
            categories: vec![(*cat).into()],
            deal_count: *deals,
            vetted_by: (*state != VerificationState::Pending).then(|| "cara".into()),
            vetted_at: (*state != VerificationState::Pending).then(|| at(2 + i as u32)),
            version: 1,
            sort_key: name.to_lowercase(),
        })
        .collect()
}

fn app(read_only: bool, roles: &[Role]) -> App {
    view::pin_display_zone(Some(chrono::FixedOffset::east_opt(0).unwrap()));
    let session = Session {
        operator: "cara".into(),
        roles: roles
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(","),
        registered: true,
        read_only,
        database: "cara@db.example:5432/partnerdesk".into(),
    };
    let mut app = App::new(
        Keymap::builtin(),
        Theme::builtin("default").unwrap(),
        session,
    );
    let mut actor = Actor::operator("cara", roles);
    actor.read_only = read_only;
    app.actor = Some(actor);
    app.conn = ConnState::Connected;
    let tag = app.panes.partners.list.tag;
    app.update(Msg::from(partners::Msg::Page {
        tag,
        mode: LoadMode::Replace,
        result: Ok(rows()),
    }));
    app
}

/// Types one character, as a key press.
fn key(a: &mut App, c: char) -> Vec<partnerdesk::console::msg::Effect> {
    let ev = crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::Char(c),
        crossterm::event::KeyModifiers::NONE,
    );
    a.update(Msg::Terminal(crossterm::event::Event::Key(ev)))
}

fn curator() -> App {
    app(false, &[Role::Curator])
}

fn render(app: &mut App, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| screen::draw(f, app)).unwrap();
    let buf = term.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..h {
        let mut line = String::new();
        for x in 0..w {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn both_sizes(name: &str, mut make: impl FnMut() -> App) {
    for (w, h) in [(80, 24), (120, 40)] {
        let mut a = make();
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), render(&mut a, w, h));
    }
}

pub(crate) fn detail() -> PartnerDetail {
    PartnerDetail {
        partner: Partner {
            id: 2,
            legal_name: "Bluebird Travel GmbH".into(),
            display_name: "Bluebird Travel".into(),
            logo_url: Some("https://cdn.bluebird-travel.co/logo.png".into()),
            website_url: Some("https://www.bluebird-travel.co/".into()),
            domain: Some("bluebird-travel.co".into()),
            contact_email: Some("partners@bluebird-travel.co".into()),
            categories: vec!["travel".into()],
            region: Some("EU".into()),
            notes: Some("Met at the spring fair.".into()),
            verification: VerificationState::Pending,
            vetted_by: None,
            vetted_at: None,
            created_at: at(1),
            created_by: "cara".into(),
            updated_at: at(3),
            updated_by: "cara".into(),
            version: 2,
        },
        deals_by_state: vec![("active".into(), 2), ("draft".into(), 1)],
        checks: vec![partnerdesk::service::vetting::CheckResult {
            check_name: "website".into(),
            outcome: "pass".into(),
            detail: "HTTPS 200 at https://www.bluebird-travel.co/".into(),
            data: serde_json::json!({}),
            checked_at: at(3),
            checked_by: "cara".into(),
        }],
        timeline: vec![AuditEntry {
            id: 7,
            at: at(3),
            actor: "cara".into(),
            action: "partner.update".into(),
            entity_type: "partner".into(),
            entity_id: "2".into(),
            before: None,
            after: None,
            reason: None,
        }],
        payout: Some(Box::new(partnerdesk::store::payouts::PayoutRow {
            partner_id: 2,
            holder: None,
            iban: None,
            iban_masked: "DE89 •••• •••• 3000".into(),
            bic: None,
            currency: "EUR".into(),
            minimum_minor: None,
            changed_at: at(2),
            updated_by: "fin".into(),
            version: 1,
        })),
        owed: Vec::new(),
    }
}

#[test]
fn list() {
    both_sizes("list", curator);
}

#[test]
fn detail_view() {
    both_sizes("detail", || {
        let mut a = curator();
        a.panes.partners.detail.open = true;
        a.panes.partners.detail.data = Some(detail());
        a
    });
}

/// Issue 22 item 1: a partner's detail that outgrows its box scrolls with the list keys (not
/// the hidden list) and its border says which lines are shown.
#[test]
fn a_long_partner_detail_scrolls() {
    let mut a = curator();
    a.panes.partners.detail.open = true;
    a.panes.partners.detail.data = Some(detail());
    let selected = a.panes.partners.list.selected;
    assert!(render(&mut a, 80, 24).contains(" 1–4 of 6 "));
    key(&mut a, 'G');
    let s = render(&mut a, 80, 24);
    assert!(s.contains(" 3–6 of 6 "), "{s}");
    assert_eq!(
        a.panes.partners.list.selected, selected,
        "the list stays put"
    );
    key(&mut a, 'k');
    assert!(render(&mut a, 80, 24).contains(" 2–5 of 6 "));
    // At 120×40 it fits: no position.
    assert!(!render(&mut a, 120, 40).contains(" of 6 "));
}

#[test]
fn form_with_errors() {
    both_sizes("form_errors", || {
        let mut a = curator();
        a.perform(Action::New);
        let pf = a.panes.partners.form.as_mut().unwrap();
        pf.form.fields[0].area.insert_str("x".repeat(256));
        pf.form.fields[2].area.insert_str("ftp://bluebird");
        pf.form.fields[4].area.insert_str("not-an-email");
        pf.form.focus = 2;
        a.form_changed();
        a
    });
}

#[test]
fn help() {
    both_sizes("help", || {
        let mut a = curator();
        a.perform(Action::Help);
        a
    });
}

#[test]
fn palette() {
    both_sizes("palette", || {
        let mut a = curator();
        a.perform(Action::Palette);
        if let Overlay::Palette(p) = &mut a.overlay {
            p.query = "vet".into();
            p.refilter();
        }
        a
    });
}

#[test]
fn confirm() {
    both_sizes("confirm", || {
        let mut a = curator();
        a.perform(Action::Down);
        a.perform(Action::MarkVetted);
        a
    });
}

#[test]
fn too_small() {
    let mut a = curator();
    insta::assert_snapshot!("too_small_79x24", render(&mut a, 79, 24));
    insta::assert_snapshot!("too_small_80x23", render(&mut a, 80, 23));
}

#[test]
fn read_only() {
    both_sizes("read_only", || app(true, &[Role::Curator]));
    both_sizes("read_only_help", || {
        let mut a = app(true, &[Role::Curator]);
        a.perform(Action::Help);
        a
    });
}

#[test]
fn every_bound_action_is_in_the_help_and_the_palette() {
    let a = curator();
    let help: Vec<&str> = screen::help_lines(&a)
        .into_iter()
        .map(|(_, _, d)| d)
        .collect();
    // Every bound action this pane offers (and every global one) is in its help, and the
    // actions of other panes are not.
    for action in a.keymap.actions() {
        let here = action.context() != Context::List || a.current().offers(action);
        assert_eq!(
            help.contains(&action.description()),
            here,
            "{action} in the Partners help"
        );
    }
    // The palette offers every global and list action of this pane, and nothing else…
    let palette = a.palette_actions();
    for action in Action::ALL
        .iter()
        .filter(|x| matches!(x.context(), Context::Global | Context::List))
    {
        let offered = *action != Action::Palette
            && (action.context() == Context::Global || a.current().offers(*action))
            && a.needs(*action).is_none_or(|p| a.may(p));
        assert_eq!(palette.contains(action), offered, "{action} in the palette");
    }
    assert!(
        !palette.contains(&Action::Activate),
        "a deal action on the Partners pane"
    );
    // …and the form's actions while a form is open.
    let mut a = curator();
    a.perform(Action::New);
    let palette = a.palette_actions();
    for action in Action::ALL.iter().filter(|x| x.context() == Context::Form) {
        assert!(
            palette.contains(action),
            "{action} missing from the form palette"
        );
    }
}

#[test]
fn read_only_leaves_no_mutating_action_anywhere() {
    let mut a = app(true, &[Role::Admin]);
    assert!(a.keymap.actions().all(|x| !x.is_mutating()), "keymap");
    assert!(
        screen::help_lines(&a).iter().all(|(_, _, d)| Action::ALL
            .iter()
            .all(|x| !x.is_mutating() || x.description() != *d)),
        "help"
    );
    assert!(
        a.palette_actions().iter().all(|x| !x.is_mutating()),
        "palette"
    );
    // Typing the keys does nothing either.
    for key in ['n', 'e', 'v', 'd', 'D', 'O', 'c'] {
        let ev = crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::Char(key),
            crossterm::event::KeyModifiers::NONE,
        );
        let fx = a.update(Msg::Terminal(crossterm::event::Event::Key(ev)));
        assert!(fx.is_empty(), "{key} produced {fx:?}");
        assert!(a.panes.partners.form.is_none());
        assert!(matches!(a.overlay, Overlay::None));
    }
}

#[test]
fn stale_results_are_dropped() {
    let mut a = curator();
    a.perform(Action::Filter);
    let type_key = |a: &mut App, c: char| {
        let ev = crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::Char(c),
            crossterm::event::KeyModifiers::NONE,
        );
        a.update(Msg::Terminal(crossterm::event::Event::Key(ev)))
    };
    type_key(&mut a, 'b');
    let first = a.panes.partners.list.tag;
    type_key(&mut a, 'l');
    let second = a.panes.partners.list.tag;
    assert_ne!(first, second);
    // The answer to the newest request arrives first, then the stale one.
    let newest = vec![rows()[1].clone()];
    a.update(Msg::from(partners::Msg::Page {
        tag: second,
        mode: LoadMode::Replace,
        result: Ok(newest),
    }));
    a.update(Msg::from(partners::Msg::Page {
        tag: first,
        mode: LoadMode::Replace,
        result: Ok(rows()),
    }));
    assert_eq!(a.panes.partners.list.rows.len(), 1);
    assert_eq!(
        a.panes.partners.list.rows[0].display_name,
        "Bluebird Travel"
    );
}

#[test]
fn no_color_theme_has_no_colours() {
    let mut t = Theme::builtin("default").unwrap();
    t.strip_colours();
    let mut a = curator();
    a.theme = t;
    let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();
    term.draw(|f| screen::draw(f, &mut a)).unwrap();
    let buf = term.backend().buffer();
    for cell in buf.content() {
        assert_eq!(
            cell.fg,
            ratatui::style::Color::Reset,
            "a colour under NO_COLOR"
        );
        assert_eq!(
            cell.bg,
            ratatui::style::Color::Reset,
            "a colour under NO_COLOR"
        );
    }
}

// Deals ---------------------------------------------------------------------------------------

fn deal_rows() -> Vec<partnerdesk::store::deal_list::DealListRow> {
    use partnerdesk::domain::{AudienceScope, DealKind, DealState};
    let rows = [
        (
            "Spring sale at Aster Books",
            "Aster Books",
            DealKind::Coupon,
            AudienceScope::Public,
            None,
            DealState::Active,
            Some(100),
            37,
        ),
        (
            "Reunion weekend",
            "Bluebird Travel",
            DealKind::Link,
            AudienceScope::Batch,
            Some("2019"),
            DealState::Draft,
            None,
            0,
        ),
        (
            "One free coffee",
            "Driftwood Coffee Roasters",
            DealKind::Coupon,
            AudienceScope::Chapter,
            Some("Berlin"),
            DealState::Paused,
            Some(1),
            12,
        ),
        (
            "Winter gear",
            "Cobalt Cycles",
            DealKind::Link,
            AudienceScope::Alumni,
            None,
            DealState::Expired,
            Some(50),
            50,
        ),
    ];
    rows.iter()
        .enumerate()
        .map(
            |(i, (title, partner, kind, scope, value, state, cap, used))| {
                partnerdesk::store::deal_list::DealListRow {
                    id: 10 - i as i64,
                    partner_id: i as i64 + 1,
                    partner_name: (*partner).into(),
                    title: (*title).into(),
                    kind: *kind,
                    audience_scope: *scope,
                    audience_scope_value: value.map(str::to_owned),
                    valid_from: at(1),
                    valid_until: at(28),
                    redemption_cap: *cap,
                    redemption_count: *used,
                    state: *state,
                    version: 1,
                    sort_key: (10 - i).to_string(),
                }
            },
        )
        .collect()
}

pub(crate) fn deals_app() -> App {
    let mut a = curator();
    a.perform(Action::PaneDeals);
    let tag = a.panes.deals.list.tag;
    a.update(Msg::from(deals::Msg::Page {
        tag,
        mode: LoadMode::Replace,
        result: Ok(deal_rows()),
    }));
    a
}

#[test]
fn deals_list() {
    both_sizes("deals_list", deals_app);
}

/// A deal form with these fields typed over the defaults.
fn deal_form(values: &[(&str, &str)]) -> App {
    let mut a = deals_app();
    a.perform(Action::New);
    let form = a.form_mut().unwrap();
    // Fixed dates, so that snapshots do not depend on today.
    let fixed: &[(&str, &str)] = &[
        ("valid_from", "2026-03-01 09:00"),
        ("valid_until", "2026-03-31 18:00"),
    ];
    for (name, value) in fixed.iter().chain(values) {
        let i = form.fields.iter().position(|f| f.name == *name).unwrap();
        let f = &form.fields[i];
        form.fields[i] =
            partnerdesk::console::form::Field::new(f.name, f.label, f.hint, f.multiline, value);
    }
    a.form_changed();
    a
}

#[test]
fn deal_forms_with_errors_for_each_kind_and_scope() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        (
            "deal_form_coupon",
            &[
                ("partner", "1"),
                ("title", ""),
                ("kind", "coupon"),
                ("coupon_code", &"C".repeat(65)),
            ],
        ),
        (
            "deal_form_link",
            &[
                ("partner", "x"),
                ("title", "Ok"),
                ("kind", "link"),
                ("redemption_url", "ftp://x"),
            ],
        ),
        (
            "deal_form_batch",
            &[
                ("partner", "1"),
                ("title", "Ok"),
                ("coupon_code", "A"),
                ("audience_scope", "batch"),
                ("audience_scope_value", "last year"),
            ],
        ),
        (
            "deal_form_chapter",
            &[
                ("partner", "1"),
                ("title", "Ok"),
                ("coupon_code", "A"),
                ("audience_scope", "chapter"),
                ("valid_from", "2026-12-01 10:00"),
                ("valid_until", "2026-12-01 09:00"),
                ("redemption_cap", "0"),
            ],
        ),
        (
            "deal_form_public_with_value",
            &[
                ("partner", "1"),
                ("title", "Ok"),
                ("coupon_code", "A"),
                ("audience_scope", "everyone"),
            ],
        ),
    ];
    for (name, values) in cases {
        both_sizes(name, || deal_form(values));
    }
}

/// Answers the activation check that `effects` asked for.
fn activation_checked(
    a: &mut App,
    effects: &[Effect],
    refusal: Option<&str>,
    warning: Option<&str>,
) {
    let (tag, id, version, title, from) = effects
        .iter()
        .find_map(|e| match e.pane() {
            Some(deals::Effect::CheckActivation {
                tag,
                id,
                version,
                title,
                from,
            }) => Some((*tag, *id, *version, title.clone(), *from)),
            _ => None,
        })
        .expect("activating reads the partner and its agreements first");
    a.update(Msg::from(deals::Msg::ActivationChecked {
        tag,
        id,
        version,
        title,
        from,
        result: Ok(partnerdesk::service::deals::ActivationCheck {
            refusal: refusal.map(str::to_owned),
            warning: warning.map(str::to_owned),
        }),
    }));
}

#[test]
fn deal_state_confirmations() {
    let cases = [
        ("deal_confirm_activate", 1, Action::Activate),
        ("deal_confirm_pause", 0, Action::Pause),
        ("deal_confirm_expire", 2, Action::Expire),
    ];
    for (name, row, action) in cases {
        both_sizes(name, || {
            let mut a = deals_app();
            a.panes.deals.list.selected = row;
            let effects = a.perform(action);
            if action == Action::Activate {
                // The partner and its agreements are read first; the question says what the
                // statements will make of the window.
                activation_checked(
                    &mut a,
                    &effects,
                    None,
                    Some(
                        "The window starts 2026-12-13 but Acme's first agreement starts 2027-01-01: redemptions before 2027-01-01 will be listed as exceptions (\"no agreement in effect\") on the first statement.",
                    ),
                );
            }
            a
        });
    }
    // A partner that is not verified: refused before asking.
    let mut a = deals_app();
    a.panes.deals.list.selected = 1;
    let effects = a.perform(Action::Activate);
    assert!(matches!(a.overlay, Overlay::None), "nothing asked yet");
    activation_checked(
        &mut a,
        &effects,
        Some(
            "deal cannot become active: partner Acme (#3) is pending, not verified; vet the partner first",
        ),
        None,
    );
    assert!(matches!(a.overlay, Overlay::None));
    assert_eq!(
        a.toasts.last().unwrap().text,
        "deal cannot become active: partner Acme (#3) is pending, not verified; vet the partner first"
    );
    // A refused move is explained, not asked.
    let mut a = deals_app();
    a.panes.deals.list.selected = 3;
    a.perform(Action::Activate);
    assert!(matches!(a.overlay, Overlay::None));
    assert_eq!(
        a.toasts.last().unwrap().text,
        "cannot move deal #7 from expired to active: an expired deal is final; duplicate it into a new draft"
    );
}
