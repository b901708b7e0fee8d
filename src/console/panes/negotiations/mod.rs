//! The Negotiations pane: threads with partners, offer revisions, agreements and contracts.
//! Not built yet (it says so); its issue replaces this with the pane's state and `Pane` here,
//! `effects.rs`, `view.rs` and its form, as the other panes have.

super::later::not_built_yet!(NegotiationsPane, "Negotiations", "negotiations");
