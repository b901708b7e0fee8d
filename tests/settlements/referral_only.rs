//! A referral-only partner (issue 14): no commission on its redemptions, its statements hold
//! its referral payouts, the net is what the marketplace owes; the CLI says when a payout has
//! no agreement to reach a statement through.

use super::Fixture;
use super::cli::pd;
use super::referrals::plan;
use serde_json::Value;

/// A referral-only partner, worked by hand: payouts 19.90 EUR × 12.5% = 2.4875 → 2.49 (the
/// default rule) and a flat 1.50 (the basic plan's rule) in September; two redemptions in
/// September owe nothing. Statement: 2 referral lines, commission 0.00, take 0.00, payouts
/// 3.99, net = commission − payouts = −3.99 (the marketplace owes it); the approval's ledger
/// entry is the net, −3.99.
#[tokio::test]
async fn a_referral_only_partner_is_paid_its_payouts_and_owes_nothing() {
    let f = Fixture::new().await;
    f.no_holding().await;
    let admin = f.db.admin().await;
    plan(&admin, "pro", "19.90", "EUR").await;
    plan(&admin, "basic", "9.90", "EUR").await;
    let code = admin.add_referral_code(f.partner_id, None).await.unwrap();
    admin
        .set_commission_rule(f.partner_id, None, Some(1250), None, None)
        .await
        .unwrap();
    admin
        .set_commission_rule(f.partner_id, Some("basic"), None, Some("1.50"), Some("EUR"))
        .await
        .unwrap();
    // Registered in July (reported late): the conversions below come after it.
    let july = "2026-07-01T09:00:00Z".parse().ok();
    for account in [21, 22, 23] {
        admin
            .attribute_account_at(&code.code, account, july)
            .await
            .unwrap();
    }
    let pid = f.partner_id.to_string();
    // August, before any agreement: the payout is made, and the CLI says it is on no
    // statement yet.
    let out = pd(
        Some(&f.db),
        "ada",
        &[
            "referrals",
            "convert",
            "--account",
            "23",
            "--plan",
            "pro",
            "--at",
            "2026-08-20T10:00:00Z",
        ],
    );
    out.success();
    assert_eq!(
        out.stdout_lines()[1],
        format!(
            "partner {pid} has no agreement in effect for 2026-08: this payout reaches a statement \
             once it has one (agreements add --partner {pid} --model referral_only --currency EUR \
             --frequency monthly --from 2026-08-01)"
        ),
        "{out}"
    );

    let out = pd(
        Some(&f.db),
        "fin",
        &[
            "agreements",
            "add",
            "--partner",
            &pid,
            "--currency",
            "EUR",
            "--frequency",
            "monthly",
            "--model",
            "referral_only",
            "--from",
            "2026-09-01",
        ],
    );
    out.success();
    assert!(
        out.stdout_lines()[0].ends_with(&format!(
            "version 1 of partner #{pid} from 2026-09-01: referral only (no commission) · EUR monthly"
        )),
        "{out}"
    );
    let a_id: i64 = sqlx::query_scalar("SELECT id FROM agreements")
        .fetch_one(&f.db.pool)
        .await
        .unwrap();
    let out = pd(
        Some(&f.db),
        "fin",
        &["agreements", "show", &a_id.to_string(), "--json"],
    );
    out.success();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["model"], "referral_only");
    assert_eq!(v["rate_bps"], Value::Null);
    assert_eq!(v["amount_minor"], Value::Null);
    let out = pd(
        Some(&f.db),
        "fin",
        &["agreements", "show", &a_id.to_string()],
    );
    assert!(
        out.stdout_text().contains("referral only (no commission)"),
        "{out}"
    );
    assert!(
        out.stdout_text()
            .contains("none: a referral-only agreement has no commission to take from"),
        "the stored take rate does not apply: {out}"
    );

    // September's payouts, now with an agreement in effect: no note.
    let out = pd(
        Some(&f.db),
        "ada",
        &[
            "referrals",
            "convert",
            "--account",
            "21",
            "--plan",
            "pro",
            "--at",
            "2026-09-10T10:00:00Z",
        ],
    );
    out.success();
    assert_eq!(out.stdout_lines().len(), 1, "{out}");
    admin
        .convert_account(22, "basic", Some("2026-09-12T10:00:00Z".parse().unwrap()))
        .await
        .unwrap();
    f.redemption("2026-09-05T10:00:00Z", Some((5000, "EUR")))
        .await;
    f.redemption("2026-09-06T10:00:00Z", None).await;

    let s = f.finance.compute_settlement(a_id, "2026-09").await.unwrap();
    assert_eq!(
        (
            s.commission_minor,
            s.payouts_minor,
            s.take_minor,
            s.net_minor,
            s.redemption_count,
            s.exception_count
        ),
        (0, 399, 0, -399, 0, 0)
    );
    assert_eq!(
        super::amounts(&f.lines(s.id).await),
        [
            ("referral".into(), Some(249)),
            ("referral".into(), Some(150)),
        ]
    );
    // The JSON statement.
    let out = pd(
        Some(&f.db),
        "fin",
        &["settle", "show", &s.id.to_string(), "--json"],
    );
    out.success();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["totals"]["commission"], "0.00");
    assert_eq!(v["totals"]["payouts"], "3.99");
    assert_eq!(v["totals"]["take"], "0.00");
    assert_eq!(v["totals"]["net"], "-3.99");
    assert_eq!(v["lines"].as_array().unwrap().len(), 2);
    assert_eq!(v["lines"][0]["amount"], "2.49");
    assert_eq!(v["lines"][1]["amount"], "1.50");
    // The CSV statement: the two payouts, line by line.
    let dir = super::cli::TempDir::new("pd-referral-only");
    let file = dir.path("statement.csv");
    pd(
        Some(&f.db),
        "fin",
        &[
            "settle",
            "export",
            &s.id.to_string(),
            "--out",
            file.to_str().unwrap(),
        ],
    )
    .success();
    let csv = std::fs::read_to_string(&file).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 3, "{csv}");
    assert!(rows[1].starts_with("1,referral,"), "{csv}");
    assert!(rows[1].ends_with(",19.90,EUR,1250,2.49,EUR,"), "{csv}");
    assert!(rows[2].starts_with("2,referral,"), "{csv}");
    assert!(rows[2].ends_with(",9.90,EUR,,1.50,EUR,"), "{csv}");
    // The text statement names who owes the net.
    let out = pd(Some(&f.db), "fin", &["settle", "show", &s.id.to_string()]);
    assert!(
        out.stdout_text()
            .contains("-3.99 EUR (negative: the marketplace pays)"),
        "{out}"
    );
    // Approving writes the net to the ledger.
    f.finance.review_settlement(s.id, None).await.unwrap();
    // The approval says who owes whom, without a minus sign.
    let out = pd(
        Some(&f.db),
        "fin",
        &["settle", "approve", &s.id.to_string()],
    );
    out.success();
    assert_eq!(
        out.stdout_text(),
        format!(
            "settlement {} approved; ledger: 3.99 EUR due to the partner\n",
            s.id
        ),
        "{out}"
    );
    assert_eq!(
        f.db.count("SELECT amount_minor FROM payout_ledger WHERE kind = 'approval'")
            .await,
        -399
    );
}

#[tokio::test]
async fn the_schema_refuses_a_referral_only_agreement_with_parameters() {
    let f = Fixture::new().await;
    let e = sqlx::query(
        "INSERT INTO agreements (partner_id, version, effective_from, currency, frequency, model,
                rate_bps, created_by)
         VALUES ($1, 1, '2026-09-01', 'EUR', 'monthly', 'referral_only', 500, 'x')",
    )
    .bind(f.partner_id)
    .execute(&f.db.pool)
    .await
    .unwrap_err();
    assert!(e.to_string().contains("agreements_model_params"), "{e}");
}
