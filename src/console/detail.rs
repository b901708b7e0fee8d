//! The detail view of a list's record, the same for every pane: whether it is open, what was
//! loaded for it, and the newest request (older answers are dropped).

use super::msg::Gen;
use super::shell::{Latest, Shell};

pub struct Detail<T> {
    pub open: bool,
    pub data: Option<T>,
    pub req: Latest,
}

impl<T> Default for Detail<T> {
    fn default() -> Self {
        Self {
            open: false,
            data: None,
            req: Latest::default(),
        }
    }
}

impl<T> Detail<T> {
    /// Starts loading the record; returns the request's tag.
    pub fn begin(&mut self, sh: &mut Shell) -> Gen {
        self.req.begin(sh)
    }

    /// Takes an answer; `false` when it was stale and is dropped.
    pub fn accept(&mut self, tag: Gen) -> bool {
        self.req.accept(tag)
    }

    /// A load is on its way.
    pub fn loading(&self) -> bool {
        self.req.pending
    }

    /// What the open detail shows.
    pub fn shown(&self) -> Option<&T> {
        if self.open { self.data.as_ref() } else { None }
    }
}
