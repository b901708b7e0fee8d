//! Webhook endpoints, deliveries and attempts (SPEC §1.8), and the relay's queries: enqueue
//! new events once per endpoint, claim due deliveries under a lease, record what happened.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgConnection;

/// An endpoint as everyone may see it: never its secrets.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct Endpoint {
    pub id: i64,
    pub url: String,
    /// `None`: every event type.
    pub event_types: Option<Vec<String>>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub failing_since: Option<DateTime<Utc>>,
    /// Until when the previous secret still signs (after a rotation).
    pub previous_expires_at: Option<DateTime<Utc>>,
    pub after_event_id: i64,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
    pub version: i32,
}

/// An endpoint with its deliveries counted by status.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct EndpointRow {
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub endpoint: Endpoint,
    pub pending: i64,
    pub delivered: i64,
    pub failed: i64,
}

/// One event's delivery to one endpoint.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct Delivery {
    pub id: i64,
    pub event_id: i64,
    pub endpoint_id: i64,
    pub event_type: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const ENDPOINT_COLS: &str = "w.id, w.url, w.event_types, w.enabled, w.disabled_reason, \
     w.failing_since, w.previous_expires_at, w.after_event_id, w.created_at, w.created_by, \
     w.updated_at, w.updated_by, w.version";

const DELIVERY_COLS: &str = "d.id, d.event_id, d.endpoint_id, e.event_type, d.status, \
     d.attempts, d.next_attempt_at, d.last_status, d.last_error, d.delivered_at, d.created_at, \
     d.updated_at";

/// A new endpoint, starting after the newest event written so far.
pub async fn insert(
    conn: &mut PgConnection,
    url: &str,
    event_types: Option<&[String]>,
    secret: &str,
    by: &str,
) -> sqlx::Result<Endpoint> {
    let sql = format!(
        "INSERT INTO webhook_endpoints AS w (url, event_types, secret, after_event_id, created_by, updated_by)
         VALUES ($1, $2, $3, (SELECT coalesce(max(id), 0) FROM outbox_events), $4, $4)
         RETURNING {ENDPOINT_COLS}"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(url)
        .bind(event_types)
        .bind(secret)
        .bind(by)
        .fetch_one(conn)
        .await
}

/// One endpoint, locked for a change.
pub async fn get_for_update(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<Endpoint>> {
    let sql = format!("SELECT {ENDPOINT_COLS} FROM webhook_endpoints w WHERE w.id = $1 FOR UPDATE");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Every endpoint, oldest first, with its deliveries counted.
pub async fn list(conn: &mut PgConnection) -> sqlx::Result<Vec<EndpointRow>> {
    let sql = format!(
        "SELECT {ENDPOINT_COLS},
                coalesce(c.pending, 0) AS pending, coalesce(c.delivered, 0) AS delivered,
                coalesce(c.failed, 0) AS failed
           FROM webhook_endpoints w
           LEFT JOIN LATERAL (
                SELECT count(*) FILTER (WHERE d.status IN ('pending', 'delivering')) AS pending,
                       count(*) FILTER (WHERE d.status = 'delivered') AS delivered,
                       count(*) FILTER (WHERE d.status = 'failed') AS failed
                  FROM webhook_deliveries d WHERE d.endpoint_id = w.id) c ON true
          ORDER BY w.id"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(conn)
        .await
}

/// Enables or disables an endpoint (a reason when disabling).
pub async fn set_enabled(
    conn: &mut PgConnection,
    id: i64,
    enabled: bool,
    reason: Option<&str>,
    by: &str,
) -> sqlx::Result<Endpoint> {
    let sql = format!(
        "UPDATE webhook_endpoints w
            SET enabled = $2, disabled_reason = CASE WHEN $2 THEN NULL ELSE $3 END,
                failing_since = CASE WHEN $2 THEN NULL ELSE failing_since END,
                updated_at = now(), updated_by = $4, version = version + 1
          WHERE w.id = $1
         RETURNING {ENDPOINT_COLS}"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(enabled)
        .bind(reason)
        .bind(by)
        .fetch_one(conn)
        .await
}

/// A new secret; the old one keeps signing until `previous_until`.
pub async fn rotate(
    conn: &mut PgConnection,
    id: i64,
    secret: &str,
    previous_until: DateTime<Utc>,
    by: &str,
) -> sqlx::Result<Endpoint> {
    let sql = format!(
        "UPDATE webhook_endpoints w
            SET previous_secret = secret, previous_expires_at = $3, secret = $2,
                updated_at = now(), updated_by = $4, version = version + 1
          WHERE w.id = $1
         RETURNING {ENDPOINT_COLS}"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(secret)
        .bind(previous_until)
        .bind(by)
        .fetch_one(conn)
        .await
}

/// Which deliveries a listing reads: of one endpoint or one event, before a delivery id
/// (the page's cursor), newest first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryFilter {
    pub endpoint_id: Option<i64>,
    pub event_id: Option<i64>,
    pub before_id: Option<i64>,
}

/// Deliveries newest first, as the filter says.
pub async fn deliveries(
    conn: &mut PgConnection,
    filter: DeliveryFilter,
    limit: i64,
) -> sqlx::Result<Vec<Delivery>> {
    let sql = format!(
        "SELECT {DELIVERY_COLS}
           FROM webhook_deliveries d JOIN outbox_events e ON e.id = d.event_id
          WHERE ($1::bigint IS NULL OR d.endpoint_id = $1)
            AND ($2::bigint IS NULL OR d.event_id = $2)
            AND ($3::bigint IS NULL OR d.id < $3)
          ORDER BY d.id DESC
          LIMIT $4"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(filter.endpoint_id)
        .bind(filter.event_id)
        .bind(filter.before_id)
        .bind(limit)
        .fetch_all(conn)
        .await
}

/// One attempt at sending a delivery.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct Attempt {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// The HTTP status; none when no answer came.
    pub status: Option<i32>,
    pub duration_ms: Option<i32>,
    pub error: Option<String>,
}

/// A delivery's attempts, oldest first.
pub async fn attempts(conn: &mut PgConnection, delivery_id: i64) -> sqlx::Result<Vec<Attempt>> {
    sqlx::query_as(
        "SELECT id, at, status, duration_ms, error FROM webhook_attempts
          WHERE delivery_id = $1 ORDER BY id",
    )
    .bind(delivery_id)
    .fetch_all(conn)
    .await
}

/// An event of the outbox, as it is sent.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq)]
pub struct Event {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub event_type: String,
    pub entity_type: String,
    pub entity_id: String,
    pub payload: Value,
}

/// One event of the outbox.
pub async fn event(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<Event>> {
    sqlx::query_as(
        "SELECT id, at, event_type, entity_type, entity_id, payload FROM outbox_events
          WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// One delivery, locked for a change when `lock` says so.
pub async fn delivery(
    conn: &mut PgConnection,
    id: i64,
    lock: bool,
) -> sqlx::Result<Option<Delivery>> {
    let sql = format!(
        "SELECT {DELIVERY_COLS}
           FROM webhook_deliveries d JOIN outbox_events e ON e.id = d.event_id
          WHERE d.id = $1 {}",
        if lock { "FOR UPDATE OF d" } else { "" }
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// The type of an event, if it exists.
pub async fn event_type(conn: &mut PgConnection, event_id: i64) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT event_type FROM outbox_events WHERE id = $1")
        .bind(event_id)
        .fetch_optional(conn)
        .await
}

/// Sends a delivery again from the start of the schedule (not one being sent right now: the
/// caller checks). Wakes the relays.
pub async fn requeue_delivery(conn: &mut PgConnection, id: i64) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE webhook_deliveries
            SET status = 'pending', attempts = 0, next_attempt_at = now(), lease_until = NULL,
                delivered_at = NULL, updated_at = now()
          WHERE id = $1",
    )
    .bind(id)
    .execute(&mut *conn)
    .await?;
    wake(conn).await
}

/// Sends an event again to these endpoints (a delivery row made where there was none);
/// deliveries being sent right now are left alone. The ids of the deliveries queued.
pub async fn requeue_event(
    conn: &mut PgConnection,
    event_id: i64,
    endpoint_ids: &[i64],
) -> sqlx::Result<Vec<i64>> {
    let ids = sqlx::query_scalar(
        "INSERT INTO webhook_deliveries AS d (event_id, endpoint_id)
         SELECT $1, w FROM unnest($2::bigint[]) AS w
         ON CONFLICT (event_id, endpoint_id) DO UPDATE
            SET status = 'pending', attempts = 0, next_attempt_at = now(), lease_until = NULL,
                delivered_at = NULL, updated_at = now()
          WHERE d.status <> 'delivering'
         RETURNING d.id",
    )
    .bind(event_id)
    .bind(endpoint_ids)
    .fetch_all(&mut *conn)
    .await?;
    wake(conn).await?;
    Ok(ids)
}

/// The endpoints an event of this type goes to (enabled or not).
pub async fn subscribed(conn: &mut PgConnection, event_type: &str) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar(
        "SELECT id FROM webhook_endpoints
          WHERE event_types IS NULL OR $1 = ANY (event_types) ORDER BY id",
    )
    .bind(event_type)
    .fetch_all(conn)
    .await
}

/// Wakes every relay (delivered at commit).
pub async fn wake(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_notify('partnerdesk_outbox', 'wake')")
        .execute(conn)
        .await?;
    Ok(())
}

// The relay ---------------------------------------------------------------------------------

/// The channel on which committed events (and replays) wake the relays.
pub const CHANNEL: &str = "partnerdesk_outbox";

/// Makes the missing deliveries of every event since the horizon, once per (event,
/// endpoint) whatever other relays do, then moves the horizon up to the transaction ids
/// that had all finished before the scan began. Autocommit statements, no lock held: a
/// concurrent relay inserting the same rows meets the unique key and skips them. Returns
/// how many deliveries it made.
pub async fn enqueue(conn: &mut PgConnection) -> sqlx::Result<u64> {
    // Every transaction below this id had finished when this statement's snapshot was taken:
    // its events are visible to the next statement, or will never be.
    let (from, upto): (String, String) = sqlx::query_as(
        "SELECT s.horizon::text, pg_snapshot_xmin(pg_current_snapshot())::text
           FROM webhook_relay_state s",
    )
    .fetch_one(&mut *conn)
    .await?;
    let made = sqlx::query(
        "INSERT INTO webhook_deliveries (event_id, endpoint_id)
         SELECT e.id, w.id
           FROM outbox_events e
           JOIN webhook_endpoints w
             ON e.id > w.after_event_id
            AND (w.event_types IS NULL OR e.event_type = ANY (w.event_types))
          WHERE e.xid >= $1::text::xid8
            AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d
                             WHERE d.event_id = e.id AND d.endpoint_id = w.id)
          ORDER BY e.id, w.id
         ON CONFLICT (event_id, endpoint_id) DO NOTHING",
    )
    .bind(&from)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    sqlx::query(
        "UPDATE webhook_relay_state SET horizon = $1::text::xid8 WHERE horizon < $1::text::xid8",
    )
    .bind(&upto)
    .execute(&mut *conn)
    .await?;
    Ok(made)
}

/// A delivery claimed for sending, with what sending needs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    pub delivery_id: i64,
    pub event_id: i64,
    pub endpoint_id: i64,
    /// Attempts so far, this one included.
    pub attempts: i32,
    /// The lease: the relay owns the delivery while this is its lease (a fencing token).
    pub lease_until: DateTime<Utc>,
    /// It was being sent by a relay that stopped without recording an outcome.
    pub lease_expired: bool,
    pub url: String,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_expires_at: Option<DateTime<Utc>>,
    pub event_type: String,
    pub entity_type: String,
    pub entity_id: String,
    pub payload: Value,
    pub at: DateTime<Utc>,
}

/// Claims up to `limit` due deliveries of enabled endpoints (pending and due, or sending
/// under a lease that expired), in one statement: rows another relay holds are skipped, each
/// claimed row gets a lease of `lease_ms` and one more attempt.
pub async fn claim(
    conn: &mut PgConnection,
    limit: i64,
    lease_ms: i64,
) -> sqlx::Result<Vec<Claimed>> {
    let claimed: Vec<Claimed> = sqlx::query_as(
        "WITH c AS (
             SELECT d.id, d.status = 'delivering' AS lease_expired
               FROM webhook_deliveries d
               JOIN webhook_endpoints w ON w.id = d.endpoint_id
              WHERE w.enabled
                AND ((d.status = 'pending' AND d.next_attempt_at <= now())
                  OR (d.status = 'delivering' AND d.lease_until <= now()))
              ORDER BY d.next_attempt_at, d.id
              LIMIT $1
                FOR UPDATE OF d SKIP LOCKED
         ), u AS (
             UPDATE webhook_deliveries d
                SET status = 'delivering', attempts = d.attempts + 1, updated_at = now(),
                    lease_until = clock_timestamp() + $2 * interval '1 millisecond'
               FROM c WHERE d.id = c.id
             RETURNING d.id, d.event_id, d.endpoint_id, d.attempts, d.lease_until, c.lease_expired
         )
         SELECT u.id AS delivery_id, u.event_id, u.endpoint_id, u.attempts, u.lease_until,
                u.lease_expired, w.url, w.secret, w.previous_secret, w.previous_expires_at,
                e.event_type, e.entity_type, e.entity_id, e.payload, e.at
           FROM u
           JOIN webhook_endpoints w ON w.id = u.endpoint_id
           JOIN outbox_events e ON e.id = u.event_id
          ORDER BY u.id",
    )
    .bind(limit)
    .bind(lease_ms)
    .fetch_all(&mut *conn)
    .await?;
    let expired: Vec<i64> = claimed
        .iter()
        .filter(|c| c.lease_expired)
        .map(|c| c.delivery_id)
        .collect();
    if !expired.is_empty() {
        sqlx::query(
            "INSERT INTO webhook_attempts (delivery_id, error)
             SELECT id, 'no outcome: the relay sending it stopped before recording one (its lease expired)'
               FROM unnest($1::bigint[]) AS id",
        )
        .bind(&expired)
        .execute(&mut *conn)
        .await?;
    }
    Ok(claimed)
}

/// When the next delivery of an enabled endpoint falls due, or a lease expires.
pub async fn next_due(conn: &mut PgConnection) -> sqlx::Result<Option<DateTime<Utc>>> {
    sqlx::query_scalar(
        "SELECT min(t) FROM (
             SELECT (SELECT d.next_attempt_at FROM webhook_deliveries d
                      WHERE d.endpoint_id = w.id AND d.status = 'pending'
                      ORDER BY d.next_attempt_at LIMIT 1) AS t
               FROM webhook_endpoints w WHERE w.enabled
             UNION ALL
             SELECT min(lease_until) FROM webhook_deliveries WHERE status = 'delivering'
         ) x",
    )
    .fetch_one(conn)
    .await
}

/// What one attempt came to.
#[derive(Debug, Clone)]
pub struct AttemptResult<'a> {
    pub status: Option<u16>,
    pub duration_ms: i32,
    pub error: Option<&'a str>,
    /// Delivered (2xx).
    pub delivered: bool,
    /// When to try again; `None` (and not delivered): the delivery has failed.
    pub retry_at: Option<DateTime<Utc>>,
}

/// Records an attempt and its outcome, if this relay still holds the lease (another relay
/// may have taken over a delivery whose lease expired: the attempt is recorded all the same).
/// Returns when the endpoint began failing (`None` after a success).
pub async fn finish(
    conn: &mut PgConnection,
    c: &Claimed,
    r: &AttemptResult<'_>,
) -> sqlx::Result<Option<DateTime<Utc>>> {
    let status = r.status.map(i32::from);
    sqlx::query(
        "INSERT INTO webhook_attempts (delivery_id, status, duration_ms, error)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(c.delivery_id)
    .bind(status)
    .bind(r.duration_ms)
    .bind(r.error)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE webhook_deliveries
            SET status = CASE WHEN $2 THEN 'delivered' WHEN $5::timestamptz IS NULL THEN 'failed'
                              ELSE 'pending' END,
                delivered_at = CASE WHEN $2 THEN now() END,
                next_attempt_at = coalesce($5, next_attempt_at),
                lease_until = NULL, last_status = $3, last_error = $4, updated_at = now()
          WHERE id = $1 AND status = 'delivering' AND lease_until = $6",
    )
    .bind(c.delivery_id)
    .bind(r.delivered)
    .bind(status)
    .bind(r.error)
    .bind(r.retry_at)
    .bind(c.lease_until)
    .execute(&mut *conn)
    .await?;
    if r.delivered {
        sqlx::query(
            "UPDATE webhook_endpoints SET failing_since = NULL
              WHERE id = $1 AND failing_since IS NOT NULL",
        )
        .bind(c.endpoint_id)
        .execute(&mut *conn)
        .await?;
        return Ok(None);
    }
    sqlx::query(
        "UPDATE webhook_endpoints SET failing_since = now() WHERE id = $1 AND failing_since IS NULL",
    )
    .bind(c.endpoint_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query_scalar("SELECT failing_since FROM webhook_endpoints WHERE id = $1")
        .bind(c.endpoint_id)
        .fetch_one(conn)
        .await
}
