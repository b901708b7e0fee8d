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
    /// Named database connections.
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
    /// Thresholds of the redemption monitor's signals.
    #[serde(default)]
    pub signals: crate::store::monitor::Thresholds,
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

    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        toml::from_str(text).map_err(|e| Error::Config(describe_toml_error(path, text, &e)))
    }
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
