//! The export of a deal's redemptions as CSV: the filter, the `COPY … TO STDOUT` statement
//! with its values spliced in, the row count for a progress bar and the cancelling of a
//! running export.

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::PgConnection;

/// Whose redemptions an export holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportOf {
    /// One deal's.
    Deal(i64),
    /// One member's, across every deal (the member's history).
    Member(i64),
}

/// What to export: one deal's or one member's redemptions, optionally only those in
/// `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportFilter {
    pub of: ExportOf,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl ExportFilter {
    pub fn deal(deal_id: i64) -> Self {
        Self {
            of: ExportOf::Deal(deal_id),
            from: None,
            to: None,
        }
    }

    pub fn member(member_id: i64) -> Self {
        Self {
            of: ExportOf::Member(member_id),
            from: None,
            to: None,
        }
    }

    /// What the file is named after: `deal-7`, `member-12`.
    pub fn subject(&self) -> String {
        match self.of {
            ExportOf::Deal(id) => format!("deal-{id}"),
            ExportOf::Member(id) => format!("member-{id}"),
        }
    }
}

/// The export's columns, in order (the CSV header).
pub const EXPORT_COLUMNS: [&str; 12] = [
    "redemption_id",
    "deal_id",
    "deal_title",
    "member_id",
    "member_handle",
    "source",
    "coupon_code",
    "redeemed_at",
    "value",
    "currency",
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
    let mut w = match f.of {
        ExportOf::Deal(id) => format!("r.deal_id = {id}"),
        ExportOf::Member(id) => format!("r.member_id = {id}"),
    };
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
/// microseconds, the order value in its currency's units (`12.50`, `1250` for JPY; empty when
/// none was reported).
pub fn export_select(f: &ExportFilter) -> String {
    format!(
        "SELECT r.id AS redemption_id, r.deal_id, d.title AS deal_title, r.member_id, \
         m.handle AS member_handle, r.source, r.coupon_code, \
         to_char(r.redeemed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS redeemed_at, \
         {} AS value, r.currency, \
         r.flag_kind, r.flag_note \
         FROM redemptions r JOIN deals d ON d.id = r.deal_id JOIN members m ON m.id = r.member_id \
         WHERE {} ORDER BY r.redeemed_at, r.id",
        crate::domain::money::sql_decimal("r.value_minor", "r.currency"),
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
pub async fn export_start(conn: &mut PgConnection, of: ExportOf) -> sqlx::Result<(bool, i32)> {
    let (sql, id) = match of {
        ExportOf::Deal(id) => (
            "SELECT EXISTS (SELECT 1 FROM deals WHERE id = $1), pg_backend_pid()",
            id,
        ),
        ExportOf::Member(id) => (
            "SELECT EXISTS (SELECT 1 FROM members WHERE id = $1), pg_backend_pid()",
            id,
        ),
    };
    sqlx::query_as(sql).bind(id).fetch_one(conn).await
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
            of: ExportOf::Deal(42),
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
}
