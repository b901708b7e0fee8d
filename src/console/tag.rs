//! The smallest types the framework shares: a request's generation and how a loaded page
//! joins a list. (A leaf: it uses nothing of the console.)

/// A request generation: every load carries one, and a pane keeps only the newest answer.
pub type Gen = u64;

/// How a loaded page joins the rows already shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadMode {
    /// The first page.
    Replace,
    /// The page after the last row.
    Append,
    /// The page before the first row.
    Prepend,
    /// The last page (jump to the bottom).
    Last,
}
