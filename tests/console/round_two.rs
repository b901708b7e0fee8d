//! What got in the way in an hour of daily use of the newer panes (issue "Daily use, round
//! two"), each shown as the user saw it.

use super::{curator, key, render};
use partnerdesk::console::action::Action;
use partnerdesk::console::app::Overlay;

#[test]
fn the_palette_opens_on_this_panes_actions_and_enter_does_not_quit() {
    let mut a = curator();
    let actions = a.palette_actions();
    assert_eq!(actions.last(), Some(&Action::Quit), "{actions:?}");
    assert!(
        !actions[0].moves_in_list() && actions[0] != Action::Quit,
        "{actions:?}"
    );
    key(&mut a, ':');
    let screen = render(&mut a, 80, 24);
    let first = screen
        .lines()
        .skip_while(|l| !l.contains("Command palette"))
        .nth(3)
        .unwrap();
    assert!(!first.contains("Quit"), "{screen}");
    a.update(partnerdesk::console::msg::Msg::Terminal(
        crossterm::event::Event::Key(crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::Enter,
            crossterm::event::KeyModifiers::NONE,
        )),
    ));
    assert!(!a.should_quit);
    assert!(!matches!(a.overlay, Overlay::Palette(_)));
}

/// A deal detail open on the Deals pane.
fn deal_detail(description: &str) -> partnerdesk::console::app::App {
    use partnerdesk::console::panes::deals::DealDetail;
    use partnerdesk::domain::{AudienceScope, DealKind, DealState};
    use partnerdesk::store::deals::Deal;
    let mut a = super::deals_app();
    let at = super::at(2);
    a.panes.deals.detail.open = true;
    a.panes.deals.detail.data = Some(DealDetail {
        deal: Deal {
            id: 7,
            partner_id: 1,
            title: "Launch week".into(),
            description: description.into(),
            kind: DealKind::Coupon,
            coupon_code: Some("LAUNCH20".into()),
            redemption_url: None,
            categories: vec![],
            audience_scope: AudienceScope::Public,
            audience_scope_value: None,
            valid_from: at,
            valid_until: at,
            redemption_cap: None,
            redemption_count: 0,
            state: DealState::Draft,
            published_at: None,
            created_at: at,
            created_by: "cara".into(),
            updated_at: at,
            updated_by: "cara".into(),
            version: 1,
        },
        partner_name: "Aster Books".into(),
        codes: vec![],
        timeline: vec![],
    });
    a
}

#[test]
fn a_deal_description_keeps_its_line_breaks() {
    let mut a = deal_detail("Line one\nLine two\n\nLine four");
    for (w, h) in [(80, 24), (120, 40)] {
        let screen = render(&mut a, w, h);
        assert!(!screen.contains("Line oneLine two"), "{screen}");
        let lines: Vec<&str> = screen.lines().collect();
        let one = lines.iter().position(|l| l.contains("Line one")).unwrap();
        assert!(lines[one].contains("Description"), "{screen}");
        assert!(lines[one + 1].contains("Line two"), "{screen}");
        // (At 80×24 the box ends there: it scrolls, see the negotiations timeline.)
        if h == 40 {
            assert!(lines[one + 3].contains("Line four"), "{screen}");
        }
    }
}

#[test]
fn the_negotiations_list_shows_ids_and_cuts_text_with_an_ellipsis_never_numbers() {
    use partnerdesk::console::msg::{LoadMode, Msg};
    use partnerdesk::console::panes::negotiations;
    use partnerdesk::domain::negotiation::ThreadStatus;
    use partnerdesk::store::negotiations::ThreadRow;
    let mut a = curator();
    a.perform(Action::PaneNegotiations);
    let at = super::at(20);
    let row = |id: i64, subject: &str, partner: &str, status, rev: Option<i32>| ThreadRow {
        id,
        subject: subject.into(),
        partner_id: id,
        partner_name: partner.into(),
        status,
        latest_revision: rev,
        latest_side: rev.map(|_| "marketplace".into()),
        turn: (status == ThreadStatus::Negotiating).then(|| "partner".into()),
        deadline: at,
        updated_at: at,
    };
    let tag = a.panes.negotiations.list.tag;
    a.update(Msg::from(negotiations::Msg::Page {
        tag,
        mode: LoadMode::Replace,
        result: Ok(vec![
            row(
                112,
                "Hybrid terms for the spring catalogue",
                "Bluebird Travel",
                ThreadStatus::Negotiating,
                Some(3),
            ),
            row(
                7,
                "Listing fee",
                "Aster Books",
                ThreadStatus::Accepted,
                Some(1),
            ),
        ]),
    }));
    for (w, h) in [(80, 24), (120, 40)] {
        let screen = render(&mut a, w, h);
        insta::assert_snapshot!(format!("round_two_negotiations_list_{w}x{h}"), screen);
        let line = screen.lines().find(|l| l.contains("112")).unwrap();
        // Whatever is cut ends in …; the id, status, turn and deadline are whole.
        assert!(
            line.contains("Hybrid") && line.contains("Bluebird"),
            "{line}"
        );
        for whole in ["negotiating", "partner", "2026-03-20 09:30"] {
            assert!(line.contains(whole), "{whole}: {line}");
        }
        for word in line.split('│').flat_map(|c| c.split_whitespace()) {
            let known = "112 Hybrid terms for the spring catalogue Bluebird Travel negotiating r3 by marketplace partner 2026-03-20 09:30 ! —";
            assert!(
                known.split(' ').any(|k| k == word) || word.ends_with('…'),
                "{word} is cut without …: {line}"
            );
        }
    }
}

#[test]
fn an_empty_deal_form_does_not_call_itself_valid() {
    let mut a = super::deals_app();
    a.perform(Action::New);
    for (w, h) in [(80, 24), (120, 40)] {
        let screen = render(&mut a, w, h);
        assert!(!screen.contains("all fields valid"), "{screen}");
        assert!(screen.contains("nothing typed yet"), "{screen}");
    }
}

#[test]
fn ctrl_u_clears_the_filter_line_and_ctrl_w_its_last_word() {
    use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
    use partnerdesk::console::msg::Msg;
    let mut a = curator();
    let ctrl = |a: &mut partnerdesk::console::app::App, c: char| {
        a.update(Msg::Terminal(Event::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::CONTROL,
        ))))
    };
    a.perform(Action::Filter);
    for c in "aster books".chars() {
        key(&mut a, c);
    }
    ctrl(&mut a, 'w');
    assert_eq!(a.filter_input.as_deref(), Some("aster "));
    ctrl(&mut a, 'u');
    assert_eq!(a.filter_input.as_deref(), Some(""));
}

#[test]
fn deleting_a_partner_with_live_deals_offers_no_delete_button() {
    let mut a = curator();
    let mut d = super::detail();
    d.deals_by_state = vec![("active".into(), 2), ("expired".into(), 1)];
    a.panes.partners.detail.open = true;
    a.panes.partners.detail.data = Some(d);
    a.perform(Action::Delete);
    for (w, h) in [(80, 24), (120, 40)] {
        let screen = render(&mut a, w, h);
        insta::assert_snapshot!(format!("round_two_partner_delete_refused_{w}x{h}"), screen);
        assert!(screen.contains("cannot be deleted yet"), "{screen}");
        assert!(screen.contains("3 deals, 2 not expired"), "{screen}");
        assert!(!screen.contains(" Delete "), "{screen}");
    }
    assert!(matches!(a.overlay, Overlay::Info { .. }));
}

#[test]
fn control_characters_from_data_are_shown_escaped_never_dropped_or_sent() {
    // Rows stored before the database refused them: a title with a terminal title sequence,
    // a name with BEL.
    let mut a = super::deals_app();
    a.panes.deals.list.rows[0].title = "Spring \u{1b}]0;pwned\u{7} sale".into();
    let screen = render(&mut a, 120, 40);
    assert!(screen.contains("Spring \\x1b]0;pwned"), "{screen}");
    assert!(!screen.contains('\u{1b}'));
    // A message quoting data, and a detail.
    a.toast_error("cannot pause “Spring \u{1b}[2J sale”");
    let screen = render(&mut a, 120, 40);
    assert!(screen.contains("“Spring \\x1b[2J sale”"), "{screen}");
    let mut a = curator();
    let mut d = super::detail();
    d.partner.notes = Some("ring \u{7} twice".into());
    a.panes.partners.detail.open = true;
    a.panes.partners.detail.data = Some(d);
    let screen = render(&mut a, 120, 40);
    assert!(screen.contains("ring \\x07 twice"), "{screen}");
}

#[test]
fn a_fast_tab_in_the_partner_picker_completes_when_the_answer_comes() {
    use partnerdesk::console::msg::Msg;
    use partnerdesk::console::panes::deals;
    use partnerdesk::domain::VerificationState;
    let mut a = super::deals_app();
    a.perform(Action::New);
    let mut fx = Vec::new();
    for c in "umber".chars() {
        fx = key(&mut a, c);
    }
    let tag = fx
        .iter()
        .find_map(|e| match e.pane() {
            Some(deals::Effect::FindPartners { tag, .. }) => Some(*tag),
            _ => None,
        })
        .expect("a lookup");
    // Tab at once, before the answer: it stays on the field and asks nothing again.
    let fx = a.perform(Action::NextField);
    assert!(
        !fx.iter()
            .any(|e| matches!(e.pane(), Some(deals::Effect::FindPartners { .. }))),
        "{fx:?}"
    );
    assert_eq!(a.form_mut().unwrap().focused(), Some("partner"));
    // The answer comes a second later: the field completes against what was typed.
    a.update(Msg::from(deals::Msg::PartnersFound {
        tag,
        result: Ok(vec![deals::PartnerChoice {
            id: 22,
            name: "Umber Stationers".into(),
            state: VerificationState::Verified,
        }]),
    }));
    let form = a.form_mut().unwrap();
    assert_eq!(form.value("partner"), "Umber Stationers #22");
    assert_eq!(form.errors.for_field("partner"), None);
    assert_eq!(form.focused(), Some("partner"));
}

#[test]
fn kind_and_audience_are_pickers_of_the_allowed_values() {
    use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
    use partnerdesk::console::msg::Msg;
    let press = |a: &mut partnerdesk::console::app::App, code| {
        a.update(Msg::Terminal(Event::Key(KeyEvent::new(
            code,
            KeyModifiers::NONE,
        ))))
    };
    let mut a = super::deals_app();
    a.perform(Action::New);
    while a.form_mut().unwrap().focused() != Some("kind") {
        a.perform(Action::NextField);
    }
    assert_eq!(a.form_mut().unwrap().value("kind"), "coupon");
    press(&mut a, KeyCode::Right);
    assert_eq!(a.form_mut().unwrap().value("kind"), "link");
    // Free text does not reach it; a letter picks the value it starts with.
    key(&mut a, 'x');
    assert_eq!(a.form_mut().unwrap().value("kind"), "link");
    key(&mut a, 'c');
    assert_eq!(a.form_mut().unwrap().value("kind"), "coupon");
    press(&mut a, KeyCode::Left);
    assert_eq!(a.form_mut().unwrap().value("kind"), "link");
    let screen = render(&mut a, 120, 40);
    assert!(screen.contains("←/→ or Space: coupon or link"), "{screen}");
    while a.form_mut().unwrap().focused() != Some("audience_scope") {
        a.perform(Action::NextField);
    }
    key(&mut a, ' ');
    assert_eq!(a.form_mut().unwrap().value("audience_scope"), "institute");
    key(&mut a, 'b');
    assert_eq!(a.form_mut().unwrap().value("audience_scope"), "batch");
}

#[test]
fn the_edit_conflict_dialog_says_which_field_changed_on_both_sides() {
    use partnerdesk::console::msg::Msg;
    use partnerdesk::console::panes::deals;
    let mut a = deal_detail("Line one");
    a.perform(Action::Edit);
    assert!(a.form_mut().is_some(), "the edit form opens");
    // Yours: a new title; the description left alone.
    let form = a.form_mut().unwrap();
    form.set_value("title", "Launch week, extended");
    let tag = a.panes.deals.save.tag;
    let fx = a.update(Msg::from(deals::Msg::Saved {
        tag,
        result: Err(partnerdesk::Error::Conflict {
            entity: "deal",
            id: "7".into(),
            changed_by: "dan".into(),
            changed_at: super::at(3),
            current_version: 2,
        }),
    }));
    assert!(
        fx.iter()
            .any(|e| matches!(e.pane(), Some(deals::Effect::Theirs { id: 7 }))),
        "{fx:?}"
    );
    // Theirs: the title and the description changed.
    let mut theirs = a.panes.deals.detail.data.as_ref().unwrap().deal.clone();
    theirs.title = "Launch fortnight".into();
    theirs.description = "Line one\nand two".into();
    theirs.version = 2;
    a.update(Msg::from(deals::Msg::Theirs { result: Ok(theirs) }));
    let Overlay::Confirm(c) = &a.overlay else {
        panic!("the conflict dialog:\n{}", render(&mut a, 80, 24));
    };
    assert!(
        c.body.iter().any(|l| l
            == "Title: theirs “Launch fortnight” (was “Launch week”) · yours “Launch week, extended”"),
        "{:?}",
        c.body
    );
    assert!(
        c.body
            .iter()
            .any(|l| l
                == "Description: theirs “Line one ⏎ and two” (was “Line one”) · yours unchanged"),
        "{:?}",
        c.body
    );
    for (w, h) in [(80, 24), (120, 40)] {
        insta::assert_snapshot!(
            format!("round_two_edit_conflict_{w}x{h}"),
            render(&mut a, w, h)
        );
    }
}

#[test]
fn the_partner_edit_conflict_dialog_says_which_field_changed() {
    use partnerdesk::console::msg::Msg;
    use partnerdesk::console::panes::partners;
    let mut a = curator();
    a.panes.partners.detail.open = true;
    a.panes.partners.detail.data = Some(super::detail());
    a.perform(Action::Edit);
    let form = a.form_mut().expect("the edit form");
    form.set_value("legal_name", "Bluebird Travel AG");
    let tag = a.panes.partners.save.tag;
    let fx = a.update(Msg::from(partners::Msg::Saved {
        tag,
        result: Err(partnerdesk::Error::Conflict {
            entity: "partner",
            id: "2".into(),
            changed_by: "dan".into(),
            changed_at: super::at(4),
            current_version: 3,
        }),
    }));
    assert!(
        fx.iter()
            .any(|e| matches!(e.pane(), Some(partners::Effect::Theirs { id: 2 }))),
        "{fx:?}"
    );
    let mut theirs = super::detail().partner;
    theirs.notes = Some("Met at the autumn fair.".into());
    theirs.version = 3;
    a.update(Msg::from(partners::Msg::Theirs { result: Ok(theirs) }));
    let Overlay::Confirm(c) = &a.overlay else {
        panic!("the conflict dialog:\n{}", render(&mut a, 80, 24));
    };
    assert!(
        c.body.iter().any(|l| l
            == "Notes: theirs “Met at the autumn fair.” (was “Met at the spring fair.”) · yours unchanged"),
        "{:?}",
        c.body
    );
    assert!(
        !c.body.iter().any(|l| l.starts_with("Legal name")),
        "{:?}",
        c.body
    );
}

/// Item 11: the deal form says beside each date what a bare date means, and reads it so.
#[test]
fn the_deal_forms_dates_say_what_a_bare_date_means() {
    use partnerdesk::console::panes::deals::draft_of;
    let mut a = super::deal_form(&[
        ("partner", "1"),
        ("valid_from", "2026-12-01"),
        ("valid_until", "2026-12-08"),
    ]);
    // The hint stands beside the field being typed in.
    for (name, label, says) in [
        ("valid_from", "Valid from", "local; a bare date is 00:00"),
        (
            "valid_until",
            "Valid until",
            "local; a date is the whole day",
        ),
    ] {
        let form = a.form_mut().unwrap();
        form.focus = form.fields.iter().position(|f| f.name == name).unwrap();
        for (w, h) in [(80, 24), (120, 40)] {
            let s = render(&mut a, w, h);
            let line = s.lines().find(|l| l.contains(label)).unwrap();
            assert!(line.contains(says), "{w}x{h}: {line}");
        }
    }
    // The form reads in the operator's zone (pinned to UTC here): the window is the whole
    // of 1–8 December.
    let (d, errs) = draft_of(a.form_mut().unwrap());
    assert!(errs.is_empty(), "{errs:?}");
    let utc = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc();
    assert_eq!(d.valid_from, Some(utc("2026-12-01T00:00:00Z")));
    assert_eq!(d.valid_until, Some(utc("2026-12-09T00:00:00Z")));
}
