//! `partnerdesk … list --csv`: every row the filters match, page after page, in the list's
//! order, formulas defused; `--out` written the safe way, never over an existing file.

use super::cli::{TempDir, pd};
use super::common::{TestDb, verified_partner};

/// 1,250 deals matching "export" (one titled as a formula) and 5 that do not, by SQL.
async fn many_deals(db: &TestDb) -> Vec<i64> {
    let ada = db.admin().await;
    let partner = verified_partner(&ada, "Aster Books", "aster.example").await;
    sqlx::query(
        "INSERT INTO deals (partner_id, title, kind, redemption_url, audience_scope,
                            valid_from, valid_until, created_by, updated_by)
         SELECT $1, CASE WHEN g = 7 THEN '=HYPERLINK(\"x\") export' ELSE 'Export ' || g END,
                'link', 'https://x.example/' || g, 'public', '2026-03-01T00:00:00Z',
                '2026-03-31T12:00:00Z', 'ada', 'ada'
           FROM generate_series(1, 1250) g
         UNION ALL
         SELECT $1, 'Unrelated ' || g, 'link', 'https://y.example/' || g, 'public', now(),
                now() + interval '30 days', 'ada', 'ada'
           FROM generate_series(1, 5) g",
    )
    .bind(partner.id)
    .execute(&db.pool)
    .await
    .unwrap();
    sqlx::query_scalar(
        "SELECT id FROM deals WHERE title ILIKE '%export%' ORDER BY created_at DESC, id DESC",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap()
}

fn records(text: &str) -> Vec<csv::StringRecord> {
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap())
        .collect()
}

#[tokio::test]
async fn deals_list_csv_prints_every_matching_deal_in_the_lists_order_with_formulas_defused() {
    let db = TestDb::new().await;
    let want = many_deals(&db).await;

    let out = pd(
        Some(&db),
        "ada",
        &["deals", "list", "--text", "export", "--csv"],
    );
    out.success();
    let text = out.stdout_text();
    assert_eq!(
        text.lines().next(),
        Some("title,partner,kind,audience,state,redeemed,window,id"),
        "{out}"
    );
    let rows = records(&text);
    let ids: Vec<i64> = rows.iter().map(|r| r[7].parse().unwrap()).collect();
    assert_eq!(
        ids.len(),
        1250,
        "every match, not --limit's 50 nor one page"
    );
    assert_eq!(ids, want, "in the list's order");
    let formula = rows.iter().find(|r| r[0].contains("HYPERLINK")).unwrap();
    assert_eq!(&formula[0], "'=HYPERLINK(\"x\") export");
    let first = &rows[0];
    assert_eq!(
        first.iter().take(7).collect::<Vec<_>>(),
        [
            "Export 1250",
            "Aster Books",
            "link",
            "public",
            "draft",
            "0",
            "2026-03-01 – 2026-03-31"
        ]
    );

    // The filters still apply: no deal is active.
    let out = pd(
        Some(&db),
        "ada",
        &["deals", "list", "--state", "active", "--csv"],
    );
    out.success();
    assert_eq!(out.stdout_lines().len(), 1, "only the header:{out}");
}

#[tokio::test]
async fn deals_list_csv_out_writes_the_file_once_and_refuses_an_existing_one() {
    let db = TestDb::new().await;
    let want = many_deals(&db).await;
    let dir = TempDir::new("pd-list-csv");
    let path = dir.path("deals.csv");
    let p = path.display().to_string();

    let out = pd(
        Some(&db),
        "ada",
        &["deals", "list", "--text", "export", "--csv", "--output", &p],
    );
    out.success();
    assert_eq!(
        out.stdout_text(),
        format!("wrote 1250 deals to {p}\n"),
        "{out}"
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let ids: Vec<i64> = records(&text)
        .iter()
        .map(|r| r[7].parse().unwrap())
        .collect();
    assert_eq!(ids, want);
    assert_eq!(dir.names(), ["deals.csv"], "no partial file is left");

    let out = pd(Some(&db), "ada", &["deals", "list", "--csv", "--out", &p]);
    let line = out.error_line(3);
    assert!(line.contains("it already exists"), "{out}");
    assert!(line.contains("--force"), "{out}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "unchanged");

    let out = pd(Some(&db), "ada", &["deals", "list", "--csv", "--json"]);
    let line = out.error_line(2);
    assert!(line.contains("--csv") && line.contains("--json"), "{out}");
}

#[tokio::test]
async fn partners_list_csv_has_the_consoles_wide_columns() {
    let db = TestDb::new().await;
    let ada = db.admin().await;
    let p = verified_partner(&ada, "Aster Books", "aster.example").await;

    let out = pd(Some(&db), "ada", &["partners", "list", "--csv"]);
    out.success();
    let text = out.stdout_text();
    assert_eq!(
        text.lines().next(),
        Some("name,domain,state,categories,deals,vetted_by,vetted_at,id"),
        "{out}"
    );
    let rows = records(&text);
    assert_eq!(rows.len(), 1, "{out}");
    let r = &rows[0];
    assert_eq!(
        r.iter().take(6).collect::<Vec<_>>(),
        [
            "Aster Books",
            "aster.example",
            "verified",
            &p.categories.join(", "),
            "0",
            "ada"
        ],
        "{out}"
    );
    assert!(
        chrono::DateTime::parse_from_rfc3339(&r[6]).is_ok(),
        "vetted_at is RFC 3339:{out}"
    );
    assert_eq!(&r[7], p.id.to_string());
}

#[tokio::test]
async fn operators_list_csv_lists_every_operator() {
    let db = TestDb::new().await;
    db.admin().await;
    db.curator().await;

    let out = pd(Some(&db), "ada", &["operators", "list", "--csv"]);
    out.success();
    let text = out.stdout_text();
    assert_eq!(
        text.lines().next(),
        Some("login,name,roles,version,updated_by,updated"),
        "{out}"
    );
    let logins: Vec<String> = records(&text).iter().map(|r| r[0].to_owned()).collect();
    assert_eq!(logins, ["ada", "cara"], "{out}");
}
