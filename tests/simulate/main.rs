//! `partnerdesk simulate` (issue 5): the real binary against a fresh PostgreSQL database per
//! test, as a user runs it. Each cap mode under concurrency: what it prints, and that the
//! database agrees.
//!
//! Every run gets a fresh `PARTNERDESK_HOME`, a known `USER`, no `DATABASE_URL` and only the
//! PG* variables of its test database. Runs of the binary are serialised (a run opens up to
//! 50 connections; the server is shared with every other test).

#[path = "../support/cli.rs"]
#[allow(dead_code)]
mod cli;
#[path = "../db/common.rs"]
#[allow(dead_code)]
mod common;

use cli::{Out, TempDir, command, output};
use common::TestDb;
use partnerdesk::domain::{DealState, Role};
use std::collections::HashMap;
use std::sync::Mutex;

/// One binary run at a time.
static RUNS: Mutex<()> = Mutex::new(());

/// The operator the tests register (admin) and run the binary as.
const OPERATOR: &str = "ada";

/// `partnerdesk ARGS…` as `user` against `db`, one run at a time.
fn pd(db: &TestDb, user: &str, args: &[&str]) -> Out {
    let home = TempDir::new("pd-sim");
    let mut cmd = command(Some(db), user, args, &home);
    let out = {
        let _one = RUNS.lock().unwrap_or_else(|e| e.into_inner());
        output(&mut cmd, args)
    };
    out.assert_clean();
    out
}

/// What a successful run printed.
struct Sim {
    deal: i64,
    /// The run id, from the `run: RUN (…)` line.
    run: String,
    counts: HashMap<String, u64>,
    /// (rows, +this run, redemption_count) from the last line.
    database: (i64, i64, i64),
    out: Out,
}

impl Sim {
    fn count(&self, outcome: &str) -> u64 {
        *self
            .counts
            .get(outcome)
            .unwrap_or_else(|| panic!("no {outcome} count printed:{}", self.out))
    }
}

const OUTCOMES: &[&str] = &[
    "redeemed",
    "cap_reached",
    "already_redeemed",
    "not_found",
    "not_active",
    "outside_window",
    "error",
];

/// Runs `simulate ARGS…` as the registered operator; expects success and parses the report.
fn simulate(db: &TestDb, args: &[&str]) -> Sim {
    let mut all = vec!["simulate"];
    all.extend_from_slice(args);
    let out = pd(db, OPERATOR, &all);
    assert_eq!(out.code, 0, "expected success:{out}");
    assert_eq!(out.stderr, "", "nothing on standard error:{out}");
    let text = out.stdout_text();
    let lines: Vec<&str> = text.lines().collect();
    // The deal's id comes first.
    let deal = lines
        .first()
        .and_then(|l| l.strip_prefix("deal: "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("the first line names the deal:{out}"));
    let run = lines
        .iter()
        .find_map(|l| l.strip_prefix("run: "))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("a run line:{out}"))
        .to_owned();
    assert!(
        lines[1].starts_with("run: ")
            && lines[1].ends_with(&format!(
                "(partnerdesk simulate --cleanup {run} removes what it creates)"
            )),
        "the run is named second:{out}"
    );
    let mut counts = HashMap::new();
    for line in &lines {
        let mut words = line.split_whitespace();
        if let (Some(name), Some(n), None) = (words.next(), words.next(), words.next())
            && OUTCOMES.contains(&name)
        {
            counts.insert(name.to_owned(), n.parse().expect("a count"));
        }
    }
    assert_eq!(counts.len(), OUTCOMES.len(), "every outcome counted:{out}");
    for key in [
        "throughput: ",
        "latency p50: ",
        "latency p95: ",
        "latency p99: ",
    ] {
        assert!(
            lines.iter().any(|l| l.starts_with(key)),
            "prints {key:?}:{out}"
        );
    }
    // Last: what the database holds for the deal.
    let last = lines.last().copied().unwrap_or_default();
    let numbers: Vec<i64> = last
        .split(|c: char| !c.is_ascii_digit())
        .filter(|w| !w.is_empty())
        .map(|w| w.parse().expect("a number"))
        .collect();
    assert!(
        last.starts_with(&format!("database: deal {deal} has ")) && numbers.len() == 4,
        "the last line is the database tally:{out}"
    );
    let database = (numbers[1], numbers[2], numbers[3]);
    Sim {
        deal,
        run,
        counts,
        database,
        out,
    }
}

/// The deal's redemption rows and its redemption_count, read here.
async fn in_database(db: &TestDb, deal: i64) -> (i64, i32) {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM redemptions WHERE deal_id = $1),
                (SELECT redemption_count FROM deals WHERE id = $1)",
    )
    .bind(deal)
    .fetch_one(&db.pool)
    .await
    .expect("tally")
}

async fn fresh_db() -> TestDb {
    let db = TestDb::with_connections(2).await;
    db.desk(OPERATOR, &[Role::Admin]).await;
    db
}

#[tokio::test]
async fn cap_50_under_200_concurrent_attempts_admits_exactly_50() {
    let db = fresh_db().await;
    let sim = simulate(
        &db,
        &["--cap", "50", "--attempts", "200", "--concurrency", "50"],
    );
    assert_eq!(sim.count("redeemed"), 50, "{}", sim.out);
    assert_eq!(sim.count("cap_reached"), 150, "{}", sim.out);
    for other in [
        "already_redeemed",
        "not_found",
        "not_active",
        "outside_window",
        "error",
    ] {
        assert_eq!(sim.count(other), 0, "{other}:{}", sim.out);
    }
    assert_eq!(sim.database, (50, 50, 50), "printed tally:{}", sim.out);
    assert_eq!(in_database(&db, sim.deal).await, (50, 50));
    // A fresh deal of a fresh verified partner, created as the operator, audited.
    let (cap, state, verification, created_by): (Option<i32>, String, String, String) =
        sqlx::query_as(
            "SELECT d.redemption_cap, d.state, p.verification, d.created_by
               FROM deals d JOIN partners p ON p.id = d.partner_id WHERE d.id = $1",
        )
        .bind(sim.deal)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(
        (cap, state.as_str(), verification.as_str()),
        (Some(50), "active", "verified")
    );
    assert_eq!(created_by, OPERATOR);
    let deal_audit = db
        .count(&format!(
            "SELECT count(*) FROM audit_log WHERE entity_type = 'deal' AND entity_id = '{}' AND actor = '{OPERATOR}'",
            sim.deal
        ))
        .await;
    assert!(deal_audit >= 1, "the deal's creation is audited");
    // One audit row per redemption, and 200 distinct members made the attempts.
    let audited = db
        .count(&format!(
            "SELECT count(*) FROM audit_log a JOIN redemptions r
                 ON a.entity_type = 'redemption' AND a.entity_id = r.id::text
              WHERE a.action = 'redemption.record' AND r.deal_id = {}",
            sim.deal
        ))
        .await;
    assert_eq!(audited, 50);
    assert_eq!(db.count("SELECT count(*) FROM members").await, 200);
    assert_eq!(
        db.count(&format!(
            "SELECT count(DISTINCT member_id) FROM redemptions WHERE deal_id = {}",
            sim.deal
        ))
        .await,
        50
    );
}

#[tokio::test]
async fn cap_1_with_one_member_racing_itself_admits_exactly_one() {
    let db = fresh_db().await;
    let sim = simulate(
        &db,
        &[
            "--cap",
            "1",
            "--members",
            "1",
            "--attempts",
            "50",
            "--concurrency",
            "20",
        ],
    );
    assert_eq!(sim.count("redeemed"), 1, "{}", sim.out);
    assert_eq!(sim.count("already_redeemed"), 49, "{}", sim.out);
    assert_eq!(sim.count("cap_reached"), 0, "{}", sim.out);
    assert_eq!(sim.count("error"), 0, "{}", sim.out);
    assert_eq!(sim.database, (1, 1, 1), "{}", sim.out);
    assert_eq!(in_database(&db, sim.deal).await, (1, 1));
    assert_eq!(db.count("SELECT count(*) FROM members").await, 1);
}

#[tokio::test]
async fn cap_1_is_one_per_member_not_one_in_total() {
    let db = fresh_db().await;
    let sim = simulate(
        &db,
        &[
            "--cap",
            "1",
            "--members",
            "10",
            "--attempts",
            "60",
            "--concurrency",
            "20",
        ],
    );
    assert_eq!(sim.count("redeemed"), 10, "{}", sim.out);
    assert_eq!(sim.count("already_redeemed"), 50, "{}", sim.out);
    assert_eq!(in_database(&db, sim.deal).await, (10, 10));
}

#[tokio::test]
async fn no_cap_records_every_attempt_repeats_included() {
    let db = fresh_db().await;
    let sim = simulate(
        &db,
        &["--attempts", "120", "--concurrency", "16", "--members", "7"],
    );
    assert_eq!(sim.count("redeemed"), 120, "{}", sim.out);
    assert_eq!(
        sim.counts.values().sum::<u64>(),
        120,
        "nothing else:{}",
        sim.out
    );
    assert!(
        sim.out
            .stdout_text()
            .lines()
            .next()
            .unwrap()
            .contains("cap none")
    );
    assert_eq!(sim.database, (120, 120, 120), "{}", sim.out);
    assert_eq!(in_database(&db, sim.deal).await, (120, 120));
    assert_eq!(
        db.count(&format!(
            "SELECT count(DISTINCT member_id) FROM redemptions WHERE deal_id = {}",
            sim.deal
        ))
        .await,
        7
    );
}

#[tokio::test]
async fn an_existing_deal_is_used_as_it_is() {
    let db = fresh_db().await;
    let admin = db.admin().await;
    let active = common::active_deal(&admin, "SIMEXIST").await;
    let sim = simulate(
        &db,
        &[
            "--deal",
            &active.id.to_string(),
            "--attempts",
            "30",
            "--concurrency",
            "5",
        ],
    );
    assert_eq!(sim.deal, active.id);
    assert!(
        sim.out
            .stdout_text()
            .starts_with(&format!("deal: {} (existing", active.id))
    );
    assert_eq!(sim.count("redeemed"), 30, "{}", sim.out);
    assert_eq!(sim.database, (30, 30, 30), "{}", sim.out);

    // A paused deal is refused before anything is created.
    admin
        .change_deal_state(active.id, None, DealState::Paused, None)
        .await
        .expect("pause");
    let members = db.count("SELECT count(*) FROM members").await;
    let audits = db.audit_count().await;
    let out = pd(
        &db,
        OPERATOR,
        &[
            "simulate",
            "--deal",
            &active.id.to_string(),
            "--attempts",
            "10",
            "--concurrency",
            "4",
        ],
    );
    assert_eq!(
        out.error_line(3),
        format!(
            "deal {} is paused, not active: simulate redeems only an active deal; nothing was created",
            active.id
        )
    );
    assert_eq!(db.count("SELECT count(*) FROM members").await, members);
    assert_eq!(db.audit_count().await, audits);
    assert_eq!(in_database(&db, active.id).await, (30, 30));
}

#[tokio::test]
async fn a_run_is_audited_and_cleanup_removes_what_it_created() {
    let db = fresh_db().await;
    let admin = db.admin().await;
    let existing = common::active_deal(&admin, "SIMKEEP").await;

    // A run with its own partner and deal, and a run against the existing deal.
    let own = simulate(
        &db,
        &["--attempts", "20", "--concurrency", "4", "--members", "5"],
    );
    assert_eq!(own.database, (20, 20, 20), "{}", own.out);
    let other = simulate(
        &db,
        &[
            "--deal",
            &existing.id.to_string(),
            "--attempts",
            "10",
            "--concurrency",
            "4",
        ],
    );
    assert_eq!(other.database, (10, 10, 10), "{}", other.out);
    assert_ne!(own.run, other.run);

    // Every creation is audited: the members with one row per run.
    let audited = |action: &'static str, id: String| {
        let db = &db;
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM audit_log WHERE action = $1 AND entity_id = $2",
            )
            .bind(action)
            .bind(id)
            .fetch_one(&db.pool)
            .await
            .unwrap()
        }
    };
    assert_eq!(audited("simulation.members", own.run.clone()).await, 1);
    assert_eq!(audited("simulation.members", other.run.clone()).await, 1);
    assert_eq!(audited("deal.create", own.deal.to_string()).await, 1);
    let handles =
        |run: &str| format!("SELECT count(*) FROM members WHERE handle LIKE 'sim-{run}-%'");
    assert_eq!(db.count(&handles(&own.run)).await, 5);
    assert_eq!(db.count(&handles(&other.run)).await, 10);
    let partner: i64 = sqlx::query_scalar("SELECT partner_id FROM deals WHERE id = $1")
        .bind(own.deal)
        .fetch_one(&db.pool)
        .await
        .unwrap();

    // Cleaning up the first run removes its members, redemptions, deal and partner.
    let out = pd(&db, OPERATOR, &["simulate", "--cleanup", &own.run]);
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(
        out.stdout_text(),
        format!(
            "run {}: removed 5 members, 20 redemptions, deal {}, partner {partner}\n",
            own.run, own.deal
        )
    );
    assert_eq!(db.count(&handles(&own.run)).await, 0);
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM deals WHERE id = {}",
            own.deal
        ))
        .await,
        0
    );
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM partners WHERE id = {partner}"
        ))
        .await,
        0
    );
    assert_eq!(audited("simulation.cleanup", own.run.clone()).await, 1);
    assert_eq!(audited("deal.delete", own.deal.to_string()).await, 1);
    assert_eq!(audited("partner.delete", partner.to_string()).await, 1);

    // Cleaning up the second leaves the existing deal, its count back where it was.
    let out = pd(&db, OPERATOR, &["simulate", "--cleanup", &other.run]);
    assert_eq!(
        out.stdout_text(),
        format!(
            "run {}: removed 10 members, 10 redemptions, deal none, partner none\n",
            other.run
        ),
        "{out}"
    );
    assert_eq!(in_database(&db, existing.id).await, (0, 0));
    assert_eq!(db.count("SELECT count(*) FROM members").await, 0);

    // A second cleanup finds nothing; a bad run id is one line; --cleanup stands alone.
    let out = pd(&db, OPERATOR, &["simulate", "--cleanup", &other.run]);
    assert!(
        out.stdout_text()
            .contains("removed 0 members, 0 redemptions"),
        "{out}"
    );
    let out = pd(&db, OPERATOR, &["simulate", "--cleanup", "'; DROP TABLE x"]);
    assert_eq!(
        out.error_line(3),
        "run: a simulate run id: ten hexadecimal digits, as simulate printed it"
    );
    let out = pd(
        &db,
        OPERATOR,
        &["simulate", "--cleanup", &own.run, "--attempts", "5"],
    );
    assert_eq!(out.code, 2, "{out}");
}

#[tokio::test]
async fn bad_arguments_are_one_line_and_exit_2() {
    let db = fresh_db().await;
    let cases: &[(&[&str], &str)] = &[
        (&["--attempts", "0", "--concurrency", "5"], "--attempts"),
        (&["--attempts", "10", "--concurrency", "0"], "--concurrency"),
        (
            &["--attempts", "10", "--concurrency", "1001"],
            "--concurrency",
        ),
        (
            &["--cap", "0", "--attempts", "10", "--concurrency", "5"],
            "--cap",
        ),
        (
            &["--cap", "-3", "--attempts", "10", "--concurrency", "5"],
            "--cap",
        ),
        (
            &["--attempts", "10", "--concurrency", "5", "--members", "0"],
            "--members",
        ),
        (&["--attempts", "ten", "--concurrency", "5"], "--attempts"),
        (&["--concurrency", "5"], "--attempts"),
        (&["--attempts", "5"], "--concurrency"),
        (
            &[
                "--deal",
                "1",
                "--cap",
                "5",
                "--attempts",
                "10",
                "--concurrency",
                "5",
            ],
            "--cap",
        ),
    ];
    for (args, names) in cases {
        let mut all = vec!["simulate"];
        all.extend_from_slice(args);
        let out = pd(&db, OPERATOR, &all);
        let line = out.error_line(2);
        assert!(line.contains(names), "the error names {names}:{out}");
    }
    // Nothing was created.
    assert_eq!(db.count("SELECT count(*) FROM deals").await, 0);
    assert_eq!(db.count("SELECT count(*) FROM members").await, 0);
}

#[tokio::test]
async fn refusals_before_any_attempt_are_one_line() {
    let db = fresh_db().await;
    // No such deal.
    let out = pd(
        &db,
        OPERATOR,
        &[
            "simulate",
            "--deal",
            "987654",
            "--attempts",
            "5",
            "--concurrency",
            "2",
        ],
    );
    let line = out.error_line(4);
    assert!(line.contains("deal 987654 not found"), "{out}");
    // Creating a deal needs a registered operator who may author deals.
    let out = pd(
        &db,
        "stranger",
        &["simulate", "--attempts", "5", "--concurrency", "2"],
    );
    let line = out.error_line(3);
    assert!(
        line.contains("stranger is not a registered operator"),
        "{out}"
    );
    assert_eq!(db.count("SELECT count(*) FROM partners").await, 0);
    // More connections than the server allows: said before anything is created.
    let max = db
        .count("SELECT current_setting('max_connections')::bigint")
        .await;
    if max < 1000 {
        let out = pd(
            &db,
            OPERATOR,
            &["simulate", "--attempts", "5", "--concurrency", "1000"],
        );
        let line = out.error_line(1);
        assert!(
            line.starts_with(
                "--concurrency 1000 needs 1000 database connections, but the server allows"
            ),
            "{out}"
        );
        assert_eq!(db.count("SELECT count(*) FROM deals").await, 0);
    }
}
