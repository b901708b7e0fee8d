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
/// redemption lines, only its referral payouts: those converted more than `holding_days`
/// before the period's end and after the previous period's hold, `[from − H, to − H)`.
/// A statement of an agreement no longer in effect (a statement of adjustments alone) has
/// only adjustment lines.
pub async fn write_lines(
    conn: &mut PgConnection,
    settlements: &[i64],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    holding_days: i32,
) -> sqlx::Result<()> {
    // The drafts of versions in effect for their periods: the others (statements of
    // adjustments alone) get no lines of their own period. Asked once, not per line.
    let own: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM settlements WHERE id = ANY($1) AND pd_in_effect(agreement_id, period_start)",
    )
    .bind(settlements)
    .fetch_all(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM settlement_lines WHERE settlement_id = ANY($1)")
        .bind(settlements)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "WITH adj AS (
             -- what adjustments on other statements count of a redemption (charge and
             -- restore +1, reversal -1): a source counts once over every statement
             SELECT redemption_id AS rid,
                    sum(CASE WHEN counts = 'reversal' THEN -1 ELSE 1 END) AS ce
               FROM settlement_lines
              WHERE kind = 'adjustment' AND redemption_id IS NOT NULL
                AND NOT (settlement_id = ANY($1))
              GROUP BY redemption_id
         ), src AS (
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
               LEFT JOIN adj ON adj.rid = r.id
              WHERE s.id = ANY($1)
                AND r.redeemed_at >= $2 AND r.redeemed_at < $3
                -- counted here when it should count (not flagged, not refunded) once more
                -- than adjustments elsewhere already count it
                AND (CASE WHEN r.flag_kind IS NULL AND r.refunded_at IS NULL THEN 1 ELSE 0 END)
                    - coalesce(adj.ce, 0) >= 1
                -- a referral-only partner owes nothing on its redemptions: no lines
                AND a.model <> 'referral_only'
                AND s.id = ANY($4)
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
    .bind(&own)
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
    .bind(&own)
    .bind(from)
    .execute(&mut *conn)
    .await?;
    // Referral payouts converted in the period shifted by the holding period: lines the
    // marketplace owes, after the rest (in another currency than the agreement's: an
    // exception). One counted on another statement already (the holding period changed in
    // between) is not counted again.
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
                AND p.converted_at >= $2 - make_interval(days => $4)
                AND p.converted_at < $3 - make_interval(days => $4)
           LEFT JOIN LATERAL (SELECT sum(CASE WHEN l.counts = 'reversal' THEN -1 ELSE 1 END) AS ce
                                FROM settlement_lines l
                               WHERE l.payout_id = p.id AND l.kind IN ('referral', 'adjustment')
                                 AND NOT (l.settlement_id = ANY($1))) adj ON true
          CROSS JOIN LATERAL (SELECT coalesce(max(l.line_no), 0) AS n FROM settlement_lines l
                               WHERE l.settlement_id = s.id) base
          WHERE s.id = ANY($5)
            AND (CASE WHEN p.reversed_at IS NULL THEN 1 ELSE 0 END) - coalesce(adj.ce, 0) >= 1",
    )
    .bind(settlements)
    .bind(from)
    .bind(to)
    .bind(holding_days)
    .bind(&own)
    .execute(&mut *conn)
    .await?;
    write_adjustments(conn, settlements).await?;
    write_late(conn, settlements, holding_days).await?;
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
                        coalesce(sum(l.amount_minor) FILTER (
                            WHERE l.kind IN ('redemption', 'period_fee')
                               OR (l.kind = 'adjustment' AND l.redemption_id IS NOT NULL)), 0)::bigint
                            AS commission,
                        coalesce(sum(l.amount_minor) FILTER (
                            WHERE l.kind = 'referral'
                               OR (l.kind = 'adjustment' AND l.payout_id IS NOT NULL)), 0)::bigint
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

/// The drafts' adjustment lines, after their own lines: every source (a redemption or a
/// referral payout) charged on an earlier statement of the partner in the draft's currency and
/// counted on one past draft, whose count over the other statements no longer says what it should
/// — flagged or refunded (a reversal: the negative of what it was charged), unflagged after
/// its reversal (a restore: what it was charged again). Each names the statement it comes
/// from and why; at most one of each kind per source (the database's unique key).
async fn write_adjustments(conn: &mut PgConnection, settlements: &[i64]) -> sqlx::Result<()> {
    sqlx::query(
        "WITH d AS (
             SELECT id, partner_id, currency, period_start FROM settlements WHERE id = ANY($1)
         ), charged AS (
             -- redemptions whose flag or refund changed, with the line that charged them
             SELECT d.id AS sid, r.id AS rid, NULL::bigint AS pid, r.redeemed_at AS at,
                    (r.flag_kind IS NULL AND r.refunded_at IS NULL) AS should,
                    CASE WHEN r.refunded_at IS NOT NULL THEN 'refund of redemption ' || r.id
                         WHEN r.flag_kind IS NOT NULL
                              THEN 'flagged (' || r.flag_kind || ') after its statement closed: redemption ' || r.id
                         ELSE 'unflagged after its reversal: redemption ' || r.id END AS why,
                    ch.settlement_id AS origin, ch.amount_minor AS charged, ch.value_minor,
                    ch.currency AS vcur, ch.rate_bps
               FROM d
               JOIN deals dl ON dl.partner_id = d.partner_id
               JOIN redemptions r ON r.deal_id = dl.id AND r.counted_change_at IS NOT NULL
               JOIN settlement_lines ch ON ch.redemption_id = r.id
                    AND ch.kind IN ('redemption', 'adjustment') AND coalesce(ch.counts, 'charge') = 'charge'
               JOIN settlements h ON h.id = ch.settlement_id
              WHERE h.id <> d.id AND h.currency = d.currency AND h.period_start < d.period_start
                -- counted on a statement past draft (else the drafts' own computing settles it)
                AND EXISTS (SELECT FROM settlement_lines l JOIN settlements c ON c.id = l.settlement_id
                             WHERE l.redemption_id = r.id AND l.kind IN ('redemption', 'adjustment')
                               AND c.id <> d.id AND c.status IN ('in_review', 'approved', 'paid'))
             UNION ALL
             -- referral payouts reversed (their subscription refunded)
             SELECT d.id, NULL, p.id, p.converted_at, p.reversed_at IS NULL,
                    'subscription refunded: referral payout ' || p.id,
                    ch.settlement_id, ch.amount_minor, ch.value_minor, ch.currency, ch.rate_bps
               FROM d
               JOIN referral_payouts p ON p.partner_id = d.partner_id AND p.reversed_at IS NOT NULL
               JOIN settlement_lines ch ON ch.payout_id = p.id
                    AND ch.kind IN ('referral', 'adjustment') AND coalesce(ch.counts, 'charge') = 'charge'
               JOIN settlements h ON h.id = ch.settlement_id
              WHERE h.id <> d.id AND h.currency = d.currency AND h.period_start < d.period_start
                AND EXISTS (SELECT FROM settlement_lines l JOIN settlements c ON c.id = l.settlement_id
                             WHERE l.payout_id = p.id AND l.kind IN ('referral', 'adjustment')
                               AND c.id <> d.id AND c.status IN ('in_review', 'approved', 'paid'))
         ), delta AS (
             SELECT c.*,
                    -- (each source's lines read through its own index: a redemption's or a
                    -- payout's)
                    (CASE WHEN c.should THEN 1 ELSE 0 END) - CASE WHEN c.rid IS NOT NULL THEN (
                        SELECT coalesce(sum(CASE WHEN l.counts = 'reversal' THEN -1 ELSE 1 END), 0)
                          FROM settlement_lines l
                         WHERE l.redemption_id = c.rid AND l.kind IN ('redemption', 'adjustment')
                           AND l.settlement_id <> c.sid)
                    ELSE (
                        SELECT coalesce(sum(CASE WHEN l.counts = 'reversal' THEN -1 ELSE 1 END), 0)
                          FROM settlement_lines l
                         WHERE l.payout_id = c.pid AND l.kind IN ('referral', 'adjustment')
                           AND l.settlement_id <> c.sid) END AS want
               FROM charged c
         ), adjust AS (
             SELECT delta.*, CASE WHEN want < 0 THEN 'reversal' ELSE 'restore' END AS counts
               FROM delta WHERE want <> 0
         )
         INSERT INTO settlement_lines (settlement_id, line_no, kind, redemption_id, payout_id, at,
                value_minor, currency, rate_bps, amount_minor, counts, origin_settlement_id, reason)
         SELECT a.sid,
                base.n + row_number() OVER (PARTITION BY a.sid ORDER BY a.at, a.rid, a.pid),
                'adjustment', a.rid, a.pid, a.at, a.value_minor, a.vcur, a.rate_bps,
                CASE WHEN a.counts = 'reversal' THEN -a.charged ELSE a.charged END,
                a.counts, a.origin,
                a.why || ' of ' || to_char(a.at AT TIME ZONE 'UTC', 'YYYY-MM-DD')
                    || ' (settlement ' || a.origin || ')'
           FROM adjust a
          CROSS JOIN LATERAL (SELECT coalesce(max(l.line_no), 0) AS n FROM settlement_lines l
                               WHERE l.settlement_id = a.sid) base
          -- at most one of each kind per source, ever
          WHERE NOT EXISTS (SELECT FROM settlement_lines x
                             WHERE x.kind = 'adjustment' AND x.counts = a.counts
                               AND ((a.rid IS NOT NULL AND x.redemption_id = a.rid)
                                    OR (a.pid IS NOT NULL AND x.payout_id = a.pid)))",
    )
    .bind(settlements)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Late data: a redemption or a referral payout recorded after its time into an earlier
/// period whose statement is past draft, and on no statement yet, is charged once on the
/// draft, priced by its own period's agreement — a hybrid's late redemption takes the next
/// place after everything its period has counted (its statement's priced lines and its earlier
/// late charges), in time order among those arriving together. One it cannot price (no value,
/// another currency) is listed as an exception, once.
async fn write_late(
    conn: &mut PgConnection,
    settlements: &[i64],
    holding_days: i32,
) -> sqlx::Result<()> {
    sqlx::query(
        "WITH homes AS (
             SELECT d.id AS sid, d.partner_id, d.currency, h.id AS hid, h.period_start,
                    h.period_end, a.model, a.rate_bps, a.amount_minor AS fee, a.base_bps,
                    a.bonus_bps, a.bonus_threshold
               FROM settlements d
               JOIN settlements h ON h.partner_id = d.partner_id AND h.currency = d.currency
                    AND h.id <> d.id AND h.period_start < d.period_start
                    AND h.status IN ('in_review', 'approved', 'paid')
               JOIN agreements a ON a.id = h.agreement_id
              WHERE d.id = ANY($1)
         ), late AS (
             SELECT ho.*, r.id AS rid, r.redeemed_at AS at, r.value_minor, r.currency AS vcur,
                    CASE WHEN ho.model IN ('percentage', 'hybrid') THEN
                         CASE WHEN r.value_minor IS NULL THEN 'no_value'
                              WHEN r.currency <> ho.currency THEN 'other_currency' END
                    END AS exc
               FROM homes ho
               JOIN deals dl ON dl.partner_id = ho.partner_id
               JOIN redemptions r ON r.deal_id = dl.id
                    AND r.recorded_at - r.redeemed_at > interval '1 minute'
                    AND r.redeemed_at >= ho.period_start AND r.redeemed_at < ho.period_end
              WHERE ho.model <> 'referral_only'
                AND r.flag_kind IS NULL AND r.refunded_at IS NULL
                AND NOT EXISTS (SELECT FROM settlement_lines l WHERE l.redemption_id = r.id
                                   AND l.kind IN ('redemption', 'adjustment'))
                AND NOT EXISTS (SELECT FROM settlement_lines l WHERE l.redemption_id = r.id
                                   AND l.kind = 'exception')
         ), placed AS (
             SELECT late.*,
                    -- its place among the period's priced redemptions (hybrid's threshold)
                    (SELECT count(*) FROM settlement_lines l
                      WHERE l.settlement_id = late.hid AND l.kind = 'redemption')
                    + (SELECT count(*) FROM settlement_lines l
                        WHERE l.kind = 'adjustment' AND l.counts = 'charge'
                          AND l.origin_settlement_id = late.hid AND l.redemption_id IS NOT NULL)
                    + count(*) FILTER (WHERE exc IS NULL) OVER w AS nth
               FROM late
             WINDOW w AS (PARTITION BY sid, hid ORDER BY at, rid
                          ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
         ), priced AS (
             SELECT placed.*,
                    CASE WHEN exc IS NOT NULL THEN NULL
                         WHEN model = 'percentage' THEN rate_bps
                         WHEN model = 'hybrid' THEN
                              CASE WHEN nth <= bonus_threshold THEN base_bps
                                   ELSE base_bps + bonus_bps END
                    END AS bps
               FROM placed
         ), lines AS (
             SELECT sid, hid, rid, NULL::bigint AS pid, at, value_minor, vcur, bps, exc,
                    CASE WHEN exc IS NOT NULL THEN NULL
                         WHEN model IN ('percentage', 'hybrid')
                              THEN round(value_minor::numeric * bps / 10000)::bigint
                         WHEN model = 'fixed_fee' THEN fee
                         ELSE 0 END AS amount,
                    'late redemption ' || rid AS why
               FROM priced
             UNION ALL
             SELECT ho.sid, ho.hid, NULL, p.id, p.converted_at, p.price_minor, p.currency, p.bps,
                    CASE WHEN p.currency <> ho.currency THEN 'other_currency' END,
                    CASE WHEN p.currency = ho.currency THEN p.amount_minor END,
                    'late referral payout ' || p.id
               FROM homes ho
               -- a payout's period is its conversion's shifted by the holding period; any
               -- there on no statement is late, however it came to be
               JOIN referral_payouts p ON p.partner_id = ho.partner_id
                    AND p.converted_at >= ho.period_start - make_interval(days => $2)
                    AND p.converted_at < ho.period_end - make_interval(days => $2)
              WHERE p.reversed_at IS NULL
                AND NOT EXISTS (SELECT FROM settlement_lines l WHERE l.payout_id = p.id
                                   AND l.kind IN ('referral', 'adjustment'))
                AND NOT EXISTS (SELECT FROM settlement_lines l WHERE l.payout_id = p.id
                                   AND l.kind = 'exception')
         )
         INSERT INTO settlement_lines (settlement_id, line_no, kind, redemption_id, payout_id, at,
                value_minor, currency, rate_bps, amount_minor, exception, counts,
                origin_settlement_id, reason)
         SELECT x.sid,
                base.n + row_number() OVER (PARTITION BY x.sid ORDER BY x.at, x.rid, x.pid),
                CASE WHEN x.exc IS NULL THEN 'adjustment' ELSE 'exception' END,
                x.rid, x.pid, x.at, x.value_minor, x.vcur, x.bps, x.amount, x.exc,
                CASE WHEN x.exc IS NULL THEN 'charge' END,
                CASE WHEN x.exc IS NULL THEN x.hid END,
                CASE WHEN x.exc IS NULL THEN x.why || ' of '
                     || to_char(x.at AT TIME ZONE 'UTC', 'YYYY-MM-DD') || ' (settlement ' || x.hid || ')' END
           FROM lines x
          CROSS JOIN LATERAL (SELECT coalesce(max(l.line_no), 0) AS n FROM settlement_lines l
                               WHERE l.settlement_id = x.sid) base",
    )
    .bind(settlements)
    .bind(holding_days)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A referral payout waiting out the holding period: converted less than that before the
/// statement's period end, on no statement yet.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, PartialEq, Eq)]
pub struct Held {
    pub payout_id: i64,
    pub converted_at: DateTime<Utc>,
    pub amount_minor: i64,
    pub currency: String,
}

/// The partner's payouts held at the end of a period ending `to`: converted in
/// `[to − holding_days, to)`, not reversed, on no statement.
pub async fn held(
    conn: &mut PgConnection,
    partner_id: i64,
    to: DateTime<Utc>,
    holding_days: i32,
) -> sqlx::Result<Vec<Held>> {
    sqlx::query_as(
        "SELECT p.id AS payout_id, p.converted_at, p.amount_minor, p.currency
           FROM referral_payouts p
          WHERE p.partner_id = $1 AND p.reversed_at IS NULL
            AND p.converted_at >= $2 - make_interval(days => $3) AND p.converted_at < $2
            AND NOT EXISTS (SELECT FROM settlement_lines l WHERE l.payout_id = p.id)
          ORDER BY p.converted_at, p.id",
    )
    .bind(partner_id)
    .bind(to)
    .bind(holding_days)
    .fetch_all(conn)
    .await
}
