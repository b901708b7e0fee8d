//! Issue 22 ("Daily use, round two"), items 15 and 17: the Partners filter reads `state:` and
//! says what it did not understand; the Audit pane filters by action and shows every entry's
//! entity id whole.

use super::{curator, key, render};
use partnerdesk::console::action::Action;
use partnerdesk::console::msg::{Effect, LoadMode, Msg};
use partnerdesk::console::panes::{audit, partners};
use partnerdesk::domain::VerificationState;
use partnerdesk::service::rows::{AuditEntry, AuditFilter, PartnerFilter};

fn partner_filter(fx: &[Effect]) -> Option<PartnerFilter> {
    fx.iter().find_map(|e| match e.pane() {
        Some(partners::Effect::Load { filter, .. }) => Some(filter.clone()),
        _ => None,
    })
}

fn typed(a: &mut partnerdesk::console::app::App, text: &str) -> Vec<Effect> {
    let mut fx = Vec::new();
    for c in text.chars() {
        fx = key(a, c);
    }
    fx
}

#[test]
fn the_partners_filter_takes_state_and_names_what_it_does_not_understand() {
    let mut a = curator();
    a.perform(Action::Filter);
    let fx = typed(&mut a, "state:pending");
    let f = partner_filter(&fx).expect("state:pending asks the server");
    assert_eq!(f.verification, Some(VerificationState::Pending));
    assert_eq!(f.text, None, "state: is not a word to match");
    // With words too.
    let fx = typed(&mut a, " blue");
    let f = partner_filter(&fx).expect("words ask again");
    assert_eq!(f.verification, Some(VerificationState::Pending));
    assert_eq!(f.text.as_deref(), Some("blue"));

    // A state that is not one: nothing is asked, the title says why and which are.
    let mut a = curator();
    a.perform(Action::Filter);
    let fx = typed(&mut a, "state:pend");
    assert!(partner_filter(&fx).is_none(), "{fx:?}");
    for (w, h) in [(80, 24), (120, 40)] {
        insta::assert_snapshot!(
            format!("partners_bad_state_filter_{w}x{h}"),
            render(&mut a, w, h)
        );
    }
    let s = render(&mut a, 120, 40);
    assert!(
        s.contains("state: 'pend' is not a partner state (pending, verified, disabled)"),
        "{s}"
    );
    // An unknown key is named too.
    let mut a = curator();
    a.perform(Action::Filter);
    let fx = typed(&mut a, "status:pending");
    assert!(partner_filter(&fx).is_none());
    assert_eq!(
        a.panes.partners.filter.error.as_deref(),
        Some("unknown filter 'status:' (state:, or words of a name, domain or category)")
    );
}

fn audit_filter(fx: &[Effect]) -> Option<AuditFilter> {
    fx.iter().find_map(|e| match e.pane() {
        Some(audit::Effect::Load { filter, .. }) => Some(filter.clone()),
        _ => None,
    })
}

fn entry(id: i64, action: &str, entity_type: &str, entity_id: &str) -> AuditEntry {
    AuditEntry {
        id,
        at: chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 20, 9, 30, 0).unwrap(),
        actor: "cara".into(),
        action: action.into(),
        entity_type: entity_type.into(),
        entity_id: entity_id.into(),
        before: None,
        after: None,
        reason: None,
    }
}

#[test]
fn the_audit_pane_filters_by_action_and_shows_each_entitys_id_whole() {
    let mut a = curator();
    a.perform(Action::PaneAudit);
    a.perform(Action::Filter);
    let fx = typed(&mut a, "action:commission_rule.set");
    let f = audit_filter(&fx).expect("action: asks the server");
    assert_eq!(f.action.as_deref(), Some("commission_rule.set"));
    let tag = a.panes.audit.list.tag;
    a.update(Msg::from(audit::Msg::Page {
        tag,
        mode: LoadMode::Replace,
        result: Ok(vec![
            entry(41, "commission_rule.set", "commission_rule", "12345"),
            entry(40, "referral_code.disable", "referral_code", "987"),
            entry(39, "webhook.replay", "webhook_delivery", "100200"),
        ]),
    }));
    for (w, h) in [(80, 24), (120, 40)] {
        let s = render(&mut a, w, h);
        for want in [
            "commission_rule 12345",
            "referral_code 987",
            "webhook_delivery 100200",
        ] {
            assert!(s.contains(want), "{want} at {w}x{h}:\n{s}");
        }
        insta::assert_snapshot!(format!("audit_action_filter_{w}x{h}"), s);
    }
}

#[tokio::test]
async fn the_action_filter_matches_an_action_or_every_action_under_a_prefix() {
    let db = super::common::TestDb::new().await;
    let admin = db.admin().await;
    let p = super::common::verified_partner(&admin, "Umber", "umber.example").await;
    let rule = admin
        .set_commission_rule(p.id, None, Some(1250), None, None)
        .await
        .unwrap();
    let actions = |f: AuditFilter| {
        let admin = &admin;
        async move {
            admin
                .audit(&f, 100)
                .await
                .unwrap()
                .into_iter()
                .map(|e| (e.action, e.entity_id))
                .collect::<Vec<_>>()
        }
    };
    let only = |a: &str| AuditFilter {
        action: Some(a.into()),
        ..Default::default()
    };
    // The rule's row carries its id.
    assert_eq!(
        actions(only("commission_rule.set")).await,
        [("commission_rule.set".to_owned(), rule.id.to_string())]
    );
    // `partner` and `partner.` are every partner action; `partner.c` is no action.
    let partner = actions(only("partner")).await;
    assert!(partner.len() >= 2, "{partner:?}");
    assert!(
        partner.iter().any(|(a, _)| a == "partner.create"),
        "{partner:?}"
    );
    assert!(
        partner
            .iter()
            .all(|(a, id)| a.starts_with("partner.") && *id == p.id.to_string()),
        "{partner:?}"
    );
    assert_eq!(actions(only("partner.")).await, partner);
    assert!(actions(only("partner.c")).await.is_empty());
}
