//! The Deals pane's background work: what it asks of the services and what comes back.

use crate::console::list::in_display_order;
use crate::console::msg::{Gen, LoadMode, Reply, TaskCtx, failure_of};
use crate::console::pane::Task;
use crate::console::picker::PartnerChoice;
use crate::console::shell::BusyId;
use crate::domain::{DealDraft, DealState};
use crate::error::Error;
use crate::service::Desk;
use crate::service::import::ImportReport;
use crate::service::rows::{AuditEntry, CouponCodeChange, Deal, DealFilter, DealListRow};

/// Everything the deal detail view shows.
#[derive(Debug, Clone)]
pub struct DealDetail {
    pub deal: Deal,
    pub partner_name: String,
    pub codes: Vec<CouponCodeChange>,
    pub timeline: Vec<AuditEntry>,
}

impl DealDetail {
    /// What the detail view loads.
    pub async fn load(desk: &Desk, id: i64) -> crate::Result<DealDetail> {
        let deal = desk.get_deal(id).await?;
        let partner_name = desk
            .get_partner(deal.partner_id)
            .await
            .map(|p| p.display_name)
            .unwrap_or_else(|_| format!("partner #{}", deal.partner_id));
        let codes = desk.deal_code_history(id).await?;
        let timeline = desk.timeline("deal", id, 50).await?;
        Ok(DealDetail {
            deal,
            partner_name,
            codes,
            timeline,
        })
    }
}

#[derive(Debug)]
pub enum Effect {
    /// A page of deals; for `Prepend` and `Last` the filter runs backwards and the rows come
    /// back reversed into display order.
    Load {
        tag: Gen,
        filter: DealFilter,
        limit: i64,
        mode: LoadMode,
    },
    LoadDetail {
        tag: Gen,
        id: i64,
    },
    Save {
        tag: Gen,
        id: Option<i64>,
        version: Option<i32>,
        draft: DealDraft,
    },
    ChangeState {
        busy: BusyId,
        id: i64,
        version: i32,
        to: DealState,
    },
    /// What activating a deal means, read before asking.
    CheckActivation {
        tag: Gen,
        id: i64,
        version: i32,
        title: String,
        from: DealState,
    },
    /// The partners a deal form's partner field may mean: the one with that id, or the
    /// first few whose name matches.
    FindPartners {
        tag: Gen,
        text: String,
    },
    /// The deal as it is now, after a save met a newer version (the conflict dialog says
    /// what changed).
    Theirs {
        id: i64,
    },
    /// Read a CSV file and import it (`dry_run`: only check it, for the preview).
    Import {
        busy: BusyId,
        path: String,
        dry_run: bool,
    },
}

#[derive(Debug)]
pub enum Msg {
    Page {
        tag: Gen,
        mode: LoadMode,
        result: Result<Vec<DealListRow>, Error>,
    },
    Detail {
        tag: Gen,
        result: Result<DealDetail, Error>,
    },
    Saved {
        tag: Gen,
        result: Result<Deal, Error>,
    },
    StateChanged {
        busy: BusyId,
        to: DealState,
        result: Result<Deal, Error>,
    },
    Imported {
        busy: BusyId,
        path: String,
        result: Result<ImportReport, Error>,
    },
    PartnersFound {
        tag: Gen,
        result: Result<Vec<PartnerChoice>, Error>,
    },
    ActivationChecked {
        tag: Gen,
        id: i64,
        version: i32,
        title: String,
        from: DealState,
        result: Result<crate::service::deals::ActivationCheck, Error>,
    },
    Theirs {
        result: Result<Deal, Error>,
    },
}

impl Reply for Msg {
    fn failure(&self) -> Option<&Error> {
        match self {
            Msg::Page { result, .. } => failure_of(result),
            Msg::Detail { result, .. } => failure_of(result),
            Msg::Saved { result, .. } => failure_of(result),
            Msg::StateChanged { result, .. } => failure_of(result),
            Msg::Imported { result, .. } => failure_of(result),
            Msg::PartnersFound { result, .. } => failure_of(result),
            Msg::Theirs { result } => failure_of(result),
            Msg::ActivationChecked { result, .. } => failure_of(result),
        }
    }
}

impl crate::console::msg::PaneReply for Msg {}

impl Task for Effect {
    type Msg = Msg;

    async fn run(self, desk: Desk, _ctx: TaskCtx) -> Msg {
        match self {
            Effect::Load {
                tag,
                filter,
                limit,
                mode,
            } => {
                let result = in_display_order(mode, desk.list_deals(&filter, limit).await);
                Msg::Page { tag, mode, result }
            }
            Effect::Theirs { id } => Msg::Theirs {
                result: desk.get_deal(id).await,
            },
            Effect::LoadDetail { tag, id } => Msg::Detail {
                tag,
                result: DealDetail::load(&desk, id).await,
            },
            Effect::Save {
                tag,
                id,
                version,
                draft,
            } => {
                let result = match (id, version) {
                    (Some(id), Some(v)) => desk.update_deal(id, v, &draft).await,
                    _ => desk.create_deal(&draft).await,
                };
                Msg::Saved { tag, result }
            }
            Effect::ChangeState {
                busy,
                id,
                version,
                to,
            } => Msg::StateChanged {
                busy,
                to,
                result: desk.change_deal_state(id, Some(version), to, None).await,
            },
            Effect::CheckActivation {
                tag,
                id,
                version,
                title,
                from,
            } => Msg::ActivationChecked {
                tag,
                id,
                version,
                title,
                from,
                result: desk.check_activation(id).await,
            },
            Effect::FindPartners { tag, text } => Msg::PartnersFound {
                tag,
                result: crate::console::picker::find_partners(&desk, &text).await,
            },
            Effect::Import {
                busy,
                path,
                dry_run,
            } => {
                let read = {
                    let path = path.clone();
                    tokio::task::spawn_blocking(move || std::fs::read(&path)).await
                };
                let result = match read {
                    Ok(Ok(bytes)) => desk.import_deals(&path, bytes.as_slice(), dry_run).await,
                    Ok(Err(e)) => Err(Error::Config(format!("cannot read {path}: {e}"))),
                    Err(e) => Err(Error::Config(format!("cannot read {path}: {e}"))),
                };
                Msg::Imported { busy, path, result }
            }
        }
    }
}
