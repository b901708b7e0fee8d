//! End-to-end: the real `partnerdesk` console in a real pseudo-terminal against a freshly
//! seeded PostgreSQL database. Each test asserts what a user sees on the screen, what the
//! database holds afterwards, and that the terminal was given back.
//!
//! Every test gets its own database (`TestDb`), seeded by `partnerdesk seed --demo`, and its
//! own `PARTNERDESK_HOME` (config, state and logs), a known `USER` and no other connection
//! settings than the test database's PG* variables.

mod bulk;
#[path = "../db/common.rs"]
#[allow(dead_code)]
mod common;
mod daily;
mod monitor;
mod negotiations;
mod proxy;
mod pty;
mod referrals;
mod safety;
mod settlements;
mod webhooks;

use common::TestDb;
use proxy::{Proxy, Upstream};
use pty::{Pty, TIMEOUT, keys};
use std::path::{Path, PathBuf};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_partnerdesk");
/// The default theme's selection background (`selected` in themes/default.toml).
const SELECTED: vt100::Color = vt100::Color::Rgb(0x7f, 0xd1, 0xff);
/// The operator the tests act as (registered as admin by `seed`).
const OPERATOR: &str = "ada";

// The harness ---------------------------------------------------------------------------------

/// A fresh PARTNERDESK_HOME, removed when dropped.
struct Home(PathBuf);

impl Home {
    fn new() -> Self {
        let p = std::env::temp_dir().join(format!("pd-e2e-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&p).expect("create temp PARTNERDESK_HOME");
        Self(p)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn unsaved_form(&self) -> PathBuf {
        self.0.join("state").join("unsaved-form.json")
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Exactly the environment the binary gets: nothing that could point it elsewhere.
fn env_for(db: &TestDb, home: &Home, user: &str) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = vec![
        (
            "PATH".into(),
            std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into()),
        ),
        ("HOME".into(), home.path().display().to_string()),
        ("LANG".into(), "C.UTF-8".into()),
        ("TERM".into(), "xterm-256color".into()),
        ("USER".into(), user.into()),
        ("PARTNERDESK_HOME".into(), home.path().display().to_string()),
        ("RUST_BACKTRACE".into(), "1".into()),
    ];
    env.extend(db.pg_env());
    env
}

/// A fresh database with the demo data, `seed_user` registered as its admin.
async fn seeded(seed_user: &str) -> TestDb {
    let db = TestDb::new().await;
    let home = Home::new();
    let out = std::process::Command::new(BIN)
        .args(["seed", "--demo"])
        .env_clear()
        .envs(env_for(&db, &home, seed_user))
        .output()
        .expect("run partnerdesk seed --demo");
    assert!(
        out.status.success(),
        "seed --demo failed: {}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    db
}

/// The console (`partnerdesk ARGS`) as `user` in a `cols`×`rows` terminal.
fn console(db: &TestDb, home: &Home, user: &str, args: &[&str], cols: u16, rows: u16) -> Pty {
    Pty::spawn(BIN, args, &env_for(db, home, user), home.path(), cols, rows)
}

/// Waits for the first page of partners on a connected console.
fn wait_ready(p: &Pty) {
    p.wait_for("● connected", TIMEOUT);
    p.wait_until("the partner list", TIMEOUT, |s| {
        !s.contains("loading…") && !names_in(&lines_of(s)).is_empty()
    });
}

/// The names in the partner list, top to bottom, as shown.
fn list_names(p: &Pty) -> Vec<String> {
    names_in(&p.lines())
}

fn lines_of(screen: &str) -> Vec<String> {
    screen.lines().map(str::to_owned).collect()
}

fn names_in(lines: &[String]) -> Vec<String> {
    // The Name column ends where the header's Domain begins (columns are fitted to their
    // text, one space apart).
    let Some(header) = lines.iter().find(|l| l.starts_with("│Name")) else {
        return Vec::new();
    };
    let width = header
        .chars()
        .collect::<String>()
        .find(" Domain")
        .map(|b| header[..b].chars().count())
        .unwrap_or(usize::MAX);
    lines
        .iter()
        .skip_while(|l| !l.starts_with("│Name"))
        .skip(1)
        .take_while(|l| !l.starts_with('└'))
        .filter_map(|l| {
            let name: String = l.chars().skip(1).take(width.saturating_sub(1)).collect();
            let name = name.trim();
            (!name.is_empty()).then(|| name.to_owned())
        })
        .collect()
}

/// The highlighted text below the tab bar (the selected row, or the selected answer).
fn selection(p: &Pty) -> Vec<String> {
    p.highlighted(SELECTED)
        .into_iter()
        .filter(|(row, _)| *row > 0)
        .map(|(_, t)| t)
        .collect()
}

/// Waits until the selection (below the tab bar) starts with `text`.
fn wait_selected(p: &Pty, text: &str) {
    p.wait_until(&format!("{text:?} highlighted"), TIMEOUT, |_| {
        selection(p).iter().any(|t| t.starts_with(text))
    });
}

/// The rows of a help overlay: the lines between its title and its bottom border.
fn help_text(p: &Pty) -> String {
    p.lines()
        .iter()
        .skip_while(|l| !l.contains("┌ Help"))
        .take_while(|l| !l.contains("any other key closes"))
        .map(|l| l.to_owned() + "\n")
        .collect()
}

async fn scalar_i64(db: &TestDb, sql: &str, id: i64) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .bind(id)
        .fetch_one(&db.pool)
        .await
        .expect("query")
}

/// Everything a mutation would change: partners (with versions and states) and the audit log.
async fn fingerprint(db: &TestDb) -> (i64, String, i64) {
    let partners: (i64, String) = sqlx::query_as(
        "SELECT count(*), coalesce(string_agg(id || ':' || version || ':' || verification || ':' || (deleted_at IS NULL), ',' ORDER BY id), '')
         FROM partners",
    )
    .fetch_one(&db.pool)
    .await
    .expect("partners fingerprint");
    let audit = db.audit_count().await;
    (partners.0, partners.1, audit)
}

/// Quits with `q` and checks the exit status and the terminal.
fn quit(p: &mut Pty) {
    p.send("q");
    let code = p.wait_exit(TIMEOUT);
    assert_eq!(code, 0, "exit status after q; the screen:\n{}", p.dump());
    p.assert_restored();
}

// 1. The issue's scenario ---------------------------------------------------------------------

#[tokio::test]
async fn navigate_filter_open_and_mark_vetted() {
    let db = seeded(OPERATOR).await;
    let (id, name): (i64, String) = sqlx::query_as(
        "SELECT id, display_name FROM partners
         WHERE verification = 'pending' AND deleted_at IS NULL ORDER BY display_name LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .expect("a pending partner in the demo data");
    let (domain, legal): (String, String) =
        sqlx::query_as("SELECT domain, legal_name FROM partners WHERE id = $1")
            .bind(id)
            .fetch_one(&db.pool)
            .await
            .expect("its domain");
    let total = db
        .count("SELECT count(*) FROM partners WHERE deleted_at IS NULL")
        .await as usize;
    let word = name.split_whitespace().next().unwrap().to_owned();

    let home = Home::new();
    let mut p = console(&db, &home, OPERATOR, &[], 120, 40);
    wait_ready(&p);
    p.wait_for(&format!("{OPERATOR} (admin)"), TIMEOUT);
    let names = list_names(&p);
    assert_eq!(names.len(), total, "every partner is listed:\n{}", p.dump());
    wait_selected(&p, &names[0]);

    // j / k / G / g move the selection.
    p.send("j");
    wait_selected(&p, &names[1]);
    p.send("j");
    wait_selected(&p, &names[2]);
    p.send("k");
    wait_selected(&p, &names[1]);
    p.send("G");
    wait_selected(&p, &names[total - 1]);
    p.send("g");
    wait_selected(&p, &names[0]);

    // `/` filters on the server: only matches are listed.
    p.send("/");
    p.wait_for("Enter keeps · Esc restores", TIMEOUT);
    p.type_each(&word.to_lowercase());
    p.wait_for(&format!("filter “{}”", word.to_lowercase()), TIMEOUT);
    p.wait_until("only the matching partners", TIMEOUT, |s| {
        let names = names_in(&lines_of(s));
        !names.is_empty() && names.iter().all(|n| n.contains(&word)) && names.contains(&name)
    });
    assert!(
        !p.screen().contains(&names[0]) || names[0].contains(&word),
        "a partner that does not match is still listed:\n{}",
        p.dump()
    );
    p.send(keys::ENTER);
    p.wait_gone("Enter keeps · Esc restores", TIMEOUT);

    // Open the (selected) matching partner.
    let shown = list_names(&p);
    let pos = shown.iter().position(|n| n == &name).expect("listed");
    for _ in 0..pos {
        p.send("j");
    }
    wait_selected(&p, &name);
    p.send(keys::ENTER);
    p.wait_for(&format!("{name} · #{id} · v"), TIMEOUT);
    p.wait_for(&format!("Legal name     {legal}"), TIMEOUT);
    p.wait_for("State          pending", TIMEOUT);
    p.wait_for("Vetted         not yet", TIMEOUT);
    p.wait_for(&format!("Domain         {domain}"), TIMEOUT);

    // `v` asks, with the safe answer selected first.
    p.send("v");
    p.wait_for(&format!("Mark {name} vetted?"), TIMEOUT);
    p.wait_for("Mark vetted", TIMEOUT);
    wait_selected(&p, "Cancel");
    assert!(
        !selection(&p).iter().any(|t| t.contains("Mark vetted")),
        "only Cancel is selected: {:?}",
        selection(&p)
    );
    p.send(keys::RIGHT);
    wait_selected(&p, "Mark vetted");
    p.send(keys::ENTER);
    p.wait_gone(&format!("Mark {name} vetted?"), TIMEOUT);
    p.wait_for("State          verified", TIMEOUT);
    p.wait_for(&format!("Vetted         by {OPERATOR} at"), TIMEOUT);
    p.wait_for(&format!("{name} is now verified"), TIMEOUT);
    p.wait_until("the vetting in the timeline", TIMEOUT, |s| {
        s.lines()
            .any(|l| l.contains(&format!("{OPERATOR} ")) && l.contains("partner.vet"))
    });

    quit(&mut p);

    let (state, by, at_set): (String, Option<String>, bool) = sqlx::query_as(
        "SELECT verification, vetted_by, vetted_at IS NOT NULL FROM partners WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&db.pool)
    .await
    .expect("the partner row");
    assert_eq!(state, "verified");
    assert_eq!(by.as_deref(), Some(OPERATOR));
    assert!(at_set, "vetted_at is set");
    let audits = scalar_i64(
        &db,
        "SELECT count(*) FROM audit_log WHERE action = 'partner.vet' AND entity_type = 'partner' AND entity_id = $1::text",
        id,
    )
    .await;
    assert_eq!(audits, 1, "exactly one partner.vet audit row");
    let actor: String = sqlx::query_scalar(
        "SELECT actor FROM audit_log WHERE action = 'partner.vet' AND entity_id = $1::text",
    )
    .bind(id.to_string())
    .fetch_one(&db.pool)
    .await
    .expect("the audit row");
    assert_eq!(actor, OPERATOR);
}

// 2. Creating a partner through the form ------------------------------------------------------

/// The form row of the field labelled `label`.
fn field_row(p: &Pty, label: &str) -> String {
    p.lines()
        .into_iter()
        .find(|l| {
            let body = l.trim_start_matches('│').trim_start_matches([' ', '▸']);
            body.starts_with(label)
        })
        .unwrap_or_else(|| panic!("no form field {label:?}; the screen:\n{}", p.dump()))
}

#[tokio::test]
async fn new_partner_form_validates_as_you_type_and_saves() {
    let db = seeded(OPERATOR).await;
    let home = Home::new();
    let mut p = console(&db, &home, OPERATOR, &[], 120, 40);
    wait_ready(&p);

    p.send("n");
    p.wait_for("New partner", TIMEOUT);
    p.wait_for("▸ Display name", TIMEOUT);
    p.type_each("Zephyr Gear");
    p.wait_until("the display name typed", TIMEOUT, |_| {
        field_row(&p, "Display name").contains("Zephyr Gear")
    });
    // Legal name is still empty: its rule shows beside it as soon as something was typed.
    assert!(
        field_row(&p, "Legal name").contains('✕'),
        "an empty legal name is flagged:\n{}",
        p.dump()
    );
    p.send(keys::TAB);
    p.wait_for("▸ Legal name", TIMEOUT);
    p.type_each("Zephyr Gear GmbH");
    p.wait_until("the legal name accepted", TIMEOUT, |_| {
        let row = field_row(&p, "Legal name");
        row.contains("Zephyr Gear GmbH") && !row.contains('✕')
    });
    p.send(keys::TAB);
    p.wait_for("▸ Website", TIMEOUT);
    p.type_each("zephyr");
    p.wait_until("the website error beside the field", TIMEOUT, |_| {
        let row = field_row(&p, "Website");
        row.contains("zephyr") && row.contains("✕ must be an http(s) URL")
    });
    p.wait_for("1 field to fix", TIMEOUT);
    for _ in 0.."zephyr".len() {
        p.send(keys::BACKSPACE);
    }
    p.type_each("https://zephyr-gear.example/");
    p.wait_until("the website accepted", TIMEOUT, |_| {
        let row = field_row(&p, "Website");
        row.contains("https://zephyr-gear.example/") && !row.contains('✕')
    });
    p.wait_for("all fields valid", TIMEOUT);
    p.send(keys::TAB);
    p.send(keys::TAB);
    p.wait_for("▸ Contact e-mail", TIMEOUT);
    p.type_each("hello@zephyr-gear.example");
    p.send(keys::TAB);
    p.wait_for("▸ Categories", TIMEOUT);
    p.type_each("gear, outdoor");
    p.wait_until("the categories typed", TIMEOUT, |_| {
        field_row(&p, "Categories").contains("gear, outdoor")
    });
    p.wait_for("all fields valid", TIMEOUT);

    p.send(keys::CTRL_S);
    p.wait_for("saved Zephyr Gear", TIMEOUT);
    p.wait_gone("New partner", TIMEOUT);
    p.wait_for("Legal name     Zephyr Gear GmbH", TIMEOUT);
    p.wait_for("Domain         zephyr-gear.example", TIMEOUT);
    p.wait_for("State          pending", TIMEOUT);
    assert!(
        !home.unsaved_form().exists(),
        "a saved form leaves no recovery file"
    );
    quit(&mut p);

    type Row = (
        i64,
        String,
        Option<String>,
        Option<String>,
        Vec<String>,
        String,
        String,
    );
    let (id, legal, website, domain, categories, verification, created_by): Row = sqlx::query_as(
        "SELECT id, legal_name, website_url, domain, categories, verification, created_by
         FROM partners WHERE display_name = 'Zephyr Gear' AND deleted_at IS NULL",
    )
    .fetch_one(&db.pool)
    .await
    .expect("the new partner is in the database");
    assert_eq!(legal, "Zephyr Gear GmbH");
    assert_eq!(website.as_deref(), Some("https://zephyr-gear.example/"));
    assert_eq!(domain.as_deref(), Some("zephyr-gear.example"));
    assert_eq!(categories, vec!["gear".to_owned(), "outdoor".to_owned()]);
    assert_eq!(verification, "pending");
    assert_eq!(created_by, OPERATOR);
    let audits = scalar_i64(
        &db,
        "SELECT count(*) FROM audit_log WHERE action = 'partner.create' AND entity_type = 'partner'
         AND entity_id = $1::text AND actor = 'ada'",
        id,
    )
    .await;
    assert_eq!(
        audits, 1,
        "exactly one partner.create audit row by {OPERATOR}"
    );
}

// 3. Read-only sessions -----------------------------------------------------------------------

/// What read-only must hide from the help.
const MUTATING_HELP: &[&str] = &[
    "mark the partner vetted",
    "delete",
    "new record",
    "save the form",
];

/// Opens the help and returns its text (the terminal is tall enough to show it whole).
fn open_help(p: &Pty) -> String {
    p.send("?");
    p.wait_for("any other key closes", TIMEOUT);
    p.wait_for("popup keys", TIMEOUT);
    help_text(p)
}

fn close_help(p: &Pty) {
    p.send("x");
    p.wait_gone("any other key closes", TIMEOUT);
}

/// Read-only in `args`/`user`: banner, help without mutating actions, and v/d/n do nothing.
async fn assert_read_only(user: &str, args: &[&str], banner: &str) {
    let db = seeded(OPERATOR).await;
    let home = Home::new();
    let mut p = console(&db, &home, user, args, 120, 60);
    wait_ready(&p);
    p.wait_for(banner, TIMEOUT);
    p.wait_for("READ-ONLY", TIMEOUT);

    let help = open_help(&p);
    assert!(
        help.contains("read-only"),
        "the help says read-only:\n{help}"
    );
    assert!(help.contains("filter the list"), "{help}");
    for hidden in MUTATING_HELP {
        assert!(
            !help.to_lowercase().contains(hidden),
            "read-only help offers {hidden:?}:\n{help}"
        );
    }
    close_help(&p);

    let before = fingerprint(&db).await;
    let first = list_names(&p)[0].clone();
    wait_selected(&p, &first);
    for key in ["v", keys::ENTER, "d", keys::ENTER, "n", "x", keys::CTRL_S] {
        p.send(key);
    }
    // `?` after the keys: once the help shows, every key before it was handled.
    let _ = open_help(&p);
    close_help(&p);
    let screen = p.screen();
    for absent in ["vetted?", "Delete ", "New partner", "saved "] {
        assert!(
            !screen.contains(absent),
            "read-only reacted with {absent:?}:\n{}",
            p.dump()
        );
    }
    quit(&mut p);
    assert_eq!(
        fingerprint(&db).await,
        before,
        "nothing changed in the database"
    );
}

#[tokio::test]
async fn read_only_flag_offers_no_change() {
    // The same keys in a normal session do offer the changes (the control).
    let db = seeded(OPERATOR).await;
    let home = Home::new();
    let mut p = console(&db, &home, OPERATOR, &[], 120, 60);
    wait_ready(&p);
    let help = open_help(&p);
    for shown in MUTATING_HELP {
        assert!(
            help.to_lowercase().contains(shown),
            "a normal session's help offers {shown:?}:\n{help}"
        );
    }
    assert!(!p.screen().contains("READ-ONLY"), "{}", p.dump());
    close_help(&p);
    quit(&mut p);
    drop(db);

    assert_read_only(
        OPERATOR,
        &["--read-only"],
        "READ-ONLY session (--read-only)",
    )
    .await;
}

#[tokio::test]
async fn unregistered_operator_is_read_only() {
    assert_read_only(
        "nobody",
        &[],
        "READ-ONLY: operator 'nobody' is not registered",
    )
    .await;
}

// 4. Too small --------------------------------------------------------------------------------

#[tokio::test]
async fn too_small_then_resized() {
    let db = seeded(OPERATOR).await;
    let home = Home::new();
    let mut p = console(&db, &home, OPERATOR, &[], 60, 20);
    p.wait_for("terminal too small", TIMEOUT);
    p.wait_for("80×24", TIMEOUT);
    p.wait_for("have 60×20", TIMEOUT);
    assert!(!p.screen().contains("Partners"), "{}", p.dump());

    p.resize(120, 40);
    wait_ready(&p);
    p.wait_gone("terminal too small", TIMEOUT);
    p.wait_for("1 Partners", TIMEOUT);

    // Exactly the minimum works too, and below it the notice comes back.
    p.resize(80, 24);
    p.wait_until("the list at 80×24", TIMEOUT, |s| {
        !s.contains("terminal too small") && s.contains("│Name") && s.contains("connected")
    });
    p.resize(79, 24);
    p.wait_for("terminal too small", TIMEOUT);
    p.wait_for("have 79×24", TIMEOUT);
    p.resize(120, 40);
    wait_ready(&p);
    quit(&mut p);
}

// 5. Signals with an unsaved form -------------------------------------------------------------

/// Opens a new form, types a display name, and ends the console with `signal`.
fn leave_form_on_signal(p: &mut Pty, name: &str, signal: &str, code: u32) {
    wait_ready(p);
    p.send("n");
    p.wait_for("▸ Display name", TIMEOUT);
    p.type_each(name);
    p.wait_for(name, TIMEOUT);
    p.signal(signal);
    let exit = p.wait_exit(TIMEOUT);
    assert_eq!(exit, code, "exit status after SIG{signal}");
    p.assert_restored();
}

/// The state directory holds the unsaved form, as JSON, with the typed `name` in it.
fn assert_saved_form(home: &Home, name: &str) {
    fn holds(v: &serde_json::Value, s: &str) -> bool {
        match v {
            serde_json::Value::String(x) => x == s,
            serde_json::Value::Array(a) => a.iter().any(|v| holds(v, s)),
            serde_json::Value::Object(o) => o.values().any(|v| holds(v, s)),
            _ => false,
        }
    }
    let path = home.unsaved_form();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{} should hold the unsaved form: {e}", path.display()));
    let json: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not JSON ({e}): {text}", path.display()));
    assert!(
        holds(&json, name),
        "the unsaved form holds {name:?}: {text}"
    );
}

#[tokio::test]
async fn sigterm_keeps_the_unsaved_form_and_offers_it_back() {
    let db = seeded(OPERATOR).await;
    let home = Home::new();
    let mut p = console(&db, &home, OPERATOR, &[], 120, 40);
    leave_form_on_signal(&mut p, "Half Typed Gear", "TERM", 128 + 15);
    assert_saved_form(&home, "Half Typed Gear");
    drop(p);

    // The next start offers it back, "Restore" first.
    let mut p = console(&db, &home, OPERATOR, &[], 120, 40);
    p.wait_for("Unsaved form found", TIMEOUT);
    p.wait_for("Half Typed Gear", TIMEOUT);
    p.wait_for("Discard", TIMEOUT);
    wait_selected(&p, "Restore");
    p.send(keys::ENTER);
    p.wait_gone("Unsaved form found", TIMEOUT);
    p.wait_for("New partner", TIMEOUT);
    p.wait_until("the restored display name", TIMEOUT, |_| {
        field_row(&p, "Display name").contains("Half Typed Gear")
    });
    p.wait_for("modified", TIMEOUT);

    // Leaving it: Esc asks, "Keep editing" first; Discard closes the form and the file goes.
    p.send(keys::ESC);
    p.wait_for("Discard changes?", TIMEOUT);
    wait_selected(&p, "Keep editing");
    p.send(keys::RIGHT);
    wait_selected(&p, "Discard");
    p.send(keys::ENTER);
    p.wait_gone("New partner", TIMEOUT);
    wait_ready(&p);
    assert!(
        !home.unsaved_form().exists(),
        "a discarded form is forgotten"
    );

    // Quitting (Ctrl-c) with a changed form asks first; "Discard" then quits.
    p.send("n");
    p.wait_for("▸ Display name", TIMEOUT);
    p.type_each("Never Saved");
    p.wait_for("Never Saved", TIMEOUT);
    p.send("\x03");
    p.wait_for("Discard changes?", TIMEOUT);
    wait_selected(&p, "Keep editing");
    p.send(keys::RIGHT);
    wait_selected(&p, "Discard");
    p.send(keys::ENTER);
    let code = p.wait_exit(TIMEOUT);
    assert_eq!(code, 0, "Discard on quit quits; the screen:\n{}", p.dump());
    p.assert_restored();
    assert!(
        !home.unsaved_form().exists(),
        "nothing is kept to offer back"
    );
    assert_eq!(
        db.count(
            "SELECT count(*) FROM partners WHERE display_name IN ('Half Typed Gear', 'Never Saved')"
        )
        .await,
        0,
        "nothing was saved"
    );
}

#[tokio::test]
async fn sighup_keeps_the_unsaved_form() {
    let db = seeded(OPERATOR).await;
    let home = Home::new();
    let mut p = console(&db, &home, OPERATOR, &[], 120, 40);
    leave_form_on_signal(&mut p, "Hung Up Gear", "HUP", 128 + 1);
    assert_saved_form(&home, "Hung Up Gear");
    drop(p);

    // Offered back on the next start; "Discard" forgets it.
    let mut p = console(&db, &home, OPERATOR, &[], 80, 24);
    p.wait_for("Unsaved form found", TIMEOUT);
    p.wait_for("Hung Up Gear", TIMEOUT);
    wait_selected(&p, "Restore");
    p.send(keys::RIGHT);
    wait_selected(&p, "Discard");
    p.send(keys::ENTER);
    p.wait_for("unsaved form discarded", TIMEOUT);
    wait_ready(&p);
    assert!(!p.screen().contains("New partner"), "{}", p.dump());
    assert!(
        !home.unsaved_form().exists(),
        "a discarded form is forgotten"
    );
    quit(&mut p);
}

// 6. A lost connection ------------------------------------------------------------------------

/// The real server behind the test database's settings.
fn upstream(db: &TestDb) -> Upstream {
    let port = db.options.get_port();
    match db.options.get_socket() {
        Some(s) if s.is_dir() => Upstream::Unix(s.join(format!(".s.PGSQL.{port}"))),
        Some(s) => Upstream::Unix(s.to_path_buf()),
        None => Upstream::Tcp(db.options.get_host().to_owned(), port),
    }
}

#[tokio::test]
async fn lost_connection_reconnects_by_itself() {
    let db = seeded(OPERATOR).await;
    let proxy = Proxy::start(upstream(&db));
    let home = Home::new();
    let mut env = env_for(&db, &home, OPERATOR);
    for (k, v) in env.iter_mut() {
        match k.as_str() {
            "PGHOST" => *v = "127.0.0.1".into(),
            "PGPORT" => *v = proxy.port.to_string(),
            _ => {}
        }
    }
    // Plain TCP to the proxy (a TLS request cut short reads as garbled data, not as a drop).
    env.push(("PGSSLMODE".into(), "disable".into()));
    let mut p = Pty::spawn(BIN, &[], &env, home.path(), 120, 40);
    wait_ready(&p);
    p.wait_for(&format!("@127.0.0.1:{}/{}", proxy.port, db.name), TIMEOUT);
    let names = list_names(&p);

    // The server ends the console's sessions (an administrator, a backend restart) while the
    // server stays up: the next request works again, either at once (the pool sees the dead
    // connections and opens new ones) or after a short *reconnecting*, with no key pressed.
    let terminate = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = $1 AND application_name = 'partnerdesk' AND pid <> pg_backend_pid()";
    let killed: Vec<bool> = sqlx::query_scalar(terminate)
        .bind(&db.name)
        .fetch_all(&db.pool)
        .await
        .expect("terminate the console's connections");
    assert!(!killed.is_empty(), "the console has connections to end");
    p.send("s");
    p.wait_for("sort domain", TIMEOUT);
    p.wait_until("the list sorted by domain, connected", TIMEOUT, |s| {
        s.contains("● connected")
            && !s.contains("loading…")
            && names_in(&lines_of(s)).len() == names.len()
    });
    let names = list_names(&p);

    // The server goes away: the next request fails, the status bar says so, and what was
    // loaded stays on screen and usable.
    proxy.down();
    p.send("r");
    p.wait_for("◌ reconnecting", TIMEOUT);
    p.wait_for("lost the database connection", TIMEOUT);
    assert_eq!(list_names(&p), names, "the list stays while reconnecting");
    p.send("j");
    wait_selected(&p, &names[1]);
    assert!(p.screen().contains("reconnecting"), "{}", p.dump());

    // The server is back: the console notices by itself (no key pressed) and reloads.
    proxy.up();
    p.wait_for("● connected", TIMEOUT);
    p.wait_for("reconnected to the database", TIMEOUT);
    assert!(!p.screen().contains("◌ reconnecting"), "{}", p.dump());
    p.wait_until("the list again", TIMEOUT, |s| {
        !s.contains("loading…") && names_in(&lines_of(s)) == names
    });
    quit(&mut p);
}

// 7. Stale results are dropped ----------------------------------------------------------------

#[tokio::test]
async fn fast_filter_typing_shows_the_last_answer() {
    let db = seeded(OPERATOR).await;
    let (name, count): (String, i64) =
        sqlx::query_as("SELECT min(display_name), count(*) FROM partners WHERE deleted_at IS NULL")
            .fetch_one(&db.pool)
            .await
            .expect("a partner");
    assert!(count > 3, "the demo data has partners");
    let home = Home::new();
    let mut p = console(&db, &home, OPERATOR, &[], 120, 40);
    wait_ready(&p);

    // Type the whole name: every prefix is a request of its own, each matching more
    // partners than the final text does.
    let text = name.to_lowercase();
    p.send("/");
    p.wait_for("Enter keeps · Esc restores", TIMEOUT);
    p.type_each(&text);
    let only_final = |s: &str| {
        let names = names_in(&lines_of(s));
        s.contains(&format!("filter “{text}”"))
            && !s.contains("loading…")
            && !names.is_empty()
            && names.iter().all(|n| n.to_lowercase().contains(&text))
    };
    p.wait_until("only the final filter's matches", TIMEOUT, only_final);
    // A late answer to an earlier prefix must not replace it.
    p.stays(
        "the final filter's matches",
        Duration::from_secs(1),
        only_final,
    );
    p.send(keys::ENTER);

    // Backspacing to a shorter text shows that text's matches again.
    let word = name.split_whitespace().next().unwrap().to_lowercase();
    p.send("/");
    p.wait_for("Enter keeps · Esc restores", TIMEOUT);
    for _ in 0..text.chars().count() - word.chars().count() {
        p.send(keys::BACKSPACE);
    }
    p.wait_until("the shorter filter's matches", TIMEOUT, |s| {
        let names = names_in(&lines_of(s));
        s.contains(&format!("filter “{word}”"))
            && !s.contains("loading…")
            && names.iter().all(|n| n.to_lowercase().contains(&word))
            && names.contains(&name)
    });
    p.send(keys::ESC);
    p.wait_gone("Enter keeps · Esc restores", TIMEOUT);
    quit(&mut p);
}

// 8. Deals: authoring, the lifecycle, the KYC gate, import, the live monitor ------------------

/// The title of the deal the authoring test writes (unique in the demo data).
const NEW_DEAL: &str = "E2E Capped Coupon";

/// The text inside the popup whose title starts with `title`: each row between its borders,
/// trimmed and joined with single spaces (so a sentence wrapped over rows reads as one).
fn popup_text(p: &Pty, title: &str) -> String {
    let lines = p.lines();
    let rows: Vec<Vec<char>> = lines.iter().map(|l| l.chars().collect()).collect();
    let needle: Vec<char> = format!("┌ {title}").chars().collect();
    let (top, left) = rows
        .iter()
        .enumerate()
        .find_map(|(i, r)| {
            r.windows(needle.len())
                .position(|w| w == needle.as_slice())
                .map(|c| (i, c))
        })
        .unwrap_or_else(|| panic!("no popup {title:?}; the screen:\n{}", p.dump()));
    let right = rows[top][left..]
        .iter()
        .position(|&c| c == '┐')
        .map(|c| left + c)
        .unwrap_or_else(|| panic!("the popup {title:?} has no right border:\n{}", p.dump()));
    let mut text = Vec::new();
    for r in &rows[top + 1..] {
        if r.get(left) == Some(&'└') {
            break;
        }
        let inner: String = r
            .get(left + 1..right.min(r.len()))
            .unwrap_or_default()
            .iter()
            .collect();
        text.push(inner.trim().to_owned());
    }
    text.join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The rows of a table whose header row starts with `│{header}`, up to its bottom border.
fn table_rows(lines: &[String], header: &str) -> Vec<String> {
    lines
        .iter()
        .skip_while(|l| {
            !(l.starts_with('│') && l.trim_start_matches('│').trim_start().starts_with(header))
        })
        .skip(1)
        .take_while(|l| !l.starts_with('└'))
        .filter(|l| {
            !l.trim_matches(|c: char| c == '│' || c.is_whitespace())
                .is_empty()
        })
        .cloned()
        .collect()
}

/// The rows of the Deals list as shown.
fn deal_rows(screen: &str) -> Vec<String> {
    table_rows(&lines_of(screen), "Title")
}

/// Opens the Deals pane and waits for its first page.
fn open_deals(p: &Pty) {
    p.send("2");
    p.wait_until("the deal list", TIMEOUT, |s| {
        s.contains("Deals · sort") && !s.contains("loading…") && !deal_rows(s).is_empty()
    });
}

/// Moves the form's focus on with Tab until the field labelled `label` has it.
fn tab_to(p: &Pty, label: &str) {
    p.send(keys::TAB);
    p.wait_for(&format!("▸ {label}"), TIMEOUT);
}

/// Everything a refused or cancelled deal action could have changed: the deals (versions,
/// states, counts), the search documents and the audit log.
async fn deals_fingerprint(db: &TestDb) -> (String, i64, i64) {
    let deals: String = sqlx::query_scalar(
        "SELECT coalesce(string_agg(id || ':' || version || ':' || state || ':' || redemption_count,
                                    ',' ORDER BY id), '')
         FROM deals",
    )
    .fetch_one(&db.pool)
    .await
    .expect("deals fingerprint");
    let docs = db.count("SELECT count(*) FROM deal_search_documents").await;
    (deals, docs, db.audit_count().await)
}

/// The actors of the audit rows of deal `id`, as `action actor`, oldest first.
async fn deal_audit(db: &TestDb, id: i64) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT action || ' ' || actor FROM audit_log
         WHERE entity_type = 'deal' AND entity_id = $1::text ORDER BY id",
    )
    .bind(id.to_string())
    .fetch_all(&db.pool)
    .await
    .expect("the deal's audit rows")
}

#[tokio::test]
async fn author_activate_list_and_pause_a_coupon_deal() {
    let db = seeded(OPERATOR).await;
    let (partner, partner_name): (i64, String) = sqlx::query_as(
        "SELECT id, display_name FROM partners WHERE verification = 'verified' AND deleted_at IS NULL
         ORDER BY id LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .expect("a verified partner in the demo data");
    assert_eq!(
        db.count(&format!(
            "SELECT count(*) FROM deals WHERE title = '{NEW_DEAL}'"
        ))
        .await,
        0,
        "the demo data has no deal with the test's title"
    );
    let home = Home::new();
    let mut p = console(&db, &home, OPERATOR, &[], 120, 40);
    wait_ready(&p);
    open_deals(&p);

    // The form: the partner first, then every field in turn.
    p.send("n");
    p.wait_for("New deal", TIMEOUT);
    // The partner is picked by name: Tab completes what was typed to `Name #id`.
    p.wait_for("▸ Partner", TIMEOUT);
    p.type_each(&partner_name);
    p.wait_until("the partner offered", TIMEOUT, |_| {
        field_row(&p, "Partner").contains(&format!("Tab picks {partner_name} #{partner}"))
    });
    p.send(keys::TAB);
    p.wait_until("the partner picked", TIMEOUT, |_| {
        let row = field_row(&p, "Partner");
        row.contains(&format!("{partner_name} #{partner}")) && row.contains("✓ ")
    });
    tab_to(&p, "Title");
    p.type_each(NEW_DEAL);
    tab_to(&p, "Description");
    p.type_each("Twenty-five codes for the first members who ask.");
    tab_to(&p, "Kind");
    assert!(
        field_row(&p, "Kind").contains("coupon"),
        "a new deal is a coupon unless changed:\n{}",
        p.dump()
    );
    // Only what applies to a public coupon is shown.
    let screen = p.screen();
    assert!(
        !screen.contains("Redemption URL") && !screen.contains("Batch/chapter"),
        "fields that do not apply to a public coupon are hidden:\n{}",
        p.dump()
    );
    tab_to(&p, "Coupon code");
    p.type_each("E2ECAP25");
    tab_to(&p, "Categories");
    p.type_each("food");
    tab_to(&p, "Audience");
    assert!(field_row(&p, "Audience").contains("public"), "{}", p.dump());
    tab_to(&p, "Valid from");
    tab_to(&p, "Valid until");
    tab_to(&p, "Redemption cap");

    // An invalid cap first: its rule shows beside it, and the form counts it.
    p.type_each("0");
    p.wait_until("the cap's rule beside the field", TIMEOUT, |_| {
        let row = field_row(&p, "Redemption cap");
        row.contains(" 0 ") && row.contains("✕ a positive whole number")
    });
    p.wait_for("1 field to fix", TIMEOUT);
    p.send(keys::BACKSPACE);
    p.type_each("25");
    p.wait_until("the cap accepted", TIMEOUT, |_| {
        let row = field_row(&p, "Redemption cap");
        row.contains("25") && !row.contains('✕')
    });
    p.wait_for("all fields valid", TIMEOUT);

    // Saved as a draft; the detail opens.
    p.send(keys::CTRL_S);
    p.wait_for(&format!("“{NEW_DEAL}” (draft)"), TIMEOUT);
    p.wait_gone("New deal", TIMEOUT);
    p.wait_for(&format!("Title          {NEW_DEAL}"), TIMEOUT);
    p.wait_for("State          draft", TIMEOUT);
    p.wait_for("Redemptions    0/25", TIMEOUT);
    p.wait_for("E2ECAP25", TIMEOUT);
    assert!(
        !home.unsaved_form().exists(),
        "a saved form leaves no recovery file"
    );
    let id: i64 = sqlx::query_scalar("SELECT id FROM deals WHERE title = $1")
        .bind(NEW_DEAL)
        .fetch_one(&db.pool)
        .await
        .expect("the new deal is in the database");
    p.wait_for(&format!("Deal #{id}"), TIMEOUT);

    // Activate: the confirmation says what changes for members, Cancel selected first.
    p.send("a");
    let question = format!("Activate “{NEW_DEAL}”?");
    p.wait_for(&question, TIMEOUT);
    wait_selected(&p, "Cancel");
    let text = popup_text(&p, &question);
    assert!(
        text.contains("draft → active")
            && text.contains("visible in search and starts accepting redemptions"),
        "the confirmation says what changes for members: {text:?}\n{}",
        p.dump()
    );
    p.send(keys::RIGHT);
    wait_selected(&p, "Activate");
    p.send(keys::ENTER);
    p.wait_gone(&question, TIMEOUT);
    p.wait_for(&format!("deal #{id} is now active"), TIMEOUT);
    p.wait_for("State          active", TIMEOUT);
    p.wait_until("the activation in the timeline", TIMEOUT, |s| {
        s.lines()
            .any(|l| l.contains(&format!("{OPERATOR} ")) && l.contains("deal.activate"))
    });

    // Back to the list, filtered by the title: one row, active, none of 25 used.
    p.send(keys::ESC);
    p.wait_gone(&format!("Deal #{id}"), TIMEOUT);
    p.wait_for("│Title", TIMEOUT);
    p.send("/");
    p.wait_for("Enter keeps · Esc restores", TIMEOUT);
    // The prompt shows the Deals filter's words, not the Partners list's.
    p.wait_for("state:S partner:ID scope:S cat:NAME", TIMEOUT);
    p.type_each(NEW_DEAL);
    p.wait_for(&format!("filter “{NEW_DEAL}”"), TIMEOUT);
    let listed = |s: &str, state: &str| {
        let rows = deal_rows(s);
        !s.contains("loading…")
            && rows.len() == 1
            && rows[0].starts_with(&format!("│{NEW_DEAL} "))
            && rows[0].contains(&format!(" {state} "))
            && rows[0].contains(" 0/25 ")
    };
    p.wait_until("the deal listed, active, 0/25", TIMEOUT, |s| {
        listed(s, "active")
    });
    p.send(keys::ENTER);
    p.wait_gone("Enter keeps · Esc restores", TIMEOUT);
    wait_selected(&p, NEW_DEAL);

    // Pause it from the list.
    p.send("p");
    let question = format!("Pause “{NEW_DEAL}”?");
    p.wait_for(&question, TIMEOUT);
    wait_selected(&p, "Cancel");
    let text = popup_text(&p, &question);
    assert!(
        text.contains("active → paused")
            && text.contains("disappears from search and stops accepting redemptions"),
        "the confirmation says what changes for members: {text:?}\n{}",
        p.dump()
    );
    p.send(keys::RIGHT);
    wait_selected(&p, "Pause");
    p.send(keys::ENTER);
    p.wait_gone(&question, TIMEOUT);
    p.wait_for(&format!("deal #{id} is now paused"), TIMEOUT);
    p.wait_until("the deal listed, paused, 0/25", TIMEOUT, |s| {
        listed(s, "paused")
    });
    quit(&mut p);

    // The database: the row, its audit trail, and no search document any more.
    let (state, cap, count, created_by, code, scope, kind): (
        String,
        Option<i32>,
        i32,
        String,
        Option<String>,
        String,
        String,
    ) = sqlx::query_as(
        "SELECT state, redemption_cap, redemption_count, created_by, coupon_code, audience_scope, kind
         FROM deals WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&db.pool)
    .await
    .expect("the deal row");
    assert_eq!(state, "paused");
    assert_eq!(cap, Some(25));
    assert_eq!(count, 0);
    assert_eq!(created_by, OPERATOR);
    assert_eq!(code.as_deref(), Some("E2ECAP25"));
    assert_eq!(scope, "public");
    assert_eq!(kind, "coupon");
    assert_eq!(
        deal_audit(&db, id).await,
        [
            format!("deal.create {OPERATOR}"),
            format!("deal.activate {OPERATOR}"),
            format!("deal.pause {OPERATOR}"),
        ],
        "created, activated and paused by the operator, in that order"
    );
    assert_eq!(
        scalar_i64(
            &db,
            "SELECT count(*) FROM deal_search_documents WHERE deal_id = $1",
            id
        )
        .await,
        0,
        "a paused deal is not in the member search"
    );
}

#[tokio::test]
async fn kyc_gate_is_explained_in_the_console() {
    let db = seeded(OPERATOR).await;
    let (partner, partner_name): (i64, String) = sqlx::query_as(
        "SELECT p.id, p.display_name FROM partners p
         WHERE p.verification = 'pending' AND p.deleted_at IS NULL
           AND EXISTS (SELECT 1 FROM deals d WHERE d.partner_id = p.id AND d.state = 'draft')
         ORDER BY p.id LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .expect("a pending partner with a draft deal in the demo data");
    let home = Home::new();
    let mut p = console(&db, &home, OPERATOR, &[], 120, 40);
    wait_ready(&p);
    open_deals(&p);

    // That partner's drafts only; open the first.
    let filter = format!("partner:{partner} state:draft");
    p.send("/");
    p.wait_for("Enter keeps · Esc restores", TIMEOUT);
    p.type_each(&filter);
    p.wait_until("only the partner's drafts", TIMEOUT, |s| {
        let rows = deal_rows(s);
        s.contains(&format!("filter “{filter}”"))
            && !s.contains("loading…")
            && !rows.is_empty()
            && rows.iter().all(|r| r.contains(" draft "))
    });
    p.send(keys::ENTER);
    p.wait_gone("Enter keeps · Esc restores", TIMEOUT);
    p.send(keys::ENTER);
    p.wait_for("State          draft", TIMEOUT);
    p.wait_for(
        &format!("Partner        {partner_name} (#{partner})"),
        TIMEOUT,
    );
    let id: i64 = p
        .lines()
        .iter()
        .find_map(|l| {
            let rest = &l[l.find("┌ Deal #")? + "┌ Deal #".len()..];
            rest.split_whitespace().next()?.parse().ok()
        })
        .unwrap_or_else(|| panic!("the detail's title names the deal:\n{}", p.dump()));
    let (deal_partner, state): (i64, String) =
        sqlx::query_as("SELECT partner_id, state FROM deals WHERE id = $1")
            .bind(id)
            .fetch_one(&db.pool)
            .await
            .expect("the deal shown");
    assert_eq!((deal_partner, state.as_str()), (partner, "draft"));
    let before = deals_fingerprint(&db).await;

    // Activating is refused before anything is asked, and the console says why and what to
    // do.
    p.send("a");
    p.wait_for("not verified", TIMEOUT);
    assert!(
        !p.screen().contains("Activate “"),
        "refused before asking:\n{}",
        p.dump()
    );
    let toast = p
        .lines()
        .into_iter()
        .find(|l| l.contains("not verified"))
        .expect("the refusal");
    assert!(
        toast.contains(&format!("partner {partner_name} (#{partner})"))
            && toast.contains("is pending, not verified")
            && toast.contains("vet the partner first"),
        "the refusal names the partner, why and what to do: {toast:?}\n{}",
        p.dump()
    );
    assert!(
        !p.screen().contains("is now active"),
        "nothing was activated:\n{}",
        p.dump()
    );
    p.wait_for("State          draft", TIMEOUT);
    quit(&mut p);

    assert_eq!(
        deals_fingerprint(&db).await,
        before,
        "nothing changed in the database"
    );
    assert_eq!(
        scalar_i64(
            &db,
            "SELECT count(*) FROM deal_search_documents WHERE deal_id = $1",
            id
        )
        .await,
        0
    );
}

#[tokio::test]
async fn import_with_preview() {
    let db = seeded(OPERATOR).await;
    let (partner, domain): (i64, String) = sqlx::query_as(
        "SELECT id, domain FROM partners WHERE verification = 'verified' AND deleted_at IS NULL
           AND domain IS NOT NULL ORDER BY id LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .expect("a verified partner with a domain");
    let now = chrono::Utc::now();
    let from = (now + chrono::Duration::days(1))
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let until = (now + chrono::Duration::days(31))
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let header = "partner,title,description,kind,coupon_code,redemption_url,categories,audience_scope,audience_scope_value,valid_from,valid_until,redemption_cap";
    let home = Home::new();
    let good = home.path().join("deals-ok.csv");
    std::fs::write(
        &good,
        format!(
            "{header}\n\
             {partner},E2E Import Alpha,Ten codes,coupon,ALPHA10,,food;gifts,public,,{from},{until},10\n\
             {domain},E2E Import Beta,,link,,https://{domain}/e2e,,batch,2015,{from},{until},\n"
        ),
    )
    .expect("write the CSV");
    let bad = home.path().join("deals-bad.csv");
    std::fs::write(
        &bad,
        format!(
            "{header}\n\
             {partner},E2E Import Gamma,,coupon,GAMMA1,,,public,,{from},{until},\n\
             {partner},E2E Import Delta,,coupon,,,,public,,{from},{until},\n"
        ),
    )
    .expect("write the CSV");

    let mut p = console(&db, &home, OPERATOR, &[], 120, 40);
    wait_ready(&p);
    open_deals(&p);

    // A good file: the preview lists the rows; Import writes them.
    let before = db.count("SELECT count(*) FROM deals").await;
    let path = good.display().to_string();
    p.send("I");
    p.wait_for("Import deals from CSV", TIMEOUT);
    p.type_each(&path);
    p.wait_for(path.rsplit('/').next().unwrap_or(&path), TIMEOUT);
    p.send(keys::ENTER);
    p.wait_for("2 rows valid. They will be created:", TIMEOUT);
    p.wait_for("line 2: E2E Import Alpha (coupon, draft)", TIMEOUT);
    p.wait_for("line 3: E2E Import Beta (link, draft)", TIMEOUT);
    wait_selected(&p, "Cancel");
    assert_eq!(
        db.count("SELECT count(*) FROM deals").await,
        before,
        "the preview writes nothing"
    );
    p.send(keys::RIGHT);
    wait_selected(&p, "Import");
    p.send(keys::ENTER);
    p.wait_for("imported 2 deals", TIMEOUT);
    p.wait_gone("They will be created", TIMEOUT);
    p.wait_until("the imported deals in the list", TIMEOUT, |s| {
        let rows = deal_rows(s);
        !s.contains("loading…")
            && rows.iter().any(|r| r.starts_with("│E2E Import Alpha "))
            && rows.iter().any(|r| r.starts_with("│E2E Import Beta "))
    });

    type Imported = (
        i64,
        String,
        String,
        Option<String>,
        Option<String>,
        String,
        Option<String>,
        Option<i32>,
        Vec<String>,
        String,
        String,
    );
    let rows: Vec<Imported> = sqlx::query_as(
        "SELECT partner_id, title, kind, coupon_code, redemption_url, audience_scope,
                audience_scope_value, redemption_cap, categories, state, created_by
         FROM deals WHERE title LIKE 'E2E Import %' ORDER BY title",
    )
    .fetch_all(&db.pool)
    .await
    .expect("the imported deals");
    assert_eq!(rows.len(), 2, "both rows imported: {rows:?}");
    let alpha = &rows[0];
    assert_eq!(
        (
            alpha.0,
            alpha.1.as_str(),
            alpha.2.as_str(),
            alpha.3.as_deref(),
            alpha.5.as_str(),
            alpha.7,
            alpha.8.clone(),
            alpha.9.as_str(),
            alpha.10.as_str(),
        ),
        (
            partner,
            "E2E Import Alpha",
            "coupon",
            Some("ALPHA10"),
            "public",
            Some(10),
            vec!["food".to_owned(), "gifts".to_owned()],
            "draft",
            OPERATOR,
        )
    );
    let beta = &rows[1];
    let beta_url = format!("https://{domain}/e2e");
    assert_eq!(
        (
            beta.0,
            beta.1.as_str(),
            beta.2.as_str(),
            beta.4.as_deref(),
            beta.5.as_str(),
            beta.6.as_deref(),
            beta.7,
            beta.9.as_str(),
        ),
        (
            partner,
            "E2E Import Beta",
            "link",
            Some(beta_url.as_str()),
            "batch",
            Some("2015"),
            None,
            "draft",
        ),
        "the partner given by its domain"
    );
    let audits: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT a.action, a.actor, a.reason FROM audit_log a
         JOIN deals d ON a.entity_type = 'deal' AND a.entity_id = d.id::text
         WHERE d.title LIKE 'E2E Import %' ORDER BY a.id",
    )
    .fetch_all(&db.pool)
    .await
    .expect("the imported deals' audit rows");
    assert_eq!(audits.len(), 2, "one audit row per deal: {audits:?}");
    for (action, actor, reason) in &audits {
        assert_eq!(action, "deal.create");
        assert_eq!(actor, OPERATOR);
        let reason = reason.as_deref().unwrap_or_default();
        assert!(
            reason.starts_with("import ") && reason.ends_with("deals-ok.csv"),
            "audited as the import of the file: {reason:?}"
        );
    }

    // A file with a bad row: the preview names the line, field and rule; nothing is written.
    let before = deals_fingerprint(&db).await;
    let path = bad.display().to_string();
    p.send("I");
    p.wait_for("Import deals from CSV", TIMEOUT);
    p.type_each(&path);
    p.wait_for(path.rsplit('/').next().unwrap_or(&path), TIMEOUT);
    p.send(keys::ENTER);
    p.wait_for(
        "1 of 2 rows have a problem; nothing will be imported",
        TIMEOUT,
    );
    p.wait_for("line 3: coupon_code: required when kind is coupon", TIMEOUT);
    let screen = p.screen();
    assert!(
        !screen.contains("line 2:") && !screen.contains("They will be created"),
        "only the bad line is reported, and nothing is offered to import:\n{}",
        p.dump()
    );
    assert!(
        !selection(&p).iter().any(|t| t == "Import"),
        "there is no Import to choose: {:?}",
        selection(&p)
    );
    p.send(keys::ESC);
    p.wait_gone("nothing will be imported", TIMEOUT);
    quit(&mut p);
    assert_eq!(
        deals_fingerprint(&db).await,
        before,
        "nothing was written for the bad file"
    );
    assert_eq!(
        db.count(
            "SELECT count(*) FROM deals WHERE title IN ('E2E Import Gamma', 'E2E Import Delta')"
        )
        .await,
        0
    );
}
