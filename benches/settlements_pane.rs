//! Settlements pane benchmark (issue 13, "first frame with 100,000 settlements"): the time from
//! opening the Settlements pane to its first frame showing rows, on a database holding
//! 100,000 settlements, next to the same page query run directly. Not a test: it prints
//! medians and fails (exit 1) only when the pane shows no rows.
//!
//! ```text
//! cargo bench --bench settlements_pane
//! cargo bench --bench settlements_pane -- --runs 21 --settlements 100000
//! cargo bench --bench settlements_pane -- --database-url postgres://me@db.example:5432/x
//! ```
//!
//! The database `partnerdesk_bench_settlements` is made afresh (migrated; a `fay` finance
//! operator; 500 verified partners, each with one monthly agreement; the settlements made by
//! `INSERT … SELECT generate_series`, 200 months per partner, the older ones paid, the newest
//! approved, in review or draft), analysed, and dropped at the end. Without `--database-url`
//! the server is reached as the binary reaches one (the `PG*` variables, else the local
//! socket; `DATABASE_URL` and `PGDATABASE` are ignored); with it, on that server (the URL's
//! database name is replaced). The role needs CREATEDB.
//!
//! Each of `--runs` runs (default 11), alternating:
//! - the pane: a fresh console `App` (built-in keymap and theme, connected as `fay`) is sent to
//!   the Settlements pane; the effects it returns run as the runtime runs them
//!   (`runtime::execute`: the service call on the pool) and their answers go back to the app;
//!   then a 120×40 frame is drawn into ratatui's `TestBackend`. Timed from the key's action to
//!   the drawn frame, which must show the first row. Also with the filter `status:in_review`
//!   typed (the page the filter asks for, then the frame).
//! - the query: `store::settlements::page` (the SQL the service runs, no filter, 100 rows) on
//!   a connection of its own; and the server's own execution time of that SQL (`EXPLAIN
//!   ANALYZE`).
//!
//! The first run of each is reported apart (cold caches and pool) and left out of the medians.

use partnerdesk::console::action::Action;
use partnerdesk::console::app::{App, ConnState, Session};
use partnerdesk::console::keymap::Keymap;
use partnerdesk::console::msg::{Effect, TaskCtx};
use partnerdesk::console::theme::Theme;
use partnerdesk::console::{runtime, screen};
use partnerdesk::domain::Role;
use partnerdesk::service::rows::SettlementFilter;
use partnerdesk::service::{Actor, Desk};
use partnerdesk::store;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection};
use std::time::Instant;

#[path = "support/mod.rs"]
mod support;
use support::{Args, Res, drop_database, loadavg, median, thousands};

const DATABASE: &str = "partnerdesk_bench_settlements";
const OPERATOR: &str = "fay";
const PARTNERS: i64 = 500;
const PAGE: i64 = 100;

const USAGE: &str = "usage: cargo bench --bench settlements_pane -- [--database-url URL] \
[--runs N] [--settlements N]";

struct Options {
    database_url: Option<String>,
    runs: usize,
    settlements: i64,
}

fn parse_args() -> Res<Options> {
    let mut o = Options {
        database_url: None,
        runs: 11,
        settlements: 100_000,
    };
    let mut args = Args::new(USAGE);
    while let Some(flag) = args.flag() {
        match flag.as_str() {
            "--database-url" => o.database_url = Some(args.text(&flag)?),
            "--runs" => o.runs = args.number(&flag)?,
            "--settlements" => o.settlements = args.number(&flag)?,
            other => return Err(args.unknown(other)),
        }
    }
    if o.runs < 2 || o.settlements < PARTNERS {
        return Err(format!(
            "--runs must be at least 2, --settlements at least {PARTNERS}\n{USAGE}"
        )
        .into());
    }
    Ok(o)
}

fn main() {
    support::main("settlements pane", || {
        let opts = parse_args()?;
        let settings = support::settings(opts.database_url.clone())?;
        support::runtime()?.block_on(run(opts, settings.options))
    })
}

async fn run(opts: Options, server: PgConnectOptions) -> Res<()> {
    let mut admin = PgConnection::connect_with(&server.clone().database("postgres")).await?;
    let version = support::server_version(&mut admin).await?;
    println!("partnerdesk Settlements pane benchmark");
    println!(
        "  server    {} (PostgreSQL {version})",
        store::display_target(&server.clone().database(DATABASE))
    );
    println!("{}", support::machine());
    drop_database(&mut admin, DATABASE).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE DATABASE \"{DATABASE}\""
    )))
    .execute(&mut admin)
    .await?;
    let result = measure(&opts, server.clone().database(DATABASE)).await;
    drop_database(&mut admin, DATABASE).await?;
    result
}

/// Fills the database: partners, one agreement each, `n` settlements over 200-month runs.
async fn fill(pool: &sqlx::PgPool, n: i64) -> Res<()> {
    store::migrate::run(pool).await?;
    sqlx::query(
        "INSERT INTO operators (login, display_name, roles, updated_by)
         VALUES ($1, 'Settlements benchmark', ARRAY['finance'], $1)",
    )
    .bind(OPERATOR)
    .execute(pool)
    .await?;
    sqlx::query(
        "INSERT INTO partners (legal_name, display_name, website_url, domain, verification,
                               vetted_by, vetted_at, created_by, updated_by)
         SELECT 'Bench ' || g || ' Ltd', 'Bench partner ' || g, 'https://p' || g || '.bench.example/',
                'p' || g || '.bench.example', 'verified', $1, now(), $1, $1
           FROM generate_series(1, $2) g",
    )
    .bind(OPERATOR)
    .bind(PARTNERS)
    .execute(pool)
    .await?;
    let months = (n + PARTNERS - 1) / PARTNERS;
    sqlx::query(
        "INSERT INTO agreements (partner_id, version, effective_from, currency, frequency,
                                 take_rate_bps, model, rate_bps, created_by)
         SELECT id, 1, (date '2026-09-01' - make_interval(months => $2::int))::date, 'EUR',
                'monthly', 1500, 'percentage', 500, $1
           FROM partners",
    )
    .bind(OPERATOR)
    .bind(months as i32)
    .execute(pool)
    .await?;
    // Month m of each agreement (0 = the oldest); the last months are the open ones.
    sqlx::query(
        "INSERT INTO settlements (agreement_id, partner_id, period_start, period_end, currency,
                status, line_count, redemption_count, exception_count, commission_minor,
                take_minor, net_minor, computed_by, review_deadline, approved_at, approved_by,
                paid_on, payment_reference, tally_count, tally_amount_minor, updated_by)
         SELECT a.id, a.partner_id, p.start, (p.start + interval '1 month')::date, 'EUR',
                s.status, 100 + m, 98 + m, 2, 5000 + 7 * m, 750 + m, 5000 + 7 * m, $1,
                CASE WHEN s.status <> 'draft' THEN p.start + interval '40 days' END,
                CASE WHEN s.status IN ('approved', 'paid') THEN p.start + interval '41 days' END,
                CASE WHEN s.status IN ('approved', 'paid') THEN $1 END,
                CASE WHEN s.status = 'paid' THEN (p.start + interval '45 days')::date END,
                CASE WHEN s.status = 'paid' THEN 'TR-' || a.id || '-' || m END,
                CASE WHEN m % 3 = 0 THEN 98 + m END, CASE WHEN m % 3 = 0 THEN 5000 + 7 * m END,
                $1
           FROM agreements a
          CROSS JOIN generate_series(0, $2::int - 1) m
          CROSS JOIN LATERAL (SELECT (a.effective_from + make_interval(months => m))::date AS start) p
          CROSS JOIN LATERAL (SELECT CASE WHEN m < $2 - 3 THEN 'paid'
                                          WHEN m = $2 - 3 THEN 'approved'
                                          WHEN m = $2 - 2 THEN 'in_review'
                                          ELSE 'draft' END AS status) s
          ORDER BY a.id, m
          LIMIT $3",
    )
    .bind(OPERATOR)
    .bind(months as i32)
    .bind(n)
    .execute(pool)
    .await?;
    sqlx::query("ANALYZE").execute(pool).await?;
    Ok(())
}

/// A console connected as the benchmark's operator, as the binary builds it once connected.
fn console(desk: &Desk) -> App {
    let session = Session {
        operator: OPERATOR.into(),
        roles: desk.actor().roles_text(),
        registered: true,
        read_only: false,
        database: "bench".into(),
    };
    let mut app = App::new(
        Keymap::builtin(),
        Theme::builtin("default").expect("built in"),
        session,
    );
    app.actor = Some(desk.actor().clone());
    app.conn = ConnState::Connected;
    app
}

/// Runs the effects as the runtime would (each `Task::run` on its own task, here awaited in
/// turn), handing the answers to the app.
async fn drive(app: &mut App, desk: &Desk, fx: Vec<Effect>) -> Res<()> {
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let ctx = TaskCtx {
        tx,
        vetting: Default::default(),
        thresholds: Default::default(),
    };
    let mut queue: std::collections::VecDeque<Effect> = fx.into();
    while let Some(e) = queue.pop_front() {
        if !matches!(e, Effect::Pane(_)) {
            continue;
        }
        let task = tokio::spawn(runtime::execute(desk.clone(), e, ctx.clone()));
        if let Some(msg) = task.await? {
            if let Some(e) = msg.failure() {
                return Err(format!("the pane's query failed: {e}").into());
            }
            queue.extend(app.update(msg));
        }
    }
    Ok(())
}

fn screen(term: &Terminal<TestBackend>) -> String {
    let buf = term.backend().buffer();
    let mut s = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            s.push_str(buf[(x, y)].symbol());
        }
        s.push('\n');
    }
    s
}

/// Opens the pane (and types `filter`, when given) and draws: milliseconds to the frame.
async fn first_frame(desk: &Desk, filter: Option<&str>) -> Res<(f64, String)> {
    let mut app = console(desk);
    let mut term = Terminal::new(TestBackend::new(120, 40))?;
    let t = Instant::now();
    let fx = app.perform(Action::PaneSettlements);
    drive(&mut app, desk, fx).await?;
    if let Some(text) = filter {
        app.perform(Action::Filter);
        app.filter_input = Some(text.to_owned());
        let fx = app
            .panes
            .get_mut(app.pane)
            .filter_changed(&mut app.shell, text);
        drive(&mut app, desk, fx).await?;
    }
    term.draw(|f| screen::draw(f, &mut app))?;
    let ms = ms(t);
    let first = app
        .panes
        .settlements
        .list
        .rows
        .first()
        .ok_or("the pane shows no rows")?
        .partner_name
        .clone();
    let s = screen(&term);
    if !s.contains(&first) {
        return Err(format!("the first row ({first}) is not on screen:\n{s}").into());
    }
    Ok((ms, first))
}

async fn measure(opts: &Options, options: PgConnectOptions) -> Res<()> {
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .connect_with(options.clone())
        .await?;
    let t = Instant::now();
    fill(&pool, opts.settlements).await?;
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM settlements")
        .fetch_one(&pool)
        .await?;
    println!(
        "  data      {} settlements of {PARTNERS} partners, filled in {:.1} s",
        thousands(count),
        t.elapsed().as_secs_f64()
    );
    let desk = Desk::new(pool.clone(), Actor::operator(OPERATOR, &[Role::Finance]));
    let mut conn = PgConnection::connect_with(&options).await?;
    let explain = explain_sql();

    let (mut pane, mut filtered, mut query, mut server) = (vec![], vec![], vec![], vec![]);
    for run in 0..opts.runs {
        let (p, first) = first_frame(&desk, None).await?;
        let (pf, _) = first_frame(&desk, Some("status:in_review")).await?;
        let t = Instant::now();
        let rows =
            store::settlements::page(&mut conn, &SettlementFilter::default(), None, PAGE).await?;
        let q = ms(t);
        let plan: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(explain.clone()))
            .bind(PAGE)
            .fetch_all(&mut conn)
            .await?;
        let e = plan
            .iter()
            .find_map(|l| l.strip_prefix("Execution Time: "))
            .and_then(|l| l.trim_end_matches(" ms").parse::<f64>().ok())
            .unwrap_or(f64::NAN);
        if rows.first().map(|r| r.partner_name.as_str()) != Some(first.as_str()) {
            return Err("the pane's first row is not the query's".into());
        }
        let label = if run == 0 { "cold" } else { "    " };
        println!(
            "  run {:>2} {label}  pane {p:>7.2} ms   pane+filter {pf:>7.2} ms   query {q:>6.2} ms   server {e:>6.2} ms",
            run + 1
        );
        if run > 0 {
            pane.push(p);
            filtered.push(pf);
            query.push(q);
            server.push(e);
        }
    }
    println!();
    println!(
        "summary: medians of {} warm runs (load {} at end)",
        pane.len(),
        loadavg()
    );
    println!(
        "  opening the pane to its first frame with rows (120×40): {:>7.2} ms",
        median(&mut pane)
    );
    println!(
        "  … then status:in_review typed, to its frame:            {:>7.2} ms",
        median(&mut filtered)
    );
    println!(
        "  the same first page (100 rows) by the store's SQL:      {:>7.2} ms",
        median(&mut query)
    );
    println!(
        "  that SQL's execution time in the server (EXPLAIN):      {:>7.2} ms",
        median(&mut server)
    );
    pool.close().await;
    Ok(())
}

/// The first page's query as `store::settlements::page` writes it without a filter, under
/// `EXPLAIN ANALYZE` (the server's own time, without the network or the decoding).
fn explain_sql() -> String {
    "EXPLAIN (ANALYZE, TIMING OFF)
     SELECT s.*, p.display_name AS partner_name, a.version AS agreement_version, a.frequency,
            a.model, a.take_rate_bps
       FROM settlements s
       JOIN partners p ON p.id = s.partner_id
       JOIN agreements a ON a.id = s.agreement_id
      WHERE true
      ORDER BY s.period_start DESC, s.id DESC LIMIT $1"
        .to_owned()
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}
