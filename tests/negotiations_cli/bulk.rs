//! `partnerdesk negotiations withdraw ID…` (issue 24): several threads, each in its own step,
//! one reason for all, then one summary line.

use crate::cli::pd;
use crate::common::{TestDb, verified_partner};

#[tokio::test]
async fn withdraw_with_several_ids_withdraws_each_open_thread_and_names_the_closed_one() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let p = verified_partner(&desk, "Seasonal", "seasonal.example").await;
    let deadline = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();
    for subject in ["One", "Two", "Three"] {
        pd(
            Some(&db),
            "cara",
            &[
                "negotiations",
                "open",
                "--partner",
                &p.id.to_string(),
                "--subject",
                subject,
                "--deadline",
                &deadline,
            ],
        )
        .success();
    }
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM negotiation_threads ORDER BY id")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    let ids: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
    pd(
        Some(&db),
        "cara",
        &["negotiations", "withdraw", &ids[0], "--reason", "first"],
    )
    .success();
    let withdrawn =
        || db.count("SELECT count(*) FROM negotiation_threads WHERE status = 'withdrawn'");
    let mut args = vec!["negotiations", "withdraw"];
    args.extend(ids.iter().map(String::as_str));
    args.extend(["--reason", "season over"]);

    let mut dry = args.clone();
    dry.push("--dry-run");
    let out = pd(Some(&db), "cara", &dry);
    assert_eq!(out.code, 3, "{out}");
    assert_eq!(
        out.stdout_text().trim(),
        format!("would withdraw 2, 1 refused: #{} already withdrawn", ids[0])
    );
    assert_eq!(withdrawn().await, 1, "a dry run withdraws nothing");

    let out = pd(Some(&db), "cara", &args);
    assert_eq!(out.code, 3, "{out}");
    assert_eq!(
        out.stdout_text().trim(),
        format!("2 withdrawn, 1 refused: #{} already withdrawn", ids[0])
    );
    assert_eq!(withdrawn().await, 3);
    assert_eq!(
        db.count(
            "SELECT count(*) FROM audit_log WHERE action = 'negotiation.withdraw' \
             AND reason = 'marketplace side: season over'"
        )
        .await,
        2
    );
}
