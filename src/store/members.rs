//! Members, read for audience scoping.

use crate::domain::{Member, MemberRole};
use sqlx::PgConnection;

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    handle: String,
    display_name: String,
    role: String,
    institute_verified: bool,
    batch_year: Option<i32>,
    chapters: Vec<String>,
}

impl Row {
    fn into_member(self) -> Member {
        Member {
            id: self.id,
            handle: self.handle,
            display_name: self.display_name,
            // The CHECK constraint guarantees one of the three.
            role: self.role.parse().unwrap_or(MemberRole::Public),
            institute_verified: self.institute_verified,
            batch_year: self.batch_year,
            chapters: self.chapters,
        }
    }
}

macro_rules! cols {
    () => {
        "id, handle, display_name, role, institute_verified, batch_year, chapters"
    };
}

pub async fn get(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<Member>> {
    let row: Option<Row> =
        sqlx::query_as(concat!("SELECT ", cols!(), " FROM members WHERE id = $1"))
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(row.map(Row::into_member))
}

/// The members among `ids` that exist (one statement, in id order).
pub async fn get_many(conn: &mut PgConnection, ids: &[i64]) -> sqlx::Result<Vec<Member>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<Row> = sqlx::query_as(concat!(
        "SELECT ",
        cols!(),
        " FROM members WHERE id = ANY($1) ORDER BY id"
    ))
    .bind(ids)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(Row::into_member).collect())
}

/// Inserts a member (used by the demo seed and tests; members belong to the platform).
pub async fn insert(
    conn: &mut PgConnection,
    handle: &str,
    display_name: &str,
    role: MemberRole,
    institute_verified: bool,
    batch_year: Option<i32>,
    chapters: &[String],
) -> sqlx::Result<Member> {
    let row: Row = sqlx::query_as(concat!(
        "INSERT INTO members (handle, display_name, role, institute_verified, batch_year, chapters)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING ",
        cols!(),
        ""
    ))
    .bind(handle)
    .bind(display_name)
    .bind(role.as_str())
    .bind(institute_verified)
    .bind(batch_year)
    .bind(chapters)
    .fetch_one(conn)
    .await?;
    Ok(row.into_member())
}

/// Inserts `count` alike members in one statement, with handles `{prefix}-1` … and returns
/// their ids in ascending order (members belong to the platform: used by `simulate` and the
/// benchmarks to create the traffic's members quickly).
pub async fn insert_many(
    conn: &mut PgConnection,
    prefix: &str,
    count: i64,
    role: MemberRole,
    institute_verified: bool,
    batch_year: Option<i32>,
    chapters: &[String],
) -> sqlx::Result<Vec<i64>> {
    let mut ids: Vec<i64> = sqlx::query_scalar(
        "INSERT INTO members (handle, display_name, role, institute_verified, batch_year, chapters)
         SELECT $1 || '-' || n, 'Member ' || $1 || '-' || n, $3, $4, $5, $6
           FROM generate_series(1, $2::bigint) AS n
         RETURNING id",
    )
    .bind(prefix)
    .bind(count)
    .bind(role.as_str())
    .bind(institute_verified)
    .bind(batch_year)
    .bind(chapters)
    .fetch_all(conn)
    .await?;
    ids.sort_unstable();
    Ok(ids)
}
