//! Everything the command line prints goes through here, never through `println!` or
//! `eprintln!` (which panic when the stream is closed: `partnerdesk doctor | head -1`).
//!
//! A stream that cannot be written to any more (`EPIPE` when the reader has gone, `EIO` when
//! the terminal hung up) is not an error: that stream stays silent from then on, the command
//! finishes what it was doing and exits with its own code, as if the output had been read.
//! Progress bars (indicatif) already ignore write errors and are drawn only on a terminal.

use crate::domain::validation::{Lines, escape_control};
use crate::error::Error;
use serde::Serialize;
use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static STDOUT_GONE: AtomicBool = AtomicBool::new(false);
static STDERR_GONE: AtomicBool = AtomicBool::new(false);

/// Prints to standard output (no newline added); silent once the reader has gone.
macro_rules! out {
    ($($t:tt)*) => { $crate::cli::output::stdout(format_args!($($t)*), false) };
}
/// Prints one line to standard output; silent once the reader has gone.
macro_rules! outln {
    ($($t:tt)*) => { $crate::cli::output::stdout(format_args!($($t)*), true) };
}
/// Prints one line to standard error; silent once the reader has gone.
macro_rules! errln {
    ($($t:tt)*) => { $crate::cli::output::stderr(format_args!($($t)*)) };
}
pub(crate) use {errln, out, outln};

/// Writes to standard output; a failed write silences it for the rest of the run.
pub fn stdout(args: fmt::Arguments<'_>, newline: bool) {
    write_to(&mut std::io::stdout().lock(), &STDOUT_GONE, args, newline);
}

/// Writes one line to standard error; a failed write silences it for the rest of the run.
pub fn stderr(args: fmt::Arguments<'_>) {
    write_to(&mut std::io::stderr().lock(), &STDERR_GONE, args, true);
}

/// Writes a prompt to standard error, without a newline, and flushes it.
pub fn err_flush(prompt: &str) {
    let mut e = std::io::stderr().lock();
    write_to(&mut e, &STDERR_GONE, format_args!("{prompt}"), false);
    let _ = e.flush();
}

fn write_to(w: &mut impl Write, gone: &AtomicBool, args: fmt::Arguments<'_>, newline: bool) {
    if gone.load(Ordering::Relaxed) {
        return;
    }
    // Whatever a printer missed, no control character from the data reaches the terminal:
    // ESC, BEL, NUL… are written as `\x1b`, `\x07`, `\x00`; line breaks and tabs stay.
    let text = match args.as_str() {
        Some(s) => std::borrow::Cow::Borrowed(s),
        None => std::borrow::Cow::Owned(args.to_string()),
    };
    let text = escape_control(&text, Lines::Many);
    let written = w
        .write_all(text.as_bytes())
        .and_then(|()| if newline { w.write_all(b"\n") } else { Ok(()) });
    if let Err(e) = written {
        gone.store(true, Ordering::Relaxed);
        tracing::debug!(error = %e, "output stream closed; the rest of the output is dropped");
    }
}

/// Has standard output gone away (a long listing may stop early)?
pub fn stdout_gone() -> bool {
    STDOUT_GONE.load(Ordering::Relaxed)
}

/// One JSON document on standard output.
pub fn json<T: Serialize + ?Sized>(value: &T) -> crate::error::Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::Io {
        context: "cannot write JSON".into(),
        source: e.into(),
    })?;
    // serde_json escapes C0 controls in strings; DEL and the C1 range it leaves raw, and they
    // can only be inside strings: `\u007f` keeps the document valid and the terminal safe.
    let text: String = if text.contains(|c: char| c.is_control() && c != '\n') {
        text.chars()
            .map(|c| {
                if c.is_control() && c != '\n' {
                    format!("\\u{:04x}", c as u32)
                } else {
                    c.to_string()
                }
            })
            .collect()
    } else {
        text
    };
    outln!("{text}");
    Ok(())
}

/// An error as the command line reports it: `partnerdesk: ` and one line, or one line per
/// field for a validation error (`partnerdesk: title: required`).
pub fn report(e: &Error) {
    match e {
        Error::Validation(errs) if !errs.is_empty() => {
            for fe in &errs.0 {
                errln!("partnerdesk: {fe}");
            }
        }
        e => errln!("partnerdesk: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer whose reader has gone.
    struct Closed(usize);
    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            self.0 += 1;
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn control_characters_are_written_escaped() {
        let gone = AtomicBool::new(false);
        let mut w: Vec<u8> = Vec::new();
        let v = "t\u{1b}]0;x\u{7}\0";
        write_to(&mut w, &gone, format_args!("{v}\nnext\tcol"), true);
        assert_eq!(
            String::from_utf8(w).unwrap(),
            "t\\x1b]0;x\\x07\\x00\nnext\tcol\n"
        );
    }

    #[test]
    fn a_closed_stream_is_silenced_not_a_panic() {
        let gone = AtomicBool::new(false);
        let mut w = Closed(0);
        write_to(&mut w, &gone, format_args!("one {}", 1), true);
        assert!(gone.load(Ordering::Relaxed));
        write_to(&mut w, &gone, format_args!("two"), true);
        assert_eq!(w.0, 1, "nothing more is tried once the stream is gone");
    }
}
