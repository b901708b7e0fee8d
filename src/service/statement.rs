//! A settlement's statement, streamed line by line: as CSV for the partner (`settle export`)
//! and as JSON lines for scripts (`settle show --json`). Amounts are decimal strings in the
//! currency's places (EUR "0.63", JPY "500", KWD "1.234"), never floats; the lines are read
//! from the database as a stream, never held whole.

use super::Desk;
use crate::domain::Permission;
use crate::domain::money::decimal_string;
use crate::error::{Error, Result};
use crate::store::{self, settlements::Line};
use futures::TryStreamExt;
use serde::Serialize;
use tokio::io::{AsyncWrite, AsyncWriteExt, BufWriter};

/// The columns of a statement file.
pub const STATEMENT_COLUMNS: &[&str] = &[
    "line",
    "kind",
    "source_id",
    "at",
    "value",
    "value_currency",
    "rate_bps",
    "amount",
    "currency",
    "exception",
];

/// One line as a statement shows it: every amount a decimal string.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StatementLine {
    pub line: i32,
    pub kind: String,
    /// The redemption of a redemption line, the payout of a referral line.
    pub source_id: Option<i64>,
    pub at: String,
    pub value: Option<String>,
    pub value_currency: Option<String>,
    pub rate_bps: Option<i32>,
    pub amount: Option<String>,
    pub currency: String,
    pub exception: Option<String>,
}

impl StatementLine {
    pub fn of(l: &Line, currency: &str) -> Self {
        StatementLine {
            line: l.line_no,
            kind: l.kind.to_string(),
            source_id: l.redemption_id.or(l.payout_id),
            at: l.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            value: l
                .value_minor
                .zip(l.currency.as_deref())
                .map(|(v, c)| decimal_string(v, c)),
            value_currency: l.currency.clone(),
            rate_bps: l.rate_bps,
            amount: l.amount_minor.map(|a| decimal_string(a, currency)),
            currency: currency.to_owned(),
            exception: l.exception.0.map(|e| e.to_string()),
        }
    }

    fn csv(&self) -> String {
        let o = |v: &Option<String>| v.clone().unwrap_or_default();
        format!(
            "{},{},{},{},{},{},{},{},{},{}\n",
            self.line,
            self.kind,
            self.source_id.map(|v| v.to_string()).unwrap_or_default(),
            self.at,
            o(&self.value),
            o(&self.value_currency),
            self.rate_bps.map(|v| v.to_string()).unwrap_or_default(),
            o(&self.amount),
            self.currency,
            o(&self.exception),
        )
    }
}

/// How a statement is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementFormat {
    /// A header line, then one CSV line per statement line.
    Csv,
    /// One JSON object per line, each on a line of its own, comma-separated (the caller
    /// writes the surrounding array).
    JsonItems,
}

impl Desk {
    /// Streams every line of settlement `id` into `writer`, calling `progress(lines)` every
    /// 10,000 lines and at the end. Returns the number of lines written.
    pub async fn write_statement<W, P>(
        &self,
        id: i64,
        format: StatementFormat,
        writer: W,
        mut progress: P,
    ) -> Result<u64>
    where
        W: AsyncWrite + Unpin,
        P: FnMut(u64),
    {
        self.actor().require(Permission::ViewSettlements)?;
        let mut conn = self.pool().acquire().await?;
        let s = store::settlements::get(&mut conn, id)
            .await?
            .ok_or_else(|| Error::not_found("settlement", id))?
            .settlement;
        let mut out = BufWriter::with_capacity(1 << 20, writer);
        if format == StatementFormat::Csv {
            out.write_all(format!("{}\n", STATEMENT_COLUMNS.join(",")).as_bytes())
                .await
                .map_err(write_error)?;
        }
        let mut n = 0u64;
        let mut lines = store::settlements::stream_lines(&mut conn, id);
        while let Some(l) = lines.try_next().await? {
            let line = StatementLine::of(&l, &s.currency);
            let text = match format {
                StatementFormat::Csv => line.csv(),
                StatementFormat::JsonItems => {
                    let sep = if n == 0 { "" } else { ",\n" };
                    format!("{sep}{}", serde_json::to_string(&line).unwrap_or_default())
                }
            };
            out.write_all(text.as_bytes()).await.map_err(write_error)?;
            n += 1;
            if n.is_multiple_of(10_000) {
                progress(n);
            }
        }
        out.flush().await.map_err(write_error)?;
        progress(n);
        Ok(n)
    }

    /// How many lines settlement `id` has (a progress bar's total).
    pub async fn statement_len(&self, id: i64) -> Result<u64> {
        self.actor().require(Permission::ViewSettlements)?;
        let mut conn = self.pool().acquire().await?;
        let s = store::settlements::get(&mut conn, id)
            .await?
            .ok_or_else(|| Error::not_found("settlement", id))?
            .settlement;
        Ok(u64::try_from(s.line_count + s.exception_count).unwrap_or(0))
    }
}

fn write_error(source: std::io::Error) -> Error {
    Error::Io {
        context: "cannot write the statement".into(),
        source,
    }
}
