//! The Redemptions pane (issue 10 items 1, 2, 8, 11, 13, 14): what support sees and what each
//! key asks the services for.

use super::{app, key, render};
use chrono::{DateTime, TimeZone, Utc};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use partnerdesk::console::action::Action;
use partnerdesk::console::app::{App, Overlay};
use partnerdesk::console::msg::{Effect, LoadMode, Msg, Notice};
use partnerdesk::console::panes::redemptions::{self, Scope, View};
use partnerdesk::domain::{FlagKind, Role};
use partnerdesk::service::monitor::Signals;
use partnerdesk::service::rows::{MonitorRow, RedemptionRow};
use partnerdesk::store::monitor::{Burst, LowConversion, QuickCap};

fn t(d: u32, h: u32, m: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, d, h, m, s).unwrap()
}

/// The minute the monitor rows below were loaded in.
fn loaded_at() -> DateTime<Utc> {
    t(29, 10, 0, 0)
}

fn monitor_rows() -> Vec<MonitorRow> {
    let deals = [
        (
            93,
            "Launch week: 20% off every print book",
            "Aster Books",
            41,
            None,
            3,
        ),
        (
            92,
            "Free espresso with any bag of beans",
            "Driftwood Coffee",
            7,
            Some(50),
            0,
        ),
        (
            90,
            "Cycle tune-up for members",
            "Cobalt Cycles",
            120,
            Some(1),
            9,
        ),
    ];
    deals
        .iter()
        .map(|(id, title, partner, count, cap, hour)| {
            let mut per_minute = vec![0; 60];
            per_minute[59] = *hour;
            per_minute[30] = hour / 2;
            MonitorRow {
                id: *id,
                title: (*title).into(),
                partner_name: (*partner).into(),
                state: "active".into(),
                kind: "coupon".into(),
                redemption_cap: *cap,
                redemption_count: *count,
                published_at: None,
                per_minute,
                minute: Some(loaded_at()),
            }
        })
        .collect()
}

fn redemption(id: i64, member: (i64, &str), deal: (i64, &str), at: DateTime<Utc>) -> RedemptionRow {
    RedemptionRow {
        id,
        deal_id: deal.0,
        deal_title: deal.1.into(),
        member_id: member.0,
        member_handle: member.1.into(),
        source: "copy_code".into(),
        coupon_code: Some("LAUNCH20".into()),
        redeemed_at: at,
        // One order in JPY (no minor unit), one with no value reported.
        value_minor: match id {
            5002 => None,
            5003 => Some(4_980),
            _ => Some(12_950),
        },
        currency: match id {
            5002 => None,
            5003 => Some("JPY".into()),
            _ => Some("EUR".into()),
        },
        flag_kind: (id == 5003).then_some(FlagKind::Fraud),
        flag_note: None,
        flagged_by: None,
        flagged_at: None,
        refunded_at: None,
        refunded_by: None,
        refund_reason: None,
    }
}

fn deal_rows() -> Vec<RedemptionRow> {
    let deal = (93, "Launch week: 20% off every print book");
    vec![
        redemption(5004, (17, "pat"), deal, t(30, 18, 4, 51)),
        redemption(5003, (17, "pat"), deal, t(30, 18, 4, 9)),
        redemption(5002, (21, "lee"), deal, t(29, 0, 0, 0)),
    ]
}

/// A support operator on the Redemptions pane with the monitor loaded.
fn support() -> App {
    let mut a = app(false, &[Role::Support]);
    a.perform(Action::PaneRedemptions);
    let tag = a.panes.redemptions.monitor.tag;
    a.update(Msg::from(redemptions::Msg::Monitor {
        tag,
        mode: LoadMode::Replace,
        result: Ok(monitor_rows()),
    }));
    a
}

fn press(a: &mut App, code: KeyCode) -> Vec<Effect> {
    a.update(Msg::Terminal(Event::Key(KeyEvent::new(
        code,
        KeyModifiers::NONE,
    ))))
}

fn typed(a: &mut App, text: &str) -> Vec<Effect> {
    let mut fx = Vec::new();
    for c in text.chars() {
        fx = key(a, c);
    }
    fx
}

/// The redemption list an effect asks for.
fn list_request(fx: &[Effect]) -> Option<Scope> {
    fx.iter().find_map(|e| match e.pane() {
        Some(redemptions::Effect::Redemptions { scope, .. }) => Some(scope.clone()),
        _ => None,
    })
}

fn answer_list(a: &mut App, rows: Vec<RedemptionRow>) {
    let tag = a.panes.redemptions.list.tag;
    a.update(Msg::from(redemptions::Msg::Redemptions {
        tag,
        mode: LoadMode::Replace,
        result: Ok(rows),
    }));
}

/// Enter on the first deal, its rows loaded.
fn deal_list() -> App {
    let mut a = support();
    let fx = a.perform(Action::Open);
    assert!(matches!(
        list_request(&fx),
        Some(Scope::Deal {
            id: 93,
            from: None,
            to: None,
            ..
        })
    ));
    answer_list(&mut a, deal_rows());
    a
}

fn screen(a: &mut App, w: u16, h: u16) -> String {
    render(a, w, h)
}

#[test]
fn member_history_keeps_the_deals_time_range() {
    let mut a = deal_list();
    a.perform(Action::Filter);
    let fx = typed(&mut a, "from:2026-11-29 to:2026-11-30");
    press(&mut a, KeyCode::Enter);
    // `to:` of a day takes that whole day (item 8).
    let (from, to) = (
        Some(t(29, 0, 0, 0)),
        Some(t(30, 0, 0, 0) + chrono::TimeDelta::days(1)),
    );
    assert_eq!(
        list_request(&fx).unwrap(),
        Scope::Deal {
            id: 93,
            title: "Launch week: 20% off every print book".into(),
            from,
            to
        }
    );
    answer_list(&mut a, deal_rows());
    let fx = a.perform(Action::MemberHistory);
    assert_eq!(
        list_request(&fx).unwrap(),
        Scope::Member {
            id: 17,
            handle: "pat".into(),
            from,
            to
        },
        "the history keeps the range its title names"
    );
    let rows = deal_rows()
        .into_iter()
        .filter(|r| r.member_id == 17)
        .collect();
    answer_list(&mut a, rows);
    for (w, h) in [(80, 24), (120, 40)] {
        insta::assert_snapshot!(
            format!("redemptions_member_history_{w}x{h}"),
            screen(&mut a, w, h)
        );
    }
    // Esc goes back to the deal, in its range, with its filter text.
    let fx = a.perform(Action::Back);
    assert!(
        matches!(list_request(&fx), Some(Scope::Deal { id: 93, from: f, to: t2, .. }) if f == from && t2 == to)
    );
    assert_eq!(
        a.panes.redemptions.filter_text,
        "from:2026-11-29 to:2026-11-30"
    );
    a.perform(Action::Back);
    assert_eq!(a.panes.redemptions.view, View::Monitor);
}

#[test]
fn rows_show_their_id_and_seconds_and_the_export_says_its_order() {
    let mut a = deal_list();
    for (w, h) in [(80, 24), (120, 40)] {
        insta::assert_snapshot!(
            format!("redemptions_deal_list_{w}x{h}"),
            screen(&mut a, w, h)
        );
    }
    let s = screen(&mut a, 120, 40);
    assert!(
        s.contains("#5004") && s.contains("2026-11-30 18:04:51"),
        "{s}"
    );
    a.update(Msg::from(redemptions::Msg::ExportDone {
        path: "redemptions-deal-93.csv".into(),
        result: Ok(partnerdesk::service::export::ExportReport {
            rows: 3,
            bytes: 410,
        }),
    }));
    let toast = &a.toasts.last().unwrap().text;
    assert!(toast.contains("oldest first"), "{toast}");
}

#[test]
fn an_empty_range_says_so() {
    let mut a = deal_list();
    a.perform(Action::Filter);
    typed(&mut a, "from:2027-01-01");
    press(&mut a, KeyCode::Enter);
    answer_list(&mut a, Vec::new());
    let s = screen(&mut a, 80, 24);
    assert!(
        s.contains("no redemptions in this time range (/ changes it)"),
        "{s}"
    );
    assert!(s.contains("from 2027-01-01"), "{s}");
}

#[test]
fn a_bad_filter_word_says_so_and_leaves_nothing_looking_filtered() {
    let mut a = deal_list();
    a.perform(Action::Filter);
    let fx = typed(&mut a, "from:yesterday");
    assert!(
        list_request(&fx).is_none(),
        "nothing is asked with a filter that does not read"
    );
    // A page of an earlier request arrives late: it is dropped.
    let stale = a.panes.redemptions.list.tag - 1;
    a.update(Msg::from(redemptions::Msg::Redemptions {
        tag: stale,
        mode: LoadMode::Replace,
        result: Ok(deal_rows()),
    }));
    assert!(a.panes.redemptions.list.rows.is_empty());
    for (w, h) in [(80, 24), (120, 40)] {
        insta::assert_snapshot!(
            format!("redemptions_bad_filter_{w}x{h}"),
            screen(&mut a, w, h)
        );
    }
    let s = screen(&mut a, 120, 40);
    assert!(
        s.contains("from: a date like 2026-11-21, not 'yesterday'"),
        "{s}"
    );
    // Export refuses rather than exporting the old range.
    press(&mut a, KeyCode::Enter);
    assert!(a.perform(Action::Export).is_empty());
    // Esc on a new edit restores the text before it; fixing it loads again.
    a.perform(Action::Filter);
    for _ in 0.."yesterday".len() {
        press(&mut a, KeyCode::Backspace);
    }
    let fx = typed(&mut a, "2026-11-30");
    assert!(matches!(
        list_request(&fx),
        Some(Scope::Deal { from: Some(_), .. })
    ));
    assert_eq!(a.panes.redemptions.filter_error, None);
}

#[test]
fn a_mistyped_flag_note_keeps_the_prompt_open() {
    let mut a = deal_list();
    a.perform(Action::Flag);
    for _ in 0.."fraud: ".len() {
        press(&mut a, KeyCode::Backspace);
    }
    typed(&mut a, "code shared on a forum");
    let fx = press(&mut a, KeyCode::Enter);
    assert!(fx.is_empty());
    let Overlay::Prompt(p) = &a.overlay else {
        panic!("the prompt stays open");
    };
    assert_eq!(p.input, "code shared on a forum", "the text is kept");
    assert!(p.error.as_deref().unwrap().starts_with("start with fraud:"));
    for (w, h) in [(80, 24), (120, 40)] {
        insta::assert_snapshot!(
            format!("redemptions_flag_reask_{w}x{h}"),
            screen(&mut a, w, h)
        );
    }
    // Fixed, it is taken.
    for _ in 0.."code shared on a forum".len() {
        press(&mut a, KeyCode::Backspace);
    }
    typed(&mut a, "fraud: code shared on a forum");
    let fx = press(&mut a, KeyCode::Enter);
    assert!(matches!(a.overlay, Overlay::None));
    assert!(matches!(
        &fx.iter().map(|e| e.pane()).collect::<Vec<_>>()[..],
        [Some(redemptions::Effect::Flag { id: 5004, kind: FlagKind::Fraud, note })]
            if note == "code shared on a forum"
    ));
    // An empty reason for resolving a flag is asked again too.
    a.perform(Action::Down);
    a.perform(Action::Unflag);
    press(&mut a, KeyCode::Enter);
    assert!(
        matches!(&a.overlay, Overlay::Prompt(p) if p.error.as_deref() == Some("reason: required"))
    );
}

fn signals() -> Signals {
    Signals {
        bursts: vec![Burst {
            member_id: 17,
            handle: "pat".into(),
            redemptions: 6,
            first_at: t(29, 9, 1, 0),
            last_at: t(29, 9, 8, 0),
            deals: vec![92, 93],
        }],
        quick_caps: vec![QuickCap {
            deal_id: 92,
            title: "Free espresso with any bag of beans".into(),
            redemption_cap: 50,
            published_at: t(28, 9, 0, 0),
            exhausted_at: t(28, 9, 12, 0),
        }],
        low_conversions: vec![LowConversion {
            deal_id: 88,
            title: "Bike insurance quote".into(),
            clicks: 300,
            confirmed: Some(4),
        }],
    }
}

#[test]
fn signals_have_a_cursor_and_open_what_is_behind_them() {
    let mut a = support();
    a.perform(Action::Signals);
    let tag = a.panes.redemptions.signals.req.tag;
    a.update(Msg::from(redemptions::Msg::Signals {
        tag,
        result: Ok(signals()),
    }));
    a.perform(Action::Down);
    for (w, h) in [(80, 24), (120, 40)] {
        insta::assert_snapshot!(format!("redemptions_signals_{w}x{h}"), screen(&mut a, w, h));
    }
    // A quick cap opens the deal's redemptions; Esc comes back to the signals.
    let fx = a.perform(Action::Open);
    assert!(matches!(
        list_request(&fx),
        Some(Scope::Deal { id: 92, .. })
    ));
    a.perform(Action::Back);
    assert_eq!(a.panes.redemptions.view, View::Signals);
    // A burst opens the member's history; a low conversion the deal.
    a.perform(Action::Up);
    let fx = a.perform(Action::Open);
    assert!(matches!(
        list_request(&fx),
        Some(Scope::Member { id: 17, .. })
    ));
    a.perform(Action::Back);
    a.perform(Action::Bottom);
    let fx = a.perform(Action::Open);
    assert!(matches!(
        list_request(&fx),
        Some(Scope::Deal { id: 88, .. })
    ));
}

/// The monitor query an effect asks for.
fn monitor_request(fx: &[Effect]) -> Option<(String, Option<i64>, LoadMode)> {
    fx.iter().find_map(|e| match e.pane() {
        Some(redemptions::Effect::Monitor {
            filter,
            before,
            mode,
            ..
        }) => Some((filter.text.clone(), *before, *mode)),
        _ => None,
    })
}

#[test]
fn the_monitor_finds_and_sorts() {
    let mut a = support();
    a.perform(Action::Filter);
    let fx = typed(&mut a, "aster");
    assert_eq!(
        monitor_request(&fx),
        Some(("aster".into(), None, LoadMode::Replace))
    );
    press(&mut a, KeyCode::Esc);
    let tag = a.panes.redemptions.monitor.tag;
    a.update(Msg::from(redemptions::Msg::Monitor {
        tag,
        mode: LoadMode::Replace,
        result: Ok(monitor_rows()),
    }));
    let titles = |a: &App| {
        a.panes
            .redemptions
            .monitor
            .rows
            .iter()
            .map(|r| r.id)
            .collect::<Vec<_>>()
    };
    a.perform(Action::Down); // deal 92 selected
    a.perform(Action::Sort);
    assert_eq!(titles(&a), [90, 93, 92], "by count");
    assert_eq!(
        a.panes.redemptions.selected_row().unwrap().id,
        92,
        "the selection follows its deal"
    );
    a.perform(Action::Sort);
    assert_eq!(titles(&a), [90, 93, 92], "by the last hour");
    a.perform(Action::Sort);
    assert_eq!(titles(&a), [90, 92, 93], "by title");
    for (w, h) in [(80, 24), (120, 40)] {
        insta::assert_snapshot!(
            format!("redemptions_monitor_by_title_{w}x{h}"),
            screen(&mut a, w, h)
        );
    }
    a.perform(Action::Sort);
    assert_eq!(titles(&a), [93, 92, 90], "newest first again");
}

#[test]
fn sorted_the_monitor_loads_the_rest_of_the_active_set_after_the_oldest_deal() {
    let mut a = app(false, &[Role::Support]);
    a.perform(Action::PaneRedemptions);
    // A full page, newest first: more active deals are to come.
    let page: Vec<MonitorRow> = (0..100)
        .map(|i| {
            let mut r = monitor_rows()[0].clone();
            r.id = 1000 - i;
            r.redemption_count = i as i32;
            r
        })
        .collect();
    let tag = a.panes.redemptions.monitor.tag;
    a.update(Msg::from(redemptions::Msg::Monitor {
        tag,
        mode: LoadMode::Replace,
        result: Ok(page),
    }));
    assert!(!a.panes.redemptions.monitor.at_end);
    // Sorted by count, the rows on screen are no longer in the server's order: the next page
    // still continues after the oldest deal loaded.
    let fx = a.perform(Action::Sort);
    assert_eq!(a.panes.redemptions.monitor.rows[0].id, 901);
    let (_, before, mode) = monitor_request(&fx).expect("the rest of the active set");
    assert_eq!((before, mode), (Some(901), LoadMode::Append));
}

#[test]
fn the_monitor_stays_right_by_itself() {
    let mut a = support();
    let bars = |a: &mut App| {
        let s = screen(a, 120, 40);
        s.lines()
            .find(|l| l.contains("Launch week"))
            .unwrap()
            .trim_end_matches('│')
            .to_owned()
    };
    let before = bars(&mut a);
    assert!(before.ends_with('█'), "{before}");
    // Two minutes pass: the bars move two to the left, this minute is empty.
    a.update(Msg::Notice(Notice::Minute {
        now: loaded_at() + chrono::TimeDelta::seconds(125),
    }));
    let row = &a.panes.redemptions.monitor.rows[0];
    assert_eq!((row.per_minute[57], row.per_minute[59]), (3, 0));
    assert_eq!(row.per_minute[28], 1);
    let after = bars(&mut a);
    assert_ne!(before, after);
    // A deal paused elsewhere leaves; one activated elsewhere is fetched, then shown.
    a.perform(Action::Down);
    a.update(Msg::Notice(Notice::DealState {
        deal_id: 93,
        active: false,
    }));
    assert_eq!(a.panes.redemptions.monitor.rows.len(), 2);
    assert_eq!(a.panes.redemptions.selected_row().unwrap().id, 92);
    let fx = a.update(Msg::Notice(Notice::DealState {
        deal_id: 95,
        active: true,
    }));
    assert!(matches!(
        &fx.iter().map(|e| e.pane()).collect::<Vec<_>>()[..],
        [Some(redemptions::Effect::MonitorDeal { deal_id: 95, .. })]
    ));
    let mut new = monitor_rows()[0].clone();
    new.id = 95;
    new.title = "Spring sale".into();
    a.update(Msg::from(redemptions::Msg::MonitorDeal {
        deal_id: 95,
        result: Ok(vec![new]),
    }));
    let ids: Vec<i64> = a
        .panes
        .redemptions
        .monitor
        .rows
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, [95, 92, 90]);
    assert!(screen(&mut a, 120, 40).contains("3 active deals"));
}

#[test]
fn esc_after_a_bad_filter_restores_the_last_good_one_and_stays_on_the_deal() {
    let mut a = deal_list();
    a.perform(Action::Filter);
    typed(&mut a, "from:2026-11-29");
    press(&mut a, KeyCode::Enter);
    answer_list(&mut a, deal_rows());
    // A second filter that does not read, kept with Enter.
    a.perform(Action::Filter);
    for _ in 0.."2026-11-29".len() {
        press(&mut a, KeyCode::Backspace);
    }
    typed(&mut a, "yesterday");
    press(&mut a, KeyCode::Enter);
    assert!(a.panes.redemptions.filter_error.is_some());
    // Esc: the deal's list again, with the filter that read.
    let fx = press(&mut a, KeyCode::Esc);
    assert!(
        matches!(
            list_request(&fx),
            Some(Scope::Deal { id: 93, from: Some(f), to: None, .. }) if f == t(29, 0, 0, 0)
        ),
        "{fx:?}"
    );
    assert_eq!(a.panes.redemptions.filter_text, "from:2026-11-29");
    assert_eq!(a.panes.redemptions.filter_error, None);
    assert!(matches!(
        a.panes.redemptions.view,
        View::List(Scope::Deal { .. })
    ));
    // Then Esc goes back, as before.
    press(&mut a, KeyCode::Esc);
    assert_eq!(a.panes.redemptions.view, View::Monitor);
}

#[test]
fn a_members_history_exports_the_members_redemptions() {
    let mut a = deal_list();
    let fx = a.perform(Action::MemberHistory);
    assert!(matches!(
        list_request(&fx),
        Some(Scope::Member { id: 17, .. })
    ));
    answer_list(
        &mut a,
        deal_rows()
            .into_iter()
            .filter(|r| r.member_id == 17)
            .collect(),
    );
    // The footer offers it, and it does it.
    let s = screen(&mut a, 120, 40);
    assert!(s.contains("export"), "{s}");
    let fx = a.perform(Action::Export);
    let export = fx.iter().find_map(|e| match e.pane() {
        Some(redemptions::Effect::Export { filter, path, .. }) => Some((*filter, path.clone())),
        _ => None,
    });
    let (filter, path) = export.expect("an export");
    assert_eq!(
        filter,
        partnerdesk::service::export::ExportFilter::member(17)
    );
    assert!(path.starts_with("redemptions-member-17-"), "{path}");
}

#[test]
fn the_order_value_shows_in_the_list_and_the_popup() {
    let mut a = deal_list();
    let s = screen(&mut a, 80, 24);
    assert!(s.contains("129.50 EUR") && s.contains("4980 JPY"), "{s}");
    let line = s.lines().find(|l| l.contains("#5002")).unwrap();
    assert!(line.contains('—'), "no value reported: {line}");
    let id = a.panes.redemptions.list.rows[0].id;
    a.update(Msg::from(redemptions::Msg::Timeline {
        id,
        result: Ok(Vec::new()),
    }));
    let s = screen(&mut a, 80, 24);
    assert!(s.contains("order value 129.50 EUR"), "{s}");
}

#[test]
fn dollar_refunds_the_selected_redemption_with_a_reason() {
    let mut a = deal_list();
    key(&mut a, '$');
    let Overlay::Prompt(p) = &a.overlay else {
        panic!("a prompt for the reason:\n{}", screen(&mut a, 120, 40));
    };
    assert_eq!(p.title, "Refund redemption #5004 (129.50 EUR)");
    // An empty reason is asked again; a reason is taken.
    press(&mut a, KeyCode::Enter);
    assert!(
        matches!(&a.overlay, Overlay::Prompt(p) if p.error.as_deref() == Some("reason: required"))
    );
    typed(&mut a, "order returned");
    let fx = press(&mut a, KeyCode::Enter);
    assert!(matches!(a.overlay, Overlay::None));
    assert!(matches!(
        &fx.iter().map(|e| e.pane()).collect::<Vec<_>>()[..],
        [Some(redemptions::Effect::Refund { id: 5004, reason })]
            if reason == "order returned"
    ));
    // The help lists it under the pane's keys.
    a.perform(Action::Help);
    assert!(screen(&mut a, 120, 40).contains("refund the redemption"));
}
