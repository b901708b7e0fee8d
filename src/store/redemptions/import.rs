//! Importing past redemptions in bulk: the temporary staging table, its rows in COPY's text
//! format, the checks of one-per-member repeats and caps over it, and the writing of the
//! staged rows and the deals' counts.

use super::source_for;
use crate::domain::{DealKind, OrderValue};
use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::PgConnection;

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

/// Staged rows dated into a period whose statement is past draft already, per statement:
/// `(settlement, status, period_start, frequency, partner, currency, rows)`. Those are
/// charged late, as adjustments (a referral-only partner's are never charged).
pub async fn staged_late(
    conn: &mut PgConnection,
) -> sqlx::Result<Vec<(i64, String, chrono::NaiveDate, String, i64, String, i64)>> {
    sqlx::query_as(
        "SELECT s.id, s.status, s.period_start, a.frequency, s.partner_id, s.currency, count(*)
           FROM redemption_import st
           JOIN deals d ON d.id = st.deal_id
           JOIN settlements s ON s.partner_id = d.partner_id
                AND s.period_start <= (st.redeemed_at AT TIME ZONE 'UTC')::date
                AND s.period_end > (st.redeemed_at AT TIME ZONE 'UTC')::date
           JOIN agreements a ON a.id = s.agreement_id
          WHERE s.status IN ('in_review', 'approved', 'paid') AND a.model <> 'referral_only'
          GROUP BY s.id, s.status, s.period_start, a.frequency, s.partner_id, s.currency
          ORDER BY s.id",
    )
    .fetch_all(conn)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

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
