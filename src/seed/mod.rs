//! `partnerdesk seed --demo [--scale N]`: deterministic demo data that looks real.
//!
//! Every run with the same scale produces the same rows. Rows are streamed with
//! `COPY … FROM STDIN` in CSV, so a million deals load in minutes.

mod names;
mod negotiations;
mod referrals;
mod settlements;

use crate::domain::operator::validate_login;
use crate::error::{Error, Result};
use crate::service::record::Change;
use crate::store;
use chrono::{DateTime, Duration, DurationRound, TimeZone, Utc};
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sqlx::{PgConnection, PgPool};
use std::fmt::Write as _;

/// How much to create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub deals: u64,
    pub partners: u64,
    pub members: u64,
    /// Upper bound of redemptions (caps and windows cut some).
    pub redemptions_per_deal: u64,
}

impl Plan {
    /// The default demo: a few hundred deals.
    pub const DEMO_DEALS: u64 = 300;

    pub fn for_deals(deals: u64) -> Self {
        let deals = deals.max(1);
        Self {
            deals,
            partners: (deals / 12).max(8),
            members: (deals / 2).max(120),
            redemptions_per_deal: 6,
        }
    }
}

/// What the seed wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SeedReport {
    pub operators: u64,
    pub partners: u64,
    pub members: u64,
    pub deals: u64,
    pub redemptions: u64,
    pub negotiations: u64,
    pub settlements: u64,
}

/// Progress callback: (phase, done, total).
pub type Progress<'a> = &'a mut dyn FnMut(&str, u64, u64);

/// Rows in the tables the seed fills (to refuse seeding over real data).
pub async fn existing_rows(pool: &PgPool) -> Result<(i64, i64)> {
    let r: (i64, i64) =
        sqlx::query_as("SELECT (SELECT count(*) FROM partners), (SELECT count(*) FROM deals)")
            .fetch_one(pool)
            .await?;
    Ok(r)
}

/// Registered operators.
pub async fn operator_count(pool: &PgPool) -> Result<i64> {
    let mut conn = pool.acquire().await?;
    Ok(store::operators::count(&mut conn).await?)
}

/// Is everything in the seeded tables the demo seed's own? The last `seed.demo` must exist and
/// nothing but operators and the expiry job may have changed since (every change through
/// partnerdesk leaves an audit row); no demo seed at all means the data came from elsewhere.
pub async fn only_demo_data(pool: &PgPool) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT FROM audit_log WHERE action = 'seed.demo')
            AND NOT EXISTS (
                SELECT FROM audit_log
                 WHERE id > (SELECT max(id) FROM audit_log WHERE action = 'seed.demo')
                   AND entity_type NOT IN ('operator', 'database')
                   AND actor <> 'system')",
    )
    .fetch_one(pool)
    .await?)
}

/// Empties every table the seed fills. The audit log is append-only and stays.
pub async fn reset(pool: &PgPool, actor: &str) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "TRUNCATE settlement_lines, settlements, payout_ledger, referral_payouts, referral_accounts,
                  claim_tokens, commission_rules, referral_codes, plans, redemptions, deal_search_documents,
                  deal_coupon_codes, deals, partner_checks, partners, members, outbox_events
                  RESTART IDENTITY CASCADE",
    )
    .execute(&mut *tx)
    .await?;
    Change::by_login(actor, "seed.reset", "database", "demo")
        .reason(Some("seed --demo --reset"))
        .no_event()
        .commit(tx)
        .await?;
    Ok(())
}

/// Seeds demo data. `admin_login` (the OS user, given only while the database has no
/// operators) is registered as an admin operator.
pub async fn run(
    pool: &PgPool,
    plan: Plan,
    admin_login: Option<&str>,
    progress: Progress<'_>,
) -> Result<SeedReport> {
    let now = Utc::now()
        .duration_trunc(Duration::minutes(1))
        .unwrap_or_else(|_| Utc::now());
    let mut rng = ChaCha8Rng::seed_from_u64(0x9a27_4e5d);
    let mut report = SeedReport::default();
    let mut conn = pool.acquire().await?;
    let conn: &mut PgConnection = &mut conn;

    // Operators: the OS user as admin, plus one of each role for trying the console.
    let mut ops: Vec<(String, String, Vec<&str>)> = vec![
        ("cara".into(), "Cara Curator".into(), vec!["curator"]),
        ("sam".into(), "Sam Support".into(), vec!["support"]),
        ("fin".into(), "Fin Finance".into(), vec!["finance"]),
    ];
    let admin = admin_login.map(str::to_ascii_lowercase);
    if let Some(admin) = admin.filter(|a| validate_login(a).is_ok()) {
        ops.insert(0, (admin.clone(), admin, vec!["admin"]));
    } else if let Some(admin_login) = admin_login {
        tracing::warn!(
            login = admin_login,
            "OS user is not a valid login; not registered"
        );
    }
    for (login, name, roles) in &ops {
        let roles: Vec<String> = roles.iter().map(|r| r.to_string()).collect();
        if store::operators::insert(conn, login, name, &roles, "seed")
            .await?
            .is_some()
        {
            report.operators += 1;
        }
    }
    let curator = "cara";

    // Partners -------------------------------------------------------------------------
    let partners = gen_partners(&mut rng, plan.partners, now);
    copy_rows(
        conn,
        "COPY partners (id, legal_name, display_name, logo_url, website_url, domain, contact_email,
                        categories, region, notes, verification, vetted_by, vetted_at,
                        created_at, created_by, updated_at, updated_by) FROM STDIN WITH (FORMAT csv)",
        partners.len() as u64,
        "partners",
        progress,
        |buf, i| {
            let p = &partners[i as usize];
            let vetted = p.verification != "pending";
            row(buf, &[
                Some(&p.id.to_string()),
                Some(&p.legal_name),
                Some(&p.display_name),
                Some(&format!("https://cdn.{}/logo.png", p.domain)),
                Some(&format!("https://www.{}/", p.domain)),
                Some(&p.domain),
                Some(&format!("partners@{}", p.domain)),
                Some(&pg_array(&[p.category])),
                Some(p.region),
                None,
                Some(p.verification),
                vetted.then_some(curator),
                vetted.then(|| ts(p.created_at + Duration::days(2))).as_deref(),
                Some(&ts(p.created_at)),
                Some(curator),
                Some(&ts(p.created_at)),
                Some(curator),
            ]);
        },
    )
    .await?;
    report.partners = partners.len() as u64;

    // Members --------------------------------------------------------------------------
    let members = gen_members(&mut rng, plan.members);
    copy_rows(
        conn,
        "COPY members (id, handle, display_name, role, institute_verified, batch_year, chapters)
         FROM STDIN WITH (FORMAT csv)",
        members.len() as u64,
        "members",
        progress,
        |buf, i| {
            let m = &members[i as usize];
            row(
                buf,
                &[
                    Some(&m.id.to_string()),
                    Some(&m.handle),
                    Some(&m.name),
                    Some(m.role),
                    Some(if m.verified { "t" } else { "f" }),
                    m.batch.map(|b| b.to_string()).as_deref(),
                    Some(&pg_array(&m.chapters)),
                ],
            );
        },
    )
    .await?;
    report.members = members.len() as u64;
    let audience = Audience::index(&members);

    // Deals and their redemptions are generated together so that counts agree.
    // The accepted demo negotiation makes one more (draft) deal: the total stays at the plan.
    let with_accepted = plan.deals >= 2;
    let generated = plan.deals - u64::from(with_accepted);
    let deals = gen_deals(&mut rng, generated, &partners, now);
    let mut redemptions: Vec<RedemptionRow> = Vec::new();
    let mut counts = vec![0i32; deals.len()];
    // Signals worth a look, planted so that the monitor shows each kind (SPEC §1.5): a cap
    // exhausted minutes after publishing, and a link deal with many clicks and few conversions.
    let live_public = |d: &&DealRow| {
        d.state == "active" && d.scope == "public" && d.valid_from > now - Duration::days(80)
    };
    let quick_cap = deals
        .iter()
        .filter(live_public)
        .find(|d| d.cap.is_some_and(|c| c > 1 && c <= 25))
        .map(|d| d.id);
    let many_clicks = deals
        .iter()
        .filter(live_public)
        .find(|d| d.code.is_none() && d.cap.is_none())
        .map(|d| d.id);
    for (i, d) in deals.iter().enumerate() {
        if d.state == "draft" {
            continue;
        }
        if Some(d.id) == quick_cap || Some(d.id) == many_clicks {
            let n = if Some(d.id) == quick_cap {
                d.cap.unwrap_or(10)
            } else {
                60
            };
            for k in 0..n {
                let member = audience.all[(k as usize * 7 + i) % audience.all.len()];
                // The quick cap fills within 2 minutes per redemption of publishing.
                let at = if Some(d.id) == quick_cap {
                    d.valid_from + Duration::seconds(90 * i64::from(k) + 30)
                } else {
                    now - Duration::minutes(i64::from(k) * 37 + 1)
                };
                redemptions.push(RedemptionRow {
                    deal_id: d.id,
                    member_id: member,
                    code: d.code.clone(),
                    at,
                    one: false,
                });
            }
            counts[i] = n;
            continue;
        }
        let eligible = audience.eligible(d.scope, d.scope_value.as_deref());
        if eligible.is_empty() {
            continue;
        }
        let want = rng.random_range(0..=plan.redemptions_per_deal * 2) as i32;
        let n = match d.cap {
            // cap 1 is one per member: at most one each, any number of members.
            Some(1) => want.min(eligible.len() as i32),
            Some(c) => want.min(c),
            None => want,
        };
        let start = d.valid_from.max(now - Duration::days(90));
        let end = d.valid_until.min(now);
        if end <= start {
            continue;
        }
        let span = (end - start).num_seconds().max(1);
        let mut used: Vec<i64> = Vec::new();
        for _ in 0..n {
            let member = loop {
                let m = *eligible.choose(&mut rng).expect("non-empty");
                if d.cap != Some(1) || !used.contains(&m) {
                    break m;
                }
                if used.len() >= eligible.len() {
                    break -1;
                }
            };
            if member < 0 {
                break;
            }
            used.push(member);
            let at = start + Duration::seconds(rng.random_range(0..span));
            // A tenth of coupon deals changed their code mid-campaign; earlier redemptions keep the old one.
            let code = d.code.as_ref().map(|c| match &d.old_code {
                Some(old) if at < d.code_changed_at => old.clone(),
                _ => c.clone(),
            });
            redemptions.push(RedemptionRow {
                deal_id: d.id,
                member_id: member,
                code,
                at,
                one: d.cap == Some(1),
            });
            counts[i] += 1;
        }
    }

    // One member redeeming in a burst across deals (possible coupon sharing).
    let burst_deals: Vec<usize> = deals
        .iter()
        .enumerate()
        .filter(|(_, d)| {
            d.state == "active"
                && d.scope == "public"
                && d.cap.is_none()
                && Some(d.id) != many_clicks
        })
        .map(|(i, _)| i)
        .take(3)
        .collect();
    if let Some(&sharer) = audience.all.first() {
        for (k, &i) in burst_deals
            .iter()
            .cycle()
            .take(burst_deals.len() * 2)
            .enumerate()
        {
            let d = &deals[i];
            redemptions.push(RedemptionRow {
                deal_id: d.id,
                member_id: sharer,
                code: d.code.clone(),
                at: now - Duration::seconds(45 * k as i64 + 20),
                one: false,
            });
            counts[i] += 1;
        }
    }

    copy_rows(
        conn,
        "COPY deals (id, partner_id, title, description, kind, coupon_code, redemption_url, categories,
                     audience_scope, audience_scope_value, valid_from, valid_until, redemption_cap,
                     redemption_count, state, published_at, created_at, created_by, updated_at, updated_by)
         FROM STDIN WITH (FORMAT csv)",
        deals.len() as u64,
        "deals",
        progress,
        |buf, i| {
            let d = &deals[i as usize];
            let published = (d.state != "draft").then(|| ts(d.valid_from));
            row(buf, &[
                Some(&d.id.to_string()),
                Some(&d.partner_id.to_string()),
                Some(&d.title),
                Some(&d.description),
                Some(if d.code.is_some() { "coupon" } else { "link" }),
                d.code.as_deref(),
                d.url.as_deref(),
                Some(&pg_array(&[d.category])),
                Some(d.scope),
                d.scope_value.as_deref(),
                Some(&ts(d.valid_from)),
                Some(&ts(d.valid_until)),
                d.cap.map(|c| c.to_string()).as_deref(),
                Some(&counts[i as usize].to_string()),
                Some(d.state),
                published.as_deref(),
                Some(&ts(d.created_at)),
                Some(curator),
                Some(&ts(d.created_at)),
                Some(curator),
            ]);
        },
    )
    .await?;
    report.deals = deals.len() as u64;

    // Coupon-code history: the old code (if any), then the current one.
    let coupon_rows: Vec<(i64, &str, DateTime<Utc>)> = deals
        .iter()
        .filter_map(|d| d.code.as_ref().map(|c| (d, c)))
        .flat_map(|(d, c)| {
            let mut v = Vec::with_capacity(2);
            if let Some(old) = &d.old_code {
                v.push((d.id, old.as_str(), d.created_at));
                v.push((d.id, c.as_str(), d.code_changed_at));
            } else {
                v.push((d.id, c.as_str(), d.created_at));
            }
            v
        })
        .collect();
    copy_rows(
        conn,
        "COPY deal_coupon_codes (deal_id, code, set_at, set_by) FROM STDIN WITH (FORMAT csv)",
        coupon_rows.len() as u64,
        "coupon codes",
        progress,
        |buf, i| {
            let (id, code, at) = coupon_rows[i as usize];
            row(
                buf,
                &[
                    Some(&id.to_string()),
                    Some(code),
                    Some(&ts(at)),
                    Some(curator),
                ],
            );
        },
    )
    .await?;

    copy_rows(
        conn,
        "COPY redemptions (deal_id, member_id, source, coupon_code, one_per_member, redeemed_at)
         FROM STDIN WITH (FORMAT csv)",
        redemptions.len() as u64,
        "redemptions",
        progress,
        |buf, i| {
            let r = &redemptions[i as usize];
            row(
                buf,
                &[
                    Some(&r.deal_id.to_string()),
                    Some(&r.member_id.to_string()),
                    Some(if r.code.is_some() {
                        "copy_code"
                    } else {
                        "outbound_click"
                    }),
                    r.code.as_deref(),
                    Some(if r.one { "t" } else { "f" }),
                    Some(&ts(r.at)),
                ],
            );
        },
    )
    .await?;
    report.redemptions = redemptions.len() as u64;

    if let Some(id) = many_clicks {
        sqlx::query(
            "INSERT INTO deal_conversions (deal_id, confirmed, entered_by) VALUES ($1, 2, 'sam')",
        )
        .bind(id)
        .execute(&mut *conn)
        .await?;
    }

    progress("search index", 0, 1);
    sqlx::query(
        "INSERT INTO deal_search_documents (deal_id, audience_scope, audience_scope_value, document)
         SELECT d.id, d.audience_scope, d.audience_scope_value,
                setweight(to_tsvector('english', d.title), 'A')
                || setweight(to_tsvector('english', p.display_name), 'B')
                || setweight(to_tsvector('english', array_to_string(d.categories, ' ')), 'B')
                || setweight(to_tsvector('english', d.description), 'C')
           FROM deals d JOIN partners p ON p.id = d.partner_id
          WHERE d.state = 'active'",
    )
    .execute(&mut *conn)
    .await?;
    progress("search index", 1, 1);

    for t in [
        "partners",
        "members",
        "deals",
        "deal_coupon_codes",
        "redemptions",
    ] {
        let sql = format!(
            "SELECT setval(pg_get_serial_sequence('{t}', 'id'), coalesce((SELECT max(id) FROM {t}), 0) + 1, false)"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut *conn)
            .await?;
    }
    progress("negotiations", 0, 1);
    report.negotiations = negotiations::seed(pool, conn, now, with_accepted).await?;
    report.deals += u64::from(with_accepted);
    progress("negotiations", 1, 1);
    progress("settlements", 0, 1);
    report.settlements = settlements::seed(pool, conn, now).await?;
    progress("settlements", 1, 1);
    sqlx::query("ANALYZE partners, members, deals, redemptions, deal_search_documents")
        .execute(&mut *conn)
        .await?;
    Change::by_login("seed", "seed.demo", "database", "demo")
        .after(&report)
        .reason(Some("seed --demo"))
        .no_event()
        .write(conn)
        .await?;
    Ok(report)
}

// Generation ----------------------------------------------------------------------------------

struct PartnerRow {
    id: i64,
    legal_name: String,
    display_name: String,
    domain: String,
    category: &'static str,
    region: &'static str,
    verification: &'static str,
    created_at: DateTime<Utc>,
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

fn gen_partners(rng: &mut ChaCha8Rng, n: u64, now: DateTime<Utc>) -> Vec<PartnerRow> {
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

struct MemberRow {
    id: i64,
    handle: String,
    name: String,
    role: &'static str,
    verified: bool,
    batch: Option<i32>,
    chapters: Vec<&'static str>,
}

fn gen_members(rng: &mut ChaCha8Rng, n: u64) -> Vec<MemberRow> {
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
struct Audience {
    all: Vec<i64>,
    verified: Vec<i64>,
    alumni: Vec<i64>,
    by_batch: std::collections::HashMap<i32, Vec<i64>>,
    by_chapter: std::collections::HashMap<&'static str, Vec<i64>>,
}

impl Audience {
    fn index(members: &[MemberRow]) -> Self {
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

    fn eligible(&self, scope: &str, value: Option<&str>) -> &[i64] {
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

struct DealRow {
    id: i64,
    partner_id: i64,
    title: String,
    description: String,
    code: Option<String>,
    old_code: Option<String>,
    code_changed_at: DateTime<Utc>,
    url: Option<String>,
    category: &'static str,
    scope: &'static str,
    scope_value: Option<String>,
    valid_from: DateTime<Utc>,
    valid_until: DateTime<Utc>,
    cap: Option<i32>,
    state: &'static str,
    created_at: DateTime<Utc>,
}

fn gen_deals(
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

struct RedemptionRow {
    deal_id: i64,
    member_id: i64,
    code: Option<String>,
    at: DateTime<Utc>,
    one: bool,
}

// COPY ----------------------------------------------------------------------------------------

async fn copy_rows(
    conn: &mut PgConnection,
    statement: &str,
    total: u64,
    phase: &str,
    progress: Progress<'_>,
    mut write_row: impl FnMut(&mut String, u64),
) -> Result<()> {
    const CHUNK: usize = 1 << 20;
    let mut copy = conn.copy_in_raw(statement).await.map_err(Error::from)?;
    let mut buf = String::with_capacity(CHUNK + 4096);
    progress(phase, 0, total);
    for i in 0..total {
        write_row(&mut buf, i);
        if buf.len() >= CHUNK {
            copy.send(buf.as_bytes()).await?;
            buf.clear();
            progress(phase, i + 1, total);
        }
    }
    if !buf.is_empty() {
        copy.send(buf.as_bytes()).await?;
    }
    copy.finish().await?;
    progress(phase, total, total);
    Ok(())
}

/// One CSV line; `None` is NULL (unquoted empty), everything else is quoted.
fn row(buf: &mut String, fields: &[Option<&str>]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            buf.push(',');
        }
        if let Some(v) = f {
            buf.push('"');
            for c in v.chars() {
                if c == '"' {
                    buf.push('"');
                }
                buf.push(c);
            }
            buf.push('"');
        }
    }
    buf.push('\n');
}

/// A PostgreSQL array literal with every element quoted.
fn pg_array(items: &[&str]) -> String {
    let mut s = String::from("{");
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push('"');
        for c in it.chars() {
            if c == '"' || c == '\\' {
                s.push('\\');
            }
            s.push(c);
        }
        s.push('"');
    }
    s.push('}');
    s
}

fn ts(t: DateTime<Utc>) -> String {
    let mut s = String::with_capacity(32);
    let _ = write!(s, "{}", t.format("%Y-%m-%d %H:%M:%S%.6f+00"));
    s
}

/// Midnight UTC of a day offset, for tests that need stable windows.
pub fn day(offset: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("valid")
        + Duration::days(offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quoting() {
        let mut b = String::new();
        row(&mut b, &[Some("a\"b"), None, Some(""), Some("x,y")]);
        assert_eq!(b, "\"a\"\"b\",,\"\",\"x,y\"\n");
    }

    #[test]
    fn array_literal() {
        assert_eq!(
            pg_array(&["food & drink", "a\"b"]),
            "{\"food & drink\",\"a\\\"b\"}"
        );
    }

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
