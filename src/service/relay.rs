//! The relay (SPEC §1.8): delivers every outbox event to every endpoint that takes it,
//! signed per Standard Webhooks, at least once.
//!
//! One loop per relay process; any number of relays may run. Each pass (woken by NOTIFY on
//! commit, by a periodic scan that catches lost notifications, by the next retry falling due
//! or by a send finishing):
//! 1. enqueue: one delivery row per (event, endpoint), unique in the schema, made by
//!    whichever relay gets there first (`store::webhooks::enqueue`);
//! 2. claim: due deliveries, `FOR UPDATE SKIP LOCKED`, each under a lease, so two relays
//!    never send one delivery at the same time; a relay killed mid-send leaves its lease to
//!    expire and another relay sends again;
//! 3. send, at most `concurrency` at once; record the attempt; 2xx delivered, 410 disables
//!    the endpoint, anything else retries on the schedule (`domain::webhook`).

use super::Desk;
use crate::domain::Permission;
use crate::domain::webhook::{self, Addresses, FAILING_LIMIT, Outcome};
use crate::error::{Error, Result};
use crate::store::webhooks::{self as store, AttemptResult, Claimed};
use chrono::Utc;
use serde::Serialize;
use serde_json::json;
use std::future::Future;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// How a relay runs.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// Deliver what is due, then stop (for cron); otherwise run until told to stop.
    pub once: bool,
    /// Sends in flight at most.
    pub concurrency: usize,
    /// How long one request may take.
    pub timeout: Duration,
    /// How long a claimed delivery belongs to this relay (longer than `timeout`).
    pub lease: Duration,
    /// The periodic scan, for notifications that were lost.
    pub scan_every: Duration,
    /// Shrinks the retry schedule and the days of failure that disable an endpoint (tests).
    pub retry_scale: f64,
    /// Which addresses may be posted to: public only (checked on the URL's host and on every
    /// address its name resolves to, before connecting), unless the config file allows others.
    pub addresses: Addresses,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            once: false,
            concurrency: 16,
            timeout: Duration::from_secs(15),
            lease: Duration::from_secs(60),
            scan_every: Duration::from_secs(5),
            retry_scale: 1.0,
            addresses: Addresses::PublicOnly,
        }
    }
}

/// What a relay did.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct RelayStats {
    pub enqueued: u64,
    pub attempts: u64,
    pub delivered: u64,
    /// Attempts that will be tried again.
    pub retrying: u64,
    /// Deliveries whose schedule ran out.
    pub failed: u64,
    /// Endpoints this relay disabled (410, or failing for days).
    pub endpoints_disabled: u64,
}

/// What one send came to.
enum Sent {
    Delivered,
    Retrying,
    Failed,
}

impl Desk {
    /// Runs the relay until `stop` resolves (or, with `once`, until nothing is due). Needs
    /// the admin's permission; its own changes (disabling an endpoint) are the system's.
    pub async fn run_relay(
        &self,
        cfg: &RelayConfig,
        stop: impl Future<Output = ()>,
    ) -> Result<RelayStats> {
        self.actor().require(Permission::ManageWebhooks)?;
        let mut builder = reqwest::Client::builder();
        if !cfg.addresses.is_open() {
            // Every name is resolved here and refused if any of its addresses is not public
            // (nor listed in the config file); no proxy, which would resolve (and reach) the
            // endpoint's name unchecked.
            builder = builder
                .dns_resolver(std::sync::Arc::new(Checked(cfg.addresses.clone())))
                .no_proxy();
        }
        let client = builder
            .timeout(cfg.timeout)
            .connect_timeout(cfg.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!(
                "partnerdesk/",
                env!("CARGO_PKG_VERSION"),
                " (webhooks)"
            ))
            .build()
            .map_err(|e| Error::Config(format!("cannot start the HTTP client: {e}")))?;
        let mut listener = if cfg.once {
            None
        } else {
            let mut l = sqlx::postgres::PgListener::connect_with(self.pool()).await?;
            l.listen(store::CHANNEL).await?;
            Some(l)
        };
        let concurrency = cfg.concurrency.max(1);
        let mut stats = RelayStats::default();
        let mut tasks: JoinSet<Result<(Sent, bool)>> = JoinSet::new();
        let mut stop = std::pin::pin!(stop);
        let mut stopping = false;
        let mut scan_due = true;
        let mut last_scan = Instant::now();
        loop {
            if !stopping {
                if scan_due || last_scan.elapsed() >= cfg.scan_every {
                    match self.enqueue().await {
                        Ok(n) => stats.enqueued += n,
                        Err(e) if cfg.once => return Err(e.into()),
                        Err(e) => tracing::warn!(error = %e, "relay: enqueue failed"),
                    }
                    scan_due = false;
                    last_scan = Instant::now();
                }
                let free = concurrency.saturating_sub(tasks.len());
                if free > 0 {
                    let claimed = self.claim(free as i64, millis(cfg.lease)).await;
                    match claimed {
                        Ok(claimed) => {
                            for c in claimed {
                                let (desk, client, cfg) =
                                    (self.clone(), client.clone(), cfg.clone());
                                tasks.spawn(async move { desk.send(&client, &cfg, c).await });
                            }
                        }
                        Err(e) if cfg.once => return Err(e.into()),
                        Err(e) => tracing::warn!(error = %e, "relay: claim failed"),
                    }
                }
            }
            if tasks.is_empty() && (stopping || cfg.once) {
                break;
            }
            let wait = if stopping || tasks.len() >= concurrency {
                cfg.scan_every
            } else {
                self.until_next_due(cfg).await
            };
            let notified = async {
                match listener.as_mut() {
                    Some(l) => l.recv().await.map(|_| ()),
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = &mut stop, if !stopping => stopping = true,
                Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                    tally(&mut stats, done);
                    while let Some(done) = tasks.try_join_next() {
                        tally(&mut stats, done);
                    }
                }
                n = notified => {
                    scan_due = true;
                    if let Err(e) = n {
                        tracing::warn!(error = %e, "relay: LISTEN connection lost; scanning");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
                () = tokio::time::sleep(wait) => {}
            }
        }
        Ok(stats)
    }

    /// Enqueues new events (a lost database connection is the caller's to report: the
    /// relay carries on and tries again).
    async fn enqueue(&self) -> sqlx::Result<u64> {
        let mut conn = self.pool().acquire().await?;
        store::enqueue(&mut conn).await
    }

    async fn claim(&self, limit: i64, lease_ms: i64) -> sqlx::Result<Vec<Claimed>> {
        let mut conn = self.pool().acquire().await?;
        store::claim(&mut conn, limit, lease_ms).await
    }

    /// How long until a delivery falls due or the next scan, whichever is first.
    async fn until_next_due(&self, cfg: &RelayConfig) -> Duration {
        let next = match self.pool().acquire().await {
            Ok(mut conn) => store::next_due(&mut conn).await.ok().flatten(),
            Err(_) => None,
        };
        let until_due = next
            .map(|t| (t - Utc::now()).to_std().unwrap_or(Duration::ZERO))
            .unwrap_or(cfg.scan_every);
        until_due.min(cfg.scan_every).max(Duration::from_millis(1))
    }

    /// Sends one claimed delivery and records what came of it. The flag: the endpoint was
    /// disabled by this send.
    async fn send(
        &self,
        client: &reqwest::Client,
        cfg: &RelayConfig,
        c: Claimed,
    ) -> Result<(Sent, bool)> {
        let msg_id = webhook::message_id(c.event_id);
        let body = serde_json::to_vec(&json!({
            "id": msg_id,
            "type": c.event_type,
            "timestamp": c.at,
            "entity": { "type": c.entity_type, "id": c.entity_id },
            "data": c.payload,
        }))
        .map_err(|e| Error::Refused(format!("event {} cannot be written: {e}", c.event_id)))?;
        let now = Utc::now();
        let timestamp = now.timestamp();
        let mut secrets = vec![c.secret.as_str()];
        if let (Some(prev), Some(until)) = (&c.previous_secret, c.previous_expires_at)
            && until > now
        {
            secrets.push(prev);
        }
        let signature = webhook::signature_header(&secrets, &msg_id, timestamp, &body)
            .map_err(|e| Error::Refused(format!("webhook endpoint {}: {e}", c.endpoint_id)))?;
        let started = Instant::now();
        if !cfg.addresses.is_open()
            && let Err(why) = allowed_url(&c.url, &cfg.addresses)
        {
            // Refused before anything is sent: a failed attempt, retried on the schedule (the
            // config may change), and the endpoint disabled after days of failure.
            return self
                .record(
                    cfg,
                    &c,
                    started,
                    None,
                    Outcome::Retry { retry_after: None },
                    Some(why),
                )
                .await;
        }
        let answer = client
            .post(&c.url)
            .header("content-type", "application/json")
            .header("webhook-id", &msg_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await;
        let (status, outcome, error) = match answer {
            Ok(resp) => {
                let status = resp.status();
                let retry_after = resp
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| webhook::parse_retry_after(v, Utc::now()));
                let outcome = webhook::outcome(status.as_u16(), retry_after);
                let error = (outcome != Outcome::Delivered).then(|| format!("answered {status}"));
                (Some(status.as_u16()), outcome, error)
            }
            Err(e) => (
                None,
                Outcome::Retry { retry_after: None },
                Some(describe(&e, cfg.timeout)),
            ),
        };
        self.record(cfg, &c, started, status, outcome, error).await
    }

    /// Records what one attempt came to and what follows (a retry, a disabled endpoint).
    async fn record(
        &self,
        cfg: &RelayConfig,
        c: &Claimed,
        started: Instant,
        status: Option<u16>,
        outcome: Outcome,
        error: Option<String>,
    ) -> Result<(Sent, bool)> {
        let duration_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
        let delivered = outcome == Outcome::Delivered;
        let retry_at = match &outcome {
            Outcome::Delivered => None,
            Outcome::Gone => webhook::next_delay(c.attempts, cfg.retry_scale, jitter(), None),
            Outcome::Retry { retry_after } => {
                webhook::next_delay(c.attempts, cfg.retry_scale, jitter(), *retry_after)
            }
        }
        .and_then(|d| chrono::Duration::from_std(d).ok())
        .map(|d| Utc::now() + d);
        let failing_since = {
            let mut conn = self.pool().acquire().await?;
            let r = AttemptResult {
                status,
                duration_ms,
                error: error.as_deref(),
                delivered,
                retry_at,
            };
            store::finish(&mut conn, c, &r).await?
        };
        tracing::debug!(delivery = c.delivery_id, event = c.event_id, endpoint = c.endpoint_id,
            attempt = c.attempts, status = ?status, error = ?error, "relay: attempt");
        let mut disabled = false;
        if outcome == Outcome::Gone {
            let reason = format!(
                "answered 410 Gone to delivery {} at {}",
                c.delivery_id,
                Utc::now().format("%Y-%m-%d %H:%M:%S UTC")
            );
            disabled = self
                .relay_disable_webhook(c.endpoint_id, &reason)
                .await?
                .is_some();
        } else if let Some(since) = failing_since {
            let limit = FAILING_LIMIT.mul_f64(cfg.retry_scale);
            let failing_for = (Utc::now() - since).to_std().unwrap_or(Duration::ZERO);
            if failing_for >= limit {
                let reason = format!(
                    "every attempt failed since {} (last: {})",
                    since.format("%Y-%m-%d %H:%M:%S UTC"),
                    error.as_deref().unwrap_or("no answer")
                );
                disabled = self
                    .relay_disable_webhook(c.endpoint_id, &reason)
                    .await?
                    .is_some();
            }
        }
        let sent = if delivered {
            Sent::Delivered
        } else if retry_at.is_some() {
            Sent::Retrying
        } else {
            Sent::Failed
        };
        Ok((sent, disabled))
    }
}

fn tally(
    stats: &mut RelayStats,
    done: std::result::Result<Result<(Sent, bool)>, tokio::task::JoinError>,
) {
    match done {
        Ok(Ok((sent, disabled))) => {
            stats.attempts += 1;
            match sent {
                Sent::Delivered => stats.delivered += 1,
                Sent::Retrying => stats.retrying += 1,
                Sent::Failed => stats.failed += 1,
            }
            if disabled {
                stats.endpoints_disabled += 1;
            }
        }
        // The lease runs out and a relay sends it again.
        Ok(Err(e)) => tracing::warn!(error = %e, "relay: recording an attempt failed"),
        Err(e) => tracing::error!(error = %e, "relay: a send task failed"),
    }
}

fn jitter() -> f64 {
    rand::random::<f64>()
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Refuses a URL whose host is not public (the name's addresses are the resolver's).
fn allowed_url(url: &str, addresses: &Addresses) -> std::result::Result<(), String> {
    let u = url::Url::parse(url).map_err(|e| format!("refused: not a URL: {e}"))?;
    let host = u.host().ok_or_else(|| "refused: no host".to_owned())?;
    webhook::check_host(&host, addresses).map_err(|e| format!("refused: {e}"))
}

/// The relay's resolver unless every address is allowed: a name is refused when any address
/// it resolves to is neither public nor listed, so nothing is ever sent to one.
struct Checked(Addresses);

impl reqwest::dns::Resolve for Checked {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        let addresses = self.0.clone();
        Box::pin(async move {
            if let Some(why) = webhook::non_public_name(&host) {
                return Err(webhook::refusal(&host, why).into());
            }
            let addrs: Vec<std::net::SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            for a in &addrs {
                if let Some(why) = addresses.refuses(a.ip()) {
                    let shown = format!("{host} (which resolves to {})", a.ip());
                    return Err(webhook::refusal(&shown, why).into());
                }
            }
            let addrs: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// One line for a request that got no answer.
fn describe(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("no answer within {timeout:?}");
    }
    let mut cur: &dyn std::error::Error = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    if e.is_connect() {
        format!("cannot connect: {cur}")
    } else {
        format!("request failed: {cur}")
    }
}
