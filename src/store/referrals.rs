//! The referral program: plans, codes, claim tokens, attribution, commission rules and
//! payouts. Every "exactly once" here is one conditional statement.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;

#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct Plan {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub price_minor: i64,
    pub currency: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

const PLAN_COLS: &str = "id, code, name, price_minor, currency, active, created_at, created_by";

pub async fn insert_plan(
    conn: &mut PgConnection,
    code: &str,
    name: &str,
    price_minor: i64,
    currency: &str,
    by: &str,
) -> sqlx::Result<Option<Plan>> {
    let sql = format!(
        "INSERT INTO plans (code, name, price_minor, currency, created_by, updated_by)
         VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (code) DO NOTHING RETURNING {PLAN_COLS}"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(code)
        .bind(name)
        .bind(price_minor)
        .bind(currency)
        .bind(by)
        .fetch_optional(conn)
        .await
}

pub async fn plans(conn: &mut PgConnection) -> sqlx::Result<Vec<Plan>> {
    let sql = format!("SELECT {PLAN_COLS} FROM plans ORDER BY active DESC, code");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(conn)
        .await
}

pub async fn plan_by_code(conn: &mut PgConnection, code: &str) -> sqlx::Result<Option<Plan>> {
    let sql = format!("SELECT {PLAN_COLS} FROM plans WHERE code = $1");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(code.trim().to_ascii_lowercase())
        .fetch_optional(conn)
        .await
}

pub async fn plan(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<Plan>> {
    let sql = format!("SELECT {PLAN_COLS} FROM plans WHERE id = $1");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await
}

pub async fn set_plan_active(
    conn: &mut PgConnection,
    id: i64,
    active: bool,
    by: &str,
) -> sqlx::Result<Option<Plan>> {
    let sql = format!(
        "UPDATE plans SET active = $2, updated_at = now(), updated_by = $3
          WHERE id = $1 AND active <> $2 RETURNING {PLAN_COLS}"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(active)
        .bind(by)
        .fetch_optional(conn)
        .await
}

// Codes ----------------------------------------------------------------------------------------

#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct ReferralCode {
    pub id: i64,
    pub partner_id: i64,
    pub code: String,
    pub is_default: bool,
    pub disabled_at: Option<DateTime<Utc>>,
    pub disabled_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

const CODE_COLS: &str =
    "id, partner_id, code, is_default, disabled_at, disabled_by, created_at, created_by";

/// A new code; `None` when the code (whatever its case) is taken, or when `is_default` and the
/// partner already has a default.
pub async fn insert_code(
    conn: &mut PgConnection,
    partner_id: i64,
    code: &str,
    is_default: bool,
    by: &str,
) -> sqlx::Result<Option<ReferralCode>> {
    let sql = format!(
        "INSERT INTO referral_codes (partner_id, code, is_default, created_by)
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING {CODE_COLS}"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(partner_id)
        .bind(code)
        .bind(is_default)
        .bind(by)
        .fetch_optional(conn)
        .await
}

pub async fn code_by_text(
    conn: &mut PgConnection,
    code: &str,
) -> sqlx::Result<Option<ReferralCode>> {
    let sql = format!("SELECT {CODE_COLS} FROM referral_codes WHERE lower(code) = lower($1)");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(code.trim())
        .fetch_optional(conn)
        .await
}

pub async fn codes_of(conn: &mut PgConnection, partner_id: i64) -> sqlx::Result<Vec<ReferralCode>> {
    let sql = format!(
        "SELECT {CODE_COLS} FROM referral_codes WHERE partner_id = $1 ORDER BY is_default DESC, id"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(partner_id)
        .fetch_all(conn)
        .await
}

pub async fn disable_code(
    conn: &mut PgConnection,
    id: i64,
    by: &str,
) -> sqlx::Result<Option<ReferralCode>> {
    let sql = format!(
        "UPDATE referral_codes SET disabled_at = now(), disabled_by = $2
          WHERE id = $1 AND disabled_at IS NULL RETURNING {CODE_COLS}"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(by)
        .fetch_optional(conn)
        .await
}

// Claim tokens ---------------------------------------------------------------------------------

#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct ClaimToken {
    pub id: i64,
    pub partner_id: i64,
    pub plan_id: i64,
    pub email: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last4: String,
    pub claimed_at: Option<DateTime<Utc>>,
    pub claimed_account: Option<i64>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

const TOKEN_COLS: &str = "id, partner_id, plan_id, email, expires_at, last4, claimed_at, \
     claimed_account, revoked_at, revoked_by, created_at, created_by";

#[allow(clippy::too_many_arguments)]
pub async fn insert_token(
    conn: &mut PgConnection,
    partner_id: i64,
    plan_id: i64,
    email: Option<&str>,
    expires_at: Option<DateTime<Utc>>,
    hash: &str,
    last4: &str,
    by: &str,
) -> sqlx::Result<ClaimToken> {
    let sql = format!(
        "INSERT INTO claim_tokens (partner_id, plan_id, email, expires_at, token_hash, last4, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {TOKEN_COLS}"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(partner_id)
        .bind(plan_id)
        .bind(email)
        .bind(expires_at)
        .bind(hash)
        .bind(last4)
        .bind(by)
        .fetch_one(conn)
        .await
}

pub async fn token_by_hash(
    conn: &mut PgConnection,
    hash: &str,
) -> sqlx::Result<Option<ClaimToken>> {
    let sql = format!("SELECT {TOKEN_COLS} FROM claim_tokens WHERE token_hash = $1");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(hash)
        .fetch_optional(conn)
        .await
}

pub async fn tokens_of(conn: &mut PgConnection, partner_id: i64) -> sqlx::Result<Vec<ClaimToken>> {
    let sql =
        format!("SELECT {TOKEN_COLS} FROM claim_tokens WHERE partner_id = $1 ORDER BY id DESC");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(partner_id)
        .fetch_all(conn)
        .await
}

/// Claims the token with this hash for `account`: one conditional statement, so of any number
/// of simultaneous claims exactly one succeeds. `None` when it is unknown, claimed, revoked,
/// expired, or meant for another e-mail.
pub async fn claim(
    conn: &mut PgConnection,
    hash: &str,
    account: i64,
    email: Option<&str>,
) -> sqlx::Result<Option<ClaimToken>> {
    let sql = format!(
        "UPDATE claim_tokens SET claimed_at = now(), claimed_account = $2
          WHERE token_hash = $1 AND claimed_at IS NULL AND revoked_at IS NULL
            AND (expires_at IS NULL OR expires_at > now())
            AND (email IS NULL OR lower(email) = lower($3))
         RETURNING {TOKEN_COLS}"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(hash)
        .bind(account)
        .bind(email.unwrap_or(""))
        .fetch_optional(conn)
        .await
}

pub async fn revoke_token(
    conn: &mut PgConnection,
    id: i64,
    by: &str,
) -> sqlx::Result<Option<ClaimToken>> {
    let sql = format!(
        "UPDATE claim_tokens SET revoked_at = now(), revoked_by = $2
          WHERE id = $1 AND claimed_at IS NULL AND revoked_at IS NULL RETURNING {TOKEN_COLS}"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(by)
        .fetch_optional(conn)
        .await
}

pub async fn token(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<ClaimToken>> {
    let sql = format!("SELECT {TOKEN_COLS} FROM claim_tokens WHERE id = $1");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await
}

// Attribution ----------------------------------------------------------------------------------

#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct Attribution {
    pub account_id: i64,
    pub partner_id: i64,
    pub code_id: Option<i64>,
    pub token_id: Option<i64>,
    pub attributed_at: DateTime<Utc>,
    pub attributed_by: String,
}

const ATTR_COLS: &str = "account_id, partner_id, code_id, token_id, attributed_at, attributed_by";

/// First touch wins: `None` when the account is attributed already (the primary key).
/// Attributes `account` to the partner by (code, token) at `at` (now when `None`); `None` back
/// when it is attributed already (first touch wins).
pub async fn attribute(
    conn: &mut PgConnection,
    account: i64,
    partner_id: i64,
    (code_id, token_id): (Option<i64>, Option<i64>),
    at: Option<DateTime<Utc>>,
    by: &str,
) -> sqlx::Result<Option<Attribution>> {
    let sql = format!(
        "INSERT INTO referral_accounts (account_id, partner_id, code_id, token_id, attributed_by,
                attributed_at)
         VALUES ($1, $2, $3, $4, $5, coalesce($6, now()))
         ON CONFLICT (account_id) DO NOTHING RETURNING {ATTR_COLS}"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(account)
        .bind(partner_id)
        .bind(code_id)
        .bind(token_id)
        .bind(by)
        .bind(at)
        .fetch_optional(conn)
        .await
}

pub async fn attribution(
    conn: &mut PgConnection,
    account: i64,
) -> sqlx::Result<Option<Attribution>> {
    let sql = format!("SELECT {ATTR_COLS} FROM referral_accounts WHERE account_id = $1");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(account)
        .fetch_optional(conn)
        .await
}

/// A partner's attributed accounts with their conversion, newest first.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct AccountRow {
    pub account_id: i64,
    pub attributed_at: DateTime<Utc>,
    pub via: String,
    pub payout_id: Option<i64>,
    pub plan_code: Option<String>,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub converted_at: Option<DateTime<Utc>>,
}

pub async fn accounts_of(
    conn: &mut PgConnection,
    partner_id: i64,
    limit: i64,
) -> sqlx::Result<Vec<AccountRow>> {
    sqlx::query_as(
        "SELECT a.account_id, a.attributed_at,
                coalesce('code ' || c.code, 'token …' || t.last4) AS via,
                p.id AS payout_id, pl.code AS plan_code, p.amount_minor, p.currency, p.converted_at
           FROM referral_accounts a
           LEFT JOIN referral_codes c ON c.id = a.code_id
           LEFT JOIN claim_tokens t ON t.id = a.token_id
           LEFT JOIN referral_payouts p ON p.account_id = a.account_id
           LEFT JOIN plans pl ON pl.id = p.plan_id
          WHERE a.partner_id = $1
          ORDER BY a.attributed_at DESC, a.account_id DESC LIMIT $2",
    )
    .bind(partner_id)
    .bind(limit)
    .fetch_all(conn)
    .await
}

// Rules ----------------------------------------------------------------------------------------

#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct Rule {
    pub id: i64,
    pub partner_id: i64,
    pub plan_id: Option<i64>,
    pub plan_code: Option<String>,
    pub bps: Option<i32>,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
    pub version: i32,
}

const RULE_SELECT: &str = "SELECT r.id, r.partner_id, r.plan_id, p.code AS plan_code, r.bps, \
     r.amount_minor, r.currency, r.updated_at, r.updated_by, r.version \
     FROM commission_rules r LEFT JOIN plans p ON p.id = r.plan_id";

/// Sets the partner's rule for `plan` (or its default): inserted, or replaced in place.
pub async fn upsert_rule(
    conn: &mut PgConnection,
    partner_id: i64,
    plan_id: Option<i64>,
    bps: Option<i32>,
    flat: Option<(i64, &str)>,
    by: &str,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO commission_rules AS r (partner_id, plan_id, bps, amount_minor, currency, updated_by)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT ON CONSTRAINT commission_rules_scope_key DO UPDATE
            SET bps = EXCLUDED.bps, amount_minor = EXCLUDED.amount_minor,
                currency = EXCLUDED.currency, updated_at = now(), updated_by = EXCLUDED.updated_by,
                version = r.version + 1
         RETURNING r.id",
    )
    .bind(partner_id)
    .bind(plan_id)
    .bind(bps)
    .bind(flat.map(|f| f.0))
    .bind(flat.map(|f| f.1))
    .bind(by)
    .fetch_one(conn)
    .await
}

pub async fn rule(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<Rule>> {
    let sql = format!("{RULE_SELECT} WHERE r.id = $1");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await
}

pub async fn rules_of(conn: &mut PgConnection, partner_id: i64) -> sqlx::Result<Vec<Rule>> {
    let sql =
        format!("{RULE_SELECT} WHERE r.partner_id = $1 ORDER BY r.plan_id NULLS FIRST, p.code");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(partner_id)
        .fetch_all(conn)
        .await
}

/// The rule that applies to `plan` for the partner: the plan's own, else the default.
pub async fn applicable_rule(
    conn: &mut PgConnection,
    partner_id: i64,
    plan_id: i64,
) -> sqlx::Result<Option<Rule>> {
    let sql = format!(
        "{RULE_SELECT} WHERE r.partner_id = $1 AND (r.plan_id = $2 OR r.plan_id IS NULL)
          ORDER BY r.plan_id NULLS LAST LIMIT 1"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(partner_id)
        .bind(plan_id)
        .fetch_optional(conn)
        .await
}

// Payouts --------------------------------------------------------------------------------------

#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq, Eq)]
pub struct Payout {
    pub id: i64,
    pub account_id: i64,
    pub partner_id: i64,
    pub plan_id: i64,
    pub rule_id: i64,
    pub rule_scope: String,
    pub bps: Option<i32>,
    pub price_minor: i64,
    pub currency: String,
    pub amount_minor: i64,
    pub converted_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    /// The settlement whose statement has this payout as a line, once computed.
    pub settlement_id: Option<i64>,
    /// Set, with who and why, once it is reversed (its subscription refunded; final).
    pub reversed_at: Option<DateTime<Utc>>,
    pub reversed_by: Option<String>,
    pub reverse_reason: Option<String>,
    /// Where it waits to be priced, when on no statement yet (filled by the service).
    #[sqlx(skip)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lands: Option<String>,
}

const PAYOUT_COLS: &str = "id, account_id, partner_id, plan_id, rule_id, rule_scope, bps, \
     price_minor, currency, amount_minor, converted_at, created_at, created_by, \
     (SELECT min(l.settlement_id) FROM settlement_lines l WHERE l.payout_id = referral_payouts.id \
        AND (l.kind IN ('referral', 'exception') OR (l.kind = 'adjustment' AND l.counts = 'charge'))) \
        AS settlement_id, reversed_at, reversed_by, \
     reverse_reason";

/// The payout of a conversion; `None` when the account has converted already (idempotent).
pub struct NewPayout<'a> {
    pub account_id: i64,
    pub partner_id: i64,
    pub plan_id: i64,
    pub rule_id: i64,
    pub rule_scope: &'a str,
    pub bps: Option<i32>,
    pub price_minor: i64,
    pub currency: &'a str,
    pub amount_minor: i64,
    pub converted_at: DateTime<Utc>,
}

pub async fn insert_payout(
    conn: &mut PgConnection,
    p: &NewPayout<'_>,
    by: &str,
) -> sqlx::Result<Option<Payout>> {
    let sql = format!(
        "INSERT INTO referral_payouts (account_id, partner_id, plan_id, rule_id, rule_scope, bps,
                price_minor, currency, amount_minor, converted_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (account_id) DO NOTHING RETURNING {PAYOUT_COLS}"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(p.account_id)
        .bind(p.partner_id)
        .bind(p.plan_id)
        .bind(p.rule_id)
        .bind(p.rule_scope)
        .bind(p.bps)
        .bind(p.price_minor)
        .bind(p.currency)
        .bind(p.amount_minor)
        .bind(p.converted_at)
        .bind(by)
        .fetch_optional(conn)
        .await
}

pub async fn payout_of_account(
    conn: &mut PgConnection,
    account: i64,
) -> sqlx::Result<Option<Payout>> {
    let sql = format!("SELECT {PAYOUT_COLS} FROM referral_payouts WHERE account_id = $1");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(account)
        .fetch_optional(conn)
        .await
}

/// The payout of an account, locked for its reversal.
pub async fn lock_payout_of_account(
    conn: &mut PgConnection,
    account: i64,
) -> sqlx::Result<Option<Payout>> {
    let sql =
        format!("SELECT {PAYOUT_COLS} FROM referral_payouts WHERE account_id = $1 FOR UPDATE");
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(account)
        .fetch_optional(conn)
        .await
}

/// Reverses it (once: the database refuses a second), dated by the database.
pub async fn set_reversal(
    conn: &mut PgConnection,
    id: i64,
    reason: &str,
    by: &str,
) -> sqlx::Result<Payout> {
    let sql = format!(
        "UPDATE referral_payouts SET reversed_at = now(), reversed_by = $3, reverse_reason = $2
          WHERE id = $1 RETURNING {PAYOUT_COLS}"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(reason)
        .bind(by)
        .fetch_one(conn)
        .await
}

pub async fn payouts_of(
    conn: &mut PgConnection,
    partner_id: i64,
    limit: i64,
) -> sqlx::Result<Vec<Payout>> {
    let sql = format!(
        "SELECT {PAYOUT_COLS} FROM referral_payouts WHERE partner_id = $1
          ORDER BY converted_at DESC, id DESC LIMIT $2"
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(partner_id)
        .bind(limit)
        .fetch_all(conn)
        .await
}
