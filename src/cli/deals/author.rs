//! `partnerdesk deals add|edit|activate|pause|expire`.

use super::StateArgs;
use crate::cli::Context;
use crate::cli::args::{Guard, Print, done};
use crate::cli::bulk;
use crate::domain::deal::CAP_MAX;
#[cfg(test)]
use crate::domain::moment::TIME_FORMATS;
use crate::domain::moment::read_utc;
use crate::domain::{AudienceScope, DealDraft, DealState, ValidationErrors};
use crate::error::{Error, Result};
use crate::service::Desk;
use crate::service::bulk::BulkAction;
use crate::service::rows::Deal;
#[cfg(test)]
use chrono::Utc;
use clap::Args;
use std::process::ExitCode;

pub const ADD_HELP: &str = "Author a deal as a draft; needs the curator or admin role.\n\n\
--partner, --title, --kind, --audience-scope, --valid-from and --valid-until are required; \
a coupon deal needs --coupon-code, a link deal --redemption-url, a batch audience a year and a \
chapter audience a chapter name in --audience-scope-value. Times are RFC 3339 \
(2026-03-01T09:00:00Z, or with an offset), YYYY-MM-DD HH:MM or a bare date YYYY-MM-DD, taken \
as UTC: a bare date in --valid-from is 00:00 that day, in --valid-until the whole day (the \
window ends at the next day's 00:00, exclusive).\n\n\
Every problem is printed on a line of its own as 'partnerdesk: FIELD: RULE' (exit code 3), \
checked by the same rules as the console's form. Prints the new deal's id (or the whole \
record with --json). Publish it with: partnerdesk deals activate ID.";

pub const EDIT_HELP: &str = "Change the fields given, and only those; the others keep their values.\n\n\
An empty value clears an optional field (--description ''), --cap none removes the cap and \
--category replaces the whole list. Changing --audience-scope to one without a value clears \
the old value. The partner can change only while the deal is a draft, and an expired deal \
cannot be edited. The state changes only with activate, pause and expire.\n\n\
With --version N the change is refused (exit code 3) if the deal is no longer at version N, \
naming who changed it and when.";

/// The deal's fields, named after them. Every one is optional here: `add` says which are
/// required, `edit` changes only what is given.
#[derive(Debug, Args)]
pub struct DealFields {
    /// The partner's id (a deal's partner can change only while it is a draft).
    #[arg(long, value_name = "ID")]
    pub partner: Option<i64>,
    /// Title (at most 255 characters).
    #[arg(long, value_name = "TEXT")]
    pub title: Option<String>,
    /// Description (at most 4000 characters).
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    /// How members redeem: coupon or link.
    #[arg(long, value_name = "KIND")]
    pub kind: Option<String>,
    /// The code members copy (coupon deals; at most 64 characters).
    #[arg(long, value_name = "CODE")]
    pub coupon_code: Option<String>,
    /// Where members redeem, an http(s) URL (link deals).
    #[arg(long, value_name = "URL")]
    pub redemption_url: Option<String>,
    /// A category; repeat the flag or separate with commas (at most 20; the categories field).
    #[arg(long = "category", value_name = "NAME", value_delimiter = ',')]
    pub categories: Option<Vec<String>>,
    /// Who can see it: public, institute, alumni, batch or chapter.
    #[arg(long, value_name = "SCOPE")]
    pub audience_scope: Option<String>,
    /// The batch year (batch) or the chapter's name (chapter).
    #[arg(long, value_name = "VALUE")]
    pub audience_scope_value: Option<String>,
    /// Start of the window: YYYY-MM-DD HH:MM (UTC), RFC 3339, or a date YYYY-MM-DD (00:00 UTC).
    #[arg(long, value_name = "TIME")]
    pub valid_from: Option<String>,
    /// End of the window, exclusive: YYYY-MM-DD HH:MM (UTC), RFC 3339, or a date YYYY-MM-DD
    /// (the whole day: up to the next day's 00:00 UTC).
    #[arg(long, value_name = "TIME")]
    pub valid_until: Option<String>,
    /// The redemption cap: 1 is one per member, N > 1 the first N in total, none for no cap.
    #[arg(long, value_name = "N|none")]
    pub cap: Option<String>,
}

impl DealFields {
    /// Writes the fields given into `d`; times and the cap that do not parse are field errors
    /// in `errs`. False if no field was given.
    fn apply(self, d: &mut DealDraft, errs: &mut ValidationErrors) -> bool {
        let given = self.partner.is_some()
            || self.title.is_some()
            || self.description.is_some()
            || self.kind.is_some()
            || self.coupon_code.is_some()
            || self.redemption_url.is_some()
            || self.categories.is_some()
            || self.audience_scope.is_some()
            || self.audience_scope_value.is_some()
            || self.valid_from.is_some()
            || self.valid_until.is_some()
            || self.cap.is_some();
        if let Some(p) = self.partner {
            d.partner_id = Some(p);
        }
        if let Some(v) = self.title {
            d.title = v;
        }
        if let Some(v) = self.description {
            d.description = v;
        }
        if let Some(v) = self.kind {
            d.kind = v;
        }
        if let Some(scope) = self.audience_scope {
            // A scope without a value leaves no room for the old one.
            let takes_value = matches!(
                scope.parse(),
                Ok(AudienceScope::Batch | AudienceScope::Chapter)
            );
            if !takes_value && self.audience_scope_value.is_none() {
                d.audience_scope_value = None;
            }
            d.audience_scope = scope;
        }
        for (slot, v) in [
            (&mut d.coupon_code, self.coupon_code),
            (&mut d.redemption_url, self.redemption_url),
            (&mut d.audience_scope_value, self.audience_scope_value),
        ] {
            if v.is_some() {
                *slot = v;
            }
        }
        if let Some(c) = self.categories {
            d.categories = c;
        }
        if let Some(t) = self.valid_from {
            d.valid_from = read_utc(errs, "valid_from", &t, false);
        }
        if let Some(t) = self.valid_until {
            d.valid_until = read_utc(errs, "valid_until", &t, true);
        }
        if let Some(c) = self.cap {
            d.redemption_cap = parse_cap(errs, &c);
        }
        given
    }
}

/// A whole number, or `none` (or empty) for no cap; the range is checked by validate.
fn parse_cap(errs: &mut ValidationErrors, text: &str) -> Option<i64> {
    let s = text.trim();
    if s.is_empty() || s.eq_ignore_ascii_case("none") {
        return None;
    }
    match s.parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => {
            errs.push(
                "redemption_cap",
                format!("a positive whole number up to {CAP_MAX}, or none for no cap"),
            );
            None
        }
    }
}

/// Refuses a draft whose times or cap did not parse, with every other field problem beside
/// them (a field that did not parse is not also called "required").
fn refuse_unparsed(draft: &DealDraft, mut errs: ValidationErrors) -> Result<()> {
    if errs.is_empty() {
        return Ok(());
    }
    if let Err(more) = draft.validate() {
        for e in more.0 {
            if errs.for_field(e.field).is_none() {
                errs.0.push(e);
            }
        }
    }
    Err(errs.into())
}

pub async fn add(ctx: &Context, fields: DealFields, print: &Print) -> Result<ExitCode> {
    let mut draft = DealDraft::default();
    let mut errs = ValidationErrors::new();
    fields.apply(&mut draft, &mut errs);
    refuse_unparsed(&draft, errs)?;
    let desk = ctx.desk(2).await?;
    let d = desk.create_deal(&draft).await?;
    done(print, &d, || format!("created deal {}", about(&d)))
}

pub async fn edit(
    ctx: &Context,
    id: i64,
    fields: DealFields,
    guard: &Guard,
    print: &Print,
) -> Result<ExitCode> {
    let desk = ctx.desk(2).await?;
    let current = desk.get_deal(id).await?;
    let mut draft = current.draft();
    let mut errs = ValidationErrors::new();
    if !fields.apply(&mut draft, &mut errs) {
        return Err(Error::Usage(
            "deals edit: nothing to change; give at least one field flag (see partnerdesk deals edit --help)".into(),
        ));
    }
    refuse_unparsed(&draft, errs)?;
    let version = guard.version.unwrap_or(current.version);
    let d = desk.update_deal(id, version, &draft).await?;
    done(print, &d, || format!("updated deal {}", about(&d)))
}

pub async fn change_state(ctx: &Context, a: StateArgs, to: DealState) -> Result<ExitCode> {
    let version = bulk::one_version(&a.ids, a.guard.version)?;
    let desk = ctx.desk(2).await?;
    let [id] = a.ids[..] else {
        return change_many(&desk, &a, to, version).await;
    };
    if a.dry_run.dry_run {
        return change_many(&desk, &a, to, version).await;
    }
    let d = desk
        .change_deal_state(id, version, to, a.reason.as_deref())
        .await?;
    done(&a.print, &d, || {
        format!(
            "deal {} {} is now {} (version {}): {}",
            d.id,
            d.title,
            d.state,
            d.version,
            d.state.member_effect()
        )
    })
}

/// Several deals (or a dry run): each in its own step, then the summary.
async fn change_many(
    desk: &Desk,
    a: &StateArgs,
    to: DealState,
    version: Option<i32>,
) -> Result<ExitCode> {
    let reason = a.reason.clone();
    let action = match to {
        DealState::Active => BulkAction::DealActivate { reason },
        DealState::Paused => BulkAction::DealPause { reason },
        DealState::Expired => BulkAction::DealExpire { reason },
        DealState::Draft => {
            return Err(Error::Usage("a deal never goes back to draft".into()));
        }
    };
    let targets = bulk::targets(&a.ids, version);
    bulk::run(desk, &action, &targets, a.dry_run.dry_run, &a.print).await
}

/// `40 Launch week (draft, version 1)`.
fn about(d: &Deal) -> String {
    format!("{} {} ({}, version {})", d.id, d.title, d.state, d.version)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn times_are_rfc3339_or_minutes_in_utc() {
        let mut e = ValidationErrors::new();
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
        assert_eq!(
            read_utc(&mut e, "valid_from", "2026-03-01 09:00", false),
            Some(at)
        );
        assert_eq!(
            read_utc(&mut e, "valid_from", "2026-03-01T10:00:00+01:00", true),
            Some(at)
        );
        // A bare date starts at 00:00 and ends with the whole day.
        assert_eq!(
            read_utc(&mut e, "valid_from", "2026-03-01", false),
            Some(at - chrono::Duration::hours(9))
        );
        assert_eq!(
            read_utc(&mut e, "valid_until", "2026-03-01", true),
            Some(at + chrono::Duration::hours(15))
        );
        assert!(e.is_empty());
        assert_eq!(read_utc(&mut e, "valid_until", "tomorrow", true), None);
        assert_eq!(
            e.to_string(),
            format!("valid_until: not a date and time (tomorrow): use {TIME_FORMATS}")
        );
    }

    #[test]
    fn a_cap_is_a_number_or_none() {
        let mut e = ValidationErrors::new();
        assert_eq!(parse_cap(&mut e, "50"), Some(50));
        assert_eq!(parse_cap(&mut e, "none"), None);
        assert_eq!(parse_cap(&mut e, ""), None);
        assert!(e.is_empty());
        assert_eq!(parse_cap(&mut e, "lots"), None);
        assert_eq!(e.0[0].field, "redemption_cap");
    }

    #[test]
    fn a_field_that_did_not_parse_is_not_also_required() {
        let mut d = DealDraft::default();
        let mut e = ValidationErrors::new();
        let fields = DealFields {
            partner: Some(1),
            title: Some("T".into()),
            description: None,
            kind: Some("coupon".into()),
            coupon_code: Some("C".into()),
            redemption_url: None,
            categories: None,
            audience_scope: Some("public".into()),
            audience_scope_value: None,
            valid_from: Some("soon".into()),
            valid_until: None,
            cap: None,
        };
        assert!(fields.apply(&mut d, &mut e));
        let Err(Error::Validation(all)) = refuse_unparsed(&d, e) else {
            panic!("refused")
        };
        let fields: Vec<&str> = all.0.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["valid_from", "valid_until"], "{all}");
        assert!(all.0[0].rule.starts_with("not a date and time"), "{all}");
    }
}
