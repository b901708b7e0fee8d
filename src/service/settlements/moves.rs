//! The status moves of a settlement: review, approval with its payout-ledger entry, dispute
//! (reversing an approval's entry), payment and the partner's tally, each one conditional
//! move in one transaction with its audit row and event.

use super::totals_json;
use crate::domain::Permission;
use crate::domain::ValidationErrors;
use crate::domain::money::{TOTAL_MAX_MINOR, check_count, parse_amount_up_to};
use crate::domain::settlement::{Discrepancy, Move, NOTE_MAX, REFERENCE_MAX, review_deadline};
use crate::domain::validation::{Lines, check_text};
use crate::error::{Error, Result};
use crate::service::Desk;
use crate::service::record::Change;
use crate::store::{
    self,
    settlements::{NewEntry, Settlement, Update},
};
use chrono::{NaiveDate, Utc};
use serde_json::json;
use sqlx::PgConnection;

impl Desk {
    /// `draft → in_review`: opens the partner's 7-day review window. A statement with
    /// exceptions needs a note that acknowledges them; the period must have ended.
    pub async fn review_settlement(&self, id: i64, note: Option<&str>) -> Result<Settlement> {
        self.actor().require(Permission::ManageSettlements)?;
        let mut tx = self.pool().begin().await?;
        let after = self.review_settlement_in(&mut tx, id, note).await;
        crate::service::finish(tx, after).await
    }

    /// [`Desk::review_settlement`] inside the caller's transaction (which it leaves to the
    /// caller to commit, or to roll back for a dry run).
    pub(crate) async fn review_settlement_in(
        &self,
        tx: &mut PgConnection,
        id: i64,
        note: Option<&str>,
    ) -> Result<Settlement> {
        self.actor().require(Permission::ManageSettlements)?;
        let note = note
            .filter(|n| !n.trim().is_empty())
            .map(|n| check_text("note", n, NOTE_MAX, Lines::Many))
            .transpose()?;
        let before = lock(tx, id).await?;
        Move::Review
            .check(id, before.status)
            .map_err(Error::Refused)?;
        let now = Utc::now();
        let ends = before.period_end.and_time(chrono::NaiveTime::MIN).and_utc();
        if ends > now {
            return Err(Error::Refused(format!(
                "settlement {id}'s period ends {}; a statement goes to review once its period is over",
                before.period_end
            )));
        }
        if before.exception_count > 0 && note.is_none() {
            return Err(Error::field(
                "note",
                format!(
                    "required: {} redemption{} could not be priced (exceptions); say how they are handled",
                    before.exception_count,
                    if before.exception_count == 1 { "" } else { "s" }
                ),
            ));
        }
        let update = Update::Review {
            deadline: review_deadline(now),
            note: note.as_deref(),
        };
        let after =
            store::settlements::apply(tx, id, Move::Review.from(), update, &self.actor().login)
                .await?
                .ok_or_else(|| Error::not_found("settlement", id))?;
        Change::new(self.actor(), "settlement.review", "settlement", id)
            .changed(&before, &after)
            .reason(note.as_deref())
            .event(
                "settlement.in_review",
                json!({ "settlement": totals_json(&after) }),
            )
            .write(tx)
            .await?;
        Ok(after)
    }

    /// `in_review → approved`, exactly once: the move is one conditional statement, and the
    /// approval's payout-ledger entry (the net) is written in the same transaction. A tally
    /// that disagrees with ours needs a note.
    pub async fn approve_settlement(&self, id: i64, note: Option<&str>) -> Result<Settlement> {
        self.actor().require(Permission::ManageSettlements)?;
        let mut tx = self.pool().begin().await?;
        let after = self.approve_settlement_in(&mut tx, id, note).await;
        crate::service::finish(tx, after).await
    }

    /// [`Desk::approve_settlement`] inside the caller's transaction (which it leaves to the
    /// caller to commit, or to roll back for a dry run).
    pub(crate) async fn approve_settlement_in(
        &self,
        tx: &mut PgConnection,
        id: i64,
        note: Option<&str>,
    ) -> Result<Settlement> {
        self.actor().require(Permission::ManageSettlements)?;
        let note = note
            .filter(|n| !n.trim().is_empty())
            .map(|n| check_text("note", n, NOTE_MAX, Lines::Many))
            .transpose()?;
        let before = lock(tx, id).await?;
        Move::Approve
            .check(id, before.status)
            .map_err(Error::Refused)?;
        let d = before
            .tally_count
            .zip(before.tally_amount_minor)
            .map(|t| Discrepancy::of(t, before.redemption_count, before.commission_minor));
        if let Some(d) = d.filter(|d| !d.is_zero())
            && note.is_none()
        {
            return Err(Error::field(
                "note",
                format!(
                    "required: the partner's tally differs from ours by {} redemption(s) and {}; say why it is approved anyway",
                    d.count,
                    crate::domain::money::format_amount(d.amount_minor, &before.currency)
                ),
            ));
        }
        let login = self.actor().login.clone();
        let Some(after) =
            store::settlements::apply(tx, id, Move::Approve.from(), Update::Approve, &login)
                .await?
        else {
            return Err(self.refusal(id, Move::Approve).await);
        };
        let entry = store::settlements::add_entry(
            tx,
            &after,
            NewEntry {
                kind: "approval",
                amount_minor: after.net_minor,
                reverses_id: None,
                reference: None,
                note: note.as_deref(),
            },
            &login,
        )
        .await?;
        Change::new(self.actor(), "settlement.approve", "settlement", id)
            .changed(
                &before,
                &json!({ "settlement": after, "ledger_entry": entry }),
            )
            .reason(note.as_deref())
            .event(
                "settlement.approved",
                json!({ "settlement": totals_json(&after), "ledger_entry": entry.id }),
            )
            .write(tx)
            .await?;
        Ok(after)
    }

    /// `in_review | approved → disputed`, with a reason. Disputing an approved settlement
    /// reverses its approval entry in the ledger (a new entry, never an edit).
    pub async fn dispute_settlement(&self, id: i64, reason: &str) -> Result<Settlement> {
        self.actor().require(Permission::ManageSettlements)?;
        let reason = check_text("reason", reason, NOTE_MAX, Lines::One)?;
        let mut tx = self.pool().begin().await?;
        let before = lock(&mut tx, id).await?;
        Move::Dispute
            .check(id, before.status)
            .map_err(Error::Refused)?;
        self.refuse_in_open_batch(&mut tx, id).await?;
        let login = self.actor().login.clone();
        let after = store::settlements::apply(
            &mut tx,
            id,
            Move::Dispute.from(),
            Update::Dispute { reason: &reason },
            &login,
        )
        .await?
        .ok_or_else(|| Error::not_found("settlement", id))?;
        let mut reversals = Vec::new();
        for e in store::settlements::unreversed(&mut tx, id, "approval").await? {
            let r = store::settlements::add_entry(
                &mut tx,
                &after,
                NewEntry {
                    kind: "reversal",
                    amount_minor: -e.amount_minor,
                    reverses_id: Some(e.id),
                    reference: None,
                    note: Some(&reason),
                },
                &login,
            )
            .await?;
            reversals.push(r);
        }
        Change::new(self.actor(), "settlement.dispute", "settlement", id)
            .changed(
                &before,
                &json!({ "settlement": after, "reversals": reversals }),
            )
            .reason(Some(&reason))
            .event(
                "settlement.disputed",
                json!({ "settlement": totals_json(&after), "reason": reason }),
            )
            .commit(tx)
            .await?;
        Ok(after)
    }

    /// `approved → paid`: the payment's reference and date, and its ledger entry (the net,
    /// settled).
    pub async fn pay_settlement(
        &self,
        id: i64,
        reference: &str,
        paid_on: Option<NaiveDate>,
    ) -> Result<Settlement> {
        self.actor().require(Permission::ManageSettlements)?;
        let mut tx = self.pool().begin().await?;
        let after = self
            .pay_settlement_in(&mut tx, id, reference, paid_on)
            .await;
        crate::service::finish(tx, after).await
    }

    /// [`Desk::pay_settlement`] inside the caller's transaction (which it leaves to the
    /// caller to commit, or to roll back for a dry run).
    pub(crate) async fn pay_settlement_in(
        &self,
        tx: &mut PgConnection,
        id: i64,
        reference: &str,
        paid_on: Option<NaiveDate>,
    ) -> Result<Settlement> {
        self.actor().require(Permission::ManageSettlements)?;
        let reference = check_text("reference", reference, REFERENCE_MAX, Lines::One)?;
        let paid_on = payment_day(paid_on)?;
        let before = lock(tx, id).await?;
        Move::Pay.check(id, before.status).map_err(Error::Refused)?;
        self.refuse_in_open_batch(tx, id).await?;
        if let Some(at) = before.approved_at
            && paid_on < at.date_naive()
        {
            return Err(Error::field(
                "paid-on",
                format!("must be on or after the approval ({})", at.date_naive()),
            ));
        }
        let login = self.actor().login.clone();
        let after = store::settlements::apply(
            tx,
            id,
            Move::Pay.from(),
            Update::Pay {
                paid_on,
                reference: &reference,
            },
            &login,
        )
        .await?
        .ok_or_else(|| Error::not_found("settlement", id))?;
        let entry = store::settlements::add_entry(
            tx,
            &after,
            NewEntry {
                kind: "payment",
                amount_minor: -after.net_minor,
                reverses_id: None,
                reference: Some(&reference),
                note: None,
            },
            &login,
        )
        .await?;
        Change::new(self.actor(), "settlement.pay", "settlement", id)
            .changed(&before, &json!({ "settlement": after, "ledger_entry": entry }))
            .reason(Some(&reference))
            .event("settlement.paid", json!({ "settlement": totals_json(&after), "reference": reference, "paid_on": paid_on }))
            .write(tx)
            .await?;
        Ok(after)
    }

    /// Records the partner's own tally (redemptions and amount, in the settlement's
    /// currency) beside ours; any status but paid.
    pub async fn enter_tally(&self, id: i64, count: i64, amount: &str) -> Result<Settlement> {
        self.actor().require(Permission::ManageSettlements)?;
        let mut tx = self.pool().begin().await?;
        let before = lock(&mut tx, id).await?;
        let mut e = ValidationErrors::new();
        let count = check_count(count, 0).map_err(|r| e.push("count", r)).ok();
        // The partner's amount for the whole statement: at most a statement total.
        let amount_minor = parse_amount_up_to(amount, &before.currency, TOTAL_MAX_MINOR)
            .map_err(|r| e.push("amount", r))
            .ok();
        let (Some(count), Some(amount_minor)) = (count, amount_minor) else {
            return Err(e.into());
        };
        Move::Tally
            .check(id, before.status)
            .map_err(Error::Refused)?;
        let after = store::settlements::apply(
            &mut tx,
            id,
            Move::Tally.from(),
            Update::Tally {
                count,
                amount_minor,
            },
            &self.actor().login,
        )
        .await?
        .ok_or_else(|| Error::not_found("settlement", id))?;
        Change::new(self.actor(), "settlement.tally", "settlement", id)
            .changed(&before, &after)
            .no_event()
            .commit(tx)
            .await?;
        Ok(after)
    }

    /// A statement in an open payout batch moves only with it (the database says so too).
    async fn refuse_in_open_batch(&self, conn: &mut sqlx::PgConnection, id: i64) -> Result<()> {
        match self.open_batch_of(conn, id).await? {
            Some(b) => Err(Error::Refused(format!(
                "settlement {id} is in open payout batch {b}: pay or cancel the batch"
            ))),
            None => Ok(()),
        }
    }

    /// Why a move found no row in the status it needs: gone, or in another status.
    async fn refusal(&self, id: i64, m: Move) -> Error {
        let current = async {
            let mut conn = self.pool().acquire().await?;
            store::settlements::get(&mut conn, id).await
        };
        match current.await {
            Ok(Some(row)) => match m.check(id, row.settlement.status) {
                Err(why) => Error::Refused(why),
                Ok(()) => Error::Refused(format!("settlement {id} changed meanwhile; try again")),
            },
            Ok(None) => Error::not_found("settlement", id),
            Err(e) => e.into(),
        }
    }
}

/// The day a payment was made: the one given (never in the future), else today.
pub(crate) fn payment_day(paid_on: Option<NaiveDate>) -> Result<NaiveDate> {
    let today = Utc::now().date_naive();
    let paid_on = paid_on.unwrap_or(today);
    if paid_on > today {
        return Err(Error::field(
            "paid-on",
            format!("must not be in the future (today is {today})"),
        ));
    }
    Ok(paid_on)
}

async fn lock(conn: &mut sqlx::PgConnection, id: i64) -> Result<Settlement> {
    store::settlements::lock(conn, id)
        .await?
        .ok_or_else(|| Error::not_found("settlement", id))
}
