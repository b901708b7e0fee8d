//! Console benchmark (issue 3, "Tests and measurements"): time to first frame, render time of
//! a full 120×40 frame and peak memory of the console, on a database seeded with
//! `partnerdesk seed --demo --scale 1000000`. It prints figures against the goals (first frame
//! under 200 ms, a frame under 2 ms, memory under 60 MB); it is not a test and fails on no goal.
//!
//! Seed the benchmark database once (COPY; about five minutes for a million deals):
//!
//! ```text
//! cargo build --release
//! createdb partnerdesk_bench
//! PGDATABASE=partnerdesk_bench target/release/partnerdesk seed --demo --scale 1000000
//! ```
//!
//! Then run (the release binary is rebuilt by cargo first):
//!
//! ```text
//! cargo bench --bench console
//! cargo bench --bench console -- --runs 50 --frames 5000
//! cargo bench --bench console -- --database-url postgres://me@db.example:5432/pd_bench
//! ```
//!
//! Without `--database-url` the database is `partnerdesk_bench` through the `PG*` variables
//! and the local server's socket (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD` are honoured;
//! `DATABASE_URL` and `PGDATABASE` from the environment are ignored, so the benchmark never
//! lands on a working database by accident). Pending migrations are applied first. With fewer
//! than 1,000,000 deals it warns and still runs.
//!
//! What it measures:
//! 1. Time to first frame: the release binary in a pseudo-terminal (120×40,
//!    `TERM=xterm-256color`, a fresh `PARTNERDESK_HOME`, `USER=cara`, the seeded curator), its
//!    output fed to a `vt100` screen on a thread; from spawn until the tab bar shows, and until
//!    the first row of the Partners list shows. `--runs` times (default 20): median and p95.
//! 2. Render time: in-process, the `App` built as the binary builds it (`runtime::setup`),
//!    connected to a `Desk` on the benchmark database, the first page of partners loaded
//!    through `Desk::list_partners`; then `--frames` draws (default 2000, after a warm-up) of
//!    the list, the partner detail and the help overlay into ratatui's `TestBackend` at 120×40:
//!    median and p99 of a redraw (ratatui's diff, as the console redraws) and of a full repaint
//!    (after a clear, so every cell is written), in wall time and in the thread's CPU time (on
//!    a shared machine the wall-clock tail is mostly other processes' time).
//! 3. Memory: in each pty run, after the list loaded, `G` (jump to the bottom), `g` (back to the
//!    top) and 150 × `j` (scrolling through pages), `VmHWM` (peak) and `VmRSS` from
//!    `/proc/<pid>/status`: median, p95 and max over the runs.
//!
//! For reference it also times the database queries behind those screens (first page, next
//! page, last page, detail) through the services.

use partnerdesk::config::{Config, Dirs};
use partnerdesk::console::action::Action;
use partnerdesk::console::app::App;
use partnerdesk::console::msg::{Effect, LoadMode, Msg, TaskCtx};
use partnerdesk::console::panes::partners;
use partnerdesk::console::{runtime, screen};
use partnerdesk::context::{Context, GlobalArgs};
use partnerdesk::service::Desk;
use partnerdesk::service::rows::{PartnerFilter, PartnerListRow};
use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

#[path = "support/mod.rs"]
mod support;
use support::{Args, Res, thousands};

const BIN: &str = env!("CARGO_BIN_EXE_partnerdesk");
const DEFAULT_DATABASE: &str = "partnerdesk_bench";
const SEED_DEALS: i64 = 1_000_000;
/// A curator registered by `seed --demo`: the console opens with every partner action.
const OPERATOR: &str = "cara";
const COLS: u16 = 120;
const ROWS: u16 = 40;
/// How long any one wait on the console may take before the run is abandoned.
const TIMEOUT: Duration = Duration::from_secs(60);
/// `j` presses after `G` and `g`: enough to load a few pages.
const SCROLL_STEPS: usize = 150;

const GOAL_FIRST_FRAME_MS: f64 = 200.0;
const GOAL_FRAME_MS: f64 = 2.0;
const GOAL_MEMORY_MB: f64 = 60.0;

const USAGE: &str =
    "usage: cargo bench --bench console -- [--database-url URL] [--runs N] [--frames N]";

struct Options {
    database_url: Option<String>,
    runs: usize,
    frames: usize,
}

fn parse_args() -> Res<Options> {
    let mut o = Options {
        database_url: None,
        runs: 20,
        frames: 2000,
    };
    let mut args = Args::new(USAGE);
    while let Some(flag) = args.flag() {
        match flag.as_str() {
            "--database-url" => o.database_url = Some(args.text(&flag)?),
            "--runs" => o.runs = args.number(&flag)?,
            "--frames" => o.frames = args.number(&flag)?,
            other => return Err(args.unknown(other)),
        }
    }
    if o.runs == 0 || o.frames == 0 {
        return Err(format!("--runs and --frames must be at least 1\n{USAGE}").into());
    }
    Ok(o)
}

fn main() {
    if let Err(e) = real_main() {
        eprintln!("console bench: {e}");
        std::process::exit(1);
    }
}

fn real_main() -> Res<()> {
    let opts = parse_args()?;
    // SAFETY: nothing else runs yet (no runtime, no thread); the in-process connection and the
    // console child must see the same settings.
    unsafe {
        std::env::remove_var("DATABASE_URL");
        if opts.database_url.is_none() {
            std::env::set_var("PGDATABASE", DEFAULT_DATABASE);
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let home = TempHome::new("inproc")?;
    let ctx = Context {
        global: GlobalArgs {
            database_url: opts.database_url.clone(),
            operator: Some(OPERATOR.into()),
            ..Default::default()
        },
        dirs: Dirs {
            config_dir: home.path().join("config"),
            state_dir: home.path().join("state"),
        },
        config_path: home.path().join("config").join("config.toml"),
        config: Config::default(),
    };
    let setup = runtime::setup(&ctx)?;
    let target = setup.settings.target();
    println!("partnerdesk console benchmark");
    println!("  binary    {BIN}");
    println!("  database  {target}");

    let pool = rt.block_on(setup.settings.connect(8))?;
    let t = Instant::now();
    let applied = rt.block_on(partnerdesk::store::migrate::run(&pool))?;
    if applied > 0 {
        println!(
            "  applied {applied} pending migration(s) in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    let (deals, partners): (i64, i64) = rt.block_on(
        sqlx::query_as(
            "SELECT (SELECT count(*) FROM deals), \
                    (SELECT count(*) FROM partners WHERE deleted_at IS NULL)",
        )
        .fetch_one(&pool),
    )?;
    println!(
        "  data      {} deals, {} partners",
        thousands(deals),
        thousands(partners)
    );
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
    let desk = rt.block_on(Desk::for_operator(pool.clone(), OPERATOR, false))?;
    if !desk.actor().registered {
        println!(
            "  WARNING: operator {OPERATOR} is not registered: the console opens read-only \
             (with a banner line)"
        );
    }

    let mut app = setup.app;
    let render = rt.block_on(render_bench(&mut app, &desk, opts.frames))?;
    let queries = rt.block_on(query_bench(&desk, &render.queries, 20))?;
    drop(rt);

    println!();
    println!(
        "running the console {} time(s) in a {COLS}×{ROWS} pseudo-terminal…",
        opts.runs
    );
    let mut runs = Vec::new();
    for i in 0..opts.runs {
        match pty_run(i, &opts, &render.first_name, &render.last_name) {
            Ok(r) => runs.push(r),
            Err(e) => println!("  run {}: {e}", i + 1),
        }
    }
    report(&opts, &render, &queries, &runs);
    Ok(())
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
    median: f64,
    p95: f64,
    p99: f64,
    max: f64,
}

fn stats(values: &[f64]) -> Stats {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    Stats {
        median: pct(&v, 50.0),
        p95: pct(&v, 95.0),
        p99: pct(&v, 99.0),
        max: v.last().copied().unwrap_or(f64::NAN),
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A frame meets the goal when its median wall time and its p99 CPU time do; a wall-clock p99
/// over the goal is flagged (on a shared machine that tail is other processes' time).
fn frame_verdict(wall: &Stats, cpu: &Stats) -> String {
    let cpu_p99 = if cpu.p99.is_nan() { 0.0 } else { cpu.p99 };
    let typical = verdict(wall.median.max(cpu_p99), GOAL_FRAME_MS);
    if wall.p99 >= GOAL_FRAME_MS {
        format!("{typical} (wall p99 over)")
    } else {
        typical.to_owned()
    }
}

fn verdict(value: f64, goal: f64) -> &'static str {
    if value.is_nan() {
        "n/a"
    } else if value < goal {
        "ok"
    } else {
        "MISSED"
    }
}

// 2. Rendering, in-process --------------------------------------------------------------------

/// The page requests the console made, to time the same queries again.
#[derive(Default)]
struct Queries {
    first_page: Option<(PartnerFilter, i64)>,
    last_page: Option<(PartnerFilter, i64)>,
    /// The page after the first one (what scrolling down asks for).
    next_page: Option<(PartnerFilter, i64)>,
    detail_id: Option<i64>,
}

/// Times of one view: wall clock and this thread's CPU time, per frame, in ms.
struct ViewTimes {
    name: &'static str,
    redraw: Vec<f64>,
    redraw_cpu: Vec<f64>,
    repaint: Vec<f64>,
    repaint_cpu: Vec<f64>,
}

/// The CPU time this thread has used, in ms (`CLOCK_THREAD_CPUTIME_ID`), which, unlike the wall
/// clock, does not count the time other processes had the core. NaN where unsupported.
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
fn thread_cpu_ms() -> f64 {
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }
    unsafe extern "C" {
        fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut ts = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes the timespec we own; on 64-bit Linux it is two i64s.
    if unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) } != 0 {
        return f64::NAN;
    }
    ts.tv_sec as f64 * 1e3 + ts.tv_nsec as f64 / 1e6
}

#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
fn thread_cpu_ms() -> f64 {
    f64::NAN
}

struct RenderResult {
    views: Vec<ViewTimes>,
    rows_loaded: usize,
    first_name: String,
    last_name: String,
    queries: Queries,
}

/// Runs the effects the console would run on its tasks (through the runtime's own `execute`),
/// feeding the answers back; anything but loading partners and their detail (the expiry job,
/// say) is left alone.
async fn drive(
    app: &mut App,
    desk: &Desk,
    fx: Vec<Effect>,
    q: &mut Queries,
) -> Res<Vec<PartnerListRow>> {
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let ctx = TaskCtx {
        tx,
        vetting: Default::default(),
        thresholds: Default::default(),
    };
    let mut queue: std::collections::VecDeque<Effect> = fx.into();
    let mut last_rows = Vec::new();
    while let Some(effect) = queue.pop_front() {
        match effect.pane::<partners::Effect>() {
            Some(partners::Effect::Load {
                filter,
                limit,
                mode,
                ..
            }) => match mode {
                LoadMode::Replace if q.first_page.is_none() => {
                    q.first_page = Some((filter.clone(), *limit))
                }
                LoadMode::Last if q.last_page.is_none() => {
                    q.last_page = Some((filter.clone(), *limit))
                }
                _ => {}
            },
            Some(partners::Effect::LoadDetail { id, .. }) => q.detail_id = Some(*id),
            _ => continue,
        }
        let Some(msg) = runtime::execute(desk.clone(), effect, ctx.clone()).await else {
            continue;
        };
        if let Some(e) = msg.failure() {
            return Err(format!("loading partners: {e}").into());
        }
        if let Some(partners::Msg::Page {
            result: Ok(rows), ..
        }) = msg.pane::<partners::Msg>()
        {
            last_rows = rows.clone();
        }
        queue.extend(app.update(msg));
    }
    Ok(last_rows)
}

fn screen_text(term: &Terminal<TestBackend>) -> String {
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

fn time_view(
    term: &mut Terminal<TestBackend>,
    app: &mut App,
    name: &'static str,
    frames: usize,
) -> Res<ViewTimes> {
    let warmup = (frames / 10).clamp(10, 200);
    for _ in 0..warmup {
        term.draw(|f| screen::draw(f, app))?;
    }
    let mut v = ViewTimes {
        name,
        redraw: Vec::with_capacity(frames),
        redraw_cpu: Vec::with_capacity(frames),
        repaint: Vec::with_capacity(frames),
        repaint_cpu: Vec::with_capacity(frames),
    };
    for _ in 0..frames {
        let c = thread_cpu_ms();
        let t = Instant::now();
        term.draw(|f| screen::draw(f, app))?;
        v.redraw.push(ms(t.elapsed()));
        v.redraw_cpu.push(thread_cpu_ms() - c);
    }
    for _ in 0..frames {
        term.clear()?;
        let c = thread_cpu_ms();
        let t = Instant::now();
        term.draw(|f| screen::draw(f, app))?;
        v.repaint.push(ms(t.elapsed()));
        v.repaint_cpu.push(thread_cpu_ms() - c);
    }
    Ok(v)
}

async fn render_bench(app: &mut App, desk: &Desk, frames: usize) -> Res<RenderResult> {
    let mut q = Queries::default();
    let fx = app.update(Msg::Connected(desk.clone()));
    let first = drive(app, desk, fx, &mut q).await?;
    let Some(first_row) = first.first() else {
        return Err("the first page of partners is empty: is the database seeded?".into());
    };
    let first_name = first_row.display_name.clone();
    let rows_loaded = first.len();
    if let Some(r) = first.last() {
        let mut f = q.first_page.clone().map(|(f, _)| f).unwrap_or_default();
        f.after = Some((r.sort_key.clone(), r.id));
        q.next_page = Some((f, q.first_page.as_ref().map_or(100, |p| p.1)));
    }

    // The last row of the list, as `G` shows it (for the pty runs to wait on).
    let mut probe = PartnerFilter::default();
    if let Some((f, _)) = &q.first_page {
        probe = f.clone();
    }
    probe.descending = !probe.descending;
    let last_name = desk
        .list_partners(&probe, 1)
        .await?
        .first()
        .map(|r| r.display_name.clone())
        .ok_or("no last partner")?;

    let mut term = Terminal::new(TestBackend::new(COLS, ROWS))?;
    let mut views = Vec::new();
    term.draw(|f| screen::draw(f, app))?;
    let shown = screen_text(&term);
    if !shown.contains(prefix(&first_name).as_str()) {
        return Err(format!("the list does not show {first_name:?}:\n{shown}").into());
    }
    views.push(time_view(
        &mut term,
        app,
        "list (first page loaded)",
        frames,
    )?);

    let fx = app.perform(Action::Open);
    drive(app, desk, fx, &mut q).await?;
    if q.detail_id.is_none() {
        return Err("Open did not load a partner detail".into());
    }
    views.push(time_view(&mut term, app, "partner detail", frames)?);

    let fx = app.perform(Action::Back);
    drive(app, desk, fx, &mut q).await?;
    let fx = app.perform(Action::Help);
    drive(app, desk, fx, &mut q).await?;
    views.push(time_view(
        &mut term,
        app,
        "help overlay (over the list)",
        frames,
    )?);
    let shown = screen_text(&term);
    if !shown.contains("Help") {
        return Err(format!("the help overlay is not shown:\n{shown}").into());
    }

    // G, so that the last-page query is the console's own.
    let _ = app.perform(Action::Help);
    let fx = app.perform(Action::Bottom);
    drive(app, desk, fx, &mut q).await?;

    Ok(RenderResult {
        views,
        rows_loaded,
        first_name,
        last_name,
        queries: q,
    })
}

/// The start of a name as the list shows it (the column may cut it).
fn prefix(name: &str) -> String {
    name.chars()
        .take(14)
        .collect::<String>()
        .trim_end()
        .to_owned()
}

struct QueryTimes {
    rows: Vec<(&'static str, Vec<f64>)>,
}

async fn query_bench(desk: &Desk, q: &Queries, n: usize) -> Res<QueryTimes> {
    let mut rows = Vec::new();
    let pages = [
        ("first page (list opens)", &q.first_page),
        ("next page (scrolling down)", &q.next_page),
        ("last page (G)", &q.last_page),
    ];
    for (name, page) in pages {
        let Some((filter, limit)) = page else {
            continue;
        };
        let mut times = Vec::new();
        for _ in 0..n {
            let t = Instant::now();
            desk.list_partners(filter, *limit).await?;
            times.push(ms(t.elapsed()));
        }
        rows.push((name, times));
    }
    if let Some(id) = q.detail_id {
        let mut times = Vec::new();
        for _ in 0..n {
            let t = Instant::now();
            partners::PartnerDetail::load(desk, id).await?;
            times.push(ms(t.elapsed()));
        }
        rows.push(("partner detail (4 queries)", times));
    }
    Ok(QueryTimes { rows })
}

// 1 and 3. The real console in a pseudo-terminal -------------------------------------------

/// A fresh directory under the temp dir, removed when dropped.
struct TempHome(PathBuf);

impl TempHome {
    fn new(tag: &str) -> Res<Self> {
        let p = std::env::temp_dir().join(format!(
            "pd-bench-{}-{tag}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&p)?;
        Ok(Self(p))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempHome {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

type ScreenTest = Box<dyn Fn(&vt100::Screen) -> bool + Send>;

/// A condition on the screen, checked by the reader thread after every chunk of output, so the
/// time it first held is exact to the chunk.
struct Watch {
    test: ScreenTest,
    hit: Option<Instant>,
}

struct Shared {
    parser: vt100::Parser,
    watches: Vec<Watch>,
    eof: bool,
}

fn lock(m: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn row_text(screen: &vt100::Screen, row: u16) -> String {
    screen.contents_between(row, 0, row, COLS)
}

struct RunResult {
    first_frame: Duration,
    first_row: Duration,
    hwm_kb: u64,
    rss_kb: u64,
}

/// The environment of the console: nothing but what it needs, and the database settings.
fn child_env(home: &Path) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = vec![
        (
            "PATH".into(),
            std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into()),
        ),
        ("HOME".into(), home.display().to_string()),
        ("LANG".into(), "C.UTF-8".into()),
        ("TERM".into(), "xterm-256color".into()),
        ("USER".into(), OPERATOR.into()),
        ("PARTNERDESK_HOME".into(), home.display().to_string()),
    ];
    for var in [
        "PGHOST",
        "PGHOSTADDR",
        "PGPORT",
        "PGUSER",
        "PGPASSWORD",
        "PGDATABASE",
        "PGSSLMODE",
    ] {
        if let Ok(v) = std::env::var(var) {
            env.push((var.into(), v));
        }
    }
    env
}

fn pty_run(i: usize, opts: &Options, first_name: &str, last_name: &str) -> Res<RunResult> {
    let home = TempHome::new(&format!("run{i}"))?;
    let first = prefix(first_name);
    let last = prefix(last_name);
    let shared = Arc::new(Mutex::new(Shared {
        parser: vt100::Parser::new(ROWS, COLS, 0),
        watches: vec![
            Watch {
                test: Box::new(|s: &vt100::Screen| {
                    let top = row_text(s, 0);
                    top.contains("partnerdesk") && top.contains("1 Partners")
                }),
                hit: None,
            },
            Watch {
                test: {
                    let first = first.clone();
                    Box::new(move |s: &vt100::Screen| {
                        (2..ROWS).any(|r| row_text(s, r).contains(first.as_str()))
                    })
                },
                hit: None,
            },
        ],
        eof: false,
    }));

    let pair = native_pty_system().openpty(PtySize {
        rows: ROWS,
        cols: COLS,
        pixel_width: 0,
        pixel_height: 0,
    })?;
    let mut cmd = CommandBuilder::new(BIN);
    if let Some(url) = &opts.database_url {
        cmd.args(["--database-url", url]);
    }
    cmd.env_clear();
    for (k, v) in child_env(home.path()) {
        cmd.env(k, v);
    }
    cmd.cwd(home.path());

    let mut reader = pair.master.try_clone_reader()?;
    let writer = Arc::new(Mutex::new(pair.master.take_writer()?));
    let start = Instant::now();
    let mut child = pair.slave.spawn_command(cmd)?;
    // Only the child holds the slave side: its exit is our end of file.
    drop(pair.slave);
    let pid = child.process_id().ok_or("no child pid")?;
    let reader_thread = {
        let shared = shared.clone();
        let writer = writer.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 16 * 1024];
            loop {
                let n = match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                let now = Instant::now();
                let bytes = &buf[..n];
                let reply = {
                    let mut s = lock(&shared);
                    s.parser.process(bytes);
                    let Shared {
                        parser, watches, ..
                    } = &mut *s;
                    for w in watches.iter_mut().filter(|w| w.hit.is_none()) {
                        if (w.test)(parser.screen()) {
                            w.hit = Some(now);
                        }
                    }
                    // Answer a cursor-position query as a terminal would.
                    bytes.windows(4).any(|w| w == b"\x1b[6n").then(|| {
                        let (r, c) = parser.screen().cursor_position();
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
        })
    };
    let send = |keys: &str| -> Res<()> {
        let mut w = writer.lock().unwrap_or_else(|e| e.into_inner());
        w.write_all(keys.as_bytes())?;
        w.flush()?;
        Ok(())
    };
    let dump = || {
        let s = lock(&shared);
        (0..ROWS)
            .map(|r| format!("{r:>2}│{}", row_text(s.parser.screen(), r).trim_end()))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let wait = |what: &str, check: &dyn Fn(&vt100::Screen) -> bool| -> Res<()> {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            {
                let s = lock(&shared);
                if check(s.parser.screen()) {
                    return Ok(());
                }
                if s.eof {
                    drop(s);
                    return Err(format!("the console ended waiting for {what}:\n{}", dump()).into());
                }
            }
            if Instant::now() > deadline {
                return Err(format!("timed out waiting for {what}:\n{}", dump()).into());
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    };
    let wait_hit = |i: usize, what: &str| -> Res<Instant> {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let (hit, eof) = {
                let s = lock(&shared);
                (s.watches[i].hit, s.eof)
            };
            if let Some(t) = hit {
                return Ok(t);
            }
            if eof || Instant::now() > deadline {
                let why = if eof {
                    "the console ended"
                } else {
                    "timed out"
                };
                return Err(format!("{why} waiting for {what}:\n{}", dump()).into());
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    };
    let shows = |s: &vt100::Screen, text: &str| (2..ROWS).any(|r| row_text(s, r).contains(text));

    let outcome = (|| -> Res<RunResult> {
        let first_frame = wait_hit(0, "the tab bar")? - start;
        let first_row = wait_hit(1, &format!("the first row ({first_name:?})"))? - start;

        send("G")?;
        wait(&format!("the last row ({last_name:?}) after G"), &|s| {
            shows(s, &last) && !shows(s, &first)
        })?;
        send("g")?;
        wait(&format!("the first row ({first_name:?}) after g"), &|s| {
            shows(s, &first) && !shows(s, &last)
        })?;
        for _ in 0..SCROLL_STEPS / 10 {
            send(&"j".repeat(10))?;
            std::thread::sleep(Duration::from_millis(5));
        }
        wait(&format!("the list to scroll past {first_name:?}"), &|s| {
            !shows(s, &first)
        })?;
        settle(&shared)?;
        let (hwm_kb, rss_kb) = memory(pid)?;
        Ok(RunResult {
            first_frame,
            first_row,
            hwm_kb,
            rss_kb,
        })
    })();

    // Quit, and make sure the child is gone whatever happened above.
    let _ = send("q");
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut exited = false;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            exited = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    if !exited {
        let _ = child.kill();
        let _ = child.wait();
    }
    drop(pair.master);
    let _ = reader_thread.join();
    outcome
}

/// Waits until the screen shows no load in progress and has not changed for 300 ms.
fn settle(shared: &Mutex<Shared>) -> Res<()> {
    let deadline = Instant::now() + TIMEOUT;
    let mut last = String::new();
    let mut since = Instant::now();
    loop {
        let now = lock(shared).parser.screen().contents();
        if now != last {
            last = now;
            since = Instant::now();
        } else if !last.contains("loading…") && since.elapsed() >= Duration::from_millis(300) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err("the screen did not settle after scrolling".into());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `VmHWM` and `VmRSS` of a process, in kB.
fn memory(pid: u32) -> Res<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| -> Res<u64> {
        let line = status
            .lines()
            .find(|l| l.starts_with(name))
            .ok_or_else(|| format!("no {name} in /proc/{pid}/status"))?;
        let kb = line[name.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()?;
        Ok(kb)
    };
    Ok((field("VmHWM:")?, field("VmRSS:")?))
}

// The report ---------------------------------------------------------------------------------

fn report(opts: &Options, render: &RenderResult, queries: &QueryTimes, runs: &[RunResult]) {
    println!();
    println!(
        "1. time to first frame: the release binary in a {COLS}×{ROWS} pty, {} of {} run(s) completed",
        runs.len(),
        opts.runs
    );
    println!(
        "   {:<40} {:>10} {:>10} {:>10} {:>10}",
        "from spawn until", "median", "p95", "max", "goal"
    );
    let ff: Vec<f64> = runs.iter().map(|r| ms(r.first_frame)).collect();
    let fr: Vec<f64> = runs.iter().map(|r| ms(r.first_row)).collect();
    for (name, v, goal) in [
        (
            "the tab bar shows (first frame)",
            &ff,
            Some(GOAL_FIRST_FRAME_MS),
        ),
        (
            "the first partner row shows",
            &fr,
            Some(GOAL_FIRST_FRAME_MS),
        ),
    ] {
        let s = stats(v);
        let (goal_text, ok) = match goal {
            Some(g) => (format!("< {g:.0} ms"), verdict(s.p95, g)),
            None => ("".to_owned(), ""),
        };
        println!(
            "   {:<40} {:>7.1} ms {:>7.1} ms {:>7.1} ms {:>10}  {}",
            name, s.median, s.p95, s.max, goal_text, ok
        );
    }

    println!();
    println!(
        "2. render of a full {COLS}×{ROWS} frame, in-process (TestBackend), {} frames each; \
         {} partner rows loaded",
        opts.frames, render.rows_loaded
    );
    println!(
        "   {:<30} {:<11} {:>10} {:>10} {:>10} {:>10}  {:>8}",
        "", "", "wall med", "wall p99", "CPU med", "CPU p99", "goal"
    );
    for v in &render.views {
        for (i, (what, wall, cpu)) in [
            ("redraw", &v.redraw, &v.redraw_cpu),
            ("full paint", &v.repaint, &v.repaint_cpu),
        ]
        .into_iter()
        .enumerate()
        {
            let (w, c) = (stats(wall), stats(cpu));
            println!(
                "   {:<30} {:<11} {:>7.3} ms {:>7.3} ms {:>7.3} ms {:>7.3} ms  {:>8}  {}",
                if i == 0 { v.name } else { "" },
                what,
                w.median,
                w.p99,
                c.median,
                c.p99,
                format!("< {GOAL_FRAME_MS} ms"),
                frame_verdict(&w, &c)
            );
        }
    }
    println!(
        "   (redraw: as the console redraws, ratatui writing only the cells that changed; full \
         paint: after a clear, every cell)"
    );

    println!();
    println!(
        "3. memory of the console process after the list loaded, G, g and {SCROLL_STEPS} × j \
         ({} run(s))",
        runs.len()
    );
    println!(
        "   {:<40} {:>10} {:>10} {:>10} {:>10}",
        "", "median", "p95", "max", "goal"
    );
    let hwm: Vec<f64> = runs.iter().map(|r| kb_to_mb(r.hwm_kb)).collect();
    let rss: Vec<f64> = runs.iter().map(|r| kb_to_mb(r.rss_kb)).collect();
    for (name, v) in [
        ("VmHWM (peak resident)", &hwm),
        ("VmRSS (resident now)", &rss),
    ] {
        let s = stats(v);
        println!(
            "   {:<40} {:>7.1} MB {:>7.1} MB {:>7.1} MB {:>10}  {}",
            name,
            s.median,
            s.p95,
            s.max,
            format!("< {GOAL_MEMORY_MB:.0} MB"),
            verdict(s.max, GOAL_MEMORY_MB)
        );
    }

    println!();
    println!(
        "for reference: the database work behind those screens, through the services \
         ({} times each)",
        queries.rows.first().map_or(0, |r| r.1.len())
    );
    println!("   {:<40} {:>10} {:>10} {:>10}", "", "median", "p95", "max");
    for (name, v) in &queries.rows {
        let s = stats(v);
        println!(
            "   {:<40} {:>7.2} ms {:>7.2} ms {:>7.2} ms",
            name, s.median, s.p95, s.max
        );
    }
    println!();
    println!(
        "goals are checked on the p95 (first frame), the wall median and CPU p99 (frames; a \
         wall p99 over the goal is flagged) and the max (memory)"
    );
    println!(
        "load average {} (cores: {}): timings on a busy machine have long tails",
        std::fs::read_to_string("/proc/loadavg")
            .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|_| "unknown".into()),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
}

/// kB (KiB, as /proc says) to MB (10^6 bytes, as the goal says).
fn kb_to_mb(kb: u64) -> f64 {
    kb as f64 * 1024.0 / 1_000_000.0
}
