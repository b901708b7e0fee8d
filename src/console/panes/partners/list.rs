//! The partners list's part in the machinery every list shares: how its query pages and sorts
//! (`console::browse`), and what its actions do to marked rows (`console::bulk`).

use crate::console::action::Action;
use crate::console::browse;
use crate::console::bulk::{Build, BulkOffer, required};
use crate::domain::Permission;
use crate::service::bulk::BulkAction;
use crate::service::rows::{PartnerFilter, PartnerListRow, PartnerSort};

impl browse::Browse for PartnerFilter {
    type Row = PartnerListRow;
    type Sort = PartnerSort;
    const SORTS: &'static [Self::Sort] = &PartnerSort::ALL;
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
    ) -> crate::error::Result<Vec<PartnerListRow>> {
        desk.list_partners(&query, limit).await
    }
}

/// What an action does to every marked row (see `console::bulk`).
pub(super) fn bulk_offer(a: Action) -> Option<BulkOffer> {
    let (verb, build) = match a {
        Action::MarkVetted => ("Vet", Build::Now(BulkAction::PartnerVet)),
        Action::Disable => (
            "Disable",
            Build::Text {
                hint: "the reason (required), kept with each partner",
                make: |t| required(t, "reason").map(|reason| BulkAction::PartnerDisable { reason }),
            },
        ),
        _ => return None,
    };
    Some(BulkOffer {
        verb,
        noun: "partners",
        permission: Permission::ManagePartners,
        build,
    })
}
