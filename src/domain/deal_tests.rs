//! Unit tests of [`super`], in a file of their own to keep the module short.

use super::*;
use chrono::TimeZone;

fn t(d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, d, 0, 0, 0).unwrap()
}

fn coupon() -> DealDraft {
    DealDraft {
        partner_id: Some(1),
        title: "20% off".into(),
        description: String::new(),
        kind: "coupon".into(),
        coupon_code: Some("SAVE20".into()),
        audience_scope: "public".into(),
        valid_from: Some(t(1)),
        valid_until: Some(t(2)),
        ..Default::default()
    }
}

fn err(d: &DealDraft, field: &str) -> String {
    d.validate()
        .unwrap_err()
        .for_field(field)
        .unwrap_or_else(|| panic!("no error on {field}"))
        .to_owned()
}

#[test]
fn control_characters_are_refused_but_descriptions_may_span_lines() {
    let mut d = coupon();
    d.description = "line one\r\nline two\twith a tab".into();
    assert!(d.validate().is_ok());
    d.title = "20%\0 off".into();
    assert_eq!(
        err(&d, "title"),
        "must not contain control characters (found U+0000 at character 4)"
    );
    d.title = "20% off".into();
    d.coupon_code = Some("SAVE\u{1b}20".into());
    assert!(err(&d, "coupon_code").contains("U+001B"));
    d.coupon_code = Some("SAVE20".into());
    d.description = "bell\u{7}".into();
    assert!(err(&d, "description").contains("other than line breaks and tabs"));
}

#[test]
fn a_minimal_coupon_is_a_draft() {
    let v = coupon().validate().unwrap();
    assert_eq!(v.state, DealState::Draft);
    assert_eq!(v.kind, DealKind::Coupon);
    assert_eq!(v.redemption_url, None);
}

#[test]
fn partner_is_required() {
    let mut d = coupon();
    d.partner_id = None;
    assert_eq!(err(&d, "partner"), "required");
}

#[test]
fn title_limits() {
    let mut d = coupon();
    d.title = "t".repeat(255);
    assert!(d.validate().is_ok());
    d.title = "t".repeat(256);
    assert_eq!(err(&d, "title"), "at most 255 characters (got 256)");
    d.title = " ".into();
    assert_eq!(err(&d, "title"), "required");
}

#[test]
fn description_limit() {
    let mut d = coupon();
    d.description = "d".repeat(4000);
    assert!(d.validate().is_ok());
    d.description = "d".repeat(4001);
    assert_eq!(err(&d, "description"), "at most 4000 characters (got 4001)");
}

#[test]
fn kind_is_required_and_closed() {
    let mut d = coupon();
    d.kind = "".into();
    assert_eq!(err(&d, "kind"), "required: coupon or link");
    d.kind = "voucher".into();
    assert_eq!(err(&d, "kind"), "must be coupon or link");
}

#[test]
fn coupon_code_rules() {
    let mut d = coupon();
    d.coupon_code = Some("C".repeat(64));
    assert!(d.validate().is_ok());
    d.coupon_code = Some("C".repeat(65));
    assert_eq!(err(&d, "coupon_code"), "at most 64 characters (got 65)");
    d.coupon_code = None;
    assert_eq!(err(&d, "coupon_code"), "required when kind is coupon");
}

#[test]
fn redemption_url_rules() {
    let mut d = coupon();
    d.kind = "link".into();
    d.coupon_code = Some("IGNORED".into());
    assert_eq!(err(&d, "redemption_url"), "required when kind is link");
    let base = "https://partner.example/";
    d.redemption_url = Some(format!("{base}{}", "a".repeat(2048 - base.len())));
    let v = d.validate().unwrap();
    assert_eq!(v.coupon_code, None, "coupon code is cleared for links");
    d.redemption_url = Some(format!("{base}{}", "a".repeat(2049 - base.len())));
    assert_eq!(
        err(&d, "redemption_url"),
        "at most 2048 characters (got 2049)"
    );
    d.redemption_url = Some("ftp://partner.example/x".into());
    assert!(err(&d, "redemption_url").contains("http(s)"));
}

#[test]
fn scope_rules() {
    let mut d = coupon();
    d.audience_scope = "".into();
    assert_eq!(
        err(&d, "audience_scope"),
        "required: public, institute, alumni, batch or chapter"
    );
    d.audience_scope = "everyone".into();
    assert_eq!(
        err(&d, "audience_scope"),
        "must be public, institute, alumni, batch or chapter"
    );
    d.audience_scope = "batch".into();
    assert_eq!(
        err(&d, "audience_scope_value"),
        "required when scope is batch: a batch year"
    );
    d.audience_scope_value = Some("nineteen".into());
    assert!(err(&d, "audience_scope_value").contains("batch year"));
    d.audience_scope_value = Some("2019".into());
    assert!(d.validate().is_ok());
    d.audience_scope = "chapter".into();
    d.audience_scope_value = None;
    assert_eq!(
        err(&d, "audience_scope_value"),
        "required when scope is chapter: a chapter name"
    );
    d.audience_scope_value = Some("c".repeat(255));
    assert!(d.validate().is_ok());
    d.audience_scope_value = Some("c".repeat(256));
    assert_eq!(
        err(&d, "audience_scope_value"),
        "at most 255 characters (got 256)"
    );
    for s in ["public", "institute", "alumni"] {
        d.audience_scope = s.into();
        d.audience_scope_value = Some("x".into());
        assert_eq!(
            err(&d, "audience_scope_value"),
            format!("must be empty when scope is {s}")
        );
    }
}

#[test]
fn window_rules() {
    let mut d = coupon();
    d.valid_from = None;
    d.valid_until = None;
    assert_eq!(err(&d, "valid_from"), "required");
    assert_eq!(err(&d, "valid_until"), "required");
    d.valid_from = Some(t(2));
    d.valid_until = Some(t(2));
    assert_eq!(err(&d, "valid_until"), "must be strictly after valid_from");
    d.valid_until = Some(t(2) + chrono::Duration::microseconds(1));
    assert!(d.validate().is_ok());
}

#[test]
fn cap_rules() {
    let mut d = coupon();
    d.redemption_cap = Some(1);
    assert!(d.validate().is_ok());
    d.redemption_cap = Some(CAP_MAX);
    assert!(d.validate().is_ok());
    for bad in [0, -1, CAP_MAX + 1] {
        d.redemption_cap = Some(bad);
        assert!(err(&d, "redemption_cap").starts_with("a positive whole number"));
    }
}

#[test]
fn state_defaults_and_choices() {
    let mut d = coupon();
    d.state = Some("paused".into());
    assert_eq!(d.validate().unwrap().state, DealState::Paused);
    d.state = Some("expired".into());
    assert_eq!(err(&d, "state"), "a new deal cannot start expired");
    d.state = Some("live".into());
    assert_eq!(err(&d, "state"), "must be draft, active, paused or expired");
}

#[test]
fn every_error_is_reported_at_once() {
    let d = DealDraft::default();
    let e = d.validate().unwrap_err();
    let fields: Vec<&str> = e.0.iter().map(|f| f.field).collect();
    assert_eq!(
        fields,
        [
            "partner",
            "title",
            "kind",
            "audience_scope",
            "valid_from",
            "valid_until"
        ]
    );
}

#[test]
fn state_machine_allows_exactly_the_spec() {
    use DealState::*;
    use StateTrigger::*;
    let allowed = [
        (Draft, Active, Operator),
        (Draft, Paused, Operator),
        (Active, Paused, Operator),
        (Paused, Active, Operator),
        (Paused, Expired, Operator),
        (Active, Expired, ExpiryJob),
    ];
    for &from in DealState::ALL {
        for &to in DealState::ALL {
            for trig in [Operator, ExpiryJob] {
                assert_eq!(
                    from.check_transition(to, trig).is_ok(),
                    allowed.contains(&(from, to, trig)),
                    "{from} -> {to} by {trig:?}"
                );
            }
        }
    }
    assert!(
        Expired
            .check_transition(Active, Operator)
            .unwrap_err()
            .contains("final")
    );
}
