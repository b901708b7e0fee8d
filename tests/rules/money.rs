//! Statements, the ledger, agreements and "exactly once" columns, as finance's, a curator's
//! and an admin's own logins: the database refuses what the product refuses, and the real
//! flows still run on those logins.

use crate::common::{TestDb, person, try_sql};
use crate::{denied, partner_with_deal, percentage, redemption, rule};
use partnerdesk::domain::settlement::SettlementStatus;

#[tokio::test]
async fn a_statement_past_draft_never_changes_and_the_ledger_follows_its_status() {
    let db = TestDb::new().await;
    let (p, d, m) = partner_with_deal(&db, "LEDGER1").await;
    let (fin_login, fin) = person(&db, &["finance"]).await;
    // finance's own login adds the agreement, computes, reviews, approves and pays.
    let a = fin
        .add_agreement(p, &percentage(1000, "EUR"), "2026-09-01".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(a.version, 1);
    redemption(&db, d, m, "2026-09-10T10:00:00Z", 1000).await;
    redemption(&db, d, m, "2026-09-11T10:00:00Z", 2000).await;
    redemption(&db, d, m, "2026-10-05T10:00:00Z", 5000).await;
    let sep = fin.compute_settlement(a.id, "2026-09").await.unwrap();
    assert_eq!(sep.net_minor, 300, "10% of 10.00 + 20.00");
    fin.review_settlement(sep.id, None).await.unwrap();
    fin.approve_settlement(sep.id, None).await.unwrap();
    fin.pay_settlement(sep.id, "SEPA-1", None).await.unwrap();
    let oct = fin.compute_settlement(a.id, "2026-10").await.unwrap();
    fin.review_settlement(oct.id, None).await.unwrap();
    fin.approve_settlement(oct.id, None).await.unwrap();
    let (s, o) = (sep.id, oct.id);

    // Rewriting a paid or approved statement by hand.
    for (sql, want) in [
        (
            format!("DELETE FROM settlement_lines WHERE settlement_id = {s}"),
            format!(
                "settlement {s}: a statement past draft never changes (it is paid); its lines are frozen"
            ),
        ),
        (
            format!(
                "INSERT INTO settlement_lines (settlement_id, line_no, kind, at, amount_minor) VALUES ({o}, 99, 'period_fee', now(), 1)"
            ),
            format!(
                "settlement {o}: a statement past draft never changes (it is approved); its lines are frozen"
            ),
        ),
        (
            format!("UPDATE settlements SET net_minor = 1 WHERE id = {s}"),
            format!(
                "settlement {s}: a statement past draft never changes (it is paid); dispute it, then recompute it"
            ),
        ),
        (
            format!("UPDATE settlements SET status = 'draft' WHERE id = {s}"),
            format!(
                "settlement {s}: paid → draft is not a move of its status machine (paid is final)"
            ),
        ),
        (
            format!("UPDATE settlements SET status = 'draft' WHERE id = {o}"),
            format!(
                "settlement {o}: approved → draft is not a move of its status machine (from approved: disputed, paid)"
            ),
        ),
        (
            format!("UPDATE settlements SET payment_reference = 'MINE' WHERE id = {s}"),
            format!("settlement {s}: the payment is set by the move to paid"),
        ),
        // Disputing by hand without reversing the approval (it would let a second approval in).
        (
            format!(
                "UPDATE settlements SET status = 'disputed', dispute_reason = 'x' WHERE id = {o}"
            ),
            format!(
                "settlement {o} is disputed: its approval must be reversed in the payout ledger"
            ),
        ),
        // Paying by hand without the payment's entry, or a payment entry without the move.
        (
            format!(
                "UPDATE settlements SET status = 'paid', paid_on = current_date, payment_reference = 'R' WHERE id = {o}"
            ),
            format!(
                "settlement {o} is paid: the payout ledger must hold exactly one payment of -{} with its reference",
                oct.net_minor
            ),
        ),
        (
            format!(
                "INSERT INTO payout_ledger (partner_id, settlement_id, kind, currency, amount_minor, by_login) VALUES ({p}, {o}, 'payment', 'EUR', -{}, session_user)",
                oct.net_minor
            ),
            format!("settlement {o} is approved, not paid: the payout ledger holds a payment"),
        ),
        (
            format!(
                "INSERT INTO payout_ledger (partner_id, settlement_id, kind, currency, amount_minor, by_login) VALUES ({p}, {o}, 'approval', 'EUR', 1, session_user)"
            ),
            format!(
                "settlement {o} is approved: the payout ledger must hold exactly one approval of its net ({}), it holds 2",
                oct.net_minor
            ),
        ),
        // A fresh statement that is not an empty draft.
        (
            format!(
                "INSERT INTO settlements (agreement_id, partner_id, period_start, period_end, currency, status, review_deadline, computed_by, updated_by) VALUES ({}, {p}, '2026-11-01', '2026-12-01', 'EUR', 'in_review', now(), session_user, session_user)",
                a.id
            ),
            "settlement: a new settlement is an empty draft; its lines and moves come after"
                .to_owned(),
        ),
    ] {
        assert_eq!(rule(try_sql(&fin_login.pool, &sql).await), want, "{sql}");
    }

    // A draft whose totals were edited by hand does not go to review.
    let nov_from = "2026-11-01T10:00:00Z";
    redemption(&db, d, m, nov_from, 4000).await;
    let nov = fin.compute_settlement(a.id, "2026-11").await.unwrap();
    try_sql(
        &fin_login.pool,
        &format!(
            "UPDATE settlements SET net_minor = 1, commission_minor = 1 WHERE id = {}",
            nov.id
        ),
    )
    .await
    .unwrap();
    let why = rule(try_sql(
        &fin_login.pool,
        &format!("UPDATE settlements SET status = 'in_review', review_deadline = now() WHERE id = {}", nov.id),
    )
    .await);
    assert_eq!(
        why,
        format!(
            "settlement {}: its totals are not the sums of its lines; recompute it before review",
            nov.id
        )
    );

    // The product's own path of a correction still works on the login: dispute (reversing the
    // approval), recompute, review, approve — one standing approval, never two.
    fin.dispute_settlement(o, "the partner counts one more")
        .await
        .unwrap();
    let again = fin.compute_settlement(a.id, "2026-10").await.unwrap();
    assert_eq!((again.id, again.status), (o, SettlementStatus::Draft));
    fin.review_settlement(o, None).await.unwrap();
    fin.approve_settlement(o, None).await.unwrap();
    let (approvals, reversals, standing): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE kind = 'approval'), count(*) FILTER (WHERE kind = 'reversal'),
                count(*) FILTER (WHERE kind = 'approval' AND NOT EXISTS
                    (SELECT FROM payout_ledger r WHERE r.reverses_id = e.id))
           FROM payout_ledger e WHERE settlement_id = $1",
    )
    .bind(o)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!((approvals, reversals, standing), (2, 1, 1));
}

#[tokio::test]
async fn agreements_keep_their_rules_in_the_database() {
    let db = TestDb::new().await;
    let (p, d, m) = partner_with_deal(&db, "AGREE1").await;
    let (fin_login, fin) = person(&db, &["finance"]).await;
    let (cur_login, _) = person(&db, &["curator"]).await;
    let a = fin
        .add_agreement(p, &percentage(1000, "EUR"), "2026-09-01".parse().unwrap())
        .await
        .unwrap();
    redemption(&db, d, m, "2026-10-10T10:00:00Z", 1000).await;
    let oct = fin.compute_settlement(a.id, "2026-10").await.unwrap();
    fin.review_settlement(oct.id, None).await.unwrap();
    fin.approve_settlement(oct.id, None).await.unwrap();
    let insert = |from: &str, version: i32| {
        format!(
            "INSERT INTO agreements (partner_id, version, effective_from, currency, frequency, model, rate_bps, created_by)
             VALUES ({p}, {version}, '{from}', 'EUR', 'monthly', 'percentage', 500, session_user)"
        )
    };
    for login in [&fin_login, &cur_login] {
        // Back-dated under the approved October statement.
        assert_eq!(
            rule(try_sql(&login.pool, &insert("2026-10-01", 2)).await),
            format!(
                "agreement: settlement {} of partner {p} for the period from 2026-10-01 is approved; a new version may not start before its period ends",
                oct.id
            )
        );
        assert_eq!(
            rule(try_sql(&login.pool, &insert("2026-11-15", 2)).await),
            "from: must be the first day of a monthly period (got 2026-11-15)"
        );
    }
    // A statement for a version not in effect, opened by hand.
    assert_eq!(
        rule(try_sql(&fin_login.pool, &format!(
            "INSERT INTO settlements (agreement_id, partner_id, period_start, period_end, currency, computed_by, updated_by)
             VALUES ({}, {p}, '2026-10-15', '2026-11-15', 'EUR', session_user, session_user)", a.id)).await),
        "settlement: 2026-10-15 to 2026-11-15 is not a monthly period"
    );
    // The version is the database's to number, whatever the statement says.
    try_sql(&fin_login.pool, &insert("2026-11-01", 7))
        .await
        .unwrap();
    assert_eq!(
        db.count(&format!(
            "SELECT max(version)::bigint FROM agreements WHERE partner_id = {p}"
        ))
        .await,
        2
    );
    assert_eq!(
        rule(try_sql(&fin_login.pool, &format!(
            "INSERT INTO settlements (agreement_id, partner_id, period_start, period_end, currency, computed_by, updated_by)
             VALUES ({}, {p}, '2026-11-01', '2026-12-01', 'EUR', session_user, session_user)", a.id)).await),
        format!("settlement: agreement {} (version 1) is not in effect for the period from 2026-11-01", a.id)
    );
}

#[tokio::test]
async fn counts_and_claims_are_written_only_by_their_own_flow() {
    let db = TestDb::new().await;
    let (p, d, m) = partner_with_deal(&db, "CLAIM1").await;
    let (cur_login, cara) = person(&db, &["curator"]).await;
    let (adm_login, ada) = person(&db, &["admin"]).await;
    let (_sam_login, sam) = person(&db, &["support"]).await;
    // The admin's own login records a redemption (the count goes up through its column grant).
    ada.record_redemption(d, m, None).await.unwrap();
    assert_eq!(cara.get_deal(d).await.unwrap().redemption_count, 1);
    // A curator edits deals but not their count.
    denied(
        try_sql(
            &cur_login.pool,
            &format!("UPDATE deals SET redemption_count = 0 WHERE id = {d}"),
        )
        .await,
    );
    try_sql(
        &cur_login.pool,
        &format!("UPDATE deals SET description = 'edited' WHERE id = {d}"),
    )
    .await
    .unwrap();
    denied(
        try_sql(
            &cur_login.pool,
            &format!("UPDATE partners SET deal_count = 0 WHERE id = {p}"),
        )
        .await,
    );

    // Tokens: a curator issues and revokes, the platform (an admin) claims; a claim is final.
    cara.add_plan(&partnerdesk::domain::referral::PlanDraft {
        code: "pro".into(),
        name: "Pro".into(),
        price: "19.90".into(),
        currency: "EUR".into(),
    })
    .await
    .unwrap();
    let t1 = cara.issue_claim_token(p, "pro", None, None).await.unwrap();
    let t2 = cara.issue_claim_token(p, "pro", None, None).await.unwrap();
    ada.claim_token(&t1.token, 501, None).await.unwrap();
    let id1 = t1.record.id;
    denied(
        try_sql(
            &cur_login.pool,
            &format!(
                "UPDATE claim_tokens SET claimed_at = NULL, claimed_account = NULL WHERE id = {id1}"
            ),
        )
        .await,
    );
    assert_eq!(
        rule(try_sql(&adm_login.pool, &format!("UPDATE claim_tokens SET claimed_at = NULL, claimed_account = NULL WHERE id = {id1}")).await),
        format!("claim token {id1}: a claim is final")
    );
    cara.revoke_claim_token(t2.record.id).await.unwrap();
    assert_eq!(
        rule(
            try_sql(
                &cur_login.pool,
                &format!(
                    "UPDATE claim_tokens SET revoked_at = NULL, revoked_by = NULL WHERE id = {}",
                    t2.record.id
                )
            )
            .await
        ),
        format!("claim token {}: a revocation is final", t2.record.id)
    );
    // Support flags (its columns) and nothing else of a redemption.
    let r: i64 = db
        .count(&format!(
            "SELECT max(id) FROM redemptions WHERE deal_id = {d}"
        ))
        .await;
    sam.flag_redemption(r, partnerdesk::domain::FlagKind::Fraud, "burst")
        .await
        .unwrap();
    assert_eq!(
        db.count("SELECT count(*) FROM claim_tokens WHERE claimed_at IS NOT NULL")
            .await,
        1
    );
}

#[tokio::test]
async fn amounts_past_the_maximum_are_refused_by_the_database_too() {
    use partnerdesk::domain::money::AMOUNT_MAX_MINOR;
    let db = TestDb::new().await;
    let (p, d, m) = partner_with_deal(&db, "MAX1").await;
    let (fin_login, _fin) = person(&db, &["finance"]).await;
    let (adm_login, _ada) = person(&db, &["admin"]).await;
    let fee = |amount: i64| {
        format!(
            "INSERT INTO agreements (partner_id, version, effective_from, currency, frequency, model, amount_minor, created_by)
             VALUES ({p}, 1, '2026-09-01', 'EUR', 'monthly', 'fixed_fee', {amount}, session_user)"
        )
    };
    let value = |amount: i64| {
        format!(
            "INSERT INTO redemptions (deal_id, member_id, source, redeemed_at, value_minor, currency)
             VALUES ({d}, {m}, 'outbound_click', now(), {amount}, 'EUR')"
        )
    };
    let err = try_sql(&fin_login.pool, &fee(9_223_372_036_854_775))
        .await
        .unwrap_err();
    assert!(
        err.starts_with("23514 ") && err.contains("agreements_amount_max"),
        "{err}"
    );
    let err = try_sql(&adm_login.pool, &value(AMOUNT_MAX_MINOR + 1))
        .await
        .unwrap_err();
    assert!(
        err.starts_with("23514 ") && err.contains("redemptions_value_max"),
        "{err}"
    );
    // At the maximum: accepted.
    try_sql(&fin_login.pool, &fee(AMOUNT_MAX_MINOR))
        .await
        .unwrap();
    try_sql(&adm_login.pool, &value(AMOUNT_MAX_MINOR))
        .await
        .unwrap();
}
