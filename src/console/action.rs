//! One `Action` enum drives behaviour, the help overlay and the command palette. Keys reach
//! actions only through the keymap (`keymaps/*.toml`).

use std::fmt;

/// Where a key binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Context {
    /// Everywhere, unless a more specific context binds the same key.
    Global,
    /// A list or a detail view.
    List,
    /// A form being edited.
    Form,
    /// A confirmation or other popup.
    Popup,
}

impl Context {
    pub const ALL: [Context; 4] = [
        Context::Global,
        Context::List,
        Context::Form,
        Context::Popup,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Context::Global => "global",
            Context::List => "list",
            Context::Form => "form",
            Context::Popup => "popup",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == s)
    }
}

macro_rules! actions {
    ($( $variant:ident => ($name:literal, $ctx:ident, $mutating:literal, $desc:literal) ),+ $(,)?) => {
        /// Everything an operator can ask the console to do.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action { $($variant),+ }

        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$variant),+];

            /// The name used in keymap files and the palette.
            pub fn name(self) -> &'static str {
                match self { $(Action::$variant => $name),+ }
            }

            /// The context whose keymap section binds it.
            pub fn context(self) -> Context {
                match self { $(Action::$variant => Context::$ctx),+ }
            }

            /// Changes data: absent from keymap, palette and help when read-only.
            pub fn is_mutating(self) -> bool {
                match self { $(Action::$variant => $mutating),+ }
            }

            pub fn description(self) -> &'static str {
                match self { $(Action::$variant => $desc),+ }
            }

            pub fn from_name(s: &str) -> Option<Action> {
                match s { $($name => Some(Action::$variant),)+ _ => None }
            }
        }
    };
}

actions! {
    Quit => ("quit", Global, false, "quit partnerdesk"),
    Help => ("help", Global, false, "show or hide this help"),
    Palette => ("palette", Global, false, "open the command palette"),
    NextPane => ("next_pane", Global, false, "next pane"),
    PrevPane => ("prev_pane", Global, false, "previous pane"),
    PanePartners => ("pane_partners", Global, false, "go to Partners"),
    PaneDeals => ("pane_deals", Global, false, "go to Deals"),
    PaneRedemptions => ("pane_redemptions", Global, false, "go to Redemptions"),
    PaneNegotiations => ("pane_negotiations", Global, false, "go to Negotiations"),
    PaneSettlements => ("pane_settlements", Global, false, "go to Settlements"),
    PaneAudit => ("pane_audit", Global, false, "go to Audit"),
    Messages => ("messages", Global, false, "show the recent messages whole"),
    Webhooks => ("webhooks", Global, false, "webhook endpoints and deliveries (Audit)"),

    Down => ("down", List, false, "move down"),
    Up => ("up", List, false, "move up"),
    Top => ("top", List, false, "go to the top"),
    Bottom => ("bottom", List, false, "go to the bottom"),
    PageDown => ("page_down", List, false, "page down"),
    PageUp => ("page_up", List, false, "page up"),
    Open => ("open", List, false, "open the selected row"),
    Back => ("back", List, false, "go back"),
    Filter => ("filter", List, false, "filter the list"),
    Refresh => ("refresh", List, false, "reload from the database"),
    Sort => ("sort", List, false, "sort by the next column"),
    SortReverse => ("sort_reverse", List, false, "reverse the sort order"),
    Copy => ("copy", List, false, "copy the selected row's key to the clipboard"),
    Export => ("export", List, false, "export the list as CSV"),
    Mark => ("mark", List, false, "mark or unmark the row and move down (bulk actions act on the marks)"),
    MarkRange => ("mark_range", List, false, "mark from the last marked row to here"),
    MarkAll => ("mark_all", List, false, "mark every row the filter matches"),
    New => ("new", List, true, "new record"),
    Edit => ("edit", List, true, "edit the selected record"),
    RunChecks => ("run_checks", List, true, "run the vetting checks"),
    SetPayout => ("set_payout", List, true, "set its payout account"),
    MarkVetted => ("mark_vetted", List, true, "mark the partner vetted"),
    Disable => ("disable", List, true, "disable the partner"),
    Revet => ("revet", List, true, "send a disabled partner back to pending"),
    Delete => ("delete", List, true, "delete the selected record"),
    Offboard => ("offboard", List, true, "off-board: pause every active deal"),
    Activate => ("activate", List, true, "activate (or resume) the deal"),
    Pause => ("pause", List, true, "pause the deal"),
    Expire => ("expire", List, true, "expire a paused deal for good"),
    Duplicate => ("duplicate", List, true, "duplicate the deal into a new draft"),
    Signals => ("signals", List, false, "show or hide the signals worth a look"),
    Import => ("import", List, true, "import deals from a CSV file (with a preview)"),
    Flag => ("flag", List, true, "flag the redemption (fraud or dispute) with a note"),
    Unflag => ("unflag", List, true, "resolve the redemption's flag with a reason"),
    Refund => ("refund", List, true, "refund the redemption, with a reason (its commission is reversed)"),
    MemberHistory => ("member_history", List, false, "the member's redemptions across every deal"),
    Reply => ("reply", List, true, "post a message on the negotiation (partner: for the partner)"),
    CounterOffer => ("counter_offer", List, true, "make a counter-offer (the form starts from the latest revision)"),
    Accept => ("accept", List, true, "accept the latest offer for the side that did not make it"),
    Reject => ("reject", List, true, "reject the negotiation, with a reason"),
    Withdraw => ("withdraw", List, true, "withdraw from the negotiation, with a reason"),
    Sign => ("sign", List, true, "sign the contract for a side"),
    Benefit => ("benefit", List, true, "mark a contracted benefit delivered or missed"),
    OpenDeal => ("open_deal", List, false, "open the deal of the accepted negotiation"),
    CompleteContract => ("complete_contract", List, true, "mark the signed contract completed, with a reason"),
    CancelContract => ("cancel_contract", List, true, "cancel the contract, with a reason"),
    DisputeContract => ("dispute_contract", List, true, "dispute the contract, with a reason"),
    Compute => ("compute", List, true, "compute or recompute"),
    SendToReview => ("send_to_review", List, true, "send to review (a note)"),
    Approve => ("approve", List, true, "approve the settlement"),
    Dispute => ("dispute", List, true, "dispute, with a reason"),
    MarkPaid => ("mark_paid", List, true, "mark paid (its reference)"),
    Tally => ("tally", List, true, "enter the partner's tally"),
    Batches => ("batches", List, false, "payout batches: what is owed, paid together (Settlements)"),
    CancelBatch => ("cancel_batch", List, true, "cancel the open payout batch (its statements are free again)"),
    WriteBatchFile => ("write_batch_file", List, false, "write the payout batch for the bank: SEPA (EUR) or CSV"),
    Referrals => ("referrals", List, false, "open or close the partner's referral tab"),
    NewCode => ("new_code", List, true, "add a referral code (empty: made from the name)"),
    DisableCode => ("disable_code", List, true, "disable the selected referral code"),
    CopyLink => ("copy_link", List, false, "copy the selected code's referral link"),
    NewToken => ("new_token", List, true, "issue a claim token (plan, e-mail, expiry; shown once)"),
    RevokeToken => ("revoke_token", List, true, "revoke the selected claim token"),
    SetRule => ("set_rule", List, true, "set a commission rule (default or per plan)"),
    ReplayDelivery => ("replay_delivery", List, true, "send the selected webhook delivery again"),
    ReplayEvent => ("replay_event", List, true, "send the selected delivery's event again to every endpoint that takes it"),
    ToggleEndpoint => ("toggle_endpoint", List, true, "disable the selected webhook endpoint (a reason), or enable it"),

    Save => ("save", Form, true, "save the form"),
    NextField => ("next_field", Form, false, "next field"),
    PrevField => ("prev_field", Form, false, "previous field"),
    Cancel => ("cancel", Form, false, "close the form (asks before discarding)"),

    Confirm => ("confirm", Popup, false, "choose the highlighted answer"),
    Dismiss => ("dismiss", Popup, false, "close without doing anything"),
    ToggleChoice => ("toggle_choice", Popup, false, "switch between the answers"),
}

impl Action {
    /// Marks rows (`Space`, `V`, `Ctrl-a`): offered by every list with a bulk action.
    pub fn marks(self) -> bool {
        matches!(self, Action::Mark | Action::MarkRange | Action::MarkAll)
    }

    /// Moves in a list (or scrolls a detail): every pane offers these.
    pub fn moves_in_list(self) -> bool {
        matches!(
            self,
            Action::Down
                | Action::Up
                | Action::Top
                | Action::Bottom
                | Action::PageDown
                | Action::PageUp
        )
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for a in Action::ALL {
            assert_eq!(Action::from_name(a.name()), Some(*a));
            assert!(seen.insert(a.name()), "duplicate name {}", a.name());
        }
    }
}
