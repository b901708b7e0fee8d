//! Tests of the module beside this file.
use super::*;

#[test]
fn parses_keys() {
    assert_eq!(
        Key::parse("ctrl-s").unwrap(),
        Key {
            code: KeyCodeOrd::Char('s'),
            ctrl: true,
            alt: false
        }
    );
    assert_eq!(Key::parse("shift-tab").unwrap().code, KeyCodeOrd::BackTab);
    assert_eq!(Key::parse("G").unwrap().code, KeyCodeOrd::Char('G'));
    assert_eq!(Key::parse("?").unwrap().code, KeyCodeOrd::Char('?'));
    assert_eq!(Key::parse("-").unwrap().code, KeyCodeOrd::Char('-'));
    assert_eq!(Key::parse("f5").unwrap().code, KeyCodeOrd::F(5));
    assert!(Key::parse("hyper-x").is_err());
}

#[test]
fn a_keymap_without_a_key_for_quit_is_reported_and_the_defaults_kept() {
    let dir = std::env::temp_dir().join(format!("pd-keymap-quit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("keys.toml");
    std::fs::write(&file, "[global]\nhelp = [\"f1\"]\nquit = []\n").unwrap();
    let (k, err) = Keymap::load(Some(&file));
    let err = err.expect("reported").to_string();
    assert_eq!(
        err,
        format!(
            "{}:3: no key is left for quit (keep at least one, like quit = [\"q\", \"ctrl-c\"])",
            file.display()
        )
    );
    assert_eq!(
        k.keys_text(Action::Quit),
        Keymap::builtin().keys_text(Action::Quit)
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn builtin_binds_every_action() {
    let k = Keymap::builtin();
    for a in Action::ALL {
        let bound = !k.keys(*a).is_empty() || k.panes().any(|p| !k.keys_in(*a, p).is_empty());
        assert!(bound, "{a} has no key in keymaps/default.toml");
    }
}

#[test]
fn spec_default_keys() {
    let k = Keymap::builtin();
    let key = |s: &str| Key::parse(s).unwrap();
    assert_eq!(k.resolve(Context::List, key("q")), Some(Action::Quit));
    assert_eq!(k.resolve(Context::List, key("?")), Some(Action::Help));
    assert_eq!(k.resolve(Context::List, key(":")), Some(Action::Palette));
    assert_eq!(k.resolve(Context::List, key("/")), Some(Action::Filter));
    assert_eq!(
        k.resolve(Context::List, key("1")),
        Some(Action::PanePartners)
    );
    assert_eq!(k.resolve(Context::List, key("6")), Some(Action::PaneAudit));
    assert_eq!(k.resolve(Context::List, key("tab")), Some(Action::NextPane));
    assert_eq!(
        k.resolve(Context::List, key("shift-tab")),
        Some(Action::PrevPane)
    );
    assert_eq!(k.resolve(Context::List, key("j")), Some(Action::Down));
    assert_eq!(k.resolve(Context::List, key("G")), Some(Action::Bottom));
    assert_eq!(k.resolve(Context::List, key("enter")), Some(Action::Open));
    assert_eq!(k.resolve(Context::List, key("n")), Some(Action::New));
    assert_eq!(k.resolve(Context::List, key("e")), Some(Action::Edit));
    assert_eq!(k.resolve(Context::List, key("r")), Some(Action::Refresh));
    assert_eq!(k.resolve(Context::List, key("x")), Some(Action::Export));
    assert_eq!(k.resolve(Context::Form, key("ctrl-s")), Some(Action::Save));
    // Typing in a form never triggers a global action.
    assert_eq!(k.resolve(Context::Form, key("q")), None);
}

#[test]
fn user_file_overrides_only_what_it_names() {
    let mut k = Keymap::builtin();
    k.merge_text("[list]\ndelete = [\"X\"]\n", Path::new("user.toml"))
        .unwrap();
    assert_eq!(k.keys_text(Action::Delete), "X");
    assert_eq!(
        k.keys_text(Action::Quit),
        Keymap::builtin().keys_text(Action::Quit)
    );
}

#[test]
fn bad_files_name_file_line_and_reason() {
    let mut k = Keymap::builtin();
    let e = k
        .merge_text("[list]\nfrobnicate = \"z\"\n", Path::new("/u/keymap.toml"))
        .unwrap_err();
    assert_eq!(e.0, "/u/keymap.toml:2: unknown action 'frobnicate'");
    let e = k
        .merge_text("[list]\nquit = \"z\"\n", Path::new("k.toml"))
        .unwrap_err();
    assert_eq!(
        e.0,
        "k.toml:2: action 'quit' belongs in [global], not [list]"
    );
    let e = k
        .merge_text("[list]\ndown = \"hyper-j\"\n", Path::new("k.toml"))
        .unwrap_err();
    assert_eq!(e.0, "k.toml:2: unknown key 'hyper-j'");
    let e = k.merge_text("[list\n", Path::new("k.toml")).unwrap_err();
    assert!(e.0.starts_with("k.toml:1:"), "{}", e.0);
}

#[test]
fn read_only_drops_mutating_actions() {
    let k = Keymap::builtin().read_only();
    assert!(k.actions().all(|a| !a.is_mutating()));
    assert!(k.keys(Action::Delete).is_empty());
    assert!(!k.keys(Action::Quit).is_empty());
}
