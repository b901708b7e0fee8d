//! What `partnerdesk simulate` writes besides its partner and deal (created by the ordinary
//! use cases): the members its traffic needs, and the removal of everything a run created
//! (`simulate --cleanup RUN`). Both audited, as the operator.

use super::{Desk, record::Change, record::write_all};
use crate::domain::deal::parse_batch_year;
use crate::domain::{AudienceScope, MemberRole, Permission, ValidationErrors};
use crate::error::Result;
use crate::store::{self, deals::Deal, simulation::Removed};
use serde_json::json;

/// A run id: ten lowercase hexadecimal digits, in the names of everything the run creates.
pub fn new_run_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..10].to_owned()
}

fn check_run_id(run: &str) -> Result<()> {
    if run.len() == 10
        && run
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Ok(());
    }
    let mut e = ValidationErrors::new();
    e.push(
        "run",
        "a simulate run id: ten hexadecimal digits, as simulate printed it",
    );
    Err(e.into())
}

/// The member attributes that let a member see `deal` (its audience's role, verification,
/// batch year or chapter).
pub fn member_attributes(deal: &Deal) -> (MemberRole, bool, Option<i32>, Vec<String>) {
    let value = deal.audience_scope_value.as_deref();
    match deal.audience_scope {
        AudienceScope::Public => (MemberRole::Public, false, None, vec![]),
        AudienceScope::Institute => (MemberRole::Institute, true, None, vec![]),
        AudienceScope::Alumni => (MemberRole::Alumni, true, None, vec![]),
        AudienceScope::Batch => (
            MemberRole::Alumni,
            true,
            value.and_then(parse_batch_year),
            vec![],
        ),
        AudienceScope::Chapter => (
            MemberRole::Public,
            false,
            None,
            value.map(|v| vec![v.to_owned()]).unwrap_or_default(),
        ),
    }
}

impl Desk {
    /// Inserts `count` members of run `run` who can all see `deal` (handles `sim-RUN-1…`), in
    /// one statement, with one audit row for them all; their ids, ascending.
    pub async fn create_simulation_members(
        &self,
        run: &str,
        deal: &Deal,
        count: u64,
    ) -> Result<Vec<i64>> {
        self.actor().require(Permission::ManageDeals)?;
        check_run_id(run)?;
        let (role, verified, batch, chapters) = member_attributes(deal);
        let prefix = store::simulation::member_prefix(run);
        let count = i64::try_from(count).unwrap_or(i64::MAX);
        let mut tx = self.pool().begin().await?;
        let ids =
            store::members::insert_many(&mut tx, &prefix, count, role, verified, batch, &chapters)
                .await?;
        Change::new(self.actor(), "simulation.members", "simulation", run)
            .after(&json!({
                "run": run,
                "deal_id": deal.id,
                "members": ids.len(),
                "handles": format!("{prefix}-1 … {prefix}-{}", ids.len()),
                "first_id": ids.first(),
                "last_id": ids.last(),
            }))
            .no_event()
            .commit(tx)
            .await?;
        Ok(ids)
    }

    /// Removes what simulate run `run` created: its members and their redemptions (also of an
    /// existing deal, whose redemption count goes down with them), its deal with its
    /// redemptions, and its partner. One transaction; an audit row for the run, and one for
    /// each deal and partner removed, with their events.
    pub async fn cleanup_simulation(&self, run: &str) -> Result<Removed> {
        self.actor().require(Permission::ManageDeals)?;
        self.actor().require(Permission::ManagePartners)?;
        check_run_id(run)?;
        let mut tx = self.pool().begin().await?;
        let removed = store::simulation::remove(&mut tx, run).await?;
        let mut records = vec![
            Change::new(self.actor(), "simulation.cleanup", "simulation", run)
                .after(&removed)
                .no_event(),
        ];
        for id in &removed.deals {
            records.push(
                Change::new(self.actor(), "deal.delete", "deal", id)
                    .reason(Some("simulate --cleanup"))
                    .event("deal.deleted", json!({ "id": id })),
            );
        }
        for id in &removed.partners {
            records.push(
                Change::new(self.actor(), "partner.delete", "partner", id)
                    .reason(Some("simulate --cleanup"))
                    .event("partner.deleted", json!({ "id": id })),
            );
        }
        write_all(&mut tx, records).await?;
        tx.commit().await?;
        Ok(removed)
    }
}
