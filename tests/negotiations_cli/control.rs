//! Control characters (issue: ESC/BEL reached the terminal): every text field of a
//! negotiation, a contract, a plan, a claim token and a payment refuses them with the field
//! and where; a value stored raw before the rule prints escaped.

use super::cli::{TempDir, pd};
use super::common::{TestDb, verified_partner, without_text_rules};
use partnerdesk::domain::Role;

const ESC: &str = "\u{1b}";
const BEL: &str = "\u{7}";

/// The full set of offer flags of a valid first revision, with `benefit` as its benefit.
fn offer_flags(benefit: &str) -> Vec<String> {
    let from = chrono::Utc::now().to_rfc3339();
    let until = (chrono::Utc::now() + chrono::Duration::days(60)).to_rfc3339();
    [
        "--model",
        "percentage",
        "--rate-bps",
        "1200",
        "--currency",
        "EUR",
        "--frequency",
        "monthly",
        "--benefit",
        benefit,
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
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn run(db: &TestDb, user: &str, args: &[String]) -> super::cli::Out {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    pd(Some(db), user, &a)
}

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn every_text_field_refuses_esc_and_bel_and_writes_nothing() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    db.desk("fina", &[Role::Finance]).await;
    let p = verified_partner(&desk, "Bean There", "beanthere.example").await;
    let pid = p.id.to_string();
    let deadline = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();
    let open = |subject: &str, extra: &[String]| {
        let mut a = args(&[
            "negotiations",
            "open",
            "--partner",
            &pid,
            "--subject",
            subject,
            "--deadline",
            &deadline,
        ]);
        a.extend_from_slice(extra);
        a
    };
    let one = "must not contain control characters";
    let many = "must not contain control characters other than line breaks and tabs";
    let audit = db.audit_count().await;

    let cases: Vec<(&str, Vec<String>, String)> = vec![
        (
            "cara",
            open(&format!("Spring{ESC}]0;pwned{BEL}"), &[]),
            format!("subject: {one} (found U+001B at character 7)"),
        ),
        (
            "cara",
            open("Spring", &args(&["--message", &format!("hi{BEL}")])),
            format!("body: {many} (found U+0007 at character 3)"),
        ),
        (
            "cara",
            open("Spring", &offer_flags(&format!("logo{ESC}[2J@2030-01-31"))),
            format!("benefits: {one} (found U+001B at character 5)"),
        ),
        (
            "cara",
            args(&[
                "plans",
                "add",
                "--code",
                "pro",
                "--name",
                &format!("Pro{BEL}"),
                "--price",
                "9.90",
                "--currency",
                "EUR",
            ]),
            format!("name: {one} (found U+0007 at character 4)"),
        ),
        (
            "cara",
            args(&[
                "referrals",
                "token",
                "--partner",
                &pid,
                "--plan",
                "pro",
                "--email",
                &format!("a{ESC}@b.example"),
            ]),
            format!("email: {one} (found U+001B at character 2)"),
        ),
        (
            "cara",
            args(&[
                "contracts",
                "status",
                "1",
                "--to",
                "cancelled",
                "--reason",
                &format!("gone{ESC}"),
            ]),
            format!("reason: {one} (found U+001B at character 5)"),
        ),
        (
            "cara",
            args(&[
                "contracts",
                "benefit",
                "1",
                "1",
                "--delivered",
                &format!("see{BEL}"),
            ]),
            format!("note: {many} (found U+0007 at character 4)"),
        ),
        (
            "fina",
            args(&[
                "settle",
                "pay",
                "1",
                "--reference",
                &format!("PAY{ESC}]0;x"),
            ]),
            format!("reference: {one} (found U+001B at character 4)"),
        ),
    ];
    for (user, a, want) in &cases {
        let out = run(&db, user, a);
        assert_eq!(out.error_line(3), *want, "{out}");
    }
    assert_eq!(
        db.count("SELECT count(*) FROM negotiation_threads").await,
        0
    );
    assert_eq!(db.count("SELECT count(*) FROM plans").await, 0);
    assert_eq!(db.audit_count().await, audit, "nothing was recorded");

    // On an open thread: an offer's note, a benefit from a file, a reject reason.
    run(&db, "cara", &open("Spring terms", &offer_flags("logo"))).success();
    let out = run(
        &db,
        "cara",
        &args(&[
            "negotiations",
            "offer",
            "1",
            "--as",
            "partner",
            "--rate-bps",
            "1100",
            "--note",
            &format!("ok{ESC}"),
        ]),
    );
    assert_eq!(
        out.error_line(3),
        format!("note: {many} (found U+001B at character 3)")
    );
    let dir = TempDir::new("pd-control");
    let from = chrono::Utc::now().to_rfc3339();
    let until = (chrono::Utc::now() + chrono::Duration::days(60)).to_rfc3339();
    let file = dir.file(
        "counter.toml",
        &format!(
            r#"
model = "percentage"
rate_bps = 1100
currency = "EUR"
frequency = "monthly"
benefits = [{{ name = "news\u001b]52;c;aGk=\u0007" }}]
title = "Spring coupon"
kind = "coupon"
coupon_code = "SPRING10"
audience_scope = "public"
valid_from = "{from}"
valid_until = "{until}"
"#
        ),
    );
    let out = run(
        &db,
        "cara",
        &args(&[
            "negotiations",
            "offer",
            "1",
            "--as",
            "partner",
            "--file",
            &file,
        ]),
    );
    assert_eq!(
        out.error_line(3),
        format!("benefits: {one} (found U+001B at character 5)")
    );
    let out = run(
        &db,
        "cara",
        &args(&[
            "negotiations",
            "reject",
            "1",
            "--reason",
            &format!("no{BEL}"),
        ]),
    );
    assert_eq!(
        out.error_line(3),
        format!("reason: {one} (found U+0007 at character 3)")
    );
    assert_eq!(db.count("SELECT count(*) FROM negotiation_offers").await, 1);
    assert_eq!(
        db.count("SELECT count(*) FROM negotiation_threads WHERE status = 'pending'")
            .await,
        1
    );
}

#[tokio::test]
async fn text_stored_raw_before_the_rule_prints_escaped() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let p = verified_partner(&desk, "Bean There", "beanthere.example").await;
    let pid = p.id.to_string();
    let deadline = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();
    pd(
        Some(&db),
        "cara",
        &[
            "negotiations",
            "open",
            "--partner",
            &pid,
            "--subject",
            "Spring",
            "--deadline",
            &deadline,
        ],
    )
    .success();
    // As the owner, past every rule (the database's own too, as before migration 0026): what
    // an older version or another client may have stored.
    without_text_rules(&db).await;
    sqlx::query("UPDATE negotiation_threads SET subject = $1")
        .bind(format!("Spring{ESC}]0;pwned{BEL}"))
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO negotiation_messages (thread_id, side, author, body)
         VALUES (1, 'partner', 'cara', $1)",
    )
    .bind(format!("line one\nclear{ESC}[2J{BEL}"))
    .execute(&db.pool)
    .await
    .unwrap();

    let out = pd(Some(&db), "cara", &["negotiations", "show", "1"]);
    out.success();
    let text = out.stdout_text();
    assert!(!text.contains(ESC) && !text.contains(BEL), "{out}");
    assert!(
        text.contains("negotiation  1 Spring\\x1b]0;pwned\\x07\n"),
        "{out}"
    );
    assert!(
        text.contains("    line one\n    clear\\x1b[2J\\x07\n"),
        "{out}"
    );

    let out = pd(Some(&db), "cara", &["negotiations", "list"]);
    out.success();
    let text = out.stdout_text();
    assert!(!text.contains(ESC) && !text.contains(BEL), "{out}");
    assert!(text.contains("Spring\\x1b]0;pwned\\x07"), "{out}");

    // JSON stays valid JSON and carries the value exactly.
    let out = pd(Some(&db), "cara", &["negotiations", "show", "1", "--json"]);
    out.success();
    assert!(!out.stdout.contains(&0x1b), "{out}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["thread"]["subject"].as_str(),
        Some(format!("Spring{ESC}]0;pwned{BEL}").as_str())
    );
}
