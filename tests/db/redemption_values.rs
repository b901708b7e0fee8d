//! Redemption values (SPEC §1.5: the order value and its currency) and the import of past
//! redemptions (`Desk::import_redemptions`): each row judged at its own time, all or nothing,
//! caps exact against live traffic.

use crate::common::*;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use partnerdesk::domain::OrderValue;
use partnerdesk::error::{Error, RedemptionRefusal};
use partnerdesk::service::Desk;
use partnerdesk::service::import::redemptions::RedemptionImportReport;
use partnerdesk::store::deals::Deal;

const HEADER: &str = "deal_id,member_id,redeemed_at,value,currency,source";

/// A written redemption: deal, member, source, coupon code, one per member, value, currency.
type Written = (
    i64,
    i64,
    String,
    Option<String>,
    bool,
    Option<i64>,
    Option<String>,
);

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// An hour ago, a time inside every test deal's window (opened a day ago).
fn an_hour_ago() -> String {
    ts(Utc::now() - Duration::hours(1))
}

/// The platform: a caller that is not a registered operator.
async fn platform(db: &TestDb) -> Desk {
    Desk::for_operator(db.pool.clone(), "storefront", true)
        .await
        .unwrap()
}

/// An active deal of a verified partner, with a cap and a kind.
async fn deal(desk: &Desk, code: &str, cap: Option<i64>, kind: &str) -> Deal {
    let domain = format!("{}.example", code.to_ascii_lowercase());
    let p = verified_partner(desk, &format!("Partner {code}"), &domain).await;
    let mut d = coupon_draft(p.id, code);
    d.state = Some("active".into());
    d.redemption_cap = cap;
    if kind == "link" {
        d.kind = "link".into();
        d.coupon_code = None;
        d.redemption_url = Some(format!("https://{domain}/go"));
    }
    desk.create_deal(&d).await.expect("create deal")
}

/// `n` public members, their ids in order.
async fn members(db: &TestDb, prefix: &str, n: i64) -> Vec<i64> {
    sqlx::query_scalar(
        "INSERT INTO members (handle, display_name, role)
         SELECT $1 || g, $1 || g, 'public' FROM generate_series(1, $2) g
         RETURNING id",
    )
    .bind(prefix)
    .bind(n)
    .fetch_all(&db.pool)
    .await
    .unwrap()
}

async fn count_of(db: &TestDb, deal_id: i64) -> i32 {
    sqlx::query_scalar("SELECT redemption_count FROM deals WHERE id = $1")
        .bind(deal_id)
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

async fn rows_of(db: &TestDb, deal_id: i64) -> i64 {
    db.count(&format!(
        "SELECT count(*) FROM redemptions WHERE deal_id = {deal_id}"
    ))
    .await
}

fn problem_lines(r: &RedemptionImportReport) -> Vec<String> {
    r.problems.iter().map(|p| p.to_string()).collect()
}

async fn import(desk: &Desk, csv: &str, dry_run: bool) -> RedemptionImportReport {
    desk.import_redemptions("batch.csv", csv.as_bytes(), dry_run)
        .await
        .expect("the import runs")
}

// Values ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_redemption_keeps_its_value_in_minor_units_of_its_currency() {
    let db = TestDb::new().await;
    let curator = db.curator().await;
    let d = deal(&curator, "VALUE", None, "coupon").await;
    let m = members(&db, "v", 1).await[0];
    let desk = platform(&db).await;

    let value = |v: &str, c: &str| OrderValue::parse(Some(v), Some(c)).unwrap();
    let r = desk
        .record_redemption(d.id, m, value("12.50", "EUR"))
        .await
        .unwrap();
    assert_eq!(
        (r.value_minor, r.currency.as_deref()),
        (Some(1250), Some("EUR"))
    );
    assert_eq!(r.value().unwrap().to_string(), "12.50 EUR");
    // Zero is a value; KWD has three decimals.
    let zero = desk
        .record_redemption(d.id, m, value("0", "EUR"))
        .await
        .unwrap();
    assert_eq!(zero.value_minor, Some(0));
    let kwd = desk
        .record_redemption(d.id, m, value("1.234", "KWD"))
        .await
        .unwrap();
    assert_eq!(kwd.value().unwrap().to_string(), "1.234 KWD");
    let none = desk.record_redemption(d.id, m, None).await.unwrap();
    assert_eq!((none.value_minor, none.currency), (None, None));
    let stored: Vec<(Option<i64>, Option<String>)> = sqlx::query_as(
        "SELECT value_minor, currency FROM redemptions WHERE deal_id = $1 ORDER BY id",
    )
    .bind(d.id)
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        stored,
        [
            (Some(1250), Some("EUR".to_owned())),
            (Some(0), Some("EUR".to_owned())),
            (Some(1234), Some("KWD".to_owned())),
            (None, None)
        ]
    );
    // The audit row holds the value.
    let after: serde_json::Value = sqlx::query_scalar(
        "SELECT after FROM audit_log WHERE action = 'redemption.record' AND entity_id = $1",
    )
    .bind(r.id.to_string())
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(after["value_minor"], 1250);
    assert_eq!(after["currency"], "EUR");

    // The rules, each naming its field.
    let refused =
        |v: Option<&str>, c: Option<&str>| OrderValue::parse(v, c).unwrap_err().to_string();
    assert_eq!(refused(Some("-1"), Some("EUR")), "value: must be 0 or more");
    assert_eq!(
        refused(Some("5.5"), Some("JPY")),
        "value: JPY has 0 decimal places; got 5.5"
    );
    assert_eq!(
        refused(None, Some("EUR")),
        "value: required when a currency is given (e.g. 12.50)"
    );
    assert_eq!(
        refused(Some("3"), None),
        "currency: required when a value is given (e.g. EUR)"
    );

    // The schema holds the same line: both or neither, never negative.
    for (v, c) in [
        ("NULL", "'EUR'"),
        ("5", "NULL"),
        ("-5", "'EUR'"),
        ("5", "'eur'"),
    ] {
        let e = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO redemptions (deal_id, member_id, source, coupon_code, value_minor, currency)
             VALUES ({}, {m}, 'copy_code', 'VALUE', {v}, {c})",
            d.id
        )))
        .execute(&db.pool)
        .await
        .unwrap_err();
        assert!(e.to_string().contains("check constraint"), "{v} {c}: {e}");
    }
}

// Import: the happy path -----------------------------------------------------------------------

#[tokio::test]
async fn an_import_writes_every_row_with_its_value_and_moves_the_counts() {
    let db = TestDb::new().await;
    let curator = db.curator().await;
    let coupon = deal(&curator, "BATCH10", None, "coupon").await;
    let link = deal(&curator, "LINKY", Some(10), "link").await;
    let once = deal(&curator, "ONCE", Some(1), "coupon").await;
    let m = members(&db, "imp", 3).await;
    let at = an_hour_ago();
    let csv = format!(
        "{HEADER}\n\
         {c},{m0},{at},12.50,EUR,copy_code\n\
         {c},{m1},2026-01-01 00:00,,,copy_code\n\
         \n\
         {l},{m0},{at},500,JPY,outbound_click\n\
         {l},{m0},{at},0,KWD,outbound_click\n\
         {o},{m0},{at},1.234,KWD,copy_code\n\
         {o},{m1},{at},,,copy_code\n",
        c = coupon.id,
        l = link.id,
        o = once.id,
        m0 = m[0],
        m1 = m[1],
    );
    // The row dated 2026-01-01 must be inside the coupon deal's window: open it earlier.
    sqlx::query("UPDATE deals SET valid_from = '2025-12-01' WHERE id = $1")
        .bind(coupon.id)
        .execute(&db.pool)
        .await
        .unwrap();
    let audit = db.audit_count().await;
    let events = db.count("SELECT count(*) FROM outbox_events").await;
    let desk = platform(&db).await;
    let r = import(&desk, &csv, false).await;
    assert!(r.is_valid(), "{:?}", problem_lines(&r));
    assert_eq!((r.rows, r.imported, r.bad_rows), (6, 6, 0));
    let per_deal: Vec<(i64, u64)> = r.deals.iter().map(|d| (d.deal_id, d.rows)).collect();
    assert_eq!(
        per_deal,
        [(coupon.id, 2), (link.id, 2), (once.id, 2)],
        "by deal id"
    );

    for (d, n) in [(&coupon, 2), (&link, 2), (&once, 2)] {
        assert_eq!(count_of(&db, d.id).await, n);
        assert_eq!(rows_of(&db, d.id).await, i64::from(n));
    }
    let written: Vec<Written> = sqlx::query_as(
        "SELECT deal_id, member_id, source, coupon_code, one_per_member, value_minor, currency
               FROM redemptions ORDER BY deal_id, member_id, value_minor NULLS LAST",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let code = |s: &str| Some(s.to_owned());
    let eur = |v: i64, c: &str| (Some(v), Some(c.to_owned()));
    let row = |d: &Deal,
               member: i64,
               code: Option<String>,
               one: bool,
               v: (Option<i64>, Option<String>)| {
        (
            d.id,
            member,
            if code.is_some() {
                "copy_code"
            } else {
                "outbound_click"
            }
            .to_owned(),
            code,
            one,
            v.0,
            v.1,
        )
    };
    assert_eq!(
        written,
        [
            row(&coupon, m[0], code("BATCH10"), false, eur(1250, "EUR")),
            row(&coupon, m[1], code("BATCH10"), false, (None, None)),
            row(&link, m[0], None, false, eur(0, "KWD")),
            row(&link, m[0], None, false, eur(500, "JPY")),
            row(&once, m[0], code("ONCE"), true, eur(1234, "KWD")),
            row(&once, m[1], code("ONCE"), true, (None, None)),
        ]
    );
    let early: DateTime<Utc> = sqlx::query_scalar(
        "SELECT redeemed_at FROM redemptions WHERE deal_id = $1 AND member_id = $2",
    )
    .bind(coupon.id)
    .bind(m[1])
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(ts(early), "2026-01-01T00:00:00Z");

    // One audit row for the whole file, by the platform; no event.
    assert_eq!(db.audit_count().await, audit + 1);
    let (actor, entity_type, entity_id, after): (String, String, String, serde_json::Value) =
        sqlx::query_as(
            "SELECT actor, entity_type, entity_id, after FROM audit_log
              WHERE action = 'redemption.import'",
        )
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(
        (actor.as_str(), entity_type.as_str(), entity_id.as_str()),
        ("platform", "import", "batch.csv")
    );
    assert_eq!(after["rows"], 6);
    assert_eq!(after["file"], "batch.csv");
    assert_eq!(after["deals"][0]["deal_id"], coupon.id);
    assert_eq!(after["deals"][0]["rows"], 2);
    assert_eq!(
        db.count("SELECT count(*) FROM outbox_events").await,
        events,
        "redemptions publish no event"
    );

    // A registered operator imports as themselves.
    let ada = db.admin().await;
    let csv = format!("{HEADER}\n{},{},{at},,,copy_code\n", coupon.id, m[2]);
    assert_eq!(import(&ada, &csv, false).await.imported, 1);
    assert_eq!(
        db.count(
            "SELECT count(*) FROM audit_log WHERE action = 'redemption.import' AND actor = 'ada'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_copy_code_row_gets_the_code_the_deal_had_at_its_time() {
    let db = TestDb::new().await;
    let curator = db.curator().await;
    let d = deal(&curator, "SPRING", None, "coupon").await;
    let mut edit = d.draft();
    edit.coupon_code = Some("SUMMER".into());
    curator.update_deal(d.id, d.version, &edit).await.unwrap();
    // SPRING from the start of the window, SUMMER from two hours ago.
    sqlx::query(
        "UPDATE deal_coupon_codes
            SET set_at = CASE code WHEN 'SPRING' THEN now() - interval '1 day'
                                   ELSE now() - interval '2 hours' END
          WHERE deal_id = $1",
    )
    .bind(d.id)
    .execute(&db.pool)
    .await
    .unwrap();
    let m = members(&db, "c", 2).await;
    let csv = format!(
        "{HEADER}\n{id},{a},{t3},,,copy_code\n{id},{b},{t1},,,copy_code\n",
        id = d.id,
        a = m[0],
        b = m[1],
        t3 = ts(Utc::now() - Duration::hours(3)),
        t1 = an_hour_ago(),
    );
    let r = import(&platform(&db).await, &csv, false).await;
    assert!(r.is_valid(), "{:?}", problem_lines(&r));
    let codes: Vec<(i64, String)> = sqlx::query_as(
        "SELECT member_id, coupon_code FROM redemptions WHERE deal_id = $1 ORDER BY member_id",
    )
    .bind(d.id)
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        codes,
        [(m[0], "SPRING".to_owned()), (m[1], "SUMMER".to_owned())]
    );
}

// Import: bad files ----------------------------------------------------------------------------

#[tokio::test]
async fn a_file_with_bad_rows_names_each_line_field_and_rule_and_writes_nothing() {
    let db = TestDb::new().await;
    let curator = db.curator().await;
    let coupon = deal(&curator, "GOOD", None, "coupon").await;
    let link = deal(&curator, "LINK", None, "link").await;
    let paused = deal(&curator, "PAUSED", None, "coupon").await;
    curator
        .change_deal_state(
            paused.id,
            None,
            partnerdesk::domain::DealState::Paused,
            None,
        )
        .await
        .unwrap();
    let p = verified_partner(&curator, "Alumni Co", "alumni.example").await;
    let mut a = coupon_draft(p.id, "ALUM");
    a.state = Some("active".into());
    a.audience_scope = "alumni".into();
    let alumni = curator.create_deal(&a).await.unwrap();
    let m = members(&db, "bad", 1).await[0];
    // Something already there, to see that nothing moves.
    platform(&db)
        .await
        .record_redemption(coupon.id, m, None)
        .await
        .unwrap();
    let (c, l, pd, al) = (coupon.id, link.id, paused.id, alumni.id);
    let at = an_hour_ago();
    let future = ts(Utc::now() + Duration::days(2));
    let early = ts(Utc::now() - Duration::days(3));
    let csv = format!(
        "{HEADER}\n\
         {c},{m},{at},12.50,EUR,copy_code\n\
         {c},{m},{at},1.234,EUR,copy_code\n\
         {c},{m},{at},-1,EUR,copy_code\n\
         {c},{m},{at},,EUR,copy_code\n\
         {c},{m},{at},5.5,JPY,copy_code\n\
         999999,{m},{at},,,copy_code\n\
         {c},999999,{at},,,copy_code\n\
         {c},{m},{future},,,copy_code\n\
         {c},{m},{early},,,copy_code\n\
         {c},{m},yesterday,,,copy_code\n\
         {l},{m},{at},,,copy_code\n\
         {pd},{m},{at},,,copy_code\n\
         {al},{m},{at},,,copy_code\n\
         {c},{m},{at},,,coupon\n\
         {c},x,{at},,,copy_code\n\
         {c},{m}\n\
         {c},{m},{at},1,EUR,copy_code\n",
    );
    let before = (
        db.count("SELECT count(*) FROM redemptions").await,
        count_of(&db, c).await,
        db.audit_count().await,
    );
    let desk = platform(&db).await;
    for dry_run in [false, true] {
        let r = import(&desk, &csv, dry_run).await;
        assert!(!r.is_valid());
        assert_eq!((r.rows, r.imported), (17, 0));
        let window = |id: i64, d: &Deal| {
            RedemptionRefusal::OutsideWindow {
                deal_id: id,
                from: d.valid_from,
                until: d.valid_until,
            }
            .to_string()
        };
        let lines = problem_lines(&r);
        let want = [
            "line 3: value: EUR has 2 decimal places; got 1.234".to_owned(),
            "line 4: value: must be 0 or more".to_owned(),
            "line 5: value: required when a currency is given (e.g. 12.50)".to_owned(),
            "line 6: value: JPY has 0 decimal places; got 5.5".to_owned(),
            "line 7: deal_id: must be an existing deal (no deal #999999)".to_owned(),
            "line 8: member_id: must be an existing member (no member #999999)".to_owned(),
            format!(
                "line 9: redeemed_at: must not be in the future (got {})",
                DateTime::parse_from_rfc3339(&future)
                    .unwrap()
                    .format("%Y-%m-%d %H:%M:%S UTC")
            ),
            format!("line 10: redeemed_at: {}", window(c, &coupon)),
            "line 11: redeemed_at: not a date and time (yesterday): use RFC 3339 like 2026-03-01T09:00:00Z, or YYYY-MM-DD HH:MM or YYYY-MM-DD taken as UTC".to_owned(),
            format!(
                "line 12: source: deal {l} is a link deal, so its redemptions are outbound_click (got copy_code)"
            ),
            format!("line 13: deal_id: not active: deal {pd} is paused"),
            format!(
                "line 14: deal_id: not found: deal {al}: member {m} cannot see it (its audience is alumni)"
            ),
            "line 15: source: must be copy_code (coupon deals) or outbound_click (link deals); got 'coupon'".to_owned(),
            "line 16: member_id: must be a member id, a positive whole number (got 'x')".to_owned(),
            "line 17: row: has 2 cells but the header has 6 columns (a cell with a comma, a quote or a line break must be in double quotes)".to_owned(),
        ];
        assert_eq!(lines, want, "dry run {dry_run}");
        assert_eq!((r.bad_rows, r.problem_count), (15, 15));
        // The good rows (lines 2 and 18) are counted for their deal; nothing is written.
        assert_eq!(r.deals.len(), 1);
        assert_eq!(r.deals[0].rows, 2);
        assert_eq!(
            (
                db.count("SELECT count(*) FROM redemptions").await,
                count_of(&db, c).await,
                db.audit_count().await,
            ),
            before
        );
    }

    // A bad header is one error, before any row.
    let e = desk
        .import_redemptions("h.csv", "deal_id,member,redeemed_at\n".as_bytes(), false)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Validation(_)), "{e:?}");
    assert_eq!(
        e.to_string(),
        "header: unknown column member; missing columns member_id, source (the columns are deal_id, member_id, redeemed_at, value, currency, source; deal_id, member_id, redeemed_at, source are required)"
    );
}

#[tokio::test]
async fn a_dry_run_of_a_good_file_checks_everything_and_writes_nothing() {
    let db = TestDb::new().await;
    let curator = db.curator().await;
    let d = deal(&curator, "DRY", Some(5), "coupon").await;
    let m = members(&db, "dry", 3).await;
    let at = an_hour_ago();
    let csv = format!(
        "{HEADER}\n{id},{},{at},1,EUR,copy_code\n{id},{},{at},,,copy_code\n{id},{},{at},,,copy_code\n",
        m[0],
        m[1],
        m[2],
        id = d.id
    );
    let audit = db.audit_count().await;
    let desk = platform(&db).await;
    let r = import(&desk, &csv, true).await;
    assert!(r.is_valid(), "{:?}", problem_lines(&r));
    assert!(r.dry_run);
    assert_eq!((r.rows, r.imported), (3, 0));
    assert_eq!(r.deals[0].rows, 3);
    assert_eq!(rows_of(&db, d.id).await, 0);
    assert_eq!(count_of(&db, d.id).await, 0);
    assert_eq!(db.audit_count().await, audit);
    // And the same file for real.
    assert_eq!(import(&desk, &csv, false).await.imported, 3);
    assert_eq!(count_of(&db, d.id).await, 3);
}

// Import: caps ---------------------------------------------------------------------------------

#[tokio::test]
async fn cap_n_counts_the_recorded_redemptions_and_the_file_together() {
    let db = TestDb::new().await;
    let curator = db.curator().await;
    let d = deal(&curator, "FIFTY", Some(50), "coupon").await;
    let m = members(&db, "cap", 80).await;
    let desk = platform(&db).await;
    for &member in &m[..30] {
        desk.record_redemption(d.id, member, None).await.unwrap();
    }
    let at = an_hour_ago();
    let file = |ms: &[i64]| {
        let mut s = format!("{HEADER}\n");
        for member in ms {
            s.push_str(&format!("{},{member},{at},,,copy_code\n", d.id));
        }
        s
    };
    // 30 + 30 > 50: the ten beyond the cap are named, and nothing is written.
    let r = import(&desk, &file(&m[30..60]), false).await;
    assert!(!r.is_valid());
    assert_eq!((r.bad_rows, r.problem_count), (10, 10));
    let lines = problem_lines(&r);
    assert_eq!(lines.len(), 10);
    assert_eq!(
        lines[0],
        format!(
            "line 22: deal_id: cap reached: deal {} allows 50 redemptions and has 30; this row would be its 51st",
            d.id
        )
    );
    assert!(
        lines[9].starts_with("line 31: deal_id: cap reached"),
        "{}",
        lines[9]
    );
    assert!(
        lines[9].ends_with("this row would be its 60th"),
        "{}",
        lines[9]
    );
    assert_eq!(rows_of(&db, d.id).await, 30);
    assert_eq!(count_of(&db, d.id).await, 30);

    // 30 + 20 = 50: admitted, exactly up to the cap.
    let r = import(&desk, &file(&m[30..50]), false).await;
    assert!(r.is_valid(), "{:?}", problem_lines(&r));
    assert_eq!(r.imported, 20);
    assert_eq!(rows_of(&db, d.id).await, 50);
    assert_eq!(count_of(&db, d.id).await, 50);
    // Full: one more row is refused, and so is a live one.
    let r = import(&desk, &file(&m[50..51]), false).await;
    assert_eq!(r.problem_count, 1);
    let e = desk.record_redemption(d.id, m[51], None).await.unwrap_err();
    assert!(matches!(
        e,
        Error::Redemption(RedemptionRefusal::CapReached { cap: 50, .. })
    ));
}

#[tokio::test]
async fn cap_one_admits_one_per_member_across_the_file_and_what_is_recorded() {
    let db = TestDb::new().await;
    let curator = db.curator().await;
    let d = deal(&curator, "SOLO", Some(1), "coupon").await;
    let m = members(&db, "solo", 3).await;
    let desk = platform(&db).await;
    let first = desk.record_redemption(d.id, m[0], None).await.unwrap();
    let at = an_hour_ago();
    let csv = format!(
        "{HEADER}\n{id},{a},{at},,,copy_code\n{id},{b},{at},,,copy_code\n{id},{c},{at},,,copy_code\n{id},{b},{at},,,copy_code\n",
        id = d.id,
        a = m[0],
        b = m[1],
        c = m[2],
    );
    let r = import(&desk, &csv, false).await;
    let recorded = RedemptionRefusal::AlreadyRedeemed {
        deal_id: d.id,
        member_id: m[0],
        redeemed_at: first.redeemed_at,
    };
    assert_eq!(
        problem_lines(&r),
        [
            format!("line 2: member_id: {recorded} (the deal allows one redemption per member)"),
            format!(
                "line 5: member_id: already redeemed: member {} redeemed deal {} on line 3 of this file (the deal allows one redemption per member)",
                m[1], d.id
            ),
        ]
    );
    assert_eq!(rows_of(&db, d.id).await, 1);
    // Without the repeats, the two new members are admitted.
    let csv = format!(
        "{HEADER}\n{id},{b},{at},,,copy_code\n{id},{c},{at},,,copy_code\n",
        id = d.id,
        b = m[1],
        c = m[2],
    );
    assert_eq!(import(&desk, &csv, false).await.imported, 2);
    assert_eq!(rows_of(&db, d.id).await, 3);
    assert_eq!(count_of(&db, d.id).await, 3);
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM redemptions WHERE deal_id = {} AND one_per_member",
            d.id
        ))
        .await,
        3
    );
}

#[tokio::test]
async fn rows_outside_the_deal_window_are_refused() {
    let db = TestDb::new().await;
    let curator = db.curator().await;
    let d = deal(&curator, "WINDOW", None, "coupon").await;
    let m = members(&db, "w", 1).await[0];
    let micros = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Micros, true);
    let before_open = micros(d.valid_from - Duration::seconds(1));
    let at_open = micros(d.valid_from);
    let csv = format!(
        "{HEADER}\n{id},{m},{before_open},,,copy_code\n{id},{m},{at_open},,,copy_code\n",
        id = d.id
    );
    // The window ends in the past (the expiry job has not run yet): a row at its end is out.
    sqlx::query("UPDATE deals SET valid_until = now() - interval '10 minutes' WHERE id = $1")
        .bind(d.id)
        .execute(&db.pool)
        .await
        .unwrap();
    let until: DateTime<Utc> = sqlx::query_scalar("SELECT valid_until FROM deals WHERE id = $1")
        .bind(d.id)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let csv = format!("{csv}{id},{m},{},,,copy_code\n", micros(until), id = d.id);
    let r = import(&platform(&db).await, &csv, false).await;
    let outside = RedemptionRefusal::OutsideWindow {
        deal_id: d.id,
        from: d.valid_from,
        until,
    };
    assert_eq!(
        problem_lines(&r),
        [
            format!("line 2: redeemed_at: {outside}"),
            format!("line 4: redeemed_at: {outside}"),
        ]
    );
    assert_eq!(rows_of(&db, d.id).await, 0);
}

// Import: racing live traffic ------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_import_racing_live_redemptions_never_passes_the_cap() {
    const CAP: i64 = 80;
    const FILE_ROWS: usize = 50;
    const LIVE: usize = 40;
    let db = TestDb::with_connections(24).await;
    let curator = db.curator().await;
    let d = deal(&curator, "RACE", Some(CAP), "coupon").await;
    let m = members(&db, "race", (FILE_ROWS + LIVE) as i64).await;
    let desk = platform(&db).await;
    let at = an_hour_ago();
    let mut csv = format!("{HEADER}\n");
    for member in &m[..FILE_ROWS] {
        csv.push_str(&format!("{},{member},{at},,,copy_code\n", d.id));
    }
    let live: Vec<_> = m[FILE_ROWS..]
        .iter()
        .map(|&member| {
            let desk = desk.clone();
            let id = d.id;
            tokio::spawn(async move { desk.record_redemption(id, member, None).await })
        })
        .collect();
    let importer = desk.clone();
    let import = tokio::spawn(async move {
        importer
            .import_redemptions("race.csv", csv.as_bytes(), false)
            .await
    });
    let mut admitted = 0i64;
    let mut capped = 0;
    for t in live {
        match t.await.unwrap() {
            Ok(_) => admitted += 1,
            Err(Error::Redemption(RedemptionRefusal::CapReached { .. })) => capped += 1,
            Err(e) => panic!("unexpected refusal: {e}"),
        }
    }
    let report = import.await.unwrap().expect("the import runs");
    let total = rows_of(&db, d.id).await;
    assert!(total <= CAP, "{total} redemptions on a cap of {CAP}");
    assert_eq!(i64::from(count_of(&db, d.id).await), total);
    let imported = report.imported as i64;
    assert_eq!(total, admitted + imported);
    if report.is_valid() {
        assert_eq!(imported, FILE_ROWS as i64);
    } else {
        // Refused whole, naming the cap: the live ones came first.
        assert_eq!(imported, 0);
        assert!(
            report.problems[0].rule.starts_with("cap reached"),
            "{:?}",
            report.problems[0]
        );
        assert!(admitted + FILE_ROWS as i64 > CAP);
    }
    // A live redemption is refused only when the deal is full.
    if capped > 0 {
        assert_eq!(total, CAP);
    }
}
