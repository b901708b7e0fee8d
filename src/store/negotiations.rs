//! Negotiation threads, their messages and their offer revisions.

use crate::domain::negotiation::{OfferTerms, Side, ThreadStatus};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use sqlx::types::Json;

#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct Thread {
    pub id: i64,
    pub partner_id: i64,
    pub deal_id: Option<i64>,
    pub subject: String,
    pub deadline: DateTime<Utc>,
    #[sqlx(try_from = "String")]
    pub status: ThreadStatus,
    #[sqlx(try_from = "String")]
    pub opened_side: Side,
    pub closed_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
    pub version: i32,
}

macro_rules! thread_cols {
    () => {
        "id, partner_id, deal_id, subject, deadline, status, opened_side, closed_reason, \
         created_at, created_by, updated_at, updated_by, version"
    };
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct Message {
    pub id: i64,
    pub thread_id: i64,
    #[sqlx(try_from = "String")]
    pub side: Side,
    pub author: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct Offer {
    pub id: i64,
    pub thread_id: i64,
    pub revision: i32,
    #[sqlx(try_from = "String")]
    pub side: Side,
    pub author: String,
    #[sqlx(json)]
    pub terms: OfferTerms,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// One row of the thread list: the thread with its partner and latest revision.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct ThreadRow {
    pub id: i64,
    pub subject: String,
    pub partner_id: i64,
    pub partner_name: String,
    #[sqlx(try_from = "String")]
    pub status: ThreadStatus,
    pub latest_revision: Option<i32>,
    pub latest_side: Option<String>,
    /// Whose turn it is (the side that did not make the latest revision; without an offer, the
    /// side that opened the thread: it makes the opening offer); none once the thread is final.
    pub turn: Option<String>,
    pub deadline: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What the thread list shows: by status, partner, free text; keyset paged by (updated, id).
#[derive(Debug, Clone, Default)]
pub struct ThreadFilter {
    pub status: Option<ThreadStatus>,
    pub partner_id: Option<i64>,
    pub text: Option<String>,
    /// Rows strictly after this (updated_at, id), newest first.
    pub after: Option<(DateTime<Utc>, i64)>,
}

pub async fn insert_thread(
    conn: &mut PgConnection,
    partner_id: i64,
    deal_id: Option<i64>,
    subject: &str,
    deadline: DateTime<Utc>,
    side: Side,
    by: &str,
) -> sqlx::Result<Thread> {
    sqlx::query_as(concat!(
        "INSERT INTO negotiation_threads (partner_id, deal_id, subject, deadline, opened_side, created_by, updated_by)
         VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING ",
        thread_cols!()
    ))
    .bind(partner_id)
    .bind(deal_id)
    .bind(subject)
    .bind(deadline)
    .bind(side.as_str())
    .bind(by)
    .fetch_one(conn)
    .await
}

pub async fn get_thread(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<Thread>> {
    sqlx::query_as(concat!(
        "SELECT ",
        thread_cols!(),
        " FROM negotiation_threads WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The thread, locked until the transaction ends: every move of a thread takes this lock
/// first, so two moves at once are serialised and the second sees what the first did.
pub async fn lock_thread(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<Thread>> {
    sqlx::query_as(concat!(
        "SELECT ",
        thread_cols!(),
        " FROM negotiation_threads WHERE id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Moves an open thread to `to`, only if it is still open (the conditional update that lets
/// exactly one of two concurrent moves win). `None` when it was no longer open.
pub async fn set_status(
    conn: &mut PgConnection,
    id: i64,
    to: ThreadStatus,
    reason: Option<&str>,
    by: &str,
) -> sqlx::Result<Option<Thread>> {
    sqlx::query_as(concat!(
        "UPDATE negotiation_threads
            SET status = $2, closed_reason = coalesce($3, closed_reason), updated_at = now(),
                updated_by = $4, version = version + 1
          WHERE id = $1 AND status IN ('pending', 'negotiating') RETURNING ",
        thread_cols!()
    ))
    .bind(id)
    .bind(to.as_str())
    .bind(reason)
    .bind(by)
    .fetch_optional(conn)
    .await
}

/// Marks a thread as touched (a message or an offer), moving `pending` to `negotiating` when
/// asked.
pub async fn touch(
    conn: &mut PgConnection,
    id: i64,
    status: ThreadStatus,
    by: &str,
) -> sqlx::Result<Thread> {
    sqlx::query_as(concat!(
        "UPDATE negotiation_threads SET status = $2, updated_at = now(), updated_by = $3,
                version = version + 1 WHERE id = $1 RETURNING ",
        thread_cols!()
    ))
    .bind(id)
    .bind(status.as_str())
    .bind(by)
    .fetch_one(conn)
    .await
}

/// Open threads whose deadline has passed, locked, skipping those another job holds.
pub async fn due_for_expiry(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<Thread>> {
    sqlx::query_as(concat!(
        "SELECT ",
        thread_cols!(),
        " FROM negotiation_threads WHERE status IN ('pending', 'negotiating') AND deadline <= $1
          ORDER BY deadline, id LIMIT $2 FOR UPDATE SKIP LOCKED"
    ))
    .bind(now)
    .bind(limit)
    .fetch_all(conn)
    .await
}

pub async fn list(
    conn: &mut PgConnection,
    f: &ThreadFilter,
    limit: i64,
) -> sqlx::Result<Vec<ThreadRow>> {
    let text = f
        .text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            format!(
                "%{}%",
                t.replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            )
        });
    sqlx::query_as(
        "SELECT t.id, t.subject, t.partner_id, p.display_name AS partner_name, t.status,
                o.revision AS latest_revision, o.side AS latest_side,
                CASE WHEN t.status IN ('pending', 'negotiating') THEN
                     CASE WHEN o.side IS NULL THEN t.opened_side
                          WHEN o.side = 'marketplace' THEN 'partner'
                          ELSE 'marketplace' END END AS turn,
                t.deadline, t.updated_at
           FROM negotiation_threads t
           JOIN partners p ON p.id = t.partner_id
           LEFT JOIN LATERAL (SELECT revision, side FROM negotiation_offers
                               WHERE thread_id = t.id ORDER BY revision DESC LIMIT 1) o ON true
          WHERE ($1::text IS NULL OR t.status = $1)
            AND ($2::bigint IS NULL OR t.partner_id = $2)
            AND ($3::text IS NULL OR t.subject ILIKE $3 OR p.display_name ILIKE $3)
            AND ($4::timestamptz IS NULL OR (t.updated_at, t.id) < ($4, $5))
          ORDER BY t.updated_at DESC, t.id DESC
          LIMIT $6",
    )
    .bind(f.status.map(|s| s.as_str()))
    .bind(f.partner_id)
    .bind(text)
    .bind(f.after.map(|a| a.0))
    .bind(f.after.map(|a| a.1).unwrap_or(0))
    .bind(limit)
    .fetch_all(conn)
    .await
}

pub async fn insert_message(
    conn: &mut PgConnection,
    thread_id: i64,
    side: Side,
    author: &str,
    body: &str,
) -> sqlx::Result<Message> {
    sqlx::query_as(
        "INSERT INTO negotiation_messages (thread_id, side, author, body) VALUES ($1, $2, $3, $4)
         RETURNING id, thread_id, side, author, body, created_at",
    )
    .bind(thread_id)
    .bind(side.as_str())
    .bind(author)
    .bind(body)
    .fetch_one(conn)
    .await
}

pub async fn messages(conn: &mut PgConnection, thread_id: i64) -> sqlx::Result<Vec<Message>> {
    sqlx::query_as(
        "SELECT id, thread_id, side, author, body, created_at FROM negotiation_messages
          WHERE thread_id = $1 ORDER BY id",
    )
    .bind(thread_id)
    .fetch_all(conn)
    .await
}

macro_rules! offer_cols {
    () => {
        "id, thread_id, revision, side, author, terms, note, created_at"
    };
}

/// A new revision, numbered after the latest (the caller holds the thread's lock).
pub async fn insert_offer(
    conn: &mut PgConnection,
    thread_id: i64,
    side: Side,
    author: &str,
    terms: &OfferTerms,
    note: Option<&str>,
) -> sqlx::Result<Offer> {
    sqlx::query_as(concat!(
        "INSERT INTO negotiation_offers (thread_id, revision, side, author, terms, note)
         SELECT $1, coalesce(max(revision), 0) + 1, $2, $3, $4, $5
           FROM negotiation_offers WHERE thread_id = $1
         RETURNING ",
        offer_cols!()
    ))
    .bind(thread_id)
    .bind(side.as_str())
    .bind(author)
    .bind(Json(terms))
    .bind(note)
    .fetch_one(conn)
    .await
}

pub async fn offers(conn: &mut PgConnection, thread_id: i64) -> sqlx::Result<Vec<Offer>> {
    sqlx::query_as(concat!(
        "SELECT ",
        offer_cols!(),
        " FROM negotiation_offers WHERE thread_id = $1 ORDER BY revision"
    ))
    .bind(thread_id)
    .fetch_all(conn)
    .await
}

pub async fn latest_offer(conn: &mut PgConnection, thread_id: i64) -> sqlx::Result<Option<Offer>> {
    sqlx::query_as(concat!(
        "SELECT ",
        offer_cols!(),
        " FROM negotiation_offers WHERE thread_id = $1 ORDER BY revision DESC LIMIT 1"
    ))
    .bind(thread_id)
    .fetch_optional(conn)
    .await
}

/// Moves a thread's deadline (the demo seed's overdue thread; never an operator's path).
pub async fn set_deadline(
    conn: &mut PgConnection,
    id: i64,
    deadline: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE negotiation_threads SET deadline = $2 WHERE id = $1")
        .bind(id)
        .bind(deadline)
        .execute(conn)
        .await?;
    Ok(())
}
