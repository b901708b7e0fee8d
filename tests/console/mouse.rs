//! The mouse (config `mouse = true`): a click on a tab or a row, the wheel.

use super::{deals_app, render};
use crossterm::event::{Event, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use partnerdesk::console::app::App;
use partnerdesk::console::msg::Msg;
use partnerdesk::console::panes::PaneId;

fn mouse(a: &mut App, kind: MouseEventKind, column: u16, row: u16) {
    a.update(Msg::Terminal(Event::Mouse(MouseEvent {
        kind,
        column,
        row,
        modifiers: KeyModifiers::NONE,
    })));
}

#[test]
fn a_click_selects_a_row_or_a_tab_and_the_wheel_moves_the_selection() {
    let mut a = deals_app();
    let s = render(&mut a, 120, 40);
    // Under the tabs, the border and the header: the third row is on line 5.
    let third = s.lines().nth(5).unwrap().to_owned();
    assert!(third.contains("One free coffee"), "{third}");
    mouse(&mut a, MouseEventKind::Down(MouseButton::Left), 10, 5);
    assert_eq!(a.panes.deals.list.selected, 2, "{third}");
    // The wheel moves the selection (as far as the list goes).
    mouse(&mut a, MouseEventKind::ScrollUp, 10, 10);
    assert_eq!(a.panes.deals.list.selected, 0);
    mouse(&mut a, MouseEventKind::ScrollDown, 10, 10);
    assert_eq!(a.panes.deals.list.selected, 3);
    // A click below the last row does nothing.
    mouse(&mut a, MouseEventKind::Down(MouseButton::Left), 10, 30);
    assert_eq!(a.panes.deals.list.selected, 3);
    // A click on the first tab goes there ( partnerdesk   1 Partners …).
    let top = s.lines().next().unwrap();
    let x = top.find("1 Partners").unwrap() as u16;
    mouse(&mut a, MouseEventKind::Down(MouseButton::Left), x + 2, 0);
    assert_eq!(a.pane, PaneId::Partners);
}
