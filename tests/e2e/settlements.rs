//! Settlements in the real console: the demo's statements, a filter, a statement's detail, and
//! an approval through its confirmation, landing in the payout ledger.

use super::*;

#[tokio::test]
async fn filter_open_and_approve_a_statement_in_review() {
    let db = seeded(OPERATOR).await;
    let (id, net): (i64, i64) = sqlx::query_as(
        "SELECT id, net_minor FROM settlements WHERE status = 'in_review'
          ORDER BY period_start DESC, id DESC LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .expect("the demo data has a statement in review");
    let home = Home::new();
    let mut p = console(&db, &home, OPERATOR, &[], 120, 40);
    wait_ready(&p);
    p.send("5");
    p.wait_for("Settlements", TIMEOUT);
    p.wait_for("in_review", TIMEOUT);
    p.wait_for("disputed", TIMEOUT);

    p.send("/");
    p.type_each("status:in_review");
    p.send(keys::ENTER);
    p.wait_until("only statements in review", TIMEOUT, |s| {
        !s.contains("disputed") && s.contains("in_review")
    });
    p.send(keys::ENTER);
    p.wait_for(&format!("Settlement #{id}"), TIMEOUT);
    p.wait_for("Commission by month", TIMEOUT);

    p.send("a");
    p.type_each("checked with the partner");
    p.send(keys::ENTER);
    p.wait_for(&format!("Approve settlement {id}?"), TIMEOUT);
    // The safe answer is first: move to Approve, then answer.
    p.send(keys::RIGHT);
    p.send(keys::ENTER);
    p.wait_for("written to the payout ledger", TIMEOUT);

    let status: String = sqlx::query_scalar("SELECT status FROM settlements WHERE id = $1")
        .bind(id)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(status, "approved");
    let entry: i64 = sqlx::query_scalar(
        "SELECT amount_minor FROM payout_ledger WHERE settlement_id = $1 AND kind = 'approval'",
    )
    .bind(id)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(entry, net);
    let (actor, reason): (String, Option<String>) = sqlx::query_as(
        "SELECT actor, reason FROM audit_log WHERE action = 'settlement.approve' AND entity_id = $1",
    )
    .bind(id.to_string())
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        (actor.as_str(), reason.as_deref()),
        (OPERATOR, Some("checked with the partner"))
    );
    quit(&mut p);
}
