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
