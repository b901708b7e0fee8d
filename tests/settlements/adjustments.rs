//! Refunds and flags after a statement closed (issue "Finance: late data, refunds, minimum
//! payouts and payout batches"): each source counts once. A statement past draft never
//! changes; what changes of its sources later becomes an adjustment line on the partner's next
//! draft — a reversal (the negative of what it was charged) or a restore — naming where it
//! comes from and why; a disputed statement recomputed afterwards still charges what an
//! adjustment elsewhere reverses.

use super::cli::pd;
use super::{Fixture, amounts};
use crate::common::{percentage, try_sql};
use partnerdesk::domain::{FlagKind, Role};

/// By hand, 10% of each value, monthly, EUR:
/// - October: r1 12.34 → 1.234 → 1.23; r2 20.00 → 2.00: commission 3.23, approved.
/// - r2 refunded, r1 flagged (fraud), both after October's approval.
/// - November: r3 5.05 → 0.505 → 0.51 (half away from zero), then the adjustments in time
///   order: r1 −1.23 (flagged), r2 −2.00 (refund): commission 0.51 − 1.23 − 2.00 = −2.72,
///   take round(−2.72 × 15%) = round(−0.408) = −0.41.
/// - r1 unflagged while November is a draft: computed again, its reversal is gone
///   (−1.49); flagged again, it is back (−2.72), and November is approved.
/// - r1 unflagged again: December restores it, +1.23.
/// - October disputed and recomputed: r1 (unflagged, reversed and restored elsewhere: 0) and
///   r2 (refunded, reversed on November: −1) are both still charged, 3.23: over every
///   statement r2 counts 2.00 − 2.00 = 0 and r1 1.23 − 1.23 + 1.23 = 1.23.
#[tokio::test]
async fn refunds_and_flags_after_approval_are_adjustments_on_the_next_draft() {
    let f = Fixture::new().await;
    let a = f.agreement(percentage(1000, "EUR"), "2026-09-01").await;
    let r1 = f
        .redemption("2026-10-10T10:00:00Z", Some((1234, "EUR")))
        .await;
    let r2 = f
        .redemption("2026-10-12T10:00:00Z", Some((2000, "EUR")))
        .await;
    let r3 = f
        .redemption("2026-11-05T10:00:00Z", Some((505, "EUR")))
        .await;
    let fin = &f.finance;
    let support = f.db.desk("sam", &[Role::Support]).await;
    let oct = fin.compute_settlement(a.id, "2026-10").await.unwrap();
    assert_eq!(oct.commission_minor, 323);
    fin.review_settlement(oct.id, None).await.unwrap();
    fin.approve_settlement(oct.id, None).await.unwrap();

    // The refund says where it lands, on a line of its own; a second is refused.
    let out = pd(
        Some(&f.db),
        "sam",
        &[
            "redemptions",
            "refund",
            &r2.to_string(),
            "--reason",
            "order returned",
        ],
    );
    out.success();
    assert_eq!(
        out.stdout_lines(),
        vec![
            format!("refunded: redemption {r2} (by sam: order returned)"),
            format!(
                "settlement {} (2026-10, approved) charged 2.00 EUR: the reversal is on the partner's next EUR statement computed after 2026-10",
                oct.id
            ),
        ]
    );
    let out = pd(
        Some(&f.db),
        "sam",
        &[
            "redemptions",
            "refund",
            &r2.to_string(),
            "--reason",
            "again",
        ],
    );
    let line = out.error_line(3);
    assert!(
        line.starts_with(&format!("redemption {r2} was refunded on "))
            && line.ends_with("by sam (“order returned”): a refund is final"),
        "{line}"
    );
    // Several at once: the one refunded already is named; a dry run writes nothing.
    let out = pd(
        Some(&f.db),
        "sam",
        &[
            "redemptions",
            "refund",
            &r2.to_string(),
            &r1.to_string(),
            "--reason",
            "batch",
            "--dry-run",
        ],
    );
    assert_eq!(
        out.stdout_lines(),
        vec![format!("would refund 1, 1 refused: #{r2} already refunded")],
        "{out}"
    );
    assert_eq!(
        f.db.count("SELECT count(*) FROM redemptions WHERE refunded_at IS NOT NULL")
            .await,
        1
    );
    f.db.curator().await;
    let out = pd(
        Some(&f.db),
        "cara",
        &["redemptions", "refund", &r1.to_string(), "--reason", "x"],
    );
    assert!(
        out.error_line(3)
            .contains("needs the support, finance or admin role"),
        "{out}"
    );

    support
        .flag_redemption(r1, FlagKind::Fraud, "stolen card")
        .await
        .unwrap();
    let nov = fin.compute_settlement(a.id, "2026-11").await.unwrap();
    let lines = f.lines(nov.id).await;
    assert_eq!(
        amounts(&lines),
        vec![
            ("redemption".into(), Some(51)),
            ("adjustment".into(), Some(-123)),
            ("adjustment".into(), Some(-200)),
        ]
    );
    assert_eq!(lines[1].redemption_id, Some(r1));
    assert_eq!(lines[1].counts.as_deref(), Some("reversal"));
    assert_eq!(lines[1].origin_settlement_id, Some(oct.id));
    assert_eq!(
        lines[1].reason.as_deref(),
        Some(
            format!(
                "flagged (fraud) after its statement closed: redemption {r1} of 2026-10-10 (settlement {})",
                oct.id
            )
            .as_str()
        )
    );
    assert_eq!(
        lines[2].reason.as_deref(),
        Some(
            format!(
                "refund of redemption {r2} of 2026-10-12 (settlement {})",
                oct.id
            )
            .as_str()
        )
    );
    assert_eq!(
        (nov.commission_minor, nov.take_minor, nov.net_minor),
        (-272, -41, -272)
    );
    assert_eq!(
        nov.redemption_count, 1,
        "adjustments are not redemptions of the period"
    );

    // Unflagged while November is a draft: its reversal goes; flagged again, it is back.
    support
        .unflag_redemption(r1, "the card was not stolen")
        .await
        .unwrap();
    let nov = fin.compute_settlement(a.id, "2026-11").await.unwrap();
    assert_eq!(nov.commission_minor, 51 - 200);
    support
        .flag_redemption(r1, FlagKind::Fraud, "stolen after all")
        .await
        .unwrap();
    let nov = fin.compute_settlement(a.id, "2026-11").await.unwrap();
    assert_eq!(nov.commission_minor, -272);
    fin.review_settlement(nov.id, None).await.unwrap();
    fin.approve_settlement(nov.id, None).await.unwrap();

    // Unflagged after November closed: December restores it.
    support
        .unflag_redemption(r1, "chargeback lost")
        .await
        .unwrap();
    let dec = fin.compute_settlement(a.id, "2026-12").await.unwrap();
    let lines = f.lines(dec.id).await;
    assert_eq!(amounts(&lines), vec![("adjustment".into(), Some(123))]);
    assert_eq!(lines[0].counts.as_deref(), Some("restore"));
    assert_eq!(
        lines[0].reason.as_deref(),
        Some(
            format!(
                "unflagged after its reversal: redemption {r1} of 2026-10-10 (settlement {})",
                oct.id
            )
            .as_str()
        )
    );
    assert_eq!(dec.commission_minor, 123);

    // October disputed and recomputed charges both again: their corrections live elsewhere.
    fin.dispute_settlement(oct.id, "recheck").await.unwrap();
    let again = fin.compute_settlement(a.id, "2026-10").await.unwrap();
    assert_eq!(again.id, oct.id);
    assert_eq!(
        amounts(&f.lines(oct.id).await),
        vec![
            ("redemption".into(), Some(123)),
            ("redemption".into(), Some(200))
        ]
    );
    // Recomputed, November and December stay as they were (November is approved; December
    // still restores r1 once).
    let dec = fin.compute_settlement(a.id, "2026-12").await.unwrap();
    assert_eq!(dec.commission_minor, 123);
    // Over every statement each source counts once: r1 1.23, r2 nothing, r3 0.51.
    let per_source: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT redemption_id, sum(amount_minor)::bigint FROM settlement_lines
          WHERE redemption_id IS NOT NULL AND kind <> 'exception'
          GROUP BY redemption_id ORDER BY redemption_id",
    )
    .fetch_all(&f.db.pool)
    .await
    .unwrap();
    assert_eq!(per_source, vec![(r1, 123), (r2, 0), (r3, 51)]);

    // The database keeps it: a second reversal of r2 is refused, whoever writes it.
    let e = try_sql(
        &f.db.pool,
        &format!(
            "INSERT INTO settlement_lines (settlement_id, line_no, kind, redemption_id, at, amount_minor,
                    counts, origin_settlement_id, reason)
             VALUES ({}, 99, 'adjustment', {r2}, now(), -200, 'reversal', {}, 'again')",
            dec.id, oct.id
        ),
    )
    .await
    .unwrap_err();
    assert!(
        e.starts_with("23505 ") && e.contains("settlement_lines_redemption_counted"),
        "{e}"
    );
}

/// By hand: Alder is paid 4.00 EUR for each of two conversions in September (approved,
/// payouts 8.00, net −8.00). One subscription is refunded: the payout is reversed on
/// October's draft, payouts −4.00, net 0.00 − (−4.00) = +4.00 (the partner owes it back).
#[tokio::test]
async fn a_reversed_referral_payout_is_taken_back_on_the_next_draft() {
    let f = Fixture::new().await;
    let (partner, sept) = crate::owed::owed(&f.db, "Alder", "EUR", "4.00", 2).await;
    let account = partner * 100;
    let payout: i64 = sqlx::query_scalar("SELECT id FROM referral_payouts WHERE account_id = $1")
        .bind(account)
        .fetch_one(&f.db.pool)
        .await
        .unwrap();
    let out = pd(
        Some(&f.db),
        "ada",
        &[
            "referrals",
            "reverse",
            "--account",
            &account.to_string(),
            "--reason",
            "subscription refunded",
        ],
    );
    out.success();
    assert_eq!(
        out.stdout_lines(),
        vec![
            format!(
                "reversed: payout {payout} of 4.00 EUR (account {account}): subscription refunded"
            ),
            format!(
                "settlement {sept} (2026-09, approved) charged 4.00 EUR: the reversal is on the partner's next EUR statement computed after 2026-09"
            ),
        ]
    );
    let out = pd(
        Some(&f.db),
        "ada",
        &[
            "referrals",
            "reverse",
            "--account",
            &account.to_string(),
            "--reason",
            "again",
        ],
    );
    assert!(out.error_line(3).ends_with("a reversal is final"), "{out}");
    let agreement: i64 = sqlx::query_scalar("SELECT agreement_id FROM settlements WHERE id = $1")
        .bind(sept)
        .fetch_one(&f.db.pool)
        .await
        .unwrap();
    let oct = f
        .finance
        .compute_settlement(agreement, "2026-10")
        .await
        .unwrap();
    let lines = f.lines(oct.id).await;
    assert_eq!(amounts(&lines), vec![("adjustment".into(), Some(-400))]);
    assert_eq!(lines[0].payout_id, Some(payout));
    assert_eq!(
        lines[0].reason.as_deref(),
        Some(
            format!(
                "subscription refunded: referral payout {payout} of 2026-08-10 (settlement {sept})"
            )
            .as_str()
        )
    );
    assert_eq!(
        (oct.commission_minor, oct.payouts_minor, oct.net_minor),
        (0, -400, 400)
    );
}

/// Late redemptions, by hand, at 10% in EUR: October charges r1 12.34 → 1.23 and is approved.
/// r4 (2026-10-20, 10.00) is recorded afterwards: November charges it as a late adjustment,
/// 1.00, naming October. October disputed and recomputed leaves r4 out: it is counted on
/// November already (1.23 on October, 1.00 on November, once each).
#[tokio::test]
async fn a_late_redemption_is_charged_once_on_the_next_draft() {
    let f = Fixture::new().await;
    let a = f.agreement(percentage(1000, "EUR"), "2026-09-01").await;
    let r1 = f
        .redemption("2026-10-10T10:00:00Z", Some((1234, "EUR")))
        .await;
    let fin = &f.finance;
    let oct = fin.compute_settlement(a.id, "2026-10").await.unwrap();
    fin.review_settlement(oct.id, None).await.unwrap();
    fin.approve_settlement(oct.id, None).await.unwrap();
    let r4 = f
        .redemption("2026-10-20T10:00:00Z", Some((1000, "EUR")))
        .await;
    let nov = fin.compute_settlement(a.id, "2026-11").await.unwrap();
    let lines = f.lines(nov.id).await;
    assert_eq!(amounts(&lines), vec![("adjustment".into(), Some(100))]);
    assert_eq!(lines[0].redemption_id, Some(r4));
    assert_eq!(lines[0].counts.as_deref(), Some("charge"));
    assert_eq!(lines[0].rate_bps, Some(1000));
    assert_eq!(
        lines[0].reason.as_deref(),
        Some(format!("late redemption {r4} of 2026-10-20 (settlement {})", oct.id).as_str())
    );
    assert_eq!(nov.commission_minor, 100);
    // Computed again, still once.
    let nov = fin.compute_settlement(a.id, "2026-11").await.unwrap();
    assert_eq!(nov.commission_minor, 100);
    fin.review_settlement(nov.id, None).await.unwrap();
    fin.dispute_settlement(oct.id, "recheck").await.unwrap();
    fin.compute_settlement(a.id, "2026-10").await.unwrap();
    let oct_lines = f.lines(oct.id).await;
    assert_eq!(amounts(&oct_lines), vec![("redemption".into(), Some(123))]);
    assert_eq!(oct_lines[0].redemption_id, Some(r1));
}

/// A hybrid period's late redemptions take the next places after what it counted, by hand:
/// base 4%, bonus +2% after the 3rd. October priced two redemptions (10.00 → 0.40 each) and
/// is approved. Recorded late together: r4 (2026-10-01, 10.00) is the 3rd → 4% → 0.40, r3
/// (2026-10-25, 50.00) the 4th → 6% → 3.00, on November. Later still, r5 (2026-10-30, 20.00)
/// is the 5th → 6% → 1.20, on December.
#[tokio::test]
async fn late_hybrid_redemptions_take_the_next_places_of_their_period() {
    let f = Fixture::new().await;
    let draft = partnerdesk::domain::terms::TermsDraft {
        model: "hybrid".into(),
        base_bps: Some(400),
        bonus_bps: Some(200),
        bonus_threshold: Some(3),
        currency: "EUR".into(),
        frequency: "monthly".into(),
        ..Default::default()
    };
    let a = f.agreement(draft, "2026-09-01").await;
    f.redemption("2026-10-05T10:00:00Z", Some((1000, "EUR")))
        .await;
    f.redemption("2026-10-06T10:00:00Z", Some((1000, "EUR")))
        .await;
    let fin = &f.finance;
    let oct = fin.compute_settlement(a.id, "2026-10").await.unwrap();
    assert_eq!(oct.commission_minor, 80);
    fin.review_settlement(oct.id, None).await.unwrap();
    fin.approve_settlement(oct.id, None).await.unwrap();
    let r3 = f
        .redemption("2026-10-25T10:00:00Z", Some((5000, "EUR")))
        .await;
    let r4 = f
        .redemption("2026-10-01T10:00:00Z", Some((1000, "EUR")))
        .await;
    let nov = fin.compute_settlement(a.id, "2026-11").await.unwrap();
    let lines = f.lines(nov.id).await;
    let got: Vec<(Option<i64>, Option<i32>, Option<i64>)> = lines
        .iter()
        .map(|l| (l.redemption_id, l.rate_bps, l.amount_minor))
        .collect();
    assert_eq!(
        got,
        vec![
            (Some(r4), Some(400), Some(40)),
            (Some(r3), Some(600), Some(300))
        ]
    );
    fin.review_settlement(nov.id, None).await.unwrap();
    fin.approve_settlement(nov.id, None).await.unwrap();
    let r5 = f
        .redemption("2026-10-30T10:00:00Z", Some((2000, "EUR")))
        .await;
    let dec = fin.compute_settlement(a.id, "2026-12").await.unwrap();
    let lines = f.lines(dec.id).await;
    assert_eq!(lines.len(), 1);
    assert_eq!(
        (
            lines[0].redemption_id,
            lines[0].rate_bps,
            lines[0].amount_minor
        ),
        (Some(r5), Some(600), Some(120))
    );
    assert_eq!(dec.commission_minor, 120);
}

/// A conversion reported late, by hand: Alder's September (2 × 4.00, approved; with the
/// default 30-day holding period it prices conversions of [2026-08-02, 2026-09-01)) is closed
/// when a third conversion dated 2026-08-20 arrives (due 2026-09-19: September's); the command
/// says so on a line of its own, and October's draft charges it: payouts 4.00, net −4.00.
#[tokio::test]
async fn a_late_conversion_says_where_it_lands_and_is_charged_there() {
    let f = Fixture::new().await;
    let (partner, sept) = crate::owed::owed(&f.db, "Alder", "EUR", "4.00", 2).await;
    let admin = f.db.admin().await;
    let code: String = sqlx::query_scalar("SELECT code FROM referral_codes WHERE partner_id = $1")
        .bind(partner)
        .fetch_one(&f.db.pool)
        .await
        .unwrap();
    let account = partner * 100 + 50;
    admin
        .attribute_account_at(&code, account, "2026-08-01T09:00:00Z".parse().ok())
        .await
        .unwrap();
    let out = pd(
        Some(&f.db),
        "ada",
        &[
            "referrals",
            "convert",
            "--account",
            &account.to_string(),
            "--plan",
            "plan-eur",
            "--at",
            "2026-08-20T10:00:00Z",
        ],
    );
    out.success();
    assert_eq!(
        out.stdout_lines()[1],
        format!(
            "late: settlement {sept} (2026-09) is approved; it is charged as an adjustment on the partner's next EUR statement computed after 2026-09"
        ),
        "{out}"
    );
    let agreement: i64 = sqlx::query_scalar("SELECT agreement_id FROM settlements WHERE id = $1")
        .bind(sept)
        .fetch_one(&f.db.pool)
        .await
        .unwrap();
    let oct = f
        .finance
        .compute_settlement(agreement, "2026-10")
        .await
        .unwrap();
    let lines = f.lines(oct.id).await;
    assert_eq!(amounts(&lines), vec![("adjustment".into(), Some(400))]);
    assert_eq!(lines[0].counts.as_deref(), Some("charge"));
    assert!(
        lines[0]
            .reason
            .as_deref()
            .unwrap()
            .starts_with("late referral payout "),
        "{lines:?}"
    );
    assert_eq!((oct.payouts_minor, oct.net_minor), (400, -400));
}

/// Late redemptions of the other models, by hand: a fixed fee of 1.25 per redemption charges a
/// late one 1.25; a flat fee's period charged its fee once, so a late redemption adds a line at
/// 0.00 (counted, never charged again).
#[tokio::test]
async fn late_redemptions_of_fixed_and_flat_fee_periods() {
    for (model, amount, late) in [("fixed_fee", "1.25", 125), ("flat_fee", "300", 0)] {
        let f = Fixture::new().await;
        let draft = partnerdesk::domain::terms::TermsDraft {
            model: model.into(),
            amount: Some(amount.into()),
            currency: "EUR".into(),
            frequency: "monthly".into(),
            ..Default::default()
        };
        let a = f.agreement(draft, "2026-09-01").await;
        f.redemption("2026-10-05T10:00:00Z", Some((1000, "EUR")))
            .await;
        let fin = &f.finance;
        let oct = fin.compute_settlement(a.id, "2026-10").await.unwrap();
        fin.review_settlement(oct.id, None).await.unwrap();
        fin.approve_settlement(oct.id, None).await.unwrap();
        let r = f.redemption("2026-10-25T10:00:00Z", None).await;
        let nov = fin.compute_settlement(a.id, "2026-11").await.unwrap();
        let lines = f.lines(nov.id).await;
        let adjustments: Vec<(Option<i64>, Option<i64>)> = lines
            .iter()
            .filter(|l| l.origin_settlement_id == Some(oct.id))
            .map(|l| (l.redemption_id, l.amount_minor))
            .collect();
        assert_eq!(adjustments, vec![(Some(r), Some(late))], "{model}");
    }
}
