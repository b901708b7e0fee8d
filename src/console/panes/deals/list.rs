//! The deals list's part in the machinery every list shares: how its query pages and sorts
//! (`console::browse`), and what its actions do to marked rows (`console::bulk`).

use crate::console::action::Action;
use crate::console::browse;
use crate::console::bulk::{Build, BulkOffer};
use crate::domain::Permission;
use crate::service::bulk::BulkAction;
use crate::service::rows::{DealFilter, DealListRow, DealSort};

impl browse::Browse for DealFilter {
    type Row = DealListRow;
    type Sort = DealSort;
    const SORTS: &'static [Self::Sort] = &DealSort::ALL;
    fn label(s: Self::Sort) -> &'static str {
        s.label()
    }
    fn sort(&self) -> (Self::Sort, bool) {
        (self.sort, self.descending)
    }
    fn set_sort(&mut self, s: Self::Sort, descending: bool) {
        self.sort = s;
        self.descending = descending;
    }
    fn after(self, after: Option<(String, i64)>) -> Self {
        Self { after, ..self }
    }
    async fn page(
        desk: crate::service::Desk,
        query: Self,
        limit: i64,
    ) -> crate::error::Result<Vec<DealListRow>> {
        desk.list_deals(&query, limit).await
    }
}

/// What an action does to every marked row (see `console::bulk`).
pub(super) fn bulk_offer(a: Action) -> Option<BulkOffer> {
    let (verb, action) = match a {
        Action::Pause => ("Pause", BulkAction::DealPause { reason: None }),
        Action::Activate => ("Activate", BulkAction::DealActivate { reason: None }),
        Action::Expire => ("Expire", BulkAction::DealExpire { reason: None }),
        _ => return None,
    };
    Some(BulkOffer {
        verb,
        noun: "deals",
        permission: Permission::ManageDeals,
        build: Build::Now(action),
    })
}
