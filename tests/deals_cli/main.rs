//! `partnerdesk deals search` and `partnerdesk deals import`: the real binary against real
//! PostgreSQL, what a user sees (standard output, standard error, exit codes) and what lands
//! in the database.
//!
//! Every run of the binary gets a fresh `PARTNERDESK_HOME`, a known `USER`, no
//! `DATABASE_URL`, and only the PG* settings of the test's own database.

#[path = "../support/cli.rs"]
#[allow(dead_code)]
mod cli;
#[path = "../db/common.rs"]
#[allow(dead_code)]
mod common;

mod bulk;
mod list_csv;

use cli::{Out, TempDir, pd};
use common::{TestDb, active_deal, member, partner_draft, verified_partner};
use partnerdesk::domain::{DealState, Role};

/// Everything an import writes.
async fn written(db: &TestDb) -> [i64; 5] {
    [
        db.count("SELECT count(*) FROM deals").await,
        db.count("SELECT count(*) FROM audit_log WHERE action = 'deal.create'")
            .await,
        db.count("SELECT count(*) FROM outbox_events WHERE event_type = 'deal.created'")
            .await,
        db.count("SELECT count(*) FROM deal_coupon_codes").await,
        db.count("SELECT count(*) FROM deal_search_documents").await,
    ]
}

// deals search --------------------------------------------------------------------------------

#[tokio::test]
async fn search_prints_a_ranked_table_of_what_the_member_may_see() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let p = verified_partner(&desk, "Bean There", "beanthere.example").await;
    let until = chrono::Utc::now() + chrono::Duration::days(30);
    let mut ids = Vec::new();
    for (title, description, scope, value) in [
        ("Espresso bar", "Coffee", "public", None),
        ("Breakfast", "Espresso and a croissant", "public", None),
        ("Espresso for 2019", "Coffee", "batch", Some("2019")),
        ("Espresso in Pune", "Coffee", "chapter", Some("Pune")),
    ] {
        let mut d = common::coupon_draft(p.id, "BEAN");
        d.title = title.into();
        d.description = description.into();
        d.audience_scope = scope.into();
        d.audience_scope_value = value.map(str::to_owned);
        d.valid_until = Some(until);
        d.state = Some("active".into());
        ids.push(desk.create_deal(&d).await.unwrap().id);
    }
    let alum = member(&db, "alum", "alumni", false, Some(2019), &[]).await;
    let alum = alum.to_string();

    let out = pd(
        Some(&db),
        "anyone",
        &["deals", "search", "espresso", "--member", &alum],
    );
    out.success();
    let lines = out.stdout_lines();
    assert_eq!(lines.len(), 4, "a header and three hits:{out}");
    let header: Vec<&str> = lines[0].split("  ").filter(|c| !c.is_empty()).collect();
    assert_eq!(
        header.iter().map(|c| c.trim()).collect::<Vec<_>>(),
        [
            "ID",
            "TITLE",
            "PARTNER",
            "KIND",
            "SCOPE",
            "VALID UNTIL",
            "RANK"
        ],
        "{out}"
    );
    let until_text = until.format("%Y-%m-%d %H:%M UTC").to_string();
    let row_ids: Vec<i64> = lines[1..]
        .iter()
        .map(|l| l.split_whitespace().next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(
        &row_ids[..2],
        &[ids[0], ids[2]],
        "title matches first, by id:{out}"
    );
    assert_eq!(row_ids[2], ids[1], "the description match last:{out}");
    assert!(lines[1].contains("Espresso bar"), "{out}");
    assert!(lines[1].contains("Bean There"), "{out}");
    assert!(lines[1].contains("coupon"), "{out}");
    assert!(lines[1].contains(&until_text), "{out}");
    assert!(lines[2].contains("batch 2019"), "{out}");
    assert!(
        !out.stdout_text().contains("Pune"),
        "not in that chapter:{out}"
    );
    // Columns line up: every row's title starts where the header's does.
    let title_at = lines[0].find("TITLE").unwrap();
    for l in &lines[1..] {
        assert!(
            l[title_at..].starts_with("Espresso") || l[title_at..].starts_with("Breakfast"),
            "{out}"
        );
    }

    let out = pd(
        Some(&db),
        "anyone",
        &[
            "deals", "search", "espresso", "--member", &alum, "--limit", "1",
        ],
    );
    out.success();
    assert_eq!(out.stdout_lines().len(), 2, "{out}");

    let out = pd(
        Some(&db),
        "anyone",
        &["deals", "search", "submarine", "--member", &alum],
    );
    out.success();
    assert_eq!(out.stdout_text(), "no active deal matches\n", "{out}");
}

#[tokio::test]
async fn a_paused_deal_is_not_found_by_search_until_resumed() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let deal = active_deal(&desk, "CHAI1").await;
    let guest = member(&db, "guest", "public", false, None, &[])
        .await
        .to_string();
    let args = ["deals", "search", "chai1", "--member", guest.as_str()];
    let first_id = |out: &Out| -> Option<i64> {
        out.stdout_lines()
            .get(1)
            .and_then(|l| l.split_whitespace().next())
            .and_then(|t| t.parse().ok())
    };
    let out = pd(Some(&db), "u", &args);
    out.success();
    assert_eq!(first_id(&out), Some(deal.id), "{out}");

    let paused = desk
        .change_deal_state(deal.id, None, DealState::Paused, None)
        .await
        .unwrap();
    let out = pd(Some(&db), "u", &args);
    out.success();
    assert_eq!(out.stdout_text(), "no active deal matches\n", "{out}");

    desk.change_deal_state(deal.id, Some(paused.version), DealState::Active, None)
        .await
        .unwrap();
    let out = pd(Some(&db), "u", &args);
    out.success();
    assert_eq!(first_id(&out), Some(deal.id), "{out}");
}

#[tokio::test]
async fn search_errors_are_one_line() {
    let db = TestDb::new().await;
    let line = pd(
        Some(&db),
        "u",
        &["deals", "search", "x", "--member", "99999999"],
    )
    .error_line(4);
    assert_eq!(line, "member 99999999 not found");

    let line = pd(None, "u", &["deals", "search", "x"]).error_line(2);
    assert!(line.contains("--member"), "{line}");
    let line = pd(
        None,
        "u",
        &["deals", "search", "x", "--member", "1", "--limit", "0"],
    )
    .error_line(2);
    assert!(line.contains("--limit"), "{line}");
}

// deals import --------------------------------------------------------------------------------

const HEADER: &str = "partner,title,kind,coupon_code,redemption_url,categories,audience_scope,audience_scope_value,valid_from,valid_until,redemption_cap,state";

#[tokio::test]
async fn import_of_a_good_file_prints_the_ids_and_writes_every_row() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let shop = verified_partner(&desk, "Shop Co", "shop.example").await;
    let dir = TempDir::new("pd-import");
    let file = dir.file(
        "good.csv",
        &format!(
            "{HEADER}\n\
             {s},Ten off,coupon,TEN,,fashion;shoes,public,,2030-01-01 00:00,2030-02-01 00:00,10,active\n\
             shop.example,Free delivery,link,,https://shop.example/free,,alumni,,2030-01-01T00:00:00Z,2030-02-01T00:00:00Z,,\n\
             www.shop.example,Pune only,coupon,PUNE,,,chapter,Pune,2030-01-01 00:00,2030-02-01 00:00,,paused\n",
            s = shop.id
        ),
    );
    let out = pd(Some(&db), "cara", &["deals", "import", &file]);
    out.success();
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM deals ORDER BY id")
        .fetch_all(&db.pool)
        .await
        .unwrap();
    assert_eq!(ids.len(), 3);
    assert_eq!(
        out.stdout_text(),
        format!(
            "3 rows valid; imported 3 deals (ids {}–{})\n",
            ids[0], ids[2]
        ),
        "{out}"
    );
    assert_eq!(written(&db).await, [3, 3, 3, 2, 1]);
    let reasons: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT actor, reason FROM audit_log WHERE action = 'deal.create' ORDER BY id",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        reasons,
        vec![("cara".to_owned(), Some(format!("import {file}"))); 3]
    );

    // One row: singular.
    let one = dir.file(
        "one.csv",
        &format!(
            "{HEADER}\n{},Solo,coupon,SOLO,,,public,,2030-01-01 00:00,2030-02-01 00:00,,\n",
            shop.id
        ),
    );
    let out = pd(Some(&db), "cara", &["deals", "import", &one]);
    out.success();
    let id: i64 = sqlx::query_scalar("SELECT max(id) FROM deals")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(
        out.stdout_text(),
        format!("1 row valid; imported 1 deal (id {id})\n"),
        "{out}"
    );
}

#[tokio::test]
async fn import_of_a_bad_or_mixed_file_prints_each_problem_exits_3_and_writes_nothing() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let shop = verified_partner(&desk, "Shop Co", "shop.example").await;
    let pending = desk
        .create_partner(&partner_draft("Pending Co", "pending.example"))
        .await
        .unwrap();
    let before = written(&db).await;
    let dir = TempDir::new("pd-import");
    let file = dir.file(
        "mixed.csv",
        &format!(
            "{HEADER}\n\
             {s},Fine,coupon,FINE,,,public,,2030-01-01 00:00,2030-02-01 00:00,,\n\
             {s},No code,coupon,,,,public,,2030-01-01 00:00,2030-02-01 00:00,,\n\
             {p},Too early,coupon,EARLY,,,public,,2030-01-01 00:00,2030-02-01 00:00,,active\n\
             {s},Bad dates,link,,https://shop.example/,,batch,2019,tomorrow,2030-02-01 00:00,,\n",
            s = shop.id,
            p = pending.id
        ),
    );
    let out = pd(Some(&db), "cara", &["deals", "import", &file]);
    assert_eq!(out.code, 3, "refused: {out}");
    out.assert_clean();
    assert_eq!(
        out.stdout_lines(),
        [
            "line 3: coupon_code: required when kind is coupon".to_owned(),
            format!(
                "line 4: state: deal cannot become active: partner Pending Co (#{}) is pending, not verified; vet the partner first",
                pending.id
            ),
            "line 5: valid_from: not a date and time (tomorrow): use RFC 3339 like 2026-03-01T09:00:00Z, or YYYY-MM-DD HH:MM or YYYY-MM-DD taken as UTC".to_owned(),
        ],
        "{out}"
    );
    assert_eq!(
        out.stderr,
        format!("partnerdesk: {file}: 3 of 4 rows have a problem; nothing imported\n"),
        "{out}"
    );
    assert_eq!(written(&db).await, before, "nothing written");

    // The same report on a dry run.
    let dry = pd(Some(&db), "cara", &["deals", "import", &file, "--dry-run"]);
    assert_eq!(dry.code, 3, "refused: {dry}");
    assert_eq!(dry.stdout, out.stdout, "{dry}");
    assert_eq!(written(&db).await, before);
}

#[tokio::test]
async fn import_dry_run_validates_and_writes_nothing() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let shop = verified_partner(&desk, "Shop Co", "shop.example").await;
    let before = written(&db).await;
    let audits = db.audit_count().await;
    let dir = TempDir::new("pd-import");
    let file = dir.file(
        "good.csv",
        &format!(
            "{HEADER}\n\
             {s},One,coupon,ONE,,,public,,2030-01-01 00:00,2030-02-01 00:00,,active\n\
             shop.example,Two,coupon,TWO,,,public,,2030-01-01 00:00,2030-02-01 00:00,,\n",
            s = shop.id
        ),
    );
    let out = pd(Some(&db), "cara", &["deals", "import", "--dry-run", &file]);
    out.success();
    assert_eq!(
        out.stdout_text(),
        "2 rows valid; dry run: nothing imported\n",
        "{out}"
    );
    assert_eq!(written(&db).await, before);
    assert_eq!(db.audit_count().await, audits);

    // A partner that does not exist is caught by the dry run.
    let missing = dir.file(
        "missing.csv",
        &format!("{HEADER}\n424242,One,coupon,ONE,,,public,,2030-01-01 00:00,2030-02-01 00:00,,\n"),
    );
    let out = pd(
        Some(&db),
        "cara",
        &["deals", "import", "--dry-run", &missing],
    );
    assert_eq!(out.code, 3, "refused: {out}");
    assert_eq!(
        out.stdout_text(),
        "line 2: partner: must be an existing partner (no partner #424242)\n",
        "{out}"
    );
    assert_eq!(
        out.stderr,
        format!("partnerdesk: {missing}: 1 of 1 row has a problem; nothing imported\n")
    );
}

#[tokio::test]
async fn a_nul_byte_or_an_escape_in_a_cell_is_refused_by_the_dry_run_and_the_import() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let shop = verified_partner(&desk, "Shop Co", "shop.example").await;
    let before = written(&db).await;
    let audits = db.audit_count().await;
    let dir = TempDir::new("pd-import");
    let file = dir.file(
        "nul.csv",
        &format!(
            "{HEADER}\n\
             {s},Fine,coupon,FINE,,,public,,2030-01-01 00:00,2030-02-01 00:00,,\n\
             {s},Half\0off,coupon,NUL,,,public,,2030-01-01 00:00,2030-02-01 00:00,,\n\
             {s},Red,coupon,ESC\x1b[31m,,,public,,2030-01-01 00:00,2030-02-01 00:00,,\n",
            s = shop.id
        ),
    );
    let expected = "line 3: title: must not contain control characters (found U+0000 at character 5)\n\
                    line 4: coupon_code: must not contain control characters (found U+001B at character 4)\n";
    for args in [
        &["deals", "import", "--dry-run", &file][..],
        &["deals", "import", &file][..],
    ] {
        let out = pd(Some(&db), "cara", args);
        assert_eq!(out.code, 3, "refused: {out}");
        assert_eq!(out.stdout_text(), expected, "{out}");
        assert_eq!(
            out.stderr,
            format!("partnerdesk: {file}: 2 of 3 rows have a problem; nothing imported\n")
        );
        assert_eq!(written(&db).await, before);
        assert_eq!(db.audit_count().await, audits);
    }
}

#[tokio::test]
async fn import_file_and_header_problems_are_one_line() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let shop = verified_partner(&desk, "Shop Co", "shop.example").await;
    let before = written(&db).await;
    let dir = TempDir::new("pd-import");

    let unknown = dir.file(
        "unknown.csv",
        &format!(
            "{HEADER},colour,size\n{},A,coupon,A,,,public,,2030-01-01 00:00,2030-02-01 00:00,,,red,L\n",
            shop.id
        ),
    );
    let line = pd(Some(&db), "cara", &["deals", "import", &unknown]).error_line(3);
    assert!(
        line.starts_with(&format!(
            "{unknown}: header: unknown columns colour, size (the columns are partner, title,"
        )),
        "{line}"
    );

    let missing_column = dir.file("nocol.csv", "partner,title\n1,A\n");
    let line = pd(Some(&db), "cara", &["deals", "import", &missing_column]).error_line(3);
    assert!(
        line.starts_with(&format!(
            "{missing_column}: header: missing columns kind, audience_scope, valid_from, valid_until"
        )),
        "{line}"
    );

    let empty = dir.file("empty.csv", "");
    let line = pd(Some(&db), "cara", &["deals", "import", &empty]).error_line(3);
    assert!(
        line.starts_with(&format!(
            "{empty}: header: the file is empty or has no header row"
        )),
        "{line}"
    );

    let nowhere = dir.0.join("nowhere.csv").display().to_string();
    let line = pd(Some(&db), "cara", &["deals", "import", &nowhere]).error_line(1);
    assert_eq!(line, format!("cannot read {nowhere}: no such file"));

    let folder = dir.0.display().to_string();
    let line = pd(Some(&db), "cara", &["deals", "import", &folder]).error_line(1);
    assert_eq!(line, format!("cannot read {folder}: it is a directory"));

    assert_eq!(written(&db).await, before);
}

#[tokio::test]
async fn import_needs_a_curator_or_admin() {
    let db = TestDb::new().await;
    db.desk("sam", &[Role::Support]).await;
    let dir = TempDir::new("pd-import");
    let file = dir.file("deals.csv", &format!("{HEADER}\n"));
    let line = pd(Some(&db), "sam", &["deals", "import", &file]).error_line(3);
    assert_eq!(
        line,
        "sam may not author and change deals: it needs the curator or admin role"
    );
    let line = pd(Some(&db), "stranger", &["deals", "import", &file]).error_line(3);
    assert!(
        line.starts_with("stranger is not a registered operator"),
        "{line}"
    );
}

// --help --------------------------------------------------------------------------------------

#[test]
fn deals_help_documents_every_flag_and_the_file_format() {
    let cases: &[(&[&str], &[&str])] = &[
        (&[], &["deals"]),
        (&["deals"], &["search", "import"]),
        (&["deals", "search"], &["<TEXT>", "--member", "--limit"]),
        (
            &["deals", "list"],
            &["--csv", "--out", "--output", "--force", "--json", "--limit"],
        ),
        (
            &["deals", "import"],
            &[
                "<FILE>",
                "--dry-run",
                "audience_scope_value",
                "redemption_cap",
                "YYYY-MM-DD HH:MM",
                "UTC",
                "RFC 3339",
                "line N: field: rule",
            ],
        ),
    ];
    for (sub, wanted) in cases {
        let mut args: Vec<&str> = sub.to_vec();
        args.push("--help");
        let out = pd(None, "u", &args);
        out.success();
        assert!(out.stdout_text().contains("Usage: partnerdesk"), "{out}");
        // Phrases as words: clap wraps the text to the terminal's width.
        let words = out
            .stdout_text()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        for w in *wanted {
            assert!(words.contains(w), "{w} documented:{out}");
        }
        // Every argument and option carries a description: on its line, or on the next when
        // clap lays the long help out.
        let lines = out.stdout_lines();
        for (i, l) in lines.iter().enumerate() {
            let t = l.trim_start();
            if l.starts_with("  ") && (t.starts_with('-') || t.starts_with('<')) {
                let same_line = t.split("  ").filter(|s| !s.trim().is_empty()).count() > 1;
                let next_line = lines.get(i + 1).is_some_and(|n| {
                    n.starts_with("          ") && !n.trim_start().starts_with('-')
                });
                assert!(same_line || next_line, "{t:?} is described:{out}");
            }
        }
    }
}
