//! Around a closed statement (issue "Finance: late data, refunds, minimum payouts and payout
//! batches", its smaller items): a quarter or a year in `--period` means every statement of a
//! period inside it; the review and approval notes show on the statement; every JSON output
//! gives amounts as decimal strings; `settle compute --all` names each disputed statement it
//! resets to draft.

use super::Fixture;
use super::cli::pd;
use crate::common::percentage;
use serde_json::Value;

fn json(out: &super::cli::Out) -> Value {
    out.success();
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// Ids of `settle list --period P --json`, oldest period first.
fn listed(f: &Fixture, period: &str) -> Vec<i64> {
    let v = json(&pd(
        Some(&f.db),
        "fin",
        &["settle", "list", "--period", period, "--json"],
    ));
    let mut ids: Vec<i64> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    ids.reverse();
    ids
}

#[tokio::test]
async fn periods_notes_resets_and_amounts_as_finance_reads_them() {
    let f = Fixture::new().await;
    let a = f.agreement(percentage(1000, "EUR"), "2026-09-01").await;
    // 10% of 12.34 = 1.234 → 1.23; of 20.00 = 2.00; of 5.05 = 0.505 → 0.51 (half away).
    f.redemption("2026-09-10T10:00:00Z", Some((1234, "EUR")))
        .await;
    f.redemption("2026-10-10T10:00:00Z", Some((2000, "EUR")))
        .await;
    f.redemption("2026-11-10T10:00:00Z", Some((505, "EUR")))
        .await;
    let mut ids = Vec::new();
    for period in ["2026-09", "2026-10", "2026-11"] {
        let v = json(&pd(
            Some(&f.db),
            "fin",
            &[
                "settle",
                "compute",
                "--agreement",
                &a.id.to_string(),
                "--period",
                period,
                "--json",
            ],
        ));
        let s = &v["computed"][0];
        ids.push(s["id"].as_i64().unwrap());
    }
    let (sep, oct, nov) = (ids[0], ids[1], ids[2]);

    // A month, a quarter, a year.
    assert_eq!(listed(&f, "2026-10"), vec![oct]);
    assert_eq!(listed(&f, "2026-Q4"), vec![oct, nov]);
    assert_eq!(listed(&f, "2026-Q3"), vec![sep]);
    assert_eq!(listed(&f, "2026"), vec![sep, oct, nov]);
    assert_eq!(listed(&f, "2025"), Vec::<i64>::new());

    // Amounts are decimal strings with their currency, in the list as in show.
    let v = json(&pd(
        Some(&f.db),
        "fin",
        &["settle", "list", "--period", "2026-11", "--json"],
    ));
    let row = &v[0];
    assert_eq!(row["currency"], "EUR");
    assert_eq!(row["totals"]["commission"], "0.51");
    assert_eq!(row["period"], "2026-11");
    assert!(row.get("commission_minor").is_none(), "{row}");

    // The review and approval notes show on the statement.
    let oct_s = oct.to_string();
    pd(
        Some(&f.db),
        "fin",
        &[
            "settle",
            "review",
            &oct_s,
            "--note",
            "checked against the tally",
        ],
    )
    .success();
    let v = json(&pd(
        Some(&f.db),
        "fin",
        &[
            "settle",
            "approve",
            &oct_s,
            "--note",
            "approved after a call",
            "--json",
        ],
    ));
    assert_eq!(v["status"], "approved");
    assert_eq!(v["totals"]["commission"], "2.00", "{v}");
    let shown = pd(Some(&f.db), "fin", &["settle", "show", &oct_s]);
    shown.success();
    let text = shown.stdout_text();
    assert!(
        text.lines()
            .any(|l| l.starts_with("review note") && l.ends_with("checked against the tally")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("approval note") && l.ends_with("approved after a call")),
        "{text}"
    );
    let v = json(&pd(
        Some(&f.db),
        "fin",
        &["settle", "show", &oct_s, "--json"],
    ));
    assert_eq!(v["approval_note"], "approved after a call");
    assert_eq!(v["review_note"], "checked against the tally");

    // Disputed, then every agreement due is computed: the reset is named.
    pd(
        Some(&f.db),
        "fin",
        &["settle", "dispute", &oct_s, "--reason", "wrong rate"],
    )
    .success();
    let v = json(&pd(
        Some(&f.db),
        "fin",
        &["settle", "show", &oct_s, "--json"],
    ));
    assert_eq!(v["approval_note"], Value::Null, "the approval was reversed");
    let out = pd(
        Some(&f.db),
        "fin",
        &["settle", "compute", "--all", "--period", "2026-10"],
    );
    out.success();
    let text = out.stdout_text();
    assert!(
        text.lines().any(|l| l
            == format!(
                "reset to draft and computed again: settlement {oct} (agreement {}, 2026-10), disputed: “wrong rate”",
                a.id
            )),
        "{text}"
    );
    let status: String = sqlx::query_scalar("SELECT status FROM settlements WHERE id = $1")
        .bind(oct)
        .fetch_one(&f.db.pool)
        .await
        .unwrap();
    assert_eq!(status, "draft");
    // Nothing disputed any more: nothing is named.
    let out = pd(
        Some(&f.db),
        "fin",
        &[
            "settle", "compute", "--all", "--period", "2026-10", "--json",
        ],
    );
    assert_eq!(json(&out)["reset"], serde_json::json!([]));
}

/// `partners payout`: finance sets and reads a partner's payout details whole; a curator
/// reads them masked, and `partners show` masks them for everyone; a mistyped IBAN is one
/// line naming the field.
#[tokio::test]
async fn payout_details_from_the_command_line() {
    let f = Fixture::new().await;
    f.db.desk("cara", &[partnerdesk::domain::Role::Curator])
        .await;
    let id = f.partner_id.to_string();
    let set = |iban: &str| {
        pd(
            Some(&f.db),
            "fin",
            &[
                "partners",
                "payout",
                &id,
                "--holder",
                "Settle Partner GmbH",
                "--iban",
                iban,
                "--bic",
                "COBADEFFXXX",
            ],
        )
    };
    assert_eq!(
        set("DE88 3704 0044 0532 0130 00").error_line(3),
        "iban: its check digits do not match (ISO 13616 mod 97): a digit is mistyped"
    );
    let out = set("DE89 3704 0044 0532 0130 00");
    out.success();
    let line = out.stdout_text();
    assert!(
        line.starts_with(&format!(
            "partner {id}: DE89 3704 0044 0532 0130 00 (COBADEFFXXX), Settle Partner GmbH, EUR; changed "
        )) && line.trim_end().ends_with(" by fin"),
        "{line}"
    );
    let out = pd(Some(&f.db), "cara", &["partners", "payout", &id]);
    out.success();
    assert!(
        out.stdout_text()
            .starts_with(&format!("partner {id}: DE89 •••• •••• 3000, EUR; changed ")),
        "{out}"
    );
    let v = json(&pd(
        Some(&f.db),
        "cara",
        &["partners", "payout", &id, "--json"],
    ));
    assert_eq!(v["iban"], Value::Null);
    assert_eq!(v["iban_masked"], "DE89 •••• •••• 3000");
    let v = json(&pd(
        Some(&f.db),
        "fin",
        &["partners", "payout", &id, "--json"],
    ));
    assert_eq!(v["iban"], "DE89370400440532013000");
    for user in ["fin", "cara"] {
        let out = pd(Some(&f.db), user, &["partners", "show", &id]);
        out.success();
        let text = out.stdout_text();
        assert!(
            text.lines()
                .any(|l| l.starts_with("payout") && l.contains("DE89 •••• •••• 3000, EUR")),
            "{text}"
        );
        assert!(!text.contains("0532"), "{text}");
    }
    let e = pd(
        Some(&f.db),
        "cara",
        &[
            "partners",
            "payout",
            &id,
            "--holder",
            "X",
            "--iban",
            "DE89370400440532013000",
            "--bic",
            "COBADEFF",
        ],
    )
    .error_line(3);
    assert!(e.contains("finance"), "{e}");
}
