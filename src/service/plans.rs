//! The subscription plans the platform sells (issue 14): what claim tokens, commission rules
//! and conversions name.

use super::Desk;
use super::record::Change;
use crate::domain::Permission;
use crate::domain::referral::PlanDraft;
use crate::error::{Error, Result};
use crate::store::{self, referrals::Plan};
use serde_json::json;

impl Desk {
    pub async fn add_plan(&self, draft: &PlanDraft) -> Result<Plan> {
        self.actor().require(Permission::ManagePartners)?;
        let v = draft.validate()?;
        let mut tx = self.pool().begin().await?;
        let plan = store::referrals::insert_plan(
            &mut tx,
            &v.code,
            &v.name,
            v.price_minor,
            &v.currency,
            &self.actor().login,
        )
        .await?
        .ok_or_else(|| Error::AlreadyExists(format!("plan {} exists already", v.code)))?;
        Change::new(self.actor(), "plan.add", "plan", plan.id)
            .after(&plan)
            .event("plan.added", json!({ "plan": plan }))
            .commit(tx)
            .await?;
        Ok(plan)
    }

    pub async fn plans(&self) -> Result<Vec<Plan>> {
        let mut conn = self.pool().acquire().await?;
        Ok(store::referrals::plans(&mut conn).await?)
    }

    /// Retires a plan (no new tokens for it) or brings it back.
    pub async fn set_plan_active(&self, code: &str, active: bool) -> Result<Plan> {
        self.actor().require(Permission::ManagePartners)?;
        let mut tx = self.pool().begin().await?;
        let before = plan_named(&mut tx, code).await?;
        let after =
            store::referrals::set_plan_active(&mut tx, before.id, active, &self.actor().login)
                .await?
                .ok_or_else(|| {
                    Error::Refused(format!(
                        "plan {} is {} already",
                        before.code,
                        if active { "active" } else { "retired" }
                    ))
                })?;
        Change::new(
            self.actor(),
            if active {
                "plan.activate"
            } else {
                "plan.retire"
            },
            "plan",
            after.id,
        )
        .changed(&before, &after)
        .no_event()
        .commit(tx)
        .await?;
        Ok(after)
    }
}

/// The plan of this code, or "plan CODE not found".
pub(super) async fn plan_named(conn: &mut sqlx::PgConnection, code: &str) -> Result<Plan> {
    store::referrals::plan_by_code(conn, code)
        .await?
        .ok_or_else(|| Error::not_found("plan", code.trim()))
}
