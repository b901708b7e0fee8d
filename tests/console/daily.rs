//! What a new user tripped over in the console (issue "Daily use"), each shown as the user saw
//! it.

use super::{deal_form, render};

#[test]
fn a_field_opened_for_edit_shows_its_text_from_the_first_letter() {
    // The title fills its box exactly at 80 columns (29 cells), as a deal opened for edit can.
    let title = "Launch week: 20% off all kits";
    assert_eq!(title.chars().count(), 29);
    let mut a = deal_form(&[("partner", "1"), ("title", title)]);
    a.form_mut().unwrap().focus = 0;
    let screen = render(&mut a, 80, 24);
    let line = screen.lines().find(|l| l.contains("Title")).unwrap();
    assert!(line.contains(title), "{line}");
    // Longer than its box: the start, cut with an ellipsis.
    let long = "Launch week: 20% off all kits and every accessory";
    let mut a = deal_form(&[("partner", "1"), ("title", long)]);
    a.form_mut().unwrap().focus = 0;
    let screen = render(&mut a, 80, 24);
    let line = screen.lines().find(|l| l.contains("Title")).unwrap();
    assert!(line.contains("Launch week: 20% off all kit…"), "{line}");
}

#[test]
fn help_and_palette_follow_the_operators_roles_and_the_pane() {
    use partnerdesk::console::action::Action;
    use partnerdesk::console::app::Overlay;
    use partnerdesk::domain::Role;
    let mut a = super::app(false, &[Role::Support]);
    // Support may not vet partners: the palette does not offer it, the help says who may.
    let palette = a.palette_actions();
    assert!(!palette.contains(&Action::MarkVetted), "{palette:?}");
    assert!(!palette.contains(&Action::New));
    // Every list exports what it shows (`x`), whatever the roles.
    assert!(palette.contains(&Action::Export));
    a.perform(Action::Help);
    let screen = render(&mut a, 120, 40);
    let vet = screen
        .lines()
        .find(|l| l.contains("mark the partner vetted"))
        .unwrap();
    assert!(vet.contains("(needs curator or admin)"), "{vet}");
    assert!(screen.contains("export the list as CSV"), "{screen}");
    // The palette speaks as people do, with every key of an action whole.
    let mut a = super::curator();
    a.perform(Action::Palette);
    if let Overlay::Palette(p) = &mut a.shell.overlay {
        p.query = "page down".into();
        p.refilter();
    }
    let screen = render(&mut a, 80, 24);
    let line = screen.lines().find(|l| l.contains("Page down")).unwrap();
    assert!(line.contains("Ctrl-d/PgDn │"), "{line}");
    assert!(!screen.contains("page_down"), "{screen}");
}

#[test]
fn a_long_message_wraps_above_the_rows_and_can_be_read_whole() {
    use partnerdesk::console::action::Action;
    let mut a = super::curator();
    let long = "cannot delete partner #3 Cobalt Cycles: it has 12 deals that are not expired \
                (7 active, 3 paused, 2 draft); expire them first, or off-board the partner to \
                pause them all in one step";
    a.toast_error(long);
    let screen = render(&mut a, 80, 24);
    let lines: Vec<&str> = screen.lines().collect();
    // Every word is on screen, the wrapped lines indented, and the table's rows uncovered.
    let start = lines
        .iter()
        .position(|l| l.contains("cannot delete"))
        .unwrap();
    assert!(lines[start + 1].starts_with("   "), "{screen}");
    let shown: String = lines[start..].join(" ");
    for word in long.split_whitespace() {
        assert!(shown.contains(word), "{word} missing:\n{screen}");
    }
    assert!(
        lines[start - 1].starts_with('└'),
        "toasts sit below the table:\n{screen}"
    );
    assert!(screen.contains("Driftwood"), "{screen}");
    // `M` opens the messages whole.
    a.perform(Action::Messages);
    let screen = render(&mut a, 120, 40);
    assert!(screen.contains("Messages"), "{screen}");
    assert!(screen.contains("off-board the partner"), "{screen}");
}

#[test]
fn columns_take_the_width_there_is() {
    let mut a = super::curator();
    let screen = render(&mut a, 120, 40);
    // The longest domain and name are whole at 120 columns; ids are shown.
    assert!(
        screen.contains("driftwood-coffee-roasters.shop"),
        "{screen}"
    );
    assert!(screen.contains("Driftwood Coffee Roasters"), "{screen}");
    let header = screen.lines().find(|l| l.starts_with("│Name")).unwrap();
    assert!(
        header.trim_end_matches('│').trim_end().ends_with("ID"),
        "{header}"
    );
}

#[test]
fn the_footer_shows_the_panes_main_keys_and_can_be_hidden() {
    let mut a = super::curator();
    let screen = render(&mut a, 80, 24);
    let footer = screen.lines().rev().nth(1).unwrap();
    assert!(
        footer.contains("Enter open") && footer.contains("/ filter"),
        "{footer}"
    );
    a.shell.footer = false;
    let screen = render(&mut a, 80, 24);
    assert!(!screen.contains("Enter open"), "{screen}");
}

#[test]
fn vetting_after_failed_checks_says_which_failed_and_asks_again() {
    use partnerdesk::console::action::Action;
    use partnerdesk::console::app::Overlay;
    let mut a = super::curator();
    let mut d = super::detail();
    d.checks.push(partnerdesk::service::vetting::CheckResult {
        check_name: "logo".into(),
        outcome: "fail".into(),
        detail: "image/gif is not PNG or SVG".into(),
        data: serde_json::json!({}),
        checked_at: super::at(3),
        checked_by: "cara".into(),
    });
    a.panes.partners.detail.open = true;
    a.panes.partners.detail.data = Some(d);
    a.perform(Action::MarkVetted);
    let Overlay::Confirm(c) = &a.shell.overlay else {
        panic!("a question is asked");
    };
    assert_eq!(
        c.title,
        "Mark Bluebird Travel vetted although checks failed?"
    );
    assert!(
        c.body
            .iter()
            .any(|l| l.contains("✕ logo: image/gif is not PNG or SVG")),
        "{:?}",
        c.body
    );
    assert_eq!(c.choices, ["Cancel", "Vet anyway"]);
    // The delete question counts the partner's deals: while some are not expired it is no
    // question (round two: no Delete button beside "refused").
    a.shell.overlay = Overlay::None;
    a.perform(Action::Delete);
    let Overlay::Info { lines, .. } = &a.shell.overlay else {
        panic!("it says why not");
    };
    assert!(
        lines[0].starts_with("It has 3 deals, 3 not expired"),
        "{lines:?}"
    );
    // From the list, without the detail, the checks are loaded before asking.
    let mut a = super::curator();
    let fx = a.perform(Action::MarkVetted);
    assert!(matches!(a.shell.overlay, Overlay::None));
    assert!(
        fx.iter().any(|e| format!("{e:?}").contains("LoadDetail")),
        "{fx:?}"
    );
}

#[test]
fn a_partner_back_to_pending_does_not_show_its_old_vetting() {
    use partnerdesk::domain::VerificationState;
    let mut a = super::curator();
    // Bluebird is pending in the fixture: give it an old vetting, as a re-vet leaves it.
    let row = &mut a.panes.partners.list.rows[1];
    assert_eq!(row.verification, VerificationState::Pending);
    row.vetted_by = Some("cara".into());
    row.vetted_at = Some(super::at(2));
    let screen = render(&mut a, 120, 40);
    let line = screen
        .lines()
        .find(|l| l.contains("Bluebird Travel"))
        .unwrap();
    assert!(!line.contains("cara"), "{line}");
    let mut d = super::detail();
    d.partner.vetted_by = Some("cara".into());
    d.partner.vetted_at = Some(super::at(2));
    a.panes.partners.detail.open = true;
    a.panes.partners.detail.data = Some(d);
    let screen = render(&mut a, 120, 40);
    let line = screen.lines().find(|l| l.contains("Vetted")).unwrap();
    assert!(line.contains("not now: back to pending"), "{line}");
}

#[test]
fn a_deals_partner_is_picked_by_name_and_shown_beside_the_field() {
    use partnerdesk::console::action::Action;
    use partnerdesk::console::msg::Msg;
    use partnerdesk::console::panes::deals;
    use partnerdesk::domain::VerificationState;
    let mut a = super::deals_app();
    a.perform(Action::New);
    assert_eq!(a.form_mut().unwrap().focused(), Some("partner"));
    let mut fx = Vec::new();
    for c in "aster".chars() {
        fx = super::key(&mut a, c);
    }
    let tag = fx
        .iter()
        .find_map(|e| match e.pane() {
            Some(deals::Effect::FindPartners { tag, text }) => {
                assert_eq!(text, "aster");
                Some(*tag)
            }
            _ => None,
        })
        .expect("typing a name looks the partner up");
    let choice = |id: i64, name: &str| deals::PartnerChoice {
        id,
        name: name.into(),
        state: VerificationState::Verified,
    };
    a.update(Msg::from(deals::Msg::PartnersFound {
        tag,
        result: Ok(vec![choice(7, "Aster Books"), choice(25, "Aster Cinema")]),
    }));
    let screen = render(&mut a, 120, 40);
    let line = screen.lines().find(|l| l.contains("Partner ")).unwrap();
    assert!(
        line.contains("Tab picks Aster Books #7 (verified); 1 more"),
        "{line}"
    );
    // A bare name is not a partner: saving is refused until it is picked.
    assert!(a.form_mut().unwrap().errors.for_field("partner").is_some());
    // Tab completes it; the field then names the partner and says its state.
    a.perform(Action::NextField);
    let form = a.form_mut().unwrap();
    assert_eq!(form.value("partner"), "Aster Books #7");
    assert_eq!(form.focused(), Some("partner"));
    assert_eq!(form.errors.for_field("partner"), None);
    let screen = render(&mut a, 120, 40);
    let line = screen.lines().find(|l| l.contains("Partner ")).unwrap();
    assert!(line.contains("✓ Aster Books (verified)"), "{line}");
    // Tab again moves on.
    a.perform(Action::NextField);
    assert_eq!(a.form_mut().unwrap().focused(), Some("title"));
}

#[test]
fn keys_typed_while_the_terminal_is_too_small_leave_the_hidden_form_alone() {
    use partnerdesk::console::app::Overlay;
    let mut a = super::curator();
    super::key(&mut a, 'n');
    assert!(a.form_mut().is_some(), "the new partner form is open");
    let before = render(&mut a, 80, 24);
    let small = render(&mut a, 79, 24);
    assert!(small.contains("terminal too small"), "{small}");
    for c in "Northwind".chars() {
        super::key(&mut a, c);
    }
    let paste = crossterm::event::Event::Paste("pasted".into());
    a.update(partnerdesk::console::msg::Msg::Terminal(paste));
    assert_eq!(render(&mut a, 80, 24), before, "the form is unchanged");
    // A resize event alone (no draw yet) is enough to know; help still opens.
    a.update(partnerdesk::console::msg::Msg::Terminal(
        crossterm::event::Event::Resize(80, 23),
    ));
    super::key(&mut a, 'x');
    let f1 = crossterm::event::KeyEvent::new(
        crossterm::event::KeyCode::F(1),
        crossterm::event::KeyModifiers::NONE,
    );
    a.update(partnerdesk::console::msg::Msg::Terminal(
        crossterm::event::Event::Key(f1),
    ));
    assert!(matches!(a.overlay, Overlay::Help { .. }));
    a.update(partnerdesk::console::msg::Msg::Terminal(
        crossterm::event::Event::Resize(80, 24),
    ));
    a.overlay = Overlay::None;
    assert_eq!(render(&mut a, 80, 24), before, "the form is unchanged");
    // At full size typing edits the form again.
    super::key(&mut a, 'N');
    assert_ne!(render(&mut a, 80, 24), before);
}

#[test]
fn the_status_line_says_why_the_connection_failed() {
    use partnerdesk::console::msg::Msg;
    use partnerdesk::error::{DbError, DbErrorKind, Error};
    let target = "cara@db.example:5432/partnerdesk";
    let refused = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
    let tls = sqlx::Error::Tls("invalid peer certificate: UnknownIssuer".into());
    let auth = DbError::new(
        DbErrorKind::Authentication,
        format!("{target}: password authentication failed for user \"cara\""),
    );
    for (err, (w, h), shown) in [
        (
            DbError::at(&refused, target),
            (120, 40),
            "✕ connection refused (is the server running?)",
        ),
        (
            DbError::at(&refused, target),
            (80, 24),
            "✕ connection refused (is the serve…",
        ),
        (
            DbError::at(&tls, target),
            (120, 40),
            "✕ TLS failed: invalid peer certificate: UnknownIssuer",
        ),
        (
            auth,
            (120, 40),
            "✕ password authentication failed for user \"cara\"",
        ),
    ] {
        let mut a = super::curator();
        a.update(Msg::ConnectFailed(Error::Database(err)));
        let screen = render(&mut a, w, h);
        let status = screen.lines().last().unwrap();
        assert!(status.contains(shown), "{w}×{h}: {status}");
        assert!(status.ends_with("?/F1 help"), "the hint stays: {status}");
    }
}
