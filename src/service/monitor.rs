//! The support monitor: live counts, signals, and the partner's confirmed conversions.

use super::{Desk, record::Change};
use crate::domain::{DealKind, Permission, ValidationErrors};
use crate::error::{Error, Result};
pub use crate::store::monitor::minute_of;
use crate::store::{
    self,
    monitor::{Burst, LowConversion, MonitorFilter, MonitorRow, QuickCap, Thresholds},
};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Everything the signals view lists, each with the rows behind it.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Signals {
    pub bursts: Vec<Burst>,
    pub quick_caps: Vec<QuickCap>,
    pub low_conversions: Vec<LowConversion>,
}

impl Desk {
    /// Active deals matching `filter` (text in the title or the partner's name), with their
    /// counts and the last hour per clock minute up to `now`, newest first, after `before_id`.
    pub async fn monitor_deals(
        &self,
        filter: &MonitorFilter,
        before_id: Option<i64>,
        limit: i64,
        now: DateTime<Utc>,
    ) -> Result<Vec<MonitorRow>> {
        self.actor().require(Permission::ViewRedemptions)?;
        let mut conn = self.pool().acquire().await?;
        let mut rows = store::monitor::deals(&mut conn, filter, before_id, limit).await?;
        store::monitor::last_hour(&mut conn, &mut rows, now).await?;
        Ok(rows)
    }

    pub async fn signals(&self, t: &Thresholds, now: DateTime<Utc>) -> Result<Signals> {
        self.actor().require(Permission::ViewRedemptions)?;
        let mut conn = self.pool().acquire().await?;
        Ok(Signals {
            bursts: store::monitor::bursts(&mut conn, t, now).await?,
            quick_caps: store::monitor::quick_caps(&mut conn, t).await?,
            low_conversions: store::monitor::low_conversions(&mut conn, t).await?,
        })
    }

    /// Records the partner's confirmed conversions for a link deal (support).
    pub async fn set_confirmed_conversions(&self, deal_id: i64, confirmed: i64) -> Result<()> {
        self.actor().require(Permission::FlagRedemptions)?;
        let confirmed = i32::try_from(confirmed)
            .ok()
            .filter(|c| *c >= 0)
            .ok_or_else(|| {
                let mut e = ValidationErrors::new();
                e.push("confirmed", "a whole number, 0 or more");
                Error::Validation(e)
            })?;
        let mut tx = self.pool().begin().await?;
        // No lock on the deal (support may not change deals); the tally's own row is locked.
        let deal = store::deals::get(&mut tx, deal_id)
            .await?
            .ok_or_else(|| Error::not_found("deal", deal_id))?;
        if deal.kind != DealKind::Link {
            let mut e = ValidationErrors::new();
            e.push("confirmed", "only link deals have conversions to confirm");
            return Err(e.into());
        }
        let before =
            store::monitor::set_confirmed(&mut tx, deal_id, confirmed, &self.actor().login).await?;
        Change::new(self.actor(), "deal.conversions", "deal", deal_id)
            .changed(
                &serde_json::json!({ "confirmed": before }),
                &serde_json::json!({ "confirmed": confirmed }),
            )
            .no_event()
            .commit(tx)
            .await?;
        Ok(())
    }
}
