//! The Partners list: keyset pages in every sort order, and the typo-tolerant server filter.

use crate::common::*;
use partnerdesk::store::partners::{PartnerFilter, PartnerSort};

async fn seed_partners(db: &TestDb, n: usize) {
    let desk = db.curator().await;
    for i in 0..n {
        let p = desk
            .create_partner(&partner_draft(
                &format!("Partner {i:03}"),
                &format!("p{i:03}.example"),
            ))
            .await
            .unwrap();
        if i % 3 == 0 {
            desk.mark_vetted(p.id, Some(p.version)).await.unwrap();
        }
    }
}

#[tokio::test]
async fn pages_cover_every_row_once_in_every_sort_order() {
    let db = TestDb::new().await;
    seed_partners(&db, 37).await;
    let desk = db.curator().await;
    for sort in PartnerSort::ALL {
        for descending in [false, true] {
            let mut seen = Vec::new();
            let mut filter = PartnerFilter {
                sort,
                descending,
                ..Default::default()
            };
            loop {
                let page = desk.list_partners(&filter, 10).await.unwrap();
                if page.is_empty() {
                    break;
                }
                filter.after = page.last().map(|r| (r.sort_key.clone(), r.id));
                seen.extend(page.into_iter().map(|r| r.id));
            }
            let mut sorted = seen.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(seen.len(), 37, "{sort:?} desc={descending}: {seen:?}");
            assert_eq!(sorted.len(), 37, "{sort:?} desc={descending}: duplicates");
        }
    }
}

#[tokio::test]
async fn the_filter_runs_on_the_server_and_forgives_a_typo() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    for (name, domain) in [
        ("Northwind Outfitters", "northwind.example"),
        ("Bluebird Travel", "bluebird.example"),
        ("Cobalt Cycles", "cobalt.example"),
    ] {
        desk.create_partner(&partner_draft(name, domain))
            .await
            .unwrap();
    }
    let names = |rows: Vec<partnerdesk::store::partners::PartnerListRow>| {
        rows.into_iter().map(|r| r.display_name).collect::<Vec<_>>()
    };
    let find = |text: &str| PartnerFilter {
        text: Some(text.into()),
        ..Default::default()
    };
    assert_eq!(
        names(desk.list_partners(&find("bird"), 50).await.unwrap()),
        ["Bluebird Travel"]
    );
    assert_eq!(
        names(
            desk.list_partners(&find("COBALT.EXAMPLE"), 50)
                .await
                .unwrap()
        ),
        ["Cobalt Cycles"]
    );
    // One letter missing, one mistyped.
    assert_eq!(
        names(desk.list_partners(&find("northwnd"), 50).await.unwrap()),
        ["Northwind Outfitters"]
    );
    assert_eq!(
        names(desk.list_partners(&find("blueberd"), 50).await.unwrap()),
        ["Bluebird Travel"]
    );
    // Categories match too; LIKE wildcards are taken literally.
    assert_eq!(
        desk.list_partners(&find("food"), 50).await.unwrap().len(),
        3
    );
    assert!(desk.list_partners(&find("%"), 50).await.unwrap().is_empty());
}

#[tokio::test]
async fn deal_counts_follow_the_deals_table() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let a = verified_partner(&desk, "Alpha", "alpha.example").await;
    let b = verified_partner(&desk, "Beta", "beta.example").await;
    let d1 = desk.create_deal(&coupon_draft(a.id, "A1")).await.unwrap();
    desk.create_deal(&coupon_draft(a.id, "A2")).await.unwrap();
    let count = |rows: &[partnerdesk::store::partners::PartnerListRow], id: i64| {
        rows.iter().find(|r| r.id == id).unwrap().deal_count
    };
    let rows = desk
        .list_partners(&PartnerFilter::default(), 50)
        .await
        .unwrap();
    assert_eq!((count(&rows, a.id), count(&rows, b.id)), (2, 0));
    // A draft moved to another partner moves its count.
    let mut draft = coupon_draft(b.id, "A1");
    draft.title = d1.title.clone();
    desk.update_deal(d1.id, d1.version, &draft).await.unwrap();
    let rows = desk
        .list_partners(
            &PartnerFilter {
                sort: PartnerSort::Deals,
                descending: true,
                ..Default::default()
            },
            50,
        )
        .await
        .unwrap();
    assert_eq!((count(&rows, a.id), count(&rows, b.id)), (1, 1));
}
