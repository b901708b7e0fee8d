//! Payout batches (SPEC §1.7, seed 004's "payouts are a batched derivation"): every approved
//! statement the marketplace owes in one currency, whose partner's waiting sum reaches its
//! minimum and who has payout details in that currency, gathered into one batch; written as
//! a SEPA or CSV file; paid in one step that pays each statement exactly once; or cancelled,
//! freeing its statements. Each use case is one transaction with its audit rows and events.
//! The files have a file of their own (`batches/files.rs`).
mod files;

pub use files::BatchFormat;

use super::Desk;
use super::record::{Change, write_all};
use super::settlements::totals_json;
use crate::domain::Permission;
use crate::domain::money::{currency_exponent, format_amount};
use crate::domain::settlement::{NOTE_MAX, Period};
use crate::domain::validation::{Lines, check_text};
use crate::error::{Error, Result};
use crate::store::{
    self,
    batches::{Batch, Candidate, Item, Waiting},
    settlements::Settlement,
};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;

/// How recent a change of a partner's payout account makes a batch say so and need a note.
pub const CHANGED_ACCOUNT_DAYS: i64 = 14;
/// The longest payment reference of a batch.
pub const BATCH_REFERENCE_MAX: usize = 140;
/// The most rows one page of batches or of a batch's statements returns.
pub const BATCH_PAGE_MAX: i64 = 5000;

/// A statement that goes into the batch.
#[derive(Debug, Clone, Serialize)]
pub struct Included {
    pub settlement_id: i64,
    pub partner_id: i64,
    pub partner_name: String,
    pub period: String,
    pub amount_minor: i64,
    pub iban_masked: String,
}

/// A partner whose statements wait, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Waits {
    pub partner_id: i64,
    pub partner_name: String,
    pub statements: Vec<i64>,
    pub owed_minor: i64,
    /// The first period of the statements that wait.
    pub since: String,
    pub reason: String,
}

/// A partner in the batch whose payout account changed in the last 14 days.
#[derive(Debug, Clone, Serialize)]
pub struct ChangedAccount {
    pub partner_id: i64,
    pub partner_name: String,
    pub changed_at: DateTime<Utc>,
}

/// What a batch of a currency would hold now (the dry run), or holds (its creation).
#[derive(Debug, Clone, Serialize)]
pub struct BatchPlan {
    pub currency: String,
    pub included: Vec<Included>,
    pub total_minor: i64,
    pub waiting: Vec<Waits>,
    pub changed_accounts: Vec<ChangedAccount>,
}

impl BatchPlan {
    /// Sorts the candidates, partner by partner: in when the partner is paid in this
    /// currency and its waiting sum reaches its minimum; otherwise it waits, with why.
    fn of(currency: &str, candidates: Vec<Candidate>, now: DateTime<Utc>) -> BatchPlan {
        let mut plan = BatchPlan {
            currency: currency.to_owned(),
            included: Vec::new(),
            total_minor: 0,
            waiting: Vec::new(),
            changed_accounts: Vec::new(),
        };
        let label = |c: &Candidate| {
            c.frequency
                .parse()
                .map(|f| Period::of(f, c.period_start).label())
                .unwrap_or_else(|_| c.period_start.to_string())
        };
        for group in candidates.chunk_by(|a, b| a.partner_id == b.partner_id) {
            let first = &group[0];
            let owed: i64 = group.iter().map(|c| c.owed_minor).sum();
            let since = label(first);
            let reason = match first.details_currency.as_deref() {
                None => Some("no payout details: finance sets them on the partner".to_owned()),
                Some(c) if c != currency => {
                    Some(format!("its payout details are in {c}, not {currency}"))
                }
                _ if owed < first.minimum_minor => Some(format!(
                    "below its minimum payout: {} of {} ({}), carried since {since}",
                    format_amount(owed, currency),
                    format_amount(first.minimum_minor, currency),
                    if first.own_minimum {
                        "the partner's own"
                    } else {
                        "the currency's"
                    }
                )),
                _ => None,
            };
            if let Some(reason) = reason {
                plan.waiting.push(Waits {
                    partner_id: first.partner_id,
                    partner_name: first.partner_name.clone(),
                    statements: group.iter().map(|c| c.settlement_id).collect(),
                    owed_minor: owed,
                    since,
                    reason,
                });
                continue;
            }
            if let Some(at) = first.account_changed_at
                && at > now - Duration::days(CHANGED_ACCOUNT_DAYS)
            {
                plan.changed_accounts.push(ChangedAccount {
                    partner_id: first.partner_id,
                    partner_name: first.partner_name.clone(),
                    changed_at: at,
                });
            }
            for c in group {
                plan.total_minor += c.owed_minor;
                plan.included.push(Included {
                    settlement_id: c.settlement_id,
                    partner_id: c.partner_id,
                    partner_name: c.partner_name.clone(),
                    period: label(c),
                    amount_minor: c.owed_minor,
                    iban_masked: c
                        .iban
                        .as_deref()
                        .map(crate::domain::payout::mask_iban)
                        .unwrap_or_default(),
                });
            }
        }
        plan
    }

    /// "the payout account of partner 12 (Name) changed on 2026-12-01".
    pub fn changed_text(&self) -> Option<String> {
        if self.changed_accounts.is_empty() {
            return None;
        }
        let names: Vec<String> = self
            .changed_accounts
            .iter()
            .map(|c| {
                format!(
                    "partner {} ({}) on {}",
                    c.partner_id,
                    c.partner_name,
                    c.changed_at.date_naive()
                )
            })
            .collect();
        Some(format!(
            "payout account changed within {CHANGED_ACCOUNT_DAYS} days: {}",
            names.join(", ")
        ))
    }
}

impl Desk {
    /// What a batch of `currency` would hold now, and what waits and why; changes nothing.
    pub async fn plan_batch(&self, currency: &str) -> Result<BatchPlan> {
        self.actor().require(Permission::ManageSettlements)?;
        let currency = check_currency(currency)?;
        let mut conn = self.pool().acquire().await?;
        let candidates = store::batches::candidates(&mut conn, &currency).await?;
        Ok(BatchPlan::of(&currency, candidates, Utc::now()))
    }

    /// Makes the batch of `currency`: every statement the plan includes, in one transaction
    /// (each statement is in at most one batch that is not cancelled: a concurrent batch that
    /// took one first makes this one fail, and nothing is written). A batch paying an account
    /// changed in the last 14 days needs a note.
    pub async fn create_batch(
        &self,
        currency: &str,
        note: Option<&str>,
    ) -> Result<(Batch, BatchPlan)> {
        self.actor().require(Permission::ManageSettlements)?;
        let currency = check_currency(currency)?;
        let note = note
            .filter(|n| !n.trim().is_empty())
            .map(|n| check_text("note", n, NOTE_MAX, Lines::Many))
            .transpose()?;
        let login = self.actor().login.clone();
        let mut tx = self.pool().begin().await?;
        let candidates = store::batches::candidates(&mut tx, &currency).await?;
        let plan = BatchPlan::of(&currency, candidates.clone(), Utc::now());
        if plan.included.is_empty() {
            return Err(Error::Refused(format!(
                "no statement in {currency} is ready to pay{}",
                if plan.waiting.is_empty() {
                    String::new()
                } else {
                    format!(
                        ": {} partner(s) wait (see --dry-run for why)",
                        plan.waiting.len()
                    )
                }
            )));
        }
        if let Some(changed) = plan.changed_text()
            && note.is_none()
        {
            return Err(Error::field(
                "note",
                format!(
                    "required: {changed}; say who confirmed the new account (paying a changed account is the classic payout fraud)"
                ),
            ));
        }
        let batch = store::batches::insert(&mut tx, &currency, note.as_deref(), &login).await?;
        let ids: Vec<i64> = plan.included.iter().map(|i| i.settlement_id).collect();
        let items: Vec<&Candidate> = candidates
            .iter()
            .filter(|c| ids.contains(&c.settlement_id))
            .collect();
        store::batches::add_items(&mut tx, batch.id, &items)
            .await
            .map_err(|e| taken_meanwhile(e, &currency))?;
        let batch = store::batches::get(&mut tx, batch.id)
            .await?
            .ok_or_else(|| Error::not_found("payout batch", batch.id))?;
        Change::new(
            self.actor(),
            "payout_batch.create",
            "payout_batch",
            batch.id,
        )
        .after(&json!({ "batch": batch, "statements": ids }))
        .reason(note.as_deref())
        .event(
            "payout_batch.created",
            json!({ "batch": batch_json(&batch), "statements": ids }),
        )
        .commit(tx)
        .await?;
        Ok((batch, plan))
    }

    /// Batches, newest first.
    pub async fn batches(
        &self,
        status: Option<&str>,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Batch>> {
        self.actor().require(Permission::ViewSettlements)?;
        let mut conn = self.pool().acquire().await?;
        Ok(store::batches::list(&mut conn, status, before, limit.clamp(1, BATCH_PAGE_MAX)).await?)
    }

    pub async fn batch(&self, id: i64) -> Result<Batch> {
        self.actor().require(Permission::ViewSettlements)?;
        let mut conn = self.pool().acquire().await?;
        store::batches::get(&mut conn, id)
            .await?
            .ok_or_else(|| Error::not_found("payout batch", id))
    }

    /// A page of a batch's statements after settlement `after`: the bank details whole for
    /// finance and admin, masked for everyone else.
    pub async fn batch_items(&self, id: i64, after: i64, limit: i64) -> Result<Vec<Item>> {
        self.actor().require(Permission::ViewSettlements)?;
        let whole = self.actor().may(Permission::ManageSettlements);
        let mut conn = self.pool().acquire().await?;
        Ok(
            store::batches::items(&mut conn, id, whole, after, limit.clamp(1, BATCH_PAGE_MAX))
                .await?,
        )
    }

    /// `open → paid`: every statement in it paid with the batch's reference and date, one
    /// payment ledger entry each, in one transaction, exactly once (the batch's move is one
    /// conditional statement: of concurrent attempts one pays, the others are refused).
    pub async fn pay_batch(
        &self,
        id: i64,
        reference: &str,
        paid_on: Option<NaiveDate>,
    ) -> Result<(Batch, Vec<Settlement>)> {
        self.actor().require(Permission::ManageSettlements)?;
        let reference = check_text("reference", reference, BATCH_REFERENCE_MAX, Lines::One)?;
        let paid_on = super::settlements::payment_day(paid_on)?;
        let login = self.actor().login.clone();
        let mut tx = self.pool().begin().await?;
        let Some(batch) =
            store::batches::mark_paid(&mut tx, id, paid_on, &reference, &login).await?
        else {
            drop(tx);
            return Err(self.batch_refusal(id, "paid").await);
        };
        if let Some(at) = store::batches::last_approval(&mut tx, id).await?
            && paid_on < at.date_naive()
        {
            return Err(Error::field(
                "paid-on",
                format!(
                    "must be on or after its statements' last approval ({})",
                    at.date_naive()
                ),
            ));
        }
        let paid = store::settlements::pay_batch(&mut tx, id, paid_on, &reference, &login).await?;
        let mut records = vec![
            Change::new(self.actor(), "payout_batch.pay", "payout_batch", id)
                .after(&batch)
                .reason(Some(&reference))
                .event(
                    "payout_batch.paid",
                    json!({ "batch": batch_json(&batch), "reference": reference, "paid_on": paid_on }),
                ),
        ];
        let batch_note = format!("payout batch {id}");
        records.extend(paid.iter().map(|s| {
            Change::new(self.actor(), "settlement.pay", "settlement", s.id)
                .after(s)
                .reason(Some(&batch_note))
                .event(
                    "settlement.paid",
                    json!({ "settlement": totals_json(s), "reference": reference,
                            "paid_on": paid_on, "batch": id }),
                )
        }));
        write_all(&mut tx, records).await?;
        tx.commit().await?;
        Ok((batch, paid))
    }

    /// `open → cancelled`: its statements are free to join another batch (or be paid or
    /// disputed on their own).
    pub async fn cancel_batch(&self, id: i64, reason: Option<&str>) -> Result<Batch> {
        self.actor().require(Permission::ManageSettlements)?;
        let reason = reason
            .filter(|n| !n.trim().is_empty())
            .map(|n| check_text("reason", n, NOTE_MAX, Lines::One))
            .transpose()?;
        let mut tx = self.pool().begin().await?;
        let Some(batch) = store::batches::cancel(&mut tx, id, &self.actor().login).await? else {
            drop(tx);
            return Err(self.batch_refusal(id, "cancelled").await);
        };
        Change::new(self.actor(), "payout_batch.cancel", "payout_batch", id)
            .after(&batch)
            .reason(reason.as_deref())
            .event(
                "payout_batch.cancelled",
                json!({ "batch": batch_json(&batch), "reason": reason }),
            )
            .commit(tx)
            .await?;
        Ok(batch)
    }

    /// Why a batch could not move: gone, or no longer open.
    async fn batch_refusal(&self, id: i64, to: &str) -> Error {
        let current = async {
            let mut conn = self.pool().acquire().await?;
            store::batches::get(&mut conn, id).await
        };
        match current.await {
            Ok(Some(b)) => Error::Refused(format!(
                "payout batch {id} is {}{}: only an open batch can be {to}",
                b.status,
                match (&b.paid_on, &b.payment_reference) {
                    (Some(on), Some(r)) => format!(" (on {on}, reference {r})"),
                    _ => String::new(),
                }
            )),
            Ok(None) => Error::not_found("payout batch", id),
            Err(e) => e.into(),
        }
    }

    /// What the marketplace owes a partner on approved statements in no batch, by currency:
    /// how much, since which period, and the minimum it waits for.
    pub async fn owed_waiting(&self, partner_id: i64) -> Result<Vec<Waiting>> {
        self.actor().require(Permission::ViewSettlements)?;
        let mut conn = self.pool().acquire().await?;
        Ok(store::batches::waiting(&mut conn, partner_id).await?)
    }

    /// The open batch a statement is in, for the refusal of a move on its own.
    pub(crate) async fn open_batch_of(
        &self,
        conn: &mut sqlx::PgConnection,
        settlement_id: i64,
    ) -> Result<Option<i64>> {
        Ok(store::batches::open_batch_of(conn, settlement_id).await?)
    }
}

fn check_currency(c: &str) -> Result<String> {
    let c = c.trim().to_ascii_uppercase();
    currency_exponent(&c).map_err(|why| Error::field("currency", why))?;
    Ok(c)
}

/// A concurrent batch took a statement first (the unique index): say so.
fn taken_meanwhile(e: sqlx::Error, currency: &str) -> Error {
    let unique = e
        .as_database_error()
        .is_some_and(|d| d.constraint() == Some("payout_batch_items_settlement_key"));
    if unique {
        Error::Refused(format!(
            "another {currency} batch took some of these statements meanwhile; nothing was written (run it again)"
        ))
    } else {
        e.into()
    }
}

/// What an event says of a batch: identity, status and totals; never bank details.
fn batch_json(b: &Batch) -> serde_json::Value {
    json!({
        "id": b.id,
        "currency": b.currency,
        "status": b.status,
        "statements": b.statement_count,
        "total_minor": b.total_minor,
        "changed_accounts": b.changed_accounts,
    })
}
