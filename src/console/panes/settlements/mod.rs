//! The Settlements pane: settlement statements, reviews, disputes and payouts for finance. Not built yet: it says so. Its issue fills this folder in the
//! shape of the other panes (state and `Pane` here, `effects.rs`, `view.rs`, a form).

use super::{Answer, Pane};
use crate::console::action::Action;
use crate::console::msg::{Effect as AppEffect, Reply, TaskCtx};
use crate::console::shell::Shell;
use crate::error::Error;
use crate::service::Desk;
use ratatui::Frame;
use ratatui::layout::Rect;

/// Nothing is asked of the services yet.
#[derive(Debug)]
pub enum Effect {}

#[derive(Debug)]
pub enum Msg {}

impl Reply for Msg {
    fn failure(&self) -> Option<&Error> {
        match *self {}
    }
}

#[derive(Debug, Clone)]
pub enum Question {}

#[derive(Default)]
pub struct SettlementsPane;

impl Pane for SettlementsPane {
    type Msg = Msg;
    type Effect = Effect;
    type Question = Question;
    const TITLE: &'static str = "Settlements";
    const KEY: &'static str = "settlements";

    fn offers(&self, _a: Action) -> bool {
        false
    }

    fn needs_load(&self) -> bool {
        false
    }

    fn reload(&mut self, _sh: &mut Shell) -> Vec<AppEffect> {
        Vec::new()
    }

    fn perform(&mut self, _sh: &mut Shell, _a: Action) -> Vec<AppEffect> {
        Vec::new()
    }

    fn on_msg(&mut self, _sh: &mut Shell, msg: Msg) -> Vec<AppEffect> {
        match msg {}
    }

    fn answered(&mut self, _sh: &mut Shell, q: Question, _a: Answer) -> Vec<AppEffect> {
        match q {}
    }

    async fn execute(_desk: Desk, fx: Effect, _ctx: TaskCtx) -> Msg {
        match fx {}
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, sh: &Shell) {
        crate::console::view::not_yet(f, area, sh, Self::TITLE, "Settlements are not built yet.");
    }
}
