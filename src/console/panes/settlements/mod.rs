//! The Settlements pane: settlement statements, reviews, disputes and payouts, for finance.
//! Not built yet (it says so); its issue replaces this with the pane's state and `Pane` here,
//! `effects.rs`, `view.rs` and its form, as the other panes have.

super::later::not_built_yet!(SettlementsPane, "Settlements", "settlements");
