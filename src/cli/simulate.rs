//! `partnerdesk simulate`: concurrent redemption traffic against one deal (issue 5).
//!
//! Each run has a run id, in the names of everything it creates. Without `--deal`, a fresh
//! verified partner and a fresh active public coupon deal with the given cap are created
//! through the services (audited, as the operator); its id is printed first. The members the
//! traffic needs are inserted in one statement, with one audit row. `--cleanup RUN` removes
//! what a run created. Then M attempts run, C at a time, each a real [`Desk::record_redemption`] on a
//! pool of C connections; the outcome counts, the throughput, the latency percentiles and,
//! last, the redemption rows in the database for the deal are printed.
//!
//! The engine ([`fire`], [`create_deal`], [`create_members`], [`warm`]) is public so that the
//! redemption benchmarks drive exactly the same code.

use super::Context;
use super::output::{errln, out, outln};
use crate::domain::deal::CAP_MAX;
use crate::domain::{DealDraft, DealState, PartnerDraft};
use crate::error::{DbError, DbErrorKind, Error, RedemptionRefusal, Result};
use crate::service::Desk;
use crate::service::simulation::{member_attributes, new_run_id};
use crate::store::{self, deals::Deal, partners::Partner, redemptions::Redemption};
use clap::Args;
use hdrhistogram::Histogram;
use sqlx::PgPool;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// The most attempts (and members) one run may ask for.
pub const ATTEMPTS_MAX: u64 = 10_000_000;
/// The most attempts in flight at once (each holds a database connection).
pub const CONCURRENCY_MAX: u64 = 1000;

/// `simulate --help`: what the command creates in the database, exactly.
pub const LONG_ABOUT: &str = "Fire concurrent redemption attempts at a deal and report outcomes, throughput and latency.\n\n\
It writes to the database: run it against a test or staging database, not production. The \
operator needs the curator or admin role. Each run has a run id, RUN (ten random hexadecimal \
digits), printed after the deal and part of the name of everything it creates; \
`partnerdesk simulate --cleanup RUN` removes it all again (audited). What a run creates:\n\n\
Without --deal, a partner and a deal, through the services as the operator, each with its \
audit rows and outbox events: a partner 'Simulation RUN' (legal name 'Simulation RUN Ltd', \
website https://sim-RUN.example/, category simulation), marked vetted, and an \
active public coupon deal 'Simulation RUN' of that partner (code SIM-RUN, category \
simulation, valid from a minute before the run for 30 days) with the cap given by --cap (1: \
one per member; N > 1: the first N in total; no --cap: no cap); the deal's id is printed. \
With --deal, that deal is used as it is and nothing but its redemptions changes; a deal that \
is not active is refused before anything is created.\n\n\
K members (--members, default: one per attempt), handles sim-RUN-1 to sim-RUN-K, who can all \
see the deal (its audience's role, verification, batch year or chapter), inserted in one \
statement with one audit row ('simulation.members').\n\n\
One redemption row per successful attempt, with its audit row ('redemption.record', as the \
operator); the deal's redemption_count grows with them.\n\n\
M attempts run, C at a time, on C database connections, each a real redemption as \
`partnerdesk redeem` records it; attempt i is made by member i mod K. Printed: the count of \
each outcome (redeemed, cap_reached, already_redeemed, not_found, not_active, \
outside_window, error), the throughput in attempts per second, the p50/p95/p99 latency of \
one attempt and, last, the redemption rows the database holds for the deal. Exit code 1 if \
any attempt failed with an error.";

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Redeem this existing deal, which must be active (default: create a fresh active deal).
    #[arg(long, value_name = "ID", conflicts_with = "cap")]
    pub deal: Option<i64>,
    /// Remove what simulate run RUN created (its members and their redemptions, its deal and
    /// partner), audited; nothing else is done.
    #[arg(
        long,
        value_name = "RUN",
        conflicts_with_all = ["deal", "cap", "attempts", "concurrency", "members"]
    )]
    pub cleanup: Option<String>,
    /// The fresh deal's cap: 1 is one per member, N > 1 the first N in total (default: no cap).
    #[arg(
        long,
        value_name = "N",
        allow_negative_numbers = true,
        value_parser = clap::value_parser!(i64).range(1..=CAP_MAX)
    )]
    pub cap: Option<i64>,
    /// How many redemptions to attempt.
    #[arg(
        long,
        value_name = "M",
        required_unless_present = "cleanup",
        allow_negative_numbers = true,
        value_parser = clap::value_parser!(u64).range(1..=ATTEMPTS_MAX)
    )]
    pub attempts: Option<u64>,
    /// How many attempts run at once (and how many database connections are opened).
    #[arg(
        long,
        value_name = "C",
        required_unless_present = "cleanup",
        allow_negative_numbers = true,
        value_parser = clap::value_parser!(u64).range(1..=CONCURRENCY_MAX)
    )]
    pub concurrency: Option<u64>,
    /// How many distinct members make the attempts, in turn (default: one per attempt).
    #[arg(
        long,
        value_name = "K",
        allow_negative_numbers = true,
        value_parser = clap::value_parser!(u64).range(1..=ATTEMPTS_MAX)
    )]
    pub members: Option<u64>,
}

/// What one attempt came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Redeemed,
    CapReached,
    AlreadyRedeemed,
    NotFound,
    NotActive,
    OutsideWindow,
    Error,
}

impl Outcome {
    /// Every outcome, in the order they are printed.
    pub const ALL: [Outcome; 7] = [
        Outcome::Redeemed,
        Outcome::CapReached,
        Outcome::AlreadyRedeemed,
        Outcome::NotFound,
        Outcome::NotActive,
        Outcome::OutsideWindow,
        Outcome::Error,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Outcome::Redeemed => "redeemed",
            Outcome::CapReached => "cap_reached",
            Outcome::AlreadyRedeemed => "already_redeemed",
            Outcome::NotFound => "not_found",
            Outcome::NotActive => "not_active",
            Outcome::OutsideWindow => "outside_window",
            Outcome::Error => "error",
        }
    }

    pub fn of(r: &Result<Redemption>) -> Self {
        match r {
            Ok(_) => Outcome::Redeemed,
            Err(Error::Redemption(refusal)) => match refusal {
                RedemptionRefusal::CapReached { .. } => Outcome::CapReached,
                RedemptionRefusal::AlreadyRedeemed { .. } => Outcome::AlreadyRedeemed,
                RedemptionRefusal::NotFound { .. } => Outcome::NotFound,
                RedemptionRefusal::NotActive { .. } => Outcome::NotActive,
                RedemptionRefusal::OutsideWindow { .. } => Outcome::OutsideWindow,
            },
            Err(_) => Outcome::Error,
        }
    }

    fn index(self) -> usize {
        Outcome::ALL
            .iter()
            .position(|o| *o == self)
            .unwrap_or(Outcome::ALL.len() - 1)
    }
}

/// The outcome counts and latencies of a run.
#[derive(Debug, Clone)]
pub struct Report {
    counts: [u64; Outcome::ALL.len()],
    /// Latency of each attempt, in microseconds.
    pub latency: Histogram<u64>,
    /// From the first attempt started to the last one finished.
    pub elapsed: Duration,
    /// The first attempt that failed with an error (not a refusal), as one line.
    pub first_error: Option<String>,
}

impl Default for Report {
    fn default() -> Self {
        Self::new()
    }
}

impl Report {
    pub fn new() -> Self {
        Self {
            counts: [0; Outcome::ALL.len()],
            // 1 µs to an hour, three significant digits.
            latency: Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds"),
            elapsed: Duration::ZERO,
            first_error: None,
        }
    }

    /// Adds one attempt.
    pub fn record(&mut self, outcome: Outcome, latency: Duration, error: Option<String>) {
        self.counts[outcome.index()] += 1;
        self.latency.saturating_record(
            u64::try_from(latency.as_micros())
                .unwrap_or(u64::MAX)
                .max(1),
        );
        if self.first_error.is_none() {
            self.first_error = error;
        }
    }

    pub fn count(&self, o: Outcome) -> u64 {
        self.counts[o.index()]
    }

    pub fn attempts(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Attempts per second.
    pub fn throughput(&self) -> f64 {
        self.attempts() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The latency at quantile `q` (0.5, 0.95, 0.99), in milliseconds.
    pub fn latency_ms(&self, q: f64) -> f64 {
        self.latency.value_at_quantile(q) as f64 / 1000.0
    }
}

/// Runs `attempts` redemptions of `deal_id`, `concurrency` at a time (a tokio task each,
/// admitted by a semaphore); attempt i is made by `members[i % members.len()]`.
pub async fn fire(
    desk: &Desk,
    deal_id: i64,
    members: &[i64],
    attempts: u64,
    concurrency: usize,
) -> Report {
    assert!(!members.is_empty(), "fire needs at least one member");
    let desk = Arc::new(desk.clone());
    let gate = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut tasks = JoinSet::new();
    let mut report = Report::new();
    let add = |report: &mut Report, done: Result<Attempt, tokio::task::JoinError>| match done {
        Ok((o, t, e)) => report.record(o, t, e),
        Err(e) => report.record(Outcome::Error, Duration::ZERO, Some(e.to_string())),
    };
    let started = Instant::now();
    for i in 0..attempts {
        let permit = gate
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let member = members[(i % members.len() as u64) as usize];
        let desk = desk.clone();
        tasks.spawn(async move {
            let t = Instant::now();
            let r = desk.record_redemption(deal_id, member, None).await;
            let took = t.elapsed();
            drop(permit);
            let o = Outcome::of(&r);
            let e =
                (o == Outcome::Error).then(|| r.err().map(|e| e.to_string()).unwrap_or_default());
            (o, took, e)
        });
        while let Some(done) = tasks.try_join_next() {
            add(&mut report, done);
        }
    }
    while let Some(done) = tasks.join_next().await {
        add(&mut report, done);
    }
    report.elapsed = started.elapsed();
    report
}

type Attempt = (Outcome, Duration, Option<String>);

/// A fresh verified partner and a fresh active public coupon deal of it with this cap, both
/// through the services (audited, as the desk's operator).
pub async fn create_deal(desk: &Desk, cap: Option<i64>) -> Result<(Partner, Deal)> {
    create_run_deal(desk, &new_run_id(), cap).await
}

/// [`create_deal`] named after run `run`.
async fn create_run_deal(desk: &Desk, run: &str, cap: Option<i64>) -> Result<(Partner, Deal)> {
    let partner = create_run_partner(desk, run).await?;
    let deal = create_run_deal_of(desk, &partner, run, cap).await?;
    Ok((partner, deal))
}

/// A fresh partner, vetted (verified), through the services.
pub async fn create_partner(desk: &Desk) -> Result<Partner> {
    create_run_partner(desk, &new_run_id()).await
}

async fn create_run_partner(desk: &Desk, tag: &str) -> Result<Partner> {
    let partner = desk
        .create_partner(&PartnerDraft {
            legal_name: format!("Simulation {tag} Ltd"),
            display_name: format!("Simulation {tag}"),
            logo_url: None,
            website_url: Some(format!("https://sim-{tag}.example/")),
            contact_email: None,
            categories: vec!["simulation".into()],
            region: None,
            notes: Some("Created by partnerdesk simulate for redemption traffic.".into()),
        })
        .await?;
    desk.mark_vetted(partner.id, Some(partner.version)).await
}

/// A fresh active public coupon deal of `partner` (verified) with this cap, through the
/// services; valid from a minute ago for thirty days.
pub async fn create_deal_of(desk: &Desk, partner: &Partner, cap: Option<i64>) -> Result<Deal> {
    create_run_deal_of(desk, partner, &new_run_id(), cap).await
}

async fn create_run_deal_of(
    desk: &Desk,
    partner: &Partner,
    tag: &str,
    cap: Option<i64>,
) -> Result<Deal> {
    let now = chrono::Utc::now();
    desk.create_deal(&DealDraft {
        partner_id: Some(partner.id),
        title: format!("Simulation {tag}"),
        description: "Simulated redemption traffic (partnerdesk simulate).".into(),
        kind: "coupon".into(),
        coupon_code: Some(format!("SIM-{}", tag.to_ascii_uppercase())),
        redemption_url: None,
        categories: vec!["simulation".into()],
        audience_scope: "public".into(),
        audience_scope_value: None,
        valid_from: Some(now - chrono::Duration::minutes(1)),
        valid_until: Some(now + chrono::Duration::days(30)),
        redemption_cap: cap,
        state: Some("active".into()),
    })
    .await
}

/// Inserts `count` fresh members who can all see `deal`, in one statement, not audited: for
/// the benchmarks (the command itself uses [`Desk::create_simulation_members`]); their ids.
pub async fn create_members(pool: &PgPool, deal: &Deal, count: u64) -> Result<Vec<i64>> {
    let (role, verified, batch, chapters) = member_attributes(deal);
    let prefix = store::simulation::member_prefix(&new_run_id());
    let mut conn = pool.acquire().await?;
    let count = i64::try_from(count).unwrap_or(i64::MAX);
    Ok(
        store::members::insert_many(&mut conn, &prefix, count, role, verified, batch, &chapters)
            .await?,
    )
}

/// Opens `n` connections of the pool up front, so that no attempt pays for a connection and a
/// server that allows fewer is reported before the run, as one line.
pub async fn warm(pool: &PgPool, n: u32) -> Result<()> {
    {
        let mut conn = pool.acquire().await?;
        let (allowed, open) = store::connect::connection_room(&mut conn).await?;
        // This connection is one of the n, and counted among the open ones.
        if i64::from(n) > allowed - open + 1 {
            return Err(Error::Database(DbError::new(
                DbErrorKind::Other,
                format!(
                    "--concurrency {n} needs {n} database connections, but the server allows {allowed} and {open} are open; lower --concurrency or raise the server's max_connections"
                ),
            )));
        }
    }
    match futures::future::try_join_all((0..n).map(|_| pool.acquire())).await {
        Ok(conns) => {
            drop(conns);
            Ok(())
        }
        Err(e) => {
            let cause = DbError::from(e);
            Err(Error::Database(DbError::new(
                cause.kind,
                format!(
                    "cannot open {n} database connections for --concurrency {n} ({}); lower --concurrency or raise the server's max_connections",
                    cause.message
                ),
            )))
        }
    }
}

/// A deal's redemption rows and its redemption_count.
async fn tally(pool: &PgPool, deal_id: i64) -> Result<(i64, i32)> {
    let mut conn = pool.acquire().await?;
    store::deals::redemption_tally(&mut conn, deal_id)
        .await?
        .ok_or_else(|| Error::not_found("deal", deal_id))
}

pub async fn run(ctx: &Context, args: SimulateArgs) -> Result<ExitCode> {
    super::commands::refuse_read_only(ctx)?;
    if let Some(run) = &args.cleanup {
        return cleanup(ctx, run).await;
    }
    let (Some(attempts), Some(concurrency)) = (args.attempts, args.concurrency) else {
        return Err(Error::Usage(
            "--attempts and --concurrency are required (or --cleanup RUN)".into(),
        ));
    };
    let concurrency = u32::try_from(concurrency).unwrap_or(u32::MAX);
    let desk = ctx.desk(concurrency).await?;
    let pool = desk.pool().clone();
    // All C connections first: a server that allows fewer is told before anything is created.
    warm(&pool, concurrency).await?;

    let run = new_run_id();
    let deal = match args.deal {
        Some(id) => {
            let deal = desk.get_deal(id).await?;
            if deal.state != DealState::Active {
                return Err(Error::Refused(format!(
                    "deal {id} is {}, not active: simulate redeems only an active deal; nothing was created",
                    deal.state
                )));
            }
            outln!(
                "deal: {} (existing: {}, audience {}{}, cap {}, {} redeemed so far)",
                deal.id,
                deal.state,
                deal.audience_scope,
                deal.audience_scope_value
                    .as_deref()
                    .map(|v| format!(" {v}"))
                    .unwrap_or_default(),
                cap_text(deal.redemption_cap),
                deal.redemption_count
            );
            deal
        }
        None => {
            let (partner, deal) = create_run_deal(&desk, &run, args.cap).await?;
            outln!(
                "deal: {} (created: active public coupon deal \"{}\" of verified partner {}, cap {})",
                deal.id,
                deal.title,
                partner.id,
                cap_text(deal.redemption_cap)
            );
            deal
        }
    };
    outln!("run: {run} (partnerdesk simulate --cleanup {run} removes what it creates)");
    let (rows_before, _) = tally(&pool, deal.id).await?;

    let k = args.members.unwrap_or(attempts);
    let t = Instant::now();
    let members = desk.create_simulation_members(&run, &deal, k).await?;
    outln!(
        "members: {} created in {:.2} s (ids {}..={})",
        members.len(),
        t.elapsed().as_secs_f64(),
        members.first().copied().unwrap_or_default(),
        members.last().copied().unwrap_or_default()
    );

    outln!(
        "attempts: {} at concurrency {} over {} member{}",
        attempts,
        concurrency,
        members.len(),
        if members.len() == 1 { "" } else { "s" }
    );
    let report = fire(&desk, deal.id, &members, attempts, concurrency as usize).await;
    out!("{}", outcome_table(&report));
    outln!(
        "throughput: {:.1} attempts/s ({} attempts in {:.3} s)",
        report.throughput(),
        report.attempts(),
        report.elapsed.as_secs_f64()
    );
    for (name, q) in [("p50", 0.50), ("p95", 0.95), ("p99", 0.99)] {
        outln!("latency {name}: {:.2} ms", report.latency_ms(q));
    }

    let (rows, count) = tally(&pool, deal.id).await?;
    let added = rows - rows_before;
    outln!(
        "database: deal {} has {rows} redemption row{} (+{added} in this run), redemption_count {count}",
        deal.id,
        if rows == 1 { "" } else { "s" }
    );
    let redeemed = report.count(Outcome::Redeemed);
    if let Some(e) = &report.first_error {
        errln!(
            "partnerdesk: {} attempt{} failed with an error; the first: {e}",
            report.count(Outcome::Error),
            if report.count(Outcome::Error) == 1 {
                ""
            } else {
                "s"
            }
        );
        return Ok(ExitCode::from(crate::error::exit::FAILURE));
    }
    if args.deal.is_none() && (added != redeemed as i64 || i64::from(count) != rows) {
        return Err(Error::Database(DbError::new(
            DbErrorKind::Other,
            format!(
                "the database disagrees: {redeemed} redeemed, but deal {} has {rows} redemption rows and redemption_count {count}",
                deal.id
            ),
        )));
    }
    Ok(ExitCode::SUCCESS)
}

/// `simulate --cleanup RUN`: removes what run RUN created and says what.
async fn cleanup(ctx: &Context, run: &str) -> Result<ExitCode> {
    let desk = ctx.desk(2).await?;
    let removed = desk.cleanup_simulation(run.trim()).await?;
    let ids = |v: &[i64]| {
        if v.is_empty() {
            "none".to_owned()
        } else {
            v.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
        }
    };
    outln!(
        "run {}: removed {} member{}, {} redemption{}, deal {}, partner {}",
        run.trim(),
        removed.members,
        if removed.members == 1 { "" } else { "s" },
        removed.redemptions,
        if removed.redemptions == 1 { "" } else { "s" },
        ids(&removed.deals),
        ids(&removed.partners)
    );
    Ok(ExitCode::SUCCESS)
}

fn cap_text(cap: Option<i32>) -> String {
    match cap {
        None => "none".into(),
        Some(1) => "1 (one per member)".into(),
        Some(n) => format!("{n} (the first {n} in total)"),
    }
}

/// `outcomes:` and one indented `name  count` line per outcome, counts aligned.
pub fn outcome_table(report: &Report) -> String {
    let w = Outcome::ALL
        .iter()
        .map(|o| o.name().len())
        .max()
        .unwrap_or(8);
    let n = Outcome::ALL
        .iter()
        .map(|o| report.count(*o).to_string().len())
        .max()
        .unwrap_or(1);
    let mut out = String::from("outcomes:\n");
    for o in Outcome::ALL {
        out.push_str(&format!("  {:<w$}  {:>n$}\n", o.name(), report.count(o)));
    }
    out
}

#[cfg(test)]
#[path = "simulate_tests.rs"]
mod tests;
