//! The holding period and statements of adjustments alone (issue "Finance: late data, refunds,
//! minimum payouts and payout batches"), worked by hand.

use super::cli::{TempDir, pd};
use super::referrals::plan;
use super::{Fixture, amounts};
use crate::common::{percentage, person, try_sql};
use partnerdesk::domain::Role;
use serde_json::Value;

/// A referral-only partner paid a flat 4.00 EUR per conversion, monthly from 2026-09-01, with
/// the default 30-day holding period: the statement of [from, to) prices the payouts converted
/// in [from − 30 days, to − 30 days). October is [2026-10-01, 2026-11-01): it prices
/// [2026-09-01, 2026-10-02).
/// - p1 converted 2026-10-01 12:00: 30.5 days before October's end, on October: 4.00.
/// - p2 converted 2026-10-02 00:00: exactly 30 days before, not more: held, on November
///   ([2026-10-02, 2026-11-01)).
/// - p3 converted 2026-10-20 10:00: held, on November.
///
/// October: payouts 4.00, net −4.00, listing p2 and p3 as held for 2026-11. November: 8.00.
/// Then p4, converted 2026-09-25 (due 2026-10-25: October's, approved), is late: charged once
/// as an adjustment on November's draft, 4.00; November 12.00, and computed again the same.
#[tokio::test]
async fn a_payout_waits_out_the_holding_period_and_lands_on_the_statement_after_it() {
    let f = Fixture::new().await;
    let admin = f.db.admin().await;
    plan(&admin, "pro", "10.00", "EUR").await;
    let code = admin.add_referral_code(f.partner_id, None).await.unwrap();
    admin
        .set_commission_rule(f.partner_id, None, None, Some("4.00"), Some("EUR"))
        .await
        .unwrap();
    let a = f
        .agreement(
            partnerdesk::domain::terms::TermsDraft {
                model: "referral_only".into(),
                currency: "EUR".into(),
                frequency: "monthly".into(),
                ..Default::default()
            },
            "2026-09-01",
        )
        .await;
    for account in 1..=4 {
        admin
            .attribute_account_at(&code.code, account, "2026-08-01T09:00:00Z".parse().ok())
            .await
            .unwrap();
    }
    let convert = |account: i64, at: &str| {
        pd(
            Some(&f.db),
            "ada",
            &[
                "referrals",
                "convert",
                "--account",
                &account.to_string(),
                "--plan",
                "pro",
                "--at",
                at,
            ],
        )
    };
    let out = convert(1, "2026-10-01T12:00:00Z");
    out.success();
    assert_eq!(
        out.stdout_lines().len(),
        1,
        "on its own period's statement: {out}"
    );
    for (account, at) in [(2, "2026-10-02T00:00:00Z"), (3, "2026-10-20T10:00:00Z")] {
        let out = convert(account, at);
        out.success();
        assert_eq!(
            out.stdout_lines()[1],
            "held 30 days: it is priced on the statement of 2026-11",
            "{out}"
        );
    }
    let payout = |account: i64| {
        let pool = f.db.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT id FROM referral_payouts WHERE account_id = $1")
                .bind(account)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let (p1, p2, p3) = (payout(1).await, payout(2).await, payout(3).await);

    let fin = &f.finance;
    let oct = fin.compute_settlement(a.id, "2026-10").await.unwrap();
    let lines = f.lines(oct.id).await;
    assert_eq!(amounts(&lines), vec![("referral".into(), Some(400))]);
    assert_eq!(lines[0].payout_id, Some(p1));
    assert_eq!((oct.payouts_minor, oct.net_minor), (400, -400));
    // The statement lists what it holds back, and where each lands.
    let out = pd(
        Some(&f.db),
        "fin",
        &["settle", "show", &oct.id.to_string(), "--json"],
    );
    out.success();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let held: Vec<(i64, String, String)> = v["held"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["payout"].as_i64().unwrap(),
                h["amount"].as_str().unwrap().to_owned(),
                h["lands"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        held,
        vec![
            (p2, "4.00".into(), "2026-11".into()),
            (p3, "4.00".into(), "2026-11".into())
        ]
    );
    let out = pd(Some(&f.db), "fin", &["settle", "show", &oct.id.to_string()]);
    out.success();
    assert!(
        out.stdout_text().contains(&format!(
            "referral payout {p3} of 4.00 EUR converted 2026-10-20: on the statement of 2026-11"
        )),
        "{out}"
    );
    fin.review_settlement(oct.id, None).await.unwrap();
    fin.approve_settlement(oct.id, None).await.unwrap();

    let nov = fin.compute_settlement(a.id, "2026-11").await.unwrap();
    let lines = f.lines(nov.id).await;
    assert_eq!(
        lines
            .iter()
            .map(|l| (l.kind.to_string(), l.payout_id, l.amount_minor))
            .collect::<Vec<_>>(),
        vec![
            ("referral".into(), Some(p2), Some(400)),
            ("referral".into(), Some(p3), Some(400)),
        ]
    );
    assert_eq!(nov.payouts_minor, 800);

    // Late: its own statement (October's, by the holding period) is approved.
    let out = convert(4, "2026-09-25T10:00:00Z");
    out.success();
    assert_eq!(
        out.stdout_lines()[1],
        format!(
            "late: settlement {} (2026-10) is approved; it is charged as an adjustment on settlement {} (2026-11, draft) when it is computed again",
            oct.id, nov.id
        ),
        "{out}"
    );
    let p4 = payout(4).await;
    let nov = fin.compute_settlement(a.id, "2026-11").await.unwrap();
    let lines = f.lines(nov.id).await;
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(
        (
            lines[2].kind.to_string(),
            lines[2].payout_id,
            lines[2].amount_minor
        ),
        ("adjustment".into(), Some(p4), Some(400))
    );
    assert_eq!(
        lines[2].reason.as_deref(),
        Some(
            format!(
                "late referral payout {p4} of 2026-09-25 (settlement {})",
                oct.id
            )
            .as_str()
        )
    );
    assert_eq!((nov.payouts_minor, nov.net_minor), (1200, -1200));
    let again = fin.compute_settlement(a.id, "2026-11").await.unwrap();
    assert_eq!(amounts(&f.lines(again.id).await), amounts(&lines));
    assert_eq!(again.payouts_minor, 1200);
    // October never changed.
    let oct_now = fin.settlement(oct.id).await.unwrap();
    assert_eq!(oct_now.settlement().payouts_minor, 400);
}

/// A partner whose EUR version (10% monthly from 2026-09-01) gives way to a USD version from
/// 2026-11-01: no EUR statement will come, so October's later changes go on a statement of
/// adjustments alone. By hand: October r1 50.00 EUR → 5.00, approved. After approval r1 is
/// refunded and r2 (2026-10-20, 30.00 EUR → 3.00) is reported late. November: the USD
/// statement holds nothing of them; the EUR statement of adjustments alone holds −5.00 (the
/// refund) and +3.00 (late): commission −2.00, take round(−2.00 × 15%) = −0.30. December has
/// nothing pending: no EUR statement is made.
#[tokio::test]
async fn a_currency_with_no_statement_coming_gets_a_statement_of_adjustments_alone() {
    let f = Fixture::new().await;
    let eur = f.agreement(percentage(1000, "EUR"), "2026-09-01").await;
    let r1 = f
        .redemption("2026-10-10T10:00:00Z", Some((5000, "EUR")))
        .await;
    let fin = &f.finance;
    let oct = fin.compute_settlement(eur.id, "2026-10").await.unwrap();
    assert_eq!(oct.commission_minor, 500);
    fin.review_settlement(oct.id, None).await.unwrap();
    fin.approve_settlement(oct.id, None).await.unwrap();
    let usd = f.agreement(percentage(1000, "USD"), "2026-11-01").await;

    let support = f.db.desk("sam", &[Role::Support]).await;
    support.refund_redemption(r1, "returned").await.unwrap();
    let r2 = f
        .redemption("2026-10-20T10:00:00Z", Some((3000, "EUR")))
        .await;
    let report = fin.compute_due("2026-11").await.unwrap();
    let mut computed: Vec<(i64, String)> = report
        .computed
        .iter()
        .map(|s| (s.agreement_id, s.currency.clone()))
        .collect();
    computed.sort();
    assert_eq!(
        computed,
        vec![(eur.id, "EUR".into()), (usd.id, "USD".into())]
    );
    let alone = report
        .computed
        .iter()
        .find(|s| s.agreement_id == eur.id)
        .unwrap()
        .clone();
    let usd_nov = report
        .computed
        .iter()
        .find(|s| s.agreement_id == usd.id)
        .unwrap();
    assert_eq!(usd_nov.line_count, 0);
    let lines = f.lines(alone.id).await;
    assert_eq!(
        lines
            .iter()
            .map(|l| (
                l.kind.to_string(),
                l.redemption_id,
                l.counts.clone(),
                l.amount_minor
            ))
            .collect::<Vec<_>>(),
        vec![
            (
                "adjustment".into(),
                Some(r1),
                Some("reversal".into()),
                Some(-500)
            ),
            (
                "adjustment".into(),
                Some(r2),
                Some("charge".into()),
                Some(300)
            ),
        ]
    );
    assert_eq!(
        (
            alone.commission_minor,
            alone.take_minor,
            alone.redemption_count
        ),
        (-200, -30, 0)
    );
    let out = pd(
        Some(&f.db),
        "fin",
        &["settle", "show", &alone.id.to_string()],
    );
    out.success();
    assert!(
        out.stdout_text().contains(&format!(
            "version 1 is no longer in effect for 2026-11: version 2 in USD is (agreement {})",
            usd.id
        )),
        "{out}"
    );

    // The database keeps it to adjustments, and to the latest version of a currency no longer
    // in effect.
    let (login, _) = person(&f.db, &["finance"]).await;
    let e = try_sql(
        &login.pool,
        &format!(
            "INSERT INTO settlement_lines (settlement_id, line_no, kind, at, amount_minor)
             VALUES ({}, 9, 'period_fee', now(), 100)",
            alone.id
        ),
    )
    .await
    .unwrap_err();
    assert!(
        e.contains(
            "a statement of adjustments alone holds adjustment lines only (got a period_fee line)"
        ),
        "{e}"
    );
    let e = try_sql(
        &login.pool,
        &format!(
            "INSERT INTO settlements (agreement_id, partner_id, period_start, period_end, currency,
                    computed_by, updated_by)
             VALUES ({}, {}, '2026-08-01', '2026-09-01', 'EUR', current_user, current_user)",
            eur.id, f.partner_id
        ),
    )
    .await
    .unwrap_err();
    assert!(
        e.contains("is not in effect for the period from 2026-08-01"),
        "{e}"
    );

    // It goes through review and approval like any statement.
    fin.review_settlement(alone.id, None).await.unwrap();
    fin.approve_settlement(alone.id, None).await.unwrap();
    let report = fin.compute_due("2026-12").await.unwrap();
    assert!(
        report.computed.iter().all(|s| s.agreement_id == usd.id),
        "{:?}",
        report.computed
    );
    assert_eq!(
        f.db.count(&format!(
            "SELECT count(*) FROM settlements WHERE agreement_id = {}",
            eur.id
        ))
        .await,
        2
    );
}

/// An import of rows dated into an approved period says, on a line of its own, where they are
/// charged — on the dry run too.
#[tokio::test]
async fn an_import_into_a_closed_period_says_where_its_rows_land() {
    let f = Fixture::new().await;
    let a = f.agreement(percentage(1000, "EUR"), "2026-09-01").await;
    f.redemption("2026-10-10T10:00:00Z", Some((5000, "EUR")))
        .await;
    let fin = &f.finance;
    let oct = fin.compute_settlement(a.id, "2026-10").await.unwrap();
    fin.review_settlement(oct.id, None).await.unwrap();
    fin.approve_settlement(oct.id, None).await.unwrap();
    // (The deal has run since September.)
    sqlx::query("UPDATE deals SET valid_from = '2026-09-01T00:00:00Z' WHERE id = $1")
        .bind(f.deal_id)
        .execute(&f.db.pool)
        .await
        .unwrap();
    let dir = TempDir::new("pd-late-import");
    let file = dir.file(
        "late.csv",
        &format!(
            "deal_id,member_id,redeemed_at,value,currency,source\n\
             {d},{m},2026-10-20T10:00:00Z,30.00,EUR,copy_code\n\
             {d},{m},2026-10-21T10:00:00Z,10.00,EUR,copy_code\n\
             {d},{m},2026-11-02T10:00:00Z,10.00,EUR,copy_code\n",
            d = f.deal_id,
            m = f.member_id
        ),
    );
    let late = format!(
        "2 rows: late: settlement {} (2026-10) is approved; it is charged as an adjustment on the partner's next EUR statement computed after 2026-10",
        oct.id
    );
    let out = pd(
        Some(&f.db),
        "ada",
        &["redemptions", "import", &file, "--dry-run"],
    );
    out.success();
    assert_eq!(
        out.stdout_lines(),
        vec![
            "3 rows valid (for 1 deal); dry run: nothing imported".to_owned(),
            late.clone()
        ]
    );
    let out = pd(Some(&f.db), "ada", &["redemptions", "import", &file]);
    out.success();
    assert_eq!(out.stdout_lines()[1], late, "{out}");
    let nov = fin.compute_settlement(a.id, "2026-11").await.unwrap();
    // November: its own 10.00 → 1.00, then the two late ones 3.00 and 1.00.
    assert_eq!(
        amounts(&f.lines(nov.id).await),
        vec![
            ("redemption".into(), Some(100)),
            ("adjustment".into(), Some(300)),
            ("adjustment".into(), Some(100)),
        ]
    );
}
