//! Settlements for finance (SPEC §1.7, issue 13): computing statements (one agreement, one
//! period), the review window, disputes, the partner's tally, approval with its payout-ledger
//! entry, payment, and the statement's lines.
//! The status moves (`moves`) have a file of their own.
mod moves;

pub(crate) use moves::payment_day;

use super::Desk;
use super::record::{Change, write_all};
use crate::domain::Permission;
use crate::domain::settlement::{Discrepancy, Move, Period, SettlementStatus};
use crate::error::{Error, Result};
use crate::store::{
    self,
    agreements::{Agreement, AgreementRow},
    settlements::{LedgerEntry, Line, Settlement, SettlementFilter, SettlementRow},
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
    /// Disputed settlements the computation reset to draft (and computed again).
    pub reset: Vec<Reset>,
}

/// A disputed settlement that computing a period resets to draft.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Reset {
    pub settlement_id: i64,
    pub agreement_id: i64,
    pub period: String,
    /// Why it was disputed.
    pub dispute_reason: Option<String>,
}

impl Reset {
    fn of(s: &Settlement, period: &str) -> Reset {
        Reset {
            settlement_id: s.id,
            agreement_id: s.agreement_id,
            period: period.to_owned(),
            dispute_reason: s.dispute_reason.clone(),
        }
    }

    /// "settlement 11 (agreement 3, 2026-10), disputed: “wrong rate”".
    pub fn text(&self) -> String {
        format!(
            "settlement {} (agreement {}, {}), disputed{}",
            self.settlement_id,
            self.agreement_id,
            self.period,
            self.dispute_reason
                .as_deref()
                .map(|r| format!(": “{r}”"))
                .unwrap_or_default()
        )
    }
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
    /// A statement of adjustments alone: its agreement is no longer in effect for its period
    /// (the version in effect, in another currency, is named).
    pub adjustments_only: Option<Agreement>,
    /// Referral payouts waiting out the holding period at its period's end, with the period
    /// of the statement each is priced on.
    pub held: Vec<HeldPayout>,
}

/// A payout held at a statement's period end, and the period whose statement prices it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct HeldPayout {
    #[serde(flatten)]
    pub payout: store::settlements::Held,
    pub lands: String,
}

impl SettlementView {
    pub fn settlement(&self) -> &Settlement {
        &self.row.settlement
    }

    /// The note given with the standing approval (the latest approval entry that no reversal
    /// undoes): it lives on the ledger entry, beside the review note on the statement.
    pub fn approval_note(&self) -> Option<&str> {
        let reversed: Vec<i64> = self.ledger.iter().filter_map(|e| e.reverses_id).collect();
        self.ledger
            .iter()
            .rev()
            .find(|e| e.kind == "approval" && !reversed.contains(&e.id))
            .and_then(|e| e.note.as_deref())
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
        let report = self.compute(&[a.id], &[], &p).await?;
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
            let orphans =
                store::agreements::adjustments_due(&mut conn, p.frequency, p.start).await?;
            drop(conn);
            if ids.is_empty() && orphans.is_empty() {
                continue;
            }
            let r = self.compute(&ids, &orphans, &p).await?;
            report.computed.extend(r.computed);
            report.skipped.extend(r.skipped);
            report.reset.extend(r.reset);
        }
        Ok(report)
    }

    /// What [`Desk::compute_due`] would reset: the disputed statements of the agreements due
    /// at the close of `period`, for the console's question before it happens. Changes
    /// nothing.
    pub async fn disputed_due(&self, period: &str) -> Result<Vec<Reset>> {
        self.actor().require(Permission::ViewSettlements)?;
        let named = parse_period(period)?;
        let mut conn = self.pool().acquire().await?;
        let mut out = Vec::new();
        for p in named.due_with() {
            let mut ids = store::agreements::due(&mut conn, p.frequency, p.start).await?;
            ids.extend(store::agreements::adjustments_due(&mut conn, p.frequency, p.start).await?);
            if ids.is_empty() {
                continue;
            }
            let label = p.label();
            out.extend(
                store::settlements::of_agreements(&mut conn, &ids, p.start)
                    .await?
                    .into_iter()
                    .filter(|s| s.status == SettlementStatus::Disputed)
                    .map(|s| Reset::of(&s, &label)),
            );
        }
        Ok(out)
    }

    /// The one computation: drafts opened (or reopened), their lines and totals written, an
    /// audit row and an event for each, in one transaction. `orphans` owe a statement of
    /// adjustments alone: each is opened in a savepoint and kept only when it gets a line
    /// (or was there already).
    async fn compute(
        &self,
        agreements: &[i64],
        orphans: &[i64],
        p: &Period,
    ) -> Result<ComputeReport> {
        let login = &self.actor().login;
        let mut tx = self.pool().begin().await?;
        store::settlements::sort_memory(&mut tx).await?;
        let all: Vec<i64> = agreements.iter().chain(orphans).copied().collect();
        let before: HashMap<i64, Settlement> =
            store::settlements::lock_existing(&mut tx, &all, p.start)
                .await?
                .into_iter()
                .map(|s| (s.id, s))
                .collect();
        let holding = store::settings::get(&mut tx, false).await?.holding_days;
        let (from, to) = (p.starts_at(), p.ends_at());
        let mut ids =
            store::settlements::open_drafts(&mut tx, agreements, p.start, p.end, login).await?;
        store::settlements::write_lines(&mut tx, &ids, from, to, holding).await?;
        for &orphan in orphans {
            let mut sp = sqlx::Connection::begin(&mut *tx).await?;
            let got =
                store::settlements::open_drafts(&mut sp, &[orphan], p.start, p.end, login).await?;
            store::settlements::write_lines(&mut sp, &got, from, to, holding).await?;
            let kept = store::settlements::get_many(&mut sp, &got).await?;
            if kept
                .iter()
                .all(|s| s.line_count + s.exception_count == 0 && !before.contains_key(&s.id))
            {
                sp.rollback().await?;
            } else {
                sp.commit().await?;
                ids.extend(got);
            }
        }
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
        let mut reset: Vec<Reset> = before
            .values()
            .filter(|s| s.status == SettlementStatus::Disputed && ids.contains(&s.id))
            .map(|s| Reset::of(s, &label))
            .collect();
        reset.sort_by_key(|r| r.settlement_id);
        Ok(ComputeReport {
            computed,
            skipped,
            reset,
        })
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
        let current = store::agreements::in_effect(&mut conn, s.partner_id, s.period_start)
            .await?
            .filter(|c| c.id != agreement.id);
        let days = store::settings::get(&mut conn, false).await?.holding_days;
        let held = if current.is_none() && days > 0 {
            let end = Period::of(agreement.frequency, s.period_start).ends_at();
            store::settlements::held(&mut conn, s.partner_id, end, days)
                .await?
                .into_iter()
                .map(|payout| {
                    let due = payout.converted_at + chrono::Duration::days(days.into());
                    let lands = Period::of(agreement.frequency, due.date_naive()).label();
                    HeldPayout { payout, lands }
                })
                .collect()
        } else {
            Vec::new()
        };
        Ok(SettlementView {
            period: Period::of(agreement.frequency, s.period_start).label(),
            row,
            agreement,
            discrepancy,
            ledger,
            adjustments_only: current,
            held,
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
pub(crate) fn totals_json(s: &Settlement) -> serde_json::Value {
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
