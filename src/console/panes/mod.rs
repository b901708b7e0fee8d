//! The panes. Each is one folder holding its state, keys, messages, effects (the async calls
//! it makes), view and form, and implements the one [`Pane`] trait (`console::pane`). The
//! app dispatches through [`Panes`], generated below from one list: a new pane is a new folder
//! plus one line there (and its `[pane.KEY]` section in `keymaps/default.toml`).

pub mod audit;
pub mod deals;
pub mod negotiations;
pub mod partners;
pub mod redemptions;
pub mod settlements;

use super::msg::{Effect, PaneMsg};
use super::pane::{Answer, AnyPane, MsgOf, Pane};
use super::shell::{PaneQuestion, Shell};

/// Generates, from one list of panes in tab order: `PaneId` and `Panes` (the app's panes),
/// with the one match per dispatch. A pane's messages and questions travel type-erased
/// (`PaneMsg`, `PaneQuestion`) and are handed back to the pane whose type they are.
macro_rules! panes {
    ($( $id:ident => $field:ident : $ty:ty ),+ $(,)?) => {
        /// Which pane: the tabs, in order.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum PaneId { $($id),+ }

        impl PaneId {
            pub const ALL: &'static [PaneId] = &[$(PaneId::$id),+];

            pub fn title(self) -> &'static str {
                match self { $(PaneId::$id => <$ty as Pane>::TITLE),+ }
            }

            /// The keymap section `[pane.KEY]`, and the name another pane sends the operator
            /// to it by (`Shell::goto`).
            pub fn key(self) -> &'static str {
                match self { $(PaneId::$id => <$ty as Pane>::KEY),+ }
            }

            /// The pane of a `KEY`.
            pub fn of_key(key: &str) -> Option<PaneId> {
                Self::ALL.iter().copied().find(|p| p.key() == key)
            }

            pub fn index(self) -> usize {
                Self::ALL.iter().position(|p| *p == self).unwrap_or(0)
            }
        }

        /// Every pane's state.
        #[derive(Default)]
        pub struct Panes { $(pub $field: $ty),+ }

        impl Panes {
            pub fn get(&self, id: PaneId) -> &dyn AnyPane {
                match id { $(PaneId::$id => &self.$field),+ }
            }

            pub fn get_mut(&mut self, id: PaneId) -> &mut dyn AnyPane {
                match id { $(PaneId::$id => &mut self.$field),+ }
            }

            /// Hands an answer to the pane whose effect it answers.
            pub fn on_msg(&mut self, sh: &mut Shell, msg: PaneMsg) -> Vec<Effect> {
                $(
                    let msg = match msg.take::<MsgOf<$ty>>() {
                        Ok(m) => return self.$field.on_msg(sh, m),
                        Err(msg) => msg,
                    };
                )+
                debug_assert!(false, "a message of no pane: {msg:?}");
                Vec::new()
            }

            /// Hands an answered question to the pane that asked it.
            pub fn answered(&mut self, sh: &mut Shell, q: PaneQuestion, a: Answer) -> Vec<Effect> {
                $(
                    let q = match q.take::<<$ty as Pane>::Question>() {
                        Ok(q) => return self.$field.answered(sh, q, a),
                        Err(q) => q,
                    };
                )+
                debug_assert!(false, "a question of no pane: {q:?}");
                Vec::new()
            }

            /// What the pane that asked says of a prompt's text as it is typed.
            pub fn check_answer(&self, q: &PaneQuestion, text: &str) -> Option<String> {
                $(
                    if let Some(q) = q.get::<<$ty as Pane>::Question>() {
                        return self.$field.check_answer(q, text);
                    }
                )+
                None
            }

            /// Each pane's message and question types, for the check that no two panes share
            /// one (dispatch is by type).
            pub fn types() -> Vec<(std::any::TypeId, std::any::TypeId)> {
                vec![$((
                    std::any::TypeId::of::<MsgOf<$ty>>(),
                    std::any::TypeId::of::<<$ty as Pane>::Question>(),
                )),+]
            }
        }
    };
}

panes! {
    Partners => partners: partners::PartnersPane,
    Deals => deals: deals::DealsPane,
    Redemptions => redemptions: redemptions::RedemptionsPane,
    Negotiations => negotiations: negotiations::NegotiationsPane,
    Settlements => settlements: settlements::SettlementsPane,
    Audit => audit: audit::AuditPane,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_two_panes_share_a_message_or_question_type() {
        let types = Panes::types();
        for (i, a) in types.iter().enumerate() {
            for b in &types[i + 1..] {
                assert_ne!(a.0, b.0, "two panes share a message type");
                assert_ne!(a.1, b.1, "two panes share a question type");
            }
        }
    }

    #[test]
    fn every_pane_has_its_keymap_section() {
        let k = super::super::keymap::Keymap::builtin();
        let sections: Vec<&str> = k.panes().collect();
        for p in PaneId::ALL {
            assert!(
                sections.contains(&p.key()),
                "no [pane.{}] in keymaps/default.toml",
                p.key()
            );
        }
        assert_eq!(sections.len(), PaneId::ALL.len(), "{sections:?}");
    }
}
