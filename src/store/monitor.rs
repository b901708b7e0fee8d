//! Queries behind the support monitor: live counts with the last hour per minute, and the
//! signals worth a look.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;

/// Minutes in a sparkline.
pub const SPARK_MINUTES: usize = 60;

#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct MonitorRow {
    pub id: i64,
    pub title: String,
    pub partner_name: String,
    pub state: String,
    pub kind: String,
    pub redemption_cap: Option<i32>,
    pub redemption_count: i32,
    pub published_at: Option<DateTime<Utc>>,
    /// Redemptions per minute over the last hour, oldest first (filled by `last_hour`): one
    /// count per clock minute, the last one being the minute `minute`.
    #[sqlx(skip)]
    pub per_minute: Vec<u64>,
    /// The clock minute (UTC, seconds cut) of the last count of `per_minute`.
    #[sqlx(skip)]
    pub minute: Option<DateTime<Utc>>,
}

/// Which active deals the monitor lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MonitorFilter {
    /// Found (case-insensitively) in the deal's title or its partner's display name; empty
    /// for every deal.
    pub text: String,
    /// Only this deal (a deal that has just become active).
    pub deal_id: Option<i64>,
}

/// `text` as an ILIKE pattern that finds it anywhere (`%` and `_` taken literally).
fn contains_pattern(text: &str) -> String {
    let escaped = text
        .trim()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// Active deals matching `filter`, newest first, after `before_id`.
pub async fn deals(
    conn: &mut PgConnection,
    filter: &MonitorFilter,
    before_id: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<MonitorRow>> {
    let text = filter.text.trim();
    sqlx::query_as(
        "SELECT d.id, d.title, p.display_name AS partner_name, d.state, d.kind, d.redemption_cap,
                d.redemption_count, d.published_at
           FROM deals d JOIN partners p ON p.id = d.partner_id
          WHERE d.state = 'active' AND ($1::bigint IS NULL OR d.id < $1)
            AND ($3::text IS NULL OR d.title ILIKE $3 OR p.display_name ILIKE $3)
            AND ($4::bigint IS NULL OR d.id = $4)
          ORDER BY d.id DESC
          LIMIT $2",
    )
    .bind(before_id)
    .bind(limit)
    .bind((!text.is_empty()).then(|| contains_pattern(text)))
    .bind(filter.deal_id)
    .fetch_all(conn)
    .await
}

/// Fills each row's per-minute counts for the hour up to `now`: one count per clock minute,
/// the last for the minute `now` is in (so far), the first for the minute 59 minutes before.
pub async fn last_hour(
    conn: &mut PgConnection,
    rows: &mut [MonitorRow],
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let counts: Vec<(i64, i32, i64)> = sqlx::query_as(
        "SELECT deal_id,
                (59 - extract(epoch FROM date_trunc('minute', $2) - date_trunc('minute', redeemed_at))::int / 60)
                    AS bucket,
                count(*)
           FROM redemptions
          WHERE deal_id = ANY($1) AND redeemed_at >= date_trunc('minute', $2) - interval '59 minutes'
            AND redeemed_at <= $2
          GROUP BY 1, 2",
    )
    .bind(&ids)
    .bind(now)
    .fetch_all(conn)
    .await?;
    let minute = minute_of(now);
    for r in rows.iter_mut() {
        r.per_minute = vec![0; SPARK_MINUTES];
        r.minute = Some(minute);
    }
    for (deal_id, bucket, n) in counts {
        if let Some(r) = rows.iter_mut().find(|r| r.id == deal_id)
            && let Some(slot) = usize::try_from(bucket)
                .ok()
                .and_then(|b| r.per_minute.get_mut(b))
        {
            *slot = n as u64;
        }
    }
    Ok(())
}

/// The clock minute `t` is in (seconds cut).
pub fn minute_of(t: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::{DurationRound, TimeDelta};
    t.duration_trunc(TimeDelta::minutes(1)).unwrap_or(t)
}

/// Thresholds of the signals (config file `[signals]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// A member with at least this many redemptions…
    pub burst_count: i64,
    /// …within this many minutes.
    pub burst_minutes: i64,
    /// A cap reached within this many minutes of publishing.
    pub cap_exhausted_minutes: i64,
    /// Link deals with at least this many outbound clicks…
    pub clicks_min: i64,
    /// …and fewer confirmed conversions than this percentage of them.
    pub min_conversion_percent: i64,
    /// How far back bursts are looked for.
    pub lookback_days: i64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            burst_count: 5,
            burst_minutes: 10,
            cap_exhausted_minutes: 30,
            clicks_min: 50,
            min_conversion_percent: 10,
            lookback_days: 7,
        }
    }
}

/// One member redeeming in a burst (possible coupon sharing).
#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct Burst {
    pub member_id: i64,
    pub handle: String,
    pub redemptions: i64,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    pub deals: Vec<i64>,
}

pub async fn bursts(
    conn: &mut PgConnection,
    t: &Thresholds,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<Burst>> {
    sqlx::query_as(
        "WITH recent AS (
             SELECT r.member_id, r.redeemed_at,
                    count(*) OVER (PARTITION BY r.member_id ORDER BY r.redeemed_at
                                   RANGE BETWEEN make_interval(mins => $2::int) PRECEDING AND CURRENT ROW) AS in_window
               FROM redemptions r
              WHERE r.redeemed_at > $4 - make_interval(days => $3::int)),
         peak AS (
             SELECT DISTINCT ON (member_id) member_id, redeemed_at AS last_at, in_window
               FROM recent WHERE in_window >= $1
              ORDER BY member_id, in_window DESC, redeemed_at DESC)
         SELECT m.id AS member_id, m.handle, p.in_window AS redemptions,
                min(r.redeemed_at) AS first_at, p.last_at,
                array_agg(DISTINCT r.deal_id ORDER BY r.deal_id) AS deals
           FROM peak p
           JOIN members m ON m.id = p.member_id
           JOIN redemptions r ON r.member_id = p.member_id
                             AND r.redeemed_at >= p.last_at - make_interval(mins => $2::int)
                             AND r.redeemed_at <= p.last_at
          GROUP BY m.id, m.handle, p.in_window, p.last_at
          ORDER BY p.in_window DESC, m.id
          LIMIT 200",
    )
    .bind(t.burst_count)
    .bind(t.burst_minutes)
    .bind(t.lookback_days)
    .bind(now)
    .fetch_all(conn)
    .await
}

/// A cap reached within minutes of publishing (the cap was probably too low).
#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct QuickCap {
    pub deal_id: i64,
    pub title: String,
    pub redemption_cap: i32,
    pub published_at: DateTime<Utc>,
    pub exhausted_at: DateTime<Utc>,
}

pub async fn quick_caps(conn: &mut PgConnection, t: &Thresholds) -> sqlx::Result<Vec<QuickCap>> {
    sqlx::query_as(
        "SELECT d.id AS deal_id, d.title, d.redemption_cap, d.published_at, nth.redeemed_at AS exhausted_at
           FROM deals d
           CROSS JOIN LATERAL (SELECT r.redeemed_at FROM redemptions r WHERE r.deal_id = d.id
                                ORDER BY r.redeemed_at, r.id OFFSET d.redemption_cap - 1 LIMIT 1) nth
          WHERE d.redemption_cap > 1 AND d.redemption_count >= d.redemption_cap
            AND d.published_at IS NOT NULL
            AND nth.redeemed_at - d.published_at < make_interval(mins => $1::int)
          ORDER BY nth.redeemed_at - d.published_at, d.id
          LIMIT 200",
    )
    .bind(t.cap_exhausted_minutes)
    .fetch_all(conn)
    .await
}

/// Many outbound clicks against few confirmed conversions.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct LowConversion {
    pub deal_id: i64,
    pub title: String,
    pub clicks: i32,
    pub confirmed: Option<i32>,
}

pub async fn low_conversions(
    conn: &mut PgConnection,
    t: &Thresholds,
) -> sqlx::Result<Vec<LowConversion>> {
    sqlx::query_as(
        "SELECT d.id AS deal_id, d.title, d.redemption_count AS clicks, c.confirmed
           FROM deals d LEFT JOIN deal_conversions c ON c.deal_id = d.id
          WHERE d.kind = 'link' AND d.redemption_count >= $1
            AND coalesce(c.confirmed, 0) * 100 < d.redemption_count::bigint * $2
          ORDER BY d.redemption_count DESC, d.id
          LIMIT 200",
    )
    .bind(t.clicks_min)
    .bind(t.min_conversion_percent)
    .fetch_all(conn)
    .await
}

/// Records the partner's own count of confirmed conversions for a link deal.
pub async fn set_confirmed(
    conn: &mut PgConnection,
    deal_id: i64,
    confirmed: i32,
    by: &str,
) -> sqlx::Result<Option<i32>> {
    let before: Option<i32> =
        sqlx::query_scalar("SELECT confirmed FROM deal_conversions WHERE deal_id = $1 FOR UPDATE")
            .bind(deal_id)
            .fetch_optional(&mut *conn)
            .await?;
    sqlx::query(
        "INSERT INTO deal_conversions (deal_id, confirmed, entered_by) VALUES ($1, $2, $3)
         ON CONFLICT (deal_id) DO UPDATE SET confirmed = EXCLUDED.confirmed, entered_by = EXCLUDED.entered_by,
                                             entered_at = now()",
    )
    .bind(deal_id)
    .bind(confirmed)
    .bind(by)
    .execute(conn)
    .await?;
    Ok(before)
}
