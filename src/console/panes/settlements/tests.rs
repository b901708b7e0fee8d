//! Tests of the module beside this file.
use super::*;
use crate::domain::settlement::SettlementStatus;

#[test]
fn filter_words() {
    let f = parse_filter("status:in_review partner:Bluebird period:2026-10").unwrap();
    assert_eq!(f.status, Some(SettlementStatus::InReview));
    assert_eq!(f.partner_name.as_deref(), Some("Bluebird"));
    let day = |m: u32| NaiveDate::from_ymd_opt(2026, m, 1).unwrap();
    assert_eq!(f.within, Some((day(10), day(11))));
    // A quarter, a year: every statement of a period inside it.
    assert_eq!(
        parse_filter("period:2026-Q4").unwrap().within,
        Some((day(10), NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()))
    );
    assert_eq!(
        parse_filter("period:2026").unwrap().within,
        Some((day(1), NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()))
    );
    let f = parse_filter("partner:#12 agreement:7").unwrap();
    assert_eq!(f.partner_id, Some(12));
    assert_eq!(f.agreement_id, Some(7));
    assert_eq!(parse_filter("partner:12").unwrap().partner_id, Some(12));
    // Words are more of the partner's name.
    assert_eq!(
        parse_filter("partner:bluebird travel")
            .unwrap()
            .partner_name
            .as_deref(),
        Some("bluebird travel")
    );
    assert_eq!(
        parse_filter("who:me").unwrap_err(),
        "unknown filter 'who:' (status:, partner:, period:, agreement:)"
    );
    assert!(
        parse_filter("status:open")
            .unwrap_err()
            .starts_with("status:")
    );
    assert!(
        parse_filter("period:october")
            .unwrap_err()
            .starts_with("period: must be a month")
    );
    assert!(parse_filter("partner:#x").is_err());
}

#[test]
fn prompts_read_what_people_type() {
    let (a, p) = parse_compute("2026-10").unwrap();
    assert_eq!((a, p.label()), (None, "2026-10".to_owned()));
    let (a, p) = parse_compute(" #7  2026-Q3 ").unwrap();
    assert_eq!((a, p.label()), (Some(7), "2026-Q3".to_owned()));
    assert!(parse_compute("x 2026-10").is_err());
    assert!(parse_compute("2026-13").is_err());
    assert!(parse_compute("").is_err());

    assert_eq!(parse_tally("120 45.10"), Ok((120, "45.10".to_owned())));
    assert!(parse_tally("120").is_err());
    assert!(parse_tally("-1 4").is_err());
    assert!(parse_tally("many 4").is_err());

    assert_eq!(
        parse_payment("TR-2026-0042"),
        Ok(("TR-2026-0042".to_owned(), None))
    );
    assert_eq!(
        parse_payment("wire 42 2026-11-28"),
        Ok(("wire 42".to_owned(), NaiveDate::from_ymd_opt(2026, 11, 28)))
    );
    assert!(parse_payment("  ").is_err());
}

#[test]
fn the_database_notice_names_settlements() {
    assert_eq!(Changed::of("settlement"), Changed::Settlement);
    assert_eq!(Changed::of("negotiation"), Changed::Other);
}
