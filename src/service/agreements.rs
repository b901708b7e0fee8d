//! Agreements (SPEC §1.7): a partner's commercial terms by version, added by finance or a
//! curator (an accepted negotiation adds one too), each effective from a period's first day.

use super::Desk;
use super::record::Change;
use crate::domain::terms::TermsDraft;
use crate::domain::{Permission, ValidationErrors};
use crate::error::{Error, Result};
use crate::store::{
    self,
    agreements::{Agreement, AgreementRow},
};
use chrono::NaiveDate;
use serde_json::json;

/// The most rows one page of agreements returns.
pub const PAGE_LIMIT_MAX: i64 = 1000;

impl Desk {
    /// Adds the partner's next agreement version: the terms' rules, a start that is the first
    /// day of a period of the agreement's frequency, and no settlement past draft from then
    /// on (a settlement keeps the version it was reviewed under).
    pub async fn add_agreement(
        &self,
        partner_id: i64,
        draft: &TermsDraft,
        effective_from: NaiveDate,
    ) -> Result<Agreement> {
        self.require_agreement_author()?;
        let terms = draft.validate()?;
        let start = terms.frequency.period_start(effective_from);
        if start != effective_from {
            let mut e = ValidationErrors::new();
            e.push(
                "from",
                format!(
                    "must be the first day of a {} period, such as {start} or {}",
                    terms.frequency,
                    terms.frequency.next_period_start(effective_from)
                ),
            );
            return Err(e.into());
        }
        let mut tx = self.pool().begin().await?;
        store::partners::get(&mut tx, partner_id)
            .await?
            .ok_or_else(|| Error::not_found("partner", partner_id))?;
        if let Some(s) =
            store::settlements::settled_from(&mut tx, partner_id, effective_from).await?
        {
            // The first start that would be accepted: past every settlement past draft, and
            // the first day of a period of the new terms' frequency.
            let until = store::settlements::settled_until(&mut tx, partner_id, effective_from)
                .await?
                .unwrap_or(s.period_end);
            let earliest = terms.frequency.start_on_or_after(until);
            return Err(Error::Refused(format!(
                "settlement {} of partner {partner_id} for the period from {} is {}; a new version may start from {earliest} at the earliest",
                s.id, s.period_start, s.status
            )));
        }
        let a = store::agreements::insert(
            &mut tx,
            partner_id,
            effective_from,
            &terms,
            None,
            &self.actor().login,
        )
        .await?;
        Change::new(self.actor(), "agreement.add", "agreement", a.id)
            .after(&a)
            .event("agreement.added", json!({ "agreement": a }))
            .commit(tx)
            .await?;
        Ok(a)
    }

    pub async fn agreement(&self, id: i64) -> Result<AgreementRow> {
        self.actor().require(Permission::ViewSettlements)?;
        let mut conn = self.pool().acquire().await?;
        store::agreements::get(&mut conn, id)
            .await?
            .ok_or_else(|| Error::not_found("agreement", id))
    }

    /// Agreements newest first, optionally of one partner; `before` is the last row's id.
    pub async fn agreements_page(
        &self,
        partner_id: Option<i64>,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AgreementRow>> {
        self.actor().require(Permission::ViewSettlements)?;
        let mut conn = self.pool().acquire().await?;
        Ok(store::agreements::page(
            &mut conn,
            partner_id,
            before,
            limit.clamp(1, PAGE_LIMIT_MAX),
        )
        .await?)
    }

    /// Finance (settlements) and curators (negotiations) add agreement versions.
    fn require_agreement_author(&self) -> Result<()> {
        let a = self.actor();
        if a.may(Permission::ManageNegotiations) {
            a.require(Permission::ManageNegotiations)
        } else {
            a.require(Permission::ManageSettlements)
        }
    }
}
