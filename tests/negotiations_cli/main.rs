//! `partnerdesk negotiations …` and `partnerdesk contracts …`: the real binary against real
//! PostgreSQL — open, counter as the partner from a TOML file, accept, show the contract.

#[path = "../support/cli.rs"]
#[allow(dead_code)]
mod cli;
#[path = "../db/common.rs"]
#[allow(dead_code)]
mod common;

mod bulk;

use cli::{TempDir, pd};
use common::{TestDb, verified_partner};
use serde_json::Value;

fn json(out: &cli::Out) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("JSON: {e}{out}"))
}

#[tokio::test]
async fn open_counter_as_partner_accept_and_show_the_contract() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let p = verified_partner(&desk, "Bean There", "beanthere.example").await;
    let pid = p.id.to_string();
    let deadline = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();
    let from = chrono::Utc::now().to_rfc3339();
    let until = (chrono::Utc::now() + chrono::Duration::days(60)).to_rfc3339();

    let out = pd(
        Some(&db),
        "cara",
        &[
            "negotiations",
            "open",
            "--partner",
            &pid,
            "--subject",
            "Spring terms",
            "--deadline",
            &deadline,
            "--message",
            "Our proposal",
            "--model",
            "percentage",
            "--rate-bps",
            "1200",
            "--currency",
            "EUR",
            "--frequency",
            "monthly",
            "--benefit",
            "logo placement@2030-01-31",
            "--title",
            "Spring coupon",
            "--kind",
            "coupon",
            "--coupon-code",
            "SPRING10",
            "--scope",
            "public",
            "--valid-from",
            &from,
            "--valid-until",
            &until,
            "--cap",
            "500",
        ],
    );
    out.success();
    assert_eq!(
        out.stdout_text(),
        format!("opened negotiation 1 with partner #{pid}: Spring terms\n")
    );

    // A file replaces the terms: one missing the deal's fields is refused, field by field.
    let dir = TempDir::new("pd-offer");
    let bad = dir.file("bad.toml", "model = \"hybrid\"\n");
    let out = pd(
        Some(&db),
        "cara",
        &[
            "negotiations",
            "offer",
            "1",
            "--as",
            "partner",
            "--file",
            &bad,
        ],
    );
    assert_eq!(out.code, 3, "{out}");
    assert!(
        out.stderr
            .contains("partnerdesk: currency: must be an ISO 4217"),
        "{out}"
    );
    assert!(out.stdout.is_empty());

    // The partner counters from a TOML file: a hybrid model and another benefit.
    let file = dir.file(
        "counter.toml",
        &format!(
            r#"
model = "hybrid"
base_bps = 800
bonus_bps = 200
bonus_threshold = 100
currency = "EUR"
frequency = "monthly"
benefits = [{{ name = "newsletter mention" }}]
title = "Spring coupon"
kind = "coupon"
coupon_code = "SPRING10"
audience_scope = "public"
valid_from = "{from}"
valid_until = "{until}"
redemption_cap = 500
"#
        ),
    );
    let out = pd(
        Some(&db),
        "cara",
        &[
            "negotiations",
            "offer",
            "1",
            "--as",
            "partner",
            "--file",
            &file,
            "--note",
            "lower base",
        ],
    );
    out.success();
    assert_eq!(
        out.stdout_text(),
        "revision 2 of negotiation 1 made for the partner (recorded on the partner's behalf)\n"
    );

    let out = pd(Some(&db), "cara", &["negotiations", "show", "1"]);
    out.success();
    let text = out.stdout_text();
    for want in [
        "model: percentage → hybrid",
        "rate: 12% → —",
        "base rate: — → 8%",
        "benefit added: newsletter mention",
        "benefit removed: logo placement (due 2030-01-31)",
        "revision 2 from the partner (recorded on the partner's behalf) by cara: lower base",
        "the marketplace side",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
    let v = json(pd(Some(&db), "cara", &["negotiations", "show", "1", "--json"]).success());
    assert_eq!(v["thread"]["status"], "negotiating");
    assert_eq!(v["offers"][1]["revision"], 2);
    assert_eq!(v["turn"], "marketplace");

    // A stale revision is refused with one line, exit 3.
    let out = pd(
        Some(&db),
        "cara",
        &["negotiations", "accept", "1", "--revision", "1"],
    );
    let line = out.error_line(3);
    assert!(
        line.contains("revision 1 of negotiation 1 is no longer the latest"),
        "{line}"
    );

    let out = pd(
        Some(&db),
        "cara",
        &["negotiations", "accept", "1", "--revision", "2", "--json"],
    );
    let a = json(out.success());
    assert_eq!(a["side"], "marketplace");
    assert_eq!(a["agreement"]["version"], 1);
    assert_eq!(a["agreement"]["model"], "hybrid");
    assert_eq!(a["deal"]["state"], "draft");
    let cid = a["contract"]["id"].as_i64().unwrap().to_string();
    let hash = a["contract"]["snapshot_hash"].as_str().unwrap().to_owned();

    let out = pd(Some(&db), "cara", &["contracts", "show", &cid]);
    out.success();
    let text = out.stdout_text();
    assert!(text.contains(&hash), "{text}");
    assert!(text.contains("1. newsletter mention — pending"), "{text}");
    assert!(text.contains("none yet"), "{text}");

    pd(Some(&db), "cara", &["contracts", "sign", &cid]).success();
    let out = pd(
        Some(&db),
        "cara",
        &["contracts", "sign", &cid, "--as", "partner"],
    );
    out.success();
    assert_eq!(
        out.stdout_text(),
        format!(
            "contract {cid} signed for the partner (recorded on the partner's behalf); it is signed\n"
        )
    );
    pd(
        Some(&db),
        "cara",
        &[
            "contracts",
            "benefit",
            &cid,
            "1",
            "--delivered",
            "issue 42 of the newsletter",
        ],
    )
    .success();
    let v = json(pd(Some(&db), "cara", &["contracts", "show", &cid, "--json"]).success());
    assert_eq!(v["contract"]["status"], "signed");
    assert_eq!(v["benefits"][0]["status"], "delivered");
    assert_eq!(v["signatures"].as_array().unwrap().len(), 2);

    let v = json(pd(Some(&db), "cara", &["negotiations", "list", "--json"]).success());
    assert_eq!(v[0]["status"], "accepted");
    assert_eq!(v[0]["latest_revision"], 2);
    assert_eq!(v[0]["turn"], Value::Null, "nobody's turn on a final thread");
    let out = pd(Some(&db), "cara", &["negotiations", "list", "--csv"]);
    out.success();
    let lines = out.stdout_lines();
    assert_eq!(
        lines[0],
        "id,subject,partner,partner_id,status,latest_revision,latest_side,turn,deadline,updated",
        "{out}"
    );
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[1].starts_with(&format!("{},", v[0]["id"])), "{out}");
    assert!(lines[1].contains(",accepted,2,"), "{out}");
    let out = pd(
        Some(&db),
        "cara",
        &["negotiations", "list", "--status", "pending"],
    );
    out.success();
    assert_eq!(out.stdout_text(), "no negotiation matches\n");

    // Final: another accept is refused, naming who accepted.
    let out = pd(Some(&db), "cara", &["negotiations", "accept", "1"]);
    let line = out.error_line(3);
    assert!(
        line.starts_with("negotiation 1 was already accepted by cara at "),
        "{line}"
    );
    // Reading is for everyone; acting needs curator or admin.
    let out = pd(
        Some(&db),
        "nobody",
        &["negotiations", "reject", "1", "--reason", "x"],
    );
    out.error_line(3);
    assert_eq!(
        db.count("SELECT count(*) FROM deals").await,
        1,
        "exactly one draft deal"
    );
}

#[tokio::test]
async fn the_expiry_job_expires_overdue_threads_too() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let p = verified_partner(&desk, "Late", "late.example").await;
    let deadline = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    pd(
        Some(&db),
        "cara",
        &[
            "negotiations",
            "open",
            "--partner",
            &p.id.to_string(),
            "--subject",
            "Late",
            "--deadline",
            &deadline,
        ],
    )
    .success();
    sqlx::query("UPDATE negotiation_threads SET deadline = now() - interval '1 second'")
        .execute(&db.pool)
        .await
        .unwrap();
    let out = pd(Some(&db), "cara", &["jobs", "expire"]);
    out.success();
    assert_eq!(
        out.stdout_text(),
        "expired 0 deals\nexpired 1 negotiation\n"
    );
    let out = pd(Some(&db), "cara", &["jobs", "expire"]);
    assert_eq!(out.stdout_text(), "expired 0 deals\n");
    let out = pd(
        Some(&db),
        "cara",
        &[
            "negotiations",
            "open",
            "--partner",
            "1",
            "--subject",
            "x",
            "--deadline",
            "tomorrow",
        ],
    );
    let line = out.error_line(2);
    assert!(line.contains("--deadline"), "{line}");
}

#[tokio::test]
async fn the_demo_seed_has_a_thread_in_every_status_with_several_revisions() {
    let db = TestDb::new().await;
    let out = pd(Some(&db), "zed", &["seed", "--demo", "--scale", "20"]);
    assert_eq!(out.code, 0, "{out}");
    assert!(out.stdout_text().contains(" 6 negotiations, "), "{out}");
    for status in [
        "pending",
        "negotiating",
        "accepted",
        "rejected",
        "withdrawn",
        "expired",
    ] {
        let n = db
            .count(&format!(
                "SELECT count(*) FROM negotiation_threads WHERE status = '{status}'"
            ))
            .await;
        assert_eq!(n, 1, "{status}");
    }
    assert_eq!(
        db.count("SELECT count(*) FROM negotiation_threads t WHERE (SELECT count(*) FROM negotiation_offers o WHERE o.thread_id = t.id) >= 3").await,
        5
    );
    assert_eq!(
        db.count("SELECT count(*) FROM deals").await,
        20,
        "the plan's deal count"
    );
    assert_eq!(db.count("SELECT count(*) FROM contracts").await, 1);
    assert_eq!(
        db.count("SELECT count(*) FROM agreements WHERE source_offer_id IS NOT NULL")
            .await,
        1,
        "one agreement from the accepted negotiation (the others are the money demo's)"
    );
    // A reset wipes them and seeds the same again.
    let out = pd(
        Some(&db),
        "zed",
        &["seed", "--demo", "--scale", "20", "--reset", "--yes"],
    );
    assert_eq!(out.code, 0, "{out}");
    assert_eq!(
        db.count("SELECT count(*) FROM negotiation_threads").await,
        6
    );
}

/// An amount past the maximum in `open --amount` or an offer file is one line naming the
/// field and the limit; a file that does not parse names its line and field. Exit 3 for a
/// rule, 2 for a file that cannot be read as an offer; nothing written either way.
#[tokio::test]
async fn offer_amounts_past_the_maximum_and_bad_offer_files_say_where() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let p = verified_partner(&desk, "Large Sums", "largesums.example").await;
    let pid = p.id.to_string();
    let deadline = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();
    let from = chrono::Utc::now().to_rfc3339();
    let until = (chrono::Utc::now() + chrono::Duration::days(60)).to_rfc3339();
    let open = |terms: &[&str]| {
        let mut args = vec![
            "negotiations",
            "open",
            "--partner",
            &pid,
            "--subject",
            "Big terms",
            "--deadline",
            &deadline,
            "--message",
            "Our proposal",
            "--title",
            "Big coupon",
            "--kind",
            "coupon",
            "--coupon-code",
            "BIG10",
            "--scope",
            "public",
            "--valid-from",
            &from,
            "--valid-until",
            &until,
            "--frequency",
            "monthly",
        ];
        args.extend_from_slice(terms);
        pd(Some(&db), "cara", &args)
    };
    let e30 = format!("1{}", "0".repeat(30));
    for (currency, amount, line) in [
        ("EUR", "1e28", "amount: at most 9,000,000.00 EUR"),
        (
            "EUR",
            "79228162514264337593543950335",
            "amount: at most 9,000,000.00 EUR",
        ),
        (
            "JPY",
            e30.as_str(),
            "amount: too large (at most 900,000,000 JPY)",
        ),
    ] {
        let out = open(&[
            "--model",
            "fixed_fee",
            "--amount",
            amount,
            "--currency",
            currency,
        ]);
        assert_eq!(out.error_line(3), line, "{amount}");
    }

    let dir = TempDir::new("pd-offer-big");
    let big = dir.file(
        "big.toml",
        "model = \"flat_fee\"\ncurrency = \"KWD\"\namount = \"900000.001\"\n",
    );
    let out = open(&["--file", &big]);
    assert_eq!(out.error_line(3), "amount: at most 900,000.000 KWD");

    // TOML: the line and the field of a value of the wrong type, and of an unknown key.
    let wrong = dir.file(
        "wrong.toml",
        "model = \"percentage\"\ncurrency = \"EUR\"\nrate_bps = \"twelve\"\n",
    );
    let line = open(&["--file", &wrong]).error_line(2);
    assert!(
        line.starts_with(&format!(
            "--file {wrong}: line 3, rate_bps: invalid type: string \"twelve\""
        )),
        "{line}"
    );
    let unknown = dir.file("unknown.toml", "model = \"percentage\"\n\nrate = 5\n");
    let line = open(&["--file", &unknown]).error_line(2);
    assert!(
        line.starts_with(&format!(
            "--file {unknown}: line 3, rate: unknown field `rate`"
        )),
        "{line}"
    );
    let benefit = dir.file(
        "benefit.toml",
        "model = \"percentage\"\nbenefits = [{ name = \"logo\", due = \"May\" }]\n",
    );
    let line = open(&["--file", &benefit]).error_line(2);
    assert!(
        line.starts_with(&format!("--file {benefit}: line 2, due: ")),
        "{line}"
    );
    // JSON: the same, from serde_json's line and column.
    let json_wrong = dir.file(
        "wrong.json",
        "{\n  \"model\": \"percentage\",\n  \"rate_bps\": \"twelve\"\n}\n",
    );
    let line = open(&["--file", &json_wrong]).error_line(2);
    assert!(
        line.starts_with(&format!(
            "--file {json_wrong}: line 3, rate_bps: invalid type: string \"twelve\""
        )),
        "{line}"
    );
    assert!(!line.contains("at line 3 column"), "the place once: {line}");
    let json_unknown = dir.file("unknown.json", "{\"model\": \"percentage\", \"rate\": 5}");
    let line = open(&["--file", &json_unknown]).error_line(2);
    assert!(
        line.starts_with(&format!(
            "--file {json_unknown}: line 1, rate: unknown field `rate`"
        )),
        "{line}"
    );
    assert_eq!(
        db.count("SELECT count(*) FROM negotiation_threads").await,
        0
    );
    assert_eq!(db.count("SELECT count(*) FROM negotiation_offers").await, 0);
}

mod control;
