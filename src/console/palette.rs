//! The command palette (`:`): every action available here, fuzzy-matched as you type.

use super::action::Action;
use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};

pub struct Palette {
    pub query: String,
    pub candidates: Vec<Action>,
    pub matches: Vec<Action>,
    pub selected: usize,
}

impl Palette {
    pub fn new(candidates: Vec<Action>) -> Self {
        let mut p = Self {
            query: String::new(),
            matches: candidates.clone(),
            candidates,
            selected: 0,
        };
        p.refilter();
        p
    }

    pub fn refilter(&mut self) {
        if self.query.trim().is_empty() {
            self.matches = self.candidates.clone();
        } else {
            let mut matcher = Matcher::new(Config::DEFAULT);
            let pattern = Pattern::parse(&self.query, CaseMatching::Ignore, Normalization::Smart);
            let mut buf = Vec::new();
            let mut scored: Vec<(u32, Action)> = self
                .candidates
                .iter()
                .filter_map(|a| {
                    let hay = format!("{} {}", a.name().replace('_', " "), a.description());
                    pattern
                        .score(Utf32Str::new(&hay, &mut buf), &mut matcher)
                        .map(|s| (s, *a))
                })
                .collect();
            scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            self.matches = scored.into_iter().map(|(_, a)| a).collect();
        }
        self.selected = self.selected.min(self.matches.len().saturating_sub(1));
    }

    pub fn chosen(&self) -> Option<Action> {
        self.matches.get(self.selected).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuzzy_matches_names_and_descriptions() {
        let mut p = Palette::new(vec![
            Action::Quit,
            Action::MarkVetted,
            Action::Offboard,
            Action::Refresh,
        ]);
        p.query = "vttd".into();
        p.refilter();
        assert_eq!(p.chosen(), Some(Action::MarkVetted));
        p.query = "pause every".into();
        p.refilter();
        assert_eq!(p.matches, vec![Action::Offboard]);
        p.query = "zzzz".into();
        p.refilter();
        assert!(p.matches.is_empty());
        assert_eq!(p.chosen(), None);
    }
}
