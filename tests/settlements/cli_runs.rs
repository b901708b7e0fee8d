//! `partnerdesk agreements …` and `partnerdesk settle …` through the real binary.

use super::Fixture;
use super::cli::{TempDir, pd};
use serde_json::Value;

fn json(out: &super::cli::Out) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("JSON: {e}{out}"))
}

#[tokio::test]
async fn finance_works_a_statement_from_agreement_to_payment() {
    let f = Fixture::new().await;
    let pid = f.partner_id.to_string();
    // ¥ fixed fee, then a KWD percentage: each currency's places in every printed amount.
    let out = pd(
        Some(&f.db),
        "fin",
        &[
            "agreements",
            "add",
            "--partner",
            &pid,
            "--currency",
            "KWD",
            "--frequency",
            "monthly",
            "--model",
            "percentage",
            "--bps",
            "1250",
            "--from",
            "2026-09-01",
            "--json",
        ],
    );
    out.success();
    let agreement = json(&out)["id"].as_i64().unwrap().to_string();
    f.redemption("2026-09-10T10:00:00Z", Some((1234, "KWD")))
        .await;
    f.redemption("2026-09-11T10:00:00Z", Some((1236, "KWD")))
        .await;
    f.redemption("2026-09-12T10:00:00Z", None).await;

    let out = pd(
        Some(&f.db),
        "fin",
        &[
            "settle",
            "compute",
            "--agreement",
            &agreement,
            "--period",
            "2026-09",
        ],
    );
    out.success();
    let text = out.stdout_text();
    // 0.154 + 0.155 = 0.309 KWD; take 15% = 0.04635 → 0.046.
    assert!(
        text.contains("2 lines, 1 exception, commission 0.309 KWD, take 0.046 KWD"),
        "{out}"
    );
    let id: String = text.split_whitespace().nth(2).unwrap().to_owned();

    let out = pd(Some(&f.db), "fin", &["settle", "show", &id, "--json"]);
    out.success();
    let v = json(&out);
    assert_eq!(v["status"], "draft");
    assert_eq!(v["period"], "2026-09");
    assert_eq!(v["totals"]["commission"], "0.309");
    assert_eq!(v["totals"]["take"], "0.046");
    assert_eq!(v["terms"]["model"], "percentage");
    let lines = v["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["kind"], "redemption");
    assert_eq!(lines[0]["value"], "1.234");
    assert_eq!(lines[0]["amount"], "0.154");
    assert_eq!(lines[1]["amount"], "0.155");
    assert_eq!(lines[2]["kind"], "exception");
    assert_eq!(lines[2]["exception"], "no_value");
    assert_eq!(lines[2]["amount"], Value::Null);

    // Review needs a note for the exception: one line naming the field, exit 3.
    let out = pd(Some(&f.db), "fin", &["settle", "review", &id]);
    let line = out.error_line(3);
    assert!(
        line.starts_with("note: required: 1 redemption could not be priced"),
        "{out}"
    );
    pd(
        Some(&f.db),
        "fin",
        &[
            "settle",
            "review",
            &id,
            "--note",
            "order without value is void",
        ],
    )
    .success();
    pd(
        Some(&f.db),
        "fin",
        &["settle", "tally", &id, "--count", "2", "--amount", "0.309"],
    )
    .success();
    // A curator reads, but may not approve.
    let out = pd(Some(&f.db), "cara", &["settle", "approve", &id]);
    assert_eq!(out.code, 3, "{out}");
    let out = pd(Some(&f.db), "fin", &["settle", "approve", &id]);
    out.success();
    assert!(
        out.stdout_text()
            .contains("ledger: 0.309 KWD due from the partner"),
        "{out}"
    );
    let out = pd(
        Some(&f.db),
        "fin",
        &[
            "settle",
            "pay",
            &id,
            "--reference",
            "KW-TRF-88",
            "--paid-on",
            "2099-01-01",
        ],
    );
    assert!(
        out.error_line(3)
            .starts_with("paid-on: must not be in the future"),
        "{out}"
    );
    pd(
        Some(&f.db),
        "fin",
        &["settle", "pay", &id, "--reference", "KW-TRF-88"],
    )
    .success();

    let out = pd(Some(&f.db), "fin", &["settle", "list", "--status", "paid"]);
    out.success();
    let text = out.stdout_text();
    assert!(text.contains("2026-09"), "{out}");
    assert!(text.contains("0.309 KWD"), "{out}");
    assert!(text.contains("matches"), "{out}");
    // As CSV: amounts as decimals in the currency's units.
    let out = pd(
        Some(&f.db),
        "fin",
        &["settle", "list", "--status", "paid", "--csv"],
    );
    out.success();
    let lines = out.stdout_lines();
    assert_eq!(
        lines[0],
        "id,partner,partner_id,agreement_version,period,status,lines,exceptions,currency,commission,net,review_deadline,payout",
        "{out}"
    );
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[1].starts_with(&format!("{id},")), "{out}");
    assert!(lines[1].contains(",2026-09,paid,"), "{out}");
    assert!(lines[1].contains(",KWD,0.309,"), "{out}");

    // The statement a partner checks line by line.
    let dir = TempDir::new("pd-statement");
    let file = dir.path("statement.csv");
    let out = pd(
        Some(&f.db),
        "fin",
        &["settle", "export", &id, "--out", file.to_str().unwrap()],
    );
    out.success();
    let csv = std::fs::read_to_string(&file).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(
        rows[0],
        "line,kind,source_id,at,value,value_currency,rate_bps,amount,currency,exception"
    );
    assert_eq!(rows.len(), 4);
    assert!(rows[1].starts_with("1,redemption,"), "{csv}");
    assert!(rows[1].ends_with(",1.234,KWD,1250,0.154,KWD,"), "{csv}");
    assert!(rows[3].ends_with(",,,,,KWD,no_value"), "{csv}");
}

#[tokio::test]
async fn bad_input_gets_one_line_naming_the_field() {
    let f = Fixture::new().await;
    let pid = f.partner_id.to_string();
    let out = pd(
        Some(&f.db),
        "fin",
        &[
            "agreements",
            "add",
            "--partner",
            &pid,
            "--currency",
            "JPY",
            "--frequency",
            "monthly",
            "--model",
            "fixed_fee",
            "--fee",
            "12.5",
            "--from",
            "2026-09-01",
        ],
    );
    assert_eq!(out.error_line(3), "fee: JPY has 0 decimal places; got 12.5");
    let out = pd(
        Some(&f.db),
        "fin",
        &[
            "settle",
            "compute",
            "--agreement",
            "999",
            "--period",
            "2026-09",
        ],
    );
    assert_eq!(out.error_line(4), "agreement 999 not found");
    let out = pd(
        Some(&f.db),
        "fin",
        &["settle", "compute", "--all", "--period", "September"],
    );
    assert!(
        out.error_line(3)
            .starts_with("period: must be a month like 2026-10"),
        "{out}"
    );
    let out = pd(
        Some(&f.db),
        "fin",
        &["settle", "compute", "--period", "2026-09"],
    );
    assert_eq!(out.code, 2, "either --agreement or --all:{out}");
}

#[tokio::test]
async fn the_demo_has_values_agreements_and_a_settlement_in_every_status() {
    let db = super::common::TestDb::new().await;
    let out = pd(Some(&db), "zed", &["seed", "--demo"]);
    assert_eq!(out.code, 0, "{out}");
    for status in ["draft", "in_review", "approved", "paid", "disputed"] {
        let n = db
            .count(&format!(
                "SELECT count(*) FROM settlements WHERE status = '{status}'"
            ))
            .await;
        assert!(n >= 1, "a {status} settlement in the demo");
    }
    let currencies = db
        .count("SELECT count(DISTINCT currency) FROM agreements")
        .await;
    assert!(currencies >= 3, "EUR, JPY and KWD agreements");
    // The referral-only partner's statements: its payouts, no commission, a net it is owed.
    let referral_only = db
        .count(
            "SELECT count(*) FROM settlements s JOIN agreements a ON a.id = s.agreement_id
              WHERE a.model = 'referral_only' AND s.commission_minor = 0 AND s.redemption_count = 0
                AND s.payouts_minor > 0 AND s.net_minor = -s.payouts_minor",
        )
        .await;
    assert!(referral_only >= 1, "a referral-only statement with payouts");
    assert_eq!(
        db.count(
            "SELECT count(*) FROM settlement_lines l JOIN settlements s ON s.id = l.settlement_id
               JOIN agreements a ON a.id = s.agreement_id
              WHERE a.model = 'referral_only' AND l.kind <> 'referral'"
        )
        .await,
        0,
        "a referral-only statement has referral lines only"
    );
    let share = db
        .count("SELECT (count(value_minor) * 100 / count(*))::bigint FROM redemptions")
        .await;
    assert!(share >= 90, "most redemptions carry a value ({share}%)");
    // Each approved or paid one has its ledger entry; each paid one its payment.
    assert_eq!(
        db.count("SELECT count(*) FROM settlements WHERE status IN ('approved', 'paid')")
            .await,
        db.count("SELECT count(*) FROM payout_ledger WHERE kind = 'approval'")
            .await
    );
    assert_eq!(
        db.count("SELECT count(*) FROM settlements WHERE status = 'paid'")
            .await,
        db.count("SELECT count(*) FROM payout_ledger WHERE kind = 'payment'")
            .await
    );
}

/// `agreements add` with `args` over a partner's EUR/monthly defaults from 2026-09-01.
fn add_args<'a>(pid: &'a str, currency: &'a str, args: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "agreements",
        "add",
        "--partner",
        pid,
        "--currency",
        currency,
        "--frequency",
        "monthly",
        "--from",
        "2026-09-01",
    ];
    v.extend_from_slice(args);
    v
}

/// Amounts past the documented maximum (900,000,000 minor units: 9,000,000.00 EUR,
/// 900,000,000 JPY, 900,000.000 KWD) and counts past theirs: one line naming the flag and the
/// limit, exit 3, no panic, nothing written. At the maximum: accepted, and computed into
/// bigint totals (3 lines × 9,000,000.00 = 27,000,000.00; take 15% = 4,050,000.00).
#[tokio::test]
async fn amounts_past_the_maximum_and_counts_past_their_limit_are_refused_in_one_line() {
    let f = Fixture::new().await;
    let pid = f.partner_id.to_string();
    let e30 = format!("1{}", "0".repeat(30));
    for (currency, fee, line) in [
        (
            "EUR",
            "79228162514264337593543950335",
            "fee: at most 9,000,000.00 EUR",
        ),
        ("EUR", "1e28", "fee: at most 9,000,000.00 EUR"),
        (
            "EUR",
            "92233720368547758.07",
            "fee: at most 9,000,000.00 EUR",
        ),
        ("EUR", "9000000.01", "fee: at most 9,000,000.00 EUR"),
        ("EUR", &e30, "fee: too large (at most 9,000,000.00 EUR)"),
        ("JPY", "900000001", "fee: at most 900,000,000 JPY"),
        ("KWD", "900000.001", "fee: at most 900,000.000 KWD"),
    ] {
        let out = pd(
            Some(&f.db),
            "fin",
            &add_args(&pid, currency, &["--model", "fixed_fee", "--fee", fee]),
        );
        assert_eq!(out.error_line(3), line, "{fee} {currency}");
        out.assert_clean();
    }
    let out = pd(
        Some(&f.db),
        "fin",
        &add_args(
            &pid,
            "EUR",
            &[
                "--model",
                "hybrid",
                "--base-bps",
                "500",
                "--bonus-bps",
                "100",
                "--threshold",
                "99999999999",
            ],
        ),
    );
    assert_eq!(
        out.error_line(3),
        "threshold: must be at most 2,147,483,647 (got 99999999999)"
    );
    assert_eq!(f.db.count("SELECT count(*) FROM agreements").await, 0);

    // Referral plans and rules: the same maximum.
    let out = pd(
        Some(&f.db),
        "ada",
        &[
            "plans",
            "add",
            "--code",
            "pro",
            "--name",
            "Pro",
            "--price",
            "1e28",
            "--currency",
            "EUR",
        ],
    );
    assert_eq!(out.error_line(3), "price: at most 9,000,000.00 EUR");
    let out = pd(
        Some(&f.db),
        "ada",
        &[
            "referrals",
            "rule",
            "--partner",
            &pid,
            "--flat",
            "79228162514264337593543950335",
            "--currency",
            "EUR",
        ],
    );
    assert_eq!(out.error_line(3), "flat: at most 9,000,000.00 EUR");
    assert_eq!(f.db.count("SELECT count(*) FROM plans").await, 0);
    assert_eq!(f.db.count("SELECT count(*) FROM commission_rules").await, 0);

    // At the maximum: accepted, and a statement of three such lines computes.
    let out = pd(
        Some(&f.db),
        "fin",
        &add_args(
            &pid,
            "EUR",
            &["--model", "fixed_fee", "--fee", "9000000.00", "--json"],
        ),
    );
    out.success();
    let agreement = json(&out)["id"].as_i64().unwrap().to_string();
    for day in ["10", "11", "12"] {
        f.redemption(&format!("2026-09-{day}T10:00:00Z"), None)
            .await;
    }
    let out = pd(
        Some(&f.db),
        "fin",
        &[
            "settle",
            "compute",
            "--agreement",
            &agreement,
            "--period",
            "2026-09",
        ],
    );
    out.success();
    assert!(
        out.stdout_text()
            .contains("commission 27000000.00 EUR, take 4050000.00 EUR"),
        "{out}"
    );
    let id: String = out
        .stdout_text()
        .split_whitespace()
        .nth(2)
        .unwrap()
        .to_owned();

    // The partner's tally is of a whole statement: at most a million lines at the maximum.
    for (count, amount, line) in [
        (
            "99999999999",
            "1",
            "count: must be at most 2,147,483,647 (got 99999999999)",
        ),
        ("3", "1e28", "amount: at most 9,000,000,000,000.00 EUR"),
        (
            "3",
            e30.as_str(),
            "amount: too large (at most 9,000,000,000,000.00 EUR)",
        ),
    ] {
        let out = pd(
            Some(&f.db),
            "fin",
            &["settle", "tally", &id, "--count", count, "--amount", amount],
        );
        assert_eq!(out.error_line(3), line, "{count} {amount}");
        out.assert_clean();
    }
    assert_eq!(
        f.db.count("SELECT count(*) FROM settlements WHERE tally_count IS NOT NULL")
            .await,
        0
    );
}

/// A flag the model does not read is refused, not ignored: nothing is written.
#[tokio::test]
async fn agreements_add_refuses_a_flag_its_model_does_not_use() {
    let f = Fixture::new().await;
    let pid = f.partner_id.to_string();
    for (args, line) in [
        (
            &["--model", "percentage", "--bps", "500", "--fee", "2.50"][..],
            "fee: not used by the percentage model",
        ),
        (
            &["--model", "referral_only", "--bps", "500"][..],
            "bps: not used by the referral_only model",
        ),
        (
            &["--model", "flat_fee", "--fee", "300", "--threshold", "3"][..],
            "threshold: not used by the flat_fee model",
        ),
    ] {
        let out = pd(Some(&f.db), "fin", &add_args(&pid, "EUR", args));
        assert_eq!(out.error_line(3), line, "{args:?}");
    }
    assert_eq!(f.db.count("SELECT count(*) FROM agreements").await, 0);
}

/// A new version may not start under a statement past draft; the refusal suggests the first
/// start that would be accepted: past September and October, both in review, so November.
#[tokio::test]
async fn the_agreement_refusal_suggests_the_first_start_that_is_accepted() {
    let f = Fixture::new().await;
    let a = f
        .agreement(super::percentage(500, "EUR"), "2026-09-01")
        .await;
    let mut ids = Vec::new();
    for period in ["2026-09", "2026-10"] {
        let s = f.finance.compute_settlement(a.id, period).await.unwrap();
        f.finance.review_settlement(s.id, None).await.unwrap();
        ids.push(s.id);
    }
    let pid = f.partner_id.to_string();
    let args = add_args(&pid, "EUR", &["--model", "percentage", "--bps", "900"]);
    let out = pd(Some(&f.db), "fin", &args);
    assert_eq!(
        out.error_line(3),
        format!(
            "settlement {} of partner {pid} for the period from 2026-09-01 is in_review; a new version may start from 2026-11-01 at the earliest",
            ids[0]
        )
    );
    pd(
        Some(&f.db),
        "fin",
        &args
            .iter()
            .map(|a| if *a == "2026-09-01" { "2026-11-01" } else { a })
            .collect::<Vec<_>>(),
    )
    .success();
    assert_eq!(f.db.count("SELECT count(*) FROM agreements").await, 2);
}
