//! Member search: the active deals a member's audience lets them see, by relevance
//! (SPEC §1.4, §1.5).

use super::Desk;
use crate::domain::ValidationErrors;
use crate::error::{Error, Result};
use crate::store;

pub use crate::store::search::DealHit;

/// The most hits one search returns.
pub const SEARCH_LIMIT_MAX: i64 = 1_000;

impl Desk {
    /// Searches the active deals that `member_id` can see (SPEC §1.5) for `text` (web-search
    /// syntax: words, `"a phrase"`, `-not`, `or`), ranked by relevance (title above partner
    /// and categories above description), ties by id. Reading is open to every operator.
    pub async fn search_deals(
        &self,
        member_id: i64,
        text: &str,
        limit: i64,
    ) -> Result<Vec<DealHit>> {
        let mut e = ValidationErrors::new();
        if text.trim().is_empty() {
            e.push("text", "required: the words to search for");
        }
        if !(1..=SEARCH_LIMIT_MAX).contains(&limit) {
            e.push(
                "limit",
                format!("a whole number from 1 to {SEARCH_LIMIT_MAX}"),
            );
        }
        e.into_result(())?;
        let mut conn = self.pool().acquire().await?;
        let member = store::members::get(&mut conn, member_id)
            .await?
            .ok_or_else(|| Error::not_found("member", member_id))?;
        Ok(store::search::search_deals(&mut conn, &member, text.trim(), limit).await?)
    }
}
