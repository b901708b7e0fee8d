//! The deal form: its fields, what applies to which kind and scope, reading the typed text
//! (local times, numbers) into a draft, and the messages beside each field.

use crate::console::form::{Field, Form};
use crate::domain::validation::split_list;
use crate::domain::{AudienceScope, DealDraft, ValidationErrors};
use crate::service::rows::Deal;
use chrono::{DateTime, Utc};

/// How dates are typed and shown in the deal form (the operator's local time).
pub const DATE_FORMAT: &str = "%Y-%m-%d %H:%M";

/// A time typed in the operator's zone, as UTC, starting something: a bare date is 00:00.
pub fn parse_local(s: &str) -> Option<DateTime<Utc>> {
    crate::console::view::local_start(s).ok()
}

/// A time typed in the operator's zone, as UTC, ending something: a bare date is the whole
/// day (up to the next day's 00:00, exclusive).
pub fn parse_local_end(s: &str) -> Option<DateTime<Utc>> {
    crate::console::view::local_end(s).ok()
}

/// A time in the operator's zone, as the form shows and reads it.
pub fn show_local(t: DateTime<Utc>) -> String {
    crate::console::view::local(t)
}

pub use crate::console::picker::{partner_id_of, partner_text};

/// The form's text as a draft, plus the fields whose text could not even be read.
pub fn draft_of(form: &Form) -> (DealDraft, ValidationErrors) {
    let mut errs = ValidationErrors::new();
    let opt = |n: &str| {
        let v = form.value(n);
        let t = v.trim();
        if t.is_empty() {
            None
        } else {
            Some(t.to_owned())
        }
    };
    let partner_id = opt("partner").map(|p| {
        partner_id_of(&p).ok_or_else(|| {
            errs.push(
                "partner",
                "pick a partner: type a name and press Tab, or type its id",
            )
        })
    });
    let partner_id = match partner_id {
        Some(Ok(id)) => Some(id),
        Some(Err(())) => Some(0),
        None => None,
    };
    let mut date = |n: &'static str, end: bool| match opt(n) {
        None => None,
        Some(v) => match if end {
            parse_local_end(&v)
        } else {
            parse_local(&v)
        } {
            Some(t) => Some(t),
            None => {
                errs.push(
                    n,
                    "a local time like 2026-12-01 09:00, or a date (2026-12-01)",
                );
                None
            }
        },
    };
    let valid_from = date("valid_from", false);
    let valid_until = date("valid_until", true);
    let redemption_cap = match opt("redemption_cap") {
        None => None,
        Some(c) => match c.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                errs.push("redemption_cap", "a whole number, or empty for no cap");
                None
            }
        },
    };
    let draft = DealDraft {
        partner_id,
        title: form.value("title"),
        description: form.value("description"),
        kind: form.value("kind").trim().to_owned(),
        coupon_code: opt("coupon_code"),
        redemption_url: opt("redemption_url"),
        categories: split_list(&form.value("categories")),
        audience_scope: form.value("audience_scope").trim().to_owned(),
        audience_scope_value: opt("audience_scope_value"),
        valid_from,
        valid_until,
        redemption_cap,
        state: None,
    };
    (draft, errs)
}

/// Every message for the form: what could not be read, then the rules (one per field).
pub(crate) fn check(form: &Form) -> ValidationErrors {
    let (draft, mut errs) = draft_of(form);
    if let Err(rules) = draft.validate() {
        for e in rules.0 {
            let unreadable = errs.for_field(e.field).is_some();
            let missing_because_unreadable = e.rule == "required" && unreadable;
            if !unreadable && !missing_because_unreadable {
                errs.0.push(e);
            }
        }
    }
    errs
}

pub(crate) fn values_of(d: &Deal) -> Vec<(&'static str, String)> {
    vec![
        ("partner", d.partner_id.to_string()),
        ("title", d.title.clone()),
        ("description", d.description.clone()),
        ("kind", d.kind.to_string()),
        ("coupon_code", d.coupon_code.clone().unwrap_or_default()),
        (
            "redemption_url",
            d.redemption_url.clone().unwrap_or_default(),
        ),
        ("categories", d.categories.join(", ")),
        ("audience_scope", d.audience_scope.to_string()),
        (
            "audience_scope_value",
            d.audience_scope_value.clone().unwrap_or_default(),
        ),
        ("valid_from", show_local(d.valid_from)),
        ("valid_until", show_local(d.valid_until)),
        (
            "redemption_cap",
            d.redemption_cap.map(|c| c.to_string()).unwrap_or_default(),
        ),
    ]
}

pub fn form_for(title: String, values: &[(&'static str, String)]) -> Form {
    let v = |n: &str| {
        values
            .iter()
            .find(|(k, _)| *k == n)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut form = Form::new(
        title,
        vec![
            Field::new(
                "partner",
                "Partner",
                "a name, then Tab to complete; or an id",
                false,
                &v("partner"),
            ),
            Field::new("title", "Title", "required, ≤ 255", false, &v("title")),
            Field::new(
                "description",
                "Description",
                "≤ 4,000; Enter for a new line",
                true,
                &v("description"),
            ),
            Field::new(
                "kind",
                "Kind",
                "←/→ or Space: coupon or link",
                false,
                &v("kind"),
            )
            .choices(crate::domain::DealKind::NAMES),
            Field::new(
                "coupon_code",
                "Coupon code",
                "required for coupons, ≤ 64",
                false,
                &v("coupon_code"),
            ),
            Field::new(
                "redemption_url",
                "Redemption URL",
                "required for links: https://…",
                false,
                &v("redemption_url"),
            ),
            Field::new(
                "categories",
                "Categories",
                "comma-separated",
                false,
                &v("categories"),
            ),
            Field::new(
                "audience_scope",
                "Audience",
                "←/→ or Space: public, institute, alumni, batch or chapter",
                false,
                &v("audience_scope"),
            )
            .choices(crate::domain::AudienceScope::NAMES),
            Field::new(
                "audience_scope_value",
                "Batch/chapter",
                "a batch year, or a chapter name",
                false,
                &v("audience_scope_value"),
            ),
            Field::new(
                "valid_from",
                "Valid from",
                "local; a bare date is 00:00",
                false,
                &v("valid_from"),
            ),
            Field::new(
                "valid_until",
                "Valid until",
                "local; a date is the whole day",
                false,
                &v("valid_until"),
            ),
            Field::new(
                "redemption_cap",
                "Redemption cap",
                "1 = once per member; N = first N; empty = none",
                false,
                &v("redemption_cap"),
            ),
        ],
    );
    show_applicable(&mut form);
    form
}

/// Fields that apply only to one kind or scope appear and disappear with it.
pub(crate) fn show_applicable(form: &mut Form) {
    let kind = form.value("kind").trim().to_ascii_lowercase();
    let scope = form
        .value("audience_scope")
        .trim()
        .parse::<AudienceScope>()
        .ok();
    form.set_hidden("coupon_code", kind == "link");
    form.set_hidden("redemption_url", kind == "coupon");
    form.set_hidden(
        "audience_scope_value",
        !matches!(
            scope,
            Some(AudienceScope::Batch | AudienceScope::Chapter) | None
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_round_trip() {
        let t = parse_local("2026-12-01 09:30").unwrap();
        assert_eq!(show_local(t), "2026-12-01 09:30");
        assert!(parse_local("tomorrow").is_none());
        // A bare date starts at 00:00 and ends with the whole day, in the operator's zone.
        crate::console::view::pin_display_zone(chrono::FixedOffset::east_opt(3600));
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        assert_eq!(parse_local("2026-12-01"), Some(at("2026-11-30T23:00:00Z")));
        assert_eq!(
            parse_local_end("2026-12-01"),
            Some(at("2026-12-01T23:00:00Z"))
        );
        assert_eq!(
            parse_local_end("2026-12-01 09:30"),
            Some(at("2026-12-01T08:30:00Z"))
        );
        crate::console::view::pin_display_zone(None);
    }

    #[test]
    fn fields_follow_kind_and_scope() {
        let mut f = form_for(
            "t".into(),
            &[("kind", "link".into()), ("audience_scope", "public".into())],
        );
        let hidden = |f: &Form, n: &str| f.fields.iter().find(|x| x.name == n).unwrap().hidden;
        assert!(hidden(&f, "coupon_code"));
        assert!(!hidden(&f, "redemption_url"));
        assert!(hidden(&f, "audience_scope_value"));
        f = form_for(
            "t".into(),
            &[
                ("kind", "coupon".into()),
                ("audience_scope", "chapter".into()),
            ],
        );
        assert!(!hidden(&f, "coupon_code"));
        assert!(hidden(&f, "redemption_url"));
        assert!(!hidden(&f, "audience_scope_value"));
    }

    #[test]
    fn unreadable_text_is_reported_once_per_field() {
        let f = form_for(
            "t".into(),
            &[
                ("partner", "abc".into()),
                ("title", "T".into()),
                ("kind", "coupon".into()),
                ("coupon_code", "C".into()),
                ("audience_scope", "public".into()),
                ("valid_from", "soon".into()),
                ("valid_until", "2026-12-01 09:00".into()),
                ("redemption_cap", "many".into()),
            ],
        );
        let e = check(&f);
        assert_eq!(
            e.for_field("partner"),
            Some("pick a partner: type a name and press Tab, or type its id")
        );
        assert_eq!(
            e.for_field("valid_from"),
            Some("a local time like 2026-12-01 09:00, or a date (2026-12-01)")
        );
        assert_eq!(
            e.for_field("redemption_cap"),
            Some("a whole number, or empty for no cap")
        );
        assert_eq!(e.0.iter().filter(|x| x.field == "valid_from").count(), 1);
    }
}
