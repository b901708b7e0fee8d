//! The console: a ratatui application over the services. See `runtime` for the event loop,
//! `app` for the state and its dispatch, `shell` for what every pane shares, `panes/` for the
//! panes (one folder each), `view` for the frame around them and `keymap` for the bindings.

pub mod action;
pub mod app;
pub mod browse;
pub mod bulk;
pub mod clipboard;
pub mod detail;
pub mod export;
pub mod form;
pub mod keymap;
pub mod layers;
pub mod list;
pub mod msg;
pub mod palette;
pub mod pane;
pub mod panes;
pub mod picker;
pub mod recovery;
pub mod runtime;
pub mod screen;
pub mod shell;
pub mod tag;
pub mod terminal;
pub mod theme;
pub mod view;
