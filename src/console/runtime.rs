//! The console's event loop: one task reads terminal events, every database call runs on a
//! task of its own and comes back as a tagged message; the screen is redrawn only when
//! something changed.

use super::app::{App, Session};
use super::clipboard;
use super::keymap::Keymap;
use super::msg::{Effect, Msg, Notice, TaskCtx};
use super::recovery::Recovery;
use super::screen;
use super::terminal;
use super::theme::Theme;
use crate::context::{Context, DbSettings};
use crate::error::{Error, Result};
use crate::service::Desk;
use crate::service::operators::Claim;
use crate::service::rows::Thresholds;
use crate::service::vetting::VettingConfig;
use crossterm::event::EventStream;
use futures::StreamExt;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

/// How often the running console runs the expiry job.
const EXPIRY_EVERY: Duration = Duration::from_secs(300);
/// How often a lost connection is retried.
const RECONNECT_EVERY: Duration = Duration::from_secs(2);

/// Everything the console needs before it takes over the terminal.
pub struct Setup {
    pub app: App,
    pub settings: DbSettings,
    pub recovery: Recovery,
    pub claim: Claim,
    pub read_only: bool,
}

/// Loads keymap, theme and the unsaved form; reports problems as toasts.
pub fn setup(ctx: &Context) -> Result<Setup> {
    let settings = ctx.settings()?;
    let (keymap, km_err) = Keymap::load(Some(&ctx.dirs.config_dir.join("keymap.toml")));
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let theme_name = ctx
        .global
        .theme
        .clone()
        .or_else(|| ctx.config.theme.clone())
        .unwrap_or_else(|| "default".into());
    let (theme, theme_err) =
        Theme::load(&theme_name, &ctx.dirs.config_dir.join("themes"), no_color);
    let recovery = Recovery::new(&ctx.dirs.state_dir);
    let claim = ctx.operator_claim();
    let session = Session {
        operator: claim.login.clone(),
        roles: String::new(),
        registered: true,
        read_only: ctx.global.read_only,
        database: settings.target(),
    };
    let mut app = App::new(keymap, theme, session);
    app.footer = ctx.config.footer.unwrap_or(true);
    // `[columns.PANE]` of the config file: a section naming an unknown list or column is
    // reported (file:line) and left out.
    let mut config = ctx.config.clone();
    let problems = config.column_problems(&ctx.config_path, |key| {
        super::panes::PaneId::of_key(key)
            .map(|id| app.panes.get(id).column_keys())
            .filter(|k| !k.is_empty())
    });
    let mut problems = problems;
    problems.extend(config.view_problems(
        &ctx.config_path,
        |key| {
            let id = super::panes::PaneId::of_key(key)?;
            let pane = app.panes.get(id);
            pane.sort().map(|_| crate::config::ViewRules {
                columns: pane.column_keys(),
                sorts: pane.sorts(),
            })
        },
        |key, text| {
            super::panes::PaneId::of_key(key).and_then(|id| app.panes.get(id).check_filter(text))
        },
        |k| super::keymap::Key::parse(k).err(),
    ));
    app.shell.columns = config.columns;
    app.shell.views = config.views;
    app.shell.config_file = Some(ctx.config_path.clone());
    for p in problems {
        tracing::warn!(problem = %p, "config");
        app.toast_error(p);
    }
    app.recovered = recovery.pending();
    if let Some(e) = km_err {
        tracing::warn!(error = %e, "keymap");
        app.toast_error(format!("keymap: {e}; using the defaults"));
    }
    if let Some(e) = theme_err {
        tracing::warn!(error = %e, "theme");
        app.toast_error(format!("theme: {e}; using the default theme"));
    }
    Ok(Setup {
        app,
        settings,
        recovery,
        claim,
        read_only: ctx.global.read_only,
    })
}

/// Runs the console until the operator quits or a signal ends it.
pub async fn run(ctx: &Context) -> Result<ExitCode> {
    let Setup {
        mut app,
        settings,
        recovery,
        claim,
        read_only,
    } = setup(ctx)?;
    let mut term =
        terminal::enter(recovery.clone(), ctx.config.mouse.unwrap_or(false)).map_err(|source| {
            Error::Io {
                context: "cannot open the terminal".into(),
                source,
            }
        })?;
    let (tx, mut rx) = unbounded_channel::<Msg>();
    spawn_connect(settings, claim, read_only, tx.clone());

    let mut runner = Runner {
        desk: None,
        tx: tx.clone(),
        recovery: recovery.clone(),
        reconnecting: false,
        vetting: Arc::new(VettingConfig::default()),
        thresholds: ctx.config.signals,
    };
    let mut events = EventStream::new();
    let mut signals = terminal::Signals::new().map_err(|source| Error::Io {
        context: "cannot watch signals".into(),
        source,
    })?;
    let mut expiry =
        tokio::time::interval_at(tokio::time::Instant::now() + EXPIRY_EVERY, EXPIRY_EVERY);
    let mut minutes = minute_timer();
    let mut dirty = true;
    let exit = loop {
        if dirty {
            if let Err(e) = term.draw(|f| screen::draw(f, &mut app)) {
                // The terminal went away (an SSH hang-up): keep the form and leave.
                tracing::warn!(error = %e, "terminal write failed");
                let _ = recovery.flush();
                break ExitCode::from(129);
            }
            dirty = false;
        }
        let deadline = app.next_deadline().map(tokio::time::Instant::from_std);
        let msg = tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(ev)) => Msg::Terminal(ev),
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "terminal read failed");
                    let _ = recovery.flush();
                    break ExitCode::from(129);
                }
                None => {
                    let _ = recovery.flush();
                    break ExitCode::from(129);
                }
            },
            Some(m) = rx.recv() => m,
            sig = signals.next() => {
                let _ = recovery.flush();
                tracing::info!(signal = sig, "ending on signal");
                break ExitCode::from(128 + sig as u8);
            }
            _ = expiry.tick() => {
                runner.run(Effect::ExpiryJob);
                continue;
            }
            _ = minutes.tick() => Msg::Notice(Notice::Minute { now: chrono::Utc::now() }),
            _ = sleep_until(deadline) => Msg::Tick,
            // A changed form goes to disk shortly after the last change: it survives kill -9.
            _ = sleep_until(recovery.due().map(tokio::time::Instant::from_std)) => {
                if let Err(e) = recovery.save_if_due() {
                    tracing::warn!(error = %e, "cannot save the unsaved form");
                }
                continue;
            }
        };
        match &msg {
            Msg::Connected(desk) => {
                runner.desk = Some(desk.clone());
                spawn_listener(desk.clone(), tx.clone());
            }
            Msg::ConnectionLost => {
                let _ = recovery.flush();
                runner.start_reconnecting();
            }
            Msg::Reconnected => runner.reconnecting = false,
            _ => {}
        }
        for effect in app.update(msg) {
            runner.run(effect);
        }
        dirty = true;
        if app.should_quit {
            break ExitCode::SUCCESS;
        }
    };
    drop(term);
    Ok(exit)
}

/// Ticks just after each clock minute begins (the monitor's minute bars move with it).
fn minute_timer() -> tokio::time::Interval {
    let now = chrono::Utc::now();
    let into_minute = Duration::from_millis(
        u64::from(chrono::Timelike::second(&now)) * 1000 + u64::from(now.timestamp_subsec_millis()),
    );
    let first = Duration::from_millis(60_050).saturating_sub(into_minute);
    let mut t =
        tokio::time::interval_at(tokio::time::Instant::now() + first, Duration::from_secs(60));
    t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    t
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => futures::future::pending().await,
    }
}

/// Connects in the background (the first frame never waits for it), retrying until it works.
/// Migrates only where the connected user owns the schema; otherwise checks it read-only.
fn spawn_connect(settings: DbSettings, claim: Claim, read_only: bool, tx: UnboundedSender<Msg>) {
    tokio::spawn(async move {
        loop {
            let attempt = Desk::open(&settings, 8, &claim, read_only);
            match attempt.await {
                Ok(desk) => {
                    let _ = tx.send(Msg::Connected(desk));
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "connect failed");
                    if tx.send(Msg::ConnectFailed(e)).is_err() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_secs(3)).await;
                }
            }
        }
    });
}

/// The channels the console listens to (LISTEN/NOTIFY): redemption counts (`ID:COUNT`) and
/// deals entering or leaving the active set (`ID:STATE`).
const CHANNELS: [&str; 3] = [
    "partnerdesk_redemptions",
    "partnerdesk_deal_states",
    "partnerdesk_changes",
];

/// What a notification on one of [`CHANNELS`] says.
pub fn notice_of(channel: &str, payload: &str) -> Option<Notice> {
    if channel == "partnerdesk_changes" {
        return Some(Notice::Changed(crate::console::msg::Changed::of(payload)));
    }
    let (id, value) = payload.split_once(':')?;
    let deal_id = id.parse().ok()?;
    match channel {
        "partnerdesk_redemptions" => Some(Notice::DealCount {
            deal_id,
            count: value.parse().ok()?,
        }),
        "partnerdesk_deal_states" => Some(Notice::DealState {
            deal_id,
            active: value == "active",
        }),
        _ => None,
    }
}

/// Listens for redemption counts and deal states announced by any session or the platform
/// (LISTEN/NOTIFY), and passes them on; after a lost connection the listener reconnects and
/// the pane reloads.
pub fn spawn_listener(desk: Desk, tx: UnboundedSender<Msg>) {
    tokio::spawn(async move {
        let mut listener = match sqlx::postgres::PgListener::connect_with(desk.pool()).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for redemption counts");
                return;
            }
        };
        if let Err(e) = listener.listen_all(CHANNELS).await {
            tracing::warn!(error = %e, "LISTEN failed");
            return;
        }
        loop {
            match listener.try_recv().await {
                Ok(Some(n)) => {
                    if let Some(notice) = notice_of(n.channel(), n.payload())
                        && tx.send(Msg::Notice(notice)).is_err()
                    {
                        return;
                    }
                }
                // The connection was lost: sqlx reconnects on the next call; what was announced
                // meanwhile is missed, so say so and let the panes reload.
                Ok(None) => {
                    if tx.send(Msg::ConnectionLost).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "listener failed");
                    if tx.send(Msg::ConnectionLost).is_err() {
                        return;
                    }
                    tokio::time::sleep(RECONNECT_EVERY).await;
                }
            }
        }
    });
}

/// Carries out effects: each database call on a task of its own.
struct Runner {
    desk: Option<Desk>,
    tx: UnboundedSender<Msg>,
    recovery: Recovery,
    reconnecting: bool,
    vetting: Arc<VettingConfig>,
    thresholds: Thresholds,
}

fn lost(e: &Error) -> bool {
    matches!(e, Error::Database(d) if d.is_connection_lost())
}

impl Runner {
    fn start_reconnecting(&mut self) {
        if self.reconnecting {
            return;
        }
        self.reconnecting = true;
        let Some(desk) = self.desk.clone() else {
            return;
        };
        let tx = self.tx.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(RECONNECT_EVERY).await;
                if sqlx::query("SELECT 1").execute(desk.pool()).await.is_ok() {
                    let _ = tx.send(Msg::Reconnected);
                    return;
                }
            }
        });
    }

    fn run(&mut self, effect: Effect) {
        match effect {
            Effect::TrackForm(None) => self.recovery.clear(),
            Effect::TrackForm(snap) => self.recovery.track(snap),
            // Inside tmux the copy runs `tmux load-buffer`: off the UI task, like all waiting.
            Effect::Copy { text, what } => {
                let tx = self.tx.clone();
                tokio::task::spawn_blocking(move || {
                    let r = clipboard::copy(&mut std::io::stdout(), &text, &what);
                    let _ = tx.send(Msg::Copied(r));
                });
            }
            other => {
                let Some(desk) = self.desk.clone() else {
                    tracing::debug!("effect before the database is connected: {other:?}");
                    return;
                };
                let ctx = TaskCtx {
                    tx: self.tx.clone(),
                    vetting: self.vetting.clone(),
                    thresholds: self.thresholds,
                };
                tokio::spawn(async move {
                    if let Some(msg) = execute(desk, other, ctx.clone()).await {
                        ctx.send(msg);
                    }
                });
            }
        }
    }
}

/// Runs one effect against the services and returns its answer. Every answer passes here, so a
/// lost connection is noticed once for all effects: the reconnect starts whatever failed.
pub async fn execute(desk: Desk, effect: Effect, ctx: TaskCtx) -> Option<Msg> {
    let msg = match effect {
        Effect::Pane(fx) => fx.run(desk, ctx.clone()).await,
        // Only a session that may change deals runs it: never a read-only or unregistered one.
        Effect::ExpiryJob if !desk.actor().may_run_jobs() => return None,
        Effect::ExpiryJob => {
            // Deals, then negotiation threads past their deadline (issue 12); the toast counts deals.
            let now = chrono::Utc::now();
            let deals = desk.expire_due_deals(now).await;
            let threads = desk.expire_due_negotiations(now).await;
            Msg::ExpiryDone(deals.and_then(|n| threads.map(|_| n)))
        }
        Effect::ExportList { pane, path, export } => {
            let tx = ctx.tx.clone();
            let progress = Box::new(move |rows: u64| {
                let _ = tx.send(Msg::ExportProgress { rows });
            });
            Msg::ListExported {
                pane,
                path,
                result: export.run(desk, progress).await,
            }
        }
        Effect::Bulk(job) => {
            let tx = ctx.tx.clone();
            let progress = move |done: usize, total: usize| {
                let _ = tx.send(Msg::BulkProgress { done, total });
            };
            Msg::BulkDone {
                pane: job.pane,
                result: desk
                    .bulk(&job.action, &job.targets, &progress, &job.cancel, false)
                    .await,
            }
        }
        Effect::MarkAll { pane, tag, query } => Msg::MarkedAll {
            pane,
            tag,
            result: query.run(desk).await,
        },
        Effect::Copy { .. } | Effect::TrackForm(_) => return None,
    };
    if msg.failure().is_some_and(lost) {
        ctx.send(Msg::ConnectionLost);
    }
    Some(msg)
}
