//! A partner's payout details: set by finance and admin (audited with the IBAN masked, no
//! event: no bank detail ever leaves through the outbox), read whole by them and masked by
//! everyone else.

use super::Desk;
use super::record::Change;
use crate::domain::Permission;
use crate::domain::payout::PayoutDetailsDraft;
use crate::error::{Error, Result};
use crate::store::{self, payouts::PayoutRow};

impl Desk {
    /// The partner's payout details: whole for finance and admin, the IBAN masked (and no
    /// holder or BIC) for everyone else; `None` when none are set.
    pub async fn payout_details(&self, partner_id: i64) -> Result<Option<PayoutRow>> {
        let whole = self.actor().may(Permission::ManageSettlements);
        let mut conn = self.pool().acquire().await?;
        let row = store::payouts::get(&mut conn, partner_id, whole).await?;
        if row.is_none() {
            // No details: say so only for a partner that exists.
            store::partners::get(&mut conn, partner_id)
                .await?
                .ok_or_else(|| Error::not_found("partner", partner_id))?;
        }
        Ok(row)
    }

    /// Sets where the marketplace pays the partner; finance and admin only.
    pub async fn set_payout_details(
        &self,
        partner_id: i64,
        draft: &PayoutDetailsDraft,
    ) -> Result<PayoutRow> {
        self.actor().require(Permission::ManageSettlements)?;
        let d = draft.validate()?;
        let mut tx = self.pool().begin().await?;
        store::partners::get(&mut tx, partner_id)
            .await?
            .ok_or_else(|| Error::not_found("partner", partner_id))?;
        // The row itself is locked (finance may not lock the partner's): the audit row's
        // "before" is the one this change replaces.
        let before = store::payouts::lock(&mut tx, partner_id).await?;
        let after = store::payouts::set(&mut tx, partner_id, &d, &self.actor().login).await?;
        let c = Change::new(
            self.actor(),
            "partner.payout_details",
            "partner",
            partner_id,
        );
        let c = match &before {
            Some(b) => c.changed(&b.masked(), &after.masked()),
            None => c.after(&after.masked()),
        };
        c.no_event().commit(tx).await?;
        Ok(after)
    }
}
