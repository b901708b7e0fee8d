//! The status moves of a settlement, each one conditional statement on the status it starts
//! from.

use super::Settlement;
use crate::domain::settlement::SettlementStatus;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, QueryBuilder};

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
