//! Files the application writes: exports, saved drafts, logs. They hold member handles and
//! half-typed records, so they are created 0600 in 0700 folders, and an export never follows
//! or replaces a symbolic link, a device or a FIFO, nor an existing file unless asked to.

use crate::error::{Error, Result};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Files: only the owner reads and writes them.
pub const FILE_MODE: u32 = 0o600;
/// Folders of the state directory: only the owner enters them.
pub const DIR_MODE: u32 = 0o700;

/// Creates `dir` (and its parents) if missing; the folders this call creates are 0700, and
/// `dir` itself is narrowed to 0700 if it is wider.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)?;
    let meta = std::fs::metadata(dir)?;
    if meta.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(DIR_MODE))?;
    }
    Ok(())
}

/// Creates a new file, 0600, that must not exist yet (a symbolic link in its place is not
/// followed: the call fails).
pub fn create_new_private(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path)
}

/// Writes `bytes` to `path` atomically: a 0600 temporary file beside it, synced, renamed over.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        private_dir(dir)?;
    }
    let tmp = sibling(
        path,
        &format!(".{}.tmp-{}", file_name(path), std::process::id()),
    );
    let _ = std::fs::remove_file(&tmp);
    let result = (|| {
        let mut f = create_new_private(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// The refusal of an existing regular file without `force`.
pub const EXISTS: &str = "it already exists";

/// Why `path` may not be the target of an export, as the rest of a line after its name; `None`
/// when it may. Only a missing file, or an existing regular file with `force`, may be written.
pub fn refusal(path: &Path, force: bool) -> Option<&'static str> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(_) => return None,
    };
    let t = meta.file_type();
    if t.is_symlink() {
        Some(
            "it is a symbolic link; exports are written only as regular files, never through a link",
        )
    } else if t.is_dir() {
        Some("it is a directory")
    } else if t.is_fifo() {
        Some(
            "it is a FIFO (named pipe), not a regular file; exports are written only to regular files",
        )
    } else if t.is_block_device() || t.is_char_device() {
        Some("it is a device, not a regular file; exports are written only to regular files")
    } else if t.is_socket() {
        Some("it is a socket, not a regular file; exports are written only to regular files")
    } else if !force {
        Some(EXISTS)
    } else {
        None
    }
}

/// A file being written under a temporary name beside its target (`.NAME.partial-PID`), moved
/// into place by [`PartialFile::commit`]; dropped without a commit, the partial file is removed.
#[derive(Debug)]
pub struct PartialFile {
    target: PathBuf,
    partial: PathBuf,
    force: bool,
    done: bool,
}

impl PartialFile {
    /// Checks the target (see [`refusal`]), removes stale partial files of the same target
    /// left by processes that are gone, and creates this process's partial file, 0600.
    pub fn create(target: &Path, force: bool) -> Result<(Self, File)> {
        if let Some(why) = refusal(target, force) {
            return Err(Error::Refused(format!(
                "cannot write {}: {why}",
                target.display()
            )));
        }
        remove_stale_partials(target);
        let partial = partial_path(target);
        let _ = std::fs::remove_file(&partial);
        let file = create_new_private(&partial).map_err(|e| cannot_write(target, e))?;
        Ok((
            Self {
                target: target.to_owned(),
                partial,
                force,
                done: false,
            },
            file,
        ))
    }

    pub fn partial(&self) -> &Path {
        &self.partial
    }

    /// Moves the finished file into place (the target is checked again first: something may
    /// have appeared there meanwhile).
    pub fn commit(mut self) -> Result<()> {
        if let Some(why) = refusal(&self.target, self.force) {
            return Err(Error::Refused(format!(
                "cannot write {}: {why}",
                self.target.display()
            )));
        }
        std::fs::rename(&self.partial, &self.target).map_err(|e| cannot_write(&self.target, e))?;
        self.done = true;
        Ok(())
    }
}

impl Drop for PartialFile {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.partial);
        }
    }
}

/// `cannot write PATH: reason`, naming the file the user asked for.
pub fn cannot_write(path: &Path, e: std::io::Error) -> Error {
    let reason = match e.kind() {
        // Creating a file fails this way when its folder does not exist.
        std::io::ErrorKind::NotFound => "no such directory".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        std::io::ErrorKind::AlreadyExists => "it already exists".to_owned(),
        _ => {
            let s = e.to_string();
            match s.find(" (os error") {
                Some(i) => s[..i].to_owned(),
                None => s,
            }
        }
    };
    Error::Io {
        context: format!("cannot write {}", path.display()),
        source: std::io::Error::new(e.kind(), reason),
    }
}

/// `dir/.name.partial-PID`: beside the target, so that the rename stays on one file system.
pub fn partial_path(path: &Path) -> PathBuf {
    sibling(
        path,
        &format!("{}{}", partial_prefix(path), std::process::id()),
    )
}

fn partial_prefix(path: &Path) -> String {
    format!(".{}.partial-", file_name(path))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "export.csv".into())
}

fn sibling(path: &Path, name: &str) -> PathBuf {
    path.with_file_name(name)
}

/// Removes `.NAME.partial-PID` files of `target` whose process is gone, or whose PID now
/// belongs to a process younger than the file: what a killed export left behind. Returns how
/// many were removed.
pub fn remove_stale_partials(target: &Path) -> usize {
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let prefix = partial_prefix(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix(&prefix) else {
            continue;
        };
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        if pid == std::process::id() {
            continue;
        }
        let Ok(meta) = entry.path().symlink_metadata() else {
            continue;
        };
        if !meta.file_type().is_file() {
            continue;
        }
        // Gone, or the PID belongs to a process started after the file was last written (the
        // PID was reused since a crash).
        let owner_start = std::fs::metadata(format!("/proc/{pid}")).and_then(|m| m.modified());
        let stale = match (owner_start, meta.modified()) {
            (Err(_), _) => true,
            (Ok(owner), Ok(written)) => owner > written,
            (Ok(_), Err(_)) => false,
        };
        if stale && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("pd-files-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn the_partial_file_sits_beside_the_target() {
        let p = partial_path(Path::new("/tmp/out/x.csv"));
        assert_eq!(p.parent(), Some(Path::new("/tmp/out")));
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with(".x.csv.partial-"), "{name}");
    }

    #[test]
    fn refusals_name_the_kind_of_file() {
        let d = temp("refusals");
        let regular = d.join("a.csv");
        std::fs::write(&regular, "x").unwrap();
        let link = d.join("l.csv");
        std::os::unix::fs::symlink(&regular, &link).unwrap();
        assert!(refusal(&d.join("new.csv"), false).is_none());
        assert_eq!(refusal(&regular, false), Some(EXISTS));
        assert!(refusal(&regular, true).is_none());
        assert!(refusal(&link, true).unwrap().contains("symbolic link"));
        assert!(refusal(&d, true).unwrap().contains("directory"));
        std::fs::remove_dir_all(&d).ok();
    }

    #[test]
    fn atomic_writes_are_private_and_dropped_partials_vanish() {
        let d = temp("atomic");
        let sub = d.join("state");
        let f = sub.join("draft.json");
        write_atomic(&f, b"{}").unwrap();
        assert_eq!(std::fs::read(&f).unwrap(), b"{}");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&f), 0o600);
        assert_eq!(mode(&sub), 0o700);
        assert_eq!(std::fs::read_dir(&sub).unwrap().count(), 1);

        let target = d.join("x.csv");
        let (p, _file) = PartialFile::create(&target, false).unwrap();
        let partial = p.partial().to_owned();
        assert_eq!(mode(&partial), 0o600);
        drop(p);
        assert!(!partial.exists());
        std::fs::remove_dir_all(&d).ok();
    }

    #[test]
    fn stale_partials_of_gone_processes_are_removed() {
        let d = temp("stale");
        let target = d.join("x.csv");
        // PID 4194304 is above Linux's largest; another target's partial is left alone.
        let stale = d.join(".x.csv.partial-4194304");
        let other = d.join(".y.csv.partial-4194304");
        std::fs::write(&stale, "half").unwrap();
        std::fs::write(&other, "half").unwrap();
        assert_eq!(remove_stale_partials(&target), 1);
        assert!(!stale.exists());
        assert!(other.exists());
        std::fs::remove_dir_all(&d).ok();
    }
}
