//! Marks on a list: Space, V, Ctrl-a and Esc, the title's count, and what a filter hides.

use super::{both_sizes, deals_app, key, render};
use partnerdesk::console::action::Action;
use partnerdesk::console::list::Marked;
use partnerdesk::console::msg::{Effect, Msg};

fn marked(a: &partnerdesk::console::app::App) -> Vec<i64> {
    let mut ids: Vec<i64> = a
        .panes
        .deals
        .list
        .marks
        .rows()
        .iter()
        .map(|m| m.id)
        .collect();
    ids.sort();
    ids
}

/// Space on the first two rows, then down once and V from the last mark: all four rows.
fn all_four_marked() -> partnerdesk::console::app::App {
    let mut a = deals_app();
    key(&mut a, ' ');
    key(&mut a, ' ');
    a.perform(Action::Down);
    key(&mut a, 'V');
    a
}

#[test]
fn space_marks_and_moves_down_v_marks_a_range_and_the_title_counts() {
    let a = all_four_marked();
    let ids: Vec<i64> = a.panes.deals.list.rows.iter().map(|r| r.id).collect();
    // Space on rows 0 and 1 (the selection moves on to 2), down to row 3, then V from the
    // last row marked (1): rows 0 to 3.
    let mut want = ids[..4].to_vec();
    want.sort();
    assert_eq!(marked(&a), want);
    // The versions are those the rows had when they were marked.
    assert!(
        a.panes
            .deals
            .list
            .marks
            .rows()
            .iter()
            .all(|m| m.version == Some(1))
    );
    both_sizes("deals_marked", all_four_marked);
    let mut a = all_four_marked();
    assert!(render(&mut a, 120, 40).contains("4 marked"));
    // Space on a marked row unmarks it.
    a.perform(Action::Top);
    key(&mut a, ' ');
    assert_eq!(marked(&a).len(), 3);
}

#[test]
fn esc_clears_the_marks_first_then_the_filter() {
    let mut a = all_four_marked();
    a.perform(Action::Back);
    assert!(marked(&a).is_empty());
    assert!(render(&mut a, 120, 40).contains("marks cleared"));
    assert!(!render(&mut a, 120, 40).contains(" marked "));
}

#[test]
fn ctrl_a_asks_the_server_for_every_row_and_a_filter_that_hides_marks_says_how_many() {
    let mut a = deals_app();
    let fx = a.perform(Action::MarkAll);
    let (pane, tag) = match &fx[..] {
        [Effect::MarkAll { pane, tag, .. }] => (*pane, *tag),
        other => panic!("Ctrl-a asks the server: {other:?}"),
    };
    assert_eq!(pane, "deals");
    // The server's answer: every row the filter matches, more than the page shows.
    let rows: Vec<Marked> = (1..=2500)
        .map(|id| Marked {
            id,
            version: Some(1),
        })
        .collect();
    // An older answer is dropped.
    a.update(Msg::MarkedAll {
        pane,
        tag: tag - 1,
        result: Ok(rows[..3].to_vec()),
    });
    assert!(marked(&a).is_empty());
    a.update(Msg::MarkedAll {
        pane,
        tag,
        result: Ok(rows),
    });
    assert_eq!(marked(&a).len(), 2500);
    let shown = a.panes.deals.list.rows.len();
    let on_screen = a
        .panes
        .deals
        .list
        .rows
        .iter()
        .filter(|r| r.id <= 2500)
        .count();
    let s = render(&mut a, 120, 40);
    assert!(s.contains("2500 marked"), "{s}");
    assert!(
        s.contains(&format!("({} not shown)", 2500 - on_screen)),
        "{shown} rows shown: {s}"
    );
}

/// The four deals marked, then `p`: one confirmation naming the count and the action.
fn bulk_pause_asked() -> partnerdesk::console::app::App {
    let mut a = all_four_marked();
    a.perform(Action::Pause);
    a
}

#[test]
fn a_bulk_pause_asks_once_runs_each_row_shows_progress_and_keeps_the_refused_marked() {
    use partnerdesk::console::app::Overlay;
    use partnerdesk::domain::bulk::BulkReport;
    both_sizes("deals_bulk_pause_confirm", bulk_pause_asked);
    let mut a = bulk_pause_asked();
    match &a.overlay {
        Overlay::Confirm(c) => assert_eq!(c.title, "Pause 4 deals?"),
        _ => panic!("a confirmation"),
    }
    // The safe answer is the default: Enter on it runs nothing.
    let mut b = bulk_pause_asked();
    assert!(b.perform(Action::Confirm).is_empty());
    // The other answer runs one job over the four marks, with the versions they were marked at.
    a.perform(Action::ToggleChoice);
    let fx = a.perform(Action::Confirm);
    let job = match &fx[..] {
        [Effect::Bulk(job)] => job,
        other => panic!("one bulk job: {other:?}"),
    };
    assert_eq!(job.pane, "deals");
    assert_eq!(job.targets.len(), 4);
    assert!(job.targets.iter().all(|t| t.version == Some(1)));
    let ids: Vec<i64> = job.targets.iter().map(|t| t.id).collect();
    // Progress shows in the status line.
    a.update(Msg::BulkProgress { done: 2, total: 4 });
    let s = render(&mut a, 120, 40);
    assert!(s.contains("pause 4 deals: 2/4 · Esc cancels"), "{s}");
    // The summary: two paused, two refused; the refused stay marked and the list reloads.
    let report = BulkReport {
        verb: "paused",
        done: vec![ids[0], ids[1]],
        refused: vec![
            (ids[2], "changed elsewhere".into()),
            (ids[3], "already expired".into()),
        ],
        not_tried: Vec::new(),
        dry_run: false,
    };
    let fx = a.update(Msg::BulkDone {
        pane: "deals",
        result: Ok(report),
    });
    assert!(!fx.is_empty(), "the list reloads");
    let mut left = vec![ids[2], ids[3]];
    left.sort();
    assert_eq!(marked(&a), left);
    let s = render(&mut a, 120, 40);
    assert!(
        s.contains(&format!(
            "2 paused, 2 refused: #{} changed elsewhere, #{} already expired",
            ids[2], ids[3]
        )),
        "{s}"
    );
    assert!(!s.contains("Esc cancels"), "{s}");
    insta::assert_snapshot!("deals_bulk_pause_summary_120x40", s);
    insta::assert_snapshot!("deals_bulk_pause_summary_80x24", render(&mut a, 80, 24));
}

#[test]
fn esc_during_a_bulk_run_cancels_between_rows() {
    let mut a = bulk_pause_asked();
    a.perform(Action::ToggleChoice);
    let fx = a.perform(Action::Confirm);
    let cancel = match &fx[..] {
        [Effect::Bulk(job)] => job.cancel.clone(),
        other => panic!("one bulk job: {other:?}"),
    };
    assert!(!cancel.load(std::sync::atomic::Ordering::SeqCst));
    a.perform(Action::Back);
    assert!(cancel.load(std::sync::atomic::Ordering::SeqCst));
    // The marks are kept while it runs (Esc cancelled, it did not clear them).
    assert_eq!(marked(&a).len(), 4);
}

#[test]
fn a_bulk_action_with_a_text_asks_it_once_and_says_what_is_wrong_as_it_is_typed() {
    use partnerdesk::console::app::Overlay;
    // Partners: mark two, disable: one reason for both, required.
    let mut a = super::curator();
    key(&mut a, ' ');
    key(&mut a, ' ');
    a.perform(Action::Disable);
    match &a.overlay {
        Overlay::Prompt(p) => assert_eq!(p.title, "Disable 2 partners: one text for all"),
        _ => panic!("a prompt"),
    }
    // Enter with nothing typed: asked again, the rule beside it.
    let fx = a.update(Msg::Terminal(crossterm::event::Event::Key(
        crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::Enter,
            crossterm::event::KeyModifiers::NONE,
        ),
    )));
    assert!(fx.is_empty());
    match &a.overlay {
        Overlay::Prompt(p) => assert_eq!(p.error.as_deref(), Some("reason: required")),
        _ => panic!("asked again"),
    }
    for c in "duplicate listing".chars() {
        key(&mut a, c);
    }
    let fx = a.update(Msg::Terminal(crossterm::event::Event::Key(
        crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::Enter,
            crossterm::event::KeyModifiers::NONE,
        ),
    )));
    match &fx[..] {
        [Effect::Bulk(job)] => {
            assert_eq!(
                job.action,
                partnerdesk::service::bulk::BulkAction::PartnerDisable {
                    reason: "duplicate listing".into()
                }
            );
            assert_eq!(job.targets.len(), 2);
        }
        other => panic!("one bulk job: {other:?}"),
    }
}

#[test]
fn a_support_operator_is_told_the_role_before_anything_is_asked() {
    use partnerdesk::console::app::Overlay;
    use partnerdesk::domain::Role;
    let mut a = super::app(false, &[Role::Support]);
    key(&mut a, ' ');
    let fx = a.perform(Action::MarkVetted);
    assert!(fx.is_empty());
    assert!(matches!(a.overlay, Overlay::None));
    assert!(render(&mut a, 120, 40).contains("curator"));
}
