//! Operators' roles and the permission matrix of SPEC §1.1.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Curator,
    Support,
    Finance,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Curator, Role::Support, Role::Finance, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Curator => "curator",
            Role::Support => "support",
            Role::Finance => "finance",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "curator" => Ok(Role::Curator),
            "support" => Ok(Role::Support),
            "finance" => Ok(Role::Finance),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "unknown role '{other}' (expected curator, support, finance or admin)"
            )),
        }
    }
}

/// Everything an operator may be allowed to do. Reading is open to everyone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// partners: create, edit, vet, disable, delete, off-board
    ManagePartners,
    /// deals: author, edit, change state
    ManageDeals,
    /// redemptions: view and export
    ViewRedemptions,
    /// redemptions: flag and unflag
    FlagRedemptions,
    /// redemptions: refund (its commission is reversed)
    RefundRedemptions,
    /// negotiations: open, message, counter-offer, accept/reject/withdraw
    ManageNegotiations,
    /// settlements: view
    ViewSettlements,
    /// settlements: compute, review, approve, dispute, mark paid
    ManageSettlements,
    /// operators: register, change roles
    ManageOperators,
    /// referrals: what the platform reports (a claim token claimed, an account attributed
    /// by code, a subscription converted)
    RecordReferrals,
    /// redemptions: record them as the platform does (`redeem`, `redemptions import`)
    RecordRedemptions,
    /// webhooks: endpoints, deliveries, replays, and running the relay
    ManageWebhooks,
    /// webhooks: see endpoints (never their secrets), deliveries and attempts
    ViewWebhooks,
    /// marketplace settings: view (the holding period, minimum payouts, the bank account)
    ViewSettings,
    /// marketplace settings: set
    ManageSettings,
}

impl Permission {
    /// The roles that grant this permission (SPEC §1.1 table).
    pub fn roles(self) -> &'static [Role] {
        use Role::*;
        match self {
            Permission::ManagePartners => &[Curator, Admin],
            Permission::ManageDeals => &[Curator, Admin],
            Permission::ViewRedemptions => &[Curator, Support, Finance, Admin],
            Permission::FlagRedemptions => &[Support, Admin],
            Permission::RefundRedemptions => &[Support, Finance, Admin],
            Permission::ManageNegotiations => &[Curator, Admin],
            Permission::ViewSettlements => &[Curator, Finance, Admin],
            Permission::ManageSettlements => &[Finance, Admin],
            Permission::ManageOperators => &[Admin],
            Permission::RecordReferrals => &[Admin],
            Permission::RecordRedemptions => &[Admin],
            Permission::ManageWebhooks => &[Admin],
            Permission::ViewWebhooks => &[Admin],
            Permission::ViewSettings => &[Finance, Admin],
            Permission::ManageSettings => &[Admin],
        }
    }

    /// What the permission lets one do, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Permission::ManagePartners => "manage partners",
            Permission::ManageDeals => "author and change deals",
            Permission::ViewRedemptions => "view and export redemptions",
            Permission::FlagRedemptions => "flag redemptions",
            Permission::RefundRedemptions => "refund redemptions",
            Permission::ManageNegotiations => "negotiate with partners",
            Permission::ViewSettlements => "view settlements",
            Permission::ManageSettlements => "compute, approve and pay settlements",
            Permission::ManageOperators => "register operators and change roles",
            Permission::RecordReferrals => {
                "record referral claims, attributions and conversions for the platform"
            }
            Permission::RecordRedemptions => "record redemptions for the platform",
            Permission::ManageWebhooks => "manage webhooks and run the relay",
            Permission::ViewWebhooks => "view webhook endpoints and deliveries",
            Permission::ViewSettings => "view the marketplace settings",
            Permission::ManageSettings => "change the marketplace settings",
        }
    }

    /// Does it change data? (A read-only session may do only what does not.)
    pub fn changes_data(self) -> bool {
        !matches!(
            self,
            Permission::ViewRedemptions
                | Permission::ViewSettlements
                | Permission::ViewWebhooks
                | Permission::ViewSettings
        )
    }

    pub fn is_granted_to(self, roles: &[Role]) -> bool {
        self.roles().iter().any(|r| roles.contains(r))
    }

    /// "curator or admin", for refusals.
    pub fn needed_roles_text(self) -> String {
        let names: Vec<&str> = self.roles().iter().map(|r| r.as_str()).collect();
        match names.as_slice() {
            [one] => (*one).to_owned(),
            [init @ .., last] => format!("{} or {last}", init.join(", ")),
            [] => String::new(),
        }
    }
}

/// A login: lowercase letters, digits, `.`, `_`, `-`, starting with a letter or `_`, ≤ 63 chars.
pub fn validate_login(login: &str) -> Result<(), String> {
    let ok_first = login
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    let ok_rest = login
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if login.is_empty() {
        Err("required".into())
    } else if login.len() > 63 {
        Err(format!("at most 63 characters (got {})", login.len()))
    } else if !ok_first || !ok_rest {
        Err("lowercase letters, digits, '.', '_' or '-', starting with a letter or '_'".into())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_matches_the_spec_table() {
        use Permission::*;
        use Role::*;
        let table: &[(Permission, [bool; 4])] = &[
            (ManagePartners, [true, false, false, true]),
            (ManageDeals, [true, false, false, true]),
            (ViewRedemptions, [true, true, true, true]),
            (FlagRedemptions, [false, true, false, true]),
            (RefundRedemptions, [false, true, true, true]),
            (ManageNegotiations, [true, false, false, true]),
            (ViewSettlements, [true, false, true, true]),
            (ManageSettlements, [false, false, true, true]),
            (ManageOperators, [false, false, false, true]),
            (RecordReferrals, [false, false, false, true]),
            (RecordRedemptions, [false, false, false, true]),
            (ManageWebhooks, [false, false, false, true]),
            (ViewWebhooks, [false, false, false, true]),
            (ViewSettings, [false, false, true, true]),
            (ManageSettings, [false, false, false, true]),
        ];
        for (perm, expect) in table {
            for (role, want) in [Curator, Support, Finance, Admin].iter().zip(expect) {
                assert_eq!(perm.is_granted_to(&[*role]), *want, "{perm:?} for {role}");
            }
        }
    }

    #[test]
    fn needed_roles_read_naturally() {
        assert_eq!(
            Permission::ManagePartners.needed_roles_text(),
            "curator or admin"
        );
        assert_eq!(
            Permission::ViewRedemptions.needed_roles_text(),
            "curator, support, finance or admin"
        );
        assert_eq!(Permission::ManageOperators.needed_roles_text(), "admin");
    }

    #[test]
    fn logins() {
        assert!(validate_login("alice").is_ok());
        assert!(validate_login("a.b-c_1").is_ok());
        assert!(validate_login("Alice").is_err());
        assert!(validate_login("1abc").is_err());
        assert!(validate_login("").is_err());
        assert!(validate_login(&"a".repeat(63)).is_ok());
        assert!(validate_login(&"a".repeat(64)).is_err());
    }

    #[test]
    fn roles_parse_and_refuse_unknown() {
        assert_eq!("Finance".parse::<Role>(), Ok(Role::Finance));
        assert!(
            "root"
                .parse::<Role>()
                .unwrap_err()
                .contains("unknown role 'root'")
        );
    }
}
