//! partnerdesk: a terminal back-office console for a curated partner marketplace.
//!
//! Layers, from the inside out:
//! - [`domain`]: types, validation, state machines and permissions; no I/O.
//! - [`store`]: every SQL statement, over `&mut PgConnection`.
//! - [`service`]: use cases, one transaction each, with permission checks, audit rows and
//!   outbox events. The console and the command line call only these.
//! - [`cli`]: the command line; [`seed`]: demo data.

pub mod cli;
pub mod config;
pub mod console;
pub mod context;
pub mod csv_cell;
pub mod domain;
pub mod error;
pub mod files;
pub mod logging;
pub mod seed;
pub mod service;
pub mod store;

pub use error::{Error, Result};
pub use service::{Actor, Desk};
