//! Bulk settlement moves through the real binary (issue 24): `settle approve --period
//! --status --note` approves exactly the statements it selects, each in its own step with its
//! ledger entry and audit row; `--dry-run` changes nothing; several ids report each refusal.

use super::cli::pd;
use super::common::verified_partner;
use super::{Fixture, percentage};

/// Three partners' September statements (two in review, one draft) and an October one in
/// review: the ids (september in review, september draft, october in review).
async fn statements(f: &Fixture) -> (Vec<i64>, i64, i64) {
    let admin = f.db.admin().await;
    let mut partners = vec![f.partner_id];
    for name in ["Two", "Three"] {
        let domain = format!("{}.example", name.to_lowercase());
        partners.push(verified_partner(&admin, name, &domain).await.id);
    }
    let mut september = Vec::new();
    let mut agreements = Vec::new();
    for pid in &partners {
        let a = f
            .finance
            .add_agreement(
                *pid,
                &percentage(1000, "EUR"),
                "2026-09-01".parse().unwrap(),
            )
            .await
            .expect("add agreement");
        let s = f
            .finance
            .compute_settlement(a.id, "2026-09")
            .await
            .expect("compute september");
        september.push(s.id);
        agreements.push(a.id);
    }
    let draft = september.pop().unwrap();
    for id in &september {
        f.finance
            .review_settlement(*id, None)
            .await
            .expect("review");
    }
    let october = f
        .finance
        .compute_settlement(agreements[0], "2026-10")
        .await
        .expect("compute october")
        .id;
    f.finance
        .review_settlement(october, None)
        .await
        .expect("review october");
    (september, draft, october)
}

/// (status, approval ledger entries) of each settlement.
async fn states(f: &Fixture, ids: &[i64]) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for id in ids {
        let status: String = sqlx::query_scalar("SELECT status FROM settlements WHERE id = $1")
            .bind(id)
            .fetch_one(&f.db.pool)
            .await
            .unwrap();
        let entries = f
            .db
            .count(&format!(
                "SELECT count(*) FROM payout_ledger WHERE settlement_id = {id} AND kind = 'approval'"
            ))
            .await;
        out.push((status, entries));
    }
    out
}

#[tokio::test]
async fn a_bulk_approve_of_a_period_in_review_approves_exactly_those_statements() {
    let f = Fixture::new().await;
    let (in_review, draft, october) = statements(&f).await;
    let all = [in_review[0], in_review[1], draft, october];
    let before = states(&f, &all).await;
    let audit = f.db.audit_count().await;
    let args = [
        "settle",
        "approve",
        "--period",
        "2026-09",
        "--status",
        "in_review",
        "--note",
        "checked by finance",
    ];

    // A dry run says what would happen and changes nothing.
    let mut dry = args.to_vec();
    dry.push("--dry-run");
    let out = pd(Some(&f.db), "fin", &dry);
    out.success();
    assert_eq!(out.stdout_text().trim(), "would approve 2", "{out}");
    assert_eq!(states(&f, &all).await, before);
    assert_eq!(
        f.db.audit_count().await,
        audit,
        "a dry run writes no audit row"
    );

    let out = pd(Some(&f.db), "fin", &args);
    out.success();
    assert_eq!(out.stdout_text().trim(), "2 approved", "{out}");
    let after = states(&f, &all).await;
    assert_eq!(after[0], ("approved".to_owned(), 1));
    assert_eq!(after[1], ("approved".to_owned(), 1));
    assert_eq!(
        after[2], before[2],
        "the draft of that period is left alone"
    );
    assert_eq!(
        after[3], before[3],
        "another period's statement is left alone"
    );
    let notes =
        f.db.count(
            "SELECT count(*) FROM audit_log WHERE action = 'settlement.approve' \
             AND reason = 'checked by finance'",
        )
        .await;
    assert_eq!(notes, 2, "one audit row per statement, with the note");

    // Nothing left in review in September: nothing to do, said so.
    let out = pd(Some(&f.db), "fin", &args);
    out.success();
    assert_eq!(out.stdout_text().trim(), "0 approved", "{out}");
}

#[tokio::test]
async fn a_bulk_approve_of_ids_names_each_refused_statement_and_exits_3() {
    let f = Fixture::new().await;
    let (in_review, draft, _) = statements(&f).await;
    let a = in_review[0].to_string();
    let d = draft.to_string();
    let out = pd(Some(&f.db), "fin", &["settle", "approve", &a, &d, "--json"]);
    assert_eq!(out.code, 3, "{out}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["done"], serde_json::json!([in_review[0]]));
    assert_eq!(
        v["refused"],
        serde_json::json!([{ "id": draft, "reason": "is draft" }])
    );
    assert_eq!(
        v["summary"],
        format!("1 approved, 1 refused: #{draft} is draft")
    );

    // Neither ids nor a period: one clear line, exit 2.
    let out = pd(Some(&f.db), "fin", &["settle", "approve"]);
    let line = out.error_line(2);
    assert!(
        line.contains("give one or more settlement ids, or --period"),
        "{out}"
    );
    // A curator may not approve: refused once, nothing written.
    let audit = f.db.audit_count().await;
    let b = in_review[1].to_string();
    let out = pd(Some(&f.db), "cara", &["settle", "approve", &b, &d]);
    assert_eq!(out.code, 3, "{out}");
    assert_eq!(f.db.audit_count().await, audit);
}

#[tokio::test]
async fn a_bulk_pay_by_period_pays_the_approved_statements_with_one_reference() {
    let f = Fixture::new().await;
    let (in_review, _, october) = statements(&f).await;
    f.finance
        .approve_settlement(in_review[0], None)
        .await
        .unwrap();
    f.finance.approve_settlement(october, None).await.unwrap();
    let args = [
        "settle",
        "pay",
        "--period",
        "2026-09",
        "--reference",
        "BATCH-0926",
        "--json",
    ];
    let out = pd(Some(&f.db), "fin", &args);
    out.success();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["done"], serde_json::json!([in_review[0]]));
    assert_eq!(v["summary"], "1 paid");
    let paid = f
        .db
        .count("SELECT count(*) FROM settlements WHERE status = 'paid' AND payment_reference = 'BATCH-0926'")
        .await;
    assert_eq!(paid, 1, "October's approved statement is another period's");
}

#[tokio::test]
async fn a_statement_changed_since_it_was_selected_is_refused_as_changed_elsewhere() {
    use partnerdesk::service::bulk::{BulkAction, Target};
    let f = Fixture::new().await;
    let (in_review, _, _) = statements(&f).await;
    let seen: Vec<Target> = f
        .finance
        .settlement_targets(&partnerdesk::service::rows::SettlementFilter {
            status: Some(partnerdesk::domain::settlement::SettlementStatus::InReview),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .filter(|t| in_review.contains(&t.id))
        .collect();
    assert_eq!(seen.len(), 2);
    // The partner's tally is entered meanwhile: a new version of the first.
    f.finance
        .enter_tally(in_review[0], 0, "0.00")
        .await
        .unwrap();
    let cancel = std::sync::atomic::AtomicBool::new(false);
    let r = f
        .finance
        .bulk(
            &BulkAction::SettlementApprove { note: None },
            &seen,
            &|_, _| {},
            &cancel,
            false,
        )
        .await
        .unwrap();
    assert_eq!(r.done, vec![in_review[1]]);
    assert_eq!(
        r.refused,
        vec![(in_review[0], "changed elsewhere".to_owned())]
    );
}
