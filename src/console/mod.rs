//! The console: a ratatui application over the services. See `runtime` for the event loop,
//! `app` for the state, `view` for drawing and `keymap` for the bindings.

pub mod action;
pub mod app;
pub mod audit_pane;
pub mod clipboard;
pub mod deal_form;
pub mod deals;
pub mod form;
pub mod keymap;
pub mod list;
pub mod msg;
pub mod palette;
pub mod partners;
pub mod recovery;
pub mod redemptions;
pub mod runtime;
pub mod terminal;
pub mod theme;
pub mod view;
