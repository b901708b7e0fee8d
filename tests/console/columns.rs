//! A list's columns chosen, ordered and sized in the config file (`[columns.PANE]`).

use super::{both_sizes, deals_app, render};
use partnerdesk::config::{ColumnConfig, Config};

fn chosen() -> partnerdesk::console::app::App {
    let mut a = deals_app();
    a.shell.columns.insert(
        "deals".into(),
        ColumnConfig {
            show: Some(
                ["id", "title", "partner", "state", "redeemed"]
                    .map(String::from)
                    .to_vec(),
            ),
            width: [("title".to_owned(), 12)].into(),
        },
    );
    a
}

#[test]
fn the_config_chooses_orders_and_sizes_a_lists_columns() {
    both_sizes("deals_columns_chosen", chosen);
    let mut a = chosen();
    let s = render(&mut a, 120, 40);
    let header = s.lines().find(|l| l.contains("Title")).unwrap();
    // In the order given, the title cut at 12, and nothing else (no Kind, no Window).
    assert!(
        header
            .trim_start_matches('│')
            .trim_start()
            .starts_with("ID"),
        "{header}"
    );
    assert!(
        !header.contains("Kind") && !header.contains("Window"),
        "{header}"
    );
    assert!(s.contains("Spring sale…"), "{s}");
}

#[test]
fn an_unknown_column_or_list_is_reported_with_file_and_line_and_left_out() {
    let dir = std::env::temp_dir().join(format!("pd-columns-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("config.toml");
    let text = "footer = true\n\n[columns.deals]\nshow = [\"id\", \"titel\"]\n\n[columns.nowhere]\nshow = [\"id\"]\n\n[columns.partners]\nshow = [\"name\", \"id\"]\n";
    std::fs::write(&path, text).unwrap();
    let mut config = Config::load(&path).unwrap();
    let problems = config.column_problems(&path, |pane| match pane {
        "deals" => Some(vec!["id", "title"]),
        "partners" => Some(vec!["name", "id"]),
        _ => None,
    });
    let file = path.display().to_string();
    assert_eq!(
        problems,
        vec![
            format!(
                "{file}:4: [columns.deals]: unknown column \"titel\" (the columns are id, title)"
            ),
            format!("{file}:6: [columns.nowhere]: no such list"),
        ]
    );
    // The bad sections are left out; the good one counts.
    assert_eq!(config.columns.keys().collect::<Vec<_>>(), vec!["partners"]);
    std::fs::remove_dir_all(&dir).ok();
}
