//! The difference between revisions for every kind of term.

use super::offer;
use partnerdesk::domain::negotiation::{Benefit, OfferTerms, TermChange, diff};

fn terms(f: impl FnOnce(&mut partnerdesk::domain::negotiation::OfferDraft)) -> OfferTerms {
    let mut d = offer(1200);
    f(&mut d);
    d.validate(1).expect("valid offer")
}

fn lines(a: &OfferTerms, b: &OfferTerms) -> Vec<String> {
    diff(a, b).iter().map(|c| c.to_string()).collect()
}

#[test]
fn every_term_kind_shows_old_and_new_in_its_units() {
    let base = terms(|_| {});
    assert!(diff(&base, &base).is_empty());
    assert_eq!(
        lines(&base, &terms(|d| d.rate_bps = Some(950))),
        ["rate: 12% → 9.5%"]
    );
    assert_eq!(
        lines(&base, &terms(|d| d.take_rate_bps = Some(1000))),
        ["take rate: 15% → 10%"]
    );
    assert_eq!(
        lines(&base, &terms(|d| d.frequency = "quarterly".into())),
        ["frequency: monthly → quarterly"]
    );
    assert_eq!(
        lines(
            &base,
            &terms(|d| {
                d.model = "fixed_fee".into();
                d.amount = Some("2.50".into());
            })
        ),
        [
            "model: percentage → fixed_fee",
            "rate: 12% → —",
            "fee per redemption: — → 2.50 EUR"
        ]
    );
    let flat = terms(|d| {
        d.model = "flat_fee".into();
        d.amount = Some("100".into());
    });
    let flat_jpy = terms(|d| {
        d.model = "flat_fee".into();
        d.amount = Some("100".into());
        d.currency = "JPY".into();
    });
    assert_eq!(
        lines(&flat, &flat_jpy),
        [
            "fee per period: 100.00 EUR → 100 JPY",
            "currency: EUR → JPY"
        ]
    );
    let hybrid = |base: i64, bonus: i64, n: i64| {
        terms(move |d| {
            d.model = "hybrid".into();
            d.base_bps = Some(base);
            d.bonus_bps = Some(bonus);
            d.bonus_threshold = Some(n);
        })
    };
    assert_eq!(
        lines(&hybrid(1000, 200, 50), &hybrid(1000, 300, 40)),
        [
            "bonus rate: 2% → 3%",
            "bonus threshold: 50 redemptions → 40 redemptions"
        ]
    );
    let deal = terms(|d| {
        d.title = "Summer coupon".into();
        d.coupon_code = Some("SUMMER".into());
        d.redemption_cap = None;
        d.audience_scope = "alumni".into();
    });
    assert_eq!(
        lines(&base, &deal),
        [
            "title: Spring coupon → Summer coupon",
            "coupon code: SPRING10 → SUMMER",
            "audience: public → alumni",
            "cap: 500 → none"
        ]
    );
    let link = terms(|d| {
        d.kind = "link".into();
        d.coupon_code = None;
        d.redemption_url = Some("https://acme.example/spring".into());
    });
    assert_eq!(
        lines(&base, &link),
        [
            "deal type: coupon → link",
            "coupon code: SPRING10 → —",
            "redemption url: — → https://acme.example/spring"
        ]
    );
    let later = terms(|d| d.valid_until = d.valid_until.map(|t| t + chrono::Duration::days(1)));
    let l = lines(&base, &later);
    assert_eq!(l.len(), 1);
    assert!(l[0].starts_with("valid until: "), "{l:?}");
}

#[test]
fn benefits_added_and_removed() {
    let base = terms(|_| {});
    let next = terms(|d| {
        d.benefits = vec![Benefit {
            name: "newsletter mention".into(),
            due: None,
        }]
    });
    let ch = diff(&base, &next);
    assert_eq!(ch.len(), 2);
    assert!(
        matches!(&ch[0], TermChange::BenefitAdded { name, .. } if name == "newsletter mention")
    );
    assert!(matches!(&ch[1], TermChange::BenefitRemoved { name, .. } if name == "logo placement"));
    assert_eq!(ch[0].to_string(), "benefit added: newsletter mention");
}

#[test]
fn money_rules_refuse_what_the_currency_cannot_hold() {
    let mut d = offer(1200);
    d.model = "fixed_fee".into();
    d.amount = Some("1.5".into());
    d.currency = "JPY".into();
    let e = d.validate(1).unwrap_err().to_string();
    assert!(e.contains("amount: JPY has 0 decimal places"), "{e}");
    d.amount = Some("-1".into());
    d.currency = "EUR".into();
    assert!(
        d.validate(1)
            .unwrap_err()
            .to_string()
            .contains("amount: must be 0 or more")
    );
}
