//! Integration tests against real PostgreSQL: one fresh database per test.

mod audit;
mod bulk;
mod changes;
#[allow(dead_code)]
mod common;
mod db_logins;
mod db_roles;
mod deal_list;
mod deals;
mod flags_export;
mod import_bulk;
mod list_export;
mod monitor;
mod partner_list;
mod partners;
mod record;
mod redeem_rules;
mod redemption_values;
mod refused_locks;
mod roles;
mod schema;
mod search_import;
