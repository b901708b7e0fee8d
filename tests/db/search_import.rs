//! Member search (audience scopes, ranking, the lifecycle) and the bulk import of deals
//! (good, bad and mixed files, dry runs, partners by domain, headers) against real
//! PostgreSQL.

use crate::common::*;
use partnerdesk::Error;
use partnerdesk::domain::{DealDraft, DealState, Role};
use partnerdesk::service::Desk;
use partnerdesk::service::import::ImportReport;
use partnerdesk::store;
use partnerdesk::store::deals::Deal;

// Search --------------------------------------------------------------------------------------

/// A deal of `partner_id` with this title, scope and state, through the services only.
async fn scoped_deal(
    desk: &Desk,
    partner_id: i64,
    title: &str,
    scope: &str,
    value: Option<&str>,
    state: DealState,
) -> Deal {
    let mut d = coupon_draft(partner_id, "CODE");
    d.title = title.into();
    d.description = "Freshly roasted".into();
    d.audience_scope = scope.into();
    d.audience_scope_value = value.map(str::to_owned);
    d.state = Some(
        match state {
            DealState::Active => "active",
            DealState::Paused => "paused",
            _ => "draft",
        }
        .into(),
    );
    let deal = desk.create_deal(&d).await.expect("create deal");
    if state == DealState::Expired {
        let p = desk
            .change_deal_state(deal.id, None, DealState::Paused, None)
            .await
            .unwrap();
        return desk
            .change_deal_state(p.id, None, DealState::Expired, None)
            .await
            .unwrap();
    }
    deal
}

async fn hit_ids(desk: &Desk, member: i64, text: &str) -> Vec<i64> {
    desk.search_deals(member, text, 100)
        .await
        .expect("search")
        .iter()
        .map(|h| h.id)
        .collect()
}

#[tokio::test]
async fn search_shows_each_member_exactly_the_active_deals_their_audience_allows() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let p = verified_partner(&desk, "Bean There", "beanthere.example").await;
    use DealState::Active;
    let public = scoped_deal(&desk, p.id, "Espresso for all", "public", None, Active).await;
    let institute = scoped_deal(&desk, p.id, "Espresso campus", "institute", None, Active).await;
    let alumni = scoped_deal(&desk, p.id, "Espresso alumni", "alumni", None, Active).await;
    let batch = scoped_deal(&desk, p.id, "Espresso 2019", "batch", Some("2019"), Active).await;
    let chapter = scoped_deal(
        &desk,
        p.id,
        "Espresso Pune",
        "chapter",
        Some("Pune"),
        Active,
    )
    .await;
    // Never found, whoever searches: not active.
    let mut hidden = Vec::new();
    for state in [DealState::Draft, DealState::Paused, DealState::Expired] {
        hidden.push(scoped_deal(&desk, p.id, "Espresso hidden", "public", None, state).await);
    }

    let guest = member(&db, "guest", "public", false, None, &[]).await;
    let student = member(&db, "student", "institute", true, None, &["pune"]).await;
    let unverified = member(&db, "unverified", "institute", false, None, &["Berlin"]).await;
    let alum19 = member(&db, "alum19", "alumni", false, Some(2019), &[]).await;
    let alum20 = member(
        &db,
        "alum20",
        "alumni",
        true,
        Some(2020),
        &["PUNE", "Berlin"],
    )
    .await;
    let alum_no_year = member(&db, "alumx", "alumni", false, None, &["Goa"]).await;

    let (pu, i, a, b, c) = (public.id, institute.id, alumni.id, batch.id, chapter.id);
    let matrix: &[(i64, &str, Vec<i64>)] = &[
        (guest, "public member", vec![pu]),
        (student, "verified institute member of pune", vec![pu, i, c]),
        (unverified, "unverified institute member", vec![pu]),
        (alum19, "alumnus of 2019", vec![pu, a, b]),
        (
            alum20,
            "verified alumnus of 2020 in PUNE",
            vec![pu, i, a, c],
        ),
        (alum_no_year, "alumnus without a batch year", vec![pu, a]),
    ];
    let scopes = [&public, &institute, &alumni, &batch, &chapter];
    let mut conn = db.pool.acquire().await.unwrap();
    for (member_id, who, want) in matrix {
        let mut got = hit_ids(&desk, *member_id, "espresso").await;
        got.sort();
        assert_eq!(&got, want, "{who} sees");
        for h in &hidden {
            assert!(!got.contains(&h.id), "{who} never sees a {} deal", h.state);
        }
        // The SQL filter agrees with the domain rule, scope by scope.
        let m = store::members::get(&mut conn, *member_id)
            .await
            .unwrap()
            .unwrap();
        for d in scopes {
            assert_eq!(
                got.contains(&d.id),
                m.can_see(d.audience_scope, d.audience_scope_value.as_deref()),
                "{who} and the {} deal: search and Member::can_see agree",
                d.audience_scope
            );
        }
    }
}

#[tokio::test]
async fn search_ranks_a_title_match_above_a_description_match_and_ties_by_id() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let p = verified_partner(&desk, "Paddle Co", "paddle.example").await;
    let guest = member(&db, "guest", "public", false, None, &[]).await;

    let mut in_description = coupon_draft(p.id, "D1");
    in_description.title = "Summer on the water".into();
    in_description.description = "Rent a kayak for a day".into();
    in_description.state = Some("active".into());
    let in_description = desk.create_deal(&in_description).await.unwrap();
    let mut in_title = coupon_draft(p.id, "T1");
    in_title.title = "Kayak rental".into();
    in_title.description = "Out on the lake".into();
    in_title.state = Some("active".into());
    let in_title = desk.create_deal(&in_title).await.unwrap();
    let mut unrelated = coupon_draft(p.id, "U1");
    unrelated.title = "Bicycle repair".into();
    unrelated.state = Some("active".into());
    desk.create_deal(&unrelated).await.unwrap();

    let hits = desk.search_deals(guest, "kayak", 10).await.unwrap();
    let ids: Vec<i64> = hits.iter().map(|h| h.id).collect();
    assert_eq!(ids, [in_title.id, in_description.id], "title first");
    assert!(hits[0].rank > hits[1].rank, "{hits:?}");
    let h = &hits[0];
    assert_eq!(
        (h.title.as_str(), h.partner.as_str(), h.kind.as_str()),
        ("Kayak rental", "Paddle Co", "coupon")
    );
    assert_eq!(h.audience_scope.as_str(), "public");
    assert_eq!(h.valid_until, in_title.valid_until);

    // The partner's name and the categories are searchable too.
    let mut cat = coupon_draft(p.id, "C1");
    cat.title = "Weekend offer".into();
    cat.categories = vec!["canoeing".into()];
    cat.state = Some("active".into());
    let cat = desk.create_deal(&cat).await.unwrap();
    assert_eq!(hit_ids(&desk, guest, "canoeing").await, [cat.id]);
    assert_eq!(hit_ids(&desk, guest, "paddle").await.len(), 4);

    // Equal documents: by id. The limit cuts after the ranking.
    let mut twins = Vec::new();
    for code in ["TW1", "TW2", "TW3"] {
        let mut d = coupon_draft(p.id, code);
        d.title = "Snorkel set".into();
        d.state = Some("active".into());
        twins.push(desk.create_deal(&d).await.unwrap().id);
    }
    assert_eq!(hit_ids(&desk, guest, "snorkel").await, twins);
    let first: Vec<i64> = desk
        .search_deals(guest, "snorkel", 2)
        .await
        .unwrap()
        .iter()
        .map(|h| h.id)
        .collect();
    assert_eq!(first, twins[..2]);
    // Web-search syntax: a word can be excluded.
    assert_eq!(
        hit_ids(&desk, guest, "kayak -lake").await,
        [in_description.id]
    );
    assert!(hit_ids(&desk, guest, "submarine").await.is_empty());
}

#[tokio::test]
async fn a_paused_deal_leaves_search_and_comes_back_on_resume() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let deal = active_deal(&desk, "TEA1").await;
    let guest = member(&db, "guest", "public", false, None, &[]).await;
    let text = "deal tea1";
    assert_eq!(hit_ids(&desk, guest, text).await, [deal.id]);

    let paused = desk
        .change_deal_state(deal.id, Some(deal.version), DealState::Paused, None)
        .await
        .unwrap();
    assert!(hit_ids(&desk, guest, text).await.is_empty(), "paused: gone");

    let resumed = desk
        .change_deal_state(deal.id, Some(paused.version), DealState::Active, None)
        .await
        .unwrap();
    assert_eq!(
        hit_ids(&desk, guest, text).await,
        [deal.id],
        "resumed: back"
    );

    // An edit of an active deal is searchable under its new title at once.
    let mut edit = coupon_draft(deal.partner_id, "TEA1");
    edit.title = "Matcha tasting".into();
    edit.valid_from = Some(deal.valid_from);
    edit.valid_until = Some(deal.valid_until);
    desk.update_deal(deal.id, resumed.version, &edit)
        .await
        .unwrap();
    assert_eq!(hit_ids(&desk, guest, "matcha").await, [deal.id]);
}

#[tokio::test]
async fn search_for_an_unknown_member_is_not_found_and_empty_text_is_refused() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    active_deal(&desk, "ANY1").await;
    match desk.search_deals(99_999_999, "deal", 10).await {
        Err(Error::NotFound { entity, id }) => {
            assert_eq!((entity, id.as_str()), ("member", "99999999"))
        }
        other => panic!("expected not found, got {other:?}"),
    }
    let guest = member(&db, "guest", "public", false, None, &[]).await;
    let e = desk.search_deals(guest, "  ", 10).await.unwrap_err();
    assert!(e.to_string().starts_with("text: required"), "{e}");
    let e = desk.search_deals(guest, "deal", 0).await.unwrap_err();
    assert!(e.to_string().starts_with("limit: "), "{e}");
}

// Import --------------------------------------------------------------------------------------

async fn import(desk: &Desk, csv: &str, dry_run: bool) -> ImportReport {
    desk.import_deals("deals.csv", csv.as_bytes(), dry_run)
        .await
        .expect("import runs")
}

fn lines(r: &ImportReport) -> Vec<String> {
    r.problems.iter().map(|p| p.to_string()).collect()
}

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

const HEADER: &str = "partner,title,description,kind,coupon_code,redemption_url,categories,audience_scope,audience_scope_value,valid_from,valid_until,redemption_cap,state";

#[tokio::test]
async fn a_good_file_is_written_in_one_go_with_audit_rows_and_search_documents() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let shop = verified_partner(&desk, "Shop Co", "shop.example").await;
    let pending = desk
        .create_partner(&partner_draft("Pending Co", "pending.example"))
        .await
        .unwrap();
    let csv = format!(
        "{HEADER}\n\
         {s},Ten percent off,\"Shoes, bags\nand more\",coupon,TEN10,,fashion;shoes,public,,2030-01-01 09:30,2030-02-01 00:00,100,active\n\
         www.Shop.example,Free delivery,,link,,https://shop.example/free,\"food, drink\",batch,2019,2030-01-01T00:00:00Z,2030-03-01T00:00:00+01:00,1,\n\
         pending.example,Coming soon,,coupon,SOON,,,chapter,Pune,2030-01-01 00:00,2030-02-01 00:00,,paused\n",
        s = shop.id
    );
    let r = import(&desk, &csv, false).await;
    assert!(r.is_valid(), "{:?}", lines(&r));
    assert_eq!((r.rows, r.dry_run, r.imported.len()), (3, false, 3));
    let lines_of: Vec<u64> = r.valid_rows.iter().map(|v| v.line).collect();
    assert_eq!(lines_of, [2, 4, 5], "a quoted line break spans two lines");

    let mut conn = db.pool.acquire().await.unwrap();
    let mut deals = Vec::new();
    for id in &r.imported {
        deals.push(store::deals::get(&mut conn, *id).await.unwrap().unwrap());
    }
    let [ten, free, soon] = &deals[..] else {
        unreachable!()
    };
    assert_eq!(ten.partner_id, shop.id);
    assert_eq!(ten.state, DealState::Active);
    assert_eq!(ten.description, "Shoes, bags\nand more");
    assert_eq!(ten.categories, ["fashion", "shoes"]);
    assert_eq!(ten.redemption_cap, Some(100));
    assert_eq!(ten.valid_from.to_rfc3339(), "2030-01-01T09:30:00+00:00");
    assert_eq!(ten.created_by, "cara");
    assert_eq!(free.partner_id, shop.id, "partner by its domain");
    assert_eq!(free.state, DealState::Draft, "state defaults to draft");
    assert_eq!(free.categories, ["food", "drink"]);
    assert_eq!(free.audience_scope_value.as_deref(), Some("2019"));
    assert_eq!(free.valid_until.to_rfc3339(), "2030-02-28T23:00:00+00:00");
    assert_eq!(free.coupon_code, None);
    assert_eq!(
        soon.partner_id, pending.id,
        "a pending partner may have paused deals"
    );
    assert_eq!(soon.state, DealState::Paused);

    // One audit row per deal, by the operator, naming the file; one outbox event each; the
    // coupon codes' history; a search document for the active one only.
    let audits: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT entity_id, actor, reason FROM audit_log WHERE action = 'deal.create' ORDER BY id",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let want: Vec<(String, String, Option<String>)> = r
        .imported
        .iter()
        .map(|id| {
            (
                id.to_string(),
                "cara".to_owned(),
                Some("import deals.csv".to_owned()),
            )
        })
        .collect();
    assert_eq!(audits, want);
    assert_eq!(written(&db).await, [3, 3, 3, 2, 1]);
    assert!(store::deals::is_indexed(&mut conn, ten.id).await.unwrap());
    let guest = member(&db, "guest", "public", false, None, &[]).await;
    assert_eq!(hit_ids(&desk, guest, "percent").await, [ten.id]);
}

#[tokio::test]
async fn a_bad_file_reports_every_problem_by_line_and_writes_nothing() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let v = verified_partner(&desk, "Verified Co", "verified.example").await;
    let p = desk
        .create_partner(&partner_draft("Pending Co", "pending.example"))
        .await
        .unwrap();
    let before = written(&db).await;
    let csv = format!(
        "{HEADER}\n\
         {v},No code,,coupon,,,,public,,2030-01-01 00:00,2030-02-01 00:00,,\n\
         999999,Ghost,,link,,https://x.example/,,public,,2030-01-01 00:00,2030-02-01 00:00,,\n\
         {p},Too early,,coupon,C1,,,public,,2030-01-01 00:00,2030-02-01 00:00,,active\n\
         nobody.example,Where,,coupon,C2,,,batch,,01/02/2030,2030-02-01 00:00,ten,\n\
         {v},\"Two\nlines\",,link,,ftp://x.example/,,chapter,,2030-02-01 00:00,2030-01-01 00:00,0,expired\n\
         {v},Past,,coupon,C3,,,public,,2020-01-01 00:00,2020-02-01 00:00,,active\n\
         {v},Short row\n",
        v = v.id,
        p = p.id
    );
    let r = import(&desk, &csv, false).await;
    let cap = "a positive whole number up to 2147483647, or empty for no cap";
    let when =
        "use RFC 3339 like 2026-03-01T09:00:00Z, or YYYY-MM-DD HH:MM or YYYY-MM-DD taken as UTC";
    assert_eq!(
        lines(&r),
        [
            "line 2: coupon_code: required when kind is coupon".to_owned(),
            "line 3: partner: must be an existing partner (no partner #999999)".to_owned(),
            format!(
                "line 4: state: deal cannot become active: partner Pending Co (#{}) is pending, not verified; vet the partner first",
                p.id
            ),
            "line 5: partner: must be an existing partner (no partner with the domain nobody.example)".to_owned(),
            "line 5: audience_scope_value: required when scope is batch: a batch year".to_owned(),
            format!("line 5: valid_from: not a date and time (01/02/2030): {when}"),
            format!("line 5: redemption_cap: {cap}"),
            // A title is one line: the quoted line break is refused (and still counted).
            "line 6: title: must not contain control characters (found U+000A at character 4)"
                .to_owned(),
            "line 6: redemption_url: must be an http(s) URL (scheme is ftp)".to_owned(),
            "line 6: audience_scope_value: required when scope is chapter: a chapter name".to_owned(),
            "line 6: valid_until: must be strictly after valid_from".to_owned(),
            format!("line 6: redemption_cap: {cap}"),
            "line 6: state: a new deal cannot start expired".to_owned(),
            "line 8: valid_until: is in the past: an active deal needs a window that has not ended".to_owned(),
            "line 9: row: has 2 cells but the header has 13 columns (a cell with a comma, a quote or a line break must be in double quotes)".to_owned(),
        ]
    );
    assert_eq!((r.rows, r.bad_rows()), (7, 7));
    assert!(r.imported.is_empty());
    assert_eq!(written(&db).await, before, "nothing written");
}

#[tokio::test]
async fn a_mixed_file_writes_nothing_and_reports_only_the_bad_rows() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let v = verified_partner(&desk, "Verified Co", "verified.example").await;
    let before = written(&db).await;
    let csv = format!(
        "partner,title,kind,coupon_code,audience_scope,valid_from,valid_until,state\n\
         {v},Good one,coupon,G1,public,2030-01-01 00:00,2030-02-01 00:00,active\n\
         {v},Good two,coupon,G2,public,2030-01-01 00:00,2030-02-01 00:00,\n\
         {v},,coupon,G3,public,2030-01-01 00:00,2030-02-01 00:00,\n\
         {v},Good four,coupon,G4,alumni,2030-01-01 00:00,2030-02-01 00:00,paused\n",
        v = v.id
    );
    let r = import(&desk, &csv, false).await;
    assert_eq!(lines(&r), ["line 4: title: required"]);
    assert_eq!((r.rows, r.bad_rows(), r.valid_rows.len()), (4, 1, 3));
    assert!(r.imported.is_empty());
    assert_eq!(
        written(&db).await,
        before,
        "three good rows, but nothing written"
    );

    // Fixed, the same file goes in whole.
    let fixed = csv.replace(",,coupon,G3", ",Good three,coupon,G3");
    let r = import(&desk, &fixed, false).await;
    assert!(r.is_valid());
    assert_eq!(r.imported.len(), 4);
    assert!(r.imported.windows(2).all(|w| w[0] < w[1]), "in file order");
    assert_eq!(
        written(&db).await,
        [
            before[0] + 4,
            before[1] + 4,
            before[2] + 4,
            before[3] + 4,
            before[4] + 1
        ]
    );
}

#[tokio::test]
async fn a_dry_run_checks_everything_and_writes_nothing() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let v = verified_partner(&desk, "Verified Co", "verified.example").await;
    let before = written(&db).await;
    let audit_before = db.audit_count().await;
    let good = format!(
        "partner,title,kind,coupon_code,audience_scope,valid_from,valid_until,state\n\
         {v},One,coupon,C1,public,2030-01-01 00:00,2030-02-01 00:00,active\n\
         verified.example,Two,coupon,C2,public,2030-01-01 00:00,2030-02-01 00:00,\n",
        v = v.id
    );
    let r = import(&desk, &good, true).await;
    assert!(r.is_valid(), "{:?}", lines(&r));
    assert!(r.dry_run);
    assert_eq!((r.rows, r.valid_rows.len()), (2, 2));
    assert_eq!(r.valid_rows[1].deal.partner_id, v.id);
    assert!(r.imported.is_empty());
    assert_eq!(written(&db).await, before);
    assert_eq!(db.audit_count().await, audit_before);

    // Partners are checked on a dry run too.
    let bad = good.replace("verified.example", "gone.example");
    let r = import(&desk, &bad, true).await;
    assert_eq!(
        lines(&r),
        ["line 3: partner: must be an existing partner (no partner with the domain gone.example)"]
    );
    assert_eq!(written(&db).await, before);
}

#[tokio::test]
async fn partners_are_found_by_id_or_by_any_spelling_of_their_domain() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let shop = verified_partner(&desk, "Shop Co", "shop.example").await;
    let other = verified_partner(&desk, "Other Co", "other.example").await;
    let row =
        |partner: &str| format!("{partner},T,coupon,C,public,2030-01-01 00:00,2030-02-01 00:00\n");
    let csv = format!(
        "partner,title,kind,coupon_code,audience_scope,valid_from,valid_until\n{}{}{}{}{}",
        row(&shop.id.to_string()),
        row("shop.example"),
        row(" WWW.Shop.Example. "),
        row("https://www.shop.example/deals?x=1"),
        row("other.example"),
    );
    let r = import(&desk, &csv, true).await;
    assert!(r.is_valid(), "{:?}", lines(&r));
    let partners: Vec<i64> = r.valid_rows.iter().map(|v| v.deal.partner_id).collect();
    assert_eq!(partners, [shop.id, shop.id, shop.id, shop.id, other.id]);

    // A deleted partner's domain is nobody's; a name is not a domain.
    desk.delete_partner(other.id, None, None).await.unwrap();
    let csv = format!(
        "partner,title,kind,coupon_code,audience_scope,valid_from,valid_until\n{}{}{}",
        row("other.example"),
        row("Shop Co"),
        row(""),
    );
    let r = import(&desk, &csv, true).await;
    assert_eq!(
        lines(&r),
        [
            "line 2: partner: must be an existing partner (no partner with the domain other.example)",
            "line 3: partner: a partner id, or a partner's domain like example.com",
            "line 4: partner: required",
        ]
    );
}

#[tokio::test]
async fn header_problems_are_one_error_naming_the_columns_and_nothing_is_read() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let v = verified_partner(&desk, "Verified Co", "verified.example").await;
    let before = written(&db).await;
    let csv = format!(
        "partner,title,kind,coupon_code,audience_scope,valid_from,valid_until,colour\n\
         {},T,coupon,C,public,2030-01-01 00:00,2030-02-01 00:00,red\n",
        v.id
    );
    let e = desk
        .import_deals("deals.csv", csv.as_bytes(), false)
        .await
        .unwrap_err();
    let m = e.to_string();
    assert!(matches!(e, Error::Validation(_)), "{m}");
    assert!(
        m.starts_with(
            "header: unknown column colour (the columns are partner, title, description,"
        ),
        "{m}"
    );
    assert!(
        m.ends_with(
            "; partner, title, kind, audience_scope, valid_from, valid_until are required)"
        ),
        "{m}"
    );
    let e = desk
        .import_deals("deals.csv", "title,kind\nA,coupon\n".as_bytes(), false)
        .await
        .unwrap_err();
    assert!(
        e.to_string().starts_with(
            "header: missing columns partner, audience_scope, valid_from, valid_until ("
        ),
        "{e}"
    );
    let e = desk
        .import_deals("empty.csv", "".as_bytes(), false)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no header row"), "{e}");
    assert_eq!(written(&db).await, before);
}

#[tokio::test]
async fn importing_needs_the_manage_deals_permission() {
    let db = TestDb::new().await;
    let support = db.desk("sam", &[Role::Support]).await;
    let e = support
        .import_deals("deals.csv", HEADER.as_bytes(), true)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        "sam may not author and change deals: it needs the curator or admin role"
    );
}

#[tokio::test]
async fn create_deal_still_writes_its_row_code_document_audit_and_event() {
    // create_deal shares its writing with the import: its own behaviour is unchanged.
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let before = written(&db).await;
    let deal = active_deal(&desk, "SAME1").await;
    assert_eq!(
        written(&db).await,
        [
            before[0] + 1,
            before[1] + 1,
            before[2] + 1,
            before[3] + 1,
            before[4] + 1
        ]
    );
    let reason: Option<String> = sqlx::query_scalar(
        "SELECT reason FROM audit_log WHERE action = 'deal.create' AND entity_id = $1",
    )
    .bind(deal.id.to_string())
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(reason, None);
    let draft: DealDraft = coupon_draft(deal.partner_id, "SAME2");
    let d = desk.create_deal(&draft).await.unwrap();
    assert_eq!(d.state, DealState::Draft);
    let mut conn = db.pool.acquire().await.unwrap();
    assert!(!store::deals::is_indexed(&mut conn, d.id).await.unwrap());
}
