//! Webhooks and the relay (SPEC §1.8, issue 15): the real binary against a fresh database
//! and real local HTTP receivers.

#[path = "../support/cli.rs"]
#[allow(dead_code)]
mod cli;
#[path = "../db/common.rs"]
#[allow(dead_code)]
mod common;
mod receiver;

mod commands;
mod delivery;
mod relays;

use crate::cli::{Out, TempDir, command, output};
use crate::common::TestDb;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{KeyInit, Mac};
use serde_json::Value;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// The operator the tests act as (an admin).
pub const ADMIN: &str = "ada";

/// A fresh database with an admin operator.
pub async fn db() -> TestDb {
    let db = TestDb::new().await;
    db.admin().await;
    db
}

/// A fresh home whose config file allows loopback endpoints: the receivers here are local.
pub fn home() -> TempDir {
    let home = TempDir::new("pd-webhooks-home");
    std::fs::create_dir_all(home.path("config")).expect("config dir");
    std::fs::write(
        home.path("config").join("config.toml"),
        "[webhooks]\nallow_private_addresses = true\n",
    )
    .expect("config file");
    home
}

/// `partnerdesk ARGS…` as `user` with a fresh [`home`] (loopback endpoints allowed).
pub fn pd(db: Option<&TestDb>, user: &str, args: &[&str]) -> Out {
    let home = home();
    output(&mut command(db, user, args, &home), args)
}

/// `webhooks add --url URL [--event T]… --json`: the endpoint's id and its secret.
pub fn add_endpoint(db: &TestDb, url: &str, events: &[&str]) -> (i64, String) {
    let mut args = vec!["webhooks", "add", "--url", url, "--json"];
    for e in events {
        args.extend(["--event", e]);
    }
    let out = pd(Some(db), ADMIN, &args);
    out.success();
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    (
        v["id"].as_i64().expect("id"),
        v["secret"].as_str().expect("secret").to_owned(),
    )
}

/// Writes `n` events straight into the outbox, as services do in their transactions.
pub async fn events(db: &TestDb, n: i64, event_type: &str) -> Vec<i64> {
    sqlx::query_scalar(
        "INSERT INTO outbox_events (event_type, entity_type, entity_id, payload)
         SELECT $2, 'test', g::text, jsonb_build_object('n', g) FROM generate_series(1, $1) g
         RETURNING id",
    )
    .bind(n)
    .bind(event_type)
    .fetch_all(&db.pool)
    .await
    .expect("insert events")
}

/// A relay process (`partnerdesk relay ARGS…`), its output discarded.
pub struct Relay {
    pub child: Child,
    _home: TempDir,
}

impl Relay {
    pub fn start(db: &TestDb, args: &[&str], scale: &str) -> Self {
        let home = home();
        let mut all = vec!["relay"];
        all.extend_from_slice(args);
        let child = command(Some(db), ADMIN, &all, &home)
            .env("PARTNERDESK_RETRY_SCALE", scale)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the relay");
        Self { child, _home: home }
    }

    /// SIGTERM, then the exit code (a clean shutdown is 0).
    pub fn stop(mut self) -> i32 {
        let pid = self.child.id().to_string();
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(s)) = self.child.try_wait() {
                return s.code().unwrap_or(-1);
            }
            assert!(Instant::now() < deadline, "the relay stops on SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until `sql` (a count) reaches `want`, or fails after `secs`.
pub async fn wait_count(db: &TestDb, sql: &str, want: i64, secs: u64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let n = db.count(sql).await;
        if n >= want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "waited {secs} s for {want} from {sql}, got {n}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Verifies a `webhook-signature` header as a receiver would, with the `hmac`, `sha2` and
/// `base64` crates directly (not the product's code): true when one of its signatures is the
/// HMAC-SHA256 of `id.timestamp.body` under the secret's key.
pub fn verify(secret: &str, id: &str, timestamp: &str, body: &[u8], header: &str) -> bool {
    let key = B64
        .decode(secret.strip_prefix("whsec_").expect("whsec_ prefix"))
        .expect("base64 key");
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).expect("key");
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    let want = B64.encode(mac.finalize().into_bytes());
    header
        .split(' ')
        .filter_map(|s| s.strip_prefix("v1,"))
        .any(|s| s == want)
}

#[test]
fn the_receiver_verifier_checks_the_specification_example() {
    assert!(verify(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "1614265330",
        br#"{"test": 2432232314}"#,
        "v1,bm9ldHZhbGlk v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    ));
    assert!(!verify(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "1614265331",
        br#"{"test": 2432232314}"#,
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    ));
}
