//! Deals: author, edit, change state, and the expiry job (SPEC §1.4).

use super::record::{self, Change};
use super::{Actor, Desk, check_version};
use crate::domain::{
    DealDraft, DealState, Permission, StateTrigger, ValidDeal, ValidationErrors, VerificationState,
};
use crate::error::{Error, Result};
use crate::store::{self, deals::Deal, partners::Partner};
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::PgConnection;

/// How many expired deals one job transaction handles.
const EXPIRY_BATCH: i64 = 500;

impl Desk {
    pub async fn create_deal(&self, draft: &DealDraft) -> Result<Deal> {
        self.actor().require(Permission::ManageDeals)?;
        let valid = draft.validate()?;
        let mut tx = self.pool().begin().await?;
        let partner = existing_partner(&mut tx, valid.partner_id).await?;
        if valid.state == DealState::Active {
            kyc_gate(&partner)?;
            window_open(&valid, Utc::now())?;
        }
        let mut deals = insert_deals(&mut tx, self.actor(), &[&valid], None).await?;
        tx.commit().await?;
        deals.pop().ok_or_else(|| Error::not_found("deal", "new"))
    }

    /// Saves an edit made on `expected_version`. The state is changed only by
    /// [`Desk::change_deal_state`]; a draft's `state` must be empty or the current one.
    pub async fn update_deal(
        &self,
        id: i64,
        expected_version: i32,
        draft: &DealDraft,
    ) -> Result<Deal> {
        self.actor().require(Permission::ManageDeals)?;
        let mut tx = self.pool().begin().await?;
        let before = lock(&mut tx, id).await?;
        check_version(
            "deal",
            id,
            Some(expected_version),
            before.version,
            &before.updated_by,
            before.updated_at,
        )?;
        let mut draft = draft.clone();
        let asked_state = draft.state.take().filter(|s| !s.trim().is_empty());
        let mut valid = match draft.validate() {
            Ok(v) => v,
            Err(mut e) => {
                edit_rules(&before, None, asked_state.as_deref(), &mut e);
                return Err(e.into());
            }
        };
        let mut e = ValidationErrors::new();
        edit_rules(&before, Some(&valid), asked_state.as_deref(), &mut e);
        e.into_result(())?;
        valid.state = before.state;
        if valid.partner_id != before.partner_id {
            existing_partner(&mut tx, valid.partner_id).await?;
        }
        let after = store::deals::update(&mut tx, id, &valid, &self.actor().login).await?;
        if let Some(code) = &after.coupon_code
            && before.coupon_code.as_ref() != Some(code)
        {
            store::deals::record_code(&mut tx, id, code, &self.actor().login).await?;
        }
        if after.state == DealState::Active {
            store::deals::index_for_search(&mut tx, id).await?;
        }
        Change::new(self.actor(), "deal.update", "deal", id)
            .changed(&before, &after)
            .event("deal.updated", json!({ "deal": after }))
            .commit(tx)
            .await?;
        Ok(after)
    }

    /// Moves a deal through its state machine, as an operator.
    pub async fn change_deal_state(
        &self,
        id: i64,
        expected_version: Option<i32>,
        to: DealState,
        reason: Option<&str>,
    ) -> Result<Deal> {
        self.actor().require(Permission::ManageDeals)?;
        let mut tx = self.pool().begin().await?;
        let after = self
            .change_deal_state_in(&mut tx, id, expected_version, to, reason)
            .await;
        super::finish(tx, after).await
    }

    /// [`Desk::change_deal_state`] inside the caller's transaction (which it leaves to the
    /// caller to commit, or to roll back for a dry run).
    pub(crate) async fn change_deal_state_in(
        &self,
        tx: &mut PgConnection,
        id: i64,
        expected_version: Option<i32>,
        to: DealState,
        reason: Option<&str>,
    ) -> Result<Deal> {
        self.actor().require(Permission::ManageDeals)?;
        let reason = crate::domain::validation::optional_reason("reason", reason, 2_000)?;
        let reason = reason.as_deref();
        let before = lock(tx, id).await?;
        check_version(
            "deal",
            id,
            expected_version,
            before.version,
            &before.updated_by,
            before.updated_at,
        )?;
        let refuse = |reason: String| Error::InvalidTransition {
            entity: "deal",
            id: id.to_string(),
            from: before.state.to_string(),
            to: to.to_string(),
            reason,
        };
        before
            .state
            .check_transition(to, StateTrigger::Operator)
            .map_err(refuse)?;
        if to == DealState::Active {
            let partner = store::partners::get_for_share(tx, before.partner_id)
                .await?
                .ok_or_else(|| Error::not_found("partner", before.partner_id))?;
            kyc_gate(&partner)?;
            if before.valid_until <= Utc::now() {
                return Err(refuse(format!(
                    "its window ended at {}; extend valid_until first",
                    before.valid_until.format("%Y-%m-%d %H:%M UTC")
                )));
            }
        }
        apply_state(tx, self.actor(), &before, to, reason).await
    }

    /// The expiry job: every active deal whose `valid_until` has passed becomes expired, as
    /// the system actor. Idempotent; two jobs at once never expire a deal twice. Returns the
    /// number of deals expired by this run.
    pub async fn expire_due_deals(&self, now: DateTime<Utc>) -> Result<u64> {
        // A read-only or unregistered session never runs it (SPEC §1.1, issue 11).
        self.actor().require(Permission::ManageDeals)?;
        let system = Actor::system();
        let mut total = 0u64;
        loop {
            let mut tx = self.pool().begin().await?;
            let due = store::deals::due_for_expiry(&mut tx, now, EXPIRY_BATCH).await?;
            if due.is_empty() {
                break;
            }
            for before in &due {
                apply_state(
                    &mut tx,
                    &system,
                    before,
                    DealState::Expired,
                    Some("valid_until passed"),
                )
                .await?;
            }
            tx.commit().await?;
            total += due.len() as u64;
            if (due.len() as i64) < EXPIRY_BATCH {
                break;
            }
        }
        Ok(total)
    }

    pub async fn get_deal(&self, id: i64) -> Result<Deal> {
        let mut conn = self.pool().acquire().await?;
        store::deals::get(&mut conn, id)
            .await?
            .ok_or_else(|| Error::not_found("deal", id))
    }

    pub async fn list_deals(
        &self,
        filter: &store::deal_list::DealFilter,
        limit: i64,
    ) -> Result<Vec<store::deal_list::DealListRow>> {
        let mut conn = self.pool().acquire().await?;
        Ok(store::deal_list::list(&mut conn, filter, limit).await?)
    }

    pub async fn deal_code_history(&self, id: i64) -> Result<Vec<store::deals::CouponCodeChange>> {
        let mut conn = self.pool().acquire().await?;
        Ok(store::deals::code_history(&mut conn, id).await?)
    }
}

/// Writes new deals that passed every check inside the caller's transaction, each with its
/// first coupon code, its search document when active, its `deal.create` audit row (with
/// `reason`) and its `deal.created` outbox event; returns them in the order given. A handful
/// of statements whatever the number of deals (one insert, so the partners' deal counts move
/// once per partner). Used by [`Desk::create_deal`] (one deal) and the bulk import.
pub(crate) async fn insert_deals(
    conn: &mut PgConnection,
    actor: &Actor,
    valid: &[&ValidDeal],
    reason: Option<&str>,
) -> Result<Vec<Deal>> {
    let ids = store::deals::reserve_ids(conn, valid.len()).await?;
    let deals = store::deals::insert(conn, &ids, valid, &actor.login).await?;
    let (coded, codes): (Vec<i64>, Vec<&str>) = deals
        .iter()
        .filter_map(|d| Some((d.id, d.coupon_code.as_deref()?)))
        .unzip();
    store::deals::record_codes(conn, &coded, &codes, &actor.login).await?;
    let active: Vec<i64> = deals
        .iter()
        .filter(|d| d.state == DealState::Active)
        .map(|d| d.id)
        .collect();
    store::deals::index_many_for_search(conn, &active).await?;
    let records = deals
        .iter()
        .map(|deal| {
            Change::new(actor, "deal.create", "deal", deal.id)
                .after(deal)
                .reason(reason)
                .event("deal.created", json!({ "deal": deal }))
        })
        .collect();
    record::write_all(conn, records).await?;
    Ok(deals)
}

/// Applies an allowed state change inside the caller's transaction: the row, the search
/// document, the audit row and the outbox event.
pub(crate) async fn apply_state(
    conn: &mut PgConnection,
    actor: &Actor,
    before: &Deal,
    to: DealState,
    reason: Option<&str>,
) -> Result<Deal> {
    let after = store::deals::set_state(conn, before.id, to, &actor.login).await?;
    if to == DealState::Active {
        store::deals::index_for_search(conn, before.id).await?;
    } else {
        store::deals::remove_from_search(conn, before.id).await?;
    }
    let action = format!("deal.{}", verb(to));
    Change::new(actor, &action, "deal", before.id)
        .changed(before, &after)
        .reason(reason)
        .event(
            state_event(to),
            json!({ "deal": after, "from": before.state, "to": to, "by": actor.login, "reason": reason }),
        )
        .write(conn)
        .await?;
    Ok(after)
}

/// The event of a move into `to`: `deal.activated`, `deal.paused`, `deal.expired`.
pub(crate) fn state_event(to: DealState) -> &'static str {
    match to {
        DealState::Active => "deal.activated",
        DealState::Paused => "deal.paused",
        DealState::Expired => "deal.expired",
        DealState::Draft => "deal.drafted",
    }
}

fn verb(to: DealState) -> &'static str {
    match to {
        DealState::Active => "activate",
        DealState::Paused => "pause",
        DealState::Expired => "expire",
        DealState::Draft => "draft",
    }
}

async fn lock(conn: &mut PgConnection, id: i64) -> Result<Deal> {
    store::deals::get_for_update(conn, id)
        .await?
        .ok_or_else(|| Error::not_found("deal", id))
}

/// The partner must exist (and stays put while the deal is written).
pub(crate) async fn existing_partner(conn: &mut PgConnection, id: i64) -> Result<Partner> {
    match store::partners::get_for_share(conn, id).await? {
        Some(p) => Ok(p),
        None => {
            let mut e = ValidationErrors::new();
            e.push(
                "partner",
                format!("must be an existing partner (no partner #{id})"),
            );
            Err(e.into())
        }
    }
}

/// A deal of a partner that is not verified cannot become active.
pub(crate) fn kyc_gate(p: &Partner) -> Result<()> {
    if p.verification == VerificationState::Verified {
        Ok(())
    } else {
        Err(Error::PartnerNotVerified {
            partner_id: p.id,
            partner: p.display_name.clone(),
            state: p.verification.to_string(),
        })
    }
}

pub(crate) fn window_open(d: &ValidDeal, now: DateTime<Utc>) -> Result<()> {
    if d.valid_until <= now {
        let mut e = ValidationErrors::new();
        e.push(
            "valid_until",
            "is in the past: an active deal needs a window that has not ended",
        );
        return Err(e.into());
    }
    Ok(())
}

/// Rules that only apply when editing an existing deal.
fn edit_rules(
    before: &Deal,
    valid: Option<&ValidDeal>,
    asked_state: Option<&str>,
    e: &mut ValidationErrors,
) {
    if let Some(s) = asked_state
        && s != before.state.as_str()
    {
        e.push(
            "state",
            "change the state with activate, pause or expire, not by editing",
        );
    }
    let Some(v) = valid else { return };
    if v.partner_id != before.partner_id && before.state != DealState::Draft {
        e.push("partner", "can only change while the deal is a draft");
    }
    if let Some(cap) = v.redemption_cap
        && cap > 1
        && cap < before.redemption_count
    {
        e.push(
            "redemption_cap",
            format!(
                "at least the {} redemptions already made",
                before.redemption_count
            ),
        );
    }
    if before.state == DealState::Expired {
        e.push(
            "state",
            "an expired deal is final and cannot be edited; duplicate it instead",
        );
    }
}

/// What the console says before activating a deal: whether its partner may have an active
/// deal, and what its statements will make of the window.
#[derive(Debug, Clone)]
pub struct ActivationCheck {
    /// Why the service would refuse it (its partner is not verified), said before asking.
    pub refusal: Option<String>,
    /// A window that starts before the partner's first agreement (or with none).
    pub warning: Option<String>,
}

impl Desk {
    /// Reads what [`ActivationCheck`] says of deal `id`, changing nothing.
    pub async fn check_activation(&self, id: i64) -> Result<ActivationCheck> {
        let mut conn = self.pool().acquire().await?;
        let deal = store::deals::get(&mut conn, id)
            .await?
            .ok_or_else(|| Error::not_found("deal", id))?;
        let partner = store::partners::get(&mut conn, deal.partner_id)
            .await?
            .ok_or_else(|| Error::not_found("partner", deal.partner_id))?;
        let first = store::agreements::of_partner(&mut conn, partner.id)
            .await?
            .iter()
            .map(|a| a.effective_from)
            .min();
        Ok(ActivationCheck {
            refusal: kyc_gate(&partner).err().map(|e| e.to_string()),
            warning: crate::domain::deal::activation_warning(
                deal.valid_from,
                &partner.display_name,
                first,
            ),
        })
    }
}
