//! Copy by OSC 52: the terminal sets its clipboard, which works over SSH. Inside tmux the text
//! goes through tmux's own clipboard handling (`tmux load-buffer -w -`: a tmux buffer, and the
//! outer terminal's clipboard as tmux's `set-clipboard` allows), which works with tmux's
//! default settings; the passthrough-wrapped sequence is used only when that is not possible
//! (a tmux older than 3.2).

use base64::Engine;
use std::io::Write;
use std::process::{Command, Stdio};

/// The escape sequence that asks the terminal to copy `text`; wrapped for tmux when inside it.
pub fn osc52(text: &str, in_tmux: bool) -> String {
    let payload = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    let seq = format!("\x1b]52;c;{payload}\x07");
    if in_tmux {
        // tmux passes a DCS-wrapped sequence through to the outer terminal.
        format!("\x1bPtmux;{}\x1b\\", seq.replace('\x1b', "\x1b\x1b"))
    } else {
        seq
    }
}

/// Hands `text` to tmux's clipboard handling through `tmux` (the command, with any `-L`/`-S`
/// arguments already on it).
pub fn tmux_load(mut tmux: Command, text: &str) -> Result<(), String> {
    let mut child = tmux
        .args(["load-buffer", "-w", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run tmux: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(text.as_bytes())
            .map_err(|e| format!("tmux load-buffer: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("tmux load-buffer: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

/// Copies `text` (described to the operator as `what`, "partner id 25"); returns `what`.
pub fn copy(out: &mut impl Write, text: &str, what: &str) -> Result<String, String> {
    if text.is_empty() {
        return Err("nothing to copy".into());
    }
    let in_tmux = std::env::var_os("TMUX").is_some();
    if in_tmux {
        match tmux_load(Command::new("tmux"), text) {
            Ok(()) => return Ok(what.to_owned()),
            Err(e) => tracing::debug!(error = %e, "tmux load-buffer failed; using passthrough"),
        }
    }
    out.write_all(osc52(text, in_tmux).as_bytes())
        .and_then(|_| out.flush())
        .map_err(|e| format!("copy failed: {e}"))?;
    Ok(what.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_tmux_sequences() {
        assert_eq!(osc52("hi", false), "\x1b]52;c;aGk=\x07");
        assert_eq!(osc52("hi", true), "\x1bPtmux;\x1b\x1b]52;c;aGk=\x07\x1b\\");
    }

    #[test]
    fn failures_are_errors_not_panics() {
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("closed"))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        if std::env::var_os("TMUX").is_none() {
            assert_eq!(
                copy(&mut Broken, "x", "x"),
                Err("copy failed: closed".into())
            );
        }
        assert_eq!(
            copy(&mut Vec::new(), "", "id"),
            Err("nothing to copy".into())
        );
        let mut out = Vec::new();
        if std::env::var_os("TMUX").is_none() {
            assert_eq!(
                copy(&mut out, "25", "partner id 25"),
                Ok("partner id 25".into())
            );
            assert_eq!(out, osc52("25", false).into_bytes());
        }
    }
}
