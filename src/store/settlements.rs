//! Settlements: computing statements in bulk (one statement per agreement and period, every
//! line priced by the database in one pass), their status moves, the partner's tally, the
//! lines, and the append-only payout ledger.

use crate::domain::settlement::{ExceptionKind, LineKind, SettlementStatus};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::{PgConnection, QueryBuilder};

#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct Settlement {
    pub id: i64,
    pub agreement_id: i64,
    pub partner_id: i64,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub currency: String,
    #[sqlx(try_from = "String")]
    pub status: SettlementStatus,
    pub line_count: i32,
    pub redemption_count: i32,
    pub exception_count: i32,
    pub commission_minor: i64,
    pub payouts_minor: i64,
    pub take_minor: i64,
    pub net_minor: i64,
    pub computed_at: DateTime<Utc>,
    pub computed_by: String,
    pub review_deadline: Option<DateTime<Utc>>,
    pub review_note: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
    pub approved_by: Option<String>,
    pub dispute_reason: Option<String>,
    pub paid_on: Option<NaiveDate>,
    pub payment_reference: Option<String>,
    pub tally_count: Option<i32>,
    pub tally_amount_minor: Option<i64>,
    pub tally_by: Option<String>,
    pub tally_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
    pub version: i32,
}

/// A settlement as lists show it: with its partner's name and its agreement's terms.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct SettlementRow {
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub settlement: Settlement,
    pub partner_name: String,
    pub agreement_version: i32,
    pub frequency: String,
    pub model: String,
    pub take_rate_bps: i32,
}

impl SettlementRow {
    /// The keyset cursor: (`period_start`, `id`), newest first.
    pub fn cursor(&self) -> (NaiveDate, i64) {
        (self.settlement.period_start, self.settlement.id)
    }
}

macro_rules! cols {
    ($p:literal) => {
        concat!(
            $p,
            "id, ",
            $p,
            "agreement_id, ",
            $p,
            "partner_id, ",
            $p,
            "period_start, ",
            $p,
            "period_end, ",
            $p,
            "currency, ",
            $p,
            "status, ",
            $p,
            "line_count, ",
            $p,
            "redemption_count, ",
            $p,
            "exception_count, ",
            $p,
            "commission_minor, ",
            $p,
            "payouts_minor, ",
            $p,
            "take_minor, ",
            $p,
            "net_minor, ",
            $p,
            "computed_at, ",
            $p,
            "computed_by, ",
            $p,
            "review_deadline, ",
            $p,
            "review_note, ",
            $p,
            "approved_at, ",
            $p,
            "approved_by, ",
            $p,
            "dispute_reason, ",
            $p,
            "paid_on, ",
            $p,
            "payment_reference, ",
            $p,
            "tally_count, ",
            $p,
            "tally_amount_minor, ",
            $p,
            "tally_by, ",
            $p,
            "tally_at, ",
            $p,
            "updated_at, ",
            $p,
            "updated_by, ",
            $p,
            "version"
        )
    };
}

macro_rules! row_select {
    () => {
        concat!(
            "SELECT ",
            cols!("s."),
            ", p.display_name AS partner_name, a.version AS agreement_version, a.frequency, a.model,
               a.take_rate_bps
               FROM settlements s
               JOIN partners p ON p.id = s.partner_id
               JOIN agreements a ON a.id = s.agreement_id"
        )
    };
}

/// One line of a statement.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct Line {
    pub line_no: i32,
    #[sqlx(try_from = "String")]
    pub kind: LineKind,
    pub redemption_id: Option<i64>,
    /// The referral payout of a `referral` line (or of an exception about one).
    pub payout_id: Option<i64>,
    pub at: DateTime<Utc>,
    pub value_minor: Option<i64>,
    pub currency: Option<String>,
    pub rate_bps: Option<i32>,
    pub amount_minor: Option<i64>,
    #[sqlx(try_from = "Option<String>")]
    pub exception: OptException,
}

/// An optional [`ExceptionKind`] read from a nullable text column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(transparent)]
pub struct OptException(pub Option<ExceptionKind>);

impl TryFrom<Option<String>> for OptException {
    type Error = String;
    fn try_from(v: Option<String>) -> Result<Self, String> {
        v.map(|s| s.parse()).transpose().map(OptException)
    }
}

// Computing ------------------------------------------------------------------------------------

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
    sqlx::query_as(concat!(
        "SELECT ",
        cols!(""),
        " FROM settlements WHERE agreement_id = ANY($1) AND period_start = $2
          ORDER BY id FOR UPDATE"
    ))
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
// Reading --------------------------------------------------------------------------------------

pub async fn get(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<SettlementRow>> {
    sqlx::query_as(concat!(row_select!(), " WHERE s.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

pub async fn get_many(conn: &mut PgConnection, ids: &[i64]) -> sqlx::Result<Vec<Settlement>> {
    sqlx::query_as(concat!(
        "SELECT ",
        cols!(""),
        " FROM settlements WHERE id = ANY($1) ORDER BY id"
    ))
    .bind(ids)
    .fetch_all(conn)
    .await
}

/// Locks one settlement for a status move.
pub async fn lock(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<Settlement>> {
    sqlx::query_as(concat!(
        "SELECT ",
        cols!(""),
        " FROM settlements WHERE id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// What a settlements list may be narrowed to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettlementFilter {
    pub status: Option<SettlementStatus>,
    pub partner_id: Option<i64>,
    /// A word of the partner's name (case-insensitive).
    pub partner_name: Option<String>,
    pub period_start: Option<NaiveDate>,
    pub agreement_id: Option<i64>,
}

/// One page of settlements, newest period first; `before` is the last row's cursor.
pub async fn page(
    conn: &mut PgConnection,
    filter: &SettlementFilter,
    before: Option<(NaiveDate, i64)>,
    limit: i64,
) -> sqlx::Result<Vec<SettlementRow>> {
    let mut q = QueryBuilder::new(concat!(row_select!(), " WHERE true"));
    if let Some(s) = filter.status {
        q.push(" AND s.status = ").push_bind(s.as_str());
    }
    if let Some(p) = filter.partner_id {
        q.push(" AND s.partner_id = ").push_bind(p);
    }
    if let Some(n) = &filter.partner_name {
        q.push(" AND p.display_name ILIKE ")
            .push_bind(format!("%{}%", n.replace(['%', '_', '\\'], "")));
    }
    if let Some(d) = filter.period_start {
        q.push(" AND s.period_start = ").push_bind(d);
    }
    if let Some(a) = filter.agreement_id {
        q.push(" AND s.agreement_id = ").push_bind(a);
    }
    if let Some((d, id)) = before {
        q.push(" AND (s.period_start, s.id) < (")
            .push_bind(d)
            .push(", ")
            .push_bind(id)
            .push(")");
    }
    q.push(" ORDER BY s.period_start DESC, s.id DESC LIMIT ")
        .push_bind(limit);
    q.build_query_as().fetch_all(conn).await
}

/// One page of a statement's lines after `after` (a line number), optionally exceptions only.
pub async fn lines(
    conn: &mut PgConnection,
    settlement_id: i64,
    after: Option<i32>,
    exceptions_only: bool,
    limit: i64,
) -> sqlx::Result<Vec<Line>> {
    sqlx::query_as(
        "SELECT line_no, kind, redemption_id, payout_id, at, value_minor, currency, rate_bps,
                amount_minor, exception
           FROM settlement_lines
          WHERE settlement_id = $1 AND line_no > $2 AND ($3 = false OR kind = 'exception')
          ORDER BY line_no LIMIT $4",
    )
    .bind(settlement_id)
    .bind(after.unwrap_or(0))
    .bind(exceptions_only)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Every line of a statement, streamed in order (for exports and `--json`).
pub fn stream_lines(
    conn: &mut PgConnection,
    settlement_id: i64,
) -> futures::stream::BoxStream<'_, sqlx::Result<Line>> {
    sqlx::query_as(
        "SELECT line_no, kind, redemption_id, payout_id, at, value_minor, currency, rate_bps,
                amount_minor, exception
           FROM settlement_lines WHERE settlement_id = $1 ORDER BY line_no",
    )
    .bind(settlement_id)
    .fetch(conn)
}

/// The partner's commission by period (newest first), at most `limit` periods.
pub async fn history(
    conn: &mut PgConnection,
    partner_id: i64,
    limit: i64,
) -> sqlx::Result<Vec<(NaiveDate, String, i64)>> {
    sqlx::query_as(
        "SELECT period_start, currency, sum(commission_minor)::bigint
           FROM settlements WHERE partner_id = $1
          GROUP BY period_start, currency
          ORDER BY period_start DESC LIMIT $2",
    )
    .bind(partner_id)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Later settlements of a partner that are past draft from `day` on (a new agreement version
/// may not start under them).
pub async fn settled_from(
    conn: &mut PgConnection,
    partner_id: i64,
    day: NaiveDate,
) -> sqlx::Result<Option<Settlement>> {
    sqlx::query_as(concat!(
        "SELECT ",
        cols!(""),
        " FROM settlements WHERE partner_id = $1 AND period_end > $2
            AND status IN ('in_review', 'approved', 'paid')
          ORDER BY period_start LIMIT 1"
    ))
    .bind(partner_id)
    .bind(day)
    .fetch_optional(conn)
    .await
}

// Moves ----------------------------------------------------------------------------------------

/// The status moves, each one conditional statement on the status it starts from, so that of
/// two operators making the same move exactly one succeeds.
pub enum Update<'a> {
    Review {
        deadline: DateTime<Utc>,
        note: Option<&'a str>,
    },
    Approve,
    Dispute {
        reason: &'a str,
    },
    Pay {
        paid_on: NaiveDate,
        reference: &'a str,
    },
    Tally {
        count: i32,
        amount_minor: i64,
    },
}

pub async fn apply(
    conn: &mut PgConnection,
    id: i64,
    from: &[SettlementStatus],
    update: Update<'_>,
    by: &str,
) -> sqlx::Result<Option<Settlement>> {
    let mut q = QueryBuilder::new("UPDATE settlements SET updated_at = now(), updated_by = ");
    q.push_bind(by.to_owned()).push(", version = version + 1");
    match update {
        Update::Review { deadline, note } => {
            q.push(", status = 'in_review', review_deadline = ")
                .push_bind(deadline)
                .push(", review_note = ")
                .push_bind(note.map(str::to_owned));
        }
        Update::Approve => {
            q.push(", status = 'approved', approved_at = now(), approved_by = ")
                .push_bind(by.to_owned());
        }
        Update::Dispute { reason } => {
            q.push(", status = 'disputed', dispute_reason = ")
                .push_bind(reason.to_owned());
        }
        Update::Pay { paid_on, reference } => {
            q.push(", status = 'paid', paid_on = ")
                .push_bind(paid_on)
                .push(", payment_reference = ")
                .push_bind(reference.to_owned());
        }
        Update::Tally {
            count,
            amount_minor,
        } => {
            q.push(", tally_count = ")
                .push_bind(count)
                .push(", tally_amount_minor = ")
                .push_bind(amount_minor)
                .push(", tally_at = now(), tally_by = ")
                .push_bind(by.to_owned());
        }
    }
    let from: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
    q.push(" WHERE id = ")
        .push_bind(id)
        .push(" AND status = ANY(")
        .push_bind(from)
        .push(concat!(") RETURNING ", cols!("")));
    q.build_query_as().fetch_optional(conn).await
}

// The payout ledger ----------------------------------------------------------------------------

#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct LedgerEntry {
    pub id: i64,
    pub partner_id: i64,
    pub settlement_id: Option<i64>,
    pub kind: String,
    pub currency: String,
    pub amount_minor: i64,
    pub reverses_id: Option<i64>,
    pub reference: Option<String>,
    pub note: Option<String>,
    pub at: DateTime<Utc>,
    pub by_login: String,
}

const LEDGER_COLS: &str = "id, partner_id, settlement_id, kind, currency, amount_minor, \
     reverses_id, reference, note, at, by_login";

/// A new ledger entry of a settlement.
pub struct NewEntry<'a> {
    pub kind: &'a str,
    pub amount_minor: i64,
    pub reverses_id: Option<i64>,
    pub reference: Option<&'a str>,
    pub note: Option<&'a str>,
}

pub async fn add_entry(
    conn: &mut PgConnection,
    s: &Settlement,
    e: NewEntry<'_>,
    by: &str,
) -> sqlx::Result<LedgerEntry> {
    let sql = format!(
        "INSERT INTO payout_ledger (partner_id, settlement_id, kind, currency, amount_minor,
                reverses_id, reference, note, by_login)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {LEDGER_COLS}"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(s.partner_id)
        .bind(s.id)
        .bind(e.kind)
        .bind(&s.currency)
        .bind(e.amount_minor)
        .bind(e.reverses_id)
        .bind(e.reference)
        .bind(e.note)
        .bind(by)
        .fetch_one(conn)
        .await
}

/// A settlement's ledger entries, oldest first.
pub async fn entries(
    conn: &mut PgConnection,
    settlement_id: i64,
) -> sqlx::Result<Vec<LedgerEntry>> {
    let sql =
        format!("SELECT {LEDGER_COLS} FROM payout_ledger WHERE settlement_id = $1 ORDER BY id");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(settlement_id)
        .fetch_all(conn)
        .await
}

/// The settlement's entries of `kind` that no later entry reverses.
pub async fn unreversed(
    conn: &mut PgConnection,
    settlement_id: i64,
    kind: &str,
) -> sqlx::Result<Vec<LedgerEntry>> {
    let sql = format!(
        "SELECT {LEDGER_COLS} FROM payout_ledger e
          WHERE settlement_id = $1 AND kind = $2
            AND NOT EXISTS (SELECT 1 FROM payout_ledger r WHERE r.reverses_id = e.id)
          ORDER BY id"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(settlement_id)
        .bind(kind)
        .fetch_all(conn)
        .await
}
