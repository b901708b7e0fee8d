//! Redemptions: recording, flags, the monitor's lists, the settlement query and the export.

use crate::domain::{DealKind, FlagKind, OrderValue};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgTypeInfo, PgValueRef};
use sqlx::{Decode, PgConnection, Postgres, QueryBuilder, Type};

#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct Redemption {
    pub id: i64,
    pub deal_id: i64,
    pub member_id: i64,
    pub source: String,
    pub coupon_code: Option<String>,
    pub redeemed_at: DateTime<Utc>,
    /// What the member spent, in minor units of `currency`, when the platform reported it
    /// (both or neither).
    pub value_minor: Option<i64>,
    pub currency: Option<String>,
    /// Set, with the three fields after it, while the redemption is flagged.
    pub flag_kind: Option<FlagKind>,
    pub flag_note: Option<String>,
    pub flagged_by: Option<String>,
    pub flagged_at: Option<DateTime<Utc>>,
}

impl Redemption {
    pub fn is_flagged(&self) -> bool {
        self.flag_kind.is_some()
    }

    /// The order value, when the platform reported one.
    pub fn value(&self) -> Option<OrderValue> {
        match (self.value_minor, &self.currency) {
            (Some(minor), Some(currency)) => Some(OrderValue {
                minor,
                currency: currency.clone(),
            }),
            _ => None,
        }
    }
}

impl Type<Postgres> for FlagKind {
    fn type_info() -> PgTypeInfo {
        <&str as Type<Postgres>>::type_info()
    }
    fn compatible(ty: &PgTypeInfo) -> bool {
        <&str as Type<Postgres>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Postgres> for FlagKind {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        let s = <&str as Decode<Postgres>>::decode(value)?;
        Ok(s.parse::<FlagKind>()?)
    }
}

macro_rules! cols {
    () => {
        "id, deal_id, member_id, source, coupon_code, redeemed_at, value_minor, currency, \
         flag_kind, flag_note, flagged_by, flagged_at"
    };
}

macro_rules! r_cols {
    () => {
        "r.id, r.deal_id, r.member_id, r.source, r.coupon_code, r.redeemed_at, r.value_minor, \
         r.currency, r.flag_kind, r.flag_note, r.flagged_by, r.flagged_at"
    };
}

pub fn source_for(kind: DealKind) -> &'static str {
    match kind {
        DealKind::Coupon => "copy_code",
        DealKind::Link => "outbound_click",
    }
}

/// When the member first redeemed a one-per-member deal.
pub async fn one_per_member_at(
    conn: &mut PgConnection,
    deal_id: i64,
    member_id: i64,
) -> sqlx::Result<Option<DateTime<Utc>>> {
    sqlx::query_scalar(
        "SELECT redeemed_at FROM redemptions WHERE deal_id = $1 AND member_id = $2 AND one_per_member",
    )
    .bind(deal_id)
    .bind(member_id)
    .fetch_optional(conn)
    .await
}

pub async fn insert(
    conn: &mut PgConnection,
    deal_id: i64,
    member_id: i64,
    kind: DealKind,
    coupon_code: Option<&str>,
    one_per_member: bool,
    value: Option<&OrderValue>,
) -> sqlx::Result<Redemption> {
    sqlx::query_as(concat!(
        "INSERT INTO redemptions (deal_id, member_id, source, coupon_code, one_per_member,
                                  value_minor, currency)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ",
        cols!(),
        ""
    ))
    .bind(deal_id)
    .bind(member_id)
    .bind(source_for(kind))
    .bind(coupon_code)
    .bind(one_per_member)
    .bind(value.map(|v| v.minor))
    .bind(value.map(|v| v.currency.as_str()))
    .fetch_one(conn)
    .await
}

pub async fn bump_count(conn: &mut PgConnection, deal_id: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE deals SET redemption_count = redemption_count + 1 WHERE id = $1")
        .bind(deal_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn get(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<Redemption>> {
    sqlx::query_as(concat!(
        "SELECT ",
        cols!(),
        " FROM redemptions WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Reads and locks one redemption for a flag change.
pub async fn get_for_update(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<Redemption>> {
    sqlx::query_as(concat!(
        "SELECT ",
        cols!(),
        " FROM redemptions WHERE id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

// Flags ----------------------------------------------------------------------------------------

pub async fn set_flag(
    conn: &mut PgConnection,
    id: i64,
    kind: FlagKind,
    note: &str,
    by: &str,
) -> sqlx::Result<Redemption> {
    sqlx::query_as(concat!(
        "UPDATE redemptions
            SET flag_kind = $2, flag_note = $3, flagged_by = $4, flagged_at = now()
          WHERE id = $1
      RETURNING ",
        cols!()
    ))
    .bind(id)
    .bind(kind.as_str())
    .bind(note)
    .bind(by)
    .fetch_one(conn)
    .await
}

pub async fn clear_flag(conn: &mut PgConnection, id: i64) -> sqlx::Result<Redemption> {
    sqlx::query_as(concat!(
        "UPDATE redemptions
            SET flag_kind = NULL, flag_note = NULL, flagged_by = NULL, flagged_at = NULL
          WHERE id = $1
      RETURNING ",
        cols!()
    ))
    .bind(id)
    .fetch_one(conn)
    .await
}

// Settlement -----------------------------------------------------------------------------------

/// The redemptions that count for a partner's settlement of `[from, to)`: every redemption of
/// the partner's deals in that time, except the flagged ones (SPEC §1.5: excluded until
/// resolved). Oldest first.
pub async fn settleable(
    conn: &mut PgConnection,
    partner_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> sqlx::Result<Vec<Redemption>> {
    sqlx::query_as(concat!(
        "SELECT ",
        r_cols!(),
        " FROM redemptions r JOIN deals d ON d.id = r.deal_id
          WHERE d.partner_id = $1
            AND r.redeemed_at >= $2 AND r.redeemed_at < $3
            AND r.flag_kind IS NULL
          ORDER BY r.redeemed_at, r.id"
    ))
    .bind(partner_id)
    .bind(from)
    .bind(to)
    .fetch_all(conn)
    .await
}

// Import ---------------------------------------------------------------------------------------

/// Creates the staging table of an import of past redemptions: the rows to write, each with
/// the line of the file it came from. Temporary, and dropped when the transaction ends.
pub async fn create_import_staging(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query(
        "CREATE TEMP TABLE redemption_import (
             line           bigint NOT NULL,
             deal_id        bigint NOT NULL,
             member_id      bigint NOT NULL,
             source         text NOT NULL,
             coupon_code    text,
             one_per_member boolean NOT NULL,
             redeemed_at    timestamptz NOT NULL,
             value_minor    bigint,
             currency       text
         ) ON COMMIT DROP",
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// One row for the staging table.
#[derive(Debug, Clone, Copy)]
pub struct StagedRedemption<'a> {
    pub line: u64,
    pub deal_id: i64,
    pub member_id: i64,
    pub kind: DealKind,
    pub coupon_code: Option<&'a str>,
    pub one_per_member: bool,
    pub redeemed_at: DateTime<Utc>,
    pub value: Option<&'a OrderValue>,
}

/// Appends `r` to `buf` as one line of COPY's text format (tab-separated, `\N` for NULL), in
/// the column order of [`copy_staged`].
pub fn write_staged(buf: &mut String, r: &StagedRedemption<'_>) {
    use std::fmt::Write;
    let _ = write!(
        buf,
        "{}\t{}\t{}\t{}\t",
        r.line,
        r.deal_id,
        r.member_id,
        source_for(r.kind)
    );
    match r.coupon_code {
        Some(code) => copy_text(buf, code),
        None => buf.push_str("\\N"),
    }
    let _ = write!(
        buf,
        "\t{}\t{}\t",
        if r.one_per_member { 't' } else { 'f' },
        r.redeemed_at.to_rfc3339_opts(SecondsFormat::Micros, true)
    );
    match r.value {
        Some(v) => {
            let _ = write!(buf, "{}\t", v.minor);
            copy_text(buf, &v.currency);
        }
        None => buf.push_str("\\N\t\\N"),
    }
    buf.push('\n');
}

/// Text in COPY's text format: backslash, tab and line breaks escaped.
fn copy_text(buf: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '\\' => buf.push_str("\\\\"),
            '\t' => buf.push_str("\\t"),
            '\n' => buf.push_str("\\n"),
            '\r' => buf.push_str("\\r"),
            c => buf.push(c),
        }
    }
}

/// Loads lines written by [`write_staged`] into the staging table with one COPY; returns how
/// many rows it took.
pub async fn copy_staged(conn: &mut PgConnection, data: &[u8]) -> sqlx::Result<u64> {
    let mut copy = conn
        .copy_in_raw(
            "COPY redemption_import (line, deal_id, member_id, source, coupon_code, \
             one_per_member, redeemed_at, value_minor, currency) FROM STDIN",
        )
        .await?;
    if let Err(e) = copy.send(data).await {
        let _ = copy.abort("partnerdesk: sending the rows failed").await;
        return Err(e);
    }
    copy.finish().await
}

/// Staged rows of one-per-member deals whose member has already redeemed the deal: the first
/// `limit` by line as `(line, deal_id, member_id, redeemed_at of the earlier one)`, and how
/// many there are in all. Run with the deals locked, so that nobody adds one meanwhile.
pub async fn staged_repeats(
    conn: &mut PgConnection,
    limit: i64,
) -> sqlx::Result<(i64, Vec<(i64, i64, i64, DateTime<Utc>)>)> {
    // The staging table was filled in this transaction: give the planner its size.
    sqlx::query("ANALYZE redemption_import")
        .execute(&mut *conn)
        .await?;
    let rows: Vec<(i64, i64, i64, DateTime<Utc>, i64)> = sqlx::query_as(
        "SELECT s.line, s.deal_id, s.member_id, r.redeemed_at, count(*) OVER ()
           FROM redemption_import s
           JOIN redemptions r
             ON r.deal_id = s.deal_id AND r.member_id = s.member_id AND r.one_per_member
          WHERE s.one_per_member
          ORDER BY s.line
          LIMIT $1",
    )
    .bind(limit)
    .fetch_all(conn)
    .await?;
    let total = rows.first().map_or(0, |r| r.4);
    Ok((
        total,
        rows.into_iter()
            .map(|(l, d, m, at, _)| (l, d, m, at))
            .collect(),
    ))
}

/// Staged rows beyond what their deal's cap leaves room for: `room[i]` more rows fit deal
/// `deal_ids[i]`, taken in file order; the rest, the first `limit` by line, as `(line,
/// deal_id, n)` where the row is the deal's `n`th in the file.
pub async fn staged_over_cap(
    conn: &mut PgConnection,
    deal_ids: &[i64],
    room: &[i64],
    limit: i64,
) -> sqlx::Result<Vec<(i64, i64, i64)>> {
    sqlx::query_as(
        "SELECT line, deal_id, n FROM (
             SELECT s.line, s.deal_id, c.room,
                    row_number() OVER (PARTITION BY s.deal_id ORDER BY s.line) AS n
               FROM redemption_import s
               JOIN unnest($1::bigint[], $2::bigint[]) AS c (deal_id, room) ON c.deal_id = s.deal_id
         ) x
          WHERE n > room
          ORDER BY line
          LIMIT $3",
    )
    .bind(deal_ids)
    .bind(room)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Writes every staged row into redemptions, in one statement; returns how many. Oldest
/// first: the ids follow time as live ones do, and the indexes on `redeemed_at` grow at a few
/// places instead of all over (at a million rows, the sort makes the INSERT about a third
/// faster than the file's order).
pub async fn insert_staged(conn: &mut PgConnection) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "INSERT INTO redemptions (deal_id, member_id, source, coupon_code, one_per_member,
                                  redeemed_at, value_minor, currency)
         SELECT deal_id, member_id, source, coupon_code, one_per_member, redeemed_at,
                value_minor, currency
           FROM redemption_import
          ORDER BY redeemed_at, line",
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Adds `counts[i]` to the redemption count of deal `deal_ids[i]`, in one statement.
pub async fn add_counts(
    conn: &mut PgConnection,
    deal_ids: &[i64],
    counts: &[i32],
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE deals d SET redemption_count = d.redemption_count + c.n
           FROM unnest($1::bigint[], $2::integer[]) AS c (id, n)
          WHERE d.id = c.id",
    )
    .bind(deal_ids)
    .bind(counts)
    .execute(conn)
    .await?;
    Ok(())
}

// The monitor's lists --------------------------------------------------------------------------

/// A redemption as the monitor lists it: with its deal's title and its member's handle.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct RedemptionRow {
    pub id: i64,
    pub deal_id: i64,
    pub deal_title: String,
    pub member_id: i64,
    pub member_handle: String,
    pub source: String,
    pub coupon_code: Option<String>,
    pub redeemed_at: DateTime<Utc>,
    pub flag_kind: Option<FlagKind>,
    pub flag_note: Option<String>,
    pub flagged_by: Option<String>,
    pub flagged_at: Option<DateTime<Utc>>,
}

impl RedemptionRow {
    /// The keyset cursor of this row: pass the last row's as `before` for the next page.
    pub fn cursor(&self) -> (DateTime<Utc>, i64) {
        (self.redeemed_at, self.id)
    }

    pub fn is_flagged(&self) -> bool {
        self.flag_kind.is_some()
    }
}

const ROW_SELECT: &str = "SELECT r.id, r.deal_id, d.title AS deal_title, r.member_id, \
    m.handle AS member_handle, r.source, r.coupon_code, r.redeemed_at, r.flag_kind, r.flag_note, \
    r.flagged_by, r.flagged_at \
    FROM redemptions r JOIN deals d ON d.id = r.deal_id JOIN members m ON m.id = r.member_id \
    WHERE ";

/// `redeemed_at` in `[from, to)`, either end open when `None`.
fn range(q: &mut QueryBuilder<Postgres>, from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) {
    if let Some(from) = from {
        q.push(" AND r.redeemed_at >= ").push_bind(from);
    }
    if let Some(to) = to {
        q.push(" AND r.redeemed_at < ").push_bind(to);
    }
}

/// Newest first, strictly older than `before` (the last row of the previous page).
fn page_tail(q: &mut QueryBuilder<Postgres>, before: Option<(DateTime<Utc>, i64)>, limit: i64) {
    if let Some((at, id)) = before {
        q.push(" AND (r.redeemed_at, r.id) < (")
            .push_bind(at)
            .push(", ")
            .push_bind(id)
            .push(")");
    }
    q.push(" ORDER BY r.redeemed_at DESC, r.id DESC LIMIT ")
        .push_bind(limit);
}

/// One redemption as the monitor lists it (a settlement line's redemption, opened).
pub async fn get_row(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<RedemptionRow>> {
    let mut q = QueryBuilder::<Postgres>::new(ROW_SELECT);
    q.push("r.id = ").push_bind(id);
    q.build_query_as().fetch_optional(conn).await
}

/// One page of a deal's redemptions in `[from, to)` (either end open when `None`), newest
/// first. The conditions are only those given, so each shape of the query has its own plan
/// on the `(deal_id, redeemed_at DESC, id DESC)` index.
pub async fn page_of_deal(
    conn: &mut PgConnection,
    deal_id: i64,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    before: Option<(DateTime<Utc>, i64)>,
    limit: i64,
) -> sqlx::Result<Vec<RedemptionRow>> {
    let mut q = QueryBuilder::<Postgres>::new(ROW_SELECT);
    q.push("r.deal_id = ").push_bind(deal_id);
    range(&mut q, from, to);
    page_tail(&mut q, before, limit);
    q.build_query_as().fetch_all(conn).await
}

/// One page of a member's redemptions across every deal in `[from, to)`, newest first.
pub async fn page_of_member(
    conn: &mut PgConnection,
    member_id: i64,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    before: Option<(DateTime<Utc>, i64)>,
    limit: i64,
) -> sqlx::Result<Vec<RedemptionRow>> {
    let mut q = QueryBuilder::<Postgres>::new(ROW_SELECT);
    q.push("r.member_id = ").push_bind(member_id);
    range(&mut q, from, to);
    page_tail(&mut q, before, limit);
    q.build_query_as().fetch_all(conn).await
}

// Export ---------------------------------------------------------------------------------------

/// What to export: one deal's redemptions, optionally only those in `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportFilter {
    pub deal_id: i64,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl ExportFilter {
    pub fn deal(deal_id: i64) -> Self {
        Self {
            deal_id,
            from: None,
            to: None,
        }
    }
}

/// The export's columns, in order (the CSV header).
pub const EXPORT_COLUMNS: [&str; 10] = [
    "redemption_id",
    "deal_id",
    "deal_title",
    "member_id",
    "member_handle",
    "source",
    "coupon_code",
    "redeemed_at",
    "flag_kind",
    "flag_note",
];

/// A timestamp as an SQL literal (RFC 3339, microseconds, UTC).
fn ts_literal(t: &DateTime<Utc>) -> String {
    format!(
        "'{}'::timestamptz",
        t.to_rfc3339_opts(SecondsFormat::Micros, true)
    )
}

/// The WHERE clause of the export, over `redemptions r`. COPY takes no parameters, so the
/// values are spliced in; they are typed (an integer and timestamps), never text from a user.
fn export_where(f: &ExportFilter) -> String {
    let mut w = format!("r.deal_id = {}", f.deal_id);
    if let Some(from) = &f.from {
        w.push_str(&format!(" AND r.redeemed_at >= {}", ts_literal(from)));
    }
    if let Some(to) = &f.to {
        w.push_str(&format!(" AND r.redeemed_at < {}", ts_literal(to)));
    }
    w
}

/// The SELECT behind the export, on one line (so that `psql \copy` takes it as it is): the
/// columns of [`EXPORT_COLUMNS`], oldest first, `redeemed_at` as RFC 3339 UTC with
/// microseconds.
pub fn export_select(f: &ExportFilter) -> String {
    format!(
        "SELECT r.id AS redemption_id, r.deal_id, d.title AS deal_title, r.member_id, \
         m.handle AS member_handle, r.source, r.coupon_code, \
         to_char(r.redeemed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS redeemed_at, \
         r.flag_kind, r.flag_note \
         FROM redemptions r JOIN deals d ON d.id = r.deal_id JOIN members m ON m.id = r.member_id \
         WHERE {} ORDER BY r.redeemed_at, r.id",
        export_where(f)
    )
}

/// The `COPY … TO STDOUT` statement of the export: CSV with a header line.
pub fn export_copy_statement(f: &ExportFilter) -> String {
    format!(
        "COPY ({}) TO STDOUT WITH (FORMAT csv, HEADER)",
        export_select(f)
    )
}

/// Before an export: whether the deal exists, and the server process of this connection (to
/// cancel its COPY from another connection).
pub async fn export_start(conn: &mut PgConnection, deal_id: i64) -> sqlx::Result<(bool, i32)> {
    sqlx::query_as("SELECT EXISTS (SELECT 1 FROM deals WHERE id = $1), pg_backend_pid()")
        .bind(deal_id)
        .fetch_one(conn)
        .await
}

/// Asks the server to cancel what the process `pid` is running (an export's COPY).
pub async fn cancel_backend(conn: &mut PgConnection, pid: i32) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT pg_cancel_backend($1)")
        .bind(pid)
        .fetch_one(conn)
        .await
}

/// How many rows the export will write (for a progress bar's total).
pub async fn export_count(conn: &mut PgConnection, f: &ExportFilter) -> sqlx::Result<i64> {
    let sql = format!(
        "SELECT count(*) FROM redemptions r WHERE {}",
        export_where(f)
    );
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .fetch_one(conn)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_export_statement_splices_only_typed_values_on_one_line() {
        let f = ExportFilter {
            deal_id: 42,
            from: Some(Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap()),
            to: Some(Utc.with_ymd_and_hms(2026, 4, 1, 12, 30, 0).unwrap()),
        };
        let s = export_copy_statement(&f);
        assert!(!s.contains('\n'), "{s}");
        assert!(s.starts_with("COPY (SELECT r.id AS redemption_id"), "{s}");
        assert!(s.ends_with(") TO STDOUT WITH (FORMAT csv, HEADER)"), "{s}");
        assert!(s.contains("r.deal_id = 42"), "{s}");
        assert!(
            s.contains("r.redeemed_at >= '2026-03-01T00:00:00.000000Z'::timestamptz"),
            "{s}"
        );
        assert!(
            s.contains("r.redeemed_at < '2026-04-01T12:30:00.000000Z'::timestamptz"),
            "{s}"
        );
        let open = export_select(&ExportFilter::deal(7));
        assert!(open.contains("WHERE r.deal_id = 7 ORDER BY"), "{open}");
    }

    #[test]
    fn staged_rows_are_copy_text_with_nulls_and_escapes() {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 9, 30, 0).unwrap();
        let value = OrderValue {
            minor: 1250,
            currency: "EUR".into(),
        };
        let mut buf = String::new();
        write_staged(
            &mut buf,
            &StagedRedemption {
                line: 2,
                deal_id: 7,
                member_id: 9,
                kind: DealKind::Coupon,
                coupon_code: Some("A\\B\tC"),
                one_per_member: true,
                redeemed_at: at,
                value: Some(&value),
            },
        );
        write_staged(
            &mut buf,
            &StagedRedemption {
                line: 3,
                deal_id: 8,
                member_id: 9,
                kind: DealKind::Link,
                coupon_code: None,
                one_per_member: false,
                redeemed_at: at,
                value: None,
            },
        );
        assert_eq!(
            buf,
            "2\t7\t9\tcopy_code\tA\\\\B\\tC\tt\t2026-03-01T09:30:00.000000Z\t1250\tEUR\n\
             3\t8\t9\toutbound_click\t\\N\tf\t2026-03-01T09:30:00.000000Z\t\\N\t\\N\n"
        );
    }
}
