//! What every keyset list with a sortable filter shares, written once: its sorts by name
//! (saved views), every row its filter matches (marks, `Ctrl-a`), and the export of what it
//! shows (`x`). A list's filter says how it pages and sorts ([`Browse`]); a pane's methods
//! are then one line each.

use super::bulk::{MARK_PAGE, MarkQuery};
use super::export::{EXPORT_PAGE, ExportPlan, ListExport};
use super::list::ListRow;
use super::shell::Shell;
use super::view::registry::{Column, export_columns};
use crate::error::Result;
use crate::service::Desk;
use std::future::Future;

/// A list's query: how it sorts and pages, and the service call that reads a page.
pub trait Browse: Clone + Default + Send + Sync + 'static {
    type Row: ListRow<Cursor: Send> + Send + 'static;
    type Sort: Copy + PartialEq + 'static;
    const SORTS: &'static [Self::Sort];
    fn label(s: Self::Sort) -> &'static str;
    fn sort(&self) -> (Self::Sort, bool);
    fn set_sort(&mut self, s: Self::Sort, descending: bool);
    /// The same query continuing after `after`.
    fn after(self, after: Option<<Self::Row as ListRow>::Cursor>) -> Self;
    fn page(
        desk: Desk,
        query: Self,
        limit: i64,
    ) -> impl Future<Output = Result<Vec<Self::Row>>> + Send;
}

/// The sort in force, by name.
pub fn sort_of<F: Browse>(f: &F) -> Option<(&'static str, bool)> {
    let (s, descending) = f.sort();
    Some((F::label(s), descending))
}

/// The names of the sorts.
pub fn sorts_of<F: Browse>() -> Vec<&'static str> {
    F::SORTS.iter().map(|s| F::label(*s)).collect()
}

/// Sorts by name.
pub fn sort_by<F: Browse>(
    f: &mut F,
    name: &str,
    descending: bool,
) -> std::result::Result<(), String> {
    let sort = F::SORTS
        .iter()
        .copied()
        .find(|s| F::label(*s) == name)
        .ok_or_else(|| {
            format!(
                "unknown sort \"{name}\" (the sorts are {})",
                sorts_of::<F>().join(", ")
            )
        })?;
    f.set_sort(sort, descending);
    Ok(())
}

/// Every row the query matches, page after page from the server.
pub fn mark_query<F: Browse>(f: &F) -> Option<MarkQuery> {
    let query = f.clone();
    Some(MarkQuery::pages(move |desk, after| {
        F::page(desk, query.clone().after(after), MARK_PAGE)
    }))
}

/// The export of every row the query matches, in the columns shown on a screen as wide as
/// this one (the pane's `[columns.KEY]` choice included).
pub fn list_export<F: Browse>(
    f: &F,
    sh: &Shell,
    key: &str,
    noun: &'static str,
    columns: &'static [Column<F::Row>],
) -> ExportPlan {
    let width = sh.size.map_or(120, |s| s.0);
    let columns = export_columns(columns, sh.columns.get(key), width);
    let query = f.clone();
    ExportPlan {
        noun,
        make: Box::new(move |path| {
            ListExport::pages(path, columns, move |desk, after| {
                F::page(desk, query.clone().after(after), EXPORT_PAGE)
            })
        }),
    }
}

/// The `Pane` methods of a pane whose list is `self.list` with a `Browse` query in
/// `self.filter.query` and its columns in `$columns`, written once: `Ctrl-a`'s rows, the
/// sorts by name (saved views) and the column keys.
macro_rules! browsed_methods {
    ($query:ty, $columns:path) => {
        fn mark_query(&self) -> Option<$crate::console::bulk::MarkQuery> {
            $crate::console::browse::mark_query(&self.filter.query)
        }

        fn sort(&self) -> Option<(&'static str, bool)> {
            $crate::console::browse::sort_of(&self.filter.query)
        }

        fn sorts(&self) -> Vec<&'static str> {
            $crate::console::browse::sorts_of::<$query>()
        }

        fn sort_by(&mut self, name: &str, descending: bool) -> Result<(), String> {
            $crate::console::browse::sort_by(&mut self.filter.query, name, descending)
        }

        fn column_keys(&self) -> Vec<&'static str> {
            $crate::console::view::registry::keys($columns)
        }
    };
}
pub(crate) use browsed_methods;
