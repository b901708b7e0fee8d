//! The demo seed's generated rows: partners, members, who of them each audience reaches, deals
//! and their redemptions, drawn from a seeded random generator so that each run is the same.

use super::names;
use chrono::{DateTime, Duration, Utc};
use rand::RngExt;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;

pub(super) struct PartnerRow {
    pub(super) id: i64,
    pub(super) legal_name: String,
    pub(super) display_name: String,
    pub(super) domain: String,
    pub(super) category: &'static str,
    pub(super) region: &'static str,
    pub(super) verification: &'static str,
    pub(super) created_at: DateTime<Utc>,
}

fn slug(s: &str) -> String {
    s.to_ascii_lowercase()
        .chars()
        .filter_map(|c| {
            if c.is_ascii_alphanumeric() {
                Some(c)
            } else if c == ' ' {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

pub(super) fn gen_partners(rng: &mut ChaCha8Rng, n: u64, now: DateTime<Utc>) -> Vec<PartnerRow> {
    let combos = names::BRAND_FIRST.len() * names::BRAND_SECOND.len();
    (0..n)
        .map(|i| {
            let i = i as usize;
            let first = names::BRAND_FIRST[i % names::BRAND_FIRST.len()];
            let si = (i + i / names::BRAND_FIRST.len()) % names::BRAND_SECOND.len();
            let second = names::BRAND_SECOND[si];
            let round = i / combos;
            let display_name = if round == 0 {
                format!("{first} {second}")
            } else {
                format!("{first} {second} {}", round + 1)
            };
            let tld = names::TLDS[i % names::TLDS.len()];
            let domain = if round == 0 {
                format!("{}-{}.{tld}", slug(first), slug(second))
            } else {
                format!("{}-{}-{}.{tld}", slug(first), slug(second), round + 1)
            };
            let verification = match rng.random_range(0..100) {
                0..75 => "verified",
                75..90 => "pending",
                _ => "disabled",
            };
            PartnerRow {
                id: i as i64 + 1,
                legal_name: format!(
                    "{display_name} {}",
                    ["Ltd", "LLC", "GmbH", "Pvt Ltd", "SAS"][i % 5]
                ),
                display_name,
                domain,
                category: names::CATEGORY_OF_SECOND[si],
                region: names::REGIONS.choose(rng).expect("non-empty"),
                verification,
                created_at: now - Duration::days(rng.random_range(200..900)),
            }
        })
        .collect()
}

pub(super) struct MemberRow {
    pub(super) id: i64,
    pub(super) handle: String,
    pub(super) name: String,
    pub(super) role: &'static str,
    pub(super) verified: bool,
    pub(super) batch: Option<i32>,
    pub(super) chapters: Vec<&'static str>,
}

pub(super) fn gen_members(rng: &mut ChaCha8Rng, n: u64) -> Vec<MemberRow> {
    (0..n)
        .map(|i| {
            let first = names::FIRST_NAMES.choose(rng).expect("non-empty");
            let last = names::LAST_NAMES.choose(rng).expect("non-empty");
            let role = match rng.random_range(0..100) {
                0..30 => "public",
                30..65 => "institute",
                _ => "alumni",
            };
            let verified = match role {
                "institute" => rng.random_bool(0.9),
                "alumni" => rng.random_bool(0.7),
                _ => false,
            };
            let batch = (role == "alumni").then(|| rng.random_range(2005..=2025));
            let k = if role == "public" {
                0
            } else {
                rng.random_range(0..=2)
            };
            let mut chapters: Vec<&'static str> = Vec::new();
            for _ in 0..k {
                let c = *names::CHAPTERS.choose(rng).expect("non-empty");
                if !chapters.contains(&c) {
                    chapters.push(c);
                }
            }
            MemberRow {
                id: i as i64 + 1,
                handle: format!(
                    "{}.{}{}",
                    first.to_ascii_lowercase(),
                    last.to_ascii_lowercase(),
                    i + 1
                ),
                name: format!("{first} {last}"),
                role,
                verified,
                batch,
                chapters,
            }
        })
        .collect()
}

/// Member ids by what they can see.
pub(super) struct Audience {
    pub(super) all: Vec<i64>,
    pub(super) verified: Vec<i64>,
    pub(super) alumni: Vec<i64>,
    pub(super) by_batch: std::collections::HashMap<i32, Vec<i64>>,
    pub(super) by_chapter: std::collections::HashMap<&'static str, Vec<i64>>,
}

impl Audience {
    pub(super) fn index(members: &[MemberRow]) -> Self {
        let mut a = Audience {
            all: Vec::new(),
            verified: Vec::new(),
            alumni: Vec::new(),
            by_batch: Default::default(),
            by_chapter: Default::default(),
        };
        for m in members {
            a.all.push(m.id);
            if m.verified {
                a.verified.push(m.id);
            }
            if m.role == "alumni" {
                a.alumni.push(m.id);
                if let Some(b) = m.batch {
                    a.by_batch.entry(b).or_default().push(m.id);
                }
            }
            for c in &m.chapters {
                a.by_chapter.entry(c).or_default().push(m.id);
            }
        }
        a
    }

    pub(super) fn eligible(&self, scope: &str, value: Option<&str>) -> &[i64] {
        match scope {
            "public" => &self.all,
            "institute" => &self.verified,
            "alumni" => &self.alumni,
            "batch" => value
                .and_then(|v| v.parse().ok())
                .and_then(|y: i32| self.by_batch.get(&y))
                .map(Vec::as_slice)
                .unwrap_or(&[]),
            "chapter" => value
                .and_then(|v| self.by_chapter.get(v))
                .map(Vec::as_slice)
                .unwrap_or(&[]),
            _ => &[],
        }
    }
}

pub(super) struct DealRow {
    pub(super) id: i64,
    pub(super) partner_id: i64,
    pub(super) title: String,
    pub(super) description: String,
    pub(super) code: Option<String>,
    pub(super) old_code: Option<String>,
    pub(super) code_changed_at: DateTime<Utc>,
    pub(super) url: Option<String>,
    pub(super) category: &'static str,
    pub(super) scope: &'static str,
    pub(super) scope_value: Option<String>,
    pub(super) valid_from: DateTime<Utc>,
    pub(super) valid_until: DateTime<Utc>,
    pub(super) cap: Option<i32>,
    pub(super) state: &'static str,
    pub(super) created_at: DateTime<Utc>,
}

pub(super) fn gen_deals(
    rng: &mut ChaCha8Rng,
    n: u64,
    partners: &[PartnerRow],
    now: DateTime<Utc>,
) -> Vec<DealRow> {
    (0..n)
        .map(|i| {
            let p = &partners[rng.random_range(0..partners.len())];
            // Only verified partners may have active deals (the KYC gate).
            let state = match (p.verification, rng.random_range(0..100)) {
                ("verified", 0..55) => "active",
                (_, 0..40) => "paused",
                (_, 40..70) => "draft",
                _ => "expired",
            };
            let day = |d: i64| now + Duration::days(d);
            let (from, until) = match state {
                "active" => (
                    day(-rng.random_range(1..120)),
                    day(rng.random_range(1..180)),
                ),
                "paused" => (
                    day(-rng.random_range(10..120)),
                    day(rng.random_range(-5..120)),
                ),
                "draft" => (day(rng.random_range(1..60)), day(rng.random_range(61..240))),
                _ => (
                    day(-rng.random_range(200..400)),
                    day(-rng.random_range(1..150)),
                ),
            };
            let offer = names::OFFERS.choose(rng).expect("non-empty");
            let detail = names::OFFER_DETAILS.choose(rng).expect("non-empty");
            let coupon = rng.random_bool(0.6);
            let prefix: String = p
                .display_name
                .chars()
                .filter(char::is_ascii_alphabetic)
                .take(5)
                .collect::<String>()
                .to_ascii_uppercase();
            let code = coupon.then(|| format!("{prefix}{}", rng.random_range(10..100)));
            let old_code = (coupon && rng.random_bool(0.1))
                .then(|| format!("{prefix}{}", rng.random_range(100..1000)));
            let (scope, scope_value) = match rng.random_range(0..100) {
                0..40 => ("public", None),
                40..60 => ("institute", None),
                60..75 => ("alumni", None),
                75..90 => ("batch", Some(rng.random_range(2005..=2025).to_string())),
                _ => (
                    "chapter",
                    Some(names::CHAPTERS.choose(rng).expect("non-empty").to_string()),
                ),
            };
            let cap = match rng.random_range(0..100) {
                0..15 => Some(1),
                15..60 => Some([5, 10, 25, 50, 100, 250, 1000][rng.random_range(0..7)]),
                _ => None,
            };
            let created_at = from.min(now) - Duration::days(rng.random_range(1..20));
            DealRow {
                id: i as i64 + 1,
                partner_id: p.id,
                title: format!("{offer} at {}", p.display_name),
                description: format!("{offer} for our community at {}. {detail}", p.display_name),
                url: (!coupon).then(|| format!("https://www.{}/offers/{}", p.domain, i + 1)),
                code,
                code_changed_at: from + (until - from) / 3,
                old_code,
                category: p.category,
                scope,
                scope_value,
                valid_from: from,
                valid_until: until,
                cap,
                state,
                created_at,
            }
        })
        .collect()
}

pub(super) struct RedemptionRow {
    pub(super) deal_id: i64,
    pub(super) member_id: i64,
    pub(super) code: Option<String>,
    pub(super) at: DateTime<Utc>,
    pub(super) one: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::day;
    use rand::SeedableRng;

    #[test]
    fn generation_is_deterministic_and_respects_the_kyc_gate() {
        let now = day(0);
        let mut r1 = ChaCha8Rng::seed_from_u64(1);
        let mut r2 = ChaCha8Rng::seed_from_u64(1);
        let p1 = gen_partners(&mut r1, 100, now);
        let p2 = gen_partners(&mut r2, 100, now);
        assert_eq!(
            p1.iter().map(|p| &p.domain).collect::<Vec<_>>(),
            p2.iter().map(|p| &p.domain).collect::<Vec<_>>()
        );
        let domains: std::collections::HashSet<_> = p1.iter().map(|p| &p.domain).collect();
        assert_eq!(domains.len(), 100, "domains are unique");
        let deals = gen_deals(&mut r1, 2000, &p1, now);
        for d in &deals {
            let p = &p1[(d.partner_id - 1) as usize];
            if d.state == "active" {
                assert_eq!(p.verification, "verified");
                assert!(d.valid_until > now && d.valid_from <= now);
            }
            assert!(d.valid_until > d.valid_from);
        }
        for s in ["active", "paused", "draft", "expired"] {
            assert!(deals.iter().any(|d| d.state == s), "some {s} deals");
        }
        for s in ["public", "institute", "alumni", "batch", "chapter"] {
            assert!(deals.iter().any(|d| d.scope == s), "some {s} deals");
        }
    }
}
