//! The Redemptions pane's background work: what it asks of the services and what comes back.

use super::Scope;
use crate::console::msg::{Gen, LoadMode, Reply, TaskCtx, failure_of};
use crate::console::pane::Task;
use crate::domain::FlagKind;
use crate::error::Error;
use crate::service::Desk;
use crate::service::export::ExportReport;
use crate::service::monitor::Signals;
use crate::service::rows::{
    AuditEntry, ExportFilter, MonitorFilter, MonitorRow, Redemption, RedemptionRow,
};
use chrono::{DateTime, Utc};

#[derive(Debug)]
pub enum Effect {
    /// A page of the monitor's active deals matching `filter`, after the deal id `before`.
    Monitor {
        tag: Gen,
        filter: MonitorFilter,
        before: Option<i64>,
        limit: i64,
        mode: LoadMode,
    },
    /// One deal's monitor row (it has just become active), if it matches `filter`.
    MonitorDeal {
        deal_id: i64,
        filter: MonitorFilter,
    },
    Signals {
        tag: Gen,
    },
    /// A page of a deal's or a member's redemptions, newest first.
    Redemptions {
        tag: Gen,
        scope: Scope,
        before: Option<(DateTime<Utc>, i64)>,
        limit: i64,
        mode: LoadMode,
    },
    Timeline {
        id: i64,
    },
    Flag {
        id: i64,
        kind: FlagKind,
        note: String,
    },
    Unflag {
        id: i64,
        reason: String,
    },
    Refund {
        id: i64,
        reason: String,
    },
    /// Stream a deal's redemptions to a CSV file; `cancel` stops it.
    Export {
        filter: ExportFilter,
        path: String,
        cancel: tokio::sync::watch::Receiver<bool>,
    },
}

#[derive(Debug)]
pub enum Msg {
    Monitor {
        tag: Gen,
        mode: LoadMode,
        result: Result<Vec<MonitorRow>, Error>,
    },
    MonitorDeal {
        deal_id: i64,
        result: Result<Vec<MonitorRow>, Error>,
    },
    Signals {
        tag: Gen,
        result: Result<Signals, Error>,
    },
    Redemptions {
        tag: Gen,
        mode: LoadMode,
        result: Result<Vec<RedemptionRow>, Error>,
    },
    Timeline {
        id: i64,
        result: Result<Vec<AuditEntry>, Error>,
    },
    Flagged {
        result: Result<Redemption, Error>,
    },
    /// A refund is done: the redemption and where its reversal lands.
    Refunded {
        result: Result<(Redemption, String), Error>,
    },
    ExportProgress {
        rows: u64,
        total: u64,
    },
    ExportDone {
        path: String,
        result: Result<ExportReport, Error>,
    },
}

impl Reply for Msg {
    fn failure(&self) -> Option<&Error> {
        match self {
            Msg::Monitor { result, .. } => failure_of(result),
            Msg::MonitorDeal { result, .. } => failure_of(result),
            Msg::Signals { result, .. } => failure_of(result),
            Msg::Redemptions { result, .. } => failure_of(result),
            Msg::Timeline { result, .. } => failure_of(result),
            Msg::Flagged { result } => failure_of(result),
            Msg::Refunded { result } => failure_of(result),
            Msg::ExportDone { result, .. } => failure_of(result),
            Msg::ExportProgress { .. } => None,
        }
    }
}

impl crate::console::msg::PaneReply for Msg {}

impl Task for Effect {
    type Msg = Msg;

    async fn run(self, desk: Desk, ctx: TaskCtx) -> Msg {
        match self {
            Effect::Monitor {
                tag,
                filter,
                before,
                limit,
                mode,
            } => Msg::Monitor {
                tag,
                mode,
                result: desk.monitor_deals(&filter, before, limit, Utc::now()).await,
            },
            Effect::MonitorDeal { deal_id, filter } => Msg::MonitorDeal {
                deal_id,
                result: desk.monitor_deals(&filter, None, 1, Utc::now()).await,
            },
            Effect::Signals { tag } => Msg::Signals {
                tag,
                result: desk.signals(&ctx.thresholds, Utc::now()).await,
            },
            Effect::Redemptions {
                tag,
                scope,
                before,
                limit,
                mode,
            } => {
                let result = match scope {
                    Scope::Deal { id, from, to, .. } => {
                        desk.redemptions_of_deal(id, from, to, before, limit).await
                    }
                    Scope::Member { id, from, to, .. } => {
                        desk.redemptions_of_member(id, from, to, before, limit)
                            .await
                    }
                };
                Msg::Redemptions { tag, mode, result }
            }
            Effect::Timeline { id } => Msg::Timeline {
                id,
                result: desk.timeline("redemption", id, 50).await,
            },
            Effect::Flag { id, kind, note } => Msg::Flagged {
                result: desk.flag_redemption(id, kind, &note).await,
            },
            Effect::Unflag { id, reason } => Msg::Flagged {
                result: desk.unflag_redemption(id, &reason).await,
            },
            Effect::Refund { id, reason } => Msg::Refunded {
                result: desk.refund_redemption(id, &reason).await,
            },
            Effect::Export {
                filter,
                path,
                cancel,
            } => {
                let result = async {
                    let total = desk.export_redemptions_count(&filter).await?;
                    // Written beside the file, 0600, and moved into place when complete; an
                    // existing file, a link, a FIFO or a device is refused.
                    let (partial, file) =
                        crate::files::PartialFile::create(std::path::Path::new(&path), false)?;
                    let progress = {
                        let ctx = ctx.clone();
                        move |rows: u64, _bytes: u64| ctx.send(Msg::ExportProgress { rows, total })
                    };
                    let file = tokio::fs::File::from_std(file);
                    let report = desk
                        .export_redemptions(&filter, file, progress, cancel)
                        .await?;
                    partial.commit()?;
                    Ok(report)
                }
                .await;
                Msg::ExportDone { path, result }
            }
        }
    }
}
