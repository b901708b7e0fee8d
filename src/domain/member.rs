//! Members: the marketplace's end users, read by the console for audience scoping (SPEC §1.5).

use super::deal::{AudienceScope, parse_batch_year};
use serde::{Deserialize, Serialize};

super::deal::text_enum!(
    /// A member's role on the marketplace.
    MemberRole { Public => "public", Institute => "institute", Alumni => "alumni" }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub id: i64,
    pub handle: String,
    pub display_name: String,
    pub role: MemberRole,
    pub institute_verified: bool,
    pub batch_year: Option<i32>,
    pub chapters: Vec<String>,
}

impl Member {
    /// Can this member see a deal with this scope? `public`: everyone; `institute`:
    /// institute-verified members; `alumni`: role alumni; `batch`: alumni of that batch year;
    /// `chapter`: members of that chapter.
    pub fn can_see(&self, scope: AudienceScope, value: Option<&str>) -> bool {
        match scope {
            AudienceScope::Public => true,
            AudienceScope::Institute => self.institute_verified,
            AudienceScope::Alumni => self.role == MemberRole::Alumni,
            AudienceScope::Batch => {
                self.role == MemberRole::Alumni
                    && self.batch_year.is_some()
                    && value.and_then(parse_batch_year) == self.batch_year
            }
            AudienceScope::Chapter => {
                value.is_some_and(|v| self.chapters.iter().any(|c| c.eq_ignore_ascii_case(v)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(role: MemberRole, verified: bool, batch: Option<i32>, chapters: &[&str]) -> Member {
        Member {
            id: 1,
            handle: "m".into(),
            display_name: "M".into(),
            role,
            institute_verified: verified,
            batch_year: batch,
            chapters: chapters.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn scope_matrix() {
        use AudienceScope::*;
        let public = m(MemberRole::Public, false, None, &[]);
        let student = m(MemberRole::Institute, true, None, &["Pune"]);
        let alum19 = m(MemberRole::Alumni, true, Some(2019), &["Berlin"]);
        let alum20 = m(MemberRole::Alumni, false, Some(2020), &[]);

        let cases: &[(&Member, AudienceScope, Option<&str>, bool)] = &[
            (&public, Public, None, true),
            (&public, Institute, None, false),
            (&public, Alumni, None, false),
            (&public, Batch, Some("2019"), false),
            (&public, Chapter, Some("Pune"), false),
            (&student, Institute, None, true),
            (&student, Alumni, None, false),
            (&student, Chapter, Some("pune"), true),
            (&alum19, Alumni, None, true),
            (&alum19, Batch, Some("2019"), true),
            (&alum19, Batch, Some("2020"), false),
            (&alum19, Chapter, Some("Berlin"), true),
            (&alum19, Chapter, Some("Pune"), false),
            (&alum20, Institute, None, false),
            (&alum20, Batch, Some("2020"), true),
        ];
        for (member, scope, value, want) in cases {
            assert_eq!(
                member.can_see(*scope, *value),
                *want,
                "{} sees {scope}/{value:?}",
                member.role
            );
        }
    }
}
