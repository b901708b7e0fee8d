//! Redemption benchmarks (issue 5, "Tests and measurements"). Not a test: it prints figures
//! against the goals, and fails (exit 1) only when a cap is not exact.
//!
//! ```text
//! cargo bench --bench redemptions
//! cargo bench --bench redemptions -- --concurrency 16 --seconds 10 --rounds 5
//! cargo bench --bench redemptions -- --only caps        # or: throughput, latency
//! cargo bench --bench redemptions -- --database-url postgres://me@db.example/pd_bench_redeem
//! ```
//!
//! Without `--database-url` the database is `partnerdesk_bench_redeem` (created if missing),
//! reached as the binary reaches one: the `PG*` variables, else the local server's socket
//! (`DATABASE_URL` and `PGDATABASE` are ignored, so it never lands on a working database).
//! Pending migrations are applied first. A `bench` admin is registered (through the services,
//! as the system actor) and creates the partners and deals; members are inserted in bulk.
//!
//! 1. Exact caps: 1,000 concurrent attempts (1,000 tasks at once on a pool of `--pool`
//!    connections) on a fresh cap-100 deal, twenty times: exactly 100 redeemed each time, 900
//!    refused as cap reached, and 100 rows and redemption_count 100 in the database; then
//!    10,000 on cap 1,000, five times: exactly 1,000. Every run is printed.
//! 2. Hot-deal throughput: one deal without a cap; `--concurrency` C workers calling
//!    `Desk::record_redemption` in a loop for `--seconds` T, next to `pgbench -n -f SCRIPT -c C
//!    -j 2 -T T` running the same transaction (`-M simple` and `-M prepared`), in alternating
//!    rounds (`--rounds`, default 5): medians, and the median of each round's ratio to the
//!    faster pgbench run of that round (goal ≥ 0.8× pgbench).
//! 3. Uncontended latency: `--deals` N (default 1,000) fresh deals, one sequential
//!    `record_redemption` on each (after a warm-up): p50/p95/p99 (goal p95 < 5 ms; seed
//!    budget 150 ms); next to it, the floor of this machine: pgbench with one client running
//!    the same transaction N times on the same deals, its per-transaction log's p50/p95/p99.
//!
//! The pgbench script mirrors `Desk::record_redemption` on a public coupon deal without a cap
//! statement for statement (see `pgbench_script`); when the service's statements change, change
//! the script with them. If the database holds migrations that were edited since, drop it
//! (`dropdb partnerdesk_bench_redeem`); it is created again.

use hdrhistogram::Histogram;
use partnerdesk::cli::simulate::{self, Outcome};
use partnerdesk::config::Config;
use partnerdesk::domain::Role;
use partnerdesk::service::{Actor, Desk};
use partnerdesk::store::{self, ConnectRequest, DbSettings};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "support/mod.rs"]
mod support;
use support::{Args, Res, thousands};

const DEFAULT_DATABASE: &str = "partnerdesk_bench_redeem";
const OPERATOR: &str = "bench";
const GOAL_RATIO: f64 = 0.8;
const GOAL_P95_MS: f64 = 5.0;
const BUDGET_P95_MS: f64 = 150.0;

const USAGE: &str = "usage: cargo bench --bench redemptions -- [--database-url URL] \
[--concurrency C] [--seconds T] [--rounds N] [--pool P] [--deals N] [--only caps|throughput|latency]";

struct Options {
    database_url: Option<String>,
    concurrency: usize,
    seconds: u64,
    rounds: usize,
    pool: u32,
    deals: usize,
    only: Option<String>,
}

fn parse_args() -> Res<Options> {
    let mut o = Options {
        database_url: None,
        concurrency: 16,
        seconds: 10,
        rounds: 5,
        pool: 50,
        deals: 1000,
        only: None,
    };
    let mut args = Args::new(USAGE);
    while let Some(flag) = args.flag() {
        let mut positive = || -> Res<u64> {
            match args.number::<u64>(&flag) {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(format!("{flag}: a positive whole number").into()),
            }
        };
        match flag.as_str() {
            "--concurrency" => o.concurrency = positive()? as usize,
            "--seconds" => o.seconds = positive()?,
            "--rounds" => o.rounds = positive()? as usize,
            "--pool" => o.pool = positive()? as u32,
            "--deals" => o.deals = positive()? as usize,
            "--database-url" => o.database_url = Some(args.text(&flag)?),
            "--only" => {
                let v = args.text(&flag)?;
                if !["caps", "throughput", "latency"].contains(&v.as_str()) {
                    return Err(format!("--only: caps, throughput or latency\n{USAGE}").into());
                }
                o.only = Some(v);
            }
            other => return Err(args.unknown(other)),
        }
    }
    Ok(o)
}

fn main() {
    match real_main() {
        Ok(true) => {}
        Ok(false) => {
            eprintln!("redemptions bench: FAILED: a cap was not exact (see above)");
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("redemptions bench: {e}");
            std::process::exit(1);
        }
    }
}

fn real_main() -> Res<bool> {
    let opts = parse_args()?;
    // SAFETY: nothing else runs yet (no runtime, no thread).
    unsafe {
        std::env::remove_var("DATABASE_URL");
    }
    let mut settings = DbSettings::resolve(
        &ConnectRequest {
            database_url: opts.database_url.clone(),
            profile: None,
        },
        &Config::default(),
        Path::new("(bench)"),
    )?;
    if opts.database_url.is_none() {
        settings.options = settings.options.clone().database(DEFAULT_DATABASE);
        settings.create_if_missing = true;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(run(opts, settings))
}

struct Bench {
    settings: DbSettings,
    /// A pool for set-up and the cap runs.
    pool: PgPool,
    desk: Desk,
    /// Fresh members, contiguous ids (pgbench draws from the range).
    members: Vec<i64>,
}

async fn run(opts: Options, settings: DbSettings) -> Res<bool> {
    // Creates the database if missing, as the binary does.
    settings.connect(1).await?.close().await;
    // Thousands of attempts queue for the pool's connections at once: the product's 10 s
    // acquire time-out would end the later ones before their turn.
    let pool = PgPoolOptions::new()
        .max_connections(opts.pool)
        .acquire_timeout(Duration::from_secs(600))
        .connect_with(settings.quiet_options())
        .await?;
    let applied = store::migrate::run(&pool).await?;
    let version: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(&pool)
        .await?;
    let max_conn: String = sqlx::query_scalar("SHOW max_connections")
        .fetch_one(&pool)
        .await?;
    println!("partnerdesk redemption benchmarks");
    println!("  database  {}", settings.target());
    println!(
        "  server    PostgreSQL {version} (max_connections {max_conn}); {} CPUs here{}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        if applied > 0 {
            format!("; applied {applied} migration(s)")
        } else {
            String::new()
        }
    );
    let desk = bench_desk(&pool).await?;
    let t = Instant::now();
    let first = simulate::create_deal(&desk, None).await?.1;
    let members = simulate::create_members(&pool, &first, 10_000).await?;
    println!(
        "  set-up    operator {OPERATOR}, {} fresh members in {:.2} s",
        members.len(),
        t.elapsed().as_secs_f64()
    );
    let b = Bench {
        settings,
        pool,
        desk,
        members,
    };
    let want = |part: &str| opts.only.as_deref().is_none_or(|o| o == part);
    let mut exact = true;
    let mut summary: Vec<(String, String, String)> = Vec::new();
    if want("caps") {
        exact &= caps(&b, &opts, &mut summary).await?;
    }
    if want("throughput") {
        throughput(&b, &opts, &mut summary).await?;
    }
    if want("latency") {
        latency(&b, &opts, &mut summary).await?;
    }
    println!("\nSummary");
    let w0 = summary.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let w1 = summary.iter().map(|r| r.1.len()).max().unwrap_or(0);
    for (what, figure, goal) in &summary {
        println!("  {what:<w0$}  {figure:<w1$}  {goal}");
    }
    Ok(exact)
}

/// A desk acting as the `bench` admin, registered through the services on first use.
async fn bench_desk(pool: &PgPool) -> Res<Desk> {
    let desk = Desk::for_operator(pool.clone(), OPERATOR, false).await?;
    if desk.actor().registered {
        return Ok(desk);
    }
    Desk::new(pool.clone(), Actor::system())
        .add_operator(OPERATOR, "Redemption benchmark", &[Role::Admin])
        .await?;
    Ok(Desk::for_operator(pool.clone(), OPERATOR, false).await?)
}

// 1. Exact caps --------------------------------------------------------------------------------

async fn caps(b: &Bench, o: &Options, summary: &mut Vec<(String, String, String)>) -> Res<bool> {
    println!(
        "\n1. Exact caps under concurrency (pool of {} connections)",
        o.pool
    );
    simulate::warm(&b.pool, o.pool).await?;
    let mut all = true;
    for (cap, attempts, runs) in [(100_i64, 1_000_u64, 20_usize), (1_000, 10_000, 5)] {
        println!(
            "\n  cap {cap}: {} concurrent attempts by distinct members, {runs} runs",
            thousands(attempts as i64)
        );
        println!(
            "    {:>3}  {:>8}  {:>11}  {:>5}  {:>6}  {:>6}  {:>8}  {:>9}  {:>9}",
            "run", "redeemed", "cap_reached", "other", "rows", "count", "time", "p50", "p99"
        );
        let mut ok = 0;
        let mut times = Vec::new();
        for run in 1..=runs {
            let deal = simulate::create_deal(&b.desk, Some(cap)).await?.1;
            let members = &b.members[..attempts as usize];
            let r = simulate::fire(&b.desk, deal.id, members, attempts, attempts as usize).await;
            let (rows, count) = tally(&b.pool, deal.id).await?;
            let redeemed = r.count(Outcome::Redeemed);
            let refused = r.count(Outcome::CapReached);
            let other = r.attempts() - redeemed - refused;
            let exact = redeemed == cap as u64
                && refused == attempts - cap as u64
                && rows == cap
                && i64::from(count) == cap;
            if exact {
                ok += 1;
            } else {
                all = false;
            }
            times.push(r.elapsed.as_secs_f64());
            println!(
                "    {run:>3}  {redeemed:>8}  {refused:>11}  {other:>5}  {rows:>6}  {count:>6}  {:>6.2} s  {:>6.1} ms  {:>6.1} ms{}",
                r.elapsed.as_secs_f64(),
                r.latency_ms(0.5),
                r.latency_ms(0.99),
                if exact {
                    String::new()
                } else {
                    format!(
                        "  <-- NOT EXACT (want {cap} redeemed){}",
                        r.first_error
                            .as_deref()
                            .map(|e| format!("; first error: {e}"))
                            .unwrap_or_default()
                    )
                }
            );
        }
        times.sort_by(f64::total_cmp);
        let verdict = format!("{ok}/{runs} runs exactly {cap}");
        println!(
            "    => {verdict}{}; run time median {:.2} s, max {:.2} s",
            if ok == runs { "" } else { "  ** FAILED **" },
            median(&times),
            times.last().copied().unwrap_or_default()
        );
        summary.push((
            format!(
                "cap {cap}, {} attempts × {runs}",
                thousands(attempts as i64)
            ),
            verdict,
            format!("goal: exactly {cap} every run"),
        ));
    }
    Ok(all)
}

async fn tally(pool: &PgPool, deal_id: i64) -> Res<(i64, i32)> {
    let mut conn = pool.acquire().await?;
    Ok(store::deals::redemption_tally(&mut conn, deal_id)
        .await?
        .ok_or("the deal vanished")?)
}

// 2. Hot-deal throughput -----------------------------------------------------------------------

async fn throughput(
    b: &Bench,
    o: &Options,
    summary: &mut Vec<(String, String, String)>,
) -> Res<()> {
    let c = o.concurrency;
    println!(
        "\n2. Hot-deal throughput: one deal, no cap, concurrency {c}, {} s per run, {} rounds",
        o.seconds, o.rounds
    );
    let deal = simulate::create_deal(&b.desk, None).await?.1;
    let (lo, hi) = (b.members[0], b.members[b.members.len() - 1]);
    if hi - lo + 1 != b.members.len() as i64 {
        return Err(
            "the bench members' ids are not contiguous (pgbench draws from a range)".into(),
        );
    }
    let code = deal.coupon_code.clone().ok_or("a coupon deal has a code")?;
    let script = std::env::temp_dir().join(format!("pd-redeem-{}.sql", std::process::id()));
    std::fs::write(&script, pgbench_script(&code))?;
    let pgbench = find_pgbench();
    match &pgbench {
        Some(p) => println!("  pgbench   {} (script {})", p.display(), script.display()),
        None => println!("  pgbench   not found (PATH, /usr/lib/postgresql/*/bin): service only"),
    }
    // The service's own pool, as the binary opens it: exactly C connections, opened before
    // the clock starts.
    let pool = b.settings.connect(c as u32).await?;
    simulate::warm(&pool, c as u32).await?;
    let desk = Desk::for_operator(pool.clone(), OPERATOR, false).await?;
    // Warm-up (prepared statements, caches), not counted.
    service_run(&desk, deal.id, &b.members, c, Duration::from_secs(1)).await;

    // Each round runs pgbench in one mode, the service, then pgbench in the other mode (the
    // order of the modes alternates), so that each service run has both pgbench modes as its
    // neighbours in time: the machine's load drifts, and a round's ratio compares runs made
    // under the same load.
    const MODES: [&str; 2] = ["simple", "prepared"];
    let mut pg: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let mut svc: Vec<f64> = Vec::new();
    let mut ratios: Vec<f64> = Vec::new();
    let mut svc_latency = new_histogram();
    for round in 1..=o.rounds {
        let order = if round % 2 == 1 { [0, 1] } else { [1, 0] };
        let mut this = [0.0_f64; 2];
        for (step, &m) in order.iter().enumerate() {
            if let Some(p) = &pgbench {
                let tps = run_pgbench(p, &b.settings, o, &script, MODES[m], deal.id, lo, hi)?;
                println!(
                    "  round {round}  pgbench -M {:<8}  {tps:>9.1} tps",
                    MODES[m]
                );
                pg[m].push(tps);
                this[m] = tps;
            }
            if step == 1 {
                continue;
            }
            let r = service_run(
                &desk,
                deal.id,
                &b.members,
                c,
                Duration::from_secs(o.seconds),
            )
            .await;
            println!(
                "  round {round}  record_redemption    {:>9.1} tps  (p50 {:.2} ms, p99 {:.2} ms{})",
                r.tps,
                r.latency.value_at_quantile(0.5) as f64 / 1000.0,
                r.latency.value_at_quantile(0.99) as f64 / 1000.0,
                if r.errors > 0 {
                    format!(
                        ", {} errors: {}",
                        r.errors,
                        r.first_error.unwrap_or_default()
                    )
                } else {
                    String::new()
                }
            );
            svc.push(r.tps);
            svc_latency.add(&r.latency)?;
        }
        let best = this[0].max(this[1]);
        if best > 0.0 {
            let ratio = svc[svc.len() - 1] / best;
            println!("  round {round}  ratio to the faster pgbench run of the round: {ratio:.2}×");
            ratios.push(ratio);
        }
    }
    let (rows, count) = tally(&b.pool, deal.id).await?;
    println!(
        "  check     deal {} holds {rows} redemption rows, redemption_count {count}{}",
        deal.id,
        if rows == i64::from(count) {
            " (agree)"
        } else {
            "  ** DISAGREE **"
        }
    );
    let _ = std::fs::remove_file(&script);

    let s = median(&sorted(svc.clone()));
    println!(
        "\n  {:<24} {:>10} {:>10} {:>10}",
        "over the rounds (tps)", "median", "min", "max"
    );
    let row = |name: &str, v: &[f64]| {
        let v = sorted(v.to_vec());
        println!(
            "  {name:<24} {:>10.1} {:>10.1} {:>10.1}",
            median(&v),
            v.first().copied().unwrap_or_default(),
            v.last().copied().unwrap_or_default()
        );
    };
    for (m, mode) in MODES.iter().enumerate() {
        if !pg[m].is_empty() {
            row(&format!("pgbench -M {mode}"), &pg[m]);
        }
    }
    row("record_redemption", &svc);
    println!(
        "  service latency over all rounds: p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms",
        svc_latency.value_at_quantile(0.5) as f64 / 1000.0,
        svc_latency.value_at_quantile(0.95) as f64 / 1000.0,
        svc_latency.value_at_quantile(0.99) as f64 / 1000.0
    );
    if ratios.is_empty() {
        summary.push((
            format!("hot deal, C = {c}"),
            format!("{s:.0} tps (no pgbench)"),
            format!("goal ≥ {GOAL_RATIO}× pgbench: not measured"),
        ));
    } else {
        let r = sorted(ratios);
        let ratio = median(&r);
        let met = if ratio >= GOAL_RATIO { "met" } else { "MISSED" };
        println!(
            "  ratio     median {ratio:.2}× the round's faster pgbench run (rounds: {:.2}× to {:.2}×); goal ≥ {GOAL_RATIO}×: {met}",
            r[0],
            r[r.len() - 1]
        );
        let best = MODES
            .iter()
            .enumerate()
            .map(|(m, mode)| (median(&sorted(pg[m].clone())), *mode))
            .fold((0.0, ""), |a, b| if b.0 > a.0 { b } else { a });
        println!(
            "            medians: {s:.1} tps against pgbench -M {} {:.1} tps = {:.2}×",
            best.1,
            best.0,
            s / best.0
        );
        summary.push((
            format!("hot deal, C = {c}"),
            format!(
                "{s:.0} tps vs pgbench {:.0} tps; per-round ratio median {ratio:.2}×",
                best.0
            ),
            format!("goal ≥ {GOAL_RATIO}×: {met}"),
        ));
    }
    pool.close().await;
    Ok(())
}

/// The transaction `Desk::record_redemption` runs on an active public coupon deal without a
/// cap, statement for statement (src/service/redemptions.rs, src/store/{deals, members,
/// redemptions, audit}.rs). The audit row's `after` is the redemption as JSON: the service
/// serialises it in the client and sends it as a parameter; pgbench cannot, so the same
/// object is built on the server with jsonb_build_object.
fn pgbench_script(code: &str) -> String {
    let code = code.replace('\'', "''");
    format!(
        "\\set member random(:lo, :hi)
BEGIN;
SELECT id, partner_id, title, description, kind, coupon_code, redemption_url, categories, audience_scope, audience_scope_value, valid_from, valid_until, redemption_cap, redemption_count, state, published_at, created_at, created_by, updated_at, updated_by, version FROM deals WHERE id = :deal FOR UPDATE;
SELECT id, handle, display_name, role, institute_verified, batch_year, chapters FROM members WHERE id = :member;
INSERT INTO redemptions (deal_id, member_id, source, coupon_code, one_per_member) VALUES (:deal, :member, 'copy_code', '{code}', false) RETURNING id, deal_id, member_id, source, coupon_code, redeemed_at, flag_kind, flag_note, flagged_by, flagged_at \\gset r_
UPDATE deals SET redemption_count = redemption_count + 1 WHERE id = :deal;
INSERT INTO audit_log (actor, action, entity_type, entity_id, before, after, reason) VALUES ('{OPERATOR}', 'redemption.record', 'redemption', :r_id, NULL, jsonb_build_object('id', :r_id::bigint, 'deal_id', :deal::bigint, 'member_id', :member::bigint, 'source', 'copy_code', 'coupon_code', '{code}', 'redeemed_at', now(), 'flag_kind', NULL, 'flag_note', NULL, 'flagged_by', NULL, 'flagged_at', NULL), NULL) RETURNING id;
COMMIT;
"
    )
}

fn find_pgbench() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("pgbench"))
            .find(|p| p.is_file())
    });
    on_path.or_else(|| {
        let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .flatten()
            .map(|e| e.path().join("bin").join("pgbench"))
            .filter(|p| p.is_file())
            .collect();
        found.sort();
        found.pop()
    })
}

/// Runs pgbench with `args` on the benchmark database; its standard output. Fails on a
/// failed or aborted transaction.
fn pgbench(pgbench: &Path, settings: &DbSettings, o: &Options, args: &[String]) -> Res<String> {
    let mut cmd = Command::new(pgbench);
    cmd.args(args);
    match &o.database_url {
        Some(url) => {
            cmd.arg(url);
        }
        None => {
            let opts = &settings.options;
            let host = match opts.get_socket() {
                Some(dir) => dir.display().to_string(),
                None => opts.get_host().to_owned(),
            };
            cmd.args(["-h", &host, "-p", &opts.get_port().to_string()])
                .args(["-U", opts.get_username()])
                .arg(settings.database());
        }
    }
    cmd.env_remove("PGDATABASE");
    let out = cmd.output()?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        return Err(format!(
            "pgbench failed ({}): {}\n{}",
            out.status,
            stdout.trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        )
        .into());
    }
    let failed = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("number of failed transactions: "))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    if failed > 0 {
        return Err(format!("pgbench: {failed} failed transactions:\n{stdout}").into());
    }
    Ok(stdout)
}

/// pgbench's throughput: C clients, two threads, for `--seconds`, on one deal.
#[allow(clippy::too_many_arguments)]
fn run_pgbench(
    pgbench_path: &Path,
    settings: &DbSettings,
    o: &Options,
    script: &Path,
    mode: &str,
    deal: i64,
    lo: i64,
    hi: i64,
) -> Res<f64> {
    let args: Vec<String> = vec![
        "-n".into(),
        "-M".into(),
        mode.into(),
        "-f".into(),
        script.display().to_string(),
        "-c".into(),
        o.concurrency.to_string(),
        "-j".into(),
        "2".into(),
        "-T".into(),
        o.seconds.to_string(),
        "-D".into(),
        format!("deal={deal}"),
        "-D".into(),
        format!("lo={lo}"),
        "-D".into(),
        format!("hi={hi}"),
    ];
    let stdout = pgbench(pgbench_path, settings, o, &args)?;
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("tps = "))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse::<f64>().ok())
        .ok_or_else(|| format!("no tps in pgbench's output:\n{stdout}").into())
}

/// pgbench's per-transaction latencies, one client, `n` transactions, each on a deal drawn
/// from `dlo..=dhi` (its `-l` log: the third field is the transaction's time in µs).
#[allow(clippy::too_many_arguments)]
fn pgbench_latency(
    pgbench_path: &Path,
    settings: &DbSettings,
    o: &Options,
    code: &str,
    n: usize,
    (dlo, dhi): (i64, i64),
    (lo, hi): (i64, i64),
) -> Res<Histogram<u64>> {
    let dir = std::env::temp_dir().join(format!("pd-redeem-lat-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let script = dir.join("script.sql");
    std::fs::write(
        &script,
        format!("\\set deal random(:dlo, :dhi)\n{}", pgbench_script(code)),
    )?;
    let prefix = dir.join("log");
    let args: Vec<String> = vec![
        "-n".into(),
        "-M".into(),
        "prepared".into(),
        "-f".into(),
        script.display().to_string(),
        "-c".into(),
        "1".into(),
        "-t".into(),
        n.to_string(),
        "-l".into(),
        format!("--log-prefix={}", prefix.display()),
        "-D".into(),
        format!("dlo={dlo}"),
        "-D".into(),
        format!("dhi={dhi}"),
        "-D".into(),
        format!("lo={lo}"),
        "-D".into(),
        format!("hi={hi}"),
    ];
    let result = pgbench(pgbench_path, settings, o, &args).and_then(|_| {
        let mut h = new_histogram();
        for e in std::fs::read_dir(&dir)?.flatten() {
            if !e.file_name().to_string_lossy().starts_with("log") {
                continue;
            }
            for line in std::fs::read_to_string(e.path())?.lines() {
                if let Some(us) = line.split_whitespace().nth(2).and_then(|v| v.parse().ok()) {
                    h.saturating_record(us);
                }
            }
        }
        if h.is_empty() {
            return Err("pgbench wrote no per-transaction log".into());
        }
        Ok(h)
    });
    let _ = std::fs::remove_dir_all(&dir);
    result
}

struct ServiceRun {
    tps: f64,
    latency: Histogram<u64>,
    errors: u64,
    first_error: Option<String>,
}

/// C workers calling `record_redemption` in a loop until `duration` has passed.
async fn service_run(
    desk: &Desk,
    deal: i64,
    members: &[i64],
    c: usize,
    duration: Duration,
) -> ServiceRun {
    let members: Arc<Vec<i64>> = Arc::new(members.to_vec());
    let started = Instant::now();
    let deadline = started + duration;
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..c {
        let desk = desk.clone();
        let members = members.clone();
        workers.spawn(async move {
            let mut h = new_histogram();
            let (mut done, mut errors, mut first_error) = (0_u64, 0_u64, None);
            let mut i = w * 7919;
            while Instant::now() < deadline {
                let member = members[i % members.len()];
                i += 1;
                let t = Instant::now();
                let r = desk.record_redemption(deal, member, None).await;
                h.saturating_record(t.elapsed().as_micros() as u64);
                match r {
                    Ok(_) => done += 1,
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert_with(|| e.to_string());
                    }
                }
            }
            (done, errors, first_error, h)
        });
    }
    let mut run = ServiceRun {
        tps: 0.0,
        latency: new_histogram(),
        errors: 0,
        first_error: None,
    };
    let mut done = 0;
    while let Some(Ok((d, e, fe, h))) = workers.join_next().await {
        done += d;
        run.errors += e;
        if run.first_error.is_none() {
            run.first_error = fe;
        }
        let _ = run.latency.add(&h);
    }
    run.tps = done as f64 / started.elapsed().as_secs_f64();
    run
}

// 3. Uncontended latency -----------------------------------------------------------------------

async fn latency(b: &Bench, o: &Options, summary: &mut Vec<(String, String, String)>) -> Res<()> {
    let n = o.deals;
    println!("\n3. Uncontended recording: one sequential record_redemption on each of {n} deals");
    let t = Instant::now();
    let partner = simulate::create_partner(&b.desk).await?;
    let mut deals = Vec::with_capacity(n);
    for _ in 0..n {
        deals.push(simulate::create_deal_of(&b.desk, &partner, None).await?.id);
    }
    println!(
        "  created {n} active deals in {:.2} s",
        t.elapsed().as_secs_f64()
    );
    let pool = b.settings.connect(2).await?;
    let desk = Desk::for_operator(pool.clone(), OPERATOR, false).await?;
    // Warm-up on a deal of its own: connection, prepared statements.
    let warm = simulate::create_deal_of(&b.desk, &partner, None).await?;
    for i in 0..50 {
        desk.record_redemption(warm.id, b.members[i], None).await?;
    }
    let mut h = new_histogram();
    let started = Instant::now();
    for (i, deal) in deals.iter().enumerate() {
        let member = b.members[i % b.members.len()];
        let t = Instant::now();
        desk.record_redemption(*deal, member, None).await?;
        h.saturating_record(t.elapsed().as_micros() as u64);
    }
    let total = started.elapsed().as_secs_f64();
    let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    let p95 = ms(0.95);
    println!(
        "  p50 {:.2} ms   p95 {p95:.2} ms   p99 {:.2} ms   max {:.2} ms   ({n} calls in {total:.2} s)",
        ms(0.5),
        ms(0.99),
        h.max() as f64 / 1000.0
    );
    let verdict = if p95 < GOAL_P95_MS {
        "goal met"
    } else if p95 < BUDGET_P95_MS {
        "within the seed budget, goal MISSED"
    } else {
        "over the seed budget"
    };
    println!("  goal p95 < {GOAL_P95_MS} ms (seed budget {BUDGET_P95_MS} ms): {verdict}");
    // The floor on this machine: pgbench, one client, the same transaction on the same deals.
    let (dlo, dhi) = (deals[0], deals[n - 1]);
    let mut reference = String::new();
    match find_pgbench() {
        Some(p) if dhi - dlo + 1 == n as i64 => {
            let code = warm.coupon_code.clone().unwrap_or_default();
            let members = (b.members[0], b.members[b.members.len() - 1]);
            let pg = pgbench_latency(&p, &b.settings, o, &code, n, (dlo, dhi), members)?;
            let pms = |q: f64| pg.value_at_quantile(q) as f64 / 1000.0;
            println!(
                "  pgbench -M prepared, 1 client, the same transaction on the same deals: \
                 p50 {:.2} ms   p95 {:.2} ms   p99 {:.2} ms",
                pms(0.5),
                pms(0.95),
                pms(0.99)
            );
            println!(
                "  service over pgbench: p50 {:+.2} ms, p95 {:+.2} ms",
                ms(0.5) - pms(0.5),
                p95 - pms(0.95)
            );
            reference = format!(
                " (pgbench, same transaction: p50 {:.2}, p95 {:.2})",
                pms(0.5),
                pms(0.95)
            );
        }
        Some(_) => println!("  (the deals' ids are not contiguous: no pgbench reference)"),
        None => println!("  (pgbench not found: no reference)"),
    }
    summary.push((
        "uncontended recording".into(),
        format!(
            "p50 {:.2} ms, p95 {p95:.2} ms, p99 {:.2} ms{reference}",
            ms(0.5),
            ms(0.99)
        ),
        format!("goal p95 < {GOAL_P95_MS} ms: {verdict}"),
    ));
    pool.close().await;
    Ok(())
}

// Helpers ------------------------------------------------------------------------------------

fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds")
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

/// The median of sorted figures.
fn median(v: &[f64]) -> f64 {
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}
