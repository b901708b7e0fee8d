//! Contracts (seed 002 §13) and their benefits (seed 002 §18): show, sign for a side, move
//! through the status machine, and mark each benefit delivered or missed.

use super::Desk;
use super::record::Change;
use crate::domain::Permission;
use crate::domain::contract::{BenefitStatus, ContractStatus};
use crate::domain::negotiation::{Side, check_reason};
use crate::domain::validation::Lines;
use crate::error::{Error, Result};
use crate::store::agreements::Agreement;
use crate::store::contracts::{Contract, ContractBenefit, Signature};
use crate::store::{self};
use serde::Serialize;
use serde_json::json;

/// A contract with its signatures and benefits.
#[derive(Debug, Clone, Serialize)]
pub struct ContractView {
    pub contract: Contract,
    pub signatures: Vec<Signature>,
    pub benefits: Vec<ContractBenefit>,
    /// Pending benefits past their due date (positions).
    pub overdue: Vec<i32>,
}

impl Desk {
    pub async fn get_contract(&self, id: i64) -> Result<ContractView> {
        let mut conn = self.pool().acquire().await?;
        let contract = store::contracts::get_contract(&mut conn, id)
            .await?
            .ok_or_else(|| Error::not_found("contract", id))?;
        let signatures = store::contracts::signatures(&mut conn, id).await?;
        let benefits = store::contracts::benefits(&mut conn, id).await?;
        let today = chrono::Utc::now().date_naive();
        let overdue = benefits
            .iter()
            .filter(|b| b.is_overdue(today))
            .map(|b| b.position)
            .collect();
        Ok(ContractView {
            contract,
            signatures,
            benefits,
            overdue,
        })
    }

    /// Every agreement version of a partner, oldest first.
    pub async fn partner_agreements(&self, partner_id: i64) -> Result<Vec<Agreement>> {
        let mut conn = self.pool().acquire().await?;
        Ok(store::agreements::of_partner(&mut conn, partner_id).await?)
    }

    /// Records `side`'s signature: the first makes a draft `pending_signature`, the second
    /// `signed`. Signing twice for one side is refused.
    pub async fn sign_contract(&self, id: i64, side: Side) -> Result<Contract> {
        self.actor().require(Permission::ManageNegotiations)?;
        let mut tx = self.pool().begin().await?;
        let before = lock(&mut tx, id).await?;
        if !matches!(
            before.status,
            ContractStatus::Draft | ContractStatus::PendingSignature
        ) {
            return Err(Error::Refused(format!(
                "contract {id} is {}; only a draft or a contract pending signature is signed",
                before.status
            )));
        }
        let sig =
            store::contracts::insert_signature(&mut tx, id, side, &self.actor().login).await?;
        if sig.is_none() {
            let all = store::contracts::signatures(&mut tx, id).await?;
            let s = all.iter().find(|s| s.side == side);
            return Err(Error::Refused(format!(
                "contract {id} was already signed for the {side} side{}",
                s.map(|s| format!(
                    " by {} at {}",
                    s.operator,
                    s.signed_at.format("%Y-%m-%d %H:%M:%S UTC")
                ))
                .unwrap_or_default()
            )));
        }
        let count = store::contracts::signatures(&mut tx, id).await?.len();
        let to = if count >= 2 {
            ContractStatus::Signed
        } else {
            ContractStatus::PendingSignature
        };
        let after = if to != before.status {
            store::contracts::set_contract_status(&mut tx, id, to, None, &self.actor().login)
                .await?
        } else {
            before.clone()
        };
        let reason = format!("signed for the {side} side");
        Change::new(self.actor(), "contract.sign", "contract", id)
            .changed(&status_of(&before), &status_of(&after))
            .reason(Some(&reason))
            .event(
                "contract.signed",
                json!({ "contract_id": id, "side": side, "by": self.actor().login, "status": after.status }),
            )
            .commit(tx)
            .await?;
        Ok(after)
    }

    /// Completes, cancels or disputes a contract (with a reason).
    pub async fn change_contract_status(
        &self,
        id: i64,
        to: ContractStatus,
        reason: &str,
    ) -> Result<Contract> {
        self.actor().require(Permission::ManageNegotiations)?;
        let reason = check_reason(reason)?;
        let mut tx = self.pool().begin().await?;
        let before = lock(&mut tx, id).await?;
        before
            .status
            .check_transition(to)
            .map_err(|r| Error::InvalidTransition {
                entity: "contract",
                id: id.to_string(),
                from: before.status.to_string(),
                to: to.to_string(),
                reason: r,
            })?;
        let after = store::contracts::set_contract_status(
            &mut tx,
            id,
            to,
            Some(&reason),
            &self.actor().login,
        )
        .await?;
        Change::new(self.actor(), "contract.status", "contract", id)
            .changed(&status_of(&before), &status_of(&after))
            .reason(Some(&reason))
            .event(
                "contract.state_changed",
                json!({ "contract_id": id, "from": before.status, "to": to, "reason": reason }),
            )
            .commit(tx)
            .await?;
        Ok(after)
    }

    /// Marks benefit `position` (1-based) of a contract delivered (the note is the evidence)
    /// or missed (the note is the reason).
    pub async fn mark_benefit(
        &self,
        contract_id: i64,
        position: i32,
        to: BenefitStatus,
        note: &str,
    ) -> Result<ContractBenefit> {
        self.actor().require(Permission::ManageNegotiations)?;
        let note = crate::domain::validation::check_text("note", note, 2_000, Lines::Many)?;
        let mut tx = self.pool().begin().await?;
        lock(&mut tx, contract_id).await?;
        let before = store::contracts::lock_benefit(&mut tx, contract_id, position)
            .await?
            .ok_or_else(|| {
                Error::not_found("benefit", format!("{position} of contract {contract_id}"))
            })?;
        before
            .status
            .check_transition(to)
            .map_err(|r| Error::InvalidTransition {
                entity: "benefit",
                id: format!("{position} ({}) of contract {contract_id}", before.name),
                from: before.status.to_string(),
                to: to.to_string(),
                reason: r,
            })?;
        let after =
            store::contracts::set_benefit(&mut tx, before.id, to, &note, &self.actor().login)
                .await?;
        Change::new(self.actor(), "contract.benefit", "contract", contract_id)
            .changed(&before, &after)
            .event(
                "contract.benefit_changed",
                json!({ "contract_id": contract_id, "benefit": after }),
            )
            .commit(tx)
            .await?;
        Ok(after)
    }
}

async fn lock(conn: &mut sqlx::PgConnection, id: i64) -> Result<Contract> {
    store::contracts::lock_contract(conn, id)
        .await?
        .ok_or_else(|| Error::not_found("contract", id))
}

/// The audit before/after of a status move: the status, not the whole snapshot again.
fn status_of(c: &Contract) -> serde_json::Value {
    json!({ "status": c.status, "status_reason": c.status_reason, "version": c.version })
}
