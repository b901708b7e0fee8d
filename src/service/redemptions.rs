//! Recording a redemption, as the platform does (SPEC §1.5).

use super::{Actor, Desk, PLATFORM_LOGIN, audit};
use crate::domain::DealState;
use crate::error::{Error, RedemptionRefusal, Result, unique_violation};
use crate::store::{self, redemptions::Redemption};
use chrono::Utc;

impl Desk {
    /// Records one redemption of `deal_id` by `member_id`: the member must see the deal,
    /// the deal must be active and inside its window, and the cap must allow it. The deal row
    /// is locked for the check-and-count, so a cap of N admits exactly N.
    pub async fn record_redemption(&self, deal_id: i64, member_id: i64) -> Result<Redemption> {
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
        let platform = Actor {
            login: PLATFORM_LOGIN.into(),
            ..Actor::system()
        };
        let actor = if self.actor().registered {
            self.actor()
        } else {
            &platform
        };
        audit::<(), _>(
            &mut tx,
            actor,
            "redemption.record",
            "redemption",
            r.id,
            None,
            Some(&r),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(r)
    }

    pub async fn redemptions_of_deal(&self, deal_id: i64, limit: i64) -> Result<Vec<Redemption>> {
        let mut conn = self.pool().acquire().await?;
        Ok(store::redemptions::of_deal(&mut conn, deal_id, limit).await?)
    }
}
