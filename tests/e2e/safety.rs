//! A half-typed form survives `kill -9` (issue "Safety"): it is on disk shortly after each
//! change, not only when a signal can be caught.

use super::*;
use std::os::unix::fs::PermissionsExt;

#[tokio::test]
async fn a_form_typed_a_moment_before_kill_9_is_offered_back() {
    let db = seeded(OPERATOR).await;
    let home = Home::new();
    let p = console(&db, &home, OPERATOR, &[], 120, 40);
    wait_ready(&p);
    p.send("n");
    p.wait_for("▸ Display name", TIMEOUT);
    p.type_each("Killed Gear");
    p.wait_for("Killed Gear", TIMEOUT);
    // Saved about half a second after the last key, before anything can go wrong.
    std::thread::sleep(Duration::from_millis(1000));
    assert_saved_form(&home, "Killed Gear");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&home.unsaved_form()), 0o600, "the draft is private");
    assert_eq!(mode(home.unsaved_form().parent().unwrap()), 0o700);
    p.signal("KILL");
    drop(p);

    let mut p = console(&db, &home, OPERATOR, &[], 120, 40);
    p.wait_for("Unsaved form found", TIMEOUT);
    p.wait_for("Killed Gear", TIMEOUT);
    wait_selected(&p, "Restore");
    p.send(keys::ENTER);
    p.wait_gone("Unsaved form found", TIMEOUT);
    p.wait_for("New partner", TIMEOUT);
    p.wait_until("the restored display name", TIMEOUT, |_| {
        field_row(&p, "Display name").contains("Killed Gear")
    });
    // Leave it: Esc, Discard.
    p.send(keys::ESC);
    p.wait_for("Discard changes?", TIMEOUT);
    p.send(keys::RIGHT);
    wait_selected(&p, "Discard");
    p.send(keys::ENTER);
    p.wait_gone("New partner", TIMEOUT);
    wait_ready(&p);
    quit(&mut p);
    assert!(
        !home.unsaved_form().exists(),
        "a discarded form is forgotten"
    );
}
