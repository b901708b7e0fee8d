//! A payout batch as files for the bank: a SEPA credit transfer initiation (ISO 20022
//! pain.001.001.03: one payment of the marketplace's account, one transaction per statement,
//! the statement as end-to-end reference, euros with two decimals, `CtrlSum` their sum), and
//! a CSV for bank or PayPal/Wise bulk upload. Written piece by piece into a buffer the caller
//! drains, so that a batch of any size streams to its file. XML by `quick-xml`, CSV by `csv`.

use super::money::decimal_string;
use chrono::{NaiveDate, NaiveDateTime};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use std::io;

/// SEPA's largest credit transfer: 999,999,999.99 EUR.
pub const SEPA_TRANSFER_MAX_MINOR: i64 = 99_999_999_999;
const NS: &str = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03";

/// An account: who holds it, its IBAN and its bank's BIC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account<'a> {
    pub name: &'a str,
    pub iban: &'a str,
    pub bic: &'a str,
}

/// One transfer: what the marketplace pays one statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer<'a> {
    pub settlement_id: i64,
    pub amount_minor: i64,
    pub creditor: Account<'a>,
    /// What the partner reads on its bank statement.
    pub remittance: String,
}

/// The end-to-end reference of a statement's transfer.
pub fn end_to_end(settlement_id: i64) -> String {
    format!("settlement-{settlement_id}")
}

/// A SEPA file being written.
pub struct SepaFile {
    w: Writer<Vec<u8>>,
}

fn el(w: &mut Writer<Vec<u8>>, name: &str, text: &str) -> io::Result<()> {
    w.create_element(name)
        .write_text_content(BytesText::new(text))?;
    Ok(())
}

fn open(w: &mut Writer<Vec<u8>>, name: &str) -> io::Result<()> {
    w.write_event(Event::Start(BytesStart::new(name)))?;
    Ok(())
}

fn close(w: &mut Writer<Vec<u8>>, name: &str) -> io::Result<()> {
    w.write_event(Event::End(BytesEnd::new(name)))?;
    Ok(())
}

/// `<Tag><Id><IBAN>…</IBAN></Id></Tag>` and the agent's BIC.
fn account(w: &mut Writer<Vec<u8>>, party: &str, a: &Account<'_>) -> io::Result<()> {
    open(w, party)?;
    el(w, "Nm", a.name)?;
    close(w, party)?;
    open(w, &format!("{party}Acct"))?;
    open(w, "Id")?;
    el(w, "IBAN", a.iban)?;
    close(w, "Id")?;
    close(w, &format!("{party}Acct"))?;
    Ok(())
}

fn agent(w: &mut Writer<Vec<u8>>, party: &str, bic: &str) -> io::Result<()> {
    open(w, &format!("{party}Agt"))?;
    open(w, "FinInstnId")?;
    el(w, "BIC", bic)?;
    close(w, "FinInstnId")?;
    close(w, &format!("{party}Agt"))?;
    Ok(())
}

impl SepaFile {
    /// The document's start: the group header and the one payment of the debtor's account
    /// with `count` transactions summing to `sum_minor` cents, to be executed on `execute_on`.
    pub fn begin(
        message_id: &str,
        created: NaiveDateTime,
        count: i64,
        sum_minor: i64,
        debtor: &Account<'_>,
        execute_on: NaiveDate,
    ) -> io::Result<SepaFile> {
        let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        w.write_event(Event::Start(BytesStart::new("Document").with_attributes([
            ("xmlns", NS),
            ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
        ])))?;
        open(&mut w, "CstmrCdtTrfInitn")?;
        let count = count.to_string();
        let sum = decimal_string(sum_minor, "EUR");
        open(&mut w, "GrpHdr")?;
        el(&mut w, "MsgId", message_id)?;
        el(
            &mut w,
            "CreDtTm",
            &created.format("%Y-%m-%dT%H:%M:%S").to_string(),
        )?;
        el(&mut w, "NbOfTxs", &count)?;
        el(&mut w, "CtrlSum", &sum)?;
        open(&mut w, "InitgPty")?;
        el(&mut w, "Nm", debtor.name)?;
        close(&mut w, "InitgPty")?;
        close(&mut w, "GrpHdr")?;
        open(&mut w, "PmtInf")?;
        el(&mut w, "PmtInfId", message_id)?;
        el(&mut w, "PmtMtd", "TRF")?;
        el(&mut w, "BtchBookg", "true")?;
        el(&mut w, "NbOfTxs", &count)?;
        el(&mut w, "CtrlSum", &sum)?;
        open(&mut w, "PmtTpInf")?;
        open(&mut w, "SvcLvl")?;
        el(&mut w, "Cd", "SEPA")?;
        close(&mut w, "SvcLvl")?;
        close(&mut w, "PmtTpInf")?;
        el(
            &mut w,
            "ReqdExctnDt",
            &execute_on.format("%Y-%m-%d").to_string(),
        )?;
        account(&mut w, "Dbtr", debtor)?;
        agent(&mut w, "Dbtr", debtor.bic)?;
        el(&mut w, "ChrgBr", "SLEV")?;
        Ok(SepaFile { w })
    }

    /// One transaction.
    pub fn transfer(&mut self, t: &Transfer<'_>) -> io::Result<()> {
        let w = &mut self.w;
        open(w, "CdtTrfTxInf")?;
        open(w, "PmtId")?;
        el(w, "EndToEndId", &end_to_end(t.settlement_id))?;
        close(w, "PmtId")?;
        open(w, "Amt")?;
        w.create_element("InstdAmt")
            .with_attribute(("Ccy", "EUR"))
            .write_text_content(BytesText::new(&decimal_string(t.amount_minor, "EUR")))?;
        close(w, "Amt")?;
        agent(w, "Cdtr", t.creditor.bic)?;
        account(w, "Cdtr", &t.creditor)?;
        open(w, "RmtInf")?;
        el(w, "Ustrd", &t.remittance)?;
        close(w, "RmtInf")?;
        close(w, "CdtTrfTxInf")?;
        Ok(())
    }

    /// What has been written since the last call (to be written to the file).
    pub fn drain(&mut self) -> Vec<u8> {
        std::mem::take(self.w.get_mut())
    }

    /// The document's end; returns what is left to write.
    pub fn finish(mut self) -> io::Result<Vec<u8>> {
        close(&mut self.w, "PmtInf")?;
        close(&mut self.w, "CstmrCdtTrfInitn")?;
        close(&mut self.w, "Document")?;
        self.w.get_mut().push(b'\n');
        Ok(self.w.into_inner())
    }
}

/// The columns of a batch's CSV.
pub const CSV_COLUMNS: &[&str] = &[
    "batch",
    "settlement",
    "partner",
    "name",
    "iban",
    "bic",
    "amount",
    "currency",
    "reference",
    "period",
];

/// One CSV row of a batch (quoted as the `csv` crate quotes).
pub struct CsvRow<'a> {
    pub batch_id: i64,
    pub transfer: &'a Transfer<'a>,
    pub partner_id: i64,
    pub currency: &'a str,
    pub period: &'a str,
}

/// The CSV header, then rows, each into bytes.
pub fn csv_header() -> io::Result<Vec<u8>> {
    csv_record(CSV_COLUMNS.iter().map(|s| s.to_string()).collect())
}

pub fn csv_row(r: &CsvRow<'_>) -> io::Result<Vec<u8>> {
    let t = r.transfer;
    csv_record(vec![
        r.batch_id.to_string(),
        t.settlement_id.to_string(),
        r.partner_id.to_string(),
        t.creditor.name.to_owned(),
        t.creditor.iban.to_owned(),
        t.creditor.bic.to_owned(),
        decimal_string(t.amount_minor, r.currency),
        r.currency.to_owned(),
        end_to_end(t.settlement_id),
        r.period.to_owned(),
    ])
}

fn csv_record(fields: Vec<String>) -> io::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&fields).map_err(io::Error::other)?;
    w.into_inner().map_err(|e| io::Error::other(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acct<'a>(name: &'a str) -> Account<'a> {
        Account {
            name,
            iban: "DE89370400440532013000",
            bic: "COBADEFFXXX",
        }
    }

    #[test]
    fn a_file_holds_its_header_its_transfers_and_their_sum() {
        let created = NaiveDate::from_ymd_opt(2026, 12, 7)
            .unwrap()
            .and_hms_opt(14, 5, 0)
            .unwrap();
        let mut f = SepaFile::begin(
            "partnerdesk-batch-3",
            created,
            2,
            1_250 + 99_999_999_999,
            &acct("Marketplace & Co"),
            NaiveDate::from_ymd_opt(2026, 12, 8).unwrap(),
        )
        .unwrap();
        for (id, amount) in [(41, 1_250), (42, 99_999_999_999)] {
            f.transfer(&Transfer {
                settlement_id: id,
                amount_minor: amount,
                creditor: acct("Café <Müller>"),
                remittance: format!("settlement {id}, 2026-10"),
            })
            .unwrap();
        }
        let mut bytes = f.drain();
        bytes.extend(f.finish().unwrap());
        let xml = String::from_utf8(bytes).unwrap();
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
        // 12.50 + 999,999,999.99 = 1,000,000,012.49.
        assert!(xml.contains("<CtrlSum>1000000012.49</CtrlSum>"), "{xml}");
        assert!(xml.contains("<NbOfTxs>2</NbOfTxs>"));
        assert!(xml.contains("<InstdAmt Ccy=\"EUR\">12.50</InstdAmt>"));
        assert!(xml.contains("<InstdAmt Ccy=\"EUR\">999999999.99</InstdAmt>"));
        assert!(xml.contains("<EndToEndId>settlement-42</EndToEndId>"));
        assert!(xml.contains("<Nm>Marketplace &amp; Co</Nm>"));
        assert!(xml.contains("<Nm>Café &lt;Müller&gt;</Nm>"));
        assert!(xml.trim_end().ends_with("</Document>"));
    }

    #[test]
    fn csv_rows_quote_what_needs_quoting() {
        let t = Transfer {
            settlement_id: 7,
            amount_minor: 1234,
            creditor: acct("Smith, \"Jo\""),
            remittance: String::new(),
        };
        let row = csv_row(&CsvRow {
            batch_id: 2,
            transfer: &t,
            partner_id: 9,
            currency: "KWD",
            period: "2026-10",
        })
        .unwrap();
        assert_eq!(
            String::from_utf8(row).unwrap(),
            "2,7,9,\"Smith, \"\"Jo\"\"\",DE89370400440532013000,COBADEFFXXX,1.234,KWD,settlement-7,2026-10\n"
        );
        assert_eq!(
            String::from_utf8(csv_header().unwrap()).unwrap(),
            "batch,settlement,partner,name,iban,bic,amount,currency,reference,period\n"
        );
    }
}
