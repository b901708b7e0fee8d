//! Computing statements in bulk: the drafts of each agreement for a period, opened or
//! reopened, and their lines, every one priced by the database in one pass, then their
//! totals.

use super::Settlement;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;

/// Gives this transaction's sorts the memory to number a million lines without spilling to
/// disk (the default 4 MB spills at about 60,000).
pub async fn sort_memory(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query("SET LOCAL work_mem = '256MB'")
        .execute(conn)
        .await?;
    Ok(())
}

/// The settlements of `agreements` for the period `[start, end)` as they are now, locked:
/// what a recomputation replaces.
pub async fn lock_existing(
    conn: &mut PgConnection,
    agreements: &[i64],
    start: NaiveDate,
) -> sqlx::Result<Vec<Settlement>> {
    existing(conn, agreements, start, "FOR UPDATE").await
}

/// The settlements of these agreements for the period that starts `start`, read only.
pub async fn of_agreements(
    conn: &mut PgConnection,
    agreements: &[i64],
    start: NaiveDate,
) -> sqlx::Result<Vec<Settlement>> {
    existing(conn, agreements, start, "").await
}

/// The settlements of these agreements for the period, by id, with `lock` appended.
async fn existing(
    conn: &mut PgConnection,
    agreements: &[i64],
    start: NaiveDate,
    lock: &str,
) -> sqlx::Result<Vec<Settlement>> {
    let sql = format!(
        "SELECT {} FROM settlements WHERE agreement_id = ANY($1) AND period_start = $2
          ORDER BY id {lock}",
        cols!("")
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(agreements)
        .bind(start)
        .fetch_all(conn)
        .await
}

/// Creates the draft settlement of each agreement for the period, or turns an existing draft
/// or disputed one back into a draft to be recomputed. Settlements in any other status are
/// left alone (and not returned). Returns the ids of the drafts.
pub async fn open_drafts(
    conn: &mut PgConnection,
    agreements: &[i64],
    start: NaiveDate,
    end: NaiveDate,
    by: &str,
) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar(
        "INSERT INTO settlements AS s (agreement_id, partner_id, period_start, period_end,
                currency, computed_by, updated_by)
         SELECT a.id, a.partner_id, $2, $3, a.currency, $4, $4
           FROM agreements a WHERE a.id = ANY($1)
         ON CONFLICT (agreement_id, period_start) DO UPDATE
            SET status = 'draft', computed_at = now(), computed_by = EXCLUDED.computed_by,
                review_deadline = NULL, review_note = NULL, approved_at = NULL,
                approved_by = NULL, dispute_reason = NULL,
                updated_at = now(), updated_by = EXCLUDED.updated_by, version = s.version + 1
          WHERE s.status IN ('draft', 'disputed')
         RETURNING s.id",
    )
    .bind(agreements)
    .bind(start)
    .bind(end)
    .bind(by)
    .fetch_all(conn)
    .await
}

/// Writes the lines of the given drafts (each covering `[from, to)`), replacing any they had,
/// then their totals. Lines are numbered in (`redeemed_at`, id) order over the partner's
/// unflagged redemptions; each amount is rounded once, half away from zero
/// (PostgreSQL's `round(numeric)`), in minor units. A `referral_only` agreement has no
/// redemption lines, only its referral payouts.
pub async fn write_lines(
    conn: &mut PgConnection,
    settlements: &[i64],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM settlement_lines WHERE settlement_id = ANY($1)")
        .bind(settlements)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "WITH src AS (
             SELECT s.id AS sid, a.model, a.rate_bps, a.amount_minor AS fee, a.base_bps,
                    a.bonus_bps, a.bonus_threshold, r.id AS rid, r.redeemed_at,
                    r.value_minor, r.currency,
                    CASE WHEN a.model IN ('percentage', 'hybrid') THEN
                         CASE WHEN r.value_minor IS NULL THEN 'no_value'
                              WHEN r.currency <> a.currency THEN 'other_currency' END
                    END AS exc
               FROM settlements s
               JOIN agreements a ON a.id = s.agreement_id
               JOIN deals d ON d.partner_id = s.partner_id
               JOIN redemptions r ON r.deal_id = d.id
              WHERE s.id = ANY($1)
                AND r.redeemed_at >= $2 AND r.redeemed_at < $3
                AND r.flag_kind IS NULL
                -- a referral-only partner owes nothing on its redemptions: no lines
                AND a.model <> 'referral_only'
         ), numbered AS (
             SELECT src.*,
                    row_number() OVER w AS line_no,
                    -- the redemption's place among the priced ones (hybrid's threshold)
                    row_number() OVER w - count(exc) OVER w AS nth
               FROM src
             WINDOW w AS (PARTITION BY sid ORDER BY redeemed_at, rid
                          ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
         ), rated AS (
             SELECT numbered.*,
                    CASE WHEN exc IS NOT NULL THEN NULL
                         WHEN model = 'percentage' THEN rate_bps
                         WHEN model = 'hybrid' THEN
                              CASE WHEN nth <= bonus_threshold THEN base_bps
                                   ELSE base_bps + bonus_bps END
                    END AS bps
               FROM numbered
         )
         INSERT INTO settlement_lines (settlement_id, line_no, kind, redemption_id, at,
                value_minor, currency, rate_bps, amount_minor, exception)
         SELECT sid, line_no, CASE WHEN exc IS NULL THEN 'redemption' ELSE 'exception' END,
                rid, redeemed_at, value_minor, currency, bps,
                CASE WHEN exc IS NOT NULL THEN NULL
                     WHEN model IN ('percentage', 'hybrid')
                          THEN round(value_minor::numeric * bps / 10000)::bigint
                     WHEN model = 'fixed_fee' THEN fee
                     ELSE 0 END,
                exc
           FROM rated",
    )
    .bind(settlements)
    .bind(from)
    .bind(to)
    .execute(&mut *conn)
    .await?;
    // A flat fee's one line for the period, after the redemptions.
    sqlx::query(
        "INSERT INTO settlement_lines (settlement_id, line_no, kind, at, amount_minor)
         SELECT s.id,
                coalesce((SELECT max(line_no) FROM settlement_lines l WHERE l.settlement_id = s.id), 0) + 1,
                'period_fee', $2, a.amount_minor
           FROM settlements s JOIN agreements a ON a.id = s.agreement_id
          WHERE s.id = ANY($1) AND a.model = 'flat_fee'",
    )
    .bind(settlements)
    .bind(from)
    .execute(&mut *conn)
    .await?;
    // Referral payouts converted in the period: lines the marketplace owes, after the rest
    // (in another currency than the agreement's: an exception).
    sqlx::query(
        "INSERT INTO settlement_lines (settlement_id, line_no, kind, payout_id, at, value_minor,
                currency, rate_bps, amount_minor, exception)
         SELECT s.id,
                base.n + row_number() OVER (PARTITION BY s.id ORDER BY p.converted_at, p.id),
                CASE WHEN p.currency = s.currency THEN 'referral' ELSE 'exception' END,
                p.id, p.converted_at, p.price_minor, p.currency, p.bps,
                CASE WHEN p.currency = s.currency THEN p.amount_minor END,
                CASE WHEN p.currency = s.currency THEN NULL ELSE 'other_currency' END
           FROM settlements s
           JOIN referral_payouts p ON p.partner_id = s.partner_id
                AND p.converted_at >= $2 AND p.converted_at < $3
          CROSS JOIN LATERAL (SELECT coalesce(max(l.line_no), 0) AS n FROM settlement_lines l
                               WHERE l.settlement_id = s.id) base
          WHERE s.id = ANY($1)",
    )
    .bind(settlements)
    .bind(from)
    .bind(to)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE settlements s
            SET line_count = t.lines, redemption_count = t.redemptions,
                exception_count = t.exceptions, commission_minor = t.commission,
                payouts_minor = t.payouts,
                take_minor = round(t.commission::numeric * a.take_rate_bps / 10000)::bigint,
                net_minor = t.commission - t.payouts
           FROM agreements a,
                (SELECT x.id,
                        count(l.line_no) FILTER (WHERE l.kind <> 'exception') AS lines,
                        count(l.line_no) FILTER (WHERE l.kind = 'redemption') AS redemptions,
                        count(l.line_no) FILTER (WHERE l.kind = 'exception') AS exceptions,
                        coalesce(sum(l.amount_minor) FILTER (WHERE l.kind IN ('redemption', 'period_fee')), 0)::bigint
                            AS commission,
                        coalesce(sum(l.amount_minor) FILTER (WHERE l.kind = 'referral'), 0)::bigint
                            AS payouts
                   FROM unnest($1::bigint[]) AS x(id)
                   LEFT JOIN settlement_lines l ON l.settlement_id = x.id
                  GROUP BY x.id) t
          WHERE s.id = t.id AND a.id = s.agreement_id",
    )
    .bind(settlements)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
