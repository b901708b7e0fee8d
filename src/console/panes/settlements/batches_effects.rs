//! The batches view's background work: a page of batches, one batch with its statements,
//! the settings it is made under, the plan of a new batch, and the confirmed changes
//! (creating, paying, cancelling a batch, writing its file).

use crate::console::msg::{Gen, LoadMode, Reply, failure_of};
use crate::console::shell::BusyId;
use crate::domain::money::format_amount;
use crate::error::{Error, Result};
use crate::files::{self, PartialFile};
use crate::service::Desk;
use crate::service::batches::{BatchFormat, BatchPlan};
use crate::service::settings::Settings;
use crate::store::batches::{Batch, Item};
use chrono::NaiveDate;
use std::path::PathBuf;

/// How many of a batch's statements its detail shows.
pub const BATCH_ITEMS_SHOWN: i64 = 500;

/// An open batch: the batch and its first statements.
#[derive(Debug, Clone)]
pub struct OpenBatch {
    pub batch: Batch,
    pub items: Vec<Item>,
}

/// A confirmed change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Create {
        currency: String,
        note: Option<String>,
    },
    Pay {
        id: i64,
        reference: String,
        paid_on: Option<NaiveDate>,
    },
    Cancel {
        id: i64,
    },
    Write {
        id: i64,
        format: BatchFormat,
        path: PathBuf,
    },
}

#[derive(Debug)]
pub enum Effect {
    /// A page of batches, newest first, before a batch id.
    Load {
        tag: Gen,
        before: Option<i64>,
        limit: i64,
        mode: LoadMode,
    },
    /// One batch with its first statements.
    Open {
        tag: Gen,
        id: i64,
    },
    /// The marketplace's settings (for finance and admin: the view's header).
    Settings {
        tag: Gen,
    },
    /// What a batch of `currency` would hold, before asking.
    Plan {
        tag: Gen,
        currency: String,
        note: Option<String>,
    },
    Act {
        busy: BusyId,
        op: Op,
    },
}

#[derive(Debug)]
pub enum Msg {
    Page {
        tag: Gen,
        mode: LoadMode,
        result: Result<Vec<Batch>>,
    },
    Opened {
        tag: Gen,
        result: Result<Box<OpenBatch>>,
    },
    Settings {
        tag: Gen,
        result: Result<Box<Settings>>,
    },
    Plan {
        tag: Gen,
        note: Option<String>,
        result: Result<Box<BatchPlan>>,
    },
    Done {
        busy: BusyId,
        result: Result<String>,
    },
}

impl Reply for Msg {
    fn failure(&self) -> Option<&Error> {
        match self {
            Msg::Page { result, .. } => failure_of(result),
            Msg::Opened { result, .. } => failure_of(result),
            Msg::Settings { result, .. } => failure_of(result),
            Msg::Plan { result, .. } => failure_of(result),
            Msg::Done { result, .. } => failure_of(result),
        }
    }
}

/// Writes the batch's file the safe way (a partial file renamed into place once whole).
async fn write(desk: &Desk, id: i64, format: BatchFormat, path: &std::path::Path) -> Result<u64> {
    let (partial, file) = PartialFile::create(path, false)?;
    let n = match desk
        .write_batch_file(id, format, tokio::fs::File::from_std(file))
        .await
    {
        Ok(n) => n,
        Err(Error::Io { source, .. }) => return Err(files::cannot_write(path, source)),
        Err(e) => return Err(e),
    };
    partial.commit()?;
    Ok(n)
}

async fn act(desk: &Desk, op: Op) -> Result<String> {
    Ok(match op {
        Op::Create { currency, note } => {
            let (b, _) = desk.create_batch(&currency, note.as_deref()).await?;
            format!(
                "payout batch {} created: {} statement{}, {}",
                b.id,
                b.statement_count,
                if b.statement_count == 1 { "" } else { "s" },
                format_amount(b.total_minor, &b.currency)
            )
        }
        Op::Pay {
            id,
            reference,
            paid_on,
        } => {
            let (b, paid) = desk.pay_batch(id, &reference, paid_on).await?;
            format!(
                "payout batch {id} paid: {} statement{} marked paid, {}, reference {reference}",
                paid.len(),
                if paid.len() == 1 { "" } else { "s" },
                format_amount(b.total_minor, &b.currency)
            )
        }
        Op::Cancel { id } => {
            let b = desk.cancel_batch(id, None).await?;
            format!(
                "payout batch {id} cancelled: its {} statement{} may be batched again",
                b.statement_count,
                if b.statement_count == 1 { "" } else { "s" }
            )
        }
        Op::Write { id, format, path } => {
            let n = write(desk, id, format, &path).await?;
            format!(
                "payout batch {id} written to {}: {n} transfer{}",
                path.display(),
                if n == 1 { "" } else { "s" }
            )
        }
    })
}

impl Effect {
    pub async fn run(self, desk: Desk) -> Msg {
        match self {
            Effect::Load {
                tag,
                before,
                limit,
                mode,
            } => Msg::Page {
                tag,
                mode,
                result: desk.batches(None, before, limit).await,
            },
            Effect::Open { tag, id } => {
                let result = async {
                    let batch = desk.batch(id).await?;
                    let items = desk.batch_items(id, 0, BATCH_ITEMS_SHOWN).await?;
                    Ok(Box::new(OpenBatch { batch, items }))
                };
                Msg::Opened {
                    tag,
                    result: result.await,
                }
            }
            Effect::Settings { tag } => Msg::Settings {
                tag,
                result: desk.settings().await.map(Box::new),
            },
            Effect::Plan {
                tag,
                currency,
                note,
            } => Msg::Plan {
                tag,
                note,
                result: desk.plan_batch(&currency).await.map(Box::new),
            },
            Effect::Act { busy, op } => Msg::Done {
                busy,
                result: act(&desk, op).await,
            },
        }
    }
}
