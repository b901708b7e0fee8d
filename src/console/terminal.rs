//! Taking over the terminal and always giving it back: on quit, on panic, on SIGTERM and on
//! SIGHUP (an SSH hang-up). The unsaved form is written out before the terminal is restored.

use super::recovery::Recovery;
use crossterm::{cursor, event, execute, terminal};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use std::io::{self, Stdout};
use tokio::signal::unix::{Signal, SignalKind, signal};

pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// Restores the terminal when dropped.
pub struct Guard {
    term: Term,
}

impl std::ops::Deref for Guard {
    type Target = Term;
    fn deref(&self) -> &Term {
        &self.term
    }
}

impl std::ops::DerefMut for Guard {
    fn deref_mut(&mut self) -> &mut Term {
        &mut self.term
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}

/// Puts the terminal back as it was. Safe to call more than once.
pub fn restore() {
    let _ = terminal::disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        event::DisableBracketedPaste,
        event::DisableMouseCapture,
        terminal::LeaveAlternateScreen,
        cursor::Show
    );
}

/// Raw mode, alternate screen, bracketed paste (and the mouse when asked); a panic hook that saves the form and restores
/// the terminal before the panic message is printed.
pub fn enter(recovery: Recovery, mouse: bool) -> io::Result<Guard> {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = recovery.flush();
        restore();
        previous(info);
    }));
    terminal::enable_raw_mode()?;
    execute!(
        io::stdout(),
        terminal::EnterAlternateScreen,
        event::EnableBracketedPaste,
        cursor::Hide
    )?;
    if mouse {
        execute!(io::stdout(), event::EnableMouseCapture)?;
    }
    let term = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    Ok(Guard { term })
}

/// SIGTERM and SIGHUP as a stream of signal numbers.
pub struct Signals {
    term: Signal,
    hup: Signal,
}

impl Signals {
    pub fn new() -> io::Result<Self> {
        Ok(Self {
            term: signal(SignalKind::terminate())?,
            hup: signal(SignalKind::hangup())?,
        })
    }

    pub async fn next(&mut self) -> i32 {
        tokio::select! {
            _ = self.term.recv() => 15,
            _ = self.hup.recv() => 1,
        }
    }
}
