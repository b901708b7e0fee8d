//! The problems of a redemptions import as they are found: those of each bad row in file
//! order, then those the caps find once the whole file is read, merged by line and kept to
//! the first [`PROBLEM_LIMIT`].

use super::PROBLEM_LIMIT;
use crate::service::import::RowProblem;

/// The problems found so far: the first [`PROBLEM_LIMIT`] by line, and how many in all.
#[derive(Default)]
pub(super) struct Problems {
    pub(super) kept: Vec<RowProblem>,
    pub(super) count: u64,
    pub(super) bad_rows: u64,
}

impl Problems {
    /// The problems of one more bad row (rows come in file order).
    pub(super) fn add(&mut self, row: Vec<RowProblem>) {
        self.bad_rows += 1;
        self.count += row.len() as u64;
        let room = PROBLEM_LIMIT.saturating_sub(self.kept.len());
        self.kept.extend(row.into_iter().take(room));
    }

    /// Problems found after the whole file was read (one per row, by line, each on a row
    /// that had none before), and how many such rows there are in all.
    pub(super) fn merge(&mut self, (late, total): (Vec<RowProblem>, u64)) {
        self.bad_rows += total;
        self.count += total;
        let early = std::mem::take(&mut self.kept);
        let mut all = Vec::with_capacity(early.len() + late.len());
        let (mut a, mut b) = (early.into_iter().peekable(), late.into_iter().peekable());
        while all.len() < PROBLEM_LIMIT {
            let take_a = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) => x.line <= y.line,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            all.extend(if take_a { a.next() } else { b.next() });
        }
        self.kept = all;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(line: u64) -> RowProblem {
        RowProblem {
            line,
            field: "deal_id",
            rule: "r".into(),
        }
    }

    #[test]
    fn late_problems_merge_by_line_and_the_list_stays_bounded() {
        let mut p = Problems::default();
        p.add(vec![problem(2), problem(2)]);
        p.add(vec![problem(9)]);
        p.merge((vec![problem(5), problem(12)], 2));
        let lines: Vec<u64> = p.kept.iter().map(|p| p.line).collect();
        assert_eq!(lines, [2, 2, 5, 9, 12]);
        assert_eq!((p.count, p.bad_rows), (5, 4));

        let mut p = Problems::default();
        for line in 0..2 * PROBLEM_LIMIT as u64 {
            p.add(vec![problem(line + 2)]);
        }
        p.merge((vec![problem(3)], 5000));
        assert_eq!(p.kept.len(), PROBLEM_LIMIT);
        assert_eq!(p.kept[1].line, 3);
        assert_eq!(p.count, 2 * PROBLEM_LIMIT as u64 + 5000);
    }
}
