//! Refunds and reversals (migration 0031) as each group's own login: support, finance and
//! admin refund a redemption, once, as themselves, dated by the database; a referral payout is
//! never changed but reversed once (the platform's admin); whoever connects.

use crate::common::{TestDb, person, try_sql};
use crate::owed::owed;
use crate::{denied, partner_with_deal, redemption, rule};

#[tokio::test]
async fn a_refund_is_once_by_the_login_itself_and_a_payout_is_reversed_once() {
    let db = TestDb::new().await;
    let (_, deal, member) = partner_with_deal(&db, "REFUND").await;
    let r1 = redemption(&db, deal, member, "2026-10-10T10:00:00Z", 1234).await;
    let r2 = redemption(&db, deal, member, "2026-10-11T10:00:00Z", 500).await;
    let (sup, sup_desk) = person(&db, &["support"]).await;
    let (fin, _) = person(&db, &["finance"]).await;
    let (cur, _) = person(&db, &["curator"]).await;
    let (adm, _) = person(&db, &["admin"]).await;

    let refund = |id: i64, by: &str| {
        format!(
            "UPDATE redemptions SET refunded_at = now(), refunded_by = {by}, refund_reason = 'returned'
              WHERE id = {id}"
        )
    };
    denied(try_sql(&cur.pool, &refund(r1, "current_user")).await);
    let e = try_sql(&sup.pool, &refund(r1, "'fin'")).await.unwrap_err();
    assert!(e.contains("writes as itself"), "{e}");
    // Finance may refund, and may not flag.
    try_sql(&fin.pool, &refund(r2, "current_user"))
        .await
        .unwrap();
    denied(
        try_sql(
            &fin.pool,
            &format!("UPDATE redemptions SET flag_kind = 'fraud' WHERE id = {r1}"),
        )
        .await,
    );
    // Through the product, as support's own login; then never again, by anyone.
    let (r, _) = sup_desk
        .refund_redemption(r1, "order returned")
        .await
        .unwrap();
    assert_eq!(r.refunded_by.as_deref(), Some(sup.name.as_str()));
    for login in [&sup, &fin, &adm] {
        let e = rule(try_sql(&login.pool, &refund(r1, "current_user")).await);
        assert!(e.contains("a refund is final"), "{e}");
        let e = rule(
            try_sql(
                &login.pool,
                &format!("UPDATE redemptions SET refund_reason = 'other' WHERE id = {r1}"),
            )
            .await,
        );
        assert!(e.contains("a refund is final"), "{e}");
    }
    // The database dates it.
    let dated: bool = sqlx::query_scalar(
        "SELECT refunded_at > now() - interval '1 hour' FROM redemptions WHERE id = $1",
    )
    .bind(r2)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert!(dated);

    // A referral payout: reversed once by the platform's admin, never edited.
    let (partner, _) = owed(&db, "Alder", "EUR", "4.00", 1).await;
    let payout: i64 = sqlx::query_scalar("SELECT id FROM referral_payouts WHERE partner_id = $1")
        .bind(partner)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let reverse = format!(
        "UPDATE referral_payouts SET reversed_at = now(), reversed_by = current_user,
                reverse_reason = 'subscription refunded' WHERE id = {payout}"
    );
    denied(try_sql(&fin.pool, &reverse).await);
    denied(
        try_sql(
            &adm.pool,
            &format!("UPDATE referral_payouts SET amount_minor = 1 WHERE id = {payout}"),
        )
        .await,
    );
    // Not even the owner edits one.
    let e = rule(
        try_sql(
            &db.pool,
            &format!("UPDATE referral_payouts SET amount_minor = 1 WHERE id = {payout}"),
        )
        .await,
    );
    assert!(e.contains("a payout is never changed"), "{e}");
    try_sql(&adm.pool, &reverse).await.unwrap();
    let e = rule(try_sql(&adm.pool, &reverse).await);
    assert!(e.contains("it is reversed once"), "{e}");
    let e = rule(
        try_sql(
            &db.pool,
            &format!("DELETE FROM referral_payouts WHERE id = {payout}"),
        )
        .await,
    );
    assert!(e.contains("a payout is never changed"), "{e}");
}

#[tokio::test]
async fn when_a_redemption_was_recorded_is_the_databases() {
    let db = TestDb::new().await;
    let (_, deal, member) = partner_with_deal(&db, "RECORD").await;
    let (adm, _) = person(&db, &["admin"]).await;
    let e = try_sql(
        &adm.pool,
        &format!(
            "INSERT INTO redemptions (deal_id, member_id, source, redeemed_at, recorded_at)
             VALUES ({deal}, {member}, 'outbound_click', '2026-10-01', '2026-10-01')"
        ),
    )
    .await;
    denied(e);
    let id = redemption(&db, deal, member, "2026-10-01T10:00:00Z", 100).await;
    denied(
        try_sql(
            &adm.pool,
            &format!("UPDATE redemptions SET recorded_at = redeemed_at WHERE id = {id}"),
        )
        .await,
    );
}

/// Each source counts once per kind over every statement, whoever writes the lines: a finance
/// login's own draft cannot charge again a payout an approved statement charged, nor reverse
/// it twice. A partner's minimum payout is finance's to set, within its bounds.
#[tokio::test]
async fn each_source_counts_once_by_any_login_and_a_minimum_is_finances() {
    let db = TestDb::new().await;
    let (partner, sept) = owed(&db, "Alder", "EUR", "4.00", 1).await;
    let payout: i64 = sqlx::query_scalar("SELECT id FROM referral_payouts WHERE partner_id = $1")
        .bind(partner)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let (fin, fin_desk) = person(&db, &["finance"]).await;
    try_sql(
        &fin.pool,
        &format!(
            "INSERT INTO settlements (agreement_id, partner_id, period_start, period_end, currency,
                    computed_by, updated_by)
             SELECT agreement_id, partner_id, '2026-10-01', '2026-11-01', currency, current_user,
                    current_user
               FROM settlements WHERE id = {sept}"
        ),
    )
    .await
    .unwrap();
    let oct: i64 =
        sqlx::query_scalar("SELECT id FROM settlements WHERE period_start = '2026-10-01'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    let line = |no: i64, kind: &str, counts: &str| {
        let adjustment = kind == "adjustment";
        format!(
            "INSERT INTO settlement_lines (settlement_id, line_no, kind, payout_id, at, amount_minor,
                    counts, origin_settlement_id, reason)
             VALUES ({oct}, {no}, '{kind}', {payout}, now(), {}, {}, {}, {})",
            if counts == "reversal" { -400 } else { 400 },
            if adjustment { format!("'{counts}'") } else { "NULL".into() },
            if adjustment { sept.to_string() } else { "NULL".into() },
            if adjustment { "'by hand'" } else { "NULL" },
        )
    };
    for (kind, counts) in [("referral", "charge"), ("adjustment", "charge")] {
        let e = try_sql(&fin.pool, &line(1, kind, counts))
            .await
            .unwrap_err();
        assert!(e.contains("settlement_lines_payout_counted"), "{kind}: {e}");
    }
    try_sql(&fin.pool, &line(1, "adjustment", "reversal"))
        .await
        .unwrap();
    let e = try_sql(&fin.pool, &line(2, "adjustment", "reversal"))
        .await
        .unwrap_err();
    assert!(e.contains("settlement_lines_payout_counted"), "{e}");

    // The minimum: finance sets it (as itself), nobody else; never negative.
    crate::owed::details(&fin_desk, partner, "DE89370400440532013000", "EUR").await;
    let set = |m: i64| {
        format!(
            "UPDATE partner_payout_details SET minimum_minor = {m}, updated_by = current_user
              WHERE partner_id = {partner}"
        )
    };
    for group in ["curator", "support", "readonly"] {
        let (login, _) = person(&db, &[group]).await;
        denied(try_sql(&login.pool, &set(1000)).await);
    }
    try_sql(&fin.pool, &set(1000)).await.unwrap();
    let e = try_sql(&fin.pool, &set(-1)).await.unwrap_err();
    assert!(e.contains("minimum_minor"), "{e}");
    let m: Option<i64> = sqlx::query_scalar(
        "SELECT minimum_minor FROM partner_payout_details WHERE partner_id = $1",
    )
    .bind(partner)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(m, Some(1000));
}
