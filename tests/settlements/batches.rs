//! Payout batches and minimum payouts (issue "Finance: … payout batches"), through the real
//! binary against a fresh database. Every figure is worked by hand beside it.

use super::cli::{Out, pd};
use super::common::TestDb;
use super::owed::{details, owed};
use partnerdesk::domain::Role;
use serde_json::Value;
use std::process::Command;

fn json(out: &Out) -> Value {
    out.success();
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// By hand, with a minimum of 10.00 EUR:
/// - A owes 3 × 4.00 = 12.00 EUR, paid to EUR: in.
/// - B owes 2 × 4.00 = 8.00 EUR < 10.00: waits, carried since 2026-09; with its own minimum
///   of 5.00 it goes in.
/// - C owes 2 × 6.00 = 12.00 EUR but has no payout details: waits.
/// - D owes 2 × ¥500 = ¥1,000 and is paid in JPY: not in a EUR batch; its own JPY batch has
///   no SEPA file, but a CSV.
///
/// The EUR batch: A 12.00 + B 8.00 = 20.00 EUR, CtrlSum 20.00.
#[tokio::test]
async fn a_batch_gathers_what_is_owed_pays_it_once_and_writes_a_valid_sepa_file() {
    let db = TestDb::new().await;
    let fin = db.desk("fin", &[Role::Finance]).await;
    let (a, sa) = owed(&db, "Alder", "EUR", "4.00", 3).await;
    let (b, sb) = owed(&db, "Birch", "EUR", "4.00", 2).await;
    let (c, _) = owed(&db, "Cedar", "EUR", "6.00", 2).await;
    let (d, sd) = owed(&db, "Dogwood", "JPY", "500", 2).await;
    details(&fin, a, "DE89370400440532013000", "EUR").await;
    details(&fin, b, "DE02500105170137075030", "EUR").await;
    details(&fin, d, "DE02100500000054540402", "JPY").await;

    // Settings: admins set them; finance reads them and may not set them.
    let out = pd(
        Some(&db),
        "fin",
        &["settings", "set", "minimum_payout.EUR", "10.00"],
    );
    assert_eq!(
        out.error_line(3),
        "fin may not change the marketplace settings: it needs the admin role"
    );
    pd(
        Some(&db),
        "ada",
        &["settings", "set", "minimum_payout.EUR", "10.00"],
    )
    .success();
    let out = pd(
        Some(&db),
        "ada",
        &["settings", "set", "minimum_payout.EUR", "ten"],
    );
    assert!(out.error_line(3).starts_with("minimum_payout: "), "{out}");
    let out = pd(Some(&db), "fin", &["settings", "show"]);
    out.success();
    assert!(
        out.stdout_text().contains("minimum_payout.EUR  10.00 EUR"),
        "{out}"
    );
    assert!(
        out.stdout_text().contains("holding_days        30 days"),
        "{out}"
    );

    // The dry run: what goes in, what waits and why.
    let plan = json(&pd(
        Some(&db),
        "fin",
        &[
            "payouts",
            "batch",
            "create",
            "--currency",
            "EUR",
            "--dry-run",
            "--json",
        ],
    ));
    let included: Vec<i64> = plan["included"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["settlement_id"].as_i64().unwrap())
        .collect();
    assert_eq!(included, vec![sa]);
    assert_eq!(plan["total_minor"], 1200);
    let reasons: Vec<(i64, String)> = plan["waiting"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["partner_id"].as_i64().unwrap(),
                w["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        vec![
            (
                b,
                "below its minimum payout: 8.00 EUR of 10.00 EUR (the currency's), carried since 2026-09"
                    .to_owned()
            ),
            (c, "no payout details: finance sets them on the partner".to_owned()),
        ]
    );
    // The partner shows what it is owed and why it waits.
    let out = pd(Some(&db), "fin", &["partners", "show", &b.to_string()]);
    out.success();
    assert!(
        out.stdout_text().contains(
            "owed        8.00 EUR on 1 approved statement, carried since 2026-09 (minimum 10.00 EUR)"
        ),
        "{out}"
    );

    // The list says what waits, in the table and in JSON.
    let out = pd(
        Some(&db),
        "fin",
        &["settle", "list", "--partner", &b.to_string()],
    );
    out.success();
    assert!(
        out.stdout_text()
            .contains("approved · carried since 2026-09"),
        "{out}"
    );
    let v = json(&pd(
        Some(&db),
        "fin",
        &["settle", "list", "--partner", &b.to_string(), "--json"],
    ));
    assert_eq!(
        v[0]["payout"],
        serde_json::json!({ "carried": { "since": "2026-09-01", "owed": "8.00", "minimum": "10.00" } })
    );

    // B's own minimum of 5.00 lets it in.
    let out = pd(
        Some(&db),
        "fin",
        &["partners", "payout", &b.to_string(), "--minimum", "5.00"],
    );
    out.success();
    assert!(
        out.stdout_text().contains("EUR (minimum 5.00 EUR)"),
        "{out}"
    );

    // Every account was set just now: the batch says so and needs a note.
    let out = pd(
        Some(&db),
        "fin",
        &["payouts", "batch", "create", "--currency", "EUR"],
    );
    let line = out.error_line(3);
    assert!(
        line.starts_with(&format!(
            "note: required: payout account changed within 14 days: partner {a} (Alder) on "
        )),
        "{line}"
    );
    assert!(line.contains(&format!("partner {b} (Birch) on")), "{line}");
    let made = json(&pd(
        Some(&db),
        "fin",
        &[
            "payouts",
            "batch",
            "create",
            "--currency",
            "EUR",
            "--note",
            "both accounts confirmed by phone",
            "--json",
        ],
    ));
    let batch = made["batch"]["id"].as_i64().unwrap();
    assert_eq!(made["batch"]["statement_count"], 2);
    assert_eq!(made["batch"]["total_minor"], 2000);
    assert_eq!(made["batch"]["changed_accounts"], 2);

    let out = pd(Some(&db), "fin", &["settle", "show", &sa.to_string()]);
    out.success();
    assert!(
        out.stdout_text()
            .contains(&format!("payout         in open payout batch {batch}")),
        "{out}"
    );

    // Nothing is left to batch in EUR but C, which waits; JPY holds only D's.
    let out = pd(
        Some(&db),
        "fin",
        &["payouts", "batch", "create", "--currency", "EUR"],
    );
    assert_eq!(
        out.error_line(3),
        "no statement in EUR is ready to pay: 1 partner(s) wait (see --dry-run for why)"
    );
    // Paid in USD, C's EUR statement is not in a EUR batch either.
    details(&fin, c, "DE02300209000106531065", "USD").await;
    let plan = json(&pd(
        Some(&db),
        "fin",
        &[
            "payouts",
            "batch",
            "create",
            "--currency",
            "EUR",
            "--dry-run",
            "--json",
        ],
    ));
    assert_eq!(plan["included"], serde_json::json!([]));
    assert_eq!(
        plan["waiting"][0]["reason"],
        "its payout details are in USD, not EUR"
    );

    // A statement in an open batch moves only with it.
    for args in [
        vec!["settle", "pay", &*sa.to_string(), "--reference", "X"],
        vec!["settle", "dispute", &*sa.to_string(), "--reason", "wrong"],
    ] {
        let args: Vec<&str> = args.iter().map(|s| &**s).collect();
        let out = pd(Some(&db), "fin", &args);
        assert_eq!(
            out.error_line(3),
            format!("settlement {sa} is in open payout batch {batch}: pay or cancel the batch")
        );
    }

    // The SEPA file validates against the official schema, debtor from the settings.
    let dir = std::env::temp_dir().join(format!("pd-batch-{}", db.name));
    std::fs::create_dir_all(&dir).unwrap();
    let xml = dir.join("batch.xml");
    let xml_s = xml.to_str().unwrap();
    let out = pd(
        Some(&db),
        "fin",
        &[
            "payouts",
            "batch",
            "file",
            &batch.to_string(),
            "--format",
            "sepa",
            "--out",
            xml_s,
        ],
    );
    assert_eq!(
        out.error_line(3),
        "the marketplace's bank account is not set (the debtor of a SEPA file): an admin sets it with `partnerdesk settings set bank_account \"HOLDER | IBAN | BIC\"`"
    );
    assert!(!xml.exists(), "no file is left behind");
    pd(
        Some(&db),
        "ada",
        &[
            "settings",
            "set",
            "bank_account",
            "Partnerdesk Marketplace GmbH | DE02 1203 0000 0000 2020 51 | BYLADEM1001",
        ],
    )
    .success();
    let out = pd(
        Some(&db),
        "fin",
        &[
            "payouts",
            "batch",
            "file",
            &batch.to_string(),
            "--format",
            "sepa",
            "--out",
            xml_s,
        ],
    );
    out.success();
    assert!(
        out.stdout_text().starts_with(&format!(
            "wrote payout batch {batch} as SEPA (pain.001.001.03): 2 transfers to "
        )),
        "{out}"
    );
    let v = Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/pain.001.001.03.xsd"
        ))
        .arg(&xml)
        .output()
        .expect("xmllint (scripts/ensure-tools.sh installs it)");
    assert!(
        v.status.success(),
        "the schema accepts the file: {}",
        String::from_utf8_lossy(&v.stderr)
    );
    let text = std::fs::read_to_string(&xml).unwrap();
    assert_eq!(
        text.matches("<CtrlSum>20.00</CtrlSum>").count(),
        2,
        "{text}"
    );
    assert_eq!(text.matches("<NbOfTxs>2</NbOfTxs>").count(), 2);
    assert!(text.contains("<InstdAmt Ccy=\"EUR\">12.00</InstdAmt>"));
    assert!(text.contains("<InstdAmt Ccy=\"EUR\">8.00</InstdAmt>"));
    assert!(text.contains(&format!("<EndToEndId>settlement-{sa}</EndToEndId>")));
    assert!(text.contains(&format!("<EndToEndId>settlement-{sb}</EndToEndId>")));
    assert!(
        text.contains("<IBAN>DE02120300000000202051</IBAN>"),
        "the debtor"
    );
    assert!(text.contains(&format!("<Nm>Holder {a} &amp; Söhne</Nm>")));

    // Paid once: both statements, one payment entry each; then refused.
    let out = pd(
        Some(&db),
        "fin",
        &[
            "payouts",
            "batch",
            "pay",
            &batch.to_string(),
            "--reference",
            "BANK-77",
            "--paid-on",
            "2026-12-01",
        ],
    );
    let line = out.error_line(3);
    assert!(
        line.starts_with("paid-on: must be on or after its statements' last approval ("),
        "{line}"
    );
    let out = pd(
        Some(&db),
        "fin",
        &[
            "payouts",
            "batch",
            "pay",
            &batch.to_string(),
            "--reference",
            "BANK-77",
        ],
    );
    out.success();
    assert!(
        out.stdout_text().starts_with(&format!(
            "payout batch {batch} paid: 2 statements marked paid, 20.00 EUR (reference BANK-77 on "
        )),
        "{out}"
    );
    let out = pd(
        Some(&db),
        "fin",
        &[
            "payouts",
            "batch",
            "pay",
            &batch.to_string(),
            "--reference",
            "BANK-77",
        ],
    );
    assert!(
        out.error_line(3)
            .starts_with(&format!("payout batch {batch} is paid (on ")),
        "{out}"
    );
    for s in [sa, sb] {
        let (status, reference): (String, String) =
            sqlx::query_as("SELECT status, payment_reference FROM settlements WHERE id = $1")
                .bind(s)
                .fetch_one(&db.pool)
                .await
                .unwrap();
        assert_eq!((status.as_str(), reference.as_str()), ("paid", "BANK-77"));
    }
    let payments: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT settlement_id, amount_minor FROM payout_ledger WHERE kind = 'payment' ORDER BY settlement_id",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(payments, vec![(sa, 1200), (sb, 800)]);
    let events: Vec<String> = sqlx::query_scalar(
        "SELECT event_type FROM outbox_events WHERE event_type LIKE 'payout_batch.%' OR event_type = 'settlement.paid' ORDER BY id",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        events,
        vec![
            "payout_batch.created",
            "payout_batch.paid",
            "settlement.paid",
            "settlement.paid"
        ]
    );
    let leaked: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outbox_events WHERE payload::text ~ 'DE89|DE02|COBADE|Holder'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(leaked, 0, "events carry no bank details");

    // JPY: its own batch; no SEPA file (euros only), a CSV instead.
    let made = json(&pd(
        Some(&db),
        "fin",
        &[
            "payouts",
            "batch",
            "create",
            "--currency",
            "JPY",
            "--note",
            "checked",
            "--json",
        ],
    ));
    let jpy = made["batch"]["id"].as_i64().unwrap();
    assert_eq!(made["batch"]["total_minor"], 1000);
    let out = pd(
        Some(&db),
        "fin",
        &[
            "payouts",
            "batch",
            "file",
            &jpy.to_string(),
            "--format",
            "sepa",
            "--out",
            xml_s,
            "--force",
        ],
    );
    assert_eq!(
        out.error_line(3),
        format!(
            "format: a SEPA credit transfer is in euros; batch {jpy} is in JPY: write --format csv"
        )
    );
    let csv = dir.join("jpy.csv");
    pd(
        Some(&db),
        "fin",
        &[
            "payouts",
            "batch",
            "file",
            &jpy.to_string(),
            "--format",
            "csv",
            "--out",
            csv.to_str().unwrap(),
        ],
    )
    .success();
    assert_eq!(
        std::fs::read_to_string(&csv).unwrap(),
        format!(
            "batch,settlement,partner,name,iban,bic,amount,currency,reference,period\n\
             {jpy},{sd},{d},Holder {d} & Söhne,DE02100500000054540402,COBADEFFXXX,1000,JPY,settlement-{sd},2026-09\n"
        )
    );
    // Cancelled, its statement is free again (and a cancelled batch is never paid).
    pd(
        Some(&db),
        "fin",
        &["payouts", "batch", "cancel", &jpy.to_string()],
    )
    .success();
    let out = pd(
        Some(&db),
        "fin",
        &[
            "payouts",
            "batch",
            "pay",
            &jpy.to_string(),
            "--reference",
            "R",
        ],
    );
    assert!(
        out.error_line(3)
            .starts_with(&format!("payout batch {jpy} is cancelled")),
        "{out}"
    );
    let again = json(&pd(
        Some(&db),
        "fin",
        &[
            "payouts",
            "batch",
            "create",
            "--currency",
            "JPY",
            "--note",
            "checked",
            "--json",
        ],
    ));
    assert_eq!(again["batch"]["statement_count"], 1);

    // A curator sees batches with the accounts masked; support does not see them.
    db.curator().await;
    let out = pd(
        Some(&db),
        "cara",
        &["payouts", "batch", "show", &batch.to_string()],
    );
    out.success();
    assert!(out.stdout_text().contains("DE89 •••• •••• 3000"), "{out}");
    assert!(
        !out.stdout_text().contains("DE89370400440532013000"),
        "{out}"
    );
    db.desk("sam", &[Role::Support]).await;
    let out = pd(Some(&db), "sam", &["payouts", "batch", "list"]);
    assert!(
        out.error_line(3)
            .starts_with("sam may not view settlements"),
        "{out}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// 30 concurrent `payouts batch pay` of one batch: one pays, 29 are refused; each statement
/// has exactly one payment entry.
#[tokio::test]
async fn thirty_concurrent_pays_pay_a_batch_once() {
    let db = TestDb::new().await;
    let fin = db.desk("fin", &[Role::Finance]).await;
    let mut statements = Vec::new();
    for name in ["Elm", "Fir", "Gum"] {
        let (p, s) = owed(&db, name, "EUR", "3.00", 1).await;
        details(&fin, p, "DE89370400440532013000", "EUR").await;
        statements.push(s);
    }
    let (batch, _) = fin.create_batch("EUR", Some("checked")).await.unwrap();
    let mut tasks = Vec::new();
    for k in 0..30 {
        let desk = db.desk(&format!("fin{k}"), &[Role::Finance]).await;
        tasks.push(tokio::spawn(async move {
            desk.pay_batch(batch.id, &format!("BANK-{k}"), None).await
        }));
    }
    let mut paid = 0;
    let mut refused = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok((_, s)) => {
                paid += 1;
                assert_eq!(s.len(), 3);
            }
            Err(e) => refused.push(e.to_string()),
        }
    }
    assert_eq!(paid, 1, "{refused:?}");
    assert_eq!(refused.len(), 29);
    assert!(
        refused
            .iter()
            .all(|r| r.starts_with(&format!("payout batch {} is paid (on ", batch.id))),
        "{refused:?}"
    );
    let per_statement: Vec<i64> = sqlx::query_scalar(
        "SELECT count(*) FROM payout_ledger WHERE kind = 'payment' GROUP BY settlement_id ORDER BY settlement_id",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(per_statement, vec![1, 1, 1]);
}
