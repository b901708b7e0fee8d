//! What flows between the UI and its background tasks. Requests (`Effect`) leave the UI;
//! results (`Msg`) come back tagged with the generation they answer, so stale ones are dropped.
//! A pane's own requests and answers are its own types (`panes/NAME/`), carried here inside
//! `Effect::Pane` and `Msg::Pane`.

use super::bulk::{BulkJob, MarkQuery};
use super::export::ListExport;
use super::list::Marked;
use super::recovery::FormSnapshot;
use crate::domain::bulk::BulkReport;
use crate::error::Error;
use crate::service::Desk;
use crate::service::rows::Thresholds;
use crate::service::vetting::VettingConfig;
use crossterm::event::Event;
use std::any::{Any, TypeId};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedSender;

pub use super::tag::{Gen, LoadMode};

/// Work for a background task.
#[derive(Debug)]
pub enum Effect {
    /// Work of one pane: run on a task of its own, answered with that pane's message.
    Pane(PaneEffect),
    /// Copy text to the clipboard (OSC 52, or tmux's clipboard inside tmux); `what` names it
    /// for the operator ("partner id 25").
    Copy {
        text: String,
        what: String,
    },
    /// Track the unsaved form (written to disk on crash, signal or lost connection);
    /// `None` forgets it, on disk too.
    TrackForm(Option<FormSnapshot>),
    ExpiryJob,
    /// Export a list (every row its filter matches) to a file.
    ExportList {
        pane: &'static str,
        path: std::path::PathBuf,
        export: ListExport,
    },
    /// Run one action over marked rows (each through its service call).
    Bulk(BulkJob),
    /// Ask for every row a pane's filter matches, to mark them (`pane` is the pane's key).
    MarkAll {
        pane: &'static str,
        tag: Gen,
        query: MarkQuery,
    },
}

/// Something announced by the database that any pane may show (LISTEN/NOTIFY), or the clock
/// reaching a new minute (time-based views move on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// Another session or the platform changed a deal's redemption count.
    DealCount { deal_id: i64, count: i32 },
    /// A deal entered the active set (`active`), left it, or, being active, changed its title.
    DealState { deal_id: i64, active: bool },
    /// A new clock minute began (sent by the runtime once a minute).
    Minute { now: chrono::DateTime<chrono::Utc> },
    /// Somebody (this console or another session) changed records of this kind.
    Changed(Changed),
}

/// The kind of record a change touched (the audit log's entity type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Changed {
    Partner,
    Deal,
    Redemption,
    /// Settlements (computed, moved, tallied).
    Settlement,
    /// The referral program: plans, referral codes, claim tokens, commission rules,
    /// attributed accounts and their conversions (payouts).
    Referral,
    /// Operators, seeds, anything no pane lists but the audit log.
    Other,
}

impl Changed {
    pub fn of(entity_type: &str) -> Changed {
        match entity_type {
            "partner" => Changed::Partner,
            "deal" => Changed::Deal,
            "redemption" => Changed::Redemption,
            "settlement" => Changed::Settlement,
            "plan" | "referral_code" | "claim_token" | "commission_rule" | "referral_account"
            | "referral_payout" => Changed::Referral,
            _ => Changed::Other,
        }
    }
}

/// Everything that can wake the UI. (A pane's answer, a detail with its timeline, is the
/// largest; each is moved once through the channel, so it is not boxed.)
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Msg {
    Terminal(Event),
    Connected(Desk),
    ConnectFailed(Error),
    ConnectionLost,
    Reconnected,
    Notice(Notice),
    ExpiryDone(Result<u64, Error>),
    /// What was copied ("partner id 25"), or why nothing was.
    Copied(Result<String, String>),
    Tick,
    /// The answer to one pane's effect.
    Pane(PaneMsg),
    /// A list export has written this many rows.
    ExportProgress {
        rows: u64,
    },
    /// A list export ended: the rows written, or why nothing was.
    ListExported {
        pane: &'static str,
        path: std::path::PathBuf,
        result: Result<u64, Error>,
    },
    /// A bulk run got this far (rows done, of all).
    BulkProgress {
        done: usize,
        total: usize,
    },
    /// A bulk run ended: its report, or what stopped it.
    BulkDone {
        pane: &'static str,
        result: Result<BulkReport, Error>,
    },
    /// Every row a pane's filter matched (`Effect::MarkAll`).
    MarkedAll {
        pane: &'static str,
        tag: Gen,
        result: Result<Vec<Marked>, Error>,
    },
}

/// An answer that may carry a failure: the runtime looks at every answer once for a lost
/// connection, so no pane's effect can forget to.
pub trait Reply {
    fn failure(&self) -> Option<&Error>;
}

/// The failure of a result, for `Reply` implementations.
pub fn failure_of<T>(r: &Result<T, Error>) -> Option<&Error> {
    r.as_ref().err()
}

impl Msg {
    /// The failure the message carries, if any (the runtime looks at every answer once for a
    /// lost connection).
    pub fn failure(&self) -> Option<&Error> {
        match self {
            Msg::ExpiryDone(r) => failure_of(r),
            Msg::Pane(m) => m.failure(),
            Msg::MarkedAll { result, .. } => failure_of(result),
            Msg::BulkDone { result, .. } => failure_of(result),
            Msg::BulkProgress { .. } | Msg::ExportProgress { .. } => None,
            Msg::ListExported { result, .. } => failure_of(result),
            Msg::Terminal(_)
            | Msg::Connected(_)
            | Msg::ConnectFailed(_)
            | Msg::ConnectionLost
            | Msg::Reconnected
            | Msg::Notice(_)
            | Msg::Copied(_)
            | Msg::Tick => None,
        }
    }
}

/// The answer type of one pane's background work (`Task::Msg`), implemented by each pane's
/// message type: it is carried to the app as a [`PaneMsg`] and handed back to its pane.
pub trait PaneReply: Reply + std::fmt::Debug + Send + 'static {}

/// A pane's background work: the service calls it makes, each run on a task of its own and
/// answered with the pane's message.
pub trait Task: std::fmt::Debug + Send + 'static {
    type Msg: PaneReply;
    fn run(self, desk: Desk, ctx: TaskCtx) -> impl Future<Output = Self::Msg> + Send;
}

/// A pane's answer on its way to the app, whichever pane it is of (the app hands it to the
/// pane whose message type it is).
#[derive(Debug)]
pub struct PaneMsg(Box<dyn ErasedReply>);

trait ErasedReply: std::fmt::Debug + Send {
    fn failure(&self) -> Option<&Error>;
    fn type_of(&self) -> TypeId;
    fn as_any(&self) -> &dyn Any;
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
}

impl<M: PaneReply> ErasedReply for M {
    fn failure(&self) -> Option<&Error> {
        Reply::failure(self)
    }
    fn type_of(&self) -> TypeId {
        TypeId::of::<M>()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
}

impl PaneMsg {
    /// The message, when it is of type `M`; itself back otherwise.
    pub fn take<M: PaneReply>(self) -> Result<M, PaneMsg> {
        if self.0.type_of() == TypeId::of::<M>() {
            match self.0.into_any().downcast::<M>() {
                Ok(m) => Ok(*m),
                Err(_) => unreachable!("the type was checked"),
            }
        } else {
            Err(self)
        }
    }
}

impl Reply for PaneMsg {
    fn failure(&self) -> Option<&Error> {
        self.0.failure()
    }
}

impl<M: PaneReply> From<M> for Msg {
    fn from(m: M) -> Msg {
        Msg::Pane(PaneMsg(Box::new(m)))
    }
}

/// A pane's background work on its way to a task, whichever pane it is of.
#[derive(Debug)]
pub struct PaneEffect(Box<dyn ErasedTask>);

type Running = Pin<Box<dyn Future<Output = Msg> + Send>>;

trait ErasedTask: std::fmt::Debug + Send {
    fn start(self: Box<Self>, desk: Desk, ctx: TaskCtx) -> Running;
    fn as_any(&self) -> &dyn Any;
}

impl<T: Task> ErasedTask for T {
    fn start(self: Box<Self>, desk: Desk, ctx: TaskCtx) -> Running {
        Box::pin(async move { Msg::from(self.run(desk, ctx).await) })
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Effect {
    /// The pane work this is, when it is of type `T` (tests and benchmarks look inside).
    pub fn pane<T: Task>(&self) -> Option<&T> {
        match self {
            Effect::Pane(p) => p.0.as_any().downcast_ref::<T>(),
            _ => None,
        }
    }
}

impl Msg {
    /// The pane answer this is, when it is of type `M`.
    pub fn pane<M: PaneReply>(&self) -> Option<&M> {
        match self {
            Msg::Pane(p) => p.0.as_any().downcast_ref::<M>(),
            _ => None,
        }
    }
}

impl PaneEffect {
    /// Runs the work; its answer comes back as a message for its pane.
    pub async fn run(self, desk: Desk, ctx: TaskCtx) -> Msg {
        self.0.start(desk, ctx).await
    }
}

impl<T: Task> From<T> for Effect {
    fn from(t: T) -> Effect {
        Effect::Pane(PaneEffect(Box::new(t)))
    }
}

/// What a pane's background task has besides the services: a way to report progress, and
/// the settings background work needs.
#[derive(Clone)]
pub struct TaskCtx {
    pub tx: UnboundedSender<Msg>,
    pub vetting: Arc<VettingConfig>,
    pub thresholds: Thresholds,
}

impl Effect {
    /// Copies a record's id, named for the toast: `copy_id("partner", 25)`.
    pub fn copy_id(entity: &str, id: i64) -> Effect {
        Effect::Copy {
            text: id.to_string(),
            what: format!("{entity} id {id}"),
        }
    }
}

impl TaskCtx {
    /// Sends a message before the task's answer (progress).
    pub fn send(&self, msg: impl Into<Msg>) {
        let _ = self.tx.send(msg.into());
    }
}

#[cfg(test)]
mod tests {
    use super::Changed;

    #[test]
    fn the_referral_programs_records_are_one_kind_of_change() {
        for kind in [
            "plan",
            "referral_code",
            "claim_token",
            "commission_rule",
            "referral_account",
            "referral_payout",
        ] {
            assert_eq!(Changed::of(kind), Changed::Referral, "{kind}");
        }
        assert_eq!(Changed::of("agreement"), Changed::Other);
    }
}
