//! How a person's date or time reads, one rule everywhere (the command line, CSV imports, the
//! console's forms, filters and prompts).
//!
//! A moment is RFC 3339 (its own offset; `2026-03-01T09:00:00Z`), or a date and a time
//! `YYYY-MM-DD HH:MM` in the zone the field is read in, or a bare date `YYYY-MM-DD`. A bare
//! date **as a start** is 00:00 of that day; **as an end** it is the whole day: up to the next
//! day's 00:00, exclusive. Every end the database keeps is exclusive (a deal's `valid_until`,
//! a claim token's `expires_at`, a negotiation's deadline, a filter's `to`): the moment itself
//! is no longer inside. The command line reads its zone as UTC, the console as the operator's.

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

/// The forms a moment may take, for messages and help (the zone is the reader's to name).
pub const MOMENT_FORMATS: &str = "YYYY-MM-DD, YYYY-MM-DD HH:MM or RFC 3339";

/// The forms the command line and CSV files take, where the zone is UTC.
pub const UTC_FORMATS: &str =
    "YYYY-MM-DD, YYYY-MM-DD HH:MM (UTC) or RFC 3339 (2026-03-01T09:00:00Z)";

/// What a bare date stands for beside a field that starts something.
pub const START_RULE: &str = "a bare date is 00:00 that day";

/// What a bare date stands for beside a field that ends something.
pub const END_RULE: &str = "a bare date is the whole day";

/// How a piece of text read as a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Read {
    /// An instant (RFC 3339, or a date and time in the zone).
    At(DateTime<Utc>),
    /// A day without a time.
    Day(NaiveDate),
}

fn read<Tz: TimeZone>(text: &str, zone: &Tz) -> Result<Read, String> {
    let s = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(Read::At(t.with_timezone(&Utc)));
    }
    for format in ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
            return in_zone(t, zone).ok_or_else(|| format!("'{s}' does not exist in that zone"));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(Read::Day(d));
    }
    Err(format!(
        "'{s}' is not a time or a date: use {MOMENT_FORMATS}"
    ))
}

/// A wall-clock time of `zone` as UTC: the earlier of two when the clocks go back, the first
/// moment after the gap when they go forward.
fn in_zone<Tz: TimeZone>(t: NaiveDateTime, zone: &Tz) -> Option<Read> {
    let at = match zone.from_local_datetime(&t) {
        LocalResult::Single(t) => t,
        LocalResult::Ambiguous(a, _) => a,
        LocalResult::None => zone
            .from_local_datetime(&(t + chrono::Duration::hours(1)))
            .earliest()?,
    };
    Some(Read::At(at.with_timezone(&Utc)))
}

/// When `day` begins in `zone`.
pub fn day_start<Tz: TimeZone>(day: NaiveDate, zone: &Tz) -> Option<DateTime<Utc>> {
    match in_zone(day.and_time(NaiveTime::MIN), zone)? {
        Read::At(t) => Some(t),
        Read::Day(_) => None,
    }
}

/// `text` as the start of something: a bare date is 00:00 of that day in `zone`.
pub fn moment_start<Tz: TimeZone>(text: &str, zone: &Tz) -> Result<DateTime<Utc>, String> {
    match read(text, zone)? {
        Read::At(t) => Ok(t),
        Read::Day(d) => {
            day_start(d, zone).ok_or_else(|| format!("'{}' is out of range", text.trim()))
        }
    }
}

/// `text` as the (exclusive) end of something: a bare date is the whole day, up to the next
/// day's 00:00 in `zone`; a time is that moment.
pub fn moment_end<Tz: TimeZone>(text: &str, zone: &Tz) -> Result<DateTime<Utc>, String> {
    match read(text, zone)? {
        Read::At(t) => Ok(t),
        Read::Day(d) => d
            .succ_opt()
            .and_then(|next| day_start(next, zone))
            .ok_or_else(|| format!("'{}' is out of range", text.trim())),
    }
}

/// [`moment_start`] in UTC, for the command line's flags (a clap value parser).
pub fn utc_start(text: &str) -> Result<DateTime<Utc>, String> {
    moment_start(text, &Utc).map_err(|_| utc_problem(text))
}

/// [`moment_end`] in UTC, for the command line's flags (a clap value parser).
pub fn utc_end(text: &str) -> Result<DateTime<Utc>, String> {
    moment_end(text, &Utc).map_err(|_| utc_problem(text))
}

/// What a file's or a flag's date-and-time cells may look like, for messages and help.
pub const TIME_FORMATS: &str =
    "RFC 3339 like 2026-03-01T09:00:00Z, or YYYY-MM-DD HH:MM or YYYY-MM-DD taken as UTC";

/// A deal window's time typed as text in UTC (a CSV cell, a deal file's field), as a start
/// or (`end`) an exclusive end: unreadable text is a field error naming [`TIME_FORMATS`];
/// empty is `None` (the deal's rules say it is required).
pub fn read_utc(
    errs: &mut super::validation::ValidationErrors,
    field: &'static str,
    text: &str,
    end: bool,
) -> Option<DateTime<Utc>> {
    let s = text.trim();
    if s.is_empty() {
        return None;
    }
    let read = if end { utc_end(s) } else { utc_start(s) };
    match read {
        Ok(t) => Some(t),
        Err(_) => {
            errs.push(
                field,
                format!("not a date and time ({s}): use {TIME_FORMATS}"),
            );
            None
        }
    }
}

fn utc_problem(text: &str) -> String {
    format!(
        "'{}' is not a time or a date: use {UTC_FORMATS}",
        text.trim()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    #[test]
    fn a_bare_date_starts_at_midnight_and_ends_with_the_whole_day() {
        assert_eq!(utc_start("2026-12-31"), Ok(utc(2026, 12, 31, 0, 0)));
        assert_eq!(utc_end("2026-12-31"), Ok(utc(2027, 1, 1, 0, 0)));
        // A date and a time is that moment, as a start or as an end.
        assert_eq!(utc_start("2026-12-31 09:30"), Ok(utc(2026, 12, 31, 9, 30)));
        assert_eq!(utc_end("2026-12-31 09:30"), Ok(utc(2026, 12, 31, 9, 30)));
        assert_eq!(utc_end("2026-12-31T09:30"), Ok(utc(2026, 12, 31, 9, 30)));
        // RFC 3339 carries its own offset.
        assert_eq!(
            utc_end("2026-12-31T10:30:00+01:00"),
            Ok(utc(2026, 12, 31, 9, 30))
        );
        assert_eq!(
            utc_start("tomorrow").unwrap_err(),
            format!("'tomorrow' is not a time or a date: use {UTC_FORMATS}")
        );
        assert!(
            moment_end("soon", &Utc)
                .unwrap_err()
                .contains(MOMENT_FORMATS)
        );
        assert!(utc_end("2026-02-30").is_err());
    }

    #[test]
    fn the_zone_of_the_reader_places_the_day() {
        let paris = FixedOffset::east_opt(3600).unwrap();
        assert_eq!(
            moment_start("2026-12-01", &paris),
            Ok(utc(2026, 11, 30, 23, 0))
        );
        assert_eq!(
            moment_end("2026-12-01", &paris),
            Ok(utc(2026, 12, 1, 23, 0))
        );
        assert_eq!(
            moment_start("2026-12-01 09:00", &paris),
            Ok(utc(2026, 12, 1, 8, 0))
        );
        // An RFC 3339 time is the same whatever the reader's zone.
        assert_eq!(
            moment_end("2026-12-01T09:00:00Z", &paris),
            Ok(utc(2026, 12, 1, 9, 0))
        );
    }
}
