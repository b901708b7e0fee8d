//! The pane shape's promises: the Audit filter reaches the query, every effect that meets a
//! lost connection starts the reconnect, and pane keymap sections.

use super::{curator, key};
use partnerdesk::console::action::Action;
use partnerdesk::console::keymap::{Key, Keymap};
use partnerdesk::console::msg::{Effect, LoadMode, Msg, TaskCtx};
use partnerdesk::console::panes::{audit, deals, partners, redemptions};
use partnerdesk::console::runtime;
use partnerdesk::domain::{FlagKind, Role};
use partnerdesk::service::rows::{AuditEntry, AuditFilter, ExportFilter};
use partnerdesk::service::{Actor, Desk};
use std::path::Path;

/// The audit query an effect asks for.
fn audit_filter(fx: &[Effect]) -> Option<(AuditFilter, LoadMode)> {
    fx.iter().find_map(|e| match e.pane() {
        Some(audit::Effect::Load { filter, mode, .. }) => Some((filter.clone(), *mode)),
        _ => None,
    })
}

fn entry(id: i64) -> AuditEntry {
    AuditEntry {
        id,
        at: chrono::Utc::now(),
        actor: "cara".into(),
        action: "partner.update".into(),
        entity_type: "partner".into(),
        entity_id: "12".into(),
        before: None,
        after: None,
        reason: None,
    }
}

#[test]
fn the_audit_filter_reaches_the_query_and_stays_on_the_next_page() {
    let mut a = curator();
    a.perform(Action::PaneAudit);
    a.perform(Action::Filter);
    let mut fx = Vec::new();
    // `to:` of a day is that whole day: up to the next day's 00:00 (exclusive).
    for c in "actor:cara entity:partner:12 from:2026-01-01 to:2026-01-31".chars() {
        fx = key(&mut a, c);
    }
    let (f, mode) = audit_filter(&fx).expect("typing the filter asks the server again");
    assert_eq!(mode, LoadMode::Replace);
    assert_eq!(f.actor.as_deref(), Some("cara"));
    assert_eq!(f.entity_type.as_deref(), Some("partner"));
    assert_eq!(f.entity_id.as_deref(), Some("12"));
    assert_eq!(f.from.unwrap().to_rfc3339(), "2026-01-01T00:00:00+00:00");
    assert_eq!(f.to.unwrap().to_rfc3339(), "2026-02-01T00:00:00+00:00");
    assert_eq!(f.before_id, None);

    // A full page arrives; moving near its end asks for the next one, still filtered.
    let tag = a.panes.audit.list.tag;
    a.update(Msg::from(audit::Msg::Page {
        tag,
        mode: LoadMode::Replace,
        result: Ok((0..100).rev().map(|i| entry(i + 1000)).collect()),
    }));
    let fx = a.perform(Action::PageDown);
    let fx = if audit_filter(&fx).is_some() {
        fx
    } else {
        a.perform(Action::Bottom)
    };
    let (f, mode) = audit_filter(&fx).expect("the next page is asked for");
    assert_eq!(mode, LoadMode::Append);
    assert_eq!(f.before_id, Some(1000));
    assert_eq!(f.actor.as_deref(), Some("cara"));
    assert_eq!(f.entity_id.as_deref(), Some("12"));
}

/// A desk whose database cannot be reached.
fn unreachable_desk() -> Desk {
    let options = sqlx::postgres::PgConnectOptions::new()
        .host("127.0.0.1")
        .port(9)
        .username("nobody")
        .database("nothing");
    let pool = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(std::time::Duration::from_millis(500))
        .connect_lazy_with(options);
    Desk::new(
        pool,
        Actor::operator("sam", &[Role::Support, Role::Curator, Role::Admin]),
    )
}

#[tokio::test]
async fn every_effect_that_meets_a_lost_connection_starts_the_reconnect() {
    let desk = unreachable_desk();
    let (_cancel, cancel) = tokio::sync::watch::channel(false);
    let dir = std::env::temp_dir().join(format!("pd-lost-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let effects: Vec<(&str, Effect)> = vec![
        (
            "partner detail",
            partners::Effect::LoadDetail { tag: 1, id: 1 }.into(),
        ),
        (
            "deal state",
            deals::Effect::LoadDetail { tag: 1, id: 1 }.into(),
        ),
        (
            "redemption timeline",
            redemptions::Effect::Timeline { id: 1 }.into(),
        ),
        (
            "flag",
            redemptions::Effect::Flag {
                id: 1,
                kind: FlagKind::Fraud,
                note: "shared".into(),
            }
            .into(),
        ),
        (
            "unflag",
            redemptions::Effect::Unflag {
                id: 1,
                reason: "fine".into(),
            }
            .into(),
        ),
        (
            "export",
            redemptions::Effect::Export {
                filter: ExportFilter::deal(1),
                path: dir.join("out.csv").display().to_string(),
                cancel,
            }
            .into(),
        ),
        (
            "audit",
            audit::Effect::Load {
                tag: 1,
                filter: AuditFilter::default(),
                limit: 10,
                mode: LoadMode::Replace,
            }
            .into(),
        ),
        ("expiry job", Effect::ExpiryJob),
    ];
    for (name, effect) in effects {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let ctx = TaskCtx {
            tx,
            vetting: Default::default(),
            thresholds: Default::default(),
        };
        let answer = runtime::execute(desk.clone(), effect, ctx).await;
        assert!(answer.is_some(), "{name}: an answer comes back");
        let mut lost = false;
        while let Ok(m) = rx.try_recv() {
            lost |= matches!(m, Msg::ConnectionLost);
        }
        assert!(lost, "{name}: a lost connection must start the reconnect");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_pane_section_binds_keys_on_that_pane_only() {
    let mut k = Keymap::builtin();
    k.merge_text(
        "[pane.deals]\nduplicate = [\"a\"]\nactivate = [\"A\"]\n",
        Path::new("user.toml"),
    )
    .unwrap();
    let a = Key::parse("a").unwrap();
    let ctx = partnerdesk::console::action::Context::List;
    assert_eq!(k.resolve_in(ctx, a, "deals"), Some(Action::Duplicate));
    assert_eq!(
        k.resolve_in(ctx, Key::parse("A").unwrap(), "deals"),
        Some(Action::Activate)
    );
    assert_eq!(k.keys_text_in(Action::Activate, "deals"), "A");
    // Elsewhere `a` is still what [list] says.
    assert_eq!(k.resolve_in(ctx, a, "redemptions"), Some(Action::Activate));
    assert_eq!(k.keys_text_in(Action::Activate, "redemptions"), "a");
    // On the pane, the help and the palette show the pane's keys.
    let mut app = curator();
    app.keymap = k;
    app.perform(Action::PaneDeals);
    assert_eq!(app.resolve(ctx, a), Some(Action::Duplicate));
}

#[test]
fn one_key_bound_twice_in_one_section_is_reported() {
    let mut k = Keymap::builtin();
    let e = k
        .merge_text("[list]\ndelete = [\"x\"]\n", Path::new("k.toml"))
        .unwrap_err();
    assert_eq!(
        e.0,
        "k.toml:2: key 'x' is bound to both 'export' and 'delete' in [list]"
    );
    let mut k = Keymap::builtin();
    let e = k
        .merge_text(
            "[pane.audit]\n\nopen = [\"o\"]\nback = [\"o\"]\n",
            Path::new("k.toml"),
        )
        .unwrap_err();
    assert_eq!(
        e.0,
        "k.toml:4: key 'o' is bound to both 'open' and 'back' in [pane.audit]"
    );
    let e = Keymap::builtin()
        .merge_text("[pane.nowhere]\nopen = \"o\"\n", Path::new("k.toml"))
        .unwrap_err();
    assert!(
        e.0.starts_with("k.toml:1: unknown pane in [pane.nowhere]"),
        "{}",
        e.0
    );
    // The same key in two sections is fine: a form and a list are different places.
    let mut k = Keymap::builtin();
    k.merge_text("[pane.partners]\ndelete = [\"x\"]\n", Path::new("k.toml"))
        .unwrap();
    // An existing keymap file without pane sections keeps working unchanged.
    let (k, err) = Keymap::load(None);
    assert!(err.is_none());
    assert_eq!(k, Keymap::builtin());
}

#[test]
fn a_section_with_a_mistake_keeps_its_defaults_and_the_rest_of_the_file_counts() {
    let dir = std::env::temp_dir().join(format!("pd-keymap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("keymap.toml");
    std::fs::write(
        &file,
        "[list]\ndelete = [\"X\"]\n\n[global]\nquit = []\nhelp = [\"h\"]\n",
    )
    .unwrap();
    let (k, err) = Keymap::load(Some(&file));
    let err = err.expect("the section without quit is reported").0;
    assert!(err.contains("no key is left for quit"), "{err}");
    // [list] counted; [global] kept its defaults whole (quit, and help too).
    assert_eq!(k.keys_text(Action::Delete), "X");
    assert_eq!(
        k.keys_text(Action::Quit),
        Keymap::builtin().keys_text(Action::Quit)
    );
    assert_eq!(
        k.keys_text(Action::Help),
        Keymap::builtin().keys_text(Action::Help)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
