//! Panes still to be built: each says so. Their issues fill their folders in the shape of the
//! other panes.

/// A pane that is not built yet: nothing to load, no actions, a line saying so.
macro_rules! not_built_yet {
    ($ty:ident, $title:literal, $key:literal) => {
        use ratatui::Frame;
        use ratatui::layout::Rect;
        use $crate::console::action::Action;
        use $crate::console::msg::{Effect as AppEffect, Reply, TaskCtx};
        use $crate::console::panes::{Answer, Pane, Task};
        use $crate::console::shell::Shell;
        use $crate::error::Error;
        use $crate::service::Desk;

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

        impl Task for Effect {
            type Msg = Msg;
            async fn run(self, _desk: Desk, _ctx: TaskCtx) -> Msg {
                match self {}
            }
        }

        #[derive(Debug, Clone)]
        pub enum Question {}

        #[derive(Default)]
        pub struct $ty;

        impl Pane for $ty {
            type Effect = Effect;
            type Question = Question;
            const TITLE: &'static str = $title;
            const KEY: &'static str = $key;

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

            fn draw(&mut self, f: &mut Frame, area: Rect, sh: &Shell) {
                let what = concat!($title, " are not built yet.");
                $crate::console::view::not_yet(f, area, sh, Self::TITLE, what);
            }
        }
    };
}

pub(crate) use not_built_yet;
