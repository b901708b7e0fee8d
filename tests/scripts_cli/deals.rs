//! `partnerdesk deals add|edit|activate|pause|expire|list|show`, and the whole script a cron
//! job would run: a partner created and vetted, a deal authored and published.

use crate::common::{TestDb, coupon_draft, partner_draft, verified_partner};
use crate::{
    NOT_FOUND, REFUSED, USAGE, audit_of, error_lines, events_of, id_of, json, keys, run, written,
};
use partnerdesk::domain::Role;

#[tokio::test]
async fn a_script_creates_and_vets_a_partner_then_authors_and_publishes_a_deal() {
    let db = TestDb::new().await;
    db.curator().await;

    let partner = json(&run(
        &db,
        "cara",
        &[
            "partners",
            "add",
            "--legal-name",
            "Bean There Ltd",
            "--display-name",
            "Bean There",
            "--website",
            "https://beanthere.example/",
            "--json",
        ],
    ));
    assert_eq!(partner["verification"], "pending");
    let pid = id_of(&partner).to_string();
    run(&db, "cara", &["partners", "vet", &pid]).success();

    let deal = json(&run(
        &db,
        "cara",
        &[
            "deals",
            "add",
            "--partner",
            &pid,
            "--title",
            "Launch week",
            "--description",
            "Ten percent off",
            "--kind",
            "coupon",
            "--coupon-code",
            "LAUNCH10",
            "--category",
            "food,coffee",
            "--audience-scope",
            "batch",
            "--audience-scope-value",
            "2019",
            "--valid-from",
            "2026-01-01 09:00",
            "--valid-until",
            "2099-01-01T00:00:00+01:00",
            "--cap",
            "50",
            "--json",
        ],
    ));
    assert_eq!(deal["state"], "draft");
    assert_eq!(deal["valid_from"], "2026-01-01T09:00:00Z", "UTC");
    assert_eq!(
        deal["valid_until"], "2098-12-31T23:00:00Z",
        "converted to UTC"
    );
    let id = id_of(&deal);
    let ids = id.to_string();

    let out = run(&db, "cara", &["deals", "activate", &ids]);
    out.success();
    assert_eq!(
        out.stdout_text(),
        format!(
            "deal {id} Launch week is now active (version 2): the deal becomes visible in search and starts accepting redemptions\n"
        )
    );

    // list --json: parse it and find the deal, with stable field names.
    let rows = json(&run(
        &db,
        "anyone",
        &[
            "deals",
            "list",
            "--json",
            "--state",
            "active",
            "--partner",
            &pid,
        ],
    ));
    let rows = rows.as_array().expect("an array");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        keys(&rows[0]),
        [
            "audience_scope",
            "audience_scope_value",
            "id",
            "kind",
            "partner_id",
            "partner_name",
            "redemption_cap",
            "redemption_count",
            "state",
            "title",
            "valid_from",
            "valid_until",
            "version"
        ]
    );
    assert_eq!(id_of(&rows[0]), id);
    assert_eq!(rows[0]["partner_name"], "Bean There");
    assert_eq!(rows[0]["audience_scope_value"], "2019");
    assert_eq!(rows[0]["redemption_cap"], 50);
    assert_eq!(rows[0]["state"], "active");

    // What the database holds, and who did what.
    let (state, code, cap, created_by): (String, Option<String>, Option<i32>, String) =
        sqlx::query_as(
            "SELECT state, coupon_code, redemption_cap, created_by FROM deals WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(
        (state.as_str(), code.as_deref(), cap, created_by.as_str()),
        ("active", Some("LAUNCH10"), Some(50), "cara")
    );
    let searchable = db
        .count(&format!(
            "SELECT count(*) FROM deal_search_documents WHERE deal_id = {id}"
        ))
        .await;
    assert_eq!(searchable, 1, "an active deal is indexed for member search");
    assert_eq!(
        audit_of(&db, "deal", id).await,
        [
            ("deal.create".to_owned(), "cara".to_owned()),
            ("deal.activate".to_owned(), "cara".to_owned())
        ]
    );
    assert_eq!(
        events_of(&db, "deal", id).await,
        ["deal.created", "deal.activated"]
    );
    let partner_actions: Vec<String> = audit_of(&db, "partner", id_of(&partner))
        .await
        .into_iter()
        .map(|(a, _)| a)
        .collect();
    assert_eq!(partner_actions, ["partner.create", "partner.vet"]);

    // show, as JSON and for people.
    let shown = json(&run(&db, "anyone", &["deals", "show", &ids, "--json"]));
    assert_eq!(id_of(&shown), id);
    assert_eq!(shown["partner_name"], "Bean There");
    assert_eq!(shown["description"], "Ten percent off");
    assert_eq!(shown["coupon_codes"][0]["code"], "LAUNCH10");
    let out = run(&db, "anyone", &["deals", "show", &ids]);
    out.success();
    let text = out.stdout_text();
    assert!(
        text.starts_with(&format!("deal         {id} Launch week\n")),
        "{out}"
    );
    assert!(
        text.contains(&format!("\npartner      Bean There (#{pid})\n")),
        "{out}"
    );
    assert!(text.contains("\naudience     batch 2019\n"), "{out}");
    assert!(
        text.contains("\ncap          50 (the first 50 in total)\n"),
        "{out}"
    );

    // pause, then expire; each audited.
    run(&db, "cara", &["deals", "pause", &ids, "--reason", "stock"]).success();
    let expired = json(&run(&db, "cara", &["deals", "expire", &ids, "--json"]));
    assert_eq!(expired["state"], "expired");
    let actions: Vec<String> = audit_of(&db, "deal", id)
        .await
        .into_iter()
        .map(|(a, _)| a)
        .collect();
    assert_eq!(
        actions,
        ["deal.create", "deal.activate", "deal.pause", "deal.expire"]
    );
}

#[tokio::test]
async fn list_filters_sorts_and_prints_a_table() {
    let db = TestDb::new().await;
    let cara = db.curator().await;
    let bean = verified_partner(&cara, "Bean There", "beanthere.example").await;
    let tea = verified_partner(&cara, "Tea Time", "teatime.example").await;
    let mut ids = Vec::new();
    for (p, title, active) in [
        (&bean, "Espresso week", true),
        (&bean, "Croissant club", false),
        (&tea, "Matcha month", true),
    ] {
        let mut d = coupon_draft(p.id, "CODE1");
        d.title = title.into();
        if active {
            d.state = Some("active".into());
        }
        ids.push(cara.create_deal(&d).await.unwrap().id);
    }
    let listed = |args: &[&str]| -> Vec<i64> {
        let mut a = vec!["deals", "list", "--json"];
        a.extend_from_slice(args);
        json(&run(&db, "anyone", &a))
            .as_array()
            .unwrap()
            .iter()
            .map(crate::id_of)
            .collect()
    };
    assert_eq!(listed(&[]), [ids[2], ids[1], ids[0]], "newest first");
    assert_eq!(listed(&["--reverse"]), ids);
    assert_eq!(listed(&["--sort", "title"]), [ids[1], ids[0], ids[2]]);
    assert_eq!(listed(&["--state", "active"]), [ids[2], ids[0]]);
    assert_eq!(
        listed(&["--partner", &bean.id.to_string()]),
        [ids[1], ids[0]]
    );
    assert_eq!(listed(&["--text", "matcha"]), [ids[2]]);
    assert_eq!(listed(&["--text", "tea time"]), [ids[2]], "partner name");
    assert_eq!(listed(&["--limit", "1"]), [ids[2]]);
    assert!(listed(&["--text", "submarine"]).is_empty());

    let out = run(&db, "anyone", &["deals", "list", "--state", "draft"]);
    out.success();
    let lines = out.stdout_lines();
    assert_eq!(lines.len(), 2, "{out}");
    let header: Vec<&str> = lines[0]
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        header,
        [
            "ID",
            "TITLE",
            "PARTNER",
            "KIND",
            "SCOPE",
            "STATE",
            "VALID UNTIL",
            "USED",
            "VERSION"
        ]
    );
    assert!(
        lines[1].contains(&format!(
            "Croissant club  Bean There (#{})  coupon  public  draft",
            bean.id
        )),
        "{out}"
    );
    let out = run(&db, "anyone", &["deals", "list", "--text", "submarine"]);
    out.success();
    assert_eq!(out.stdout_text(), "no deal matches\n");

    let out = run(&db, "anyone", &["deals", "list", "--sort", "price"]);
    assert!(error_lines(&out, USAGE)[0].contains("--sort"), "{out}");
    let out = run(&db, "anyone", &["deals", "list", "--limit", "0"]);
    assert!(error_lines(&out, USAGE)[0].contains("--limit"), "{out}");
}

#[tokio::test]
async fn edit_changes_only_the_fields_given_and_refuses_a_stale_version() {
    let db = TestDb::new().await;
    let cara = db.curator().await;
    db.desk("cody", &[Role::Curator]).await;
    let p = verified_partner(&cara, "Bean There", "beanthere.example").await;
    let mut draft = coupon_draft(p.id, "OLD1");
    draft.audience_scope = "batch".into();
    draft.audience_scope_value = Some("2019".into());
    draft.redemption_cap = Some(10);
    let d = cara.create_deal(&draft).await.unwrap();
    let ids = d.id.to_string();

    let edited = json(&run(
        &db,
        "cara",
        &[
            "deals",
            "edit",
            &ids,
            "--coupon-code",
            "NEW1",
            "--audience-scope",
            "public",
            "--cap",
            "none",
            "--json",
        ],
    ));
    assert_eq!(edited["coupon_code"], "NEW1");
    assert_eq!(edited["audience_scope"], "public");
    assert_eq!(
        edited["audience_scope_value"],
        serde_json::Value::Null,
        "a scope without a value drops the old one"
    );
    assert_eq!(edited["redemption_cap"], serde_json::Value::Null);
    assert_eq!(edited["title"], d.title.as_str(), "kept");
    assert_eq!(edited["version"], 2);
    let codes = db
        .count(&format!(
            "SELECT count(*) FROM deal_coupon_codes WHERE deal_id = {}",
            d.id
        ))
        .await;
    assert_eq!(codes, 2, "the code history grows");

    run(&db, "cody", &["deals", "edit", &ids, "--title", "Cody's"]).success();
    let before = written(&db).await;
    let out = run(
        &db,
        "cara",
        &["deals", "edit", &ids, "--title", "Mine", "--version", "2"],
    );
    let lines = error_lines(&out, REFUSED);
    assert_eq!(lines.len(), 1, "{out}");
    assert!(
        lines[0].starts_with(&format!("deal {} was changed by cody at ", d.id)),
        "{out}"
    );
    let out = run(&db, "cara", &["deals", "activate", &ids, "--version", "2"]);
    assert!(
        error_lines(&out, REFUSED)[0].contains("was changed by cody"),
        "{out}"
    );
    assert_eq!(written(&db).await, before, "nothing written");

    let out = run(&db, "cara", &["deals", "edit", &ids]);
    assert!(
        error_lines(&out, USAGE)[0].contains("nothing to change"),
        "{out}"
    );
}

#[tokio::test]
async fn refusals_name_every_field_and_use_one_code_for_each_kind() {
    let db = TestDb::new().await;
    let cara = db.curator().await;
    db.desk("sam", &[Role::Support]).await;
    let pending = cara
        .create_partner(&partner_draft("Pending Co", "pending.example"))
        .await
        .unwrap();
    let draft = cara
        .create_deal(&coupon_draft(pending.id, "PEND1"))
        .await
        .unwrap();
    let before = written(&db).await;

    // Every problem on a line of its own, each naming its field; times and the cap included.
    let out = run(
        &db,
        "cara",
        &[
            "deals",
            "add",
            "--kind",
            "voucher",
            "--audience-scope",
            "batch",
            "--valid-from",
            "next monday",
            "--cap",
            "lots",
        ],
    );
    let lines = error_lines(&out, REFUSED);
    assert_eq!(
        lines,
        [
            "valid_from: not a date and time (next monday): use RFC 3339 like 2026-03-01T09:00:00Z, or YYYY-MM-DD HH:MM or YYYY-MM-DD taken as UTC",
            "redemption_cap: a positive whole number up to 2147483647, or none for no cap",
            "partner: required",
            "title: required",
            "kind: must be coupon or link",
            "audience_scope_value: required when scope is batch: a batch year",
            "valid_until: required",
        ],
        "{out}"
    );
    // The rules the service applies beyond the fields.
    let pid = pending.id.to_string();
    let add = [
        "deals",
        "add",
        "--partner",
        "999999",
        "--title",
        "T",
        "--kind",
        "link",
        "--redemption-url",
        "https://x.example/",
        "--audience-scope",
        "public",
        "--valid-from",
        "2026-01-01 00:00",
        "--valid-until",
        "2099-01-01 00:00",
    ];
    assert_eq!(
        error_lines(&run(&db, "cara", &add), REFUSED),
        ["partner: must be an existing partner (no partner #999999)"]
    );
    let dids = draft.id.to_string();
    assert_eq!(
        error_lines(&run(&db, "cara", &["deals", "activate", &dids]), REFUSED),
        [format!(
            "deal cannot become active: partner Pending Co (#{pid}) is pending, not verified; vet the partner first"
        )]
    );
    assert_eq!(
        error_lines(&run(&db, "cara", &["deals", "expire", &dids]), REFUSED),
        [format!(
            "cannot move deal {} from draft to expired: a draft cannot expire; it was never published",
            draft.id
        )]
    );
    let mut as_support = add;
    as_support[3] = pid.as_str();
    assert_eq!(
        error_lines(&run(&db, "sam", &as_support), REFUSED),
        ["sam may not author and change deals: it needs the curator or admin role"]
    );

    // A deal that does not exist: 4, whatever the subcommand.
    for args in [
        &["deals", "show", "999999"][..],
        &["deals", "edit", "999999", "--title", "T"],
        &["deals", "activate", "999999"],
        &["deals", "pause", "999999"],
        &["deals", "expire", "999999"],
    ] {
        assert_eq!(
            error_lines(&run(&db, "cara", args), NOT_FOUND),
            ["deal 999999 not found"],
            "{args:?}"
        );
    }
    assert_eq!(written(&db).await, before, "nothing written by a refusal");
}
