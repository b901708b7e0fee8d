//! Changes made anywhere reach the console panes that show them, by notification (the audit
//! log's trigger), not by polling.

use crate::common::*;
use partnerdesk::console::action::Action;
use partnerdesk::console::app::{App, ConnState, Session};
use partnerdesk::console::msg::{Changed, Effect, LoadMode, Msg, Notice};
use partnerdesk::console::panes::{audit, deals, partners};
use partnerdesk::domain::Role;
use std::time::Duration;

/// The next change notice from the listener.
async fn next_change(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Msg>) -> Msg {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("a change is announced")
            .unwrap();
        if matches!(msg, Msg::Notice(Notice::Changed(_))) {
            return msg;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_elsewhere_reloads_the_panes_that_show_it() {
    let db = TestDb::new().await;
    let desk = db.curator().await;
    let partner = verified_partner(&desk, "Aster Books", "aster-books.com").await;

    let session = Session {
        operator: "cara".into(),
        roles: "curator".into(),
        registered: true,
        read_only: false,
        database: "test".into(),
    };
    let mut app = App::new(
        partnerdesk::console::keymap::Keymap::builtin(),
        partnerdesk::console::theme::Theme::builtin("default").unwrap(),
        session,
    );
    app.actor = Some(desk.actor().clone());
    app.conn = ConnState::Connected;
    let rows = desk.list_partners(&Default::default(), 100).await.unwrap();
    let tag = app.panes.partners.list.tag;
    app.update(Msg::from(partners::Msg::Page {
        tag,
        mode: LoadMode::Replace,
        result: Ok(rows),
    }));
    app.perform(Action::PaneAudit);
    let tag = app.panes.audit.list.tag;
    let entries = desk.audit(&Default::default(), 100).await.unwrap();
    app.update(Msg::from(audit::Msg::Page {
        tag,
        mode: LoadMode::Replace,
        result: Ok(entries),
    }));

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    partnerdesk::console::runtime::spawn_listener(desk.clone(), tx);
    tokio::time::sleep(Duration::from_millis(300)).await; // LISTEN is in place

    // Another session authors a deal: the partner's deal count and the audit log changed.
    let other = db.desk("dan", &[Role::Curator]).await;
    other
        .create_deal(&coupon_draft(partner.id, "ELSEWHERE"))
        .await
        .unwrap();
    let msg = next_change(&mut rx).await;
    assert!(
        matches!(msg, Msg::Notice(Notice::Changed(Changed::Deal))),
        "{msg:?}"
    );
    let fx = app.update(msg);
    let reloads = |fx: &[Effect]| -> Vec<&'static str> {
        fx.iter()
            .filter_map(|e| {
                if let Some(partners::Effect::Load { .. }) = e.pane() {
                    Some("partners")
                } else if let Some(deals::Effect::Load { .. }) = e.pane() {
                    Some("deals")
                } else if let Some(audit::Effect::Load { .. }) = e.pane() {
                    Some("audit")
                } else {
                    None
                }
            })
            .collect()
    };
    // The Partners list (deal counts) and the Audit log reload; the Deals pane was never
    // opened, so it has nothing to reload.
    assert_eq!(reloads(&fx), ["partners", "audit"]);

    // A partner edited elsewhere announces a partner change.
    let p = other.get_partner(partner.id).await.unwrap();
    let mut draft = partner_draft("Aster Books & Co", "aster-books.com");
    draft.legal_name = p.legal_name.clone();
    other
        .update_partner(partner.id, p.version, &draft)
        .await
        .unwrap();
    let msg = next_change(&mut rx).await;
    assert!(
        matches!(msg, Msg::Notice(Notice::Changed(Changed::Partner))),
        "{msg:?}"
    );

    // Scrolled away from the top, a list is marked as changed rather than yanked back.
    app.panes.audit.list.at_start = false;
    let fx = app.update(Msg::Notice(Notice::Changed(Changed::Deal)));
    assert_eq!(reloads(&fx), ["partners"]);
    assert!(app.panes.audit.list.stale);
}
