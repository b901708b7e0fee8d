//! The terms of an offer from the command line: a TOML or JSON file, then flags over it (a
//! counter-offer starts from the latest revision's terms, so only what changes is given).

use crate::cli::io_reason;
use crate::domain::moment::{utc_end, utc_start};
use crate::domain::negotiation::{Benefit, OfferDraft};
use crate::domain::validation::ValidationErrors;
use crate::error::{Error, Result};
use chrono::{DateTime, NaiveDate, Utc};
use clap::Args;
use std::path::{Path, PathBuf};

pub const OFFER_HELP: &str = "Make an offer revision on a thread, for the marketplace or (with --as partner) \
recorded on the partner's behalf.\n\n\
The terms come from --file (TOML, or JSON when the name ends in .json; the keys are the flag \
names with '_' for '-': model, rate_bps, amount, base_bps, bonus_bps, bonus_threshold, currency, \
frequency, take_rate_bps, benefits = [{ name, due }], title, description, kind, coupon_code, \
redemption_url, categories, audience_scope, audience_scope_value, valid_from, valid_until, \
redemption_cap; dates and times as quoted strings), then the flags over them. A counter-offer starts from the latest revision's \
terms. Amounts are in the currency's units (12.50 EUR, 500 JPY); rates in basis points \
(1250 = 12.5%). Models: percentage (--rate-bps), fixed_fee (--amount per redemption), hybrid \
(--base-bps, --bonus-bps, --bonus-threshold), flat_fee (--amount per period), referral_only \
(no commission: referral payouts only).";

#[derive(Debug, Args, Default)]
pub struct OfferFields {
    /// Read the terms from this TOML or JSON file first.
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// percentage, fixed_fee, hybrid, flat_fee or referral_only.
    #[arg(long, value_name = "MODEL")]
    pub model: Option<String>,
    /// percentage: the rate in basis points (0–10000).
    #[arg(long, value_name = "BPS")]
    pub rate_bps: Option<i64>,
    /// fixed_fee / flat_fee: the amount in the currency's units (12.50).
    #[arg(long, value_name = "AMOUNT")]
    pub amount: Option<String>,
    /// hybrid: the base rate in basis points.
    #[arg(long, value_name = "BPS")]
    pub base_bps: Option<i64>,
    /// hybrid: the bonus rate in basis points above the threshold.
    #[arg(long, value_name = "BPS")]
    pub bonus_bps: Option<i64>,
    /// hybrid: the redemption count in a period above which the bonus applies.
    #[arg(long, value_name = "N")]
    pub bonus_threshold: Option<i64>,
    /// ISO 4217 currency code (EUR, JPY, KWD…).
    #[arg(long, value_name = "CODE")]
    pub currency: Option<String>,
    /// Settlement frequency: monthly, quarterly or annual.
    #[arg(long, value_name = "FREQ")]
    pub frequency: Option<String>,
    /// Platform take rate in basis points (default 1500).
    #[arg(long, value_name = "BPS")]
    pub take_rate_bps: Option<i64>,
    /// A benefit, `NAME` or `NAME@YYYY-MM-DD` with its due date; repeat for several. Replaces
    /// the benefits of the file or the previous revision.
    #[arg(long = "benefit", value_name = "NAME[@DATE]", value_parser = parse_benefit)]
    pub benefits: Vec<Benefit>,
    /// Drop every benefit.
    #[arg(long, conflicts_with = "benefits")]
    pub no_benefits: bool,
    /// The deal's title.
    #[arg(long, value_name = "TEXT")]
    pub title: Option<String>,
    /// The deal's description.
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    /// The deal's kind: coupon or link.
    #[arg(long, value_name = "KIND")]
    pub kind: Option<String>,
    /// coupon: the code.
    #[arg(long, value_name = "CODE")]
    pub coupon_code: Option<String>,
    /// link: the redemption URL.
    #[arg(long = "url", value_name = "URL")]
    pub redemption_url: Option<String>,
    /// A category; repeat for several.
    #[arg(long = "category", value_name = "NAME")]
    pub categories: Vec<String>,
    /// Audience: public, institute, alumni, batch or chapter.
    #[arg(long, value_name = "SCOPE")]
    pub scope: Option<String>,
    /// batch: the year; chapter: its name.
    #[arg(long, value_name = "VALUE")]
    pub scope_value: Option<String>,
    /// The deal's start: YYYY-MM-DD HH:MM (UTC), RFC 3339, or a date YYYY-MM-DD (00:00 UTC).
    #[arg(long, value_name = "TIME", value_parser = utc_start)]
    pub valid_from: Option<DateTime<Utc>>,
    /// The deal's end, exclusive: YYYY-MM-DD HH:MM (UTC), RFC 3339, or a date YYYY-MM-DD (the
    /// whole day: up to the next day's 00:00 UTC).
    #[arg(long, value_name = "TIME", value_parser = utc_end)]
    pub valid_until: Option<DateTime<Utc>>,
    /// The redemption cap, or `none`.
    #[arg(long, value_name = "N|none")]
    pub cap: Option<String>,
}

impl OfferFields {
    /// Anything given at all?
    pub fn any(&self) -> bool {
        let mut d = OfferDraft::default();
        self.file.is_some() || self.overlay(&mut d).unwrap_or(true)
    }

    /// The draft: `base` (the latest revision, or empty), the file over it, the flags over that.
    ///
    /// A parameter the model does not read is refused where it was typed: in the file (named
    /// by its field), or as a flag. One left by the previous revision under another model is
    /// dropped when `--model` changes it.
    pub fn draft(&self, base: OfferDraft) -> Result<OfferDraft> {
        let mut d = match &self.file {
            Some(p) => {
                let d = read_file(p)?;
                let mut unused = ValidationErrors::new();
                d.terms_draft().check_unused(&mut unused);
                if let Some(f) = unused.0.first() {
                    return Err(Error::Usage(format!(
                        "--file {}: {}: {}",
                        p.display(),
                        f.field,
                        f.rule
                    )));
                }
                d
            }
            None => base,
        };
        let model = d.model.trim().to_owned();
        self.overlay(&mut d)?;
        if d.model.trim() != model {
            d.clear_unused();
            self.overlay(&mut d)?;
        }
        let flags = crate::domain::terms::TermsDraft {
            model: d.model.clone(),
            rate_bps: self.rate_bps,
            amount: self.amount.clone(),
            base_bps: self.base_bps,
            bonus_bps: self.bonus_bps,
            bonus_threshold: self.bonus_threshold,
            take_rate_bps: self.take_rate_bps,
            ..Default::default()
        };
        let mut unused = ValidationErrors::new();
        flags.check_unused(&mut unused);
        if let Some(f) = unused.0.first() {
            return Err(Error::Usage(format!(
                "--{}: {}",
                f.field.replace('_', "-"),
                f.rule
            )));
        }
        Ok(d)
    }

    fn overlay(&self, d: &mut OfferDraft) -> Result<bool> {
        let mut given = false;
        let mut set = |slot: &mut String, v: &Option<String>| {
            if let Some(v) = v {
                *slot = v.clone();
                given = true;
            }
        };
        set(&mut d.model, &self.model);
        set(&mut d.currency, &self.currency);
        set(&mut d.frequency, &self.frequency);
        set(&mut d.title, &self.title);
        set(&mut d.description, &self.description);
        set(&mut d.kind, &self.kind);
        set(&mut d.audience_scope, &self.scope);
        let mut opt = |slot: &mut Option<i64>, v: Option<i64>| {
            if v.is_some() {
                *slot = v;
                given = true;
            }
        };
        opt(&mut d.rate_bps, self.rate_bps);
        opt(&mut d.base_bps, self.base_bps);
        opt(&mut d.bonus_bps, self.bonus_bps);
        opt(&mut d.bonus_threshold, self.bonus_threshold);
        opt(&mut d.take_rate_bps, self.take_rate_bps);
        let mut text = |slot: &mut Option<String>, v: &Option<String>| {
            if let Some(v) = v {
                *slot = Some(v.clone()).filter(|s| !s.trim().is_empty());
                given = true;
            }
        };
        text(&mut d.amount, &self.amount);
        text(&mut d.coupon_code, &self.coupon_code);
        text(&mut d.redemption_url, &self.redemption_url);
        text(&mut d.audience_scope_value, &self.scope_value);
        if !self.benefits.is_empty() || self.no_benefits {
            d.benefits = self.benefits.clone();
            given = true;
        }
        if !self.categories.is_empty() {
            d.categories = self.categories.clone();
            given = true;
        }
        if self.valid_from.is_some() {
            d.valid_from = self.valid_from;
            given = true;
        }
        if self.valid_until.is_some() {
            d.valid_until = self.valid_until;
            given = true;
        }
        if let Some(c) = &self.cap {
            let c = c.trim();
            d.redemption_cap = if c.is_empty() || c.eq_ignore_ascii_case("none") {
                None
            } else {
                Some(c.parse().map_err(|_| {
                    Error::Usage(format!("--cap: a whole number or none (got {c})"))
                })?)
            };
            given = true;
        }
        Ok(given)
    }
}

fn read_file(p: &Path) -> Result<OfferDraft> {
    let text = std::fs::read_to_string(p)
        .map_err(|e| Error::Usage(format!("--file {}: {}", p.display(), io_reason(&e))))?;
    let json = p
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let parsed = if json {
        serde_json::from_str(&text).map_err(|e| {
            // Its text ends "at line L column C"; the place is said once, in front.
            let at = format!(" at line {} column {}", e.line(), e.column());
            let msg = e.to_string();
            let msg = msg.strip_suffix(&at).unwrap_or(&msg).to_owned();
            let place =
                (e.line() > 0).then(|| (e.line(), line_prefix(&text, e.line(), e.column())));
            located(place, ':', &msg)
        })
    } else {
        toml::from_str(&text).map_err(|e| {
            let place = e.span().map(|s| {
                let start = s.start.min(text.len());
                let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
                let line = text[..start].matches('\n').count() + 1;
                // The key itself when the error is at it (an unknown field), else the key
                // before the value.
                let end = s.end.min(text.len()).max(start);
                let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
                (line, &text[line_start..end.min(line_end)])
            });
            located(place, '=', e.message())
        })
    };
    parsed.map_err(|e| Error::Usage(format!("--file {}: {}", p.display(), one_line(&e))))
}

/// The text of line `line` (1-based) up to column `column` (1-based, in characters).
fn line_prefix(text: &str, line: usize, column: usize) -> &str {
    let l = text.split('\n').nth(line.saturating_sub(1)).unwrap_or("");
    let end = l.char_indices().nth(column).map_or(l.len(), |(i, _)| i);
    &l[..end]
}

/// "line 3, rate_bps: invalid type: …": the line and the field a parse error is at, before
/// its message. `place` is the line and its text up to the error; the field is the key
/// before the last `sep` (`=` in TOML, `:` in JSON) outside quotes, or else the last key
/// there (an unknown field's own name).
fn located(place: Option<(usize, &str)>, sep: char, msg: &str) -> String {
    let Some((line, prefix)) = place else {
        return msg.trim().to_owned();
    };
    match field_at(prefix, sep) {
        Some(field) => format!("line {line}, {field}: {}", msg.trim()),
        None => format!("line {line}: {}", msg.trim()),
    }
}

/// The key a line's text up to an error names (see [`located`]).
fn field_at(prefix: &str, sep: char) -> Option<String> {
    enum Token {
        Key(String),
        Sep,
        // `,`, `{` or `[`: a new entry starts, its key not yet followed by `sep`.
        Boundary,
    }
    let mut tokens = Vec::new();
    let mut chars = prefix.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '"' || c == '\'' {
            let mut s = String::new();
            let mut escaped = false;
            for d in chars.by_ref() {
                if d == c && !escaped {
                    break;
                }
                escaped = d == '\\' && !escaped && c == '"';
                s.push(d);
            }
            tokens.push(Token::Key(s));
        } else if c == sep {
            tokens.push(Token::Sep);
        } else if matches!(c, ',' | '{' | '[') {
            tokens.push(Token::Boundary);
        } else if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
            let mut s = String::from(c);
            while let Some(&d) = chars.peek() {
                if d.is_ascii_alphanumeric() || d == '_' || d == '-' {
                    s.push(d);
                    chars.next();
                } else {
                    break;
                }
            }
            tokens.push(Token::Key(s));
        }
    }
    let last_key = |ts: &[Token]| {
        ts.iter().rev().find_map(|t| match t {
            Token::Key(k) if !k.is_empty() => Some(k.clone()),
            _ => None,
        })
    };
    let sep_at = tokens.iter().rposition(|t| matches!(t, Token::Sep));
    let boundary_at = tokens.iter().rposition(|t| matches!(t, Token::Boundary));
    match (sep_at, boundary_at) {
        // A value after `key =`/`"key":`: that key.
        (Some(s), b) if b.is_none_or(|b| b < s) => last_key(&tokens[..s]),
        // A key being read (an unknown field): the last one.
        _ => last_key(&tokens),
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn parse_benefit(s: &str) -> std::result::Result<Benefit, String> {
    match s.rsplit_once('@') {
        Some((name, date)) => {
            let due = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d")
                .map_err(|_| format!("the due date after '@' must be YYYY-MM-DD (got {date})"))?;
            Ok(Benefit {
                name: name.trim().into(),
                due: Some(due),
            })
        }
        None => Ok(Benefit {
            name: s.trim().into(),
            due: None,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_go_over_the_file_and_the_previous_terms() {
        let base = OfferDraft {
            model: "percentage".into(),
            rate_bps: Some(1200),
            currency: "EUR".into(),
            ..OfferDraft::default()
        };
        let f = OfferFields {
            rate_bps: Some(900),
            benefits: vec![parse_benefit("logo@2026-05-01").unwrap()],
            cap: Some("none".into()),
            ..OfferFields::default()
        };
        let d = f.draft(base).unwrap();
        assert_eq!(d.rate_bps, Some(900));
        assert_eq!(d.currency, "EUR");
        assert_eq!(d.benefits[0].name, "logo");
        assert!(parse_benefit("x@May").is_err());
        assert!(OfferFields::default().draft(OfferDraft::default()).is_ok());
        assert!(!OfferFields::default().any());
    }

    #[test]
    fn a_json_file_and_a_bad_key_in_it() {
        let dir = std::env::temp_dir().join(format!("pd-offer-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("o.json");
        std::fs::write(
            &good,
            r#"{"model": "flat_fee", "amount": "400", "currency": "EUR",
                "benefits": [{"name": "logo", "due": "2027-01-31"}],
                "valid_from": "2027-01-01T00:00:00Z"}"#,
        )
        .unwrap();
        let f = OfferFields {
            file: Some(good),
            amount: Some("350".into()),
            ..OfferFields::default()
        };
        let d = f.draft(OfferDraft::default()).unwrap();
        assert_eq!(d.model, "flat_fee");
        assert_eq!(d.amount.as_deref(), Some("350"), "flags go over the file");
        assert_eq!(d.benefits[0].due.unwrap().to_string(), "2027-01-31");
        let bad = dir.join("b.toml");
        std::fs::write(&bad, "rate = 5\n").unwrap();
        let e = OfferFields {
            file: Some(bad),
            ..OfferFields::default()
        }
        .draft(OfferDraft::default())
        .unwrap_err()
        .to_string();
        assert!(e.contains("unknown field `rate`"), "{e}");
        assert!(!e.contains('\n'), "one line: {e}");
        let _ = std::fs::remove_dir_all(dir);
    }

    /// Issue 21, item 9, for offers: a parameter the model does not read is refused where it
    /// was typed, and one left by the previous revision under another model is dropped.
    #[test]
    fn a_parameter_the_model_does_not_read_is_refused_where_it_was_typed() {
        let base = OfferDraft {
            model: "percentage".into(),
            rate_bps: Some(1200),
            currency: "EUR".into(),
            ..OfferDraft::default()
        };
        let e = OfferFields {
            amount: Some("5.00".into()),
            ..OfferFields::default()
        }
        .draft(base.clone())
        .unwrap_err()
        .to_string();
        assert!(
            e.ends_with("--amount: not used by the percentage model"),
            "{e}"
        );
        let e = OfferFields {
            model: Some("referral_only".into()),
            take_rate_bps: Some(1000),
            ..OfferFields::default()
        }
        .draft(base.clone())
        .unwrap_err()
        .to_string();
        assert!(
            e.ends_with("--take-rate-bps: not used by the referral_only model"),
            "{e}"
        );
        // Changing the model drops the previous model's parameters, keeps the new ones.
        let d = OfferFields {
            model: Some("fixed_fee".into()),
            amount: Some("4.00".into()),
            ..OfferFields::default()
        }
        .draft(base)
        .unwrap();
        assert_eq!((d.rate_bps, d.amount.as_deref()), (None, Some("4.00")));

        let dir = std::env::temp_dir().join(format!("pd-offer-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("o.toml");
        std::fs::write(
            &file,
            "model = \"percentage\"\nrate_bps = 900\namount = \"2.00\"\ncurrency = \"EUR\"\n",
        )
        .unwrap();
        let e = OfferFields {
            file: Some(file.clone()),
            ..OfferFields::default()
        }
        .draft(OfferDraft::default())
        .unwrap_err()
        .to_string();
        assert!(
            e.ends_with(&format!(
                "--file {}: amount: not used by the percentage model",
                file.display()
            )),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
