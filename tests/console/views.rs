//! Saved views: `:view save NAME` writes `[views.PANE.NAME]` into the config file (keeping the
//! rest of it), `:view NAME` opens one, the palette and the help list them, and a view naming
//! an unknown column, sort, filter word or key is reported with file:line.

use super::{both_sizes, deals_app, key, render};
use partnerdesk::config::Config;
use partnerdesk::console::action::Action;
use partnerdesk::console::app::App;
use partnerdesk::console::msg::Msg;
use partnerdesk::console::pane::AnyPane;

fn enter(a: &mut App) -> Vec<partnerdesk::console::msg::Effect> {
    a.update(Msg::Terminal(crossterm::event::Event::Key(
        crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::Enter,
            crossterm::event::KeyModifiers::NONE,
        ),
    )))
}

fn palette(a: &mut App, text: &str) {
    a.perform(Action::Palette);
    for c in text.chars() {
        key(a, c);
    }
}

fn temp_config(text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("pd-views-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The Deals list filtered to active deals, sorted by title, with four columns chosen.
fn shaped() -> App {
    let mut a = deals_app();
    a.shell.columns.insert(
        "deals".into(),
        partnerdesk::config::ColumnConfig {
            show: Some(
                ["title", "state", "redeemed", "id"]
                    .map(String::from)
                    .to_vec(),
            ),
            width: Default::default(),
        },
    );
    a.panes.deals.sort_by("title", false).unwrap();
    a.panes.deals.filter_changed(&mut a.shell, "state:active");
    a
}

#[test]
fn view_save_keeps_the_filter_sort_and_columns_in_the_config_file_and_view_opens_it() {
    let path = temp_config("# my settings\nfooter = true\n");
    let mut a = shaped();
    a.shell.config_file = Some(path.clone());
    palette(&mut a, "view save active");
    enter(&mut a);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("# my settings\nfooter = true\n"), "{text}");
    let config = Config::load(&path).unwrap();
    let v = &config.views["deals"]["active"];
    assert_eq!(v.filter.as_deref(), Some("state:active"));
    assert_eq!(v.sort.as_deref(), Some("title"));
    assert_eq!(v.descending, Some(false));
    assert_eq!(
        v.columns.as_deref(),
        Some(&["title", "state", "redeemed", "id"].map(String::from)[..])
    );
    assert!(render(&mut a, 120, 40).contains("view active saved in"));

    // Another session with that config: the view opens, columns, sort and filter.
    let mut b = deals_app();
    b.shell.views = config.views.clone();
    palette(&mut b, "view active");
    let fx = enter(&mut b);
    assert!(!fx.is_empty(), "the list reloads");
    assert_eq!(b.panes.deals.filter_text().as_deref(), Some("state:active"));
    assert_eq!(b.panes.deals.sort(), Some(("title", false)));
    let s = render(&mut b, 120, 40);
    let header = s.lines().find(|l| l.contains("Title")).unwrap();
    assert!(!header.contains("Partner"), "{header}");
    // An unknown view says which there are.
    palette(&mut b, "view nope");
    enter(&mut b);
    assert!(render(&mut b, 120, 40).contains("no view nope (the views here are active)"));
    std::fs::remove_dir_all(path.parent().unwrap()).ok();
}

fn with_views() -> App {
    let path = temp_config(
        "[views.deals.active]\nfilter = \"state:active\"\nsort = \"title\"\nkey = \"f2\"\n\n[views.deals.ending]\nsort = \"ends\"\ndescending = false\n",
    );
    let mut a = deals_app();
    a.shell.views = Config::load(&path).unwrap().views;
    std::fs::remove_dir_all(path.parent().unwrap()).ok();
    a
}

#[test]
fn the_palette_and_the_help_list_the_saved_views_and_a_key_opens_one() {
    both_sizes("deals_views_palette", || {
        let mut a = with_views();
        palette(&mut a, "view");
        a
    });
    let mut a = with_views();
    a.perform(Action::Help);
    // The help ends with the views (a tall terminal shows it whole).
    let s = render(&mut a, 120, 200);
    assert!(s.contains("Saved views"), "{s}");
    assert!(s.contains("F2"), "{s}");
    assert!(
        s.contains("active: filter “state:active” · sort title ↑"),
        "{s}"
    );
    // F2 opens "active".
    let mut a = with_views();
    a.update(Msg::Terminal(crossterm::event::Event::Key(
        crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::F(2),
            crossterm::event::KeyModifiers::NONE,
        ),
    )));
    assert_eq!(a.panes.deals.filter_text().as_deref(), Some("state:active"));
}

#[test]
fn a_view_naming_an_unknown_column_sort_filter_word_or_key_is_reported_with_file_and_line() {
    let path = temp_config(
        "footer = true\n\n[views.deals.bad]\ncolumns = [\"title\", \"titel\"]\nsort = \"size\"\nfilter = \"state:gone\"\nkey = \"hyper-x\"\n\n[views.deals.good]\nsort = \"title\"\n",
    );
    let mut config = Config::load(&path).unwrap();
    let problems = config.view_problems(
        &path,
        |pane| {
            (pane == "deals").then(|| partnerdesk::config::ViewRules {
                columns: vec!["title", "id"],
                sorts: vec!["created", "title"],
            })
        },
        |_, text| (text == "state:gone").then(|| "state: one of draft, active".to_owned()),
        |k| partnerdesk::console::keymap::Key::parse(k).err(),
    );
    let file = path.display();
    assert_eq!(problems.len(), 4, "{problems:?}");
    assert_eq!(
        problems[0],
        format!(
            "{file}:4: [views.deals.bad]: unknown column \"titel\" (the columns are title, id)"
        )
    );
    assert_eq!(
        problems[1],
        format!(
            "{file}:5: [views.deals.bad]: unknown sort \"size\" (the sorts are created, title)"
        )
    );
    assert_eq!(
        problems[2],
        format!("{file}:6: [views.deals.bad]: filter: state: one of draft, active")
    );
    assert!(problems[3].starts_with(&format!("{file}:7: [views.deals.bad]: key: ")));
    // The bad view is left out, the good one kept.
    assert_eq!(
        config.views["deals"].keys().collect::<Vec<_>>(),
        vec!["good"]
    );
    std::fs::remove_dir_all(path.parent().unwrap()).ok();
}
