//! A program in a real pseudo-terminal, watched through a `vt100` screen.
//!
//! The child's output is read on a thread of its own into a `vt100::Parser` (what a user would
//! see) and into a raw byte log (to check what was sent to the terminal, e.g. that it was
//! restored on exit). Keys are written as the bytes a terminal sends. Every wait polls the
//! parsed screen with a deadline and fails with the screen dump when the deadline passes.

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};
use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long a wait lasts before the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// How often waits look at the screen again.
const POLL: Duration = Duration::from_millis(20);
/// A frame arrives in several writes; the screen is read only after this long without output,
/// so that no half-drawn frame is ever looked at.
const SETTLE: Duration = Duration::from_millis(40);
/// …but a program that never stops writing is read anyway after this long.
const SETTLE_MAX: Duration = Duration::from_secs(2);

/// Keys as a terminal sends them.
pub mod keys {
    pub const ENTER: &str = "\r";
    pub const ESC: &str = "\x1b";
    pub const TAB: &str = "\t";
    pub const BACKSPACE: &str = "\x7f";
    pub const RIGHT: &str = "\x1b[C";
    pub const CTRL_S: &str = "\x13";
}

/// Leaves the alternate screen (what `LeaveAlternateScreen` writes).
pub const LEAVE_ALT_SCREEN: &[u8] = b"\x1b[?1049l";
/// Shows the cursor again.
pub const SHOW_CURSOR: &[u8] = b"\x1b[?25h";

struct Shared {
    parser: vt100::Parser,
    raw: Vec<u8>,
    eof: bool,
    last_output: Instant,
}

type Writer = Arc<Mutex<Box<dyn Write + Send>>>;

/// A running program in a pseudo-terminal.
pub struct Pty {
    master: Box<dyn MasterPty + Send>,
    writer: Writer,
    child: Box<dyn Child + Send + Sync>,
    shared: Arc<Mutex<Shared>>,
    status: Option<portable_pty::ExitStatus>,
}

fn lock(m: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

impl Pty {
    /// Starts `program` in a `cols`×`rows` pseudo-terminal with exactly this environment.
    pub fn spawn(
        program: &str,
        args: &[&str],
        env: &[(String, String)],
        cwd: &Path,
        cols: u16,
        rows: u16,
    ) -> Self {
        let system = native_pty_system();
        let pair = system
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("open a pseudo-terminal");
        let mut cmd = CommandBuilder::new(program);
        cmd.args(args);
        cmd.env_clear();
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.cwd(cwd);
        let child = pair
            .slave
            .spawn_command(cmd)
            .expect("spawn the program in the pseudo-terminal");
        // Only the child holds the terminal's slave side: its exit is then our end of file.
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().expect("pty reader");
        let writer: Writer = Arc::new(Mutex::new(pair.master.take_writer().expect("pty writer")));
        let shared = Arc::new(Mutex::new(Shared {
            parser: vt100::Parser::new(rows, cols, 0),
            raw: Vec::new(),
            eof: false,
            last_output: Instant::now(),
        }));
        {
            let shared = shared.clone();
            let writer = writer.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 16 * 1024];
                loop {
                    let n = match reader.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    let bytes = &buf[..n];
                    let reply = {
                        let mut s = lock(&shared);
                        s.parser.process(bytes);
                        s.raw.extend_from_slice(bytes);
                        s.last_output = Instant::now();
                        // Answer a cursor-position query as a terminal would.
                        find(bytes, b"\x1b[6n").map(|_| {
                            let (r, c) = s.parser.screen().cursor_position();
                            format!("\x1b[{};{}R", r + 1, c + 1)
                        })
                    };
                    if let Some(reply) = reply
                        && let Ok(mut w) = writer.lock()
                    {
                        let _ = w.write_all(reply.as_bytes());
                        let _ = w.flush();
                    }
                }
                lock(&shared).eof = true;
            });
        }
        Self {
            master: pair.master,
            writer,
            child,
            shared,
            status: None,
        }
    }

    /// Types `keys` (written as one burst).
    pub fn send(&self, keys: &str) {
        let mut w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        w.write_all(keys.as_bytes()).expect("write to the pty");
        w.flush().expect("flush the pty");
    }

    /// Types each character as a separate write, as fast as possible.
    pub fn type_each(&self, text: &str) {
        for c in text.chars() {
            self.send(&c.to_string());
        }
    }

    /// The shared state once the output has paused (a whole frame is on the screen).
    fn settled(&self) -> MutexGuard<'_, Shared> {
        let start = Instant::now();
        loop {
            let s = lock(&self.shared);
            if s.eof || s.last_output.elapsed() >= SETTLE || start.elapsed() >= SETTLE_MAX {
                return s;
            }
            drop(s);
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The screen's text, row by row.
    pub fn screen(&self) -> String {
        self.settled().parser.screen().contents()
    }

    /// The screen's rows (trailing blanks trimmed).
    pub fn lines(&self) -> Vec<String> {
        let s = self.settled();
        let (_, cols) = s.parser.screen().size();
        s.parser
            .screen()
            .rows(0, cols)
            .map(|r| r.trim_end().to_owned())
            .collect()
    }

    /// Text drawn highlighted (reversed, or on the theme's selection colour `bg`), per row.
    pub fn highlighted(&self, bg: vt100::Color) -> Vec<(u16, String)> {
        let s = self.settled();
        let screen = s.parser.screen();
        let (rows, cols) = screen.size();
        let mut out = Vec::new();
        for r in 0..rows {
            let mut text = String::new();
            for c in 0..cols {
                if let Some(cell) = screen.cell(r, c)
                    && (cell.bgcolor() == bg || cell.inverse())
                {
                    text.push_str(if cell.has_contents() {
                        cell.contents()
                    } else {
                        " "
                    });
                }
            }
            let text = text.trim().to_owned();
            if !text.is_empty() {
                out.push((r, text));
            }
        }
        out
    }

    /// Everything the program wrote to the terminal so far.
    pub fn raw(&self) -> Vec<u8> {
        lock(&self.shared).raw.clone()
    }

    /// Is the screen on the alternate buffer (a full-screen program running)?
    pub fn alternate_screen(&self) -> bool {
        lock(&self.shared).parser.screen().alternate_screen()
    }

    /// Waits until `check` holds for the screen text; fails with `what` and the screen dump.
    pub fn wait_until(&self, what: &str, timeout: Duration, check: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + timeout;
        loop {
            let screen = self.screen();
            if check(&screen) {
                return;
            }
            if Instant::now() >= deadline {
                panic!(
                    "timed out after {timeout:?} waiting for {what}; the screen:\n{}",
                    self.dump()
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// Waits until the screen shows `text`.
    pub fn wait_for(&self, text: &str, timeout: Duration) {
        self.wait_until(&format!("{text:?}"), timeout, |s| s.contains(text));
    }

    /// Waits until the screen no longer shows `text`.
    pub fn wait_gone(&self, text: &str, timeout: Duration) {
        self.wait_until(&format!("{text:?} to disappear"), timeout, |s| {
            !s.contains(text)
        });
    }

    /// Checks that `check` keeps holding for `period` (polling), e.g. that a late answer does
    /// not replace what is shown.
    pub fn stays(&self, what: &str, period: Duration, check: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + period;
        while Instant::now() < deadline {
            let screen = self.screen();
            assert!(
                check(&screen),
                "{what} stopped holding; the screen:\n{}",
                self.dump()
            );
            std::thread::sleep(POLL);
        }
    }

    /// The screen with row numbers, for failure messages.
    pub fn dump(&self) -> String {
        let (rows, cols, alt) = {
            let s = lock(&self.shared);
            let (r, c) = s.parser.screen().size();
            (r, c, s.parser.screen().alternate_screen())
        };
        let mut out = format!("[{cols}×{rows}, alternate screen: {alt}]\n");
        for (i, l) in self.lines().iter().enumerate() {
            out.push_str(&format!("{i:>2}│{l}\n"));
        }
        out
    }

    /// Resizes the terminal (the child gets SIGWINCH) and the screen model with it.
    pub fn resize(&self, cols: u16, rows: u16) {
        lock(&self.shared).parser.screen_mut().set_size(rows, cols);
        self.master
            .resize(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("resize the pty");
    }

    pub fn pid(&self) -> u32 {
        self.child.process_id().expect("child pid")
    }

    /// Sends a signal (`TERM`, `HUP`, …) to the program.
    pub fn signal(&self, name: &str) {
        let status = std::process::Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} failed");
    }

    /// Waits for the program to end, then for its last output to be read; returns the exit code.
    pub fn wait_exit(&mut self, timeout: Duration) -> u32 {
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(s) = &self.status {
                break s.clone();
            }
            match self.child.try_wait().expect("wait for the child") {
                Some(s) => {
                    self.status = Some(s.clone());
                    break s;
                }
                None if Instant::now() >= deadline => panic!(
                    "the program did not exit within {timeout:?}; the screen:\n{}",
                    self.dump()
                ),
                None => std::thread::sleep(POLL),
            }
        };
        while !lock(&self.shared).eof {
            assert!(
                Instant::now() < deadline + Duration::from_secs(2),
                "the terminal output did not end after the program exited"
            );
            std::thread::sleep(POLL);
        }
        assert!(
            status.signal().is_none(),
            "the program was killed by a signal ({status}) instead of ending by itself"
        );
        status.exit_code()
    }

    /// Asserts that the terminal was given back: the last bytes leave the alternate screen and
    /// show the cursor, and the screen model is back on the main screen.
    pub fn assert_restored(&self) {
        let raw = self.raw();
        let tail = &raw[raw.len().saturating_sub(256)..];
        let leave = raw
            .windows(LEAVE_ALT_SCREEN.len())
            .rposition(|w| w == LEAVE_ALT_SCREEN);
        let enter = raw.windows(8).rposition(|w| w == b"\x1b[?1049h");
        assert!(
            find(tail, LEAVE_ALT_SCREEN).is_some(),
            "the last output does not leave the alternate screen: {:?}",
            String::from_utf8_lossy(tail)
        );
        assert!(
            find(tail, SHOW_CURSOR).is_some(),
            "the last output does not show the cursor: {:?}",
            String::from_utf8_lossy(tail)
        );
        assert!(
            leave > enter,
            "the alternate screen was entered again after it was left"
        );
        assert!(
            !self.alternate_screen(),
            "the terminal is still on the alternate screen"
        );
        let s = lock(&self.shared);
        assert!(
            !s.parser.screen().hide_cursor(),
            "the cursor is still hidden"
        );
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        if self.status.is_none() && matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
