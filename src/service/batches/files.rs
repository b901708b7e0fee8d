//! A payout batch written for the bank: SEPA (EUR only: debtor from the marketplace's bank
//! account setting) or CSV (every currency). The statements are read page by page and the
//! file written as they come; nothing is checked after the first byte is written that could
//! have been checked before.

use crate::domain::Permission;
use crate::domain::money::format_amount;
use crate::domain::sepa::{
    Account, CsvRow, SEPA_TRANSFER_MAX_MINOR, SepaFile, Transfer, csv_header, csv_row,
};
use crate::domain::settlement::Period;
use crate::error::{Error, Result};
use crate::service::Desk;
use crate::store::{self, batches::Item};
use chrono::Utc;
use tokio::io::{AsyncWrite, AsyncWriteExt, BufWriter};

/// A batch file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BatchFormat {
    /// A SEPA credit transfer initiation (pain.001.001.03), EUR only.
    Sepa,
    /// One row per statement: for bank, PayPal or Wise bulk uploads.
    Csv,
}

const PAGE: i64 = 1000;

fn write_error(source: std::io::Error) -> Error {
    Error::Io {
        context: "cannot write the batch file".into(),
        source,
    }
}

fn period(i: &Item) -> String {
    i.frequency
        .parse()
        .map(|f| Period::of(f, i.period_start).label())
        .unwrap_or_else(|_| i.period_start.to_string())
}

fn transfer(i: &Item) -> Transfer<'_> {
    Transfer {
        settlement_id: i.settlement_id,
        amount_minor: i.amount_minor,
        creditor: Account {
            name: i.holder.as_deref().unwrap_or_default(),
            iban: i.iban.as_deref().unwrap_or_default(),
            bic: i.bic.as_deref().unwrap_or_default(),
        },
        remittance: format!("partnerdesk settlement {}, {}", i.settlement_id, period(i)),
    }
}

impl Desk {
    /// Writes batch `id` as `format`; returns how many statements it holds. Finance and
    /// admin (the file holds bank details).
    pub async fn write_batch_file<W>(&self, id: i64, format: BatchFormat, writer: W) -> Result<u64>
    where
        W: AsyncWrite + Unpin,
    {
        self.actor().require(Permission::ManageSettlements)?;
        let mut conn = self.pool().acquire().await?;
        let batch = store::batches::get(&mut conn, id)
            .await?
            .ok_or_else(|| Error::not_found("payout batch", id))?;
        if batch.status == "cancelled" {
            return Err(Error::Refused(format!(
                "payout batch {id} is cancelled: its statements are no longer in it"
            )));
        }
        let mut sepa = None;
        if format == BatchFormat::Sepa {
            if batch.currency != "EUR" {
                return Err(Error::field(
                    "format",
                    format!(
                        "a SEPA credit transfer is in euros; batch {id} is in {}: write --format csv",
                        batch.currency
                    ),
                ));
            }
            let over = store::batches::first_over(&mut conn, id, SEPA_TRANSFER_MAX_MINOR).await?;
            if let Some(s) = over {
                return Err(Error::Refused(format!(
                    "settlement {s} in batch {id} is over SEPA's largest transfer ({}): write --format csv and pay it otherwise",
                    format_amount(SEPA_TRANSFER_MAX_MINOR, "EUR")
                )));
            }
            let settings = store::settings::get(&mut conn, true).await?;
            let Some(bank) = settings.bank() else {
                return Err(Error::Refused(
                    "the marketplace's bank account is not set (the debtor of a SEPA file): an admin sets it with `partnerdesk settings set bank_account \"HOLDER | IBAN | BIC\"`".into(),
                ));
            };
            sepa = Some(bank);
        }
        let mut out = BufWriter::with_capacity(1 << 20, writer);
        let mut file = match &sepa {
            Some(bank) => {
                let now = Utc::now();
                Some(
                    SepaFile::begin(
                        &format!("partnerdesk-batch-{id}"),
                        now.naive_utc(),
                        i64::from(batch.statement_count),
                        batch.total_minor,
                        &Account {
                            name: &bank.holder,
                            iban: &bank.iban,
                            bic: &bank.bic,
                        },
                        now.date_naive(),
                    )
                    .map_err(write_error)?,
                )
            }
            None => {
                out.write_all(&csv_header().map_err(write_error)?)
                    .await
                    .map_err(write_error)?;
                None
            }
        };
        let mut n = 0u64;
        let mut after = 0i64;
        loop {
            let page = store::batches::items(&mut conn, id, true, after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = last.settlement_id;
            let mut bytes = Vec::new();
            for i in &page {
                let t = transfer(i);
                match &mut file {
                    Some(f) => f.transfer(&t).map_err(write_error)?,
                    None => bytes.extend(
                        csv_row(&CsvRow {
                            batch_id: id,
                            transfer: &t,
                            partner_id: i.partner_id,
                            currency: &batch.currency,
                            period: &period(i),
                        })
                        .map_err(write_error)?,
                    ),
                }
                n += 1;
            }
            if let Some(f) = &mut file {
                bytes = f.drain();
            }
            out.write_all(&bytes).await.map_err(write_error)?;
        }
        if let Some(f) = file {
            out.write_all(&f.finish().map_err(write_error)?)
                .await
                .map_err(write_error)?;
        }
        out.flush().await.map_err(write_error)?;
        Ok(n)
    }
}
