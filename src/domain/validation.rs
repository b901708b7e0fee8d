//! Field-level validation errors: each names the field and the rule it broke.

use std::fmt;

/// One broken rule on one field, e.g. `title: at most 255 characters (got 256)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub rule: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.rule)
    }
}

/// Every broken rule of one input, in field order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn push(&mut self, field: &'static str, rule: impl Into<String>) {
        self.0.push(FieldError {
            field,
            rule: rule.into(),
        });
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The message for one field, if it has one (the console shows it beside the field).
    pub fn for_field(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.rule.as_str())
    }
    pub fn into_result<T>(self, ok: T) -> Result<T, ValidationErrors> {
        if self.is_empty() { Ok(ok) } else { Err(self) }
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

/// Length in characters (not bytes): what a person counts.
pub fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// Trims and turns an empty string into `None`.
pub fn non_empty(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Checks a required text field and its maximum length; returns the trimmed value.
pub fn required_text(
    errs: &mut ValidationErrors,
    field: &'static str,
    value: &str,
    max: usize,
) -> String {
    let v = value.trim();
    if v.is_empty() {
        errs.push(field, "required");
    } else {
        max_len(errs, field, v, max);
    }
    v.to_owned()
}

/// Checks a maximum length in characters.
pub fn max_len(errs: &mut ValidationErrors, field: &'static str, value: &str, max: usize) {
    let n = char_len(value);
    if n > max {
        errs.push(field, format!("at most {max} characters (got {n})"));
    }
}

/// Checks an optional http(s) URL with a maximum length.
pub fn http_url(
    errs: &mut ValidationErrors,
    field: &'static str,
    value: &str,
    max: usize,
) -> Option<url::Url> {
    let n = char_len(value);
    if n > max {
        errs.push(field, format!("at most {max} characters (got {n})"));
        return None;
    }
    match url::Url::parse(value) {
        Ok(u) if (u.scheme() == "http" || u.scheme() == "https") && u.host_str().is_some() => {
            Some(u)
        }
        Ok(u) if u.scheme() != "http" && u.scheme() != "https" => {
            errs.push(
                field,
                format!("must be an http(s) URL (scheme is {})", u.scheme()),
            );
            None
        }
        _ => {
            errs.push(field, "must be an http(s) URL like https://example.com/");
            None
        }
    }
}

/// Cleans a free-form list: trims, drops empties and duplicates (case-insensitive), checks lengths.
pub fn clean_list(
    errs: &mut ValidationErrors,
    field: &'static str,
    items: &[String],
    max_item: usize,
    max_items: usize,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for raw in items {
        let v = raw.trim();
        if v.is_empty() {
            continue;
        }
        if char_len(v) > max_item {
            errs.push(
                field,
                format!("each entry at most {max_item} characters ({v:.20}… is longer)"),
            );
            continue;
        }
        if !out.iter().any(|o| o.eq_ignore_ascii_case(v)) {
            out.push(v.to_owned());
        }
    }
    if out.len() > max_items {
        errs.push(
            field,
            format!("at most {max_items} entries (got {})", out.len()),
        );
    }
    out
}

/// Splits a comma-separated list as typed into a form or a CSV cell.
pub fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_joins_every_error_with_field_names() {
        let mut e = ValidationErrors::new();
        e.push("title", "required");
        e.push("kind", "must be coupon or link");
        assert_eq!(
            e.to_string(),
            "title: required; kind: must be coupon or link"
        );
        assert_eq!(e.for_field("kind"), Some("must be coupon or link"));
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        let mut e = ValidationErrors::new();
        max_len(&mut e, "title", &"é".repeat(255), 255);
        assert!(e.is_empty());
        max_len(&mut e, "title", &"é".repeat(256), 255);
        assert_eq!(e.to_string(), "title: at most 255 characters (got 256)");
    }

    #[test]
    fn urls_must_be_http_or_https() {
        let mut e = ValidationErrors::new();
        assert!(http_url(&mut e, "u", "https://a.example/x", 100).is_some());
        assert!(http_url(&mut e, "u", "ftp://a.example/x", 100).is_none());
        assert!(http_url(&mut e, "u", "not a url", 100).is_none());
        assert_eq!(e.0.len(), 2);
        assert!(e.0[0].rule.contains("scheme is ftp"));
    }

    #[test]
    fn lists_are_trimmed_and_deduplicated() {
        let mut e = ValidationErrors::new();
        let l = clean_list(
            &mut e,
            "categories",
            &split_list(" food, Food ,travel,, "),
            64,
            20,
        );
        assert_eq!(l, vec!["food", "travel"]);
        assert!(e.is_empty());
    }
}
