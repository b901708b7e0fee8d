//! The referral tab's claim-token prompt, `PLAN [E-MAIL] [EXPIRES]`, and a token's status.

use crate::store::referrals::ClaimToken;
use chrono::{DateTime, Utc};

/// A claim token as typed in the prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInput {
    pub plan: String,
    pub email: Option<String>,
    pub expires: Option<DateTime<Utc>>,
}

/// A token's status: open, claimed, revoked or expired (at `now`).
pub fn token_status(t: &ClaimToken, now: DateTime<Utc>) -> String {
    match (t.claimed_account, t.revoked_at) {
        (Some(a), _) => format!("claimed (account {a})"),
        (None, Some(_)) => "revoked".into(),
        _ if t.expires_at.is_some_and(|e| e <= now) => "expired".into(),
        _ => "open".into(),
    }
}

/// The token prompt: `PLAN [E-MAIL] [EXPIRES]`, the expiry a day (`2026-12-31`: the whole day,
/// up to the next day's 00:00 in the operator's zone) or a time (`2026-12-31T18:00`, RFC 3339).
/// Each field's error is named.
pub fn parse_token(text: &str, plans: &[String], now: DateTime<Utc>) -> Result<TokenInput, String> {
    let mut words = text.split_whitespace();
    let Some(plan) = words.next() else {
        return Err(format!("plan: required (one of {})", plans.join(", ")));
    };
    let Some(plan) = plans.iter().find(|p| p.eq_ignore_ascii_case(plan)) else {
        return Err(format!(
            "plan: '{plan}' is not an active plan (one of {})",
            plans.join(", ")
        ));
    };
    let (mut email, mut expires) = (None, None);
    for w in words {
        if w.contains('@') {
            if email.is_some() {
                return Err("e-mail: give one address".into());
            }
            if w.split('@').count() != 2 || w.starts_with('@') || w.ends_with('@') {
                return Err(format!("e-mail: '{w}' is not an e-mail address"));
            }
            email = Some(w.to_owned());
        } else {
            if expires.is_some() {
                return Err(format!("'{w}': give a plan, an e-mail, then an expiry"));
            }
            let at = crate::console::view::local_end(w)
                .map_err(|_| format!("expires: '{w}' is not a day (2026-12-31) or a time"))?;
            if at <= now {
                return Err(format!("expires: {w} is past; it must be in the future"));
            }
            expires = Some(at);
        }
    }
    Ok(TokenInput {
        plan: plan.clone(),
        email,
        expires,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn plans() -> Vec<String> {
        vec!["basic".into(), "pro".into()]
    }

    #[test]
    fn token_prompt_reads_plan_email_and_expiry_and_names_each_error() {
        crate::console::view::pin_display_zone(chrono::FixedOffset::east_opt(0));
        let now = Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap();
        let t = parse_token("PRO ana@example.com 2026-12-31", &plans(), now).unwrap();
        assert_eq!(t.plan, "pro");
        assert_eq!(t.email.as_deref(), Some("ana@example.com"));
        // A day is the whole day: up to the next day's 00:00 (exclusive), as a deal's end.
        assert_eq!(
            t.expires,
            Some(Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap())
        );
        let t = parse_token("basic", &plans(), now).unwrap();
        assert_eq!((t.email, t.expires), (None, None));
        let err = |s: &str| parse_token(s, &plans(), now).unwrap_err();
        assert!(err("").starts_with("plan: required"));
        assert!(err("gold").starts_with("plan: 'gold' is not an active plan"));
        assert!(err("pro a@b@c").starts_with("e-mail:"));
        assert!(err("pro 2026-10-01").starts_with("expires: 2026-10-01 is past"));
        assert!(err("pro tomorrow").starts_with("expires: 'tomorrow' is not a day"));
    }

    #[test]
    fn token_status_says_open_claimed_revoked_or_expired() {
        let now = Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap();
        let mut t = ClaimToken {
            id: 1,
            partner_id: 1,
            plan_id: 1,
            email: None,
            expires_at: Some(now + chrono::Duration::days(1)),
            last4: "abcd".into(),
            claimed_at: None,
            claimed_account: None,
            revoked_at: None,
            revoked_by: None,
            created_at: now,
            created_by: "cara".into(),
        };
        assert_eq!(token_status(&t, now), "open");
        assert_eq!(token_status(&t, now + chrono::Duration::days(2)), "expired");
        t.revoked_at = Some(now);
        assert_eq!(token_status(&t, now), "revoked");
        t.claimed_account = Some(501);
        assert_eq!(token_status(&t, now), "claimed (account 501)");
    }
}
