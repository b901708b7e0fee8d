//! The Negotiations pane's background work: what it asks of the services and what comes back.

use crate::console::list::in_display_order;
use crate::console::msg::{Gen, LoadMode, Reply, TaskCtx, failure_of};
use crate::console::pane::Task;
use crate::console::picker::{PartnerChoice, find_partners};
use crate::console::shell::BusyId;
use crate::domain::contract::{BenefitStatus, ContractStatus};
use crate::domain::negotiation::{OfferDraft, Side};
use crate::error::Error;
use crate::service::Desk;
use crate::service::contracts::ContractView;
use crate::service::negotiations::{Acceptance, NegotiationView, NewThread};
use crate::service::rows::{Offer, Thread, ThreadFilter, ThreadRow};

#[derive(Debug)]
pub enum Effect {
    /// A page of threads, newest activity first, after the filter's cursor.
    Load {
        tag: Gen,
        filter: ThreadFilter,
        limit: i64,
        mode: LoadMode,
    },
    LoadDetail {
        tag: Gen,
        id: i64,
    },
    LoadContract {
        tag: Gen,
        id: i64,
    },
    /// Open a new thread.
    Open {
        tag: Gen,
        new: Box<NewThread>,
    },
    /// The partners a new thread's partner field may mean.
    FindPartners {
        tag: Gen,
        text: String,
    },
    /// Sign contract `contract` for `side`.
    Sign {
        busy: BusyId,
        id: i64,
        contract: i64,
        side: Side,
    },
    /// Mark benefit `position` of contract `contract` delivered or missed, with a note.
    Benefit {
        busy: BusyId,
        id: i64,
        contract: i64,
        position: i32,
        to: BenefitStatus,
        note: String,
    },
    /// Move contract `contract` to completed, cancelled or disputed, with a reason.
    ContractMove {
        busy: BusyId,
        id: i64,
        contract: i64,
        to: ContractStatus,
        reason: String,
    },
    /// A message on the thread, from `side` (the partner's recorded on its behalf).
    Message {
        busy: BusyId,
        id: i64,
        side: Side,
        body: String,
    },
    /// A new revision from `side`, while `expected` is still the latest.
    Offer {
        tag: Gen,
        id: i64,
        side: Side,
        draft: Box<OfferDraft>,
        note: Option<String>,
        expected: Option<i32>,
    },
    /// Accept revision `revision` for `side` (the side that did not make it).
    Accept {
        busy: BusyId,
        id: i64,
        revision: i32,
        side: Side,
    },
    /// Reject (`reject`) or withdraw, by `side`, with a reason.
    Close {
        busy: BusyId,
        id: i64,
        side: Side,
        reason: String,
        reject: bool,
    },
}

#[derive(Debug)]
pub enum Msg {
    Page {
        tag: Gen,
        mode: LoadMode,
        result: Result<Vec<ThreadRow>, Error>,
    },
    Detail {
        tag: Gen,
        result: Result<NegotiationView, Error>,
    },
    Contract {
        tag: Gen,
        result: Result<ContractView, Error>,
    },
    Opened {
        tag: Gen,
        result: Result<Thread, Error>,
    },
    PartnersFound {
        tag: Gen,
        result: Result<Vec<PartnerChoice>, Error>,
    },
    Offered {
        tag: Gen,
        id: i64,
        result: Result<Offer, Error>,
    },
    /// A message, an acceptance or a close is done: what to say, and the thread to show.
    Done {
        busy: BusyId,
        id: i64,
        result: Result<String, Error>,
    },
}

impl Reply for Msg {
    fn failure(&self) -> Option<&Error> {
        match self {
            Msg::Page { result, .. } => failure_of(result),
            Msg::Detail { result, .. } => failure_of(result),
            Msg::Contract { result, .. } => failure_of(result),
            Msg::Opened { result, .. } => failure_of(result),
            Msg::PartnersFound { result, .. } => failure_of(result),
            Msg::Done { result, .. } => failure_of(result),
            Msg::Offered { result, .. } => failure_of(result),
        }
    }
}

fn accepted(a: &Acceptance) -> String {
    format!(
        "revision {} accepted for the {}: agreement v{}, contract #{}, draft deal #{} “{}”",
        a.revision, a.side, a.agreement.version, a.contract.id, a.deal.id, a.deal.title
    )
}

fn closed(t: &Thread) -> String {
    format!("negotiation #{} is now {}", t.id, t.status)
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
            } => Msg::Page {
                tag,
                mode,
                result: in_display_order(mode, desk.list_negotiations(&filter, limit).await),
            },
            Effect::LoadDetail { tag, id } => Msg::Detail {
                tag,
                result: desk.get_negotiation(id).await,
            },
            Effect::Message {
                busy,
                id,
                side,
                body,
            } => Msg::Done {
                busy,
                id,
                result: desk
                    .post_negotiation_message(id, side, &body)
                    .await
                    .map(|_| format!("message posted for the {side}")),
            },
            Effect::Open { tag, new } => Msg::Opened {
                tag,
                result: desk.open_negotiation(&new).await,
            },
            Effect::FindPartners { tag, text } => Msg::PartnersFound {
                tag,
                result: find_partners(&desk, &text).await,
            },
            Effect::LoadContract { tag, id } => Msg::Contract {
                tag,
                result: desk.get_contract(id).await,
            },
            Effect::Sign {
                busy,
                id,
                contract,
                side,
            } => Msg::Done {
                busy,
                id,
                result: desk
                    .sign_contract(contract, side)
                    .await
                    .map(|c| format!("contract #{} signed for the {side}: {}", c.id, c.status)),
            },
            Effect::Benefit {
                busy,
                id,
                contract,
                position,
                to,
                note,
            } => Msg::Done {
                busy,
                id,
                result: desk
                    .mark_benefit(contract, position, to, &note)
                    .await
                    .map(|b| format!("benefit “{}” is {}", b.name, b.status)),
            },
            Effect::ContractMove {
                busy,
                id,
                contract,
                to,
                reason,
            } => Msg::Done {
                busy,
                id,
                result: desk
                    .change_contract_status(contract, to, &reason)
                    .await
                    .map(|c| format!("contract #{} is {}", c.id, c.status)),
            },
            Effect::Offer {
                tag,
                id,
                side,
                draft,
                note,
                expected,
            } => Msg::Offered {
                tag,
                id,
                result: desk
                    .make_offer(id, side, &draft, note.as_deref(), expected)
                    .await,
            },
            Effect::Accept {
                busy,
                id,
                revision,
                side,
            } => Msg::Done {
                busy,
                id,
                result: desk
                    .accept_offer(id, Some(revision), Some(side))
                    .await
                    .map(|a| accepted(&a)),
            },
            Effect::Close {
                busy,
                id,
                side,
                reason,
                reject,
            } => {
                let result = if reject {
                    desk.reject_negotiation(id, side, &reason).await
                } else {
                    desk.withdraw_negotiation(id, side, &reason).await
                };
                Msg::Done {
                    busy,
                    id,
                    result: result.map(|t| closed(&t)),
                }
            }
        }
    }
}
