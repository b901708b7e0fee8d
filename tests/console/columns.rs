//! A list's columns chosen, ordered and sized in the config file (`[columns.PANE]`).

use super::{app, both_sizes, deals_app, render};
use chrono::{NaiveDate, TimeZone, Utc};
use partnerdesk::config::{ColumnConfig, Config};
use partnerdesk::console::action::Action;
use partnerdesk::console::msg::{LoadMode, Msg};
use partnerdesk::console::panes::settlements;
use partnerdesk::console::view;
use partnerdesk::domain::Role;
use partnerdesk::domain::settlement::SettlementStatus;
use partnerdesk::service::rows::{Settlement, SettlementRow};

fn chosen() -> partnerdesk::console::app::App {
    let mut a = deals_app();
    a.shell.columns.insert(
        "deals".into(),
        ColumnConfig {
            show: Some(
                ["id", "title", "partner", "state", "redeemed"]
                    .map(String::from)
                    .to_vec(),
            ),
            width: [("title".to_owned(), 12)].into(),
        },
    );
    a
}

#[test]
fn the_config_chooses_orders_and_sizes_a_lists_columns() {
    both_sizes("deals_columns_chosen", chosen);
    let mut a = chosen();
    let s = render(&mut a, 120, 40);
    let header = s.lines().find(|l| l.contains("Title")).unwrap();
    // In the order given, the title cut at 12, and nothing else (no Kind, no Window).
    assert!(
        header
            .trim_start_matches('│')
            .trim_start()
            .starts_with("ID"),
        "{header}"
    );
    assert!(
        !header.contains("Kind") && !header.contains("Window"),
        "{header}"
    );
    assert!(s.contains("Spring sale…"), "{s}");
}

/// Three statements of one partner: one in review with the partner's tally a redemption
/// short, one approved in a payout batch, one draft with exceptions.
fn settlement_rows() -> Vec<SettlementRow> {
    let at = |m: u32, d: u32| Utc.with_ymd_and_hms(2026, m, d, 9, 0, 0).unwrap();
    let statement = |id: i64, month: u32, status: SettlementStatus| Settlement {
        id,
        agreement_id: 4,
        partner_id: 2,
        period_start: NaiveDate::from_ymd_opt(2026, month, 1).unwrap(),
        period_end: NaiveDate::from_ymd_opt(2026, month + 1, 1).unwrap(),
        currency: "EUR".into(),
        status,
        line_count: 40 + id as i32,
        redemption_count: 40 + id as i32,
        exception_count: 0,
        commission_minor: 12_000 + id * 100,
        payouts_minor: 1_500,
        take_minor: 600,
        net_minor: 9_900 + id * 100,
        computed_at: at(month + 1, 2),
        computed_by: "fay".into(),
        review_deadline: None,
        review_note: None,
        approved_at: None,
        approved_by: None,
        dispute_reason: None,
        paid_on: None,
        payment_reference: None,
        tally_count: None,
        tally_amount_minor: None,
        tally_by: None,
        tally_at: None,
        updated_at: at(month + 1, 2),
        updated_by: "fay".into(),
        version: 1,
    };
    let row = |s: Settlement| SettlementRow {
        settlement: s,
        partner_name: "Bluebird Travel".into(),
        agreement_version: 3,
        frequency: "monthly".into(),
        model: "percentage".into(),
        take_rate_bps: 500,
        batch_id: None,
        batch_status: None,
        carried_since: None,
        carried_minor: None,
        minimum_minor: None,
    };
    let mut review = row(statement(13, 9, SettlementStatus::InReview));
    review.settlement.review_deadline = Some(at(10, 8));
    review.settlement.tally_count = Some(52);
    review.settlement.tally_amount_minor = Some(13_200);
    let mut approved = row(statement(12, 8, SettlementStatus::Approved));
    approved.batch_id = Some(5);
    approved.batch_status = Some("open".into());
    let mut draft = row(statement(11, 7, SettlementStatus::Draft));
    draft.settlement.exception_count = 2;
    vec![review, approved, draft]
}

fn settlements_chosen() -> partnerdesk::console::app::App {
    let mut a = app(false, &[Role::Finance]);
    a.perform(Action::PaneSettlements);
    let tag = a.panes.settlements.list.tag;
    a.update(Msg::from(settlements::Msg::Page {
        tag,
        mode: LoadMode::Replace,
        result: Ok(settlement_rows()),
    }));
    a.shell.columns.insert(
        "settlements".into(),
        ColumnConfig {
            show: Some(
                [
                    "period",
                    "id",
                    "partner",
                    "redemptions",
                    "net",
                    "tally",
                    "review_by",
                ]
                .map(String::from)
                .to_vec(),
            ),
            width: [("partner".to_owned(), 9)].into(),
        },
    );
    a
}

#[test]
fn the_config_chooses_the_settlements_lists_columns() {
    view::pin_now(Some(Utc.with_ymd_and_hms(2026, 10, 5, 12, 0, 0).unwrap()));
    both_sizes("settlements_columns_chosen", settlements_chosen);
    let mut a = settlements_chosen();
    for w in [80, 120] {
        let s = render(&mut a, w, 40);
        let header = s.lines().find(|l| l.contains("Period")).unwrap();
        // In the order given, whatever the width: the period first, the short tally and the
        // long review date side by side, no status, no lines, no commission.
        assert!(
            header
                .trim_start_matches('│')
                .trim_start()
                .starts_with("Period"),
            "{header}"
        );
        assert!(
            header.contains("Tally") && header.contains("Review by"),
            "{header}"
        );
        assert!(
            !header.contains("Status")
                && !header.contains("Lines")
                && !header.contains("Commission"),
            "{header}"
        );
        let row = s.lines().find(|l| l.contains("2026-09")).unwrap();
        assert!(row.contains("Bluebird…"), "{row}");
        assert!(row.contains("differs"), "{row}");
        assert!(row.contains("2026-10-08 (2 days left)"), "{row}");
    }
    view::pin_now(None);
}

#[test]
fn an_unknown_column_or_list_is_reported_with_file_and_line_and_left_out() {
    let dir = std::env::temp_dir().join(format!("pd-columns-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("config.toml");
    let text = "footer = true\n\n[columns.deals]\nshow = [\"id\", \"titel\"]\n\n[columns.nowhere]\nshow = [\"id\"]\n\n[columns.partners]\nshow = [\"name\", \"id\"]\n";
    std::fs::write(&path, text).unwrap();
    let mut config = Config::load(&path).unwrap();
    let problems = config.column_problems(&path, |pane| match pane {
        "deals" => Some(vec!["id", "title"]),
        "partners" => Some(vec!["name", "id"]),
        _ => None,
    });
    let file = path.display().to_string();
    assert_eq!(
        problems,
        vec![
            format!(
                "{file}:4: [columns.deals]: unknown column \"titel\" (the columns are id, title)"
            ),
            format!("{file}:6: [columns.nowhere]: no such list"),
        ]
    );
    // The bad sections are left out; the good one counts.
    assert_eq!(config.columns.keys().collect::<Vec<_>>(), vec!["partners"]);
    std::fs::remove_dir_all(&dir).ok();
}
