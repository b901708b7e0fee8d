//! The domain layer: types, validation rules, state machines and permissions.
//!
//! Plain Rust: no terminal, no database, no network. Everything here is pure and
//! unit-testable; the store and the services build on it.

pub mod bulk;
pub mod contract;
pub mod deal;
pub mod list_text;
pub mod member;
pub mod moment;
pub mod money;
pub mod negotiation;
pub mod offer_diff;
pub mod operator;
pub mod partner;
pub mod payout;
pub mod redemption;
pub mod referral;
pub mod sepa;
pub mod settings;
pub mod settlement;
pub mod terms;
pub mod validation;
pub mod webhook;

pub use deal::{AudienceScope, DealDraft, DealKind, DealState, StateTrigger, ValidDeal};
pub use member::{Member, MemberRole};
pub use money::OrderValue;
pub use operator::{Permission, Role};
pub use partner::{PartnerDraft, ValidPartner, VerificationState, normalize_domain};
pub use redemption::FlagKind;
pub use validation::{FieldError, ValidationErrors};
