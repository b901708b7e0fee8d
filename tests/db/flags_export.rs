//! SPEC §1.5, issue 5: flagging and unflagging redemptions (audit rows, refusals, roles), the
//! settlement query leaving flagged redemptions out until resolved, the monitor's keyset
//! lists, and the streaming CSV export (content equal to the database, header, time range,
//! cancellation).

use crate::common::*;
use chrono::{DateTime, TimeZone, Utc};
use partnerdesk::Error;
use partnerdesk::domain::{FlagKind, Role};
use partnerdesk::error::FlagRefusal;
use partnerdesk::service::Desk;
use partnerdesk::service::export::{EXPORT_COLUMNS, ExportFilter, ExportOf, ExportReport};
use partnerdesk::store::audit::AuditEntry;
use partnerdesk::store::deals::Deal;
use partnerdesk::store::redemptions::{self, Redemption, RedemptionRow};
use serde_json::Value;
use std::time::Duration;
use tokio::sync::watch;

// Helpers --------------------------------------------------------------------------------------

fn t(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

async fn support(db: &TestDb) -> Desk {
    db.desk("sam", &[Role::Support]).await
}

/// `n` members with awkward handles (commas, quotes), returning their ids.
async fn members(db: &TestDb, prefix: &str, n: i64) -> Vec<i64> {
    sqlx::query_scalar(
        "INSERT INTO members (handle, display_name, role)
         SELECT $1 || ', \"m\" ' || g, 'Member ' || g, 'public' FROM generate_series(1, $2) g
         RETURNING id",
    )
    .bind(prefix)
    .bind(n)
    .fetch_all(&db.pool)
    .await
    .unwrap()
}

/// `n` redemptions of `deal`, one a minute from `start`, spread over `members`, inserted as
/// the platform leaves them (coupon deals carry their code). Returns their ids, oldest first.
async fn redemptions_at(
    db: &TestDb,
    deal: &Deal,
    members: &[i64],
    start: DateTime<Utc>,
    n: i64,
) -> Vec<i64> {
    sqlx::query_scalar(
        "INSERT INTO redemptions (deal_id, member_id, source, coupon_code, redeemed_at,
                                  value_minor, currency)
         SELECT $1, ($2::bigint[])[1 + (g % cardinality($2::bigint[]))], 'copy_code', $3,
                $4 + (g - 1) * interval '1 minute',
                -- every fourth with no value; the others in EUR, JPY and KWD
                CASE g % 4 WHEN 0 THEN NULL WHEN 1 THEN 1250 + g WHEN 2 THEN 10 * g
                           ELSE 1005 + g END,
                (ARRAY[NULL, 'EUR', 'JPY', 'KWD'])[1 + g % 4]
           FROM generate_series(1, $5) g
         ORDER BY g
         RETURNING id",
    )
    .bind(deal.id)
    .bind(members)
    .bind(deal.coupon_code.as_deref().unwrap_or("CODE"))
    .bind(start)
    .bind(n)
    .fetch_all(&db.pool)
    .await
    .unwrap()
}

async fn stored(db: &TestDb, id: i64) -> Redemption {
    let mut conn = db.pool.acquire().await.unwrap();
    redemptions::get(&mut conn, id).await.unwrap().unwrap()
}

async fn last_audit_id(db: &TestDb) -> i64 {
    db.count("SELECT coalesce(max(id), 0) FROM audit_log").await
}

async fn audit_since(db: &TestDb, after_id: i64) -> Vec<AuditEntry> {
    sqlx::query_as(
        "SELECT id, at, actor, action, entity_type, entity_id, before, after, reason
           FROM audit_log WHERE id > $1 ORDER BY id",
    )
    .bind(after_id)
    .fetch_all(&db.pool)
    .await
    .unwrap()
}

fn field<'a>(v: &'a Option<Value>, name: &str) -> &'a Value {
    &v.as_ref().expect("a JSON value")[name]
}

/// A redemption of a fresh active coupon deal, recorded as the platform does.
async fn one_redemption(db: &TestDb, code: &str) -> (Deal, Redemption) {
    let cara = db.curator().await;
    let deal = active_deal(&cara, code).await;
    let pat = member(db, &format!("pat-{code}"), "public", false, None, &[]).await;
    let r = cara.record_redemption(deal.id, pat, None).await.unwrap();
    (deal, r)
}

// Flags ----------------------------------------------------------------------------------------

#[tokio::test]
async fn flag_and_unflag_write_audit_rows_and_refuse_the_wrong_state() {
    let db = TestDb::new().await;
    let (_, r) = one_redemption(&db, "FLAG1").await;
    let sam = support(&db).await;
    assert!(!r.is_flagged());

    // Flag: the four columns are set, and one audit row has before and after.
    let mark = last_audit_id(&db).await;
    let flagged = sam
        .flag_redemption(r.id, FlagKind::Fraud, "  code posted on a forum ")
        .await
        .unwrap();
    assert_eq!(flagged.flag_kind, Some(FlagKind::Fraud));
    assert_eq!(flagged.flag_note.as_deref(), Some("code posted on a forum"));
    assert_eq!(flagged.flagged_by.as_deref(), Some("sam"));
    assert!(flagged.flagged_at.is_some());
    assert_eq!(stored(&db, r.id).await, flagged);
    let rows = audit_since(&db, mark).await;
    assert_eq!(rows.len(), 1, "{rows:#?}");
    let a = &rows[0];
    assert_eq!(
        (
            a.actor.as_str(),
            a.action.as_str(),
            a.entity_type.as_str(),
            a.entity_id.clone()
        ),
        ("sam", "redemption.flag", "redemption", r.id.to_string())
    );
    assert_eq!(field(&a.before, "flag_kind"), &Value::Null);
    assert_eq!(field(&a.after, "flag_kind"), "fraud");
    assert_eq!(field(&a.after, "flag_note"), "code posted on a forum");
    assert_eq!(field(&a.after, "flagged_by"), "sam");
    assert_eq!(a.reason.as_deref(), Some("code posted on a forum"));

    // Flagging again is refused, names who flagged it, and writes nothing.
    let mark = last_audit_id(&db).await;
    let err = sam
        .flag_redemption(r.id, FlagKind::Dispute, "again")
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Flag(FlagRefusal::AlreadyFlagged { redemption_id, kind: FlagKind::Fraud, flagged_by, .. })
                if *redemption_id == r.id && flagged_by == "sam"
        ),
        "{err:?}"
    );
    let at = flagged.flagged_at.unwrap().format("%Y-%m-%d %H:%M:%S UTC");
    assert_eq!(
        err.to_string(),
        format!(
            "redemption {} is already flagged as fraud by sam at {at}; unflag it first",
            r.id
        )
    );
    assert_eq!(stored(&db, r.id).await, flagged);
    assert!(audit_since(&db, mark).await.is_empty());

    // A reason is required to unflag, and bounded.
    let err = sam.unflag_redemption(r.id, "   ").await.unwrap_err();
    assert_eq!(err.to_string(), "reason: required");
    let err = sam
        .unflag_redemption(r.id, &"x".repeat(1001))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "reason: at most 1000 characters (got 1001)"
    );
    assert!(audit_since(&db, mark).await.is_empty());

    // Unflag: the columns are cleared, and the audit row keeps what the flag was and why it went.
    let resolved = sam
        .unflag_redemption(r.id, "partner confirmed the sale")
        .await
        .unwrap();
    assert!(!resolved.is_flagged());
    assert_eq!(
        (
            &resolved.flag_note,
            &resolved.flagged_by,
            resolved.flagged_at
        ),
        (&None, &None, None)
    );
    let rows = audit_since(&db, mark).await;
    assert_eq!(rows.len(), 1, "{rows:#?}");
    let a = &rows[0];
    assert_eq!(
        (a.actor.as_str(), a.action.as_str(), a.entity_type.as_str()),
        ("sam", "redemption.unflag", "redemption")
    );
    assert_eq!(field(&a.before, "flag_kind"), "fraud");
    assert_eq!(field(&a.before, "flag_note"), "code posted on a forum");
    assert_eq!(field(&a.after, "flag_kind"), &Value::Null);
    assert_eq!(a.reason.as_deref(), Some("partner confirmed the sale"));

    // Unflagging again is refused.
    let mark = last_audit_id(&db).await;
    let err = sam.unflag_redemption(r.id, "again").await.unwrap_err();
    assert!(
        matches!(&err, Error::Flag(FlagRefusal::NotFlagged { redemption_id }) if *redemption_id == r.id),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "redemption {} is not flagged, so there is nothing to unflag",
            r.id
        )
    );

    // It can be flagged again after resolving, as the other kind.
    let again = sam
        .flag_redemption(r.id, FlagKind::Dispute, "member disputes it")
        .await
        .unwrap();
    assert_eq!(again.flag_kind, Some(FlagKind::Dispute));
    assert_eq!(audit_since(&db, mark).await.len(), 1);

    // A note is required and bounded; a missing redemption is not found.
    let mark = last_audit_id(&db).await;
    let err = sam
        .flag_redemption(r.id + 1000, FlagKind::Fraud, "x")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!("redemption {} not found", r.id + 1000)
    );
    let err = sam
        .flag_redemption(r.id, FlagKind::Fraud, "")
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "note: required");
    let err = sam
        .flag_redemption(r.id, FlagKind::Fraud, &"é".repeat(1001))
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "note: at most 1000 characters (got 1001)");
    assert!(audit_since(&db, mark).await.is_empty());
}

#[tokio::test]
async fn only_support_and_admin_may_flag() {
    let db = TestDb::new().await;
    let (_, r) = one_redemption(&db, "ROLES").await;
    let audit = db.audit_count().await;
    for (login, role) in [("cara", Role::Curator), ("fin", Role::Finance)] {
        let desk = db.desk(login, &[role]).await;
        let err = desk
            .flag_redemption(r.id, FlagKind::Fraud, "looks odd")
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Forbidden { .. }), "{role}: {err:?}");
        assert_eq!(
            err.to_string(),
            format!("{login} may not flag redemptions: it needs the support or admin role")
        );
    }
    assert!(!stored(&db, r.id).await.is_flagged());
    assert_eq!(db.audit_count().await, audit);

    // Support flags; a curator may not resolve it either; an admin may.
    support(&db)
        .await
        .flag_redemption(r.id, FlagKind::Dispute, "partner says no sale")
        .await
        .unwrap();
    let err = db
        .curator()
        .await
        .unflag_redemption(r.id, "fine")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Forbidden { .. }), "{err:?}");
    assert!(stored(&db, r.id).await.is_flagged());
    db.admin()
        .await
        .unflag_redemption(r.id, "settled with the partner")
        .await
        .unwrap();
    assert!(!stored(&db, r.id).await.is_flagged());
}

#[tokio::test]
async fn the_database_keeps_a_flag_whole() {
    let db = TestDb::new().await;
    let (_, r) = one_redemption(&db, "WHOLE").await;
    let sam = support(&db).await;
    let half = [
        "UPDATE redemptions SET flag_kind = 'fraud' WHERE id = $1",
        "UPDATE redemptions SET flag_kind = 'fraud', flag_note = 'x', flagged_by = 'sam' WHERE id = $1",
        "UPDATE redemptions SET flag_kind = 'spam', flag_note = 'x', flagged_by = 'sam', flagged_at = now() WHERE id = $1",
        "UPDATE redemptions SET flag_kind = 'fraud', flag_note = '', flagged_by = 'sam', flagged_at = now() WHERE id = $1",
        "UPDATE redemptions SET flag_kind = 'fraud', flag_note = 'x', flagged_by = 'nobody', flagged_at = now() WHERE id = $1",
    ];
    for sql in half {
        let e = sqlx::query(sql)
            .bind(r.id)
            .execute(&db.pool)
            .await
            .expect_err(sql);
        let code = e.as_database_error().and_then(|d| d.code()).unwrap();
        assert!(code.starts_with("23"), "{sql}: {e}");
    }
    sam.flag_redemption(r.id, FlagKind::Fraud, "ok")
        .await
        .unwrap();
    let e = sqlx::query("UPDATE redemptions SET flagged_at = NULL WHERE id = $1")
        .bind(r.id)
        .execute(&db.pool)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("redemptions_flag_complete"), "{e}");
}

// Settlement -----------------------------------------------------------------------------------

#[tokio::test]
async fn settleable_leaves_flagged_redemptions_out_until_resolved() {
    let db = TestDb::new().await;
    let cara = db.curator().await;
    let sam = support(&db).await;
    let deal_a = active_deal(&cara, "SETA").await;
    // A second deal of the same partner, and a deal of another partner.
    let mut d = coupon_draft(deal_a.partner_id, "SETB");
    d.state = Some("active".into());
    let deal_b = cara.create_deal(&d).await.unwrap();
    let other = active_deal(&cara, "OTHER").await;
    let ms = members(&db, "set", 3).await;

    // March 2026: from 00:00 on the 1st, one a minute; the 60 of deal A straddle the end.
    let from = t(2026, 3, 1, 0, 0);
    let to = t(2026, 3, 1, 1, 0);
    let a = redemptions_at(&db, &deal_a, &ms, t(2026, 3, 1, 0, 30), 60).await; // 30 inside
    let b = redemptions_at(&db, &deal_b, &ms, t(2026, 2, 28, 23, 50), 20).await; // 10 inside
    redemptions_at(&db, &other, &ms, from, 10).await; // another partner's

    let settleable = |p: i64| {
        let pool = db.pool.clone();
        async move {
            let mut conn = pool.acquire().await.unwrap();
            redemptions::settleable(&mut conn, p, from, to)
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.id)
                .collect::<Vec<i64>>()
        }
    };
    let mut expected: Vec<i64> = b[10..].iter().chain(&a[..30]).copied().collect();
    assert_eq!(settleable(deal_a.partner_id).await, expected);
    // `from` is inclusive (b[10] is at 00:00), `to` exclusive (a[30] is at 01:00).
    assert_eq!(stored(&db, b[10]).await.redeemed_at, from);
    assert_eq!(stored(&db, a[30]).await.redeemed_at, to);

    // Flagged: out of the settlement, whatever the kind.
    sam.flag_redemption(a[3], FlagKind::Fraud, "shared code")
        .await
        .unwrap();
    sam.flag_redemption(b[12], FlagKind::Dispute, "partner disputes")
        .await
        .unwrap();
    sam.flag_redemption(a[40], FlagKind::Fraud, "outside the period anyway")
        .await
        .unwrap();
    let without: Vec<i64> = expected
        .iter()
        .copied()
        .filter(|id| *id != a[3] && *id != b[12])
        .collect();
    assert_eq!(settleable(deal_a.partner_id).await, without);

    // Resolved: back in.
    sam.unflag_redemption(a[3], "investigated: genuine")
        .await
        .unwrap();
    expected.retain(|id| *id != b[12]);
    assert_eq!(settleable(deal_a.partner_id).await, expected);
    sam.unflag_redemption(b[12], "dispute withdrawn")
        .await
        .unwrap();
    expected = b[10..].iter().chain(&a[..30]).copied().collect();
    assert_eq!(settleable(deal_a.partner_id).await, expected);
}

// The monitor's lists --------------------------------------------------------------------------

#[tokio::test]
async fn lists_page_newest_first_with_titles_handles_and_flags() {
    let db = TestDb::new().await;
    let cara = db.curator().await;
    let sam = support(&db).await;
    let deal = active_deal(&cara, "LIST").await;
    let second = active_deal(&cara, "LIST2").await;
    let ms = members(&db, "lst", 4).await;
    let ids = redemptions_at(&db, &deal, &ms, t(2026, 3, 1, 9, 0), 25).await;
    // Ties on redeemed_at are ordered by id.
    sqlx::query("UPDATE redemptions SET redeemed_at = $1 WHERE id = ANY($2)")
        .bind(t(2026, 3, 1, 9, 10))
        .bind(&ids[10..14])
        .execute(&db.pool)
        .await
        .unwrap();
    redemptions_at(&db, &second, &ms, t(2026, 3, 1, 9, 5), 5).await;
    sam.flag_redemption(ids[7], FlagKind::Dispute, "member says no")
        .await
        .unwrap();

    let expected: Vec<(DateTime<Utc>, i64)> = sqlx::query_as(
        "SELECT redeemed_at, id FROM redemptions WHERE deal_id = $1
          ORDER BY redeemed_at DESC, id DESC",
    )
    .bind(deal.id)
    .fetch_all(&db.pool)
    .await
    .unwrap();

    // Page through by 10: newest first, no row twice, none left out.
    let mut seen: Vec<RedemptionRow> = Vec::new();
    let mut before = None;
    loop {
        let page = sam
            .redemptions_of_deal(deal.id, None, None, before, 10)
            .await
            .unwrap();
        assert!(page.len() <= 10);
        let Some(last) = page.last() else { break };
        before = Some(last.cursor());
        seen.extend(page);
    }
    assert_eq!(
        seen.iter().map(|r| r.cursor()).collect::<Vec<_>>(),
        expected
    );
    let flagged = seen.iter().find(|r| r.id == ids[7]).unwrap();
    assert_eq!(flagged.flag_kind, Some(FlagKind::Dispute));
    assert_eq!(flagged.flag_note.as_deref(), Some("member says no"));
    assert_eq!(flagged.flagged_by.as_deref(), Some("sam"));
    assert_eq!(seen.iter().filter(|r| r.is_flagged()).count(), 1);
    let any = &seen[0];
    assert_eq!(any.deal_title, deal.title);
    assert_eq!(any.coupon_code, deal.coupon_code);
    assert_eq!(any.source, "copy_code");
    let handle: String = sqlx::query_scalar("SELECT handle FROM members WHERE id = $1")
        .bind(any.member_id)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(any.member_handle, handle);

    // A time range: [09:05, 09:15).
    let ranged = sam
        .redemptions_of_deal(
            deal.id,
            Some(t(2026, 3, 1, 9, 5)),
            Some(t(2026, 3, 1, 9, 15)),
            None,
            100,
        )
        .await
        .unwrap();
    let want: Vec<(DateTime<Utc>, i64)> = expected
        .iter()
        .copied()
        .filter(|(at, _)| *at >= t(2026, 3, 1, 9, 5) && *at < t(2026, 3, 1, 9, 15))
        .collect();
    assert_eq!(ranged.iter().map(|r| r.cursor()).collect::<Vec<_>>(), want);
    assert!(!want.is_empty());

    // A member's history across deals, newest first, paged.
    let m = ms[1];
    let expected: Vec<(DateTime<Utc>, i64)> = sqlx::query_as(
        "SELECT redeemed_at, id FROM redemptions WHERE member_id = $1
          ORDER BY redeemed_at DESC, id DESC",
    )
    .bind(m)
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let first = sam
        .redemptions_of_member(m, None, None, None, 3)
        .await
        .unwrap();
    let rest = sam
        .redemptions_of_member(m, None, None, Some(first.last().unwrap().cursor()), 100)
        .await
        .unwrap();
    let got: Vec<_> = first.iter().chain(&rest).map(|r| r.cursor()).collect();
    assert_eq!(got, expected);
    let titles: std::collections::BTreeSet<&str> = first
        .iter()
        .chain(&rest)
        .map(|r| r.deal_title.as_str())
        .collect();
    assert_eq!(
        titles,
        [deal.title.as_str(), second.title.as_str()]
            .into_iter()
            .collect()
    );
}

// Export ---------------------------------------------------------------------------------------

/// A row as the export should write it, read with a plain SELECT.
#[derive(Debug, PartialEq, sqlx::FromRow)]
struct Expected {
    id: i64,
    deal_id: i64,
    title: String,
    member_id: i64,
    handle: String,
    source: String,
    coupon_code: Option<String>,
    redeemed_at: DateTime<Utc>,
    /// In the currency's units, with its minor unit's decimals ("12.51", "20", "1.006").
    value: Option<String>,
    currency: Option<String>,
    flag_kind: Option<String>,
    flag_note: Option<String>,
}

async fn expected_rows(db: &TestDb, f: &ExportFilter) -> Vec<Expected> {
    let (deal, member) = match f.of {
        ExportOf::Deal(id) => (Some(id), None),
        ExportOf::Member(id) => (None, Some(id)),
    };
    let mut rows: Vec<Expected> = sqlx::query_as(
        "SELECT r.id, r.deal_id, d.title, r.member_id, m.handle, r.source, r.coupon_code,
                r.redeemed_at, r.value_minor::text AS value, r.currency, r.flag_kind, r.flag_note
           FROM redemptions r JOIN deals d ON d.id = r.deal_id JOIN members m ON m.id = r.member_id
          WHERE ($1::bigint IS NULL OR r.deal_id = $1)
            AND ($4::bigint IS NULL OR r.member_id = $4)
            AND ($2::timestamptz IS NULL OR r.redeemed_at >= $2)
            AND ($3::timestamptz IS NULL OR r.redeemed_at < $3)
          ORDER BY r.redeemed_at, r.id",
    )
    .bind(deal)
    .bind(f.from)
    .bind(f.to)
    .bind(member)
    .fetch_all(&db.pool)
    .await
    .unwrap();
    // Minor units to the currency's units, by rust_decimal and the currency's exponent.
    for r in &mut rows {
        if let (Some(v), Some(c)) = (&r.value, &r.currency) {
            let exp = iso_currency::Currency::from_code(c)
                .unwrap()
                .exponent()
                .unwrap();
            r.value = Some(rust_decimal::Decimal::new(v.parse().unwrap(), exp.into()).to_string());
        }
    }
    rows
}

/// Parses an export with the `csv` crate: the header, and each record as an `Expected`.
fn parse_export(bytes: &[u8]) -> (Vec<String>, Vec<Expected>) {
    let mut rd = csv::Reader::from_reader(bytes);
    let header: Vec<String> = rd.headers().unwrap().iter().map(str::to_owned).collect();
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    let rows = rd
        .records()
        .map(|r| {
            let r = r.unwrap();
            assert_eq!(r.len(), 12, "{r:?}");
            Expected {
                id: r[0].parse().unwrap(),
                deal_id: r[1].parse().unwrap(),
                title: r[2].to_owned(),
                member_id: r[3].parse().unwrap(),
                handle: r[4].to_owned(),
                source: r[5].to_owned(),
                coupon_code: opt(&r[6]),
                redeemed_at: DateTime::parse_from_rfc3339(&r[7])
                    .unwrap_or_else(|e| panic!("{:?}: {e}", &r[7]))
                    .with_timezone(&Utc),
                value: opt(&r[8]),
                currency: opt(&r[9]),
                flag_kind: opt(&r[10]),
                flag_note: opt(&r[11]),
            }
        })
        .collect();
    (header, rows)
}

/// Runs an export into memory, recording every progress report.
async fn export(
    desk: &Desk,
    f: &ExportFilter,
) -> (partnerdesk::Result<ExportReport>, Vec<u8>, Vec<(u64, u64)>) {
    let (_tx, rx) = watch::channel(false);
    let mut out = Vec::new();
    let mut reports = Vec::new();
    let r = desk
        .export_redemptions(f, &mut out, |rows, bytes| reports.push((rows, bytes)), rx)
        .await;
    (r, out, reports)
}

/// A deal with an awkward title and `n` redemptions from 2026-03-01 00:00, a minute apart,
/// a few of them flagged with notes that need quoting; and another deal's redemptions.
async fn export_fixture(db: &TestDb, n: i64) -> (Deal, Vec<i64>) {
    let cara = db.curator().await;
    let sam = support(db).await;
    let mut deal = active_deal(&cara, "EXPORT").await;
    deal.title = "Deal, \"quoted\" — 20% off".into();
    sqlx::query("UPDATE deals SET title = $2 WHERE id = $1")
        .bind(deal.id)
        .bind(&deal.title)
        .execute(&db.pool)
        .await
        .unwrap();
    let other = active_deal(&cara, "NOTME").await;
    let ms = members(db, "exp", 7).await;
    let ids = redemptions_at(db, &deal, &ms, t(2026, 3, 1, 0, 0), n).await;
    redemptions_at(db, &other, &ms, t(2026, 3, 1, 0, 0), 50).await;
    sam.flag_redemption(ids[1], FlagKind::Fraud, "shared, \"widely\"\non a forum")
        .await
        .unwrap();
    sam.flag_redemption(ids[(n / 2) as usize], FlagKind::Dispute, "partner: no sale")
        .await
        .unwrap();
    (deal, ids)
}

#[tokio::test]
async fn an_export_equals_the_rows_in_the_database_with_a_header() {
    let db = TestDb::new().await;
    let (deal, ids) = export_fixture(&db, 3000).await;
    let f = ExportFilter::deal(deal.id);
    // Any role that may view redemptions may export.
    let fin = db.desk("fin", &[Role::Finance]).await;
    let (report, bytes, progress) = export(&fin, &f).await;
    let report = report.unwrap();

    let (header, rows) = parse_export(&bytes);
    assert_eq!(header, EXPORT_COLUMNS);
    assert!(bytes.starts_with(
        b"redemption_id,deal_id,deal_title,member_id,member_handle,source,coupon_code,redeemed_at,value,currency,flag_kind,flag_note\n"
    ));
    let expected = expected_rows(&db, &f).await;
    assert_eq!(expected.len(), 3000);
    assert_eq!(rows, expected);
    assert_eq!(rows.iter().map(|r| r.id).collect::<Vec<_>>(), ids);
    // The flagged rows carry kind and note, newline and quotes included.
    assert_eq!(rows[1].flag_kind.as_deref(), Some("fraud"));
    assert_eq!(
        rows[1].flag_note.as_deref(),
        Some("shared, \"widely\"\non a forum")
    );
    assert_eq!(rows[1500].flag_kind.as_deref(), Some("dispute"));
    // redeemed_at is RFC 3339 in UTC.
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(
        text.lines()
            .nth(1)
            .unwrap()
            .contains(",2026-03-01T00:00:00.000000Z,"),
        "{}",
        text.lines().nth(1).unwrap()
    );

    // The report and the progress agree with what was written (a newline in a note is no row).
    assert_eq!(
        report,
        ExportReport {
            rows: 3000,
            bytes: bytes.len() as u64
        }
    );
    assert_eq!(progress.last(), Some(&(3000, bytes.len() as u64)));
    assert!(progress.len() > 1, "{progress:?}");
    assert!(
        progress
            .windows(2)
            .all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1)
    );

    // The count for a progress bar's total agrees.
    assert_eq!(fin.export_redemptions_count(&f).await.unwrap(), 3000);
}

#[tokio::test]
async fn a_members_history_exports_across_deals_with_order_values() {
    let db = TestDb::new().await;
    let (deal, _) = export_fixture(&db, 40).await;
    let sam = support(&db).await;
    let member: i64 = sqlx::query_scalar(
        "SELECT member_id FROM redemptions WHERE deal_id = $1 ORDER BY id LIMIT 1",
    )
    .bind(deal.id)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let f = ExportFilter::member(member);
    let (report, bytes, _) = export(&sam, &f).await;
    let (header, rows) = parse_export(&bytes);
    assert_eq!(header, EXPORT_COLUMNS);
    assert_eq!(rows, expected_rows(&db, &f).await);
    assert!(rows.iter().all(|r| r.member_id == member));
    // Both deals the member redeemed, and each currency's own decimals.
    let deals: std::collections::BTreeSet<i64> = rows.iter().map(|r| r.deal_id).collect();
    assert_eq!(deals.len(), 2, "{deals:?}");
    let values: std::collections::BTreeSet<(Option<&str>, Option<&str>)> = rows
        .iter()
        .map(|r| (r.currency.as_deref(), r.value.as_deref()))
        .collect();
    assert!(
        values
            .iter()
            .any(|(c, v)| *c == Some("JPY") && !v.unwrap().contains('.'))
    );
    assert!(
        values
            .iter()
            .any(|(c, v)| *c == Some("KWD") && v.unwrap().split('.').nth(1).unwrap().len() == 3)
    );
    assert!(
        values
            .iter()
            .any(|(c, v)| *c == Some("EUR") && v.unwrap().split('.').nth(1).unwrap().len() == 2)
    );
    assert!(values.contains(&(None, None)));
    assert_eq!(report.unwrap().rows, rows.len() as u64);
    // A member that does not exist is named as such.
    let (r, _, _) = export(&sam, &ExportFilter::member(999_999)).await;
    assert!(r.unwrap_err().to_string().contains("member"), "not found");
}

#[tokio::test]
async fn an_export_filters_by_time_range() {
    let db = TestDb::new().await;
    let (deal, ids) = export_fixture(&db, 200).await;
    let sam = support(&db).await;

    // [00:10, 01:00): from inclusive, to exclusive → ids[10..60].
    let f = ExportFilter {
        of: ExportOf::Deal(deal.id),
        from: Some(t(2026, 3, 1, 0, 10)),
        to: Some(t(2026, 3, 1, 1, 0)),
    };
    let (report, bytes, _) = export(&sam, &f).await;
    let (header, rows) = parse_export(&bytes);
    assert_eq!(header, EXPORT_COLUMNS);
    assert_eq!(rows, expected_rows(&db, &f).await);
    assert_eq!(rows.iter().map(|r| r.id).collect::<Vec<_>>(), &ids[10..60]);
    assert_eq!(report.unwrap().rows, 50);

    // Only one end.
    let f = ExportFilter {
        of: ExportOf::Deal(deal.id),
        from: Some(t(2026, 3, 1, 3, 0)),
        to: None,
    };
    let (_, bytes, _) = export(&sam, &f).await;
    let (_, rows) = parse_export(&bytes);
    assert_eq!(rows.iter().map(|r| r.id).collect::<Vec<_>>(), &ids[180..]);
    let f = ExportFilter {
        of: ExportOf::Deal(deal.id),
        from: None,
        to: Some(t(2026, 3, 1, 0, 5)),
    };
    let (_, bytes, _) = export(&sam, &f).await;
    let (_, rows) = parse_export(&bytes);
    assert_eq!(rows.iter().map(|r| r.id).collect::<Vec<_>>(), &ids[..5]);

    // Nothing in range: the header alone.
    let f = ExportFilter {
        of: ExportOf::Deal(deal.id),
        from: Some(t(2027, 1, 1, 0, 0)),
        to: None,
    };
    let (report, bytes, progress) = export(&sam, &f).await;
    assert_eq!(
        String::from_utf8(bytes).unwrap(),
        format!("{}\n", EXPORT_COLUMNS.join(","))
    );
    assert_eq!(report.unwrap().rows, 0);
    assert_eq!(progress.last().map(|p| p.0), Some(0));

    // An empty or inverted range, and a missing deal, are refused before anything is written.
    let f = ExportFilter {
        of: ExportOf::Deal(deal.id),
        from: Some(t(2026, 3, 2, 0, 0)),
        to: Some(t(2026, 3, 2, 0, 0)),
    };
    let (r, bytes, _) = export(&sam, &f).await;
    assert_eq!(r.unwrap_err().to_string(), "to: must be after from");
    assert!(bytes.is_empty());
    let (r, bytes, _) = export(&sam, &ExportFilter::deal(deal.id + 1000)).await;
    assert_eq!(
        r.unwrap_err().to_string(),
        format!("deal {} not found", deal.id + 1000)
    );
    assert!(bytes.is_empty());
}

#[tokio::test]
async fn a_cancelled_export_stops_early_and_leaves_the_pool_usable() {
    // Two connections only: the cancelled one must not be lost to the pool for good.
    let db = TestDb::with_connections(2).await;
    let (deal, _) = export_fixture(&db, 20_000).await;
    let sam = support(&db).await;
    let f = ExportFilter::deal(deal.id);

    // Cancelled before it starts: nothing is written.
    let (tx, rx) = watch::channel(true);
    let mut out = Vec::new();
    let err = sam
        .export_redemptions(&f, &mut out, |_, _| {}, rx)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Cancelled { .. }), "{err:?}");
    assert_eq!(err.to_string(), "export cancelled");
    assert!(out.is_empty());
    drop(tx);

    // Cancelled at the first progress report, as a Ctrl-C would.
    let (tx, rx) = watch::channel(false);
    let mut out = Vec::new();
    let mut reports = 0;
    let err = sam
        .export_redemptions(
            &f,
            &mut out,
            |_, _| {
                reports += 1;
                let _ = tx.send(true);
            },
            rx,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Cancelled { .. }), "{err:?}");
    assert_eq!(reports, 1);
    // What reached the writer is a small part of the whole (at most the buffer's worth).
    let (full, whole, _) = export(&sam, &f).await;
    let full = full.unwrap();
    assert_eq!(full.rows, 20_000);
    assert!(
        (out.len() as u64) < full.bytes / 2,
        "{} of {}",
        out.len(),
        full.bytes
    );
    assert!(whole.starts_with(&out));

    // The server is not left running the COPY for a connection nobody reads.
    let mut left = i64::MAX;
    for _ in 0..50 {
        left = db
            .count(&format!(
                "SELECT count(*) FROM pg_stat_activity
                  WHERE datname = '{}' AND query LIKE 'COPY (SELECT r.id AS redemption_id%'
                    AND state = 'active'",
                db.name
            ))
            .await;
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(left, 0, "a COPY still runs after the cancel");
    // Both connections of the pool are usable.
    let (a, b) = tokio::join!(
        sam.redemptions_of_deal(deal.id, None, None, None, 5),
        sam.export_redemptions_count(&f)
    );
    assert_eq!(a.unwrap().len(), 5);
    assert_eq!(b.unwrap(), 20_000);
}
