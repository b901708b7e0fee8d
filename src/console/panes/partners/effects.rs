//! The Partners pane's background work: what it asks of the services and what comes back.

use crate::console::list::in_display_order;
use crate::console::msg::{Gen, LoadMode, Reply, TaskCtx, failure_of};
use crate::console::pane::Task;
use crate::console::shell::BusyId;
use crate::domain::PartnerDraft;
use crate::error::Error;
use crate::service::Desk;
use crate::service::partners::OffboardReport;
use crate::service::rows::{AuditEntry, Partner, PartnerFilter, PartnerListRow};
use crate::service::vetting::CheckResult;

use super::referral::{RefOp, RefOutcome, ReferralData};

/// Everything the partner detail view shows.
#[derive(Debug, Clone)]
pub struct PartnerDetail {
    pub partner: Partner,
    pub deals_by_state: Vec<(String, i64)>,
    pub checks: Vec<CheckResult>,
    pub timeline: Vec<AuditEntry>,
    /// Where the marketplace pays it, as everyone may see it (the IBAN masked).
    pub payout: Option<Box<crate::store::payouts::PayoutRow>>,
    /// What the marketplace owes it on approved statements in no batch (for those who view
    /// settlements).
    pub owed: Vec<crate::store::batches::Waiting>,
}

impl PartnerDetail {
    /// What the detail view loads.
    pub async fn load(desk: &Desk, id: i64) -> crate::Result<PartnerDetail> {
        Ok(PartnerDetail {
            partner: desk.get_partner(id).await?,
            deals_by_state: desk.partner_deal_counts(id).await?,
            checks: desk.latest_checks(id).await?,
            timeline: desk.timeline("partner", id, 50).await?,
            payout: desk.payout_details(id).await?.map(Box::new),
            owed: if desk.actor().may(crate::domain::Permission::ViewSettlements) {
                desk.owed_waiting(id).await?
            } else {
                Vec::new()
            },
        })
    }
}

/// A state change of a partner asked from the list or detail view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartnerOp {
    MarkVetted,
    Disable,
    Revet,
    Delete,
    Offboard,
}

impl PartnerOp {
    pub fn verb(self) -> &'static str {
        match self {
            PartnerOp::MarkVetted => "mark vetted",
            PartnerOp::Disable => "disable",
            PartnerOp::Revet => "re-vet",
            PartnerOp::Delete => "delete",
            PartnerOp::Offboard => "off-board",
        }
    }
}

/// Outcome of a partner state change.
#[derive(Debug)]
pub enum OpOutcome {
    Partner(Partner),
    Deleted,
    Offboarded(OffboardReport),
}

#[derive(Debug)]
pub enum Effect {
    /// A page of partners; for `Prepend` and `Last` the filter runs backwards and the rows
    /// come back reversed into display order.
    Load {
        tag: Gen,
        filter: PartnerFilter,
        limit: i64,
        mode: LoadMode,
    },
    LoadDetail {
        tag: Gen,
        id: i64,
    },
    /// The partner as it is now, after a save met a newer version (the conflict dialog says
    /// what changed).
    Theirs {
        id: i64,
    },
    Save {
        tag: Gen,
        id: Option<i64>,
        version: Option<i32>,
        draft: PartnerDraft,
    },
    Op {
        busy: BusyId,
        id: i64,
        version: i32,
        op: PartnerOp,
    },
    RunChecks {
        busy: BusyId,
        id: i64,
        name: String,
    },
    /// The referral tab of partner `id`.
    /// Where the marketplace pays the partner, confirmed.
    SetPayout {
        busy: BusyId,
        partner_id: i64,
        draft: crate::domain::payout::PayoutDetailsDraft,
    },
    LoadReferrals {
        tag: Gen,
        id: i64,
    },
    /// A change in the referral tab.
    Referral {
        busy: BusyId,
        partner_id: i64,
        op: RefOp,
    },
}

#[derive(Debug)]
pub enum Msg {
    Theirs {
        result: Result<Partner, Error>,
    },
    Page {
        tag: Gen,
        mode: LoadMode,
        result: Result<Vec<PartnerListRow>, Error>,
    },
    Detail {
        tag: Gen,
        result: Result<PartnerDetail, Error>,
    },
    Saved {
        tag: Gen,
        result: Result<Partner, Error>,
    },
    OpDone {
        busy: BusyId,
        op: PartnerOp,
        result: Result<OpOutcome, Error>,
    },
    ChecksProgress {
        busy: BusyId,
        name: String,
        done: usize,
        total: usize,
        check: String,
    },
    ChecksDone {
        busy: BusyId,
        id: i64,
        name: String,
        result: Result<Vec<CheckResult>, Error>,
    },
    PayoutSet {
        busy: BusyId,
        partner_id: i64,
        result: Result<crate::store::payouts::PayoutRow, Error>,
    },
    Referrals {
        tag: Gen,
        id: i64,
        result: Result<ReferralData, Error>,
    },
    ReferralDone {
        busy: BusyId,
        partner_id: i64,
        result: Result<RefOutcome, Error>,
    },
}

impl Reply for Msg {
    fn failure(&self) -> Option<&Error> {
        match self {
            Msg::Theirs { result } => failure_of(result),
            Msg::Page { result, .. } => failure_of(result),
            Msg::Detail { result, .. } => failure_of(result),
            Msg::Saved { result, .. } => failure_of(result),
            Msg::OpDone { result, .. } => failure_of(result),
            Msg::ChecksDone { result, .. } => failure_of(result),
            Msg::ChecksProgress { .. } => None,
            Msg::Referrals { result, .. } => failure_of(result),
            Msg::ReferralDone { result, .. } => failure_of(result),
            Msg::PayoutSet { result, .. } => failure_of(result),
        }
    }
}

impl crate::console::msg::PaneReply for Msg {}

impl Task for Effect {
    type Msg = Msg;

    async fn run(self, desk: Desk, ctx: TaskCtx) -> Msg {
        match self {
            Effect::Load {
                tag,
                filter,
                limit,
                mode,
            } => {
                let result = in_display_order(mode, desk.list_partners(&filter, limit).await);
                Msg::Page { tag, mode, result }
            }
            Effect::Theirs { id } => Msg::Theirs {
                result: desk.get_partner(id).await,
            },
            Effect::LoadDetail { tag, id } => Msg::Detail {
                tag,
                result: PartnerDetail::load(&desk, id).await,
            },
            Effect::Save {
                tag,
                id,
                version,
                draft,
            } => {
                let result = match (id, version) {
                    (Some(id), Some(v)) => desk.update_partner(id, v, &draft).await,
                    _ => desk.create_partner(&draft).await,
                };
                Msg::Saved { tag, result }
            }
            Effect::Op {
                busy,
                id,
                version,
                op,
            } => {
                let v = Some(version);
                let result = match op {
                    PartnerOp::MarkVetted => desk.mark_vetted(id, v).await.map(OpOutcome::Partner),
                    PartnerOp::Disable => desk
                        .disable_partner(id, v, None)
                        .await
                        .map(OpOutcome::Partner),
                    PartnerOp::Revet => desk.revet_partner(id, v).await.map(OpOutcome::Partner),
                    PartnerOp::Delete => desk
                        .delete_partner(id, v, None)
                        .await
                        .map(|_| OpOutcome::Deleted),
                    PartnerOp::Offboard => desk
                        .offboard_partner(id, None)
                        .await
                        .map(OpOutcome::Offboarded),
                };
                Msg::OpDone { busy, op, result }
            }
            Effect::RunChecks { busy, id, name } => {
                let progress = {
                    let (ctx, name) = (ctx.clone(), name.clone());
                    move |done: usize, total: usize, check: &str| {
                        ctx.send(Msg::ChecksProgress {
                            busy,
                            name: name.clone(),
                            done,
                            total,
                            check: check.to_owned(),
                        });
                    }
                };
                let result = desk.run_vetting_checks(id, &ctx.vetting, &progress).await;
                Msg::ChecksDone {
                    busy,
                    id,
                    name,
                    result,
                }
            }
            Effect::SetPayout {
                busy,
                partner_id,
                draft,
            } => Msg::PayoutSet {
                busy,
                partner_id,
                result: desk.set_payout_details(partner_id, &draft).await,
            },
            Effect::LoadReferrals { tag, id } => Msg::Referrals {
                tag,
                id,
                result: ReferralData::load(&desk, id).await,
            },
            Effect::Referral {
                busy,
                partner_id,
                op,
            } => Msg::ReferralDone {
                busy,
                partner_id,
                result: op.run(&desk, partner_id).await,
            },
        }
    }
}
