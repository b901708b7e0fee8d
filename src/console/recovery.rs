//! Unsaved forms survive a crash, a SIGTERM, an SSH hang-up or a lost connection: the form is
//! written to the state directory and offered back on the next start.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormSnapshot {
    /// What the form edits: `partner` or `deal`.
    pub entity: String,
    /// `None` for a new record.
    pub record_id: Option<i64>,
    pub version: Option<i32>,
    /// A name for people ("Northwind", "untitled").
    pub label: String,
    /// Every field's text, by field name.
    pub fields: BTreeMap<String, String>,
    pub saved_at: DateTime<Utc>,
}

/// Where the snapshot lives, and the latest form (shared with the panic hook).
#[derive(Debug, Clone)]
pub struct Recovery {
    path: PathBuf,
    current: Arc<Mutex<Option<FormSnapshot>>>,
}

impl Recovery {
    pub fn new(state_dir: &Path) -> Self {
        Self {
            path: state_dir.join("unsaved-form.json"),
            current: Arc::new(Mutex::new(None)),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Remembers the form being edited (cheap; called on every change).
    pub fn track(&self, snap: Option<FormSnapshot>) {
        if let Ok(mut c) = self.current.lock() {
            *c = snap;
        }
    }

    /// Writes the tracked form to disk (crash, signal, lost connection). Never panics.
    pub fn flush(&self) -> std::io::Result<bool> {
        let snap = self.current.lock().ok().and_then(|c| c.clone());
        match snap {
            Some(s) => {
                // 0600 in a 0700 folder, written to a temporary file and renamed: a crash
                // mid-write leaves the previous draft whole.
                let bytes = serde_json::to_vec_pretty(&s).map_err(std::io::Error::other)?;
                crate::files::write_atomic(&self.path, &bytes)?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// A form left over from an earlier session, if any.
    pub fn pending(&self) -> Option<FormSnapshot> {
        let bytes = std::fs::read(&self.path).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Forgets the saved form (after it was saved, restored or discarded).
    pub fn clear(&self) {
        self.track(None);
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let dir = std::env::temp_dir().join(format!("pd-recovery-{}", std::process::id()));
        let r = Recovery::new(&dir);
        assert!(r.pending().is_none());
        let snap = FormSnapshot {
            entity: "partner".into(),
            record_id: Some(7),
            version: Some(3),
            label: "Half typed".into(),
            fields: BTreeMap::from([("display_name".to_owned(), "Half typed".to_owned())]),
            saved_at: Utc::now(),
        };
        r.track(Some(snap.clone()));
        assert!(r.flush().unwrap());
        assert_eq!(Recovery::new(&dir).pending(), Some(snap));
        r.clear();
        assert!(r.pending().is_none());
        std::fs::remove_dir_all(&dir).ok();
    }
}
