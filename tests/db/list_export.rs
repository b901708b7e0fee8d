//! `x` on the Deals and Negotiations lists against PostgreSQL: every row the filter matches
//! (more than a page of the server's), in the list's order and its visible columns, formulas
//! defused, and a file that exists never overwritten.

use super::common::{TestDb, verified_partner};
use partnerdesk::console::action::Action;
use partnerdesk::console::app::{App, Overlay, Session};
use partnerdesk::console::keymap::Keymap;
use partnerdesk::console::msg::{Effect, Msg, TaskCtx};
use partnerdesk::console::pane::Pane;
use partnerdesk::console::runtime::execute;
use partnerdesk::console::theme::Theme;
use partnerdesk::service::Desk;

/// Runs the effects (and what their answers ask for) until nothing is left.
async fn drive(app: &mut App, desk: &Desk, mut effects: Vec<Effect>) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Msg>();
    let ctx = TaskCtx {
        tx,
        vetting: Default::default(),
        thresholds: Default::default(),
    };
    let mut rounds = 0;
    while !effects.is_empty() && rounds < 50 {
        rounds += 1;
        let mut next = Vec::new();
        for fx in effects.drain(..) {
            if let Some(msg) = execute(desk.clone(), fx, ctx.clone()).await {
                while let Ok(m) = rx.try_recv() {
                    next.extend(app.update(m));
                }
                next.extend(app.update(msg));
            }
        }
        effects = next;
    }
}

/// A 120×40 console of `desk`'s operator, connected and its first pane loaded.
async fn connected_app(desk: &Desk) -> App {
    let session = Session {
        operator: desk.actor().login.clone(),
        roles: "admin".into(),
        registered: true,
        read_only: false,
        database: "test".into(),
    };
    let mut app = App::new(
        Keymap::builtin(),
        Theme::builtin("default").unwrap(),
        session,
    );
    app.shell.size = Some((120, 40));
    let fx = app.update(Msg::Connected(desk.clone()));
    drive(&mut app, desk, fx).await;
    app
}

fn enter(app: &mut App, path: &str) -> Vec<Effect> {
    if let Overlay::Prompt(p) = &mut app.shell.overlay {
        p.input = path.to_owned();
    } else {
        panic!("x asks where to write");
    }
    app.update(Msg::Terminal(crossterm::event::Event::Key(
        crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::Enter,
            crossterm::event::KeyModifiers::NONE,
        ),
    )))
}

fn toasts(app: &App) -> String {
    app.shell
        .toasts
        .iter()
        .map(|t| t.text.clone())
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn x_writes_every_deal_the_filter_matches_in_the_lists_order_and_columns() {
    let db = TestDb::new().await;
    let ada = db.admin().await;
    let partner = verified_partner(&ada, "Aster Books", "aster.example").await;
    sqlx::query(
        "INSERT INTO deals (partner_id, title, kind, redemption_url, audience_scope,
                            valid_from, valid_until, created_by, updated_by)
         SELECT $1, CASE WHEN g = 7 THEN '=HYPERLINK(\"x\") export' ELSE 'Export ' || g END,
                'link', 'https://x.example/' || g, 'public', now(), now() + interval '30 days',
                'ada', 'ada'
           FROM generate_series(1, 1250) g
         UNION ALL
         SELECT $1, 'Unrelated ' || g, 'link', 'https://y.example/' || g, 'public', now(),
                now() + interval '30 days', 'ada', 'ada'
           FROM generate_series(1, 5) g",
    )
    .bind(partner.id)
    .execute(&db.pool)
    .await
    .unwrap();
    let mut app = connected_app(&ada).await;
    let fx = app.perform(Action::PaneDeals);
    drive(&mut app, &ada, fx).await;
    let fx = app.panes.deals.filter_changed(&mut app.shell, "export");
    drive(&mut app, &ada, fx).await;
    assert_eq!(app.panes.deals.list.rows.len(), 100, "one page loaded");

    let dir = std::env::temp_dir().join(format!("pd-list-export-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("deals.csv");
    app.perform(Action::Export);
    let fx = enter(&mut app, &path.display().to_string());
    assert!(matches!(&fx[..], [Effect::ExportList { .. }]), "{fx:?}");
    drive(&mut app, &ada, fx).await;
    assert!(
        toasts(&app).contains(&format!("wrote 1250 deals to {}", path.display())),
        "{}",
        toasts(&app)
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("title,partner,kind,audience,state,redeemed,window,id")
    );
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<csv::StringRecord> = r.records().map(|r| r.unwrap()).collect();
    let ids: Vec<i64> = rows.iter().map(|r| r[7].parse().unwrap()).collect();
    let want: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM deals WHERE title ILIKE '%export%' ORDER BY created_at DESC, id DESC",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(ids, want, "every match, in the list's order");
    let formula = rows.iter().find(|r| r[0].contains("HYPERLINK")).unwrap();
    assert!(formula[0].starts_with("'="), "{:?}", formula);
    assert_eq!(&rows[0][1], "Aster Books");
    assert_eq!(&rows[0][4], "draft");

    // A file that exists is never overwritten.
    app.perform(Action::Export);
    let fx = enter(&mut app, &path.display().to_string());
    drive(&mut app, &ada, fx).await;
    assert!(
        toasts(&app).contains("it already exists"),
        "{}",
        toasts(&app)
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn x_writes_every_negotiation_the_filter_matches_in_the_lists_order_and_columns() {
    let db = TestDb::new().await;
    let ada = db.admin().await;
    let partner = verified_partner(&ada, "Aster Books", "aster.example").await;
    // More threads than a page of the export's, many last active at the same minute (the
    // order's ties fall to the id across pages), and a few the filter leaves out.
    sqlx::query(
        "INSERT INTO negotiation_threads (partner_id, subject, deadline, opened_side,
                                          created_by, updated_at, updated_by)
         SELECT $1, CASE WHEN g = 7 THEN '=HYPERLINK(\"x\") export' ELSE 'Export ' || g END,
                now() + interval '14 days', 'marketplace', 'ada',
                now() - (g % 300) * interval '1 minute', 'ada'
           FROM generate_series(1, 1250) g
         UNION ALL
         SELECT $1, 'Unrelated ' || g, now() + interval '14 days', 'partner', 'ada', now(), 'ada'
           FROM generate_series(1, 5) g",
    )
    .bind(partner.id)
    .execute(&db.pool)
    .await
    .unwrap();
    let mut app = connected_app(&ada).await;
    let fx = app.perform(Action::PaneNegotiations);
    drive(&mut app, &ada, fx).await;
    let fx = app
        .panes
        .negotiations
        .filter_changed(&mut app.shell, "export");
    drive(&mut app, &ada, fx).await;
    assert_eq!(
        app.panes.negotiations.list.rows.len(),
        100,
        "one page loaded"
    );

    let dir = std::env::temp_dir().join(format!("pd-list-export-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("negotiations.csv");
    app.perform(Action::Export);
    let fx = enter(&mut app, &path.display().to_string());
    assert!(matches!(&fx[..], [Effect::ExportList { .. }]), "{fx:?}");
    drive(&mut app, &ada, fx).await;
    assert!(
        toasts(&app).contains(&format!("wrote 1250 negotiations to {}", path.display())),
        "{}",
        toasts(&app)
    );
    let text = std::fs::read_to_string(&path).unwrap();
    // The columns shown below 140 columns: no last activity.
    assert_eq!(
        text.lines().next(),
        Some("id,subject,partner,status,latest,turn,deadline")
    );
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<csv::StringRecord> = r.records().map(|r| r.unwrap()).collect();
    let ids: Vec<i64> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    let want: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM negotiation_threads WHERE subject ILIKE '%export%'
          ORDER BY updated_at DESC, id DESC",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(want.len(), 1250);
    assert_eq!(ids, want, "every match, in the list's order");
    let formula = rows.iter().find(|r| r[1].contains("HYPERLINK")).unwrap();
    assert!(formula[1].starts_with("'="), "{:?}", formula);
    assert_eq!(&rows[0][2], "Aster Books");
    assert_eq!(&rows[0][3], "pending");
    assert_eq!(&rows[0][4], "no offer");
    assert_eq!(&rows[0][5], "marketplace");
    std::fs::remove_dir_all(&dir).ok();
}
