//! Unsaved forms survive a crash, a SIGTERM, an SSH hang-up, a lost connection, even `kill -9`
//! or a power cut: the form is written to the state directory shortly after each change
//! ([`SAVE_AFTER`] after the last one, atomically: a temporary file renamed over) and at once
//! on a signal, and offered back on the next start.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long after the last change a form is written to disk: typing does not write on every
/// key, and a form left alone is on disk within about this long.
pub const SAVE_AFTER: Duration = Duration::from_millis(500);

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
    /// When the tracked form is to be written (a change not yet on disk).
    due: Arc<Mutex<Option<Instant>>>,
}

impl Recovery {
    pub fn new(state_dir: &Path) -> Self {
        Self {
            path: state_dir.join("unsaved-form.json"),
            current: Arc::new(Mutex::new(None)),
            due: Arc::new(Mutex::new(None)),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Remembers the form being edited (cheap; called on every change) and schedules its
    /// writing [`SAVE_AFTER`] from now (see [`Recovery::due`]).
    pub fn track(&self, snap: Option<FormSnapshot>) {
        let some = snap.is_some();
        if let Ok(mut c) = self.current.lock() {
            *c = snap;
        }
        if let Ok(mut d) = self.due.lock() {
            *d = some.then(|| Instant::now() + SAVE_AFTER);
        }
    }

    /// When the last change is to be written, if one waits.
    pub fn due(&self) -> Option<Instant> {
        self.due.lock().ok().and_then(|d| *d)
    }

    /// Writes the tracked form if its time has come (the runtime calls this at [`Self::due`]).
    pub fn save_if_due(&self) -> std::io::Result<bool> {
        match self.due() {
            Some(at) if at <= Instant::now() => self.flush(),
            _ => Ok(false),
        }
    }

    /// Writes the tracked form to disk (crash, signal, lost connection). Never panics.
    pub fn flush(&self) -> std::io::Result<bool> {
        if let Ok(mut d) = self.due.lock() {
            *d = None;
        }
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

    #[test]
    fn a_change_is_written_once_it_is_due_and_privately() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("pd-recovery-due-{}", std::process::id()));
        let r = Recovery::new(&dir);
        let snap = FormSnapshot {
            entity: "partner".into(),
            record_id: None,
            version: None,
            label: "untitled".into(),
            fields: BTreeMap::from([("display_name".to_owned(), "Nor".to_owned())]),
            saved_at: Utc::now(),
        };
        r.track(Some(snap.clone()));
        let due = r.due().expect("a write is scheduled");
        assert!(due > Instant::now() + SAVE_AFTER - Duration::from_millis(100));
        assert!(!r.save_if_due().unwrap(), "not yet");
        assert!(r.pending().is_none());
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
        assert!(r.save_if_due().unwrap());
        assert_eq!(r.pending(), Some(snap));
        assert!(r.due().is_none());
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(r.path()), 0o600);
        assert_eq!(mode(&dir), 0o700);
        r.track(None);
        assert!(r.due().is_none(), "no form, nothing to write");
        r.clear();
        std::fs::remove_dir_all(&dir).ok();
    }
}
