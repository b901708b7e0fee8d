//! Redemptions (SPEC §1.5): recording one as the platform does, flags, and the monitor's lists.

use super::{Actor, Desk, PLATFORM_LOGIN, record::Change};
use crate::domain::redemption::flag_text;
use crate::domain::{DealState, FlagKind, OrderValue, Permission};
use crate::error::{Error, FlagRefusal, RedemptionRefusal, Result, unique_violation};
use crate::store::{
    self,
    redemptions::{Redemption, RedemptionRow},
};
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

/// The most rows one page of a redemption list returns.
pub const PAGE_LIMIT_MAX: i64 = 1000;

impl Desk {
    /// Records one redemption of `deal_id` by `member_id`, with the order value when the
    /// platform reports one (read with [`OrderValue::parse`]): the member must see the deal,
    /// the deal must be active and inside its window, and the cap must allow it. The deal row
    /// is locked for the check-and-count, so a cap of N admits exactly N.
    /// On a person's own login the database decides who may (the admin's grants); its refusal
    /// is said as the product's own, naming the role.
    pub async fn record_redemption(
        &self,
        deal_id: i64,
        member_id: i64,
        value: Option<OrderValue>,
    ) -> Result<Redemption> {
        self.record_redemption_now(deal_id, member_id, value)
            .await
            .map_err(|e| self.refused_by_database(e, Permission::RecordRedemptions))
    }

    async fn record_redemption_now(
        &self,
        deal_id: i64,
        member_id: i64,
        value: Option<OrderValue>,
    ) -> Result<Redemption> {
        let refuse = |r: RedemptionRefusal| Error::Redemption(r);
        let mut tx = self.pool().begin().await?;
        let Some(deal) = store::deals::get_for_update(&mut tx, deal_id).await? else {
            return Err(refuse(RedemptionRefusal::NotFound { deal_id }));
        };
        let member = store::members::get(&mut tx, member_id)
            .await?
            .ok_or_else(|| Error::not_found("member", member_id))?;
        if !member.can_see(deal.audience_scope, deal.audience_scope_value.as_deref()) {
            return Err(refuse(RedemptionRefusal::NotFound { deal_id }));
        }
        if deal.state != DealState::Active {
            return Err(refuse(RedemptionRefusal::NotActive {
                deal_id,
                state: deal.state.to_string(),
            }));
        }
        let now = Utc::now();
        if now < deal.valid_from || now >= deal.valid_until {
            return Err(refuse(RedemptionRefusal::OutsideWindow {
                deal_id,
                from: deal.valid_from,
                until: deal.valid_until,
            }));
        }
        let one_per_member = deal.redemption_cap == Some(1);
        if one_per_member
            && let Some(at) =
                store::redemptions::one_per_member_at(&mut tx, deal_id, member_id).await?
        {
            return Err(refuse(RedemptionRefusal::AlreadyRedeemed {
                deal_id,
                member_id,
                redeemed_at: at,
            }));
        }
        // cap = 1 is one per member (above); cap = N > 1 is the first N in total.
        if let Some(cap) = deal.redemption_cap
            && cap > 1
            && deal.redemption_count >= cap
        {
            return Err(refuse(RedemptionRefusal::CapReached { deal_id, cap }));
        }
        let r = match store::redemptions::insert(
            &mut tx,
            deal_id,
            member_id,
            deal.kind,
            deal.coupon_code.as_deref(),
            one_per_member,
            value.as_ref(),
        )
        .await
        {
            Ok(r) => r,
            // The unique index is the last word on cap = 1.
            Err(e) if unique_violation(&e).is_some() => {
                drop(tx);
                let mut conn = self.pool().acquire().await?;
                let at = store::redemptions::one_per_member_at(&mut conn, deal_id, member_id)
                    .await?
                    .unwrap_or(now);
                return Err(refuse(RedemptionRefusal::AlreadyRedeemed {
                    deal_id,
                    member_id,
                    redeemed_at: at,
                }));
            }
            Err(e) => return Err(e.into()),
        };
        store::redemptions::bump_count(&mut tx, deal_id).await?;
        let platform = self.platform_actor();
        Change::new(&platform, "redemption.record", "redemption", r.id)
            .after(&r)
            .no_event()
            .commit(tx)
            .await?;
        Ok(r)
    }

    /// Who records redemptions: the operator when registered, else the platform.
    pub(crate) fn platform_actor(&self) -> Actor {
        if self.actor().registered {
            self.actor().clone()
        } else {
            Actor {
                login: PLATFORM_LOGIN.into(),
                ..Actor::system()
            }
        }
    }

    /// Flags a redemption as fraud or dispute with a note (support, admin). A flagged
    /// redemption is excluded from settlement until it is unflagged. Flagging one that is
    /// flagged already is refused and names who flagged it.
    pub async fn flag_redemption(&self, id: i64, kind: FlagKind, note: &str) -> Result<Redemption> {
        self.actor().require(Permission::FlagRedemptions)?;
        let mut tx = self.pool().begin().await?;
        let after = self.flag_redemption_in(&mut tx, id, kind, note).await;
        super::finish(tx, after).await
    }

    /// [`Desk::flag_redemption`] inside the caller's transaction (which it leaves to the
    /// caller to commit, or to roll back for a dry run).
    pub(crate) async fn flag_redemption_in(
        &self,
        tx: &mut PgConnection,
        id: i64,
        kind: FlagKind,
        note: &str,
    ) -> Result<Redemption> {
        self.actor().require(Permission::FlagRedemptions)?;
        let note = flag_text("note", note)?;
        let before = store::redemptions::get_for_update(tx, id)
            .await?
            .ok_or_else(|| Error::not_found("redemption", id))?;
        if let (Some(kind), Some(by), Some(at)) = (
            before.flag_kind,
            before.flagged_by.as_ref(),
            before.flagged_at,
        ) {
            return Err(Error::Flag(FlagRefusal::AlreadyFlagged {
                redemption_id: id,
                kind,
                flagged_by: by.clone(),
                flagged_at: at,
            }));
        }
        let after = store::redemptions::set_flag(tx, id, kind, &note, &self.actor().login).await?;
        Change::new(self.actor(), "redemption.flag", "redemption", id)
            .changed(&before, &after)
            .reason(Some(&note))
            .no_event()
            .write(tx)
            .await?;
        Ok(after)
    }

    /// Refunds a redemption, once, with a reason (support, finance, admin): a statement still
    /// in draft leaves it out when computed again; past draft, its charge is reversed by an
    /// adjustment line on the partner's next draft. Returns it and where that lands.
    pub async fn refund_redemption(&self, id: i64, reason: &str) -> Result<(Redemption, String)> {
        self.actor().require(Permission::RefundRedemptions)?;
        let mut tx = self.pool().begin().await?;
        let after = self.refund_redemption_in(&mut tx, id, reason).await;
        super::finish(tx, after).await
    }

    /// [`Desk::refund_redemption`] inside the caller's transaction (which it leaves to the
    /// caller to commit, or to roll back for a dry run).
    pub(crate) async fn refund_redemption_in(
        &self,
        tx: &mut PgConnection,
        id: i64,
        reason: &str,
    ) -> Result<(Redemption, String)> {
        self.actor().require(Permission::RefundRedemptions)?;
        let reason = flag_text("reason", reason)?;
        let before = store::redemptions::get_for_update(tx, id)
            .await?
            .ok_or_else(|| Error::not_found("redemption", id))?;
        if let (Some(at), Some(by)) = (before.refunded_at, &before.refunded_by) {
            return Err(Error::Refused(format!(
                "redemption {id} was refunded on {} by {by} (“{}”): a refund is final",
                at.date_naive(),
                before.refund_reason.as_deref().unwrap_or_default()
            )));
        }
        let after = store::redemptions::set_refund(tx, id, &reason, &self.actor().login).await?;
        let lands = super::landing::landing(tx, id, false).await?;
        Change::new(self.actor(), "redemption.refund", "redemption", id)
            .changed(&before, &after)
            .reason(Some(&reason))
            .no_event()
            .write(tx)
            .await?;
        Ok((after, lands))
    }

    /// Resolves a flag, with a reason (support, admin): the redemption counts for settlement
    /// again. Unflagging one that is not flagged is refused.
    pub async fn unflag_redemption(&self, id: i64, reason: &str) -> Result<Redemption> {
        self.actor().require(Permission::FlagRedemptions)?;
        let mut tx = self.pool().begin().await?;
        let after = self.unflag_redemption_in(&mut tx, id, reason).await;
        super::finish(tx, after).await
    }

    /// [`Desk::unflag_redemption`] inside the caller's transaction (which it leaves to the
    /// caller to commit, or to roll back for a dry run).
    pub(crate) async fn unflag_redemption_in(
        &self,
        tx: &mut PgConnection,
        id: i64,
        reason: &str,
    ) -> Result<Redemption> {
        self.actor().require(Permission::FlagRedemptions)?;
        let reason = flag_text("reason", reason)?;
        let before = store::redemptions::get_for_update(tx, id)
            .await?
            .ok_or_else(|| Error::not_found("redemption", id))?;
        if !before.is_flagged() {
            return Err(Error::Flag(FlagRefusal::NotFlagged { redemption_id: id }));
        }
        let after = store::redemptions::clear_flag(tx, id).await?;
        Change::new(self.actor(), "redemption.unflag", "redemption", id)
            .changed(&before, &after)
            .reason(Some(&reason))
            .no_event()
            .write(tx)
            .await?;
        Ok(after)
    }

    /// One redemption with its deal's title, its member's handle and its flag.
    pub async fn redemption(&self, id: i64) -> Result<RedemptionRow> {
        self.actor().require(Permission::ViewRedemptions)?;
        let mut conn = self.pool().acquire().await?;
        store::redemptions::get_row(&mut conn, id)
            .await?
            .ok_or_else(|| Error::not_found("redemption", id))
    }

    /// One page of a deal's redemptions, newest first, with the deal's title, the member's
    /// handle and the flag. `from`/`to` bound `redeemed_at` to `[from, to)`; `before` is the
    /// cursor (`redeemed_at`, `id`) of the previous page's last row.
    pub async fn redemptions_of_deal(
        &self,
        deal_id: i64,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        before: Option<(DateTime<Utc>, i64)>,
        limit: i64,
    ) -> Result<Vec<RedemptionRow>> {
        self.actor().require(Permission::ViewRedemptions)?;
        let mut conn = self.pool().acquire().await?;
        Ok(store::redemptions::page_of_deal(
            &mut conn,
            deal_id,
            from,
            to,
            before,
            limit.clamp(1, PAGE_LIMIT_MAX),
        )
        .await?)
    }

    /// One page of a member's redemptions across every deal, newest first; `from`/`to` bound
    /// `redeemed_at` to `[from, to)` as for a deal's.
    pub async fn redemptions_of_member(
        &self,
        member_id: i64,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        before: Option<(DateTime<Utc>, i64)>,
        limit: i64,
    ) -> Result<Vec<RedemptionRow>> {
        self.actor().require(Permission::ViewRedemptions)?;
        let mut conn = self.pool().acquire().await?;
        Ok(store::redemptions::page_of_member(
            &mut conn,
            member_id,
            from,
            to,
            before,
            limit.clamp(1, PAGE_LIMIT_MAX),
        )
        .await?)
    }
}
