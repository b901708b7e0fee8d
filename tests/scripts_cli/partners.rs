//! `partnerdesk partners …`.

use crate::common::{TestDb, partner_draft};
use crate::{
    NOT_FOUND, REFUSED, USAGE, audit_of, error_lines, events_of, id_of, json, keys, run, written,
};
use partnerdesk::domain::Role;

const ADD: &[&str] = &[
    "partners",
    "add",
    "--legal-name",
    "Bean There Ltd",
    "--display-name",
    "Bean There",
    "--website",
    "https://www.beanthere.example/",
    "--logo-url",
    "https://cdn.beanthere.example/logo.png",
    "--contact-email",
    "partners@beanthere.example",
    "--category",
    "food,coffee",
    "--category",
    "drinks",
    "--region",
    "EU",
    "--notes",
    "Met at the fair",
];

#[tokio::test]
async fn add_vet_list_and_show_go_through_the_services_with_audit_and_events() {
    let db = TestDb::new().await;
    let cara = db.curator().await;

    // For people: one line naming the new partner.
    let out = run(&db, "cara", ADD);
    out.success();
    let line = out.stdout_text();
    assert!(
        line.starts_with("created partner ")
            && line.ends_with(" Bean There (pending, version 1)\n"),
        "{out}"
    );
    let id: i64 = line
        .split_whitespace()
        .nth(2)
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("an id:{out}"));
    let stored = cara.get_partner(id).await.expect("the partner is stored");
    assert_eq!(stored.legal_name, "Bean There Ltd");
    assert_eq!(stored.domain.as_deref(), Some("beanthere.example"));
    assert_eq!(
        stored.logo_url.as_deref(),
        Some("https://cdn.beanthere.example/logo.png")
    );
    assert_eq!(
        stored.contact_email.as_deref(),
        Some("partners@beanthere.example")
    );
    assert_eq!(stored.categories, ["food", "coffee", "drinks"]);
    assert_eq!(stored.region.as_deref(), Some("EU"));
    assert_eq!(stored.notes.as_deref(), Some("Met at the fair"));
    assert_eq!(stored.verification.as_str(), "pending");
    assert_eq!(stored.created_by, "cara");

    let ids = id.to_string();
    let out = run(&db, "cara", &["partners", "vet", &ids]);
    out.success();
    assert_eq!(
        out.stdout_text(),
        format!("partner {id} Bean There is now verified (version 2)\n")
    );
    assert_eq!(
        audit_of(&db, "partner", id).await,
        [
            ("partner.create".to_owned(), "cara".to_owned()),
            ("partner.vet".to_owned(), "cara".to_owned())
        ]
    );
    assert_eq!(
        events_of(&db, "partner", id).await,
        ["partner.created", "partner.verified"]
    );

    // list --json: an array of rows with stable field names.
    let rows = json(&run(&db, "anyone", &["partners", "list", "--json"]));
    let rows = rows.as_array().expect("an array");
    assert_eq!(rows.len(), 1);
    assert_eq!(
        keys(&rows[0]),
        [
            "categories",
            "deal_count",
            "display_name",
            "domain",
            "id",
            "verification",
            "version",
            "vetted_at",
            "vetted_by"
        ]
    );
    assert_eq!(id_of(&rows[0]), id);
    assert_eq!(rows[0]["verification"], "verified");
    assert_eq!(rows[0]["vetted_by"], "cara");
    assert_eq!(rows[0]["version"], 2);

    // The filters of the console's list: text (forgiving a typo) and state.
    let found = |args: &[&str]| -> usize {
        let mut a = vec!["partners", "list", "--json"];
        a.extend_from_slice(args);
        json(&run(&db, "anyone", &a)).as_array().unwrap().len()
    };
    assert_eq!(found(&["--text", "bean"]), 1);
    assert_eq!(found(&["--text", "baen there"]), 1, "a typo is forgiven");
    assert_eq!(found(&["--text", "submarine"]), 0);
    assert_eq!(found(&["--state", "verified"]), 1);
    assert_eq!(found(&["--state", "pending"]), 0);

    // The table, for people.
    let out = run(&db, "anyone", &["partners", "list"]);
    out.success();
    let lines = out.stdout_lines();
    assert_eq!(lines.len(), 2, "{out}");
    let cols: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(
        cols,
        [
            "ID",
            "NAME",
            "DOMAIN",
            "STATE",
            "DEALS",
            "CATEGORIES",
            "VERSION"
        ]
    );
    assert!(
        lines[1].contains("Bean There  beanthere.example  verified"),
        "{out}"
    );
    let out = run(&db, "anyone", &["partners", "list", "--text", "submarine"]);
    out.success();
    assert_eq!(out.stdout_text(), "no partner matches\n");

    // show: the record, and its deals by state.
    let shown = json(&run(&db, "anyone", &["partners", "show", &ids, "--json"]));
    assert_eq!(id_of(&shown), id);
    assert_eq!(shown["legal_name"], "Bean There Ltd");
    assert_eq!(shown["website_url"], "https://www.beanthere.example/");
    assert_eq!(shown["deals"], serde_json::json!({}));
    let out = run(&db, "anyone", &["partners", "show", &ids]);
    out.success();
    let text = out.stdout_text();
    assert!(
        text.starts_with(&format!("partner     {id} Bean There\n")),
        "{out}"
    );
    assert!(
        text.contains("\nstate       verified, vetted by cara at "),
        "{out}"
    );
    assert!(text.contains("\ndeals       none\n"), "{out}");
}

#[tokio::test]
async fn edit_changes_only_the_fields_given_and_a_stale_version_names_who_changed_it() {
    let db = TestDb::new().await;
    let cara = db.curator().await;
    db.desk("cody", &[Role::Curator]).await;
    let p = cara
        .create_partner(&partner_draft("Bean There", "beanthere.example"))
        .await
        .unwrap();
    let ids = p.id.to_string();

    let edited = json(&run(
        &db,
        "cara",
        &[
            "partners",
            "edit",
            &ids,
            "--region",
            "APAC",
            "--logo-url",
            "",
            "--json",
        ],
    ));
    assert_eq!(edited["region"], "APAC");
    assert_eq!(edited["logo_url"], serde_json::Value::Null, "'' clears it");
    assert_eq!(edited["display_name"], "Bean There", "kept");
    assert_eq!(
        edited["website_url"], "https://www.beanthere.example/",
        "kept"
    );
    assert_eq!(edited["categories"], serde_json::json!(["food"]), "kept");
    assert_eq!(edited["version"], 2);

    // cody saves on version 2; cara's script still holds version 2 and is refused.
    run(
        &db,
        "cody",
        &["partners", "edit", &ids, "--notes", "Call first"],
    )
    .success();
    let before = written(&db).await;
    let out = run(
        &db,
        "cara",
        &["partners", "edit", &ids, "--region", "EU", "--version", "2"],
    );
    let lines = error_lines(&out, REFUSED);
    assert_eq!(lines.len(), 1, "{out}");
    assert!(
        lines[0].starts_with(&format!("partner {} was changed by cody at ", p.id)),
        "{out}"
    );
    assert_eq!(written(&db).await, before, "nothing written");
    let region: Option<String> = sqlx::query_scalar("SELECT region FROM partners WHERE id = $1")
        .bind(p.id)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(region.as_deref(), Some("APAC"));
    // The same for a state change.
    let out = run(&db, "cara", &["partners", "vet", &ids, "--version", "2"]);
    assert!(
        error_lines(&out, REFUSED)[0].contains("was changed by cody"),
        "{out}"
    );

    // Nothing to change is a usage error.
    let out = run(&db, "cara", &["partners", "edit", &ids]);
    let lines = error_lines(&out, USAGE);
    assert!(lines[0].contains("nothing to change"), "{out}");
    assert_eq!(
        audit_of(&db, "partner", p.id).await,
        [
            ("partner.create".to_owned(), "cara".to_owned()),
            ("partner.update".to_owned(), "cara".to_owned()),
            ("partner.update".to_owned(), "cody".to_owned())
        ]
    );
}

#[tokio::test]
async fn refusals_print_one_line_per_problem_and_exit_3_or_4() {
    let db = TestDb::new().await;
    let cara = db.curator().await;
    db.desk("sam", &[Role::Support]).await;
    let existing = cara
        .create_partner(&partner_draft("Bean There", "beanthere.example"))
        .await
        .unwrap();
    let before = written(&db).await;

    // Every field that breaks a rule, each on its own line naming the field.
    let out = run(
        &db,
        "cara",
        &[
            "partners",
            "add",
            "--website",
            "ftp://x.example",
            "--contact-email",
            "nobody",
        ],
    );
    assert_eq!(
        error_lines(&out, REFUSED),
        [
            "legal_name: required",
            "display_name: required",
            "website_url: must be an http(s) URL (scheme is ftp)",
            "contact_email: must be an address like name@example.com"
        ]
    );

    // A domain that belongs to another partner names it.
    let out = run(
        &db,
        "cara",
        &[
            "partners",
            "add",
            "--legal-name",
            "Copy Ltd",
            "--display-name",
            "Copy",
            "--website",
            "https://beanthere.example/",
        ],
    );
    assert_eq!(
        error_lines(&out, REFUSED),
        [format!(
            "website_url: the domain beanthere.example already belongs to partner Bean There (#{})",
            existing.id
        )]
    );

    // The wrong role, an unregistered operator, a read-only session: refused, exit 3.
    let add = [
        "partners",
        "add",
        "--legal-name",
        "A",
        "--display-name",
        "A",
    ];
    assert_eq!(
        error_lines(&run(&db, "sam", &add), REFUSED),
        ["sam may not manage partners: it needs the curator or admin role"]
    );
    let lines = error_lines(&run(&db, "stranger", &add), REFUSED);
    assert!(
        lines[0].starts_with("stranger is not a registered operator"),
        "{lines:?}"
    );
    let mut ro = vec!["--read-only"];
    ro.extend_from_slice(&add);
    assert_eq!(
        error_lines(&run(&db, "cara", &ro), REFUSED),
        ["read-only: manage partners is not available in a read-only session"]
    );

    // A transition the state machine does not allow.
    let ids = existing.id.to_string();
    assert_eq!(
        error_lines(&run(&db, "cara", &["partners", "revet", &ids]), REFUSED),
        [format!(
            "cannot move partner {} from pending to pending: the partner is already pending",
            existing.id
        )]
    );

    // A partner that does not exist: 4, whatever the subcommand.
    for args in [
        &["partners", "show", "999999"][..],
        &["partners", "edit", "999999", "--region", "EU"],
        &["partners", "vet", "999999"],
        &["partners", "disable", "999999"],
        &["partners", "delete", "999999"],
        &["partners", "offboard", "999999"],
    ] {
        assert_eq!(
            error_lines(&run(&db, "cara", args), NOT_FOUND),
            ["partner 999999 not found"],
            "{args:?}"
        );
    }

    // Bad flags are usage errors.
    let out = run(&db, "cara", &["partners", "list", "--state", "happy"]);
    let lines = error_lines(&out, USAGE);
    assert!(lines[0].contains("--state"), "{out}");
    let out = run(&db, "cara", &["partners", "vet", "x"]);
    error_lines(&out, USAGE);

    assert_eq!(written(&db).await, before, "nothing written by a refusal");
}

#[tokio::test]
async fn disable_offboard_and_delete_pause_deals_and_guard_live_ones() {
    let db = TestDb::new().await;
    let cara = db.curator().await;
    let deal = crate::common::active_deal(&cara, "OFFB").await;
    let (pid, did) = (deal.partner_id.to_string(), deal.id.to_string());

    // Deleting a partner with a live deal is refused, saying how many and what to do.
    let lines = error_lines(&run(&db, "cara", &["partners", "delete", &pid]), REFUSED);
    assert!(
        lines[0].contains("still has 1 deal that is not expired (1 active)"),
        "{lines:?}"
    );

    // Off-boarding pauses it and says what is left.
    let out = run(
        &db,
        "cara",
        &["partners", "offboard", &pid, "--reason", "contract ended"],
    );
    out.success();
    assert_eq!(
        out.stdout_text(),
        format!(
            "off-boarded partner {pid} Partner OFFB: paused 1 deal (id {did}); deals left: 1 paused; expire the 1 not expired before deleting it\n"
        )
    );
    let state: String = sqlx::query_scalar("SELECT state FROM deals WHERE id = $1")
        .bind(deal.id)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(state, "paused");
    let reason: Option<String> = sqlx::query_scalar(
        "SELECT reason FROM audit_log WHERE action = 'partner.offboard' AND entity_id = $1",
    )
    .bind(&pid)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(reason.as_deref(), Some("contract ended"));

    // disable, then re-vet: the state machine through the command line.
    let out = run(
        &db,
        "cara",
        &["partners", "disable", &pid, "--reason", "late"],
    );
    out.success();
    assert!(out.stdout_text().contains("is now disabled"), "{out}");
    let out = run(&db, "cara", &["partners", "revet", &pid, "--json"]);
    assert_eq!(json(&out)["verification"], "pending");

    // Expire the deal, then the partner can go.
    run(&db, "cara", &["deals", "expire", &did]).success();
    let out = run(
        &db,
        "cara",
        &["partners", "delete", &pid, "--reason", "gone"],
    );
    out.success();
    assert_eq!(out.stdout_text(), format!("deleted partner {pid}\n"));
    assert_eq!(
        error_lines(&run(&db, "cara", &["partners", "show", &pid]), NOT_FOUND),
        [format!("partner {pid} not found")]
    );
    let actions: Vec<String> = audit_of(&db, "partner", deal.partner_id)
        .await
        .into_iter()
        .map(|(a, _)| a)
        .collect();
    assert_eq!(
        actions,
        [
            "partner.create",
            "partner.vet",
            "partner.offboard",
            "partner.disable",
            "partner.revet",
            "partner.delete"
        ]
    );
}
