//! Keymaps: `keymaps/default.toml` (built in) plus the user's `keymap.toml` in the config
//! directory, which overrides only the actions it names.

use super::action::{Action, Context};
use crate::config::describe_toml_error;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

pub const DEFAULT_KEYMAP: &str = include_str!("../../keymaps/default.toml");

/// A key as written in keymap files: `q`, `G`, `?`, `ctrl-s`, `shift-tab`, `enter`, `f5`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub code: KeyCodeOrd,
    pub ctrl: bool,
    pub alt: bool,
}

/// `KeyCode` restricted to what keymaps use, with an order for stable help output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyCodeOrd {
    Char(char),
    F(u8),
    Enter,
    Esc,
    Tab,
    BackTab,
    Backspace,
    Delete,
    Up,
    Down,
    Left,
    Right,
    Home,
    End,
    PageUp,
    PageDown,
    Space,
}

impl Key {
    pub fn parse(s: &str) -> Result<Key, String> {
        let mut ctrl = false;
        let mut alt = false;
        let mut shift = false;
        let mut rest = s;
        loop {
            let lower = rest.to_ascii_lowercase();
            if rest.len() > 1 && (lower.starts_with("ctrl-") || lower.starts_with("ctrl+")) {
                ctrl = true;
                rest = &rest[5..];
            } else if rest.len() > 1 && (lower.starts_with("alt-") || lower.starts_with("alt+")) {
                alt = true;
                rest = &rest[4..];
            } else if rest.len() > 1 && (lower.starts_with("shift-") || lower.starts_with("shift+"))
            {
                shift = true;
                rest = &rest[6..];
            } else {
                break;
            }
        }
        let code = match rest.to_ascii_lowercase().as_str() {
            "enter" | "return" => KeyCodeOrd::Enter,
            "esc" | "escape" => KeyCodeOrd::Esc,
            "tab" if shift => KeyCodeOrd::BackTab,
            "tab" => KeyCodeOrd::Tab,
            "backtab" => KeyCodeOrd::BackTab,
            "backspace" => KeyCodeOrd::Backspace,
            "delete" | "del" => KeyCodeOrd::Delete,
            "up" => KeyCodeOrd::Up,
            "down" => KeyCodeOrd::Down,
            "left" => KeyCodeOrd::Left,
            "right" => KeyCodeOrd::Right,
            "home" => KeyCodeOrd::Home,
            "end" => KeyCodeOrd::End,
            "pageup" | "pgup" => KeyCodeOrd::PageUp,
            "pagedown" | "pgdn" => KeyCodeOrd::PageDown,
            "space" => KeyCodeOrd::Space,
            f if f.len() >= 2 && f.starts_with('f') && f[1..].parse::<u8>().is_ok() => {
                KeyCodeOrd::F(f[1..].parse().unwrap_or(1))
            }
            _ => {
                let mut chars = rest.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => {
                        let c = if shift { c.to_ascii_uppercase() } else { c };
                        KeyCodeOrd::Char(if ctrl { c.to_ascii_lowercase() } else { c })
                    }
                    _ => return Err(format!("unknown key '{s}'")),
                }
            }
        };
        Ok(Key { code, ctrl, alt })
    }

    pub fn from_event(e: &KeyEvent) -> Option<Key> {
        let ctrl = e.modifiers.contains(KeyModifiers::CONTROL);
        let alt = e.modifiers.contains(KeyModifiers::ALT);
        let code = match e.code {
            KeyCode::Char(' ') => KeyCodeOrd::Space,
            KeyCode::Char(c) => KeyCodeOrd::Char(if ctrl { c.to_ascii_lowercase() } else { c }),
            KeyCode::F(n) => KeyCodeOrd::F(n),
            KeyCode::Enter => KeyCodeOrd::Enter,
            KeyCode::Esc => KeyCodeOrd::Esc,
            KeyCode::Tab if e.modifiers.contains(KeyModifiers::SHIFT) => KeyCodeOrd::BackTab,
            KeyCode::Tab => KeyCodeOrd::Tab,
            KeyCode::BackTab => KeyCodeOrd::BackTab,
            KeyCode::Backspace => KeyCodeOrd::Backspace,
            KeyCode::Delete => KeyCodeOrd::Delete,
            KeyCode::Up => KeyCodeOrd::Up,
            KeyCode::Down => KeyCodeOrd::Down,
            KeyCode::Left => KeyCodeOrd::Left,
            KeyCode::Right => KeyCodeOrd::Right,
            KeyCode::Home => KeyCodeOrd::Home,
            KeyCode::End => KeyCodeOrd::End,
            KeyCode::PageUp => KeyCodeOrd::PageUp,
            KeyCode::PageDown => KeyCodeOrd::PageDown,
            _ => return None,
        };
        Some(Key { code, ctrl, alt })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("Ctrl-")?;
        }
        if self.alt {
            f.write_str("Alt-")?;
        }
        match self.code {
            KeyCodeOrd::Char(c) => write!(f, "{c}"),
            KeyCodeOrd::F(n) => write!(f, "F{n}"),
            KeyCodeOrd::Enter => f.write_str("Enter"),
            KeyCodeOrd::Esc => f.write_str("Esc"),
            KeyCodeOrd::Tab => f.write_str("Tab"),
            KeyCodeOrd::BackTab => f.write_str("Shift-Tab"),
            KeyCodeOrd::Backspace => f.write_str("Backspace"),
            KeyCodeOrd::Delete => f.write_str("Del"),
            KeyCodeOrd::Up => f.write_str("↑"),
            KeyCodeOrd::Down => f.write_str("↓"),
            KeyCodeOrd::Left => f.write_str("←"),
            KeyCodeOrd::Right => f.write_str("→"),
            KeyCodeOrd::Home => f.write_str("Home"),
            KeyCodeOrd::End => f.write_str("End"),
            KeyCodeOrd::PageUp => f.write_str("PgUp"),
            KeyCodeOrd::PageDown => f.write_str("PgDn"),
            KeyCodeOrd::Space => f.write_str("Space"),
        }
    }
}

/// The active bindings: for each action its keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keymap {
    bindings: BTreeMap<Action, Vec<Key>>,
    /// `[pane.NAME]` sections: list bindings that win over `[list]` on that pane only.
    pane_bindings: BTreeMap<String, BTreeMap<Action, Vec<Key>>>,
}

fn join_keys(keys: &[Key]) -> String {
    keys.iter()
        .map(|k| k.to_string())
        .collect::<Vec<_>>()
        .join("/")
}

/// Reads one section's `action = keys` lines; every action must belong to `ctx`.
fn parse_section(
    table: &toml::Table,
    ctx: Context,
    header: &str,
    path: &Path,
    line_of: &dyn Fn(&str) -> usize,
) -> Result<Vec<(Action, Vec<Key>)>, KeymapError> {
    let mut out = Vec::new();
    for (name, keys) in table {
        let line = line_of(name);
        let action = Action::from_name(name).ok_or_else(|| {
            KeymapError(format!(
                "{}:{line}: unknown action '{name}'",
                path.display()
            ))
        })?;
        if action.context() != ctx {
            return Err(KeymapError(format!(
                "{}:{line}: action '{name}' belongs in [{}], not {header}",
                path.display(),
                action.context().name()
            )));
        }
        let list: Vec<&str> = match keys {
            toml::Value::String(s) => vec![s.as_str()],
            toml::Value::Array(a) => a.iter().filter_map(|v| v.as_str()).collect(),
            _ => {
                return Err(KeymapError(format!(
                    "{}:{line}: '{name}' must be a key or a list of keys",
                    path.display()
                )));
            }
        };
        let mut parsed = Vec::new();
        for s in list {
            parsed.push(
                Key::parse(s)
                    .map_err(|r| KeymapError(format!("{}:{line}: {r}", path.display())))?,
            );
        }
        out.push((action, parsed));
    }
    Ok(out)
}

/// A problem with a keymap file: `file:line: reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeymapError(pub String);

impl fmt::Display for KeymapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Keymap {
    /// The built-in default keymap.
    pub fn builtin() -> Keymap {
        let mut k = Keymap::default();
        // The panes are the `[pane.NAME]` sections of the built-in file (an empty section
        // names a pane with no keys of its own): a user's file may bind keys on those only.
        if let Ok(doc) = toml::from_str::<toml::Table>(DEFAULT_KEYMAP)
            && let Some(panes) = doc.get("pane").and_then(|p| p.as_table())
        {
            for pane in panes.keys() {
                k.pane_bindings.entry(pane.clone()).or_default();
            }
        }
        k.merge_text(DEFAULT_KEYMAP, Path::new("keymaps/default.toml"))
            .expect("the built-in keymap is valid");
        k
    }

    /// Defaults, then the user's file if there is one. A bad user file is reported and the
    /// defaults are kept whole.
    pub fn load(user_file: Option<&Path>) -> (Keymap, Option<KeymapError>) {
        let mut k = Keymap::builtin();
        let Some(path) = user_file else {
            return (k, None);
        };
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (k, None),
            Err(e) => return (k, Some(KeymapError(format!("{}: {e}", path.display())))),
        };
        // Sections with a mistake are left out (reported); the others count.
        match k.merge_text(&text, path) {
            Ok(()) => (k, None),
            Err(e) => (k, Some(e)),
        }
    }

    /// Merges a keymap file: every action it names gets exactly the keys it lists. A section
    /// with a mistake (an unknown action or key, no key left for quit, one key bound twice) is
    /// reported and left out, so that part of the defaults is kept and the rest of the file
    /// still counts.
    pub fn merge_text(&mut self, text: &str, path: &Path) -> Result<(), KeymapError> {
        let doc: toml::Table =
            toml::from_str(text).map_err(|e| KeymapError(describe_toml_error(path, text, &e)))?;
        let line_of = |needle: &str| -> usize {
            text.lines()
                .position(|l| l.trim_start().starts_with(needle))
                .map(|i| i + 1)
                .unwrap_or(1)
        };
        let mut errors = Vec::new();
        for (section, value) in &doc {
            let mut trial = self.clone();
            let had_quit = !self.keys(Action::Quit).is_empty();
            match trial
                .merge_section(section, value, path, &line_of)
                .and_then(|()| trial.check(had_quit, path, &line_of))
            {
                Ok(()) => *self = trial,
                Err(e) => errors.push(e.0),
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(KeymapError(errors.join("; ")))
        }
    }

    /// Applies one section of a keymap file.
    fn merge_section(
        &mut self,
        section: &str,
        value: &toml::Value,
        path: &Path,
        line_of: &dyn Fn(&str) -> usize,
    ) -> Result<(), KeymapError> {
        if section != "pane" && Context::from_name(section).is_none() {
            return Err(KeymapError(format!(
                "{}:{}: unknown section [{section}] (expected global, list, form, popup or pane.NAME)",
                path.display(),
                line_of(&format!("[{section}]"))
            )));
        }
        let Some(table) = value.as_table() else {
            return Err(KeymapError(format!(
                "{}:{}: [{section}] must be a table",
                path.display(),
                line_of(section)
            )));
        };
        if section == "pane" {
            for (pane, value) in table {
                let header = format!("[pane.{pane}]");
                if !self.pane_bindings.contains_key(pane) {
                    let names: Vec<&str> = self.pane_bindings.keys().map(|p| p.as_str()).collect();
                    return Err(KeymapError(format!(
                        "{}:{}: unknown pane in {header} (expected one of {})",
                        path.display(),
                        line_of(&header),
                        names.join(", ")
                    )));
                }
                let Some(table) = value.as_table() else {
                    return Err(KeymapError(format!(
                        "{}:{}: {header} must be a table",
                        path.display(),
                        line_of(&header)
                    )));
                };
                let parsed = parse_section(table, Context::List, &header, path, line_of)?;
                self.pane_bindings
                    .entry(pane.clone())
                    .or_default()
                    .extend(parsed);
            }
            return Ok(());
        }
        let ctx = Context::from_name(section).unwrap_or(Context::List);
        let parsed = parse_section(table, ctx, &format!("[{section}]"), path, line_of)?;
        self.bindings.extend(parsed);
        Ok(())
    }

    /// What every keymap must keep: a key for quit (once it has one), and one meaning per key
    /// in a section.
    fn check(
        &self,
        had_quit: bool,
        path: &Path,
        line_of: &dyn Fn(&str) -> usize,
    ) -> Result<(), KeymapError> {
        // Without a key for quit the console could only be left by killing it.
        if had_quit
            && self
                .bindings
                .get(&Action::Quit)
                .is_none_or(|keys| keys.is_empty())
        {
            return Err(KeymapError(format!(
                "{}:{}: no key is left for quit (keep at least one, like quit = [\"q\", \"ctrl-c\"])",
                path.display(),
                line_of("quit")
            )));
        }
        self.check_duplicates(path, line_of)
    }

    /// One key bound to two actions in one section cannot mean both: refused, with the line
    /// of the binding that clashes.
    fn check_duplicates(
        &self,
        path: &Path,
        line_of: &dyn Fn(&str) -> usize,
    ) -> Result<(), KeymapError> {
        let clash = |map: &BTreeMap<Action, Vec<Key>>, ctx: Context| {
            let mut seen: BTreeMap<Key, Action> = BTreeMap::new();
            for (a, keys) in map.iter().filter(|(a, _)| a.context() == ctx) {
                for k in keys {
                    if let Some(first) = seen.insert(*k, *a)
                        && first != *a
                    {
                        return Some((*k, first, *a));
                    }
                }
            }
            None
        };
        let report = |k: Key, a: Action, b: Action, section: String| {
            // The line of whichever of the two this file names (the later one if both).
            let line = line_of(b.name()).max(line_of(a.name()));
            KeymapError(format!(
                "{}:{line}: key '{k}' is bound to both '{a}' and '{b}' in {section}",
                path.display()
            ))
        };
        for ctx in Context::ALL {
            if let Some((k, a, b)) = clash(&self.bindings, ctx) {
                return Err(report(k, a, b, format!("[{}]", ctx.name())));
            }
        }
        for (pane, map) in &self.pane_bindings {
            if let Some((k, a, b)) = clash(map, Context::List) {
                return Err(report(k, a, b, format!("[pane.{pane}]")));
            }
        }
        Ok(())
    }

    /// The same keymap without mutating actions (read-only sessions).
    pub fn read_only(&self) -> Keymap {
        let keep = |m: &BTreeMap<Action, Vec<Key>>| {
            m.iter()
                .filter(|(a, _)| !a.is_mutating())
                .map(|(a, k)| (*a, k.clone()))
                .collect()
        };
        Keymap {
            bindings: keep(&self.bindings),
            pane_bindings: self
                .pane_bindings
                .iter()
                .map(|(p, m)| (p.clone(), keep(m)))
                .collect(),
        }
    }

    /// The keys of an action on a pane: its `[pane.NAME]` binding, else the general one.
    /// The panes a keymap file may have a `[pane.NAME]` section for.
    pub fn panes(&self) -> impl Iterator<Item = &str> {
        self.pane_bindings.keys().map(|p| p.as_str())
    }

    pub fn keys_in(&self, action: Action, pane: &str) -> &[Key] {
        match self.pane_bindings.get(pane).and_then(|m| m.get(&action)) {
            Some(keys) => keys,
            None => self.keys(action),
        }
    }

    /// `j/↓` on a pane, for help and hints.
    pub fn keys_text_in(&self, action: Action, pane: &str) -> String {
        join_keys(self.keys_in(action, pane))
    }

    /// What a key does on a pane: in lists the pane's own section wins over `[list]`.
    pub fn resolve_in(&self, ctx: Context, key: Key, pane: &str) -> Option<Action> {
        if ctx != Context::List {
            return self.resolve(ctx, key);
        }
        let own = self.pane_bindings.get(pane);
        if let Some((a, _)) = own.and_then(|m| m.iter().find(|(_, keys)| keys.contains(&key))) {
            return Some(*a);
        }
        let rebound = |a: &Action| own.is_some_and(|m| m.contains_key(a));
        self.bindings
            .iter()
            .find(|(a, keys)| a.context() == Context::List && !rebound(a) && keys.contains(&key))
            .map(|(a, _)| *a)
            .or_else(|| self.resolve(Context::Global, key))
    }

    pub fn keys(&self, action: Action) -> &[Key] {
        self.bindings.get(&action).map(Vec::as_slice).unwrap_or(&[])
    }

    /// `j/↓`, for help and hints.
    pub fn keys_text(&self, action: Action) -> String {
        join_keys(self.keys(action))
    }

    /// The actions bound, in a stable order.
    pub fn actions(&self) -> impl Iterator<Item = Action> + '_ {
        self.bindings
            .iter()
            .filter(|(_, k)| !k.is_empty())
            .map(|(a, _)| *a)
    }

    /// What a key does in a context: the context's own binding first, then global ones.
    pub fn resolve(&self, ctx: Context, key: Key) -> Option<Action> {
        let find = |c: Context| {
            self.bindings
                .iter()
                .find(|(a, keys)| a.context() == c && keys.contains(&key))
                .map(|(a, _)| *a)
        };
        find(ctx).or_else(|| {
            if ctx == Context::Form || ctx == Context::Popup {
                None
            } else {
                find(Context::Global)
            }
        })
    }

    /// Form and popup contexts still honour a few global keys that cannot be typed text.
    pub fn resolve_global_non_text(&self, key: Key) -> Option<Action> {
        let is_text =
            matches!(key.code, KeyCodeOrd::Char(_) | KeyCodeOrd::Space) && !key.ctrl && !key.alt;
        if is_text {
            return None;
        }
        self.bindings
            .iter()
            .find(|(a, keys)| a.context() == Context::Global && keys.contains(&key))
            .map(|(a, _)| *a)
    }
}

#[cfg(test)]
#[path = "keymap_tests.rs"]
mod tests;
