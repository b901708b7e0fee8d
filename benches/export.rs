//! Export benchmark (issue 5, "Tests and measurements"): `partnerdesk export redemptions`
//! (the release binary: PostgreSQL COPY streamed to a file) next to `psql \copy` of the same
//! SELECT, on one deal with 1,000,000 redemptions and on one with 10,000. Not a test: it prints
//! medians, the ratio against psql (goal: within 1.25×) and the seed budget (10,000 rows in
//! under 5 s), and fails (exit 1) only when the two files differ.
//!
//! ```text
//! cargo bench --bench export
//! cargo bench --bench export -- --runs 9
//! cargo bench --bench export -- --rows 2000000 --small 10000
//! cargo bench --bench export -- --database-url postgres://me@db.example:5432/anything
//! ```
//!
//! The database is always `partnerdesk_bench_export` (created if missing): without
//! `--database-url` it is reached as the binary reaches one (the `PG*` variables, else the
//! local server's socket; `DATABASE_URL` and `PGDATABASE` from the environment are ignored, so
//! it never lands on a working database); with it, on that server (the URL's database name is
//! replaced). Pending migrations are applied. The data is made once, each deal with one
//! `INSERT … SELECT generate_series` (one redemption a second over 10,000 members, every
//! 1,000th flagged with a note that needs quoting, the deal's title too), and kept for the
//! next run; a deal whose count is off is made again.
//!
//! Each size: one untimed run of each (warm-up; the two files must be byte-identical, and
//! hold the header and exactly the deal's rows), then `--runs` N (default 5) timed runs of each,
//! alternating, wall clock from spawn to exit:
//! - `partnerdesk export redemptions --deal ID --out DIR/x.csv` (standard error is not a
//!   terminal, so no progress bar and no count query: as in a script);
//! - `psql -X -q -c "\copy (SELECT …) to 'DIR/y.csv' with (format csv, header)"`, the SELECT
//!   being `partnerdesk::store::redemptions::export_select`, the export's own.
//!
//! Also, once per size, the binary's peak resident memory (`VmHWM`, read from `/proc` while it
//! runs), to show that it streams.

#[path = "support/mod.rs"]
mod support;
use support::{Args, Res, median, thousands};

use partnerdesk::config::Config;
use partnerdesk::service::export::CsvRecords;
use partnerdesk::store::redemptions::{ExportFilter, export_select};
use partnerdesk::store::{self, ConnectRequest, DbSettings};
use sqlx::PgPool;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_partnerdesk");
const DATABASE: &str = "partnerdesk_bench_export";
/// Registered as support: may export.
const OPERATOR: &str = "bench";
const MEMBERS: i64 = 10_000;
const GOAL_RATIO: f64 = 1.25;
const BUDGET_ROWS: i64 = 10_000;
const BUDGET_SECS: f64 = 5.0;

const USAGE: &str = "usage: cargo bench --bench export -- [--database-url URL] [--runs N] \
[--rows N] [--small N]";

struct Options {
    database_url: Option<String>,
    runs: usize,
    rows: i64,
    small: i64,
}

fn parse_args() -> Res<Options> {
    let mut o = Options {
        database_url: None,
        runs: 5,
        rows: 1_000_000,
        small: BUDGET_ROWS,
    };
    let mut args = Args::new(USAGE);
    while let Some(flag) = args.flag() {
        match flag.as_str() {
            "--database-url" => o.database_url = Some(args.text(&flag)?),
            "--runs" => o.runs = args.number(&flag)?,
            "--rows" => o.rows = args.number(&flag)?,
            "--small" => o.small = args.number(&flag)?,
            other => return Err(args.unknown(other)),
        }
    }
    if o.runs == 0 || o.rows < 1 || o.small < 1 {
        return Err(format!("--runs, --rows and --small must be at least 1\n{USAGE}").into());
    }
    Ok(o)
}

fn main() {
    if let Err(e) = real_main() {
        eprintln!("export bench: {e}");
        std::process::exit(1);
    }
}

/// How the children (the binary and psql) reach the benchmark database.
#[derive(Clone)]
enum Target {
    /// `--database-url` (for the binary) and the conninfo argument (for psql).
    Url(String),
    /// The `PG*` variables.
    Env(Vec<(String, String)>),
}

fn real_main() -> Res<()> {
    let opts = parse_args()?;
    // SAFETY: nothing else runs yet (no runtime, no thread).
    unsafe {
        std::env::remove_var("DATABASE_URL");
        std::env::remove_var("PGDATABASE");
    }
    let url = match &opts.database_url {
        Some(u) => {
            let mut parsed = url::Url::parse(u).map_err(|e| format!("--database-url: {e}"))?;
            parsed.set_path(&format!("/{DATABASE}"));
            Some(parsed.to_string())
        }
        None => None,
    };
    let mut settings = DbSettings::resolve(
        &ConnectRequest {
            database_url: url.clone(),
            profile: None,
        },
        &Config::default(),
        Path::new("(bench)"),
    )?;
    settings.options = settings.options.clone().database(DATABASE);
    settings.create_if_missing = true;
    let target = match url {
        Some(u) => Target::Url(u),
        None => Target::Env(pg_env(&settings)),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(run(opts, settings, target))
}

/// PG* for the children: the resolved host, port, user and the benchmark database, plus a
/// password or TLS mode from the environment.
fn pg_env(settings: &DbSettings) -> Vec<(String, String)> {
    let o = &settings.options;
    let host = match o.get_socket() {
        Some(dir) => dir.display().to_string(),
        None => o.get_host().to_owned(),
    };
    let mut env = vec![
        ("PGHOST".to_owned(), host),
        ("PGPORT".to_owned(), o.get_port().to_string()),
        ("PGUSER".to_owned(), o.get_username().to_owned()),
        ("PGDATABASE".to_owned(), DATABASE.to_owned()),
    ];
    for var in ["PGPASSWORD", "PGSSLMODE"] {
        if let Ok(v) = std::env::var(var) {
            env.push((var.to_owned(), v));
        }
    }
    env
}

async fn run(opts: Options, settings: DbSettings, target: Target) -> Res<()> {
    println!("partnerdesk export benchmark");
    println!("  binary    {BIN}");
    println!("  database  {}", settings.target());
    let pool = settings.connect(4).await?;
    let t = Instant::now();
    let applied = store::migrate::run(&pool).await?;
    if applied > 0 {
        println!(
            "  applied {applied} pending migration(s) in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    let (version,): (String,) = sqlx::query_as("SHOW server_version")
        .fetch_one(&pool)
        .await?;
    let psql = Command::new("psql").arg("--version").output()?;
    println!(
        "  server    PostgreSQL {version}; {}",
        String::from_utf8_lossy(&psql.stdout).trim()
    );
    println!(
        "  machine   {} CPU(s)",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );

    let members = prepare_members(&pool).await?;
    let dir = std::env::temp_dir().join(format!("partnerdesk-bench-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let home = dir.join("home");
    std::fs::create_dir_all(&home)?;

    let mut failures = Vec::new();
    let mut results = Vec::new();
    for rows in [opts.rows, opts.small] {
        let deal = prepare_deal(&pool, &members, rows).await?;
        match measure(&opts, &target, &dir, &home, deal, rows) {
            Ok(r) => results.push(r),
            Err(e) => failures.push(format!("{} rows: {e}", thousands(rows))),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);

    println!();
    println!("summary (medians of {} runs)", opts.runs);
    for r in &results {
        let ratio = r.pd / r.psql;
        println!(
            "  {:>10} rows  partnerdesk {:>8.3} s  psql \\copy {:>8.3} s  ratio {:.2}× ({})  {:>5.1} MB  peak RSS {}",
            thousands(r.rows),
            r.pd,
            r.psql,
            ratio,
            if ratio <= GOAL_RATIO {
                format!("goal ≤ {GOAL_RATIO}×: met")
            } else {
                format!("goal ≤ {GOAL_RATIO}×: NOT met")
            },
            r.bytes as f64 / 1e6,
            r.peak_kb
                .map(|kb| format!("{:.1} MB", kb as f64 / 1024.0))
                .unwrap_or_else(|| "n/a".into()),
        );
    }
    if let Some(r) = results.iter().find(|r| r.rows == BUDGET_ROWS) {
        println!(
            "  seed budget: {} rows in {:.3} s (budget {BUDGET_SECS} s): {}",
            thousands(r.rows),
            r.pd,
            if r.pd < BUDGET_SECS { "met" } else { "NOT met" }
        );
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("; ").into())
    }
}

// The data --------------------------------------------------------------------------------------

/// The operator, the partner and the members (made once); returns the members' ids.
async fn prepare_members(pool: &PgPool) -> Res<Vec<i64>> {
    sqlx::query(
        "INSERT INTO operators (login, display_name, roles, updated_by)
         VALUES ($1, 'Export benchmark', ARRAY['support'], $1)
         ON CONFLICT (login) DO UPDATE SET roles = ARRAY['support']",
    )
    .bind(OPERATOR)
    .execute(pool)
    .await?;
    let have: i64 =
        sqlx::query_scalar("SELECT count(*) FROM members WHERE handle LIKE 'bench-export-%'")
            .fetch_one(pool)
            .await?;
    if have < MEMBERS {
        sqlx::query(
            "INSERT INTO members (handle, display_name, role)
             SELECT 'bench-export-' || g, 'Member ' || g || ', \"bench\"', 'public'
               FROM generate_series(1, $1) g
             ON CONFLICT (handle) DO NOTHING",
        )
        .bind(MEMBERS)
        .execute(pool)
        .await?;
    }
    Ok(sqlx::query_scalar(
        "SELECT id FROM members WHERE handle LIKE 'bench-export-%' ORDER BY id LIMIT $1",
    )
    .bind(MEMBERS)
    .fetch_all(pool)
    .await?)
}

/// The deal with `rows` redemptions, made (or remade) when missing or off.
async fn prepare_deal(pool: &PgPool, members: &[i64], rows: i64) -> Res<i64> {
    let code = format!("BENCHX{rows}");
    let existing: Option<(i64, i64)> = sqlx::query_as(
        "SELECT d.id, (SELECT count(*) FROM redemptions r WHERE r.deal_id = d.id)
           FROM deals d WHERE d.coupon_code = $1",
    )
    .bind(&code)
    .fetch_optional(pool)
    .await?;
    if let Some((id, n)) = existing {
        if n == rows {
            println!(
                "  data      deal {id}: {} redemptions (kept from an earlier run)",
                thousands(n)
            );
            return Ok(id);
        }
        sqlx::query("DELETE FROM redemptions WHERE deal_id = $1")
            .bind(id)
            .execute(pool)
            .await?;
    }
    let partner: i64 = match sqlx::query_scalar(
        "SELECT id FROM partners WHERE display_name = 'Export Benchmark' AND deleted_at IS NULL",
    )
    .fetch_optional(pool)
    .await?
    {
        Some(id) => id,
        None => sqlx::query_scalar(
            "INSERT INTO partners (legal_name, display_name, verification, vetted_by, vetted_at,
                                       created_by, updated_by)
                 VALUES ('Export Benchmark Ltd', 'Export Benchmark', 'verified', $1, now(), $1, $1)
                 RETURNING id",
        )
        .bind(OPERATOR)
        .fetch_one(pool)
        .await?,
    };
    let deal: i64 = match existing {
        Some((id, _)) => id,
        None => {
            sqlx::query_scalar(
                "INSERT INTO deals (partner_id, title, kind, coupon_code, audience_scope,
                                    valid_from, valid_until, state, created_by, updated_by)
                 VALUES ($1, $2, 'coupon', $3, 'public', '2025-01-01', '2030-01-01', 'paused', $4, $4)
                 RETURNING id",
            )
            .bind(partner)
            .bind(format!("Export bench, \"{}\" rows", thousands(rows)))
            .bind(&code)
            .bind(OPERATOR)
            .fetch_one(pool)
            .await?
        }
    };
    let t = Instant::now();
    sqlx::query(
        "INSERT INTO redemptions (deal_id, member_id, source, coupon_code, redeemed_at,
                                  flag_kind, flag_note, flagged_by, flagged_at)
         SELECT $1, ($2::bigint[])[1 + g % cardinality($2::bigint[])], 'copy_code', $3,
                timestamptz '2025-01-01 00:00:00+00' + g * interval '1 second',
                CASE WHEN g % 1000 = 0 THEN 'fraud' END,
                CASE WHEN g % 1000 = 0 THEN 'shared, \"widely\" on a forum' END,
                CASE WHEN g % 1000 = 0 THEN $4 END,
                CASE WHEN g % 1000 = 0 THEN now() END
           FROM generate_series(1, $5) g",
    )
    .bind(deal)
    .bind(members)
    .bind(&code)
    .bind(OPERATOR)
    .bind(rows)
    .execute(pool)
    .await?;
    sqlx::query("UPDATE deals SET redemption_count = $2 WHERE id = $1")
        .bind(deal)
        .bind(i32::try_from(rows).unwrap_or(i32::MAX))
        .execute(pool)
        .await?;
    sqlx::query("ANALYZE redemptions").execute(pool).await?;
    sqlx::query("CHECKPOINT").execute(pool).await.ok();
    println!(
        "  data      deal {deal}: inserted {} redemptions in {:.1} s",
        thousands(rows),
        t.elapsed().as_secs_f64()
    );
    Ok(deal)
}

// The runs --------------------------------------------------------------------------------------

struct Result1 {
    rows: i64,
    bytes: u64,
    pd: f64,
    psql: f64,
    peak_kb: Option<u64>,
}

fn pd_command(target: &Target, home: &Path, deal: i64, out: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    if let Target::Url(u) = target {
        cmd.args(["--database-url", u]);
    }
    cmd.args([
        "--operator",
        OPERATOR,
        "export",
        "redemptions",
        "--deal",
        &deal.to_string(),
        "--out",
    ])
    .arg(out);
    with_env(&mut cmd, target);
    cmd.env("PARTNERDESK_HOME", home)
        .env("USER", OPERATOR)
        .env_remove("PARTNERDESK_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

fn psql_command(target: &Target, deal: i64, out: &Path) -> Command {
    let select = export_select(&ExportFilter::deal(deal));
    let copy = format!(
        "\\copy ({select}) to '{}' with (format csv, header)",
        out.display()
    );
    let mut cmd = Command::new("psql");
    cmd.args(["-X", "-q", "-v", "ON_ERROR_STOP=1"]);
    if let Target::Url(u) = target {
        cmd.arg(u);
    }
    cmd.arg("-c").arg(copy);
    with_env(&mut cmd, target);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

fn with_env(cmd: &mut Command, target: &Target) {
    for v in [
        "DATABASE_URL",
        "PGHOST",
        "PGHOSTADDR",
        "PGPORT",
        "PGUSER",
        "PGDATABASE",
        "PGSERVICE",
    ] {
        cmd.env_remove(v);
    }
    if let Target::Env(env) = target {
        cmd.envs(env.iter().map(|(k, v)| (k, v)));
    }
}

/// Runs to completion; the wall time from spawn to exit.
fn timed(mut cmd: Command, what: &str) -> Res<f64> {
    let t = Instant::now();
    let out = cmd.output()?;
    let secs = t.elapsed().as_secs_f64();
    if !out.status.success() {
        return Err(format!(
            "{what} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )
        .into());
    }
    Ok(secs)
}

/// Runs to completion, reading the peak resident memory from /proc while it runs.
fn peak_memory(mut cmd: Command) -> Res<Option<u64>> {
    let mut child = cmd.spawn()?;
    let status = format!("/proc/{}/status", child.id());
    let mut peak = None;
    loop {
        if let Some(s) = child.try_wait()? {
            if !s.success() {
                return Err(format!("partnerdesk failed ({s})").into());
            }
            return Ok(peak);
        }
        if let Ok(text) = std::fs::read_to_string(&status)
            && let Some(kb) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak = Some(peak.map_or(kb, |p: u64| p.max(kb)));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn measure(
    opts: &Options,
    target: &Target,
    dir: &Path,
    home: &Path,
    deal: i64,
    rows: i64,
) -> Res<Result1> {
    let x: PathBuf = dir.join("x.csv");
    let y: PathBuf = dir.join("y.csv");
    println!();
    println!("deal {deal}: {} redemptions", thousands(rows));

    // Warm-up, and the proof that both wrote the same thing.
    let w_pd = timed(pd_command(target, home, deal, &x), "partnerdesk")?;
    let w_psql = timed(psql_command(target, deal, &y), "psql")?;
    let a = std::fs::read(&x)?;
    let b = std::fs::read(&y)?;
    if a != b {
        return Err(format!(
            "the files differ: partnerdesk wrote {} bytes, psql {} bytes",
            a.len(),
            b.len()
        )
        .into());
    }
    let mut records = CsvRecords::default();
    records.feed(&a);
    if records.data_rows() != rows as u64 || !a.starts_with(b"redemption_id,deal_id,") {
        return Err(format!(
            "expected a header and {rows} rows, found {} rows",
            records.data_rows()
        )
        .into());
    }
    let bytes = a.len() as u64;
    drop((a, b));
    println!(
        "  warm-up   partnerdesk {w_pd:.3} s, psql {w_psql:.3} s; identical files, {} rows, {:.1} MB",
        thousands(rows),
        bytes as f64 / 1e6
    );

    let mut pd = Vec::new();
    let mut ps = Vec::new();
    for i in 0..opts.runs {
        // Alternate which goes first, so that neither always follows the other.
        if i % 2 == 0 {
            pd.push(timed(pd_command(target, home, deal, &x), "partnerdesk")?);
            ps.push(timed(psql_command(target, deal, &y), "psql")?);
        } else {
            ps.push(timed(psql_command(target, deal, &y), "psql")?);
            pd.push(timed(pd_command(target, home, deal, &x), "partnerdesk")?);
        }
        println!(
            "  run {:>2}    partnerdesk {:.3} s   psql {:.3} s",
            i + 1,
            pd[i],
            ps[i]
        );
    }
    let peak_kb = peak_memory(pd_command(target, home, deal, &x))?;
    let _ = std::fs::remove_file(&x);
    let _ = std::fs::remove_file(&y);
    let (m_pd, m_ps) = (median(&mut pd), median(&mut ps));
    println!(
        "  median    partnerdesk {m_pd:.3} s ({:.0} rows/s)   psql {m_ps:.3} s   ratio {:.2}×",
        rows as f64 / m_pd,
        m_pd / m_ps
    );
    Ok(Result1 {
        rows,
        bytes,
        pd: m_pd,
        psql: m_ps,
        peak_kb,
    })
}
