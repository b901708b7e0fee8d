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

/// Whether a text field may span lines (a description, notes): then line breaks and tabs are
/// allowed; every other control character is refused in every field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    One,
    Many,
}

/// Refuses control characters (NUL, ESC, BEL, DEL, the C1 range…): PostgreSQL cannot store a
/// NUL, and the others would drive the terminal of whoever reads the value. A multi-line field
/// may hold line breaks (`\n`, `\r`) and tabs. Returns whether the value passed.
pub fn no_control(
    errs: &mut ValidationErrors,
    field: &'static str,
    value: &str,
    lines: Lines,
) -> bool {
    let allowed = |c: char| lines == Lines::Many && matches!(c, '\n' | '\r' | '\t');
    match value
        .chars()
        .enumerate()
        .find(|&(_, c)| c.is_control() && !allowed(c))
    {
        None => true,
        Some((i, c)) => {
            let what = match lines {
                Lines::One => "must not contain control characters",
                Lines::Many => {
                    "must not contain control characters other than line breaks and tabs"
                }
            };
            errs.push(
                field,
                format!("{what} (found U+{:04X} at character {})", c as u32, i + 1),
            );
            false
        }
    }
}

/// [`no_control`] over several fields at once; `None` values are skipped.
pub fn no_control_in(errs: &mut ValidationErrors, fields: &[(&'static str, Option<&str>, Lines)]) {
    for &(field, value, lines) in fields {
        if let Some(v) = value {
            no_control(errs, field, v, lines);
        }
    }
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

/// The one check of a required text field: no control characters (line breaks and tabs only
/// when `lines` is [`Lines::Many`]), not blank, at most `max` characters. Returns it trimmed.
pub fn text(
    errs: &mut ValidationErrors,
    field: &'static str,
    value: &str,
    max: usize,
    lines: Lines,
) -> String {
    if no_control(errs, field, value, lines) {
        required_text(errs, field, value, max)
    } else {
        value.trim().to_owned()
    }
}

/// One required text field on its own (a note, a reason, a reference): [`text`].
pub fn check_text(
    field: &'static str,
    value: &str,
    max: usize,
    lines: Lines,
) -> Result<String, ValidationErrors> {
    let mut e = ValidationErrors::new();
    let t = text(&mut e, field, value, max, lines);
    e.into_result(t)
}

/// An optional one-line reason: blank is none; otherwise [`check_text`].
pub fn optional_reason(
    field: &'static str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, ValidationErrors> {
    value
        .filter(|v| !v.trim().is_empty())
        .map(|v| check_text(field, v, max, Lines::One))
        .transpose()
}

/// Text from the database as it may be printed: every control character it cannot show
/// becomes `\xNN` (ESC is `\x1b`, BEL `\x07`, NUL `\x00`), so that a value stored before the
/// rules (or by another client) cannot drive the terminal. A [`Lines::Many`] value keeps its
/// line breaks (`\n`, `\r\n`) and tabs. Borrows when there is nothing to escape.
pub fn escape_control(s: &str, lines: Lines) -> std::borrow::Cow<'_, str> {
    let keep = |c: char, next: Option<char>| {
        lines == Lines::Many && (c == '\n' || c == '\t' || (c == '\r' && next == Some('\n')))
    };
    let mut chars = s.chars().peekable();
    let mut clean = true;
    while let Some(c) = chars.next() {
        if c.is_control() && !keep(c, chars.peek().copied()) {
            clean = false;
            break;
        }
    }
    if clean {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_control() && !keep(c, chars.peek().copied()) {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
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
    fn control_characters_are_refused_with_the_field_and_where() {
        let mut e = ValidationErrors::new();
        assert!(no_control(&mut e, "title", "plain – ünïcode", Lines::One));
        assert!(no_control(
            &mut e,
            "notes",
            "two\r\nlines\tand a tab",
            Lines::Many
        ));
        assert!(e.is_empty());
        assert!(!no_control(&mut e, "title", "a\nb", Lines::One));
        assert!(!no_control(&mut e, "notes", "bell\u{7}", Lines::Many));
        assert!(!no_control(&mut e, "name", "\u{1b}[31mred", Lines::One));
        assert!(!no_control(&mut e, "x", "nul\0", Lines::One));
        assert!(!no_control(&mut e, "y", "del\u{7f} c1\u{9b}", Lines::One));
        assert_eq!(
            e.to_string(),
            "title: must not contain control characters (found U+000A at character 2); \
             notes: must not contain control characters other than line breaks and tabs (found U+0007 at character 5); \
             name: must not contain control characters (found U+001B at character 1); \
             x: must not contain control characters (found U+0000 at character 4); \
             y: must not contain control characters (found U+007F at character 4)"
        );
    }

    #[test]
    fn text_refuses_control_characters_before_anything_else() {
        let mut e = ValidationErrors::new();
        assert_eq!(text(&mut e, "subject", " ok ", 10, Lines::One), "ok");
        text(&mut e, "subject", "a\u{1b}]0;x\u{7}", 100, Lines::One);
        text(&mut e, "body", "two\nlines\u{7}", 100, Lines::Many);
        assert_eq!(
            e.to_string(),
            "subject: must not contain control characters (found U+001B at character 2); \
             body: must not contain control characters other than line breaks and tabs (found U+0007 at character 10)"
        );
        assert!(check_text("reference", "PAY\u{1b}", 10, Lines::One).is_err());
    }

    #[test]
    fn control_characters_print_escaped() {
        assert_eq!(escape_control("plain ü", Lines::One), "plain ü");
        assert!(matches!(
            escape_control("plain", Lines::One),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(
            escape_control("\u{1b}]0;t\u{7}\0\u{9b}", Lines::One),
            "\\x1b]0;t\\x07\\x00\\x9b"
        );
        assert_eq!(escape_control("a\nb\tc", Lines::One), "a\\x0ab\\x09c");
        assert_eq!(
            escape_control("a\r\nb\tc\rd\u{1b}", Lines::Many),
            "a\r\nb\tc\\x0dd\\x1b"
        );
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
