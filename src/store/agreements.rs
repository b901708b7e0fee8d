//! Agreements: a partner's commercial terms by version, each from the first day of a
//! settlement period (SPEC §1.7). Rows are never changed (a trigger refuses it).

use crate::domain::money::Frequency;
use crate::domain::terms::{Commission, ModelKind, Terms};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::{PgConnection, QueryBuilder};

#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct Agreement {
    pub id: i64,
    pub partner_id: i64,
    pub version: i32,
    pub effective_from: NaiveDate,
    pub currency: String,
    #[sqlx(try_from = "String")]
    pub frequency: Frequency,
    pub take_rate_bps: i32,
    #[sqlx(try_from = "String")]
    pub model: ModelKind,
    pub rate_bps: Option<i32>,
    pub amount_minor: Option<i64>,
    pub base_bps: Option<i32>,
    pub bonus_bps: Option<i32>,
    pub bonus_threshold: Option<i32>,
    pub source_offer_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

impl Agreement {
    /// The model with its parameters (the schema guarantees the model's own are set).
    pub fn commission(&self) -> Commission {
        match self.model {
            ModelKind::Percentage => Commission::Percentage {
                rate_bps: self.rate_bps.unwrap_or(0),
            },
            ModelKind::FixedFee => Commission::FixedFee {
                amount_minor: self.amount_minor.unwrap_or(0),
            },
            ModelKind::FlatFee => Commission::FlatFee {
                amount_minor: self.amount_minor.unwrap_or(0),
            },
            ModelKind::Hybrid => Commission::Hybrid {
                base_bps: self.base_bps.unwrap_or(0),
                bonus_bps: self.bonus_bps.unwrap_or(0),
                bonus_threshold: self.bonus_threshold.unwrap_or(1),
            },
            ModelKind::ReferralOnly => Commission::ReferralOnly,
        }
    }
}

/// An agreement as lists show it: with its partner's name.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct AgreementRow {
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub agreement: Agreement,
    pub partner_name: String,
}

const COLS: &str = "a.id, a.partner_id, a.version, a.effective_from, a.currency, a.frequency, \
     a.take_rate_bps, a.model, a.rate_bps, a.amount_minor, a.base_bps, a.bonus_bps, \
     a.bonus_threshold, a.source_offer_id, a.created_at, a.created_by";

/// The partner's next agreement version from these terms. The database numbers it (trigger
/// `agreements_added`, under a lock on the partner's row, so that two versions for one
/// partner are numbered one after the other) and refuses a start that is not a period's
/// first day or that lies under a statement past draft.
pub async fn insert(
    conn: &mut PgConnection,
    partner_id: i64,
    effective_from: NaiveDate,
    terms: &Terms,
    source_offer_id: Option<i64>,
    by: &str,
) -> sqlx::Result<Agreement> {
    let (mut rate, mut amount, mut base, mut bonus, mut threshold) = (None, None, None, None, None);
    match terms.commission {
        Commission::Percentage { rate_bps } => rate = Some(rate_bps),
        Commission::FixedFee { amount_minor } | Commission::FlatFee { amount_minor } => {
            amount = Some(amount_minor)
        }
        Commission::Hybrid {
            base_bps,
            bonus_bps,
            bonus_threshold,
        } => {
            base = Some(base_bps);
            bonus = Some(bonus_bps);
            threshold = Some(bonus_threshold);
        }
        Commission::ReferralOnly => {}
    }
    let sql = format!(
        "INSERT INTO agreements AS a (partner_id, version, effective_from, currency, frequency,
                take_rate_bps, model, rate_bps, amount_minor, base_bps, bonus_bps, bonus_threshold,
                source_offer_id, created_by)
         SELECT $1, coalesce(max(version), 0) + 1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13
           FROM agreements WHERE partner_id = $1
         RETURNING {COLS}"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(partner_id)
        .bind(effective_from)
        .bind(&terms.currency)
        .bind(terms.frequency.as_str())
        .bind(terms.take_rate_bps)
        .bind(terms.commission.kind().as_str())
        .bind(rate)
        .bind(amount)
        .bind(base)
        .bind(bonus)
        .bind(threshold)
        .bind(source_offer_id)
        .bind(by)
        .fetch_one(conn)
        .await
}

/// Every agreement version of a partner, oldest first.
pub async fn of_partner(conn: &mut PgConnection, partner_id: i64) -> sqlx::Result<Vec<Agreement>> {
    let sql = format!("SELECT {COLS} FROM agreements a WHERE a.partner_id = $1 ORDER BY a.version");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(partner_id)
        .fetch_all(conn)
        .await
}

pub async fn get(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<AgreementRow>> {
    let sql = format!(
        "SELECT {COLS}, p.display_name AS partner_name
           FROM agreements a JOIN partners p ON p.id = a.partner_id WHERE a.id = $1"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Agreements, newest first, optionally of one partner; `before` is the last row's id.
pub async fn page(
    conn: &mut PgConnection,
    partner_id: Option<i64>,
    before: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<AgreementRow>> {
    let mut q = QueryBuilder::new(format!(
        "SELECT {COLS}, p.display_name AS partner_name
           FROM agreements a JOIN partners p ON p.id = a.partner_id WHERE true"
    ));
    if let Some(p) = partner_id {
        q.push(" AND a.partner_id = ").push_bind(p);
    }
    if let Some(b) = before {
        q.push(" AND a.id < ").push_bind(b);
    }
    q.push(" ORDER BY a.id DESC LIMIT ").push_bind(limit);
    q.build_query_as().fetch_all(conn).await
}

/// The version of the partner's terms in effect on `day`: the latest effective on or before it.
pub async fn in_effect(
    conn: &mut PgConnection,
    partner_id: i64,
    day: NaiveDate,
) -> sqlx::Result<Option<Agreement>> {
    let sql = format!(
        "SELECT {COLS} FROM agreements a
          WHERE a.partner_id = $1 AND a.effective_from <= $2
          ORDER BY a.effective_from DESC, a.version DESC LIMIT 1"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(partner_id)
        .bind(day)
        .fetch_optional(conn)
        .await
}

/// The agreements settling at `frequency` that owe a statement of adjustments alone for the
/// period starting on `day`: each partner's latest version in a currency no longer in effect
/// (a later version in another currency is), with a statement past draft in that currency
/// before the period — where its reversals, restores and late charges go when no other
/// statement in that currency will come. Computing keeps only those that get a line.
pub async fn adjustments_due(
    conn: &mut PgConnection,
    frequency: Frequency,
    day: NaiveDate,
) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar(
        "SELECT a.id FROM agreements a
          WHERE a.frequency = $1 AND pd_settles_adjustments(a.id, $2)
            AND EXISTS (SELECT FROM settlements s
                         WHERE s.partner_id = a.partner_id AND s.currency = a.currency
                           AND s.period_start < $2
                           AND s.status IN ('in_review', 'approved', 'paid'))
          ORDER BY a.id",
    )
    .bind(frequency.as_str())
    .bind(day)
    .fetch_all(conn)
    .await
}

/// Every partner's agreement in effect on `day` that settles at `frequency`: the agreements
/// due for the period of that frequency starting on `day`.
pub async fn due(
    conn: &mut PgConnection,
    frequency: Frequency,
    day: NaiveDate,
) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar(
        "SELECT id FROM (
             SELECT DISTINCT ON (partner_id) id, frequency FROM agreements
              WHERE effective_from <= $2
              ORDER BY partner_id, effective_from DESC, version DESC
         ) current
          WHERE frequency = $1
          ORDER BY id",
    )
    .bind(frequency.as_str())
    .bind(day)
    .fetch_all(conn)
    .await
}
