//! `partnerdesk webhooks add|list|disable|enable|rotate|replay|deliveries|attempts` and
//! `partnerdesk relay` (SPEC §1.8).

use super::Context;
use super::args::{Print, done};
use super::output::{self, errln, out, outln};
use super::table::{Table, or_dash, time};
use crate::error::{Error, Result};
use crate::service::relay::RelayConfig;
use crate::service::rows::{Attempt, Delivery, DeliveryFilter, Endpoint};
use crate::service::webhooks::WithSecret;
use clap::{Args, Subcommand};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Subcommand)]
pub enum WebhooksCommand {
    /// Add an endpoint; prints its secret, which is shown this once.
    Add {
        /// Where to POST events (http or https).
        #[arg(long, value_name = "URL")]
        url: String,
        /// An event type to send (repeat for more; none: every type).
        #[arg(long = "event", value_name = "TYPE")]
        events: Vec<String>,
        #[command(flatten)]
        print: Print,
    },
    /// List endpoints with their deliveries counted (a table, or --json).
    List {
        #[command(flatten)]
        print: Print,
    },
    /// Disable an endpoint: nothing is sent to it until it is enabled (events still queue).
    Disable {
        /// The endpoint's id.
        id: i64,
        /// Why (kept with the endpoint and in the audit log).
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
        #[command(flatten)]
        print: Print,
    },
    /// Enable an endpoint: what queued for it is sent.
    Enable {
        /// The endpoint's id.
        id: i64,
        #[command(flatten)]
        print: Print,
    },
    /// Give an endpoint a new secret (shown this once); the old one signs too for 24 hours.
    Rotate {
        /// The endpoint's id.
        id: i64,
        #[command(flatten)]
        print: Print,
    },
    /// Send a delivery, or an event, again.
    Replay(ReplayArgs),
    /// List deliveries, newest first (a table, or --json).
    Deliveries {
        /// Only this endpoint's.
        #[arg(long, value_name = "ID")]
        endpoint: Option<i64>,
        /// Only this event's.
        #[arg(long, value_name = "ID")]
        event: Option<i64>,
        /// At most this many rows.
        #[arg(long, value_name = "N", default_value_t = 50,
              value_parser = clap::value_parser!(i64).range(1..=10_000))]
        limit: i64,
        #[command(flatten)]
        print: Print,
    },
    /// One delivery: its event and every attempt (time, status, duration, error).
    Attempts {
        /// The delivery's id (from `webhooks deliveries`).
        delivery: i64,
        #[command(flatten)]
        print: Print,
    },
}

#[derive(Debug, Args)]
#[group(id = "what", required = true, multiple = false)]
pub struct ReplayArgs {
    /// The delivery to send again (from `webhooks deliveries`).
    #[arg(long, value_name = "ID", group = "what")]
    pub delivery: Option<i64>,
    /// The event to send again: to every endpoint that takes it, or to --endpoint.
    #[arg(long, value_name = "ID", group = "what")]
    pub event: Option<i64>,
    /// With --event: only to this endpoint.
    #[arg(long, value_name = "ID", requires = "event")]
    pub endpoint: Option<i64>,
    #[command(flatten)]
    pub print: Print,
}

#[derive(Debug, Args)]
pub struct RelayArgs {
    /// Deliver what is due now, then stop (for cron).
    #[arg(long)]
    pub once: bool,
    /// Requests in flight at most.
    #[arg(long, value_name = "N", default_value_t = 16,
          value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub concurrency: u16,
    /// Seconds one request may take before it counts as unanswered.
    #[arg(long, value_name = "SECONDS", default_value_t = 15.0, value_parser = positive_seconds)]
    pub timeout: f64,
    /// Seconds a claimed delivery belongs to this relay; after that another relay may send
    /// it again (default: the timeout plus 45).
    #[arg(long, value_name = "SECONDS", value_parser = positive_seconds)]
    pub lease: Option<f64>,
    /// Seconds between scans for events whose notification was lost.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0, value_parser = positive_seconds)]
    pub scan_every: f64,
    /// Shrinks the retry schedule and the failing days that disable an endpoint (tests).
    #[arg(long, hide = true, env = "PARTNERDESK_RETRY_SCALE", default_value_t = 1.0,
          value_parser = positive_seconds)]
    pub retry_scale: f64,
    #[command(flatten)]
    pub print: Print,
}

fn positive_seconds(s: &str) -> std::result::Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 86_400.0 => Ok(v),
        _ => Err(format!("'{s}' is not a positive number of seconds")),
    }
}

pub async fn run(ctx: &Context, cmd: WebhooksCommand) -> Result<ExitCode> {
    let desk = ctx.desk(2).await?;
    match cmd {
        WebhooksCommand::Add { url, events, print } => {
            let w = desk
                .add_webhook(&url, &events, ctx.config.webhooks.addresses())
                .await?;
            done(&print, &w, || secret_text("added", &w))
        }
        WebhooksCommand::List { print } => {
            let rows = desk.webhooks().await?;
            if print.json {
                output::json(&rows)?;
                return Ok(ExitCode::SUCCESS);
            }
            if rows.is_empty() {
                outln!("no webhook endpoint (add one: partnerdesk webhooks add --url URL)");
                return Ok(ExitCode::SUCCESS);
            }
            let mut t = Table::new(&[
                "ID",
                "URL",
                "EVENTS",
                "STATE",
                "PENDING",
                "DELIVERED",
                "FAILED",
            ])
            .right(&[0, 4, 5, 6]);
            for r in &rows {
                let e = &r.endpoint;
                t.row(vec![
                    e.id.to_string(),
                    e.url.clone(),
                    events_text(e),
                    state_text(e),
                    r.pending.to_string(),
                    r.delivered.to_string(),
                    r.failed.to_string(),
                ]);
            }
            out!("{}", t.render());
            Ok(ExitCode::SUCCESS)
        }
        WebhooksCommand::Disable { id, reason, print } => {
            let e = desk.disable_webhook(id, reason.as_deref()).await?;
            done(&print, &e, || {
                format!(
                    "webhook endpoint {} disabled: {}",
                    e.id,
                    or_dash(e.disabled_reason.as_deref())
                )
            })
        }
        WebhooksCommand::Enable { id, print } => {
            let e = desk.enable_webhook(id).await?;
            done(&print, &e, || format!("webhook endpoint {} enabled", e.id))
        }
        WebhooksCommand::Rotate { id, print } => {
            let w = desk.rotate_webhook(id).await?;
            done(&print, &w, || secret_text("rotated", &w))
        }
        WebhooksCommand::Replay(a) => match (a.delivery, a.event) {
            (Some(d), _) => {
                let d = desk.replay_delivery(d).await?;
                done(&a.print, &d, || {
                    format!(
                        "delivery {} of event {} to endpoint {} queued again",
                        d.id, d.event_id, d.endpoint_id
                    )
                })
            }
            (None, Some(ev)) => {
                let ds = desk.replay_event(ev, a.endpoint).await?;
                done(&a.print, &ds, || {
                    let to: Vec<String> = ds.iter().map(|d| d.endpoint_id.to_string()).collect();
                    format!(
                        "event {ev} queued again for endpoint{} {}",
                        if ds.len() == 1 { "" } else { "s" },
                        to.join(", ")
                    )
                })
            }
            (None, None) => Err(Error::Usage(
                "replay needs --delivery ID or --event ID".into(),
            )),
        },
        WebhooksCommand::Deliveries {
            endpoint,
            event,
            limit,
            print,
        } => {
            let filter = DeliveryFilter {
                endpoint_id: endpoint,
                event_id: event,
                before_id: None,
            };
            let rows = desk.webhook_deliveries(filter, limit).await?;
            if print.json {
                output::json(&rows)?;
                return Ok(ExitCode::SUCCESS);
            }
            if rows.is_empty() {
                outln!("no delivery");
                return Ok(ExitCode::SUCCESS);
            }
            out!("{}", deliveries_table(&rows));
            Ok(ExitCode::SUCCESS)
        }
        WebhooksCommand::Attempts { delivery, print } => {
            let d = desk.webhook_delivery(delivery).await?;
            if print.json {
                output::json(&d)?;
                return Ok(ExitCode::SUCCESS);
            }
            out!("{}", deliveries_table(std::slice::from_ref(&d.delivery)));
            if d.attempts.is_empty() {
                outln!("no attempt yet");
                return Ok(ExitCode::SUCCESS);
            }
            out!("{}", attempts_table(&d.attempts));
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn attempts_table(rows: &[Attempt]) -> String {
    let mut t = Table::new(&["#", "AT", "STATUS", "MS", "ERROR"]).right(&[0, 2, 3]);
    for (i, a) in rows.iter().enumerate() {
        t.row(vec![
            (i + 1).to_string(),
            time(a.at),
            or_dash(a.status.map(|s| s.to_string()).as_deref()),
            or_dash(a.duration_ms.map(|s| s.to_string()).as_deref()),
            or_dash(a.error.as_deref()),
        ]);
    }
    t.render()
}

/// `partnerdesk relay`: runs until SIGINT or SIGTERM (finishing the requests in flight), or
/// with --once until nothing is due.
pub async fn relay(ctx: &Context, a: RelayArgs) -> Result<ExitCode> {
    if ctx.global.read_only {
        return Err(Error::ReadOnly {
            action: "running the relay",
        });
    }
    let desk = ctx.desk(u32::from(a.concurrency).clamp(2, 32) + 2).await?;
    let timeout = Duration::from_secs_f64(a.timeout);
    let cfg = RelayConfig {
        once: a.once,
        concurrency: usize::from(a.concurrency),
        timeout,
        lease: a
            .lease
            .map(Duration::from_secs_f64)
            .unwrap_or(timeout + Duration::from_secs(45)),
        scan_every: Duration::from_secs_f64(a.scan_every),
        retry_scale: a.retry_scale,
        addresses: ctx.config.webhooks.addresses(),
    };
    if cfg.lease <= cfg.timeout {
        return Err(Error::Usage(
            "--lease must be longer than --timeout, or two relays could send one delivery at once"
                .into(),
        ));
    }
    use tokio::signal::unix::{SignalKind, signal};
    let signals = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    );
    let (Ok(mut int), Ok(mut term)) = signals else {
        return Err(Error::Config("cannot watch for signals".into()));
    };
    let stop = async move {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
    };
    if !a.once && !a.print.json {
        errln!(
            "relay: delivering webhooks ({} at once; Ctrl-C stops after the requests in flight)",
            cfg.concurrency
        );
    }
    let stats = desk.run_relay(&cfg, stop).await?;
    done(&a.print, &stats, || {
        format!(
            "relay: {} attempt{}: {} delivered, {} to retry, {} failed; {} endpoint{} disabled",
            stats.attempts,
            if stats.attempts == 1 { "" } else { "s" },
            stats.delivered,
            stats.retrying,
            stats.failed,
            stats.endpoints_disabled,
            if stats.endpoints_disabled == 1 {
                ""
            } else {
                "s"
            },
        )
    })
}

fn secret_text(what: &str, w: &WithSecret) -> String {
    format!(
        "webhook endpoint {} {what}: {} ({})\nsecret: {}\n(shown this once: keep it where the receiver verifies signatures)",
        w.endpoint.id,
        w.endpoint.url,
        events_text(&w.endpoint),
        w.secret
    )
}

fn events_text(e: &Endpoint) -> String {
    match &e.event_types {
        None => "every event".into(),
        Some(t) => t.join(","),
    }
}

fn state_text(e: &Endpoint) -> String {
    if e.enabled {
        match e.failing_since {
            Some(t) => format!("enabled, failing since {}", time(t)),
            None => "enabled".into(),
        }
    } else {
        format!("disabled: {}", or_dash(e.disabled_reason.as_deref()))
    }
}

fn deliveries_table(rows: &[Delivery]) -> String {
    let mut t = Table::new(&[
        "ID",
        "EVENT",
        "TYPE",
        "ENDPOINT",
        "STATUS",
        "ATTEMPTS",
        "LAST",
        "NEXT/DONE",
    ])
    .right(&[0, 1, 3, 5]);
    for d in rows {
        let last = match (d.last_status, &d.last_error) {
            (_, Some(e)) => e.clone(),
            (Some(s), None) => s.to_string(),
            (None, None) => "-".into(),
        };
        let when = match (&d.delivered_at, d.status.as_str()) {
            (Some(t), _) => time(*t),
            (None, "pending") => time(d.next_attempt_at),
            _ => "-".into(),
        };
        t.row(vec![
            d.id.to_string(),
            d.event_id.to_string(),
            d.event_type.clone(),
            d.endpoint_id.to_string(),
            d.status.clone(),
            d.attempts.to_string(),
            last,
            when,
        ]);
    }
    t.render()
}
