//! The store: every SQL statement lives here. Functions take a `&mut PgConnection` so that
//! services can run several of them in one transaction.

pub mod agreements;
pub mod audit;
pub mod batches;
pub mod checks;
pub mod connect;
pub mod contracts;
pub mod deal_list;
pub mod deals;
pub mod members;
pub mod migrate;
pub mod monitor;
pub mod negotiations;
pub mod operators;
pub mod outbox;
pub mod partners;
pub mod payouts;
pub mod redemptions;
pub mod referrals;
pub mod search;
pub mod settings;
pub mod settlements;
pub mod simulation;
pub mod webhooks;

pub use connect::{ConnectRequest, DbSettings, Source, display_target};
