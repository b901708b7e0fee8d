//! Deals list benchmark (issue 4, "Tests and measurements"): a filtered page of 50 deals on a
//! database seeded with `partnerdesk seed --demo --scale 1000000`, p50/p95/p99 over 1,000
//! queries per workload, through the service the console calls (`Desk::list_deals`) and as the
//! same SQL run directly (`store::deal_list::list`: the same statements and binds, on a
//! connection of its own, without the service and its pool). Seed budget: p95 under 150 ms; goal: p95 under 5 ms. It prints
//! figures against both; it is not a test and fails on no goal.
//!
//! Seed the benchmark database once (COPY; a few minutes for a million deals):
//!
//! ```text
//! cargo build --release
//! createdb partnerdesk_bench
//! PGDATABASE=partnerdesk_bench target/release/partnerdesk seed --demo --scale 1000000
//! ```
//!
//! Then run:
//!
//! ```text
//! cargo bench --bench deals
//! cargo bench --bench deals -- --queries 200 --only text
//! cargo bench --bench deals -- --database-url postgres://me@db.example:5432/pd_bench
//! ```
//!
//! Without `--database-url` the database is `partnerdesk_bench` through the `PG*` variables
//! and the local server's socket (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD` are honoured;
//! `DATABASE_URL` and `PGDATABASE` from the environment are ignored, so the benchmark never
//! lands on a working database by accident). Pending migrations are applied first, as the
//! binary does. With fewer than 1,000,000 deals it warns and still runs.
//!
//! Workloads (`--queries` each, default 1,000; parameters drawn from the data with a fixed
//! seed, `--seed`), every one a first page followed by a few next pages through the keyset
//! cursor (the last row's sort key and id, as the console pages):
//! - `partner`: state + partner, the state and partner of a random deal (so the page is not
//!   empty), in a random sort; a partner has a few dozen deals at most, so rarely a 2nd page.
//! - `state`: state only, the same number of queries sorted by each sort column (either
//!   direction), up to 5 pages in a row.
//! - `text`: the `/` text filter with terms from the real data: common title words ("off",
//!   "free", …), a partner's full name, a partner name's first word, a coupon code, and words
//!   no deal has (the worst case for a scan); newest first or a random sort; up to 3 pages.
//!
//! Each query runs both ways, one right after the other (which goes first alternates), so both
//! see the same cache; both ways must return the same deals (checked). A warm-up of 50
//! queries with other parameters (at most a minute) runs before each workload. A workload
//! stops early when it has run `--max-secs` (default 600; the count shown says so). The
//! `--slowest` queries of each workload (default 3) are listed with their parameters.

use partnerdesk::config::Config;
use partnerdesk::domain::DealState;
use partnerdesk::service::Desk;
use partnerdesk::store::deal_list::{self, DealFilter, DealListRow, DealSort};
use partnerdesk::store::{ConnectRequest, DbSettings};
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sqlx::{Connection, PgConnection};
use std::path::Path;
use std::time::{Duration, Instant};

#[path = "support/mod.rs"]
mod support;
use support::{Args, Res, loadavg, thousands};

const DEFAULT_DATABASE: &str = "partnerdesk_bench";
const SEED_DEALS: i64 = 1_000_000;
/// A curator registered by `seed --demo`.
const OPERATOR: &str = "cara";
const PAGE: i64 = 50;
const WARM_UP: usize = 50;
const BUDGET_P95_MS: f64 = 150.0;
const GOAL_P95_MS: f64 = 5.0;

const STATES: [DealState; 4] = [
    DealState::Draft,
    DealState::Active,
    DealState::Paused,
    DealState::Expired,
];
const COMMON_TERMS: [&str; 5] = ["off", "free", "trial", "student", "early access"];
/// Words no seeded title, partner name or coupon code contains.
const ABSENT_TERMS: [&str; 4] = ["vegan", "karaoke", "zzq", "espresso bar"];

const USAGE: &str = "usage: cargo bench --bench deals -- [--database-url URL] [--queries N] \
                     [--only partner|state|text] [--seed N] [--max-secs N] \
                     [--slowest N]";

struct Options {
    database_url: Option<String>,
    queries: usize,
    only: Option<String>,
    seed: u64,
    max_secs: u64,
    slowest: usize,
}

fn parse_args() -> Res<Options> {
    let mut o = Options {
        database_url: None,
        queries: 1000,
        only: None,
        seed: 4,
        max_secs: 600,
        slowest: 3,
    };
    let mut args = Args::new(USAGE);
    while let Some(flag) = args.flag() {
        match flag.as_str() {
            "--database-url" => o.database_url = Some(args.text(&flag)?),
            "--queries" => o.queries = args.number(&flag)?,
            "--seed" => o.seed = args.number(&flag)?,
            "--max-secs" => o.max_secs = args.number(&flag)?,
            "--slowest" => o.slowest = args.number(&flag)?,
            "--only" => {
                let v = args.text(&flag)?;
                if !["partner", "state", "text"].contains(&v.as_str()) {
                    return Err(format!("--only: partner, state or text\n{USAGE}").into());
                }
                o.only = Some(v);
            }
            other => return Err(args.unknown(other)),
        }
    }
    if o.queries == 0 {
        return Err(format!("--queries must be at least 1\n{USAGE}").into());
    }
    Ok(o)
}

fn main() {
    if let Err(e) = real_main() {
        eprintln!("deals bench: {e}");
        std::process::exit(1);
    }
}

fn real_main() -> Res<()> {
    let opts = parse_args()?;
    // SAFETY: nothing else runs yet (no runtime, no thread).
    unsafe {
        std::env::remove_var("DATABASE_URL");
        if opts.database_url.is_none() {
            std::env::set_var("PGDATABASE", DEFAULT_DATABASE);
        }
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(run(opts))
}

async fn run(opts: Options) -> Res<()> {
    let settings = DbSettings::resolve(
        &ConnectRequest {
            database_url: opts.database_url.clone(),
            profile: None,
        },
        &Config::default(),
        Path::new("(no config file)"),
    )?;
    println!("partnerdesk deals list benchmark");
    println!("  database  {}", settings.target());
    // One connection, as a console session has: the service path acquires it per query.
    let pool = settings.connect(1).await?;
    let t = Instant::now();
    let applied = partnerdesk::store::migrate::run(&pool).await?;
    if applied > 0 {
        println!(
            "  applied {applied} pending migration(s) in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    let mut direct = PgConnection::connect_with(&settings.quiet_options()).await?;
    let deals: i64 = sqlx::query_scalar("SELECT count(*) FROM deals")
        .fetch_one(&mut direct)
        .await?;
    println!("  data      {} deals", thousands(deals));
    if deals < SEED_DEALS {
        let db = opts
            .database_url
            .as_deref()
            .map(|u| format!("--database-url {u}"))
            .unwrap_or_else(|| format!("PGDATABASE={DEFAULT_DATABASE}"));
        println!(
            "  WARNING: fewer than {} deals; the figures are not the 1M figures. Seed with:\n    \
             {db} target/release/partnerdesk seed --demo --reset --scale {SEED_DEALS}",
            thousands(SEED_DEALS)
        );
    }
    let desk = Desk::for_operator(pool.clone(), OPERATOR, true).await?;
    println!(
        "  queries   {} per workload, pages of {PAGE}, seed {}",
        opts.queries, opts.seed
    );
    println!("  load      {} (1, 5, 15 min) at start", loadavg());

    let sample = Sample::load(&mut direct, opts.seed).await?;
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let mut results = Vec::new();
    for kind in [Workload::Partner, Workload::State, Workload::Text] {
        if opts.only.as_deref().is_some_and(|o| o != kind.name()) {
            continue;
        }
        println!("running {} …", kind.title());
        let mut bench = Bench {
            desk: &desk,
            direct: &mut direct,
            mismatches: 0,
            deadline: Some(Instant::now() + Duration::from_secs(opts.max_secs.min(60))),
            count: 0,
            limit: WARM_UP,
            timings: Vec::new(),
        };
        kind.drive(&mut bench, &sample, &mut rng).await?;
        bench.timings.clear();
        bench.count = 0;
        bench.limit = opts.queries;
        bench.deadline = Some(Instant::now() + Duration::from_secs(opts.max_secs));
        let t = Instant::now();
        kind.drive(&mut bench, &sample, &mut rng).await?;
        println!(
            "  {} queries × 2 in {:.1} s",
            bench.count,
            t.elapsed().as_secs_f64()
        );
        results.push((kind, bench.timings, bench.mismatches));
    }
    println!("  load      {} (1, 5, 15 min) at end", loadavg());
    report(&results, opts.queries, opts.slowest);
    Ok(())
}

// Parameters ---------------------------------------------------------------------------------

/// Real values to draw parameters from.
struct Sample {
    /// (partner id, state) of random deals.
    partner_states: Vec<(i64, DealState)>,
    partner_names: Vec<String>,
    codes: Vec<String>,
}

impl Sample {
    async fn load(conn: &mut PgConnection, seed: u64) -> Res<Self> {
        let max: i64 = sqlx::query_scalar("SELECT coalesce(max(id), 0) FROM deals")
            .fetch_one(&mut *conn)
            .await?;
        if max == 0 {
            return Err("no deals: seed the database first".into());
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
        let ids: Vec<i64> = (0..4000).map(|_| rng.random_range(1..=max)).collect();
        let rows: Vec<(i64, String, String, Option<String>)> = sqlx::query_as(
            "SELECT d.partner_id, d.state, p.display_name, d.coupon_code
               FROM deals d JOIN partners p ON p.id = d.partner_id
              WHERE d.id = ANY($1) ORDER BY d.id",
        )
        .bind(&ids)
        .fetch_all(&mut *conn)
        .await?;
        let mut s = Sample {
            partner_states: Vec::new(),
            partner_names: Vec::new(),
            codes: Vec::new(),
        };
        for (partner, state, name, code) in rows {
            if let Ok(state) = state.parse() {
                s.partner_states.push((partner, state));
            }
            s.partner_names.push(name);
            s.codes.extend(code);
        }
        if s.partner_states.is_empty() || s.codes.is_empty() {
            return Err("too few deals to draw parameters from".into());
        }
        Ok(s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Workload {
    Partner,
    State,
    Text,
}

impl Workload {
    fn name(self) -> &'static str {
        match self {
            Self::Partner => "partner",
            Self::State => "state",
            Self::Text => "text",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Self::Partner => "(a) state + partner",
            Self::State => "(b) state only",
            Self::Text => "(c) text",
        }
    }

    /// Runs sessions (a first page, then next pages) until the bench has run its count.
    async fn drive(self, b: &mut Bench<'_>, s: &Sample, rng: &mut ChaCha8Rng) -> Res<()> {
        let mut round = 0usize;
        while !b.done() {
            let (filter, pages, group) = match self {
                Self::Partner => {
                    let &(partner, state) = s.partner_states.choose(rng).expect("non-empty");
                    let mut f = random_sort(rng);
                    f.state = Some(state);
                    f.partner_id = Some(partner);
                    (f, 3, "state + partner".to_owned())
                }
                Self::State => {
                    // Round-robin over the sort columns: the same count for each.
                    let sort = DealSort::ALL[round % DealSort::ALL.len()];
                    let f = DealFilter {
                        state: Some(*STATES.choose(rng).expect("non-empty")),
                        sort,
                        descending: rng.random_bool(0.5),
                        ..Default::default()
                    };
                    (f, 5, format!("by {}", sort.label()))
                }
                Self::Text => {
                    let (class, term) = match rng.random_range(0..100) {
                        0..30 => ("common word", COMMON_TERMS.choose(rng).unwrap().to_string()),
                        30..50 => ("partner name", s.partner_names.choose(rng).unwrap().clone()),
                        50..65 => (
                            "partner name's 1st word",
                            first_word(s.partner_names.choose(rng).unwrap()),
                        ),
                        65..85 => ("coupon code", s.codes.choose(rng).unwrap().to_lowercase()),
                        _ => ("absent word", ABSENT_TERMS.choose(rng).unwrap().to_string()),
                    };
                    let mut f = if rng.random_bool(0.5) {
                        DealFilter {
                            descending: true,
                            ..Default::default()
                        }
                    } else {
                        random_sort(rng)
                    };
                    f.text = Some(term);
                    (f, 3, class.to_owned())
                }
            };
            round += 1;
            b.session(filter, pages, &group).await?;
        }
        Ok(())
    }
}

/// `state:active partner:12 "text" · sort title desc · page after ("x", 7)`.
fn describe(f: &DealFilter) -> String {
    let mut words = Vec::new();
    if let Some(s) = f.state {
        words.push(format!("state:{}", s.as_str()));
    }
    if let Some(p) = f.partner_id {
        words.push(format!("partner:{p}"));
    }
    if let Some(t) = &f.text {
        words.push(format!("{t:?}"));
    }
    let dir = if f.descending { "desc" } else { "asc" };
    let page = match &f.after {
        Some((key, id)) => format!("after ({key:?}, {id})"),
        None => "first page".to_owned(),
    };
    format!(
        "{} · sort {} {dir} · {page}",
        words.join(" "),
        f.sort.label()
    )
}

fn random_sort(rng: &mut ChaCha8Rng) -> DealFilter {
    DealFilter {
        sort: *DealSort::ALL.choose(rng).expect("non-empty"),
        descending: rng.random_bool(0.5),
        ..Default::default()
    }
}

fn first_word(name: &str) -> String {
    name.split_whitespace().next().unwrap_or(name).to_owned()
}

// Running ------------------------------------------------------------------------------------

struct Timing {
    group: String,
    /// The filter, in the console's filter syntax, with the sort and the page.
    what: String,
    service_ms: f64,
    direct_ms: f64,
    rows: usize,
}

struct Bench<'a> {
    desk: &'a Desk,
    direct: &'a mut PgConnection,
    mismatches: usize,
    deadline: Option<Instant>,
    count: usize,
    limit: usize,
    timings: Vec<Timing>,
}

impl Bench<'_> {
    fn done(&self) -> bool {
        self.count >= self.limit || self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// A first page and up to `pages - 1` next pages, while pages come back full.
    async fn session(&mut self, mut f: DealFilter, pages: usize, group: &str) -> Res<()> {
        for _ in 0..pages {
            if self.done() {
                break;
            }
            let service_first = self.count.is_multiple_of(2);
            let (rows, service_ms, direct_ids, direct_ms) = if service_first {
                let (rows, s) = self.service(&f).await?;
                let (ids, d) = self.run_direct(&f).await?;
                (rows, s, ids, d)
            } else {
                let (ids, d) = self.run_direct(&f).await?;
                let (rows, s) = self.service(&f).await?;
                (rows, s, ids, d)
            };
            if rows.iter().map(|r| r.id).collect::<Vec<_>>() != direct_ids {
                self.mismatches += 1;
            }
            self.count += 1;
            self.timings.push(Timing {
                group: group.to_owned(),
                what: describe(&f),
                service_ms,
                direct_ms,
                rows: rows.len(),
            });
            match rows.last() {
                Some(last) if rows.len() as i64 == PAGE => {
                    f.after = Some((last.sort_key.clone(), last.id));
                }
                _ => break,
            }
        }
        Ok(())
    }

    async fn service(&self, f: &DealFilter) -> Res<(Vec<DealListRow>, f64)> {
        let t = Instant::now();
        let rows = self.desk.list_deals(f, PAGE).await?;
        Ok((rows, ms(t.elapsed())))
    }

    /// The same statements on a connection of its own: `store::deal_list::list`, without the
    /// service and its pool.
    async fn run_direct(&mut self, f: &DealFilter) -> Res<(Vec<i64>, f64)> {
        let t = Instant::now();
        let rows = deal_list::list(&mut *self.direct, f, PAGE).await?;
        let elapsed = ms(t.elapsed());
        Ok((rows.iter().map(|r| r.id).collect(), elapsed))
    }
}

// Figures ------------------------------------------------------------------------------------

/// Nearest-rank percentile of sorted values.
fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

struct Stats {
    p50: f64,
    p95: f64,
    p99: f64,
    max: f64,
}

fn stats(values: impl Iterator<Item = f64>) -> Stats {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    Stats {
        p50: pct(&v, 50.0),
        p95: pct(&v, 95.0),
        p99: pct(&v, 99.0),
        max: v.last().copied().unwrap_or(f64::NAN),
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn row(label: &str, t: &[&Timing]) {
    let s = stats(t.iter().map(|t| t.service_ms));
    let d = stats(t.iter().map(|t| t.direct_ms));
    let rows = t.iter().map(|t| t.rows).sum::<usize>() as f64 / t.len().max(1) as f64;
    println!(
        "{label:<28}{:>6} {:>7.2} {:>7.2} {:>7.2} {:>8.1} │ {:>7.2} {:>7.2} {:>7.2} {:>8.1} │ {:>5.2} {:>5.2} {:>5.2} │ {rows:>5.1}",
        t.len(),
        s.p50,
        s.p95,
        s.p99,
        s.max,
        d.p50,
        d.p95,
        d.p99,
        d.max,
        s.p50 / d.p50,
        s.p95 / d.p95,
        s.p99 / d.p99,
    );
}

fn report(results: &[(Workload, Vec<Timing>, usize)], asked: usize, slowest: usize) {
    println!();
    println!(
        "{:<34} {:^32} │ {:^32} │ {:^17} │ {:>5}",
        "", "service: Desk::list_deals, ms", "direct: the same SQL, ms", "service / direct", "rows"
    );
    println!(
        "{:<28}{:>6} {:>7} {:>7} {:>7} {:>8} │ {:>7} {:>7} {:>7} {:>8} │ {:>5} {:>5} {:>5} │ {:>5}",
        "workload",
        "n",
        "p50",
        "p95",
        "p99",
        "max",
        "p50",
        "p95",
        "p99",
        "max",
        "p50",
        "p95",
        "p99",
        "/page"
    );
    let rule = "─".repeat(28 + 6 + 33 + 3 + 32 + 3 + 17 + 3 + 5);
    println!("{rule}");
    let mut verdicts = Vec::new();
    for (kind, timings, mismatches) in results {
        let all: Vec<&Timing> = timings.iter().collect();
        row(kind.title(), &all);
        let mut groups: Vec<&str> = Vec::new();
        for t in timings {
            if !groups.contains(&t.group.as_str()) {
                groups.push(&t.group);
            }
        }
        if groups.len() > 1 {
            for g in groups {
                let part: Vec<&Timing> = timings.iter().filter(|t| t.group == g).collect();
                row(&format!("    {g}"), &part);
            }
        }
        let p95 = stats(timings.iter().map(|t| t.service_ms)).p95;
        let verdict = if p95 < GOAL_P95_MS {
            "meets the goal (p95 < 5 ms)"
        } else if p95 < BUDGET_P95_MS {
            "within the seed budget (p95 < 150 ms), misses the 5 ms goal"
        } else {
            "MISSES the seed budget (p95 ≥ 150 ms)"
        };
        let short = if timings.len() < asked {
            format!(
                " (stopped at {} of {asked} queries: --max-secs)",
                timings.len()
            )
        } else {
            String::new()
        };
        let mism = if *mismatches > 0 {
            format!("; {mismatches} page(s) differed between service and direct")
        } else {
            String::new()
        };
        verdicts.push(format!(
            "{}: service p95 {p95:.2} ms, {verdict}{short}{mism}",
            kind.title()
        ));
    }
    println!("{rule}");
    for v in verdicts {
        println!("{v}");
    }
    if slowest > 0 {
        println!();
        println!("slowest queries (service ms / direct ms):");
        for (kind, timings, _) in results {
            let mut by_time: Vec<&Timing> = timings.iter().collect();
            by_time.sort_by(|a, b| b.service_ms.total_cmp(&a.service_ms));
            for t in by_time.iter().take(slowest) {
                println!(
                    "  {:<20} {:>8.1} {:>8.1}  {}",
                    kind.title(),
                    t.service_ms,
                    t.direct_ms,
                    t.what
                );
            }
        }
    }
}
