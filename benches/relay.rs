//! Relay benchmark (issue 15): events per second delivered to a local endpoint by 1, 2 and 4
//! relays, and the lag from commit to delivery under a steady stream of events. Not a test:
//! it prints figures.
//!
//! ```text
//! cargo bench --bench relay
//! cargo bench --bench relay -- --events 20000 --stream 2000 --rate 200
//! ```
//!
//! A fresh database `partnerdesk_bench_relay` (dropped at the end), one endpoint on a minimal
//! HTTP/1.1 receiver in this process (answers 204 at once), and relays run as real
//! `partnerdesk relay` processes (16 requests in flight each). For each relay count: a
//! backlog of `--events` events is written in one transaction, the relays start, and the time
//! until every delivery is recorded gives events per second; then, with those relays still
//! running, `--stream` events are written one per transaction at about `--rate` a second, and
//! each one's lag is its arrival at the receiver minus its commit.

use partnerdesk::config::Config;
use partnerdesk::store::{ConnectRequest, DbSettings, migrate};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection, PgPool};
use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

const DATABASE: &str = "partnerdesk_bench_relay";
const BIN: &str = env!("CARGO_BIN_EXE_partnerdesk");
const USAGE: &str = "usage: cargo bench --bench relay -- [--events N] [--stream N] [--rate N]";

/// Arrival time (Unix seconds) of each webhook-id.
type Arrivals = Arc<Mutex<HashMap<String, f64>>>;

fn main() {
    let mut events: i64 = 10_000;
    let mut stream: i64 = 1_000;
    let mut rate: f64 = 100.0;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--events" => events = value.parse().expect(USAGE),
            "--stream" => stream = value.parse().expect(USAGE),
            "--rate" => rate = value.parse().expect(USAGE),
            "--bench" => {
                i += 1;
                continue;
            }
            _ => panic!("{USAGE}"),
        }
        i += 2;
    }
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    if let Err(e) = rt.block_on(bench(events, stream, rate)) {
        panic!("relay benchmark failed: {e}");
    }
}

async fn bench(events: i64, stream: i64, rate: f64) -> Res<()> {
    let settings = DbSettings::resolve(
        &ConnectRequest::default(),
        &Config::default(),
        Path::new("(bench)"),
    )?;
    let admin = settings.options.clone().database("postgres");
    let mut c = PgConnection::connect_with(&admin).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"
    )))
    .execute(&mut c)
    .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {DATABASE}")))
        .execute(&mut c)
        .await?;
    let options = settings.options.clone().database(DATABASE);
    let pool = PgPoolOptions::new()
        .max_connections(4)
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
        "relay benchmark: {events} events as a backlog, then {stream} at ~{rate}/s, one endpoint on 127.0.0.1"
    );
    println!("relays  backlog events/s  lag p50  lag p95  lag max");
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
        wait_delivered(&pool, events).await?;
        let per_s = events as f64 / started.elapsed().as_secs_f64();

        let mut commits: HashMap<String, f64> = HashMap::new();
        let gap = Duration::from_secs_f64(1.0 / rate);
        for _ in 0..stream {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO outbox_events (event_type, entity_type, entity_id, payload)
                 VALUES ('bench.ping', 'bench', '1', '{}') RETURNING id",
            )
            .fetch_one(&pool)
            .await?;
            commits.insert(format!("evt_{id}"), now());
            tokio::time::sleep(gap).await;
        }
        wait_delivered(&pool, events + stream).await?;
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
        println!(
            "{relays:>6}  {per_s:>16.0}  {:>5.1} ms  {:>5.1} ms  {:>5.1} ms",
            p(0.5),
            p(0.95),
            p(1.0)
        );
    }
    pool.close().await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE {DATABASE} WITH (FORCE)"
    )))
    .execute(&mut c)
    .await?;
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

async fn wait_delivered(pool: &PgPool, n: i64) -> Res<()> {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let done: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'",
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
