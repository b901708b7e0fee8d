//! The config file (`config.toml` in the platform config directory) and the standard places
//! for state and logs, from `directories`.

use crate::error::{Error, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `config.toml`. Every key is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Operator login to act as (else `--operator`, else the OS user).
    pub operator: Option<String>,
    /// The profile used when `--profile` is not given.
    pub profile: Option<String>,
    /// Theme name (a file in `themes/` or the config dir's `themes/`).
    pub theme: Option<String>,
    /// Show the console's footer line of the current pane's main keys (default true).
    pub footer: Option<bool>,
    /// The mouse selects rows and tabs and the wheel scrolls (default false: the terminal's
    /// own selection and copy keep working).
    pub mouse: Option<bool>,
    /// Named database connections.
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
    /// Thresholds of the redemption monitor's signals.
    #[serde(default)]
    pub signals: crate::store::monitor::Thresholds,
    /// Webhook endpoints.
    #[serde(default)]
    pub webhooks: Webhooks,
    /// The console's columns per list: `[columns.deals] show = ["id", "title", …]`.
    #[serde(default)]
    pub columns: BTreeMap<String, ColumnConfig>,
    /// Saved views per list: `[views.deals.NAME]` (`:view save NAME` writes them).
    #[serde(default)]
    pub views: BTreeMap<String, BTreeMap<String, ViewConfig>>,
}

/// `[views.PANE.NAME]`: what a list shows — its filter, sort and columns — kept under a name,
/// opened with `:view NAME` (or its key).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ViewConfig {
    /// The `/` filter's text.
    pub filter: Option<String>,
    /// The sort's name (as the list's title says it: `created`, `title`, …).
    pub sort: Option<String>,
    pub descending: Option<bool>,
    /// The columns, in order (as `[columns.PANE] show`).
    pub columns: Option<Vec<String>>,
    /// A key that opens the view on its list (`"f2"`, `"alt-1"`).
    pub key: Option<String>,
}

/// Writes `[views.PANE.NAME]` into the config file at `path`, keeping everything else in it
/// as it was (comments, order); the file is replaced atomically.
pub fn save_view(path: &Path, pane: &str, name: &str, v: &ViewConfig) -> Result<()> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(Error::Config(format!("{}: {e}", path.display()))),
    };
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
    let mut t = toml_edit::Table::new();
    if let Some(f) = &v.filter {
        t["filter"] = toml_edit::value(f.as_str());
    }
    if let Some(s) = &v.sort {
        t["sort"] = toml_edit::value(s.as_str());
    }
    if let Some(d) = v.descending {
        t["descending"] = toml_edit::value(d);
    }
    if let Some(c) = &v.columns {
        t["columns"] = toml_edit::value(c.iter().map(String::as_str).collect::<toml_edit::Array>());
    }
    if let Some(k) = &v.key {
        t["key"] = toml_edit::value(k.as_str());
    }
    let views = doc
        .entry("views")
        .or_insert_with(|| {
            let mut t = toml_edit::Table::new();
            t.set_implicit(true);
            toml_edit::Item::Table(t)
        })
        .as_table_mut()
        .ok_or_else(|| Error::Config(format!("{}: views is not a table", path.display())))?;
    let panes = views
        .entry(pane)
        .or_insert_with(|| {
            let mut t = toml_edit::Table::new();
            t.set_implicit(true);
            toml_edit::Item::Table(t)
        })
        .as_table_mut()
        .ok_or_else(|| Error::Config(format!("{}: views.{pane} is not a table", path.display())))?;
    panes.insert(name, toml_edit::Item::Table(t));
    crate::files::write_atomic(path, doc.to_string().as_bytes())
        .map_err(|e| Error::Config(format!("cannot write {}: {e}", path.display())))
}

/// What a list says of a saved view's parts, for the check at start: its column keys and its
/// sort names.
pub struct ViewRules {
    pub columns: Vec<&'static str>,
    pub sorts: Vec<&'static str>,
}

/// `[columns.PANE]`: which columns the list shows, in which order, and at most how wide.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ColumnConfig {
    /// The columns, in order (their keys); none: the defaults for the width.
    pub show: Option<Vec<String>>,
    /// At most this many characters for a column (`width = { title = 30 }`).
    #[serde(default)]
    pub width: BTreeMap<String, usize>,
}

impl Config {
    /// What is wrong with `[columns.PANE]` for the lists that exist (`columns(pane)`: its
    /// column keys, `None` for no such list): `file:line: reason` each; such a section is
    /// left out (the defaults are kept).
    pub fn column_problems(
        &mut self,
        path: &Path,
        columns: impl Fn(&str) -> Option<Vec<&'static str>>,
    ) -> Vec<String> {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let mut problems = Vec::new();
        let mut bad = Vec::new();
        for (pane, c) in &self.columns {
            let section = format!("columns.{pane}");
            let Some(keys) = columns(pane) else {
                problems.push(format!(
                    "{}:{}: [columns.{pane}]: no such list",
                    path.display(),
                    line_of_section(&text, &section)
                ));
                bad.push(pane.clone());
                continue;
            };
            let named = c.show.iter().flatten().chain(c.width.keys());
            for k in named {
                if !keys.contains(&k.as_str()) {
                    problems.push(format!(
                        "{}:{}: [columns.{pane}]: unknown column \"{k}\" (the columns are {})",
                        path.display(),
                        line_of_word(&text, &section, k),
                        keys.join(", ")
                    ));
                    bad.push(pane.clone());
                }
            }
            if c.show.as_ref().is_some_and(|s| s.is_empty()) {
                problems.push(format!(
                    "{}:{}: [columns.{pane}]: show lists no column",
                    path.display(),
                    line_of_section(&text, &section)
                ));
                bad.push(pane.clone());
            }
        }
        for pane in bad {
            self.columns.remove(&pane);
        }
        problems
    }
}

impl Config {
    /// What is wrong with the saved views (`rules(pane)`: that list's rules, `None` for no
    /// such list or one without views; `filter(pane, text)`: what is wrong with a filter
    /// text there, `key(text)`: with a key): `file:line: reason` each; such a view is left
    /// out.
    pub fn view_problems(
        &mut self,
        path: &Path,
        rules: impl Fn(&str) -> Option<ViewRules>,
        filter: impl Fn(&str, &str) -> Option<String>,
        key: impl Fn(&str) -> Option<String>,
    ) -> Vec<String> {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let mut problems = Vec::new();
        let mut bad = Vec::new();
        for (pane, views) in &self.views {
            let r = rules(pane);
            for (name, v) in views {
                let section = format!("views.{pane}.{name}");
                let at = |word: &str| {
                    format!(
                        "{}:{}: [{section}]",
                        path.display(),
                        if word.is_empty() {
                            line_of_section(&text, &section)
                        } else {
                            line_of_word(&text, &section, word)
                        }
                    )
                };
                let Some(r) = &r else {
                    problems.push(format!("{}: no such list", at("")));
                    bad.push((pane.clone(), name.clone()));
                    continue;
                };
                let mut wrong = Vec::new();
                for c in v.columns.iter().flatten() {
                    if !r.columns.contains(&c.as_str()) {
                        wrong.push(format!(
                            "{}: unknown column \"{c}\" (the columns are {})",
                            at(c),
                            r.columns.join(", ")
                        ));
                    }
                }
                if let Some(s) = &v.sort
                    && !r.sorts.contains(&s.as_str())
                {
                    wrong.push(format!(
                        "{}: unknown sort \"{s}\" (the sorts are {})",
                        at("sort"),
                        r.sorts.join(", ")
                    ));
                }
                if let Some(f) = &v.filter
                    && let Some(e) = filter(pane, f)
                {
                    wrong.push(format!("{}: filter: {e}", at("filter")));
                }
                if let Some(k) = &v.key
                    && let Some(e) = key(k)
                {
                    wrong.push(format!("{}: key: {e}", at("key")));
                }
                if !wrong.is_empty() {
                    problems.extend(wrong);
                    bad.push((pane.clone(), name.clone()));
                }
            }
        }
        for (pane, name) in bad {
            if let Some(v) = self.views.get_mut(&pane) {
                v.remove(&name);
            }
        }
        problems
    }
}

/// The line of `[section]`, 1 if not found.
fn line_of_section(text: &str, section: &str) -> usize {
    text.lines()
        .position(|l| {
            l.trim()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .trim()
                == section
        })
        .map_or(1, |i| i + 1)
}

/// The first line after `[section]` that names `word` (quoted or as a key), else the
/// section's line.
fn line_of_word(text: &str, section: &str, word: &str) -> usize {
    let start = line_of_section(text, section);
    text.lines()
        .enumerate()
        .skip(start)
        .take_while(|(_, l)| !l.trim_start().starts_with('['))
        .find(|(_, l)| {
            l.contains(&format!("\"{word}\""))
                || l.trim_start().starts_with(&format!("{word} "))
                || l.trim_start().starts_with(&format!("{word}="))
                || l.contains(&format!("{word} ="))
        })
        .map_or(start, |(i, _)| i + 1)
}

/// `[webhooks]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Webhooks {
    /// Endpoints may be on loopback, link-local, private and metadata addresses: `true` for
    /// any (local receivers, tests), or a list of the addresses and networks allowed
    /// (`["10.20.0.0/16", "::1"]`). Off by default: such URLs are refused when added and
    /// when sent to.
    #[serde(default, deserialize_with = "allow_private")]
    pub allow_private_addresses: crate::domain::webhook::Addresses,
}

impl Webhooks {
    pub fn addresses(&self) -> crate::domain::webhook::Addresses {
        self.allow_private_addresses.clone()
    }
}

/// `allow_private_addresses = true | false | ["10.20.0.0/16", …]`.
fn allow_private<'de, D>(d: D) -> Result<crate::domain::webhook::Addresses, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use crate::domain::webhook::Addresses;
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Given {
        All(bool),
        List(Vec<String>),
    }
    match Given::deserialize(d).map_err(|_| {
        serde::de::Error::custom(
            "true, false, or a list of addresses and networks such as [\"10.20.0.0/16\", \"::1\"]",
        )
    })? {
        Given::All(true) => Ok(Addresses::AllowPrivate),
        Given::All(false) => Ok(Addresses::PublicOnly),
        Given::List(l) => Addresses::parse_list(&l).map_err(serde::de::Error::custom),
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// A `postgres://` URL. A password may be left out and given by `PGPASSWORD` or `~/.pgpass`.
    pub url: String,
}

/// Where partnerdesk keeps its files.
#[derive(Debug, Clone)]
pub struct Dirs {
    pub config_dir: PathBuf,
    pub state_dir: PathBuf,
}

impl Dirs {
    pub fn discover() -> Self {
        // PARTNERDESK_HOME puts everything under one folder (used by tests and portable setups).
        if let Some(home) = std::env::var_os("PARTNERDESK_HOME") {
            let home = PathBuf::from(home);
            return Self {
                config_dir: home.join("config"),
                state_dir: home.join("state"),
            };
        }
        match directories::ProjectDirs::from("", "", "partnerdesk") {
            Some(p) => Self {
                config_dir: p.config_dir().to_path_buf(),
                state_dir: p
                    .state_dir()
                    .unwrap_or_else(|| p.data_local_dir())
                    .to_path_buf(),
            },
            None => {
                let tmp = std::env::temp_dir().join("partnerdesk");
                Self {
                    config_dir: tmp.join("config"),
                    state_dir: tmp.join("state"),
                }
            }
        }
    }

    pub fn config_file(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }

    pub fn log_dir(&self) -> PathBuf {
        self.state_dir.join("logs")
    }
}

impl Config {
    /// Reads the config file; a missing file is an empty config, a bad one is an error that
    /// names the file, the line and the reason.
    pub fn load(path: &Path) -> Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(Error::Config(format!("{}: {e}", path.display()))),
        }
    }

    /// Parses and checks the values: a threshold out of its range is `file:line: reason`.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let config: Self =
            toml::from_str(text).map_err(|e| Error::Config(describe_toml_error(path, text, &e)))?;
        if let Some((key, rule)) = config.signals_out_of_range().into_iter().next() {
            return Err(Error::Config(format!(
                "{}:{}: signals.{key} {rule}",
                path.display(),
                line_of_key(text, "signals", key)
            )));
        }
        Ok(config)
    }

    /// Each `[signals]` threshold outside its range, with the rule.
    fn signals_out_of_range(&self) -> Vec<(&'static str, String)> {
        let s = &self.signals;
        let checks: [(&'static str, i64, i64, i64); 6] = [
            // A "burst" of one redemption would flag every member.
            ("burst_count", s.burst_count, 2, 1_000),
            ("burst_minutes", s.burst_minutes, 1, 1_440),
            ("cap_exhausted_minutes", s.cap_exhausted_minutes, 1, 10_080),
            ("clicks_min", s.clicks_min, 1, 1_000_000),
            ("min_conversion_percent", s.min_conversion_percent, 0, 100),
            ("lookback_days", s.lookback_days, 1, 366),
        ];
        checks
            .into_iter()
            .filter(|&(_, v, lo, hi)| v < lo || v > hi)
            .map(|(key, v, lo, hi)| (key, format!("must be between {lo} and {hi} (got {v})")))
            .collect()
    }
}

/// The line where `key` is set in `[section]` (or as `section.key`), for `file:line` messages;
/// 1 if it cannot be found.
fn line_of_key(text: &str, section: &str, key: &str) -> usize {
    let mut current = String::new();
    for (i, line) in text.lines().enumerate() {
        let l = line.trim();
        if let Some(h) = l.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            current = h.trim().to_owned();
            continue;
        }
        let Some((k, _)) = l.split_once('=') else {
            continue;
        };
        let k = k.trim();
        if (current == section && k == key)
            || (current.is_empty() && k == format!("{section}.{key}"))
        {
            return i + 1;
        }
    }
    1
}

/// `file:line: reason` for a TOML error.
pub fn describe_toml_error(path: &Path, text: &str, e: &toml::de::Error) -> String {
    let line = e
        .span()
        .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
        .unwrap_or(1);
    let msg = e.message().trim().replace('\n', " ");
    format!("{}:{line}: {msg}", path.display())
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_readmes_example_config_reads() {
        let readme = include_str!("../README.md");
        let start = readme.find("operator = \"alice\"").expect("the example");
        let end = start + readme[start..].find("```").expect("its end");
        let c = Config::parse(&readme[start..end], Path::new("README.md")).unwrap();
        assert_eq!(c.mouse, Some(false));
        assert_eq!(c.columns["deals"].width["title"], 30);
        assert_eq!(c.views["deals"]["ending"].key.as_deref(), Some("f2"));
    }
    use super::*;

    #[test]
    fn parses_profiles() {
        let c = Config::parse(
            "operator = \"alice\"\nprofile = \"stage\"\n[profiles.stage]\nurl = \"postgres://a@h/db\"\n",
            Path::new("c.toml"),
        )
        .unwrap();
        assert_eq!(c.operator.as_deref(), Some("alice"));
        assert_eq!(c.profiles["stage"].url, "postgres://a@h/db");
    }

    #[test]
    fn thresholds_out_of_range_are_file_line_reason() {
        let p = Path::new("/x/config.toml");
        for (text, expected) in [
            (
                "operator = \"a\"\n[signals]\nburst_count = -5\n",
                "/x/config.toml:3: signals.burst_count must be between 2 and 1000 (got -5)",
            ),
            (
                "[signals]\nburst_count = 5\n\nlookback_days = 0\n",
                "/x/config.toml:4: signals.lookback_days must be between 1 and 366 (got 0)",
            ),
            (
                "signals.min_conversion_percent = 500\n",
                "/x/config.toml:1: signals.min_conversion_percent must be between 0 and 100 (got 500)",
            ),
        ] {
            let e = Config::parse(text, p).unwrap_err();
            assert_eq!(e.to_string(), expected);
            assert_eq!(e.exit_code(), crate::error::exit::USAGE);
        }
        let ok = Config::parse(
            "[signals]\nburst_count = 2\nmin_conversion_percent = 0\nlookback_days = 366\n",
            p,
        )
        .unwrap();
        assert_eq!(ok.signals.lookback_days, 366);
    }

    #[test]
    fn bad_file_names_file_and_line() {
        let e = Config::parse("operator = \"a\"\nbogus = 1\n", Path::new("/x/config.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("/x/config.toml:2: unknown field `bogus`"),
            "{e}"
        );
    }
}
