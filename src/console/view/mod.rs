//! Drawing helpers every pane shares (tables, forms, columns, text shown safely, times in the
//! display zone). Framework: it knows no pane and no app (`screen` draws the app).

mod form;
mod table;

pub use form::{FormKeys, draw as draw_form};
pub mod columns;
pub mod registry;
pub use table::{ListTable, column_widths, draw_list, draw_list_focus, list_title, need};

use ratatui::layout::Rect;

pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

/// A rectangle of at most `w`×`h` centred in `area`.
/// Text from data as the terminal may show it: a control character (ESC, BEL, NUL, …) is
/// written as `\x1b` rather than dropped or sent to the terminal; `many` keeps line breaks and
/// tabs (for multi-line fields that are drawn line by line).
pub fn shown(text: &str, many: bool) -> String {
    use crate::domain::validation::{Lines, escape_control};
    escape_control(text, if many { Lines::Many } else { Lines::One }).into_owned()
}

pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

thread_local! {
    /// A fixed zone for display instead of the operator's (render tests pin it).
    static DISPLAY_ZONE: std::cell::Cell<Option<chrono::FixedOffset>> = const { std::cell::Cell::new(None) };
}

/// Shows times in `zone` instead of the local zone, on this thread (for render tests).
pub fn pin_display_zone(zone: Option<chrono::FixedOffset>) {
    DISPLAY_ZONE.with(|z| z.set(zone));
}

/// The zone pinned for display on this thread, if any.
pub fn pinned_zone() -> Option<chrono::FixedOffset> {
    DISPLAY_ZONE.with(|z| z.get())
}

thread_local! {
    /// A fixed "now" for what is shown relative to it (days left), instead of the clock.
    static PINNED_NOW: std::cell::Cell<Option<chrono::DateTime<chrono::Utc>>> = const { std::cell::Cell::new(None) };
}

/// Shows what is relative to the present as if it were `now`, on this thread (render tests).
pub fn pin_now(now: Option<chrono::DateTime<chrono::Utc>>) {
    PINNED_NOW.with(|n| n.set(now));
}

/// The present as the views show it: the clock, unless pinned on this thread.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    PINNED_NOW
        .with(|n| n.get())
        .unwrap_or_else(chrono::Utc::now)
}

/// A time in the operator's local zone, for display.
pub fn local(t: chrono::DateTime<chrono::Utc>) -> String {
    local_fmt(t, "%Y-%m-%d %H:%M")
}

/// A time in the operator's local zone, to the second.
pub fn local_secs(t: chrono::DateTime<chrono::Utc>) -> String {
    local_fmt(t, "%Y-%m-%d %H:%M:%S")
}

/// A time in the operator's local zone, in a `chrono` format.
pub fn local_fmt(t: chrono::DateTime<chrono::Utc>, fmt: &str) -> String {
    match DISPLAY_ZONE.with(|z| z.get()) {
        Some(zone) => t.with_timezone(&zone).format(fmt).to_string(),
        None => t.with_timezone(&chrono::Local).format(fmt).to_string(),
    }
}

/// When a day begins in the operator's local zone (the zone times are shown in).
pub fn local_day_start(day: chrono::NaiveDate) -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    let midnight = day.and_time(chrono::NaiveTime::MIN);
    let start = match DISPLAY_ZONE.with(|z| z.get()) {
        Some(zone) => zone
            .from_local_datetime(&midnight)
            .earliest()
            .map(|t| t.to_utc()),
        None => chrono::Local
            .from_local_datetime(&midnight)
            .earliest()
            .map(|t| t.to_utc()),
    };
    start.unwrap_or_else(|| chrono::Utc.from_utc_datetime(&midnight))
}

/// A moment typed by the operator, read in their zone as the start of something: a bare date
/// is 00:00 that day (`domain::moment`, one rule everywhere).
pub fn local_start(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    use crate::domain::moment::moment_start;
    match DISPLAY_ZONE.with(|z| z.get()) {
        Some(zone) => moment_start(text, &zone),
        None => moment_start(text, &chrono::Local),
    }
}

/// A moment typed by the operator, read in their zone as the (exclusive) end of something: a
/// bare date is the whole day, up to the next day's 00:00.
pub fn local_end(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    use crate::domain::moment::moment_end;
    match DISPLAY_ZONE.with(|z| z.get()) {
        Some(zone) => moment_end(text, &zone),
        None => moment_end(text, &chrono::Local),
    }
}
