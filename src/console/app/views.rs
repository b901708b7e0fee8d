//! Saved views: `:view save NAME` keeps the list's filter, sort and columns in the config file
//! (`[views.PANE.NAME]`), `:view NAME` (or the view's `key`) opens one. The palette offers
//! them, the help lists them, and a view that names an unknown column, sort or filter word is
//! reported at start with file:line.

use super::App;
use crate::config::{ViewConfig, save_view};
use crate::console::keymap::Key;
use crate::console::msg::Effect;

/// A palette command about views.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViewCommand {
    Save(String),
    Open(String),
}

/// Reads `view save NAME` or `view NAME` (`None`: not a view command; `Some(Err)`: a view
/// command that does not read).
pub fn parse_command(text: &str) -> Option<Result<ViewCommand, String>> {
    let mut words = text.split_whitespace();
    if words.next() != Some("view") {
        return None;
    }
    let rest: Vec<&str> = words.collect();
    let name_ok = |n: &str| {
        !n.is_empty()
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    Some(match rest.as_slice() {
        ["save", name] if name_ok(name) => Ok(ViewCommand::Save((*name).to_owned())),
        [name] if *name != "save" && name_ok(name) => Ok(ViewCommand::Open((*name).to_owned())),
        ["save", ..] => Err("view save NAME: a name of letters, digits, - and _".into()),
        _ => Err("view NAME opens a saved view; view save NAME keeps this one".into()),
    })
}

impl App {
    /// The saved views of the pane on screen, by name.
    pub fn views_here(&self) -> Vec<(&String, &ViewConfig)> {
        self.shell
            .views
            .get(self.pane.key())
            .map(|v| v.iter().collect())
            .unwrap_or_default()
    }

    /// Runs a view command typed in the palette.
    pub(super) fn view_command(&mut self, cmd: ViewCommand) -> Vec<Effect> {
        match cmd {
            ViewCommand::Save(name) => {
                self.save_view(&name);
                Vec::new()
            }
            ViewCommand::Open(name) => self.open_view(&name),
        }
    }

    fn save_view(&mut self, name: &str) {
        let key = self.pane.key();
        let pane = self.current();
        let Some((sort, descending)) = pane.sort() else {
            self.shell.toast_error("this list has no saved views");
            return;
        };
        let view = ViewConfig {
            filter: pane.filter_text().filter(|t| !t.trim().is_empty()),
            sort: Some(sort.to_owned()),
            descending: Some(descending),
            columns: self.shell.columns.get(key).and_then(|c| c.show.clone()),
            key: self
                .shell
                .views
                .get(key)
                .and_then(|v| v.get(name))
                .and_then(|v| v.key.clone()),
        };
        let Some(path) = self.shell.config_file.clone() else {
            self.shell.toast_error("no config file to save the view in");
            return;
        };
        match save_view(&path, key, name, &view) {
            Ok(()) => {
                self.shell
                    .views
                    .entry(key.to_owned())
                    .or_default()
                    .insert(name.to_owned(), view);
                self.shell.toast(format!(
                    "view {name} saved in {} ([views.{key}.{name}])",
                    path.display()
                ));
            }
            Err(e) => self.shell.toast_error(e.to_string()),
        }
    }

    /// Opens a saved view of this pane: its columns, its sort, then its filter (the list
    /// reloads).
    pub(super) fn open_view(&mut self, name: &str) -> Vec<Effect> {
        let key = self.pane.key();
        let Some(view) = self.shell.views.get(key).and_then(|v| v.get(name)).cloned() else {
            let known: Vec<String> = self
                .views_here()
                .iter()
                .map(|(n, _)| (*n).clone())
                .collect();
            self.shell.toast_error(if known.is_empty() {
                format!("no view {name}: this list has no saved views (view save NAME keeps one)")
            } else {
                format!("no view {name} (the views here are {})", known.join(", "))
            });
            return Vec::new();
        };
        if let Some(cols) = &view.columns {
            self.shell.columns.entry(key.to_owned()).or_default().show = Some(cols.clone());
        }
        let (pane, sh) = self.split();
        if let Some(sort) = &view.sort
            && let Err(e) = pane.sort_by(sort, view.descending.unwrap_or(false))
        {
            sh.toast_error(format!("view {name}: {e}"));
            return Vec::new();
        }
        sh.toast(format!("view {name}"));
        pane.filter_changed(sh, view.filter.as_deref().unwrap_or(""))
    }

    /// A key bound to a saved view of this pane opens it.
    pub(super) fn view_key(&mut self, key: Key) -> Option<Vec<Effect>> {
        let name = self
            .views_here()
            .into_iter()
            .find(|(_, v)| v.key.as_deref().and_then(|k| Key::parse(k).ok()) == Some(key))
            .map(|(n, _)| n.clone())?;
        Some(self.open_view(&name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_commands_read_or_say_what_they_take() {
        assert_eq!(
            parse_command("view save mine"),
            Some(Ok(ViewCommand::Save("mine".into())))
        );
        assert_eq!(
            parse_command(" view  eu-open "),
            Some(Ok(ViewCommand::Open("eu-open".into())))
        );
        assert!(matches!(parse_command("view save"), Some(Err(_))));
        assert!(matches!(parse_command("view save a b"), Some(Err(_))));
        assert!(matches!(parse_command("view my view"), Some(Err(_))));
        assert_eq!(parse_command("pause"), None);
    }
}
