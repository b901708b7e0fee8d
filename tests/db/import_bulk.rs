//! A bulk import of thousands of deals (issue 11, "Import speed"): written with a handful of
//! statements, still all or nothing, still one audit row and one event per deal.

use crate::common::*;
use partnerdesk::service::Desk;
use partnerdesk::store;

const ROWS: usize = 3_000;
const HEADER: &str = "partner,title,kind,coupon_code,audience_scope,valid_from,valid_until,state";

/// `ROWS` good rows over two partners (by id and by domain), every tenth one active; the row
/// at `bad_line` (the header is line 1) has no title.
fn file(a: i64, b_domain: &str, bad_line: Option<usize>) -> String {
    let mut csv = format!("{HEADER}\n");
    for i in 0..ROWS {
        let partner = if i % 3 == 0 {
            b_domain.to_owned()
        } else {
            a.to_string()
        };
        let title = if bad_line == Some(i + 2) {
            String::new()
        } else {
            format!("Bulk {i}")
        };
        let state = if i % 10 == 0 { "active" } else { "" };
        csv.push_str(&format!(
            "{partner},{title},coupon,BULK{i},public,2030-01-01 00:00,2030-02-01 00:00,{state}\n"
        ));
    }
    csv
}

/// Everything an import writes, and the partners' deal counts.
async fn written(db: &TestDb) -> Vec<i64> {
    let mut counts = Vec::new();
    for sql in [
        "SELECT count(*) FROM deals",
        "SELECT count(*) FROM audit_log",
        "SELECT count(*) FROM outbox_events",
        "SELECT count(*) FROM deal_coupon_codes",
        "SELECT count(*) FROM deal_search_documents",
        "SELECT coalesce(sum(deal_count), 0) FROM partners",
    ] {
        counts.push(db.count(sql).await);
    }
    counts
}

async fn partners(desk: &Desk) -> (i64, i64) {
    let a = verified_partner(desk, "Alpha", "alpha.example").await;
    let b = verified_partner(desk, "Beta", "beta.example").await;
    (a.id, b.id)
}

#[tokio::test]
async fn a_bad_row_far_down_a_big_file_writes_nothing() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let (a, _) = partners(&desk).await;
    let before = written(&db).await;
    let bad = ROWS - 100 + 2;
    let r = desk
        .import_deals(
            "bulk.csv",
            file(a, "beta.example", Some(bad)).as_bytes(),
            false,
        )
        .await
        .unwrap();
    let problems: Vec<String> = r.problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(problems, [format!("line {bad}: title: required")]);
    assert_eq!((r.rows, r.valid_rows.len()), (ROWS, ROWS - 1));
    assert!(r.imported.is_empty());
    assert_eq!(written(&db).await, before, "no deal, audit row or event");
}

#[tokio::test]
async fn a_write_failing_far_down_a_big_file_writes_nothing() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let (a, _) = partners(&desk).await;
    let before = written(&db).await;
    // Every row passes the checks; the database refuses one deal near the end.
    sqlx::raw_sql(
        "CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             IF NEW.title = 'Bulk 2900' THEN RAISE EXCEPTION 'refused: Bulk 2900'; END IF;
             RETURN NEW;
         END; $$;
         CREATE TRIGGER test_refuse BEFORE INSERT ON deals
             FOR EACH ROW EXECUTE FUNCTION test_refuse();",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let e = desk
        .import_deals("bulk.csv", file(a, "beta.example", None).as_bytes(), false)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("refused: Bulk 2900"), "{e}");
    assert_eq!(written(&db).await, before, "no deal, audit row or event");
}

#[tokio::test]
async fn a_big_file_is_written_whole_with_an_audit_row_and_an_event_per_deal() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let (a, b) = partners(&desk).await;
    let before = written(&db).await;
    let r = desk
        .import_deals("bulk.csv", file(a, "beta.example", None).as_bytes(), false)
        .await
        .unwrap();
    assert!(r.is_valid(), "{:?}", r.problems.first());
    assert_eq!(r.imported.len(), ROWS);
    assert!(
        r.imported.windows(2).all(|w| w[0] < w[1]),
        "ids in file order"
    );
    let n = ROWS as i64;
    let active = ROWS.div_ceil(10) as i64;
    assert_eq!(
        written(&db).await,
        [
            before[0] + n,
            before[1] + n,
            before[2] + n,
            before[3] + n,
            before[4] + active,
            before[5] + n,
        ]
    );

    // Each deal is the row of its line, with its partner counted once.
    let mut conn = db.pool.acquire().await.unwrap();
    for (i, id) in r.imported.iter().enumerate().step_by(499) {
        let d = store::deals::get(&mut conn, *id).await.unwrap().unwrap();
        assert_eq!(d.title, format!("Bulk {i}"));
        assert_eq!(d.partner_id, if i % 3 == 0 { b } else { a });
        assert_eq!(
            store::deals::code_history(&mut conn, *id).await.unwrap()[0].code,
            format!("BULK{i}")
        );
        assert_eq!(
            store::deals::is_indexed(&mut conn, *id).await.unwrap(),
            i % 10 == 0
        );
    }
    let counts: Vec<(i64, i32, i64)> = sqlx::query_as(
        "SELECT p.id, p.deal_count, (SELECT count(*) FROM deals d WHERE d.partner_id = p.id)
           FROM partners p ORDER BY p.id",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    for (id, kept, real) in counts {
        assert_eq!(i64::from(kept), real, "partner {id}'s deal count");
    }

    // One audit row per deal, in file order, naming the file, the deal as written after; one
    // event per deal in the same order; all in one transaction with the deals.
    let audits: Vec<(String, String, Option<String>, serde_json::Value)> = sqlx::query_as(
        "SELECT entity_id, actor, reason, after FROM audit_log
          WHERE action = 'deal.create' ORDER BY id",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let ids: Vec<String> = r.imported.iter().map(i64::to_string).collect();
    let audited: Vec<String> = audits.iter().map(|a| a.0.clone()).collect();
    assert_eq!(audited, ids);
    assert!(
        audits
            .iter()
            .all(|a| a.1 == "cara" && a.2.as_deref() == Some("import bulk.csv"))
    );
    for (id, audit) in r.imported.iter().zip(&audits).step_by(499) {
        let d = store::deals::get(&mut conn, *id).await.unwrap().unwrap();
        assert_eq!(audit.3, serde_json::to_value(&d).unwrap());
    }
    let events: Vec<(String, serde_json::Value)> = sqlx::query_as(
        "SELECT entity_id, payload FROM outbox_events WHERE event_type = 'deal.created' ORDER BY id",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let published: Vec<String> = events.iter().map(|e| e.0.clone()).collect();
    assert_eq!(published, ids);
    assert_eq!(events[0].1["deal"], audits[0].3);
    let xids = db
        .count(&format!(
            "SELECT count(DISTINCT x) FROM (
                 SELECT xmin::text AS x FROM deals WHERE id >= {first}
                 UNION ALL SELECT xmin::text FROM audit_log WHERE action = 'deal.create'
                 UNION ALL SELECT xmin::text FROM outbox_events WHERE event_type = 'deal.created'
             ) t",
            first = r.imported[0]
        ))
        .await;
    assert_eq!(xids, 1, "one transaction");
}
