//! The Deals list: keyset pages in every sort order (with and without filters) give exactly
//! the rows of one ordered query, and the filters and the text match what they say.

use crate::common::*;
use partnerdesk::domain::{AudienceScope, DealState};
use partnerdesk::service::Desk;
use partnerdesk::store::deal_list::{DealFilter, DealListRow, DealSort};

const TITLES: [&str; 6] = [
    "Free shipping all semester",
    "20% off your first order",
    "Student price on everything",
    "Two months free",
    "Buy one, get one free",
    "Members-only early access",
];

/// Three verified partners and 30 deals of every kind of state, scope, category, window and
/// used count. Returns the partners' ids.
async fn seed(db: &TestDb) -> [i64; 3] {
    let desk = db.curator().await;
    let mut partners = [0; 3];
    for (i, (name, domain)) in [
        ("Cobalt Cycles", "cobalt.example"),
        ("Northwind Outfitters", "northwind.example"),
        ("Bluebird_Travel", "bluebird.example"),
    ]
    .into_iter()
    .enumerate()
    {
        partners[i] = verified_partner(&desk, name, domain).await.id;
    }
    let now = chrono::Utc::now();
    for i in 0..30usize {
        let partner = partners[i % 3];
        let mut d = coupon_draft(partner, &format!("CODE{i:02}"));
        d.title = format!("{} #{i}", TITLES[i % TITLES.len()]);
        if i % 4 == 0 {
            d.kind = "link".into();
            d.coupon_code = None;
            d.redemption_url = Some(format!("https://example.com/deal/{i}"));
        }
        d.categories = vec![if i % 2 == 0 { "food" } else { "travel" }.into()];
        d.audience_scope = ["public", "institute", "alumni"][i % 3].into();
        d.valid_until = Some(now + chrono::Duration::days(10 + (i as i64 * 7) % 23));
        d.state = Some(["active", "draft"][i % 2].into());
        let deal = desk.create_deal(&d).await.expect("create deal");
        if i % 5 == 0 && i % 2 == 0 {
            desk.change_deal_state(deal.id, Some(deal.version), DealState::Paused, None)
                .await
                .expect("pause");
        }
    }
    // Used counts, as recorded redemptions would leave them (ties included).
    sqlx::query("UPDATE deals SET redemption_count = (id * 7) % 5")
        .execute(&db.pool)
        .await
        .unwrap();
    partners
}

/// Every page of `page` rows from the start, joined.
async fn all_pages(desk: &Desk, mut f: DealFilter, page: i64) -> Vec<DealListRow> {
    let mut rows = Vec::new();
    loop {
        let got = desk.list_deals(&f, page).await.unwrap();
        assert!(got.len() as i64 <= page);
        let Some(last) = got.last() else { break };
        f.after = Some((last.sort_key.clone(), last.id));
        let full = got.len() as i64 == page;
        rows.extend(got);
        if !full {
            break;
        }
    }
    rows
}

/// The ids one ordered query gives for the same sort and `condition`.
async fn ordered_ids(db: &TestDb, sort: DealSort, descending: bool, condition: &str) -> Vec<i64> {
    let key = match sort {
        DealSort::Created => "d.id",
        DealSort::Title => "lower(d.title)",
        DealSort::ValidUntil => "d.valid_until",
        DealSort::State => "d.state",
        DealSort::Used => "d.redemption_count",
    };
    let dir = if descending { "DESC" } else { "ASC" };
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT d.id FROM deals d JOIN partners p ON p.id = d.partner_id
          WHERE {condition} ORDER BY {key} {dir}, d.id {dir}"
    )))
    .fetch_all(&db.pool)
    .await
    .unwrap()
}

fn ids(rows: &[DealListRow]) -> Vec<i64> {
    rows.iter().map(|r| r.id).collect()
}

#[tokio::test]
async fn pages_give_the_rows_of_one_ordered_query_in_every_sort_and_filter() {
    let db = TestDb::new().await;
    let [cobalt, ..] = seed(&db).await;
    let desk = db.curator().await;
    let cases: Vec<(DealFilter, String)> = vec![
        (DealFilter::default(), "true".into()),
        (
            DealFilter {
                state: Some(DealState::Active),
                ..Default::default()
            },
            "d.state = 'active'".into(),
        ),
        (
            DealFilter {
                state: Some(DealState::Draft),
                partner_id: Some(cobalt),
                ..Default::default()
            },
            format!("d.state = 'draft' AND d.partner_id = {cobalt}"),
        ),
        (
            DealFilter {
                text: Some("FREE".into()),
                ..Default::default()
            },
            "lower(d.title) LIKE '%free%'".into(),
        ),
    ];
    for (base, condition) in cases {
        for sort in DealSort::ALL {
            for descending in [false, true] {
                let f = DealFilter {
                    sort,
                    descending,
                    ..base.clone()
                };
                let want = ordered_ids(&db, sort, descending, &condition).await;
                assert!(!want.is_empty(), "{condition}");
                for page in [4, 7, 50] {
                    let got = all_pages(&desk, f.clone(), page).await;
                    assert_eq!(ids(&got), want, "{f:?}, pages of {page}");
                }
            }
        }
    }
}

#[tokio::test]
async fn the_text_matches_title_coupon_code_or_partner_name_literally() {
    let db = TestDb::new().await;
    let [cobalt, _, bluebird] = seed(&db).await;
    let desk = db.curator().await;
    // Newest first, as the console opens the pane.
    let find = |text: &str| DealFilter {
        text: Some(text.into()),
        descending: true,
        ..Default::default()
    };
    // Title, any case, newest first.
    let rows = desk.list_deals(&find("student PRICE"), 50).await.unwrap();
    assert_eq!(ids(&rows), [26, 20, 14, 8, 2].map(|i| i + 1));
    assert!(rows.iter().all(|r| r.title.starts_with("Student price")));
    // Coupon code (link deals have none): CODE07 only, not CODE0x's others.
    let rows = desk.list_deals(&find("code07"), 50).await.unwrap();
    assert_eq!(ids(&rows), [8]);
    // Partner name: every deal of Cobalt Cycles, with the name shown.
    let rows = desk.list_deals(&find("cobalt cyc"), 50).await.unwrap();
    assert_eq!(rows.len(), 10);
    assert!(
        rows.iter()
            .all(|r| r.partner_id == cobalt && r.partner_name == "Cobalt Cycles")
    );
    // LIKE's wildcards are plain characters: "%" and "_" match themselves only.
    let rows = desk.list_deals(&find("20%"), 50).await.unwrap();
    assert_eq!(rows.len(), 5);
    assert!(rows.iter().all(|r| r.title.starts_with("20% off")));
    let rows = desk.list_deals(&find("e_s"), 50).await.unwrap();
    assert!(rows.is_empty(), "{rows:?}");
    let rows = desk.list_deals(&find("bird_"), 50).await.unwrap();
    assert_eq!(rows.len(), 10);
    assert!(rows.iter().all(|r| r.partner_id == bluebird));
    // Nothing matches: an empty page, and blanks are no filter at all.
    assert!(
        desk.list_deals(&find("karaoke"), 50)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(desk.list_deals(&find("   "), 50).await.unwrap().len(), 30);
}

#[tokio::test]
async fn filters_combine_and_rows_carry_what_the_table_shows() {
    let db = TestDb::new().await;
    let [_, northwind, _] = seed(&db).await;
    let desk = db.curator().await;
    let f = DealFilter {
        scope: Some(AudienceScope::Institute),
        category: Some("travel".into()),
        descending: true,
        ..Default::default()
    };
    let rows = desk.list_deals(&f, 50).await.unwrap();
    // Scope institute: i % 3 == 1; travel: i odd; so i = 1, 7, 13, 19, 25 (ids i + 1).
    assert_eq!(ids(&rows), [26, 20, 14, 8, 2]);
    let f = DealFilter {
        partner_id: Some(northwind),
        state: Some(DealState::Paused),
        ..Default::default()
    };
    // Paused: i % 10 == 0 and even; Northwind: i % 3 == 1; so only i = 10.
    let rows = desk.list_deals(&f, 50).await.unwrap();
    assert_eq!(ids(&rows), [11]);
    let row = &rows[0];
    assert_eq!(row.partner_name, "Northwind Outfitters");
    assert_eq!(row.title, "Buy one, get one free #10");
    assert_eq!(row.state, DealState::Paused);
    assert_eq!(row.redemption_count, (11 * 7) % 5);
    assert_eq!(row.redemption_cap, None);
    // Sorted by used, most first: the counts never rise down the page.
    let rows = desk
        .list_deals(
            &DealFilter {
                sort: DealSort::Used,
                descending: true,
                ..Default::default()
            },
            50,
        )
        .await
        .unwrap();
    assert!(
        rows.windows(2)
            .all(|w| w[0].redemption_count >= w[1].redemption_count)
    );
    assert_eq!(rows[0].redemption_count, 4);
}
