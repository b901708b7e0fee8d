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
