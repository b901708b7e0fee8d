//! What a user tripped over on the command line (issue 22, "Daily use, round two": items 11,
//! 18 and 19), the real binary against real PostgreSQL, and the command tree walked whole.

#[path = "../support/cli.rs"]
#[allow(dead_code)]
mod cli;
#[path = "../db/common.rs"]
#[allow(dead_code)]
mod common;

mod tree;

use cli::{Out, pd};
use common::TestDb;
use partnerdesk::domain::Role;
use partnerdesk::domain::referral::PlanDraft;
use serde_json::Value;

/// A successful run's standard output as one JSON document.
fn json(out: &Out) -> Value {
    out.success();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("one JSON document ({e}):{out}"))
}

// Item 11: one rule for a bare date ------------------------------------------------------------

#[tokio::test]
async fn a_bare_date_on_the_command_line_starts_at_midnight_and_ends_with_the_whole_day() {
    let db = TestDb::new().await;
    let admin = db.admin().await;
    let p = common::verified_partner(&admin, "Umber Stationers", "umber.example").await;
    let pid = p.id.to_string();
    // A deal's window: from 00:00 of the first day, through the whole of the last (its
    // valid_until, exclusive, is the next day's 00:00 UTC).
    let deal = json(&pd(
        Some(&db),
        "ada",
        &[
            "deals",
            "add",
            "--partner",
            &pid,
            "--title",
            "Launch week",
            "--kind",
            "coupon",
            "--coupon-code",
            "UMBER10",
            "--audience-scope",
            "public",
            "--valid-from",
            "2027-03-01",
            "--valid-until",
            "2027-03-08",
            "--json",
        ],
    ));
    assert_eq!(deal["valid_from"], "2027-03-01T00:00:00Z", "{deal}");
    assert_eq!(deal["valid_until"], "2027-03-09T00:00:00Z", "{deal}");
    // A date and a time is that moment, as a start or an end.
    let id = deal["id"].to_string();
    let edited = json(&pd(
        Some(&db),
        "ada",
        &[
            "deals",
            "edit",
            &id,
            "--valid-until",
            "2027-03-08 18:30",
            "--json",
        ],
    ));
    assert_eq!(edited["valid_until"], "2027-03-08T18:30:00Z", "{edited}");

    // A claim token's expiry: the same rule (it was 23:59:59 in the console, refused here).
    admin
        .add_plan(&PlanDraft {
            code: "pro".into(),
            name: "Pro".into(),
            price: "29.00".into(),
            currency: "EUR".into(),
        })
        .await
        .unwrap();
    let token = json(&pd(
        Some(&db),
        "ada",
        &[
            "referrals",
            "token",
            "--partner",
            &pid,
            "--plan",
            "pro",
            "--expires",
            "2026-12-31",
            "--json",
        ],
    ));
    assert_eq!(
        token["record"]["expires_at"], "2027-01-01T00:00:00Z",
        "{token}"
    );

    // A negotiation's deadline is an end too.
    let thread = json(&pd(
        Some(&db),
        "ada",
        &[
            "negotiations",
            "open",
            "--partner",
            &pid,
            "--subject",
            "Spring",
            "--deadline",
            "2099-05-31",
            "--json",
        ],
    ));
    assert_eq!(thread["deadline"], "2099-06-01T00:00:00Z", "{thread}");

    // What does not read says which forms do.
    let line = pd(
        Some(&db),
        "ada",
        &["deals", "edit", &id, "--valid-from", "next monday"],
    )
    .stderr;
    assert!(
        line.contains("YYYY-MM-DD HH:MM or YYYY-MM-DD taken as UTC"),
        "{line}"
    );
}

// Item 18: every list and show takes --json; the default referral code -------------------------

#[tokio::test]
async fn operators_list_and_deals_search_print_json() {
    let db = TestDb::new().await;
    let admin = db.admin().await;
    db.desk("cara", &[Role::Curator]).await;
    let ops = json(&pd(Some(&db), "ada", &["operators", "list", "--json"]));
    let logins: Vec<&str> = ops
        .as_array()
        .unwrap_or_else(|| panic!("an array: {ops}"))
        .iter()
        .map(|o| o["login"].as_str().unwrap())
        .collect();
    assert_eq!(logins, ["ada", "cara"], "{ops}");
    assert_eq!(ops[0]["roles"], serde_json::json!(["admin"]), "{ops}");

    let deal = common::active_deal(&admin, "KAYAK5").await;
    let guest = common::member(&db, "guest", "public", false, None, &[]).await;
    let hits = json(&pd(
        Some(&db),
        "ada",
        &[
            "deals",
            "search",
            "KAYAK5",
            "--member",
            &guest.to_string(),
            "--json",
        ],
    ));
    assert_eq!(hits[0]["id"], deal.id, "{hits}");
    // Nothing found is an empty array, not a sentence.
    let none = json(&pd(
        Some(&db),
        "ada",
        &[
            "deals",
            "search",
            "zeppelin",
            "--member",
            &guest.to_string(),
            "--json",
        ],
    ));
    assert_eq!(none, serde_json::json!([]));
}

#[tokio::test]
async fn referrals_code_without_a_code_shows_the_default_code() {
    let db = TestDb::new().await;
    let admin = db.admin().await;
    let p = common::verified_partner(&admin, "Cobalt Floris", "cobalt.example").await;
    let pid = p.id.to_string();
    let want = format!("COBALTFLORIS-{pid}");
    // The first time it is made from the name.
    let first = pd(Some(&db), "ada", &["referrals", "code", "--partner", &pid]);
    first.success();
    assert!(first.stdout_text().contains(&want), "{first}");
    assert!(first.stdout_text().contains("added"), "{first}");
    let audits = db.audit_count().await;
    // Asked again, as the README says: the default code and its link, nothing new.
    let again = pd(Some(&db), "ada", &["referrals", "code", "--partner", &pid]);
    again.success();
    assert_eq!(
        again.stdout_text(),
        format!(
            "referral code {want} of partner #{pid} (default): {}\n",
            partnerdesk::domain::referral::referral_link(&want)
        )
    );
    assert_eq!(db.audit_count().await, audits, "reading changes nothing");
    // Finance reads it too, and --json is the record.
    db.desk("fin", &[Role::Finance]).await;
    let rec = json(&pd(
        Some(&db),
        "fin",
        &["referrals", "code", "--partner", &pid, "--json"],
    ));
    assert_eq!(rec["code"], want.as_str());
    assert_eq!(rec["is_default"], true);
    // Another code is added with --code, and the default stays what it was.
    let added = json(&pd(
        Some(&db),
        "ada",
        &[
            "referrals",
            "code",
            "--partner",
            &pid,
            "--code",
            "SPRING-26",
            "--json",
        ],
    ));
    assert_eq!(added["is_default"], false);
    let still = json(&pd(
        Some(&db),
        "ada",
        &["referrals", "code", "--partner", &pid, "--json"],
    ));
    assert_eq!(still["code"], want.as_str());
}

// Item 19: a usage error points to the subcommand's own help -----------------------------------

#[test]
fn a_usage_error_points_to_the_subcommands_own_help() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["referrals", "claim", "pdc_x"],
            "partnerdesk referrals claim --help",
        ),
        (
            &["referrals", "token", "--partner", "x"],
            "partnerdesk referrals token --help",
        ),
        (
            &["operators", "list", "--bogus"],
            "partnerdesk operators list --help",
        ),
        (
            &["negotiations", "open", "--deadline", "soon"],
            "partnerdesk negotiations open --help",
        ),
        (
            &["--profile", "deals", "export", "redemptions", "--dael", "1"],
            "partnerdesk export redemptions --help",
        ),
        (&["--bogus"], "partnerdesk --help"),
    ];
    for (args, help) in cases {
        let out = pd(None, "u", args);
        let line = out.error_line(2);
        assert!(line.ends_with(&format!("(see {help})")), "{line}{out}");
    }
    // And that help says what each argument is.
    let out = pd(None, "u", &["referrals", "claim", "--help"]);
    out.success();
    let help = out.stdout_text();
    assert!(
        help.contains("The claim token as it was printed once"),
        "{help}"
    );
    assert!(help.contains("The platform's id of the account"), "{help}");
}
