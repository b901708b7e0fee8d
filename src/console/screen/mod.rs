//! Drawing the console: the tabs, the pane on screen, the status line and the overlays. It
//! reads the `App`; nothing here awaits or touches the database.

mod chrome;
mod overlays;

pub use overlays::help_lines;

use super::app::App;
use super::shell::Overlay;
use super::view::{MIN_HEIGHT, MIN_WIDTH};
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

pub fn draw(f: &mut Frame, app: &mut App) {
    let area = f.area();
    app.shell.size = Some((area.width, area.height));
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        too_small(f, area);
        return;
    }
    let banner = !app.session.registered || app.session.read_only;
    let filter_line = app.filter_input.is_some() as u16;
    let footer_line = (app.footer && app.filter_input.is_none()) as u16;
    // Toasts take lines of their own above the footer: they never cover the rows.
    let toast_lines = chrome::toast_lines(app, area.width);
    let toast_h = (toast_lines.len() as u16).min(area.height.saturating_sub(12));
    let [
        tabs,
        banner_area,
        main,
        toast_area,
        filter_area,
        footer_area,
        status,
    ] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(banner as u16),
        Constraint::Min(5),
        Constraint::Length(toast_h),
        Constraint::Length(filter_line),
        Constraint::Length(footer_line),
        Constraint::Length(1),
    ])
    .areas(area);
    chrome::tabs(f, tabs, app);
    if banner {
        chrome::banner(f, banner_area, app);
    }
    let id = app.pane;
    app.shell.list_at.set(None);
    app.panes.get_mut(id).draw(f, main, &app.shell);
    if app.filter_input.is_some() {
        chrome::filter(f, filter_area, app);
    }
    if footer_line > 0 {
        chrome::footer(f, footer_area, app);
    }
    chrome::status(f, status, app);
    chrome::toasts(f, toast_area, toast_lines);
    match &app.overlay {
        Overlay::None => {}
        Overlay::Help { scroll } => overlays::help(f, area, app, *scroll),
        Overlay::Palette(p) => overlays::palette(f, area, app, p),
        Overlay::Confirm(c) => overlays::confirm(f, area, app, c),
        Overlay::Info { title, lines } => overlays::info(f, area, app, title, lines),
        Overlay::Prompt(p) => overlays::prompt(f, area, app, p),
    }
}

fn too_small(f: &mut Frame, area: Rect) {
    let text = vec![
        Line::from("terminal too small"),
        Line::from(format!(
            "(needs {MIN_WIDTH}×{MIN_HEIGHT}, have {}×{})",
            area.width, area.height
        )),
    ];
    let y = area.height.saturating_sub(2) / 2;
    let r = Rect {
        x: area.x,
        y: area.y + y,
        width: area.width,
        height: 2.min(area.height),
    };
    f.render_widget(Paragraph::new(text).alignment(Alignment::Center), r);
}
