//! Partners: create, edit, vet, disable, re-vet, delete, off-board (SPEC §1.3).

use super::{Desk, check_version, record::Change};
use crate::domain::{
    DealState, PartnerDraft, Permission, StateTrigger, ValidPartner, VerificationState,
};
use crate::error::{Error, Result, unique_violation};
use crate::store::{self, deals::Deal, partners::Partner};
use serde::Serialize;
use serde_json::json;
use sqlx::PgConnection;

/// What off-boarding did, and what is left before the partner can be deleted.
#[derive(Debug, Clone, Serialize)]
pub struct OffboardReport {
    pub partner: Partner,
    pub paused: Vec<Deal>,
    /// Deals left, by state, after pausing.
    pub remaining: Vec<(String, i64)>,
}

impl OffboardReport {
    /// Deals that still block a delete (anything not expired).
    pub fn blocking(&self) -> i64 {
        self.remaining
            .iter()
            .filter(|(s, _)| s != DealState::Expired.as_str())
            .map(|(_, n)| n)
            .sum()
    }
}

impl Desk {
    pub async fn create_partner(&self, draft: &PartnerDraft) -> Result<Partner> {
        self.actor().require(Permission::ManagePartners)?;
        let valid = draft.validate()?;
        let mut tx = self.pool().begin().await?;
        refuse_duplicate_domain(&mut tx, &valid, None).await?;
        let p = match store::partners::insert(&mut tx, &valid, &self.actor().login).await {
            Ok(p) => p,
            Err(e) if unique_violation(&e).is_some() => {
                drop(tx);
                return Err(self.duplicate_domain_error(&valid, None).await);
            }
            Err(e) => return Err(e.into()),
        };
        Change::new(self.actor(), "partner.create", "partner", p.id)
            .after(&p)
            .event("partner.created", json!({ "partner": p }))
            .commit(tx)
            .await?;
        Ok(p)
    }

    /// Saves an edit made on `expected_version`; a stale version is a conflict.
    pub async fn update_partner(
        &self,
        id: i64,
        expected_version: i32,
        draft: &PartnerDraft,
    ) -> Result<Partner> {
        self.actor().require(Permission::ManagePartners)?;
        let valid = draft.validate()?;
        let mut tx = self.pool().begin().await?;
        let before = lock(&mut tx, id).await?;
        check_version(
            "partner",
            id,
            Some(expected_version),
            before.version,
            &before.updated_by,
            before.updated_at,
        )?;
        refuse_duplicate_domain(&mut tx, &valid, Some(id)).await?;
        let after = match store::partners::update(&mut tx, id, &valid, &self.actor().login).await {
            Ok(p) => p,
            Err(e) if unique_violation(&e).is_some() => {
                drop(tx);
                return Err(self.duplicate_domain_error(&valid, Some(id)).await);
            }
            Err(e) => return Err(e.into()),
        };
        Change::new(self.actor(), "partner.update", "partner", id)
            .changed(&before, &after)
            .event("partner.updated", json!({ "partner": after }))
            .commit(tx)
            .await?;
        Ok(after)
    }

    /// `pending → verified`, recording who vetted and when.
    pub async fn mark_vetted(&self, id: i64, expected_version: Option<i32>) -> Result<Partner> {
        self.move_partner(
            id,
            expected_version,
            VerificationState::Verified,
            "partner.vet",
            None,
        )
        .await
    }

    /// `verified → disabled`. Active deals of the partner are paused in the same transaction
    /// (a deal of a partner that is not verified may not be active).
    pub async fn disable_partner(
        &self,
        id: i64,
        expected_version: Option<i32>,
        reason: Option<&str>,
    ) -> Result<Partner> {
        self.move_partner(
            id,
            expected_version,
            VerificationState::Disabled,
            "partner.disable",
            reason,
        )
        .await
    }

    /// `disabled → pending`, to vet again.
    pub async fn revet_partner(&self, id: i64, expected_version: Option<i32>) -> Result<Partner> {
        self.move_partner(
            id,
            expected_version,
            VerificationState::Pending,
            "partner.revet",
            None,
        )
        .await
    }

    async fn move_partner(
        &self,
        id: i64,
        expected_version: Option<i32>,
        to: VerificationState,
        action: &str,
        reason: Option<&str>,
    ) -> Result<Partner> {
        self.actor().require(Permission::ManagePartners)?;
        let mut tx = self.pool().begin().await?;
        let after = self
            .move_partner_in(&mut tx, id, expected_version, to, action, reason)
            .await;
        super::finish(tx, after).await
    }

    /// A verification move inside the caller's transaction (which it leaves to the caller to
    /// commit, or to roll back for a dry run): vet (`partner.vet`), disable, revet.
    pub(crate) async fn move_partner_in(
        &self,
        tx: &mut PgConnection,
        id: i64,
        expected_version: Option<i32>,
        to: VerificationState,
        action: &str,
        reason: Option<&str>,
    ) -> Result<Partner> {
        self.actor().require(Permission::ManagePartners)?;
        let before = lock(tx, id).await?;
        check_version(
            "partner",
            id,
            expected_version,
            before.version,
            &before.updated_by,
            before.updated_at,
        )?;
        before
            .verification
            .check_transition(to)
            .map_err(|reason| Error::InvalidTransition {
                entity: "partner",
                id: id.to_string(),
                from: before.verification.to_string(),
                to: to.to_string(),
                reason,
            })?;
        if to != VerificationState::Verified {
            pause_active_deals(tx, self, id, "partner no longer verified").await?;
        }
        let after = store::partners::set_verification(tx, id, to, &self.actor().login).await?;
        let by = &self.actor().login;
        Change::new(self.actor(), action, "partner", id)
            .changed(&before, &after)
            .reason(reason)
            .event(
                verification_event(after.verification),
                json!({ "partner": after, "from": before.verification, "to": after.verification, "by": by }),
            )
            .write(tx)
            .await?;
        Ok(after)
    }

    /// Deletes a partner that has no deals left that are not expired. The row is kept (marked
    /// deleted) so that expired deals and their redemptions keep their partner for the record.
    pub async fn delete_partner(
        &self,
        id: i64,
        expected_version: Option<i32>,
        reason: Option<&str>,
    ) -> Result<()> {
        self.actor().require(Permission::ManagePartners)?;
        let mut tx = self.pool().begin().await?;
        let before = lock(&mut tx, id).await?;
        check_version(
            "partner",
            id,
            expected_version,
            before.version,
            &before.updated_by,
            before.updated_at,
        )?;
        let counts = store::partners::deal_counts(&mut tx, id).await?;
        let live: Vec<&(String, i64)> = counts.iter().filter(|(s, _)| s != "expired").collect();
        let count: i64 = live.iter().map(|(_, n)| n).sum();
        if count > 0 {
            let breakdown = live
                .iter()
                .map(|(s, n)| format!("{n} {s}"))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(Error::HasDeals {
                partner_id: id,
                partner: before.display_name,
                count,
                breakdown,
            });
        }
        store::partners::soft_delete(&mut tx, id, &self.actor().login).await?;
        Change::new(self.actor(), "partner.delete", "partner", id)
            .before(&before)
            .reason(reason)
            .event("partner.deleted", json!({ "id": id }))
            .commit(tx)
            .await?;
        Ok(())
    }

    /// Off-boarding: pauses every active deal of the partner in one transaction and reports
    /// what is left before the partner can be deleted.
    pub async fn offboard_partner(&self, id: i64, reason: Option<&str>) -> Result<OffboardReport> {
        self.actor().require(Permission::ManagePartners)?;
        let reason = crate::domain::validation::optional_reason("reason", reason, 2_000)?;
        let reason = reason.as_deref();
        let mut tx = self.pool().begin().await?;
        let partner = lock(&mut tx, id).await?;
        let paused =
            pause_active_deals(&mut tx, self, id, reason.unwrap_or("partner off-boarded")).await?;
        let remaining = store::partners::deal_counts(&mut tx, id).await?;
        let ids: Vec<i64> = paused.iter().map(|d| d.id).collect();
        // The partner itself does not change: the deals it paused published their events.
        Change::new(self.actor(), "partner.offboard", "partner", id)
            .after(&json!({ "paused_deals": ids, "remaining": remaining }))
            .reason(reason)
            .no_event()
            .commit(tx)
            .await?;
        Ok(OffboardReport {
            partner,
            paused,
            remaining,
        })
    }

    pub async fn get_partner(&self, id: i64) -> Result<Partner> {
        let mut conn = self.pool().acquire().await?;
        store::partners::get(&mut conn, id)
            .await?
            .ok_or_else(|| Error::not_found("partner", id))
    }

    pub async fn list_partners(
        &self,
        filter: &store::partners::PartnerFilter,
        limit: i64,
    ) -> Result<Vec<store::partners::PartnerListRow>> {
        let mut conn = self.pool().acquire().await?;
        Ok(store::partners::list(&mut conn, filter, limit).await?)
    }

    async fn duplicate_domain_error(&self, valid: &ValidPartner, except: Option<i64>) -> Error {
        let domain = valid.domain.clone().unwrap_or_default();
        let found = match self.pool().acquire().await {
            Ok(mut c) => store::partners::find_by_domain(&mut c, &domain, except)
                .await
                .ok()
                .flatten(),
            Err(_) => None,
        };
        match found {
            Some((existing_id, existing_name)) => Error::DuplicateDomain {
                domain,
                existing_id,
                existing_name,
            },
            None => {
                Error::AlreadyExists(format!("website_url: the domain {domain} is already taken"))
            }
        }
    }
}

async fn lock(conn: &mut PgConnection, id: i64) -> Result<Partner> {
    store::partners::get_for_update(conn, id)
        .await?
        .ok_or_else(|| Error::not_found("partner", id))
}

async fn refuse_duplicate_domain(
    conn: &mut PgConnection,
    p: &ValidPartner,
    except: Option<i64>,
) -> Result<()> {
    if let Some(domain) = &p.domain
        && let Some((existing_id, existing_name)) =
            store::partners::find_by_domain(conn, domain, except).await?
    {
        return Err(Error::DuplicateDomain {
            domain: domain.clone(),
            existing_id,
            existing_name,
        });
    }
    Ok(())
}

/// Pauses every active deal of a partner, with an audit row and an event for each.
async fn pause_active_deals(
    conn: &mut PgConnection,
    desk: &Desk,
    partner_id: i64,
    reason: &str,
) -> Result<Vec<Deal>> {
    let active = store::deals::active_of_partner_for_update(conn, partner_id).await?;
    let mut paused = Vec::with_capacity(active.len());
    for before in active {
        debug_assert!(
            before
                .state
                .check_transition(DealState::Paused, StateTrigger::Operator)
                .is_ok()
        );
        let after =
            super::deals::apply_state(conn, desk.actor(), &before, DealState::Paused, Some(reason))
                .await?;
        paused.push(after);
    }
    Ok(paused)
}

impl Desk {
    /// A partner's deals counted by state.
    pub async fn partner_deal_counts(&self, id: i64) -> Result<Vec<(String, i64)>> {
        let mut conn = self.pool().acquire().await?;
        Ok(store::partners::deal_counts(&mut conn, id).await?)
    }
}

/// The event of a verification move: `partner.verified`, `partner.disabled`, or
/// `partner.revet_requested` (back to pending for another review).
fn verification_event(to: crate::domain::VerificationState) -> &'static str {
    use crate::domain::VerificationState::*;
    match to {
        Verified => "partner.verified",
        Disabled => "partner.disabled",
        Pending => "partner.revet_requested",
    }
}
