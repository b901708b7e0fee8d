//! CSV cells as exports write them (the console's `x` and the command line's `--csv`): a cell
//! that a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, a tab or a carriage return
//! first) is written with a `'` before it.

/// A cell as written: one a spreadsheet would take for a formula gets a `'` first (a signed
/// number, `-5.00`, is a number and stays as it is).
pub fn safe_cell(text: String) -> String {
    let number = text.len() > 1 && text[1..].parse::<rust_decimal::Decimal>().is_ok();
    match text.chars().next() {
        Some('+' | '-') if number => text,
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused_and_plain_text_is_kept() {
        assert_eq!(safe_cell("=HYPERLINK(\"x\")".into()), "'=HYPERLINK(\"x\")");
        assert_eq!(safe_cell("+1".into()), "+1");
        assert_eq!(safe_cell("+1+2".into()), "'+1+2");
        assert_eq!(safe_cell("-5.00".into()), "-5.00");
        assert_eq!(
            safe_cell("-cmd|' /C calc'!A0".into()),
            "'-cmd|' /C calc'!A0"
        );
        assert_eq!(safe_cell("@SUM".into()), "'@SUM");
        assert_eq!(safe_cell("Spring sale".into()), "Spring sale");
        assert_eq!(safe_cell(String::new()), "");
    }
}
