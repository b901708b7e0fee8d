//! The statement's figures: every model, rounding ties, currencies' minor units, flags,
//! exceptions, recomputation, and a large statement against the plain-Rust rule.

use super::{Fixture, amounts, percentage};
use partnerdesk::domain::settlement::{Priceable, Totals, commission_of, price};
use partnerdesk::domain::terms::TermsDraft;

/// (line, redemption, rate, amount)
type LineFigures = (i32, Option<i64>, Option<i32>, Option<i64>);

#[tokio::test]
async fn percentage_lines_round_half_away_from_zero_once_each() {
    let f = Fixture::new().await;
    let a = f.agreement(percentage(500, "EUR"), "2026-09-01").await;
    // 12.50 × 5% = 0.625 → 0.63; 0.30 × 5% = 0.015 → 0.02 (half to even would give 0.02 too);
    // 0.10 × 5% = 0.005 → 0.01 (half to even: 0.00); 0.50 × 5% = 0.025 → 0.03 (even: 0.02);
    // 0.00 → 0.00; 19.99 × 5% = 0.9995 → 1.00.
    for (i, v) in [1250, 30, 10, 50, 0, 1999].into_iter().enumerate() {
        f.redemption(&format!("2026-09-0{}T10:00:00Z", i + 1), Some((v, "EUR")))
            .await;
    }
    // Outside the period on both sides: not in the statement.
    f.redemption("2026-08-31T23:59:59Z", Some((1000, "EUR")))
        .await;
    f.redemption("2026-10-01T00:00:00Z", Some((1000, "EUR")))
        .await;
    let s = f.finance.compute_settlement(a.id, "2026-09").await.unwrap();
    let lines = f.lines(s.id).await;
    let got: Vec<Option<i64>> = lines.iter().map(|l| l.amount_minor).collect();
    assert_eq!(
        got,
        [Some(63), Some(2), Some(1), Some(3), Some(0), Some(100)]
    );
    // Σ = 169; take 15% of 1.69 = 0.2535 → 0.25; net = commission (no payouts yet).
    assert_eq!(s.commission_minor, 169);
    assert_eq!(s.take_minor, 25);
    assert_eq!(s.net_minor, 169);
    assert_eq!(
        (s.line_count, s.redemption_count, s.exception_count),
        (6, 6, 0)
    );
    assert_eq!(s.status.as_str(), "draft");
    assert!(lines.iter().all(|l| l.rate_bps == Some(500)));
}

#[tokio::test]
async fn hybrid_bonus_starts_with_the_redemption_after_the_threshold() {
    let f = Fixture::new().await;
    let draft = TermsDraft {
        model: "hybrid".into(),
        base_bps: Some(500),
        bonus_bps: Some(250),
        bonus_threshold: Some(3),
        currency: "EUR".into(),
        frequency: "monthly".into(),
        ..Default::default()
    };
    let a = f.agreement(draft, "2026-09-01").await;
    // Ordered by (redeemed_at, id): two at the same second keep their id order.
    for t in ["01", "02", "03", "03", "04"] {
        f.redemption(&format!("2026-09-{t}T12:00:00Z"), Some((1000, "EUR")))
            .await;
    }
    // A redemption without a value is an exception and does not count towards the threshold.
    f.redemption("2026-09-02T13:00:00Z", None).await;
    let s = f.finance.compute_settlement(a.id, "2026-09").await.unwrap();
    let lines = f.lines(s.id).await;
    let got: Vec<(i32, Option<i32>, Option<i64>)> = lines
        .iter()
        .map(|l| (l.line_no, l.rate_bps, l.amount_minor))
        .collect();
    // 10.00 at 5% = 0.50 for the 1st–3rd priced; at 7.5% = 0.75 for the 4th and 5th.
    assert_eq!(
        got,
        [
            (1, Some(500), Some(50)),
            (2, Some(500), Some(50)),
            (3, None, None),
            (4, Some(500), Some(50)),
            (5, Some(750), Some(75)),
            (6, Some(750), Some(75)),
        ]
    );
    assert_eq!(s.commission_minor, 300);
    assert_eq!((s.line_count, s.exception_count), (5, 1));
}

#[tokio::test]
async fn fixed_fee_and_flat_fee() {
    let f = Fixture::new().await;
    let fixed = TermsDraft {
        model: "fixed_fee".into(),
        amount: Some("2.00".into()),
        currency: "EUR".into(),
        frequency: "monthly".into(),
        ..Default::default()
    };
    let a = f.agreement(fixed, "2026-08-01").await;
    // A fixed fee needs no value: these are all priced at 2.00.
    f.redemption("2026-08-05T10:00:00Z", None).await;
    f.redemption("2026-08-06T10:00:00Z", Some((500, "USD")))
        .await;
    f.redemption("2026-08-07T10:00:00Z", Some((900, "EUR")))
        .await;
    let s = f.finance.compute_settlement(a.id, "2026-08").await.unwrap();
    assert_eq!(s.commission_minor, 600);
    assert_eq!(s.exception_count, 0);

    let flat = TermsDraft {
        model: "flat_fee".into(),
        amount: Some("150".into()),
        currency: "EUR".into(),
        frequency: "monthly".into(),
        ..Default::default()
    };
    let b = f.agreement(flat, "2026-09-01").await;
    f.redemption("2026-09-05T10:00:00Z", Some((1000, "EUR")))
        .await;
    f.redemption("2026-09-06T10:00:00Z", None).await;
    let s = f.finance.compute_settlement(b.id, "2026-09").await.unwrap();
    let lines = f.lines(s.id).await;
    // Each redemption 0 (informational), then the period's fee of 150.00.
    assert_eq!(
        amounts(&lines),
        [
            ("redemption".into(), Some(0)),
            ("redemption".into(), Some(0)),
            ("period_fee".into(), Some(15000)),
        ]
    );
    assert_eq!(s.commission_minor, 15000);
    // 15% of 150.00 = 22.50
    assert_eq!(s.take_minor, 2250);
    assert_eq!((s.line_count, s.redemption_count), (3, 2));
}

#[tokio::test]
async fn jpy_and_kwd_round_to_their_own_minor_unit() {
    let f = Fixture::new().await;
    let jpy = f.agreement(percentage(250, "JPY"), "2026-07-01").await;
    // ¥1005 × 2.5% = 25.125 → 25; ¥1020 × 2.5% = 25.5 → 26; ¥1060 × 2.5% = 26.5 → 27.
    for v in [1005, 1020, 1060] {
        f.redemption("2026-07-10T10:00:00Z", Some((v, "JPY"))).await;
    }
    let s = f
        .finance
        .compute_settlement(jpy.id, "2026-07")
        .await
        .unwrap();
    assert_eq!(s.commission_minor, 78);
    // take 15% of ¥78 = 11.7 → 12
    assert_eq!(s.take_minor, 12);

    let kwd = f.agreement(percentage(1250, "KWD"), "2026-08-01").await;
    // 1.234 KWD × 12.5% = 0.15425 → 0.154; 1.236 × 12.5% = 0.1545 → 0.155 (even: 0.154).
    f.redemption("2026-08-10T10:00:00Z", Some((1234, "KWD")))
        .await;
    f.redemption("2026-08-11T10:00:00Z", Some((1236, "KWD")))
        .await;
    let s = f
        .finance
        .compute_settlement(kwd.id, "2026-08")
        .await
        .unwrap();
    let lines = f.lines(s.id).await;
    assert_eq!(
        lines.iter().map(|l| l.amount_minor).collect::<Vec<_>>(),
        [Some(154), Some(155)]
    );
    assert_eq!(s.commission_minor, 309);
    assert_eq!(s.currency, "KWD");
}

#[tokio::test]
async fn flagged_redemptions_are_left_out_until_unflagged_and_exceptions_are_listed() {
    let f = Fixture::new().await;
    let support =
        f.db.desk("sam", &[partnerdesk::domain::Role::Support])
            .await;
    let a = f.agreement(percentage(1000, "EUR"), "2026-09-01").await;
    let flagged = f
        .redemption("2026-09-01T10:00:00Z", Some((1000, "EUR")))
        .await;
    f.redemption("2026-09-02T10:00:00Z", Some((2000, "EUR")))
        .await;
    f.redemption("2026-09-03T10:00:00Z", Some((3000, "USD")))
        .await;
    f.redemption("2026-09-04T10:00:00Z", None).await;
    support
        .flag_redemption(
            flagged,
            partnerdesk::domain::FlagKind::Fraud,
            "same card 40 times",
        )
        .await
        .unwrap();
    let s = f.finance.compute_settlement(a.id, "2026-09").await.unwrap();
    // Only 20.00 × 10% = 2.00 is priced; USD and no-value are exceptions, not in the totals.
    assert_eq!(s.commission_minor, 200);
    assert_eq!((s.line_count, s.exception_count), (1, 2));
    let lines = f.lines(s.id).await;
    let exc: Vec<String> = lines
        .iter()
        .filter_map(|l| l.exception.0.map(|e| e.to_string()))
        .collect();
    assert_eq!(exc, ["other_currency", "no_value"]);
    assert!(lines.iter().all(|l| l.redemption_id != Some(flagged)));

    support
        .unflag_redemption(flagged, "card holder confirmed")
        .await
        .unwrap();
    let s = f.finance.compute_settlement(a.id, "2026-09").await.unwrap();
    assert_eq!(s.commission_minor, 300);
    assert_eq!(f.lines(s.id).await[0].redemption_id, Some(flagged));
}

#[tokio::test]
async fn recomputing_gives_the_same_lines_and_one_settlement_per_period() {
    let f = Fixture::new().await;
    let a = f.agreement(percentage(333, "EUR"), "2026-09-01").await;
    for i in 0..25 {
        f.redemption(
            &format!("2026-09-{:02}T10:00:00Z", i + 1),
            Some((1000 + i * 37, "EUR")),
        )
        .await;
    }
    let first = f.finance.compute_settlement(a.id, "2026-09").await.unwrap();
    let lines1 = f.lines(first.id).await;
    let again = f.finance.compute_settlement(a.id, "2026-09").await.unwrap();
    let lines2 = f.lines(again.id).await;
    assert_eq!(
        first.id, again.id,
        "one settlement per agreement and period"
    );
    assert_eq!(lines1, lines2);
    assert_eq!(first.commission_minor, again.commission_minor);
    assert_eq!(again.version, first.version + 1);
    assert_eq!(
        f.db.count("SELECT count(*) FROM settlements").await,
        1,
        "no second row"
    );
    // Two computations: two audit rows and two events for the settlement.
    assert_eq!(
        f.db.count("SELECT count(*) FROM audit_log WHERE action = 'settlement.compute'")
            .await,
        2
    );
    assert_eq!(
        f.db.count("SELECT count(*) FROM outbox_events WHERE event_type = 'settlement.computed'")
            .await,
        2
    );
}

/// 20,000 redemptions with random values (some without, some in another currency, a few
/// flagged) under a hybrid agreement: the database's statement equals the plain-Rust rule's,
/// line by line, and the totals are sums of the rounded lines.
#[tokio::test]
async fn a_large_statement_matches_the_plain_rule_line_by_line() {
    let f = Fixture::new().await;
    let draft = TermsDraft {
        model: "hybrid".into(),
        base_bps: Some(437),
        bonus_bps: Some(163),
        bonus_threshold: Some(7_000),
        currency: "EUR".into(),
        frequency: "monthly".into(),
        take_rate_bps: Some(1234),
        ..Default::default()
    };
    let a = f.agreement(draft, "2026-06-01").await;
    sqlx::query(
        "INSERT INTO redemptions (deal_id, member_id, source, coupon_code, redeemed_at, value_minor, currency)
         SELECT $1, $2, 'copy_code', 'SETTLE',
                timestamptz '2026-06-01' + (g % 2500) * interval '17 minutes',
                CASE WHEN g % 97 = 0 THEN NULL ELSE (g * 7919) % 50000 END,
                CASE WHEN g % 97 = 0 THEN NULL WHEN g % 89 = 0 THEN 'USD' ELSE 'EUR' END
           FROM generate_series(1, 20000) g",
    )
    .bind(f.deal_id)
    .bind(f.member_id)
    .execute(&f.db.pool)
    .await
    .unwrap();
    // Flag a few.
    sqlx::query(
        "UPDATE redemptions SET flag_kind = 'fraud', flag_note = 'test', flagged_by = 'fin',
                flagged_at = now()
          WHERE deal_id = $1 AND id % 487 = 0",
    )
    .bind(f.deal_id)
    .execute(&f.db.pool)
    .await
    .unwrap();

    let s = f.finance.compute_settlement(a.id, "2026-06").await.unwrap();
    let input: Vec<Priceable> = sqlx::query_as::<
        _,
        (
            i64,
            chrono::DateTime<chrono::Utc>,
            Option<i64>,
            Option<String>,
        ),
    >(
        "SELECT id, redeemed_at, value_minor, currency FROM redemptions
          WHERE deal_id = $1 AND flag_kind IS NULL
            AND redeemed_at >= '2026-06-01' AND redeemed_at < '2026-07-01'
          ORDER BY redeemed_at, id",
    )
    .bind(f.deal_id)
    .fetch_all(&f.db.pool)
    .await
    .unwrap()
    .into_iter()
    .map(|(id, at, v, c)| Priceable {
        redemption_id: id,
        at,
        value_minor: v,
        currency: c,
    })
    .collect();
    let expected = price(&a.commission(), "EUR", &input);
    let got: Vec<LineFigures> = sqlx::query_as(
        "SELECT line_no, redemption_id, rate_bps, amount_minor FROM settlement_lines
          WHERE settlement_id = $1 ORDER BY line_no",
    )
    .bind(s.id)
    .fetch_all(&f.db.pool)
    .await
    .unwrap();
    let want: Vec<LineFigures> = expected
        .iter()
        .map(|l| (l.line_no, l.redemption_id, l.rate_bps, l.amount_minor))
        .collect();
    assert_eq!(got.len(), want.len());
    assert_eq!(got, want);
    let totals = Totals::of(commission_of(&expected), 0, 1234);
    assert_eq!(s.commission_minor, totals.commission_minor);
    assert_eq!(s.take_minor, totals.take_minor);
    assert!(s.exception_count > 300, "{} exceptions", s.exception_count);
}
