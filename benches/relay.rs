//! Relay benchmark (issue 15): events per second delivered to a local endpoint by 1, 2 and 4
//! relays, and the lag from commit to delivery under a steady stream of redemptions. Not a
//! test: it prints figures.
//!
//! ```text
//! cargo bench --bench relay
//! cargo bench --bench relay -- --events 20000 --stream 2000 --rate 200 --redeem-rate 300
//! ```
//!
//! A fresh database `partnerdesk_bench_relay` (dropped at the end), one endpoint on a minimal
//! HTTP/1.1 receiver in this process (answers 204 at once), and relays run as real
//! `partnerdesk relay` processes (16 requests in flight each). For each relay count: a
//! backlog of `--events` events is written in one transaction, the relays start, and the time
//! until every delivery is recorded gives events per second. Then, with those relays still
//! running, redemptions are recorded through `Desk::record_redemption` at about
//! `--redeem-rate` a second (four workers, on a deal of their own: redemptions write audit
//! rows and no event), while `--stream` real state changes are made through the services at
//! about `--rate` a second (a second deal paused and activated in turn: `deal.paused`,
//! `deal.activated`); each event's lag is its arrival at the receiver minus the moment its
//! change returned, committed.

use partnerdesk::cli::simulate;
use partnerdesk::domain::DealState;
use partnerdesk::service::Desk;
use partnerdesk::store::{DbSettings, migrate};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection, PgPool};
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[path = "support/mod.rs"]
mod support;
use support::{Res, drop_database};

const DATABASE: &str = "partnerdesk_bench_relay";
const BIN: &str = env!("CARGO_BIN_EXE_partnerdesk");
const USAGE: &str =
    "usage: cargo bench --bench relay -- [--events N] [--stream N] [--rate N] [--redeem-rate N]";

/// Arrival time (Unix seconds) of each webhook-id.
type Arrivals = Arc<Mutex<HashMap<String, f64>>>;

fn main() {
    support::main("relay", || {
        let mut events: i64 = 10_000;
        let mut stream: i64 = 1_000;
        let mut rate: f64 = 100.0;
        let mut redeem_rate: f64 = 200.0;
        let mut args = std::env::args().skip(1);
        while let Some(a) = args.next() {
            let mut value = || args.next().ok_or(USAGE);
            match a.as_str() {
                "--bench" => {}
                "--events" => events = value()?.parse()?,
                "--stream" => stream = value()?.parse()?,
                "--rate" => rate = value()?.parse()?,
                "--redeem-rate" => redeem_rate = value()?.parse()?,
                _ => return Err(USAGE.into()),
            }
        }
        let settings = support::settings(None)?;
        support::runtime()?.block_on(bench(settings, events, stream, rate, redeem_rate))
    })
}

async fn bench(
    settings: DbSettings,
    events: i64,
    stream: i64,
    rate: f64,
    redeem_rate: f64,
) -> Res<()> {
    let admin = settings.options.clone().database("postgres");
    let mut c = PgConnection::connect_with(&admin).await?;
    drop_database(&mut c, DATABASE).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {DATABASE}")))
        .execute(&mut c)
        .await?;
    let options = settings.options.clone().database(DATABASE);
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .connect_with(options.clone())
        .await?;
    migrate::run(&pool).await?;
    let login = std::env::var("USER").unwrap_or_else(|_| "bench".into());
    sqlx::query(
        "INSERT INTO operators (login, display_name, roles, updated_by) VALUES ($1, $1, '{admin}', 'bench')",
    )
    .bind(&login)
    .execute(&pool)
    .await?;

    let desk = Desk::for_operator(pool.clone(), &login, false).await?;
    // The redemptions' deal and its members; the deal whose state changes make the events.
    let redeemed = simulate::create_deal(&desk, None).await?.1;
    let members = Arc::new(simulate::create_members(&pool, &redeemed, 60_000).await?);
    let toggled = simulate::create_deal(&desk, None).await?.1;
    let next_member = Arc::new(AtomicU64::new(0));

    let arrivals: Arrivals = Arc::default();
    let url = receiver(arrivals.clone()).await?;
    sqlx::query(
        "INSERT INTO webhook_endpoints (url, secret, after_event_id, created_by, updated_by)
         VALUES ($1, 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 0, 'bench', 'bench')",
    )
    .bind(&url)
    .execute(&pool)
    .await?;

    let host = match options.get_socket() {
        Some(s) => s.display().to_string(),
        None => options.get_host().to_owned(),
    };
    let env = [
        ("PGHOST", host),
        ("PGPORT", options.get_port().to_string()),
        ("PGUSER", options.get_username().to_owned()),
        ("PGDATABASE", DATABASE.to_owned()),
        ("USER", login),
    ];
    println!(
        "relay benchmark: {events} events as a backlog, then {stream} state changes at ~{rate}/s \
         under ~{redeem_rate} redemptions/s, one endpoint on 127.0.0.1"
    );
    println!("relays  backlog events/s  redemptions/s  lag p50  lag p95  lag max");
    for relays in [1usize, 2, 4] {
        sqlx::query("TRUNCATE webhook_attempts, webhook_deliveries")
            .execute(&pool)
            .await?;
        sqlx::query("DELETE FROM outbox_events")
            .execute(&pool)
            .await?;
        arrivals.lock().unwrap().clear();
        write_events(&pool, events).await?;
        let started = Instant::now();
        let mut children: Vec<Child> = (0..relays)
            .map(|_| {
                let home =
                    std::env::temp_dir().join(format!("pd-bench-relay-{}", std::process::id()));
                // The endpoint is on 127.0.0.1: the config file allows loopback endpoints.
                let _ = std::fs::create_dir_all(home.join("config"));
                let _ = std::fs::write(
                    home.join("config").join("config.toml"),
                    "[webhooks]\nallow_private_addresses = true\n",
                );
                Command::new(BIN)
                    .args(["relay", "--concurrency", "16"])
                    .env_remove("DATABASE_URL")
                    .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
                    .env("PARTNERDESK_HOME", home)
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("start a relay")
            })
            .collect();
        wait_delivered(&pool).await?;
        let per_s = events as f64 / started.elapsed().as_secs_f64();

        // The redemption stream, paced, on four workers.
        let stop = Arc::new(AtomicBool::new(false));
        let recorded = Arc::new(AtomicU64::new(0));
        let workers: Vec<_> = (0..4)
            .map(|_| {
                let (desk, members, next, stop, recorded) = (
                    desk.clone(),
                    members.clone(),
                    next_member.clone(),
                    stop.clone(),
                    recorded.clone(),
                );
                let deal = redeemed.id;
                tokio::spawn(async move {
                    let mut tick =
                        tokio::time::interval(Duration::from_secs_f64(4.0 / redeem_rate));
                    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    while !stop.load(Ordering::Relaxed) {
                        tick.tick().await;
                        let i = next.fetch_add(1, Ordering::Relaxed) as usize % members.len();
                        if desk.record_redemption(deal, members[i], None).await.is_ok() {
                            recorded.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let (redeemed_before, stream_started) = (recorded.load(Ordering::Relaxed), Instant::now());

        let mut commits: HashMap<String, f64> = HashMap::new();
        let gap = Duration::from_secs_f64(1.0 / rate);
        let mut tick = tokio::time::interval(gap);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        for i in 0..stream {
            tick.tick().await;
            let to = if i % 2 == 0 {
                DealState::Paused
            } else {
                DealState::Active
            };
            desk.change_deal_state(toggled.id, None, to, None).await?;
            let committed = now();
            let id: i64 = sqlx::query_scalar(
                "SELECT max(id) FROM outbox_events WHERE entity_type = 'deal' AND entity_id = $1",
            )
            .bind(toggled.id.to_string())
            .fetch_one(&pool)
            .await?;
            commits.insert(format!("evt_{id}"), committed);
        }
        let redeem_per_s = (recorded.load(Ordering::Relaxed) - redeemed_before) as f64
            / stream_started.elapsed().as_secs_f64();
        stop.store(true, Ordering::Relaxed);
        for w in workers {
            w.await?;
        }
        wait_delivered(&pool).await?;
        for c in &mut children {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
        }
        for c in &mut children {
            let _ = c.wait();
        }
        let got = arrivals.lock().unwrap().clone();
        let mut lags: Vec<f64> = commits
            .iter()
            .filter_map(|(id, t)| got.get(id).map(|a| (a - t) * 1000.0))
            .collect();
        lags.sort_by(f64::total_cmp);
        let p = |q: f64| lags[((lags.len() as f64 * q) as usize).min(lags.len() - 1)];
        if lags.len() < commits.len() {
            return Err(format!("{} of {} events arrived", lags.len(), commits.len()).into());
        }
        println!(
            "{relays:>6}  {per_s:>16.0}  {redeem_per_s:>13.0}  {:>5.1} ms  {:>5.1} ms  {:>5.1} ms",
            p(0.5),
            p(0.95),
            p(1.0)
        );
    }
    pool.close().await;
    drop_database(&mut c, DATABASE).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DO $$ DECLARE r text; BEGIN
           FOREACH r IN ARRAY ARRAY['admin', 'curator', 'support', 'finance', 'readonly'] LOOP
             EXECUTE format('DROP ROLE IF EXISTS %I', '{DATABASE}' || '_' || r);
           END LOOP;
         END $$"
    )))
    .execute(&mut c)
    .await?;
    Ok(())
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

async fn write_events(pool: &PgPool, n: i64) -> Res<()> {
    sqlx::query(
        "INSERT INTO outbox_events (event_type, entity_type, entity_id, payload)
         SELECT 'bench.ping', 'bench', g::text, jsonb_build_object('n', g)
           FROM generate_series(1, $1) g",
    )
    .bind(n)
    .execute(pool)
    .await?;
    Ok(())
}

/// Waits until every event written so far is delivered.
async fn wait_delivered(pool: &PgPool) -> Res<()> {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let (done, n): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'),
                    (SELECT count(*) FROM outbox_events)",
        )
        .fetch_one(pool)
        .await?;
        if done >= n {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("only {done} of {n} delivered after 10 minutes").into());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A minimal keep-alive HTTP/1.1 receiver answering 204; records each webhook-id's arrival.
async fn receiver(arrivals: Arrivals) -> Res<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let arrivals = arrivals.clone();
            tokio::spawn(async move {
                let mut buf: Vec<u8> = Vec::new();
                loop {
                    let end = loop {
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break i + 4;
                        }
                        let mut chunk = [0u8; 16384];
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                    let header = |name: &str| {
                        head.lines()
                            .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned()))
                    };
                    let len: usize = header("content-length:")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
                    let id = header("webhook-id:").unwrap_or_default();
                    while buf.len() < end + len {
                        let mut chunk = [0u8; 16384];
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    buf.drain(..end + len);
                    arrivals.lock().unwrap().entry(id).or_insert_with(now);
                    let answer = b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n";
                    if sock.write_all(answer).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Ok(url)
}
