//! Copy by OSC 52: the terminal sets its clipboard, which works over SSH and inside tmux.

use base64::Engine;
use std::io::Write;

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

/// Writes the copy request to the terminal. Returns the number of bytes copied.
pub fn copy(out: &mut impl Write, text: &str) -> Result<usize, String> {
    if text.is_empty() {
        return Err("nothing to copy".into());
    }
    let in_tmux = std::env::var_os("TMUX").is_some();
    out.write_all(osc52(text, in_tmux).as_bytes())
        .and_then(|_| out.flush())
        .map_err(|e| format!("copy failed: {e}"))?;
    Ok(text.len())
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
        assert_eq!(copy(&mut Broken, "x"), Err("copy failed: closed".into()));
        assert_eq!(copy(&mut Vec::new(), ""), Err("nothing to copy".into()));
    }
}
