//! The report of a bulk action (issue 24): which rows were done, which were refused and why,
//! which were not tried because the run was cancelled, said in one line.

use serde::Serialize;

/// How many refused rows the summary names before it says `and N more`.
pub const REFUSED_NAMED: usize = 5;

/// What a bulk run did to each of its rows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BulkReport {
    /// The action in the past tense: `paused`, `approved`.
    pub verb: &'static str,
    /// The rows changed (or, in a dry run, that would be changed), in the order tried.
    pub done: Vec<i64>,
    /// The rows refused, each with a short reason (`changed elsewhere`, `already expired`).
    pub refused: Vec<(i64, String)>,
    /// The rows left alone because the run was cancelled before them.
    pub not_tried: Vec<i64>,
    /// Nothing was written: `done` is what would have been done.
    pub dry_run: bool,
}

impl BulkReport {
    pub fn new(verb: &'static str, dry_run: bool) -> Self {
        Self {
            verb,
            dry_run,
            ..Self::default()
        }
    }

    /// Every row done, none refused, none left out.
    pub fn all_done(&self) -> bool {
        self.refused.is_empty() && self.not_tried.is_empty()
    }

    /// One line: `10 paused, 2 refused: #41 changed elsewhere, #57 already expired`; in a dry
    /// run `would pause 10, 2 refused: …`; a cancelled run ends `, 3 not tried (cancelled)`.
    pub fn summary(&self) -> String {
        let mut s = if self.dry_run {
            format!("would {} {}", present(self.verb), self.done.len())
        } else {
            format!("{} {}", self.done.len(), self.verb)
        };
        if !self.refused.is_empty() {
            let named: Vec<String> = self
                .refused
                .iter()
                .take(REFUSED_NAMED)
                .map(|(id, why)| format!("#{id} {why}"))
                .collect();
            s.push_str(&format!(
                ", {} refused: {}",
                self.refused.len(),
                named.join(", ")
            ));
            if self.refused.len() > REFUSED_NAMED {
                s.push_str(&format!(" and {} more", self.refused.len() - REFUSED_NAMED));
            }
        }
        if !self.not_tried.is_empty() {
            s.push_str(&format!(", {} not tried (cancelled)", self.not_tried.len()));
        }
        s
    }
}

/// The verb before the count in a dry run: `paused` → `pause`, `sent to review` → `send to
/// review`. A verb this does not know is said as it is.
pub fn present(verb: &str) -> &str {
    match verb {
        "paused" => "pause",
        "activated" => "activate",
        "expired" => "expire",
        "vetted" => "vet",
        "disabled" => "disable",
        "flagged" => "flag",
        "unflagged" => "unflag",
        "refunded" => "refund",
        "sent to review" => "send to review",
        "approved" => "approve",
        "paid" => "pay",
        "withdrawn" => "withdraw",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(done: usize, refused: &[(i64, &str)], not_tried: usize) -> BulkReport {
        BulkReport {
            verb: "paused",
            done: (1..=done as i64).collect(),
            refused: refused.iter().map(|(i, r)| (*i, (*r).to_owned())).collect(),
            not_tried: (100..100 + not_tried as i64).collect(),
            dry_run: false,
        }
    }

    #[test]
    fn a_run_with_refusals_names_each_refused_row_and_why() {
        let r = report(10, &[(41, "changed elsewhere"), (57, "already expired")], 0);
        assert_eq!(
            r.summary(),
            "10 paused, 2 refused: #41 changed elsewhere, #57 already expired"
        );
        assert!(!r.all_done());
    }

    #[test]
    fn a_run_that_did_everything_says_only_how_many() {
        let r = report(12, &[], 0);
        assert_eq!(r.summary(), "12 paused");
        assert!(r.all_done());
    }

    #[test]
    fn a_cancelled_run_says_how_many_were_not_tried() {
        let r = report(3, &[], 3);
        assert_eq!(r.summary(), "3 paused, 3 not tried (cancelled)");
        let r = report(3, &[(9, "not found")], 2);
        assert_eq!(
            r.summary(),
            "3 paused, 1 refused: #9 not found, 2 not tried (cancelled)"
        );
    }

    #[test]
    fn a_dry_run_says_what_would_be_done() {
        let mut r = report(10, &[(41, "changed elsewhere")], 0);
        r.dry_run = true;
        assert_eq!(
            r.summary(),
            "would pause 10, 1 refused: #41 changed elsewhere"
        );
    }

    #[test]
    fn more_than_five_refusals_name_the_first_five_and_count_the_rest() {
        let refused: Vec<(i64, &str)> = (1..=8).map(|i| (i, "is draft")).collect();
        let r = report(0, &refused, 0);
        assert_eq!(
            r.summary(),
            "0 paused, 8 refused: #1 is draft, #2 is draft, #3 is draft, #4 is draft, #5 is draft and 3 more"
        );
    }

    #[test]
    fn every_bulk_verb_has_its_present_tense() {
        for (past, now) in [
            ("paused", "pause"),
            ("activated", "activate"),
            ("expired", "expire"),
            ("vetted", "vet"),
            ("disabled", "disable"),
            ("flagged", "flag"),
            ("unflagged", "unflag"),
            ("refunded", "refund"),
            ("sent to review", "send to review"),
            ("approved", "approve"),
            ("paid", "pay"),
            ("withdrawn", "withdraw"),
        ] {
            assert_eq!(present(past), now, "{past}");
        }
    }
}
