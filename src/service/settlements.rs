//! Settlements for finance (SPEC §1.7, issue 13): computing statements (one agreement, one
//! period), the review window, disputes, the partner's tally, approval with its payout-ledger
//! entry, payment, and the statement's lines.

use super::Desk;
use super::record::{Change, write_all};
use crate::domain::Permission;
use crate::domain::ValidationErrors;
use crate::domain::money::parse_amount;
use crate::domain::settlement::{
    Discrepancy, Move, NOTE_MAX, Period, REFERENCE_MAX, SettlementStatus, review_deadline,
};
use crate::domain::validation::check_text;
use crate::error::{Error, Result};
use crate::store::{
    self,
    agreements::{Agreement, AgreementRow},
    settlements::{
        LedgerEntry, Line, NewEntry, Settlement, SettlementFilter, SettlementRow, Update,
    },
};
use chrono::{NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;
use std::collections::HashMap;

/// The most rows one page of settlements or lines returns.
pub const PAGE_LIMIT_MAX: i64 = 5000;

/// What a computation did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ComputeReport {
    /// The settlements computed (new drafts and recomputed ones), by id.
    pub computed: Vec<Settlement>,
    /// Settlements left alone because they are past draft: (id, agreement, status).
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub settlement_id: i64,
    pub agreement_id: i64,
    pub period: String,
    pub status: SettlementStatus,
}

/// A settlement with what its detail shows beside it.
#[derive(Debug, Clone, Serialize)]
pub struct SettlementView {
    #[serde(flatten)]
    pub row: SettlementRow,
    pub period: String,
    pub agreement: Agreement,
    /// The partner's tally against ours, once entered.
    pub discrepancy: Option<Discrepancy>,
    pub ledger: Vec<LedgerEntry>,
}

impl SettlementView {
    pub fn settlement(&self) -> &Settlement {
        &self.row.settlement
    }
}

impl Desk {
    /// Computes the statement of one agreement for one period: a new draft, or a draft or
    /// disputed one recomputed (the same lines for the same data). The agreement must be the
    /// partner's version in effect for the period, and the period one of its frequency.
    pub async fn compute_settlement(&self, agreement_id: i64, period: &str) -> Result<Settlement> {
        self.actor().require(Permission::ManageSettlements)?;
        let mut conn = self.pool().acquire().await?;
        let a = store::agreements::get(&mut conn, agreement_id)
            .await?
            .ok_or_else(|| Error::not_found("agreement", agreement_id))?
            .agreement;
        let p = parse_period(period)?;
        if p.frequency != a.frequency {
            return Err(Error::field(
                "period",
                format!(
                    "agreement {agreement_id} settles {}: give a {} such as {}",
                    a.frequency,
                    a.frequency.unit(),
                    Period::of(a.frequency, p.start).label()
                ),
            ));
        }
        refuse_future(&p)?;
        let current = store::agreements::in_effect(&mut conn, a.partner_id, p.start).await?;
        match current {
            Some(c) if c.id == a.id => {}
            Some(c) => {
                return Err(Error::Refused(format!(
                    "agreement {agreement_id} (version {}) is not in effect for {}: version {} (agreement {}) is, from {}",
                    a.version,
                    p.label(),
                    c.version,
                    c.id,
                    c.effective_from
                )));
            }
            None => {
                return Err(Error::Refused(format!(
                    "agreement {agreement_id} takes effect from {}, after the period {}",
                    a.effective_from,
                    p.label()
                )));
            }
        }
        drop(conn);
        let report = self.compute(&[a.id], &p).await?;
        if let Some(s) = report.computed.into_iter().next() {
            return Ok(s);
        }
        let s = report
            .skipped
            .first()
            .ok_or_else(|| Error::not_found("settlement", "new"))?;
        Err(Error::Refused(
            Move::Recompute
                .check(s.settlement_id, s.status)
                .err()
                .unwrap_or_default(),
        ))
    }

    /// Computes every agreement due at the close of `period` (a month also closes the quarter
    /// and the year that end with it): each partner's version in effect for the period, in
    /// one transaction. Settlements past draft are left alone and reported.
    pub async fn compute_due(&self, period: &str) -> Result<ComputeReport> {
        self.actor().require(Permission::ManageSettlements)?;
        let named = parse_period(period)?;
        refuse_future(&named)?;
        let mut report = ComputeReport::default();
        for p in named.due_with() {
            let mut conn = self.pool().acquire().await?;
            let ids = store::agreements::due(&mut conn, p.frequency, p.start).await?;
            drop(conn);
            if ids.is_empty() {
                continue;
            }
            let r = self.compute(&ids, &p).await?;
            report.computed.extend(r.computed);
            report.skipped.extend(r.skipped);
        }
        Ok(report)
    }

    /// The one computation: drafts opened (or reopened), their lines and totals written, an
    /// audit row and an event for each, in one transaction.
    async fn compute(&self, agreements: &[i64], p: &Period) -> Result<ComputeReport> {
        let login = &self.actor().login;
        let mut tx = self.pool().begin().await?;
        store::settlements::sort_memory(&mut tx).await?;
        let before: HashMap<i64, Settlement> =
            store::settlements::lock_existing(&mut tx, agreements, p.start)
                .await?
                .into_iter()
                .map(|s| (s.id, s))
                .collect();
        let ids =
            store::settlements::open_drafts(&mut tx, agreements, p.start, p.end, login).await?;
        store::settlements::write_lines(&mut tx, &ids, p.starts_at(), p.ends_at()).await?;
        let computed = store::settlements::get_many(&mut tx, &ids).await?;
        let label = p.label();
        let skipped: Vec<Skipped> = before
            .values()
            .filter(|s| !ids.contains(&s.id))
            .map(|s| Skipped {
                settlement_id: s.id,
                agreement_id: s.agreement_id,
                period: label.clone(),
                status: s.status,
            })
            .collect();
        let records = computed
            .iter()
            .map(|s| {
                let prior = before.get(&s.id);
                let c = Change::new(self.actor(), "settlement.compute", "settlement", s.id);
                let c = match prior {
                    Some(b) => c.changed(b, s),
                    None => c.after(s),
                };
                c.event(
                    "settlement.computed",
                    json!({ "settlement": totals_json(s), "period": label }),
                )
            })
            .collect();
        write_all(&mut tx, records).await?;
        tx.commit().await?;
        Ok(ComputeReport { computed, skipped })
    }

    pub async fn settlement(&self, id: i64) -> Result<SettlementView> {
        self.actor().require(Permission::ViewSettlements)?;
        let mut conn = self.pool().acquire().await?;
        let row = store::settlements::get(&mut conn, id)
            .await?
            .ok_or_else(|| Error::not_found("settlement", id))?;
        let AgreementRow { agreement, .. } =
            store::agreements::get(&mut conn, row.settlement.agreement_id)
                .await?
                .ok_or_else(|| Error::not_found("agreement", row.settlement.agreement_id))?;
        let ledger = store::settlements::entries(&mut conn, id).await?;
        let s = &row.settlement;
        let discrepancy = s
            .tally_count
            .zip(s.tally_amount_minor)
            .map(|t| Discrepancy::of(t, s.redemption_count, s.commission_minor));
        Ok(SettlementView {
            period: Period::of(agreement.frequency, s.period_start).label(),
            row,
            agreement,
            discrepancy,
            ledger,
        })
    }

    /// One page of settlements, newest period first.
    pub async fn settlements_page(
        &self,
        filter: &SettlementFilter,
        before: Option<(NaiveDate, i64)>,
        limit: i64,
    ) -> Result<Vec<SettlementRow>> {
        self.actor().require(Permission::ViewSettlements)?;
        let mut conn = self.pool().acquire().await?;
        Ok(
            store::settlements::page(&mut conn, filter, before, limit.clamp(1, PAGE_LIMIT_MAX))
                .await?,
        )
    }

    /// One page of a statement's lines after line `after`.
    pub async fn settlement_lines(
        &self,
        id: i64,
        after: Option<i32>,
        exceptions_only: bool,
        limit: i64,
    ) -> Result<Vec<Line>> {
        self.actor().require(Permission::ViewSettlements)?;
        let mut conn = self.pool().acquire().await?;
        Ok(store::settlements::lines(
            &mut conn,
            id,
            after,
            exceptions_only,
            limit.clamp(1, PAGE_LIMIT_MAX),
        )
        .await?)
    }

    /// The partner's commission by period, newest first (the Settlements pane's chart).
    pub async fn settlement_history(
        &self,
        partner_id: i64,
        periods: i64,
    ) -> Result<Vec<(NaiveDate, String, i64)>> {
        self.actor().require(Permission::ViewSettlements)?;
        let mut conn = self.pool().acquire().await?;
        Ok(store::settlements::history(&mut conn, partner_id, periods.clamp(1, 120)).await?)
    }

    /// `draft → in_review`: opens the partner's 7-day review window. A statement with
    /// exceptions needs a note that acknowledges them; the period must have ended.
    pub async fn review_settlement(&self, id: i64, note: Option<&str>) -> Result<Settlement> {
        self.actor().require(Permission::ManageSettlements)?;
        let note = note
            .filter(|n| !n.trim().is_empty())
            .map(|n| check_text("note", n, NOTE_MAX))
            .transpose()?;
        let mut tx = self.pool().begin().await?;
        let before = lock(&mut tx, id).await?;
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
        let after = store::settlements::apply(
            &mut tx,
            id,
            Move::Review.from(),
            update,
            &self.actor().login,
        )
        .await?
        .ok_or_else(|| Error::not_found("settlement", id))?;
        Change::new(self.actor(), "settlement.review", "settlement", id)
            .changed(&before, &after)
            .reason(note.as_deref())
            .event(
                "settlement.in_review",
                json!({ "settlement": totals_json(&after) }),
            )
            .commit(tx)
            .await?;
        Ok(after)
    }

    /// `in_review → approved`, exactly once: the move is one conditional statement, and the
    /// approval's payout-ledger entry (the net) is written in the same transaction. A tally
    /// that disagrees with ours needs a note.
    pub async fn approve_settlement(&self, id: i64, note: Option<&str>) -> Result<Settlement> {
        self.actor().require(Permission::ManageSettlements)?;
        let note = note
            .filter(|n| !n.trim().is_empty())
            .map(|n| check_text("note", n, NOTE_MAX))
            .transpose()?;
        let mut tx = self.pool().begin().await?;
        let before = lock(&mut tx, id).await?;
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
            store::settlements::apply(&mut tx, id, Move::Approve.from(), Update::Approve, &login)
                .await?
        else {
            drop(tx);
            return Err(self.refusal(id, Move::Approve).await);
        };
        let entry = store::settlements::add_entry(
            &mut tx,
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
            .commit(tx)
            .await?;
        Ok(after)
    }

    /// `in_review | approved → disputed`, with a reason. Disputing an approved settlement
    /// reverses its approval entry in the ledger (a new entry, never an edit).
    pub async fn dispute_settlement(&self, id: i64, reason: &str) -> Result<Settlement> {
        self.actor().require(Permission::ManageSettlements)?;
        let reason = check_text("reason", reason, NOTE_MAX)?;
        let mut tx = self.pool().begin().await?;
        let before = lock(&mut tx, id).await?;
        Move::Dispute
            .check(id, before.status)
            .map_err(Error::Refused)?;
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
        let reference = check_text("reference", reference, REFERENCE_MAX)?;
        let today = Utc::now().date_naive();
        let paid_on = paid_on.unwrap_or(today);
        if paid_on > today {
            return Err(Error::field(
                "paid-on",
                format!("must not be in the future (today is {today})"),
            ));
        }
        let mut tx = self.pool().begin().await?;
        let before = lock(&mut tx, id).await?;
        Move::Pay.check(id, before.status).map_err(Error::Refused)?;
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
            &mut tx,
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
            &mut tx,
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
            .commit(tx)
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
        let count = i32::try_from(count)
            .ok()
            .filter(|c| *c >= 0)
            .ok_or_else(|| e.push("count", format!("must be 0 or more (got {count})")))
            .ok();
        let amount_minor = parse_amount(amount, &before.currency)
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

async fn lock(conn: &mut sqlx::PgConnection, id: i64) -> Result<Settlement> {
    store::settlements::lock(conn, id)
        .await?
        .ok_or_else(|| Error::not_found("settlement", id))
}

fn parse_period(text: &str) -> Result<Period> {
    Period::parse(text).map_err(|r| Error::field("period", r))
}

fn refuse_future(p: &Period) -> Result<()> {
    let today = Utc::now().date_naive();
    if p.start > today {
        return Err(Error::field(
            "period",
            format!("{} has not started yet (today is {today})", p.label()),
        ));
    }
    Ok(())
}

/// What an event says of a settlement: its identity, status and totals.
fn totals_json(s: &Settlement) -> serde_json::Value {
    json!({
        "id": s.id,
        "agreement_id": s.agreement_id,
        "partner_id": s.partner_id,
        "period_start": s.period_start,
        "period_end": s.period_end,
        "currency": s.currency,
        "status": s.status,
        "lines": s.line_count,
        "exceptions": s.exception_count,
        "commission_minor": s.commission_minor,
        "payouts_minor": s.payouts_minor,
        "take_minor": s.take_minor,
        "net_minor": s.net_minor,
    })
}
