//! The referral tab's drawing: codes, tokens and rules (the selectable rows), attributed
//! accounts side by side when wide, and the payouts below them across the full width. An open
//! rule form covers the tab.

use super::{ReferralTab, scope, token_status};
use crate::console::action::Action;
use crate::console::shell::Shell;
use crate::console::view::{FormKeys, draw_form, local_fmt, now};
use crate::domain::money::{format_amount, format_bps};
use crate::domain::referral::{referral_link, rule_text};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

/// The referral tab: codes, tokens and rules (the selectable rows), attributed accounts and
/// payouts (side by side when wide, payouts below across the full width). The rule form, when
/// open, in its place.
pub fn draw(f: &mut Frame, area: Rect, tab: &mut ReferralTab, sh: &Shell) {
    if let Some(ed) = tab.rule.as_mut() {
        draw_form(f, area, &sh.theme, &FormKeys::of(sh), &mut ed.form);
        return;
    }
    let tab = &*tab;
    let t = &sh.theme;
    let title = format!(
        " {} · #{} · referrals{} ",
        tab.name,
        tab.partner_id,
        if tab.load.pending && tab.data.is_some() {
            " · refreshing…"
        } else {
            ""
        }
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(t.border_focus)
        .title(Span::styled(title, t.title));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let Some(d) = &tab.data else {
        f.render_widget(Paragraph::new("loading…"), inner);
        return;
    };
    let now = now();
    let key = |a: Action| sh.keymap.keys_text_in(a, "partners");
    let head = |s: &str| Line::from(Span::styled(s.to_owned(), t.header));
    let none = |s: String| Line::from(Span::styled(format!("  {s}"), t.muted));
    let mark = |i: usize| {
        if i == tab.selected {
            Span::styled("› ", t.selected)
        } else {
            Span::raw("  ")
        }
    };

    let mut left = vec![head("Codes")];
    if d.view.codes.is_empty() {
        left.push(none(format!(
            "none yet ({} adds one)",
            key(Action::NewCode)
        )));
    }
    for (i, c) in d.view.codes.iter().enumerate() {
        let state = if c.disabled_at.is_some() {
            Span::styled("disabled", t.error)
        } else {
            Span::styled("active", t.ok)
        };
        left.push(Line::from(vec![
            mark(i),
            Span::raw(format!(
                "{:<16} ",
                format!("{}{}", c.code, if c.is_default { "*" } else { "" })
            )),
            state,
            Span::styled(format!("  {}", referral_link(&c.code)), t.muted),
        ]));
    }
    left.push(head("Claim tokens"));
    if d.view.tokens.is_empty() {
        left.push(none(format!("none ({} issues one)", key(Action::NewToken))));
    }
    let n = d.view.codes.len();
    for (i, tk) in d.view.tokens.iter().enumerate() {
        let status = token_status(tk, now);
        let style = match status.as_str() {
            "open" => t.ok,
            "revoked" | "expired" => t.muted,
            _ => t.label,
        };
        left.push(Line::from(vec![
            mark(n + i),
            Span::raw(format!(
                "{:>4} …{} {:<8} ",
                tk.id,
                tk.last4,
                d.plan_code(tk.plan_id)
            )),
            Span::styled(status, style),
            Span::styled(
                format!(
                    "  {}{}",
                    tk.email.as_deref().unwrap_or("any e-mail"),
                    tk.expires_at
                        .map(|e| format!(" · {}", valid_to(e)))
                        .unwrap_or_default()
                ),
                t.muted,
            ),
        ]));
    }
    left.push(head("Commission rules"));
    if d.view.rules.is_empty() {
        left.push(none(format!(
            "none: conversions pay nothing ({} sets one)",
            key(Action::SetRule)
        )));
    }
    let n = n + d.view.tokens.len();
    for (i, r) in d.view.rules.iter().enumerate() {
        left.push(Line::from(vec![
            mark(n + i),
            Span::styled(format!("{:<14}", scope(r.plan_code.as_deref())), t.label),
            Span::raw(rule_text(r.bps, r.amount_minor, r.currency.as_deref())),
        ]));
    }

    let mut right = vec![head("Attributed accounts")];
    if d.view.accounts.is_empty() {
        right.push(none("none yet".into()));
    }
    for a in &d.view.accounts {
        let conv = match (a.converted_at, &a.plan_code) {
            (Some(at), plan) => Span::styled(
                format!(
                    "converted {} {}",
                    local_fmt(at, "%Y-%m-%d"),
                    plan.as_deref().unwrap_or("-"),
                ),
                t.ok,
            ),
            (None, _) => Span::styled("not converted", t.muted),
        };
        right.push(Line::from(vec![
            Span::raw(format!("  {:>6} {:<6} ", a.account_id, a.via)),
            conv,
        ]));
    }
    // Payouts, the widest lines, take the full width below the columns.
    let mut below = vec![head("Payouts")];
    if d.payouts.is_empty() {
        below.push(none("none yet".into()));
    }
    for p in &d.payouts {
        below.push(Line::from(vec![
            Span::styled(
                format!("  {} ", local_fmt(p.converted_at, "%Y-%m-%d")),
                t.muted,
            ),
            Span::raw(format!(
                "{:>6} {:<6} {:>10}  ",
                p.account_id,
                d.plan_code(p.plan_id),
                format_amount(p.amount_minor, &p.currency)
            )),
            Span::styled(
                match p.bps {
                    Some(b) => format!("{} ({})", format_bps(b.into()), p.rule_scope),
                    None => format!("flat ({})", p.rule_scope),
                },
                t.muted,
            ),
            Span::raw(match (p.settlement_id, &p.lands) {
                (Some(s), _) => format!(" · settlement #{s}"),
                (None, _) if p.reversed_at.is_some() => " · reversed".into(),
                (None, Some(l)) => format!(" · {l}"),
                (None, None) => String::new(),
            }),
        ]));
    }

    if inner.width >= 110 {
        // The columns as tall as the longer one, leaving the payouts at least half the rest
        // when they need it.
        let columns = left.len().max(right.len()) as u16 + 1;
        let payouts = (below.len() as u16).min(inner.height / 2);
        let top = columns.min(inner.height.saturating_sub(payouts));
        let [upper, lower] =
            Layout::vertical([Constraint::Length(top), Constraint::Min(0)]).areas(inner);
        let [l, r] = Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
            .areas(upper);
        f.render_widget(Paragraph::new(left), l);
        f.render_widget(Paragraph::new(right), r);
        f.render_widget(Paragraph::new(below), lower);
    } else {
        left.extend(right);
        left.extend(below);
        f.render_widget(Paragraph::new(left), inner);
    }
}

/// How long a token may be claimed: `through 2026-12-31` when it expires at a day's end in the
/// operator's zone (an expiry typed as that date), else `until` its day.
fn valid_to(expires: chrono::DateTime<chrono::Utc>) -> String {
    if local_fmt(expires, "%H:%M:%S") == "00:00:00" {
        let last = expires - chrono::Duration::seconds(1);
        format!("through {}", local_fmt(last, "%Y-%m-%d"))
    } else {
        format!("until {}", local_fmt(expires, "%Y-%m-%d"))
    }
}
