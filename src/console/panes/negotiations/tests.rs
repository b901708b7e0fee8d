//! Tests of the module beside this file.
use super::*;
use crate::domain::contract::BenefitStatus;

#[test]
fn filter_words_and_sides() {
    let f = parse_filter("status:negotiating partner:7 spring launch").unwrap();
    assert_eq!(f.status, Some(ThreadStatus::Negotiating));
    assert_eq!(f.partner_id, Some(7));
    assert_eq!(f.text.as_deref(), Some("spring launch"));
    assert!(parse_filter("status:open").is_err());
    assert_eq!(
        side_and_text("Partner: we need 12%"),
        (Side::Partner, "we need 12%".into())
    );
    assert_eq!(
        side_and_text("see the new terms"),
        (Side::Marketplace, "see the new terms".into())
    );
    assert_eq!(
        parse_benefit("2 delivered: on the homepage"),
        Ok((2, BenefitStatus::Delivered, "on the homepage".into()))
    );
    assert!(parse_benefit("2 delivered:").is_err());
    assert!(parse_benefit("two missed: x").is_err());
    assert!(parse_benefit("2 late: x").is_err());
}
