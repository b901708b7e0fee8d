//! `partnerdesk seed --demo [--scale N]`: deterministic demo data that looks real.
//!
//! Every run with the same scale produces the same rows. Rows are streamed with
//! `COPY … FROM STDIN` in CSV, so a million deals load in minutes.

mod copy;
mod existing;
mod generate;
mod names;
mod negotiations;
mod payouts;
mod referrals;
mod settlements;

use crate::domain::operator::validate_login;
use crate::error::Result;
use crate::service::record::Change;
use crate::store;
use chrono::{DateTime, Duration, DurationRound, TimeZone, Utc};
use copy::{copy_rows, pg_array, row, ts};
use generate::{Audience, DealRow, RedemptionRow, gen_deals, gen_members, gen_partners};
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sqlx::{PgConnection, PgPool};

pub use existing::{existing_rows, only_demo_data, operator_count, reset};

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
/// Midnight UTC of a day offset, for tests that need stable windows.
pub fn day(offset: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("valid")
        + Duration::days(offset)
}
