//! What flows between the UI and its background tasks. Requests (`Effect`) leave the UI;
//! results (`Msg`) come back tagged with the generation they answer, so stale ones are dropped.

use crate::domain::{DealDraft, DealState};
use crate::error::Error;
use crate::service::Desk;
use crate::service::partners::OffboardReport;
use crate::service::vetting::CheckResult;
use crate::store::audit::{AuditEntry, AuditFilter};
use crate::store::deal_list::{DealFilter, DealListRow};
use crate::store::deals::{CouponCodeChange, Deal};
use crate::store::partners::{Partner, PartnerFilter, PartnerListRow};
use crossterm::event::Event;

/// A request generation: every load carries one, and a pane keeps only the newest answer.
pub type Gen = u64;

/// Everything the partner detail view shows.
#[derive(Debug, Clone)]
pub struct PartnerDetail {
    pub partner: Partner,
    pub deals_by_state: Vec<(String, i64)>,
    pub checks: Vec<CheckResult>,
    pub timeline: Vec<AuditEntry>,
}

/// How a loaded page joins the rows already shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadMode {
    /// The first page.
    Replace,
    /// The page after the last row.
    Append,
    /// The page before the first row.
    Prepend,
    /// The last page (jump to the bottom).
    Last,
}

/// Everything the deal detail view shows.
#[derive(Debug, Clone)]
pub struct DealDetail {
    pub deal: Deal,
    pub partner_name: String,
    pub codes: Vec<CouponCodeChange>,
    pub timeline: Vec<AuditEntry>,
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

/// Work for a background task.
#[derive(Debug, Clone)]
pub enum Effect {
    /// A page of partners; for `Prepend` and `Last` the filter runs backwards and the rows
    /// come back reversed into display order.
    LoadPartners {
        tag: Gen,
        filter: PartnerFilter,
        limit: i64,
        mode: LoadMode,
    },
    LoadPartnerDetail {
        tag: Gen,
        id: i64,
    },
    SavePartner {
        tag: Gen,
        id: Option<i64>,
        version: Option<i32>,
        draft: crate::domain::PartnerDraft,
    },
    PartnerOp {
        tag: Gen,
        id: i64,
        version: i32,
        op: PartnerOp,
    },
    RunChecks {
        id: i64,
        name: String,
    },
    LoadDeals {
        tag: Gen,
        filter: DealFilter,
        limit: i64,
        mode: LoadMode,
    },
    LoadDealDetail {
        tag: Gen,
        id: i64,
    },
    SaveDeal {
        tag: Gen,
        id: Option<i64>,
        version: Option<i32>,
        draft: DealDraft,
    },
    DealState {
        tag: Gen,
        id: i64,
        version: i32,
        to: DealState,
    },
    /// Read a CSV file and import it (`dry_run`: only check it, for the preview).
    ImportDeals {
        tag: Gen,
        path: String,
        dry_run: bool,
    },
    LoadRedemptions {
        tag: Gen,
        scope: super::redemptions::Scope,
        before: Option<(chrono::DateTime<chrono::Utc>, i64)>,
        limit: i64,
        append: bool,
    },
    LoadRedemptionTimeline {
        id: i64,
    },
    Flag {
        id: i64,
        kind: crate::domain::FlagKind,
        note: String,
    },
    Unflag {
        id: i64,
        reason: String,
    },
    /// Stream a deal's redemptions to a CSV file; `cancel` stops it.
    Export {
        filter: crate::store::redemptions::ExportFilter,
        path: String,
        cancel: tokio::sync::watch::Receiver<bool>,
    },
    LoadMonitor {
        tag: Gen,
        before_id: Option<i64>,
        limit: i64,
        append: bool,
    },
    LoadSignals {
        tag: Gen,
    },
    LoadAudit {
        tag: Gen,
        filter: AuditFilter,
        limit: i64,
        append: bool,
    },
    /// Copy text to the clipboard (OSC 52).
    Copy(String),
    /// Track the unsaved form (written to disk on crash, signal or lost connection);
    /// `None` forgets it, on disk too.
    TrackForm(Option<super::recovery::FormSnapshot>),
    ExpiryJob,
}

/// Outcome of a partner state change.
#[derive(Debug)]
pub enum OpOutcome {
    Partner(Partner),
    Deleted,
    Offboarded(OffboardReport),
}

/// Everything that can wake the UI.
#[derive(Debug)]
pub enum Msg {
    Terminal(Event),
    Connected(Desk),
    ConnectFailed(Error),
    ConnectionLost,
    Reconnected,
    Partners {
        tag: Gen,
        mode: LoadMode,
        result: Result<Vec<PartnerListRow>, Error>,
    },
    PartnerDetail {
        tag: Gen,
        result: Result<PartnerDetail, Error>,
    },
    PartnerSaved {
        tag: Gen,
        result: Result<Partner, Error>,
    },
    PartnerOpDone {
        tag: Gen,
        op: PartnerOp,
        result: Result<OpOutcome, Error>,
    },
    ChecksProgress {
        id: i64,
        done: usize,
        total: usize,
        check: String,
    },
    ChecksDone {
        id: i64,
        name: String,
        result: Result<Vec<CheckResult>, Error>,
    },
    Deals {
        tag: Gen,
        mode: LoadMode,
        result: Result<Vec<DealListRow>, Error>,
    },
    DealDetail {
        tag: Gen,
        result: Result<DealDetail, Error>,
    },
    DealSaved {
        tag: Gen,
        result: Result<Deal, Error>,
    },
    DealStateDone {
        tag: Gen,
        to: DealState,
        result: Result<Deal, Error>,
    },
    /// Another session or the platform changed a deal's redemption count (LISTEN/NOTIFY).
    DealCount {
        deal_id: i64,
        count: i32,
    },
    Imported {
        tag: Gen,
        path: String,
        result: Result<crate::service::import::ImportReport, Error>,
    },
    Redemptions {
        tag: Gen,
        append: bool,
        result: Result<Vec<crate::store::redemptions::RedemptionRow>, Error>,
    },
    RedemptionTimeline {
        id: i64,
        result: Result<Vec<AuditEntry>, Error>,
    },
    FlagDone {
        result: Result<crate::store::redemptions::Redemption, Error>,
    },
    ExportProgress {
        rows: u64,
        total: u64,
    },
    ExportDone {
        path: String,
        result: Result<crate::service::export::ExportReport, Error>,
    },
    Monitor {
        tag: Gen,
        append: bool,
        result: Result<Vec<crate::store::monitor::MonitorRow>, Error>,
    },
    Signals {
        tag: Gen,
        result: Result<crate::service::monitor::Signals, Error>,
    },
    Audit {
        tag: Gen,
        append: bool,
        result: Result<Vec<AuditEntry>, Error>,
    },
    ExpiryDone(Result<u64, Error>),
    Copied(Result<usize, String>),
    Tick,
}
