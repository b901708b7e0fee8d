//! What scripts and cron rely on: `partners …` and the authoring half of `deals …` over the
//! same services as the console, their `--json`, refusals one line per problem, the exit-code
//! scheme, a closed standard output or error (`| head`), `--config`, and subcommand help.
//! The real binary against real PostgreSQL.
//!
//! Every run of the binary gets a fresh `PARTNERDESK_HOME`, a known `USER`, no
//! `DATABASE_URL`, and only the PG* settings of the test's own database.

#[path = "../support/cli.rs"]
#[allow(dead_code)]
mod cli;
#[path = "../db/common.rs"]
#[allow(dead_code)]
mod common;

mod config;
mod deals;
mod partners;
mod streams;

use cli::Out;
use common::TestDb;
use serde_json::Value;

/// The exit codes of the documented scheme.
pub const REFUSED: i32 = 3;
pub const NOT_FOUND: i32 = 4;
pub const USAGE: i32 = 2;

/// Runs `partnerdesk ARGS…` as `user` against `db`.
pub fn run(db: &TestDb, user: &str, args: &[&str]) -> Out {
    cli::pd(Some(db), user, args)
}

/// A successful run's standard output as one JSON document.
pub fn json(out: &Out) -> Value {
    out.success();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("one JSON document ({e}):{out}"))
}

/// A refusal: exit code `code`, nothing on standard output, and one or more lines on standard
/// error, each starting with `partnerdesk: `; those lines without the prefix.
pub fn error_lines(out: &Out, code: i32) -> Vec<String> {
    assert_eq!(out.code, code, "expected exit code {code}:{out}");
    // No debug dump; "kind: " is one only where it is not the field of that name.
    for noise in cli::DEBUG_NOISE {
        let shown = out
            .stderr
            .lines()
            .any(|l| l.contains(noise) && !l.starts_with("partnerdesk: kind: "));
        assert!(!shown, "output contains {noise:?}:{out}");
    }
    assert!(out.stdout.is_empty(), "nothing on standard output:{out}");
    let lines: Vec<String> = out
        .stderr
        .lines()
        .map(|l| {
            l.strip_prefix("partnerdesk: ")
                .unwrap_or_else(|| panic!("every line starts with 'partnerdesk: ':{out}"))
                .to_owned()
        })
        .collect();
    assert!(
        !lines.is_empty(),
        "at least one line on standard error:{out}"
    );
    lines
}

/// The id in a JSON record.
pub fn id_of(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("an id in {v}"))
}

/// The keys of a JSON object, sorted.
pub fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .unwrap_or_else(|| panic!("an object: {v}"))
        .keys()
        .cloned()
        .collect();
    k.sort();
    k
}

/// The audit rows of one entity, oldest first: `(action, actor)`.
pub async fn audit_of(db: &TestDb, entity: &str, id: i64) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT action, actor FROM audit_log WHERE entity_type = $1 AND entity_id = $2 ORDER BY id",
    )
    .bind(entity)
    .bind(id.to_string())
    .fetch_all(&db.pool)
    .await
    .unwrap()
}

/// The outbox events of one entity, oldest first.
pub async fn events_of(db: &TestDb, entity: &str, id: i64) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT event_type FROM outbox_events WHERE entity_type = $1 AND entity_id = $2 ORDER BY id",
    )
    .bind(entity)
    .bind(id.to_string())
    .fetch_all(&db.pool)
    .await
    .unwrap()
}

/// Everything a refused command must leave as it was.
pub async fn written(db: &TestDb) -> [i64; 4] {
    [
        db.count("SELECT count(*) FROM partners").await,
        db.count("SELECT count(*) FROM deals").await,
        db.count("SELECT count(*) FROM audit_log").await,
        db.count("SELECT count(*) FROM outbox_events").await,
    ]
}
