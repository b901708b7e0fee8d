//! A referral payout reversed: its subscription was refunded (the platform reports it, as it
//! reports the conversion). Once, with why; its statement still in draft leaves it out when
//! computed again, past draft an adjustment on the partner's next draft reverses it.

use super::Desk;
use super::record::Change;
use crate::domain::Permission;
use crate::domain::redemption::flag_text;
use crate::error::{Error, Result};
use crate::store::{self, referrals::Payout};

impl Desk {
    /// Reverses the payout of `account`; returns it and where the reversal lands.
    pub async fn reverse_payout(&self, account: i64, reason: &str) -> Result<(Payout, String)> {
        self.actor().require(Permission::RecordReferrals)?;
        let reason = flag_text("reason", reason)?;
        let mut tx = self.pool().begin().await?;
        let before = store::referrals::lock_payout_of_account(&mut tx, account)
            .await?
            .ok_or_else(|| Error::not_found("referral payout of account", account))?;
        if let (Some(at), Some(by)) = (before.reversed_at, &before.reversed_by) {
            return Err(Error::Refused(format!(
                "the payout of account {account} (payout {}) was reversed on {} by {by}: a reversal is final",
                before.id,
                at.date_naive()
            )));
        }
        let after =
            store::referrals::set_reversal(&mut tx, before.id, &reason, &self.actor().login)
                .await?;
        let lands = super::landing::landing(&mut tx, after.id, true).await?;
        Change::new(
            self.actor(),
            "referral_payout.reverse",
            "referral_payout",
            after.id,
        )
        .changed(&before, &after)
        .reason(Some(&reason))
        .no_event()
        .commit(tx)
        .await?;
        Ok((after, lands))
    }
}
