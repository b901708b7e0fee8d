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
