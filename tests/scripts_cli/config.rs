//! `--config`, doctor's config step, subcommand help and the export's file name in errors.

use crate::cli::{TempDir, command, output, pd};
use crate::common::{TestDb, active_deal};
use crate::{USAGE, error_lines, run};

#[tokio::test]
async fn a_missing_config_file_is_an_error_naming_it() {
    let db = TestDb::new().await;
    let dir = TempDir::new("pd-config");
    let missing = dir.path("missing.toml").display().to_string();
    let out = run(&db, "u", &["--config", &missing, "operators", "list"]);
    assert_eq!(
        error_lines(&out, USAGE),
        [format!("--config {missing}: no such file")]
    );
    // Given after the subcommand, the same.
    let out = run(&db, "u", &["partners", "list", "--config", &missing]);
    assert_eq!(
        error_lines(&out, USAGE),
        [format!("--config {missing}: no such file")]
    );
    // A bad file names the file, the line and the reason.
    let bad = dir.file("bad.toml", "operator = \"cara\"\nbogus = 1\n");
    let out = run(&db, "u", &["--config", &bad, "partners", "list"]);
    let lines = error_lines(&out, USAGE);
    assert!(
        lines[0].starts_with(&format!("{bad}:2: unknown field `bogus`")),
        "{out}"
    );
    // A good one is used.
    let good = dir.file("good.toml", "operator = \"cara\"\n");
    db.curator().await;
    let out = run(
        &db,
        "u",
        &[
            "--config",
            &good,
            "partners",
            "add",
            "--legal-name",
            "A Ltd",
            "--display-name",
            "A",
        ],
    );
    out.success();
    let by: String = sqlx::query_scalar("SELECT created_by FROM partners")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(by, "cara", "the config file's operator");
}

/// The line of doctor's report for `step`.
fn step<'a>(lines: &'a [String], status: &str, step: &str) -> &'a str {
    let prefix = format!("  {status:<4}  {step}");
    lines
        .iter()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("a line starting {prefix:?} in {lines:#?}"))
}

#[tokio::test]
async fn a_missing_or_bad_config_file_is_a_failed_doctor_step_not_the_end_of_it() {
    let db = TestDb::new().await;
    db.admin().await;
    let dir = TempDir::new("pd-doctor-config");
    let missing = dir.path("missing.toml").display().to_string();
    let bad = dir.file("bad.toml", "profile = [\n");

    for (file, reason) in [
        (missing.clone(), format!("--config {missing}: no such file")),
        (bad.clone(), format!("{bad}:")),
    ] {
        let out = run(&db, "ada", &["--config", &file, "doctor"]);
        assert_eq!(out.code, 1, "a failed step:{out}");
        out.assert_clean();
        assert_eq!(out.stderr, "", "{out}");
        let lines = out.stdout_lines();
        let config = step(&lines, "FAIL", "config");
        assert!(config.contains(&reason), "{out}");
        assert!(
            config.ends_with("(the other steps use the defaults)"),
            "{out}"
        );
        // Every other step still ran.
        for s in ["logs", "connection", "server", "migrations", "operator"] {
            step(&lines, "ok", s);
        }
        assert_eq!(lines.last().map(String::as_str), Some("some checks failed"));
    }
}

#[test]
fn subcommand_help_shows_only_the_flags_it_uses() {
    for sub in [
        &["doctor"][..],
        &["migrate"],
        &["operators", "list"],
        &["partners", "add"],
        &["partners", "list"],
        &["deals", "add"],
        &["deals", "list"],
        &["deals", "import"],
        &["export", "redemptions"],
        &["simulate"],
    ] {
        let mut args = sub.to_vec();
        args.push("--help");
        let out = pd(None, "u", &args);
        out.success();
        let text = out.stdout_text();
        for console_only in ["--theme", "--read-only"] {
            assert!(!text.contains(console_only), "{console_only} in:{out}");
        }
        for global in ["--database-url", "--profile", "--operator", "--config"] {
            assert!(text.contains(global), "{global} in:{out}");
        }
    }
    // The console's own flags are on the console.
    let out = pd(None, "u", &["--help"]);
    out.success();
    for flag in ["--theme", "--read-only", "partners", "deals"] {
        assert!(out.stdout_text().contains(flag), "{flag}:{out}");
    }
}

#[test]
fn the_new_subcommands_document_their_flags_and_formats() {
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["partners"],
            &[
                "add", "edit", "vet", "disable", "revet", "delete", "offboard", "list", "show",
            ],
        ),
        (
            &["partners", "add"],
            &[
                "--legal-name",
                "--display-name",
                "--website",
                "--logo-url",
                "--contact-email",
                "--category",
                "--region",
                "--notes",
                "--json",
                "exit code 3",
            ],
        ),
        (&["partners", "edit"], &["<ID>", "--version", "--region"]),
        (&["partners", "delete"], &["<ID>", "--reason", "--version"]),
        (
            &["partners", "list"],
            &["--text", "--state", "--sort", "--limit", "--json"],
        ),
        (
            &["deals"],
            &[
                "add", "edit", "activate", "pause", "expire", "list", "show", "search", "import",
            ],
        ),
        (
            &["deals", "add"],
            &[
                "--partner",
                "--title",
                "--description",
                "--kind",
                "--coupon-code",
                "--redemption-url",
                "--category",
                "--audience-scope",
                "--audience-scope-value",
                "--valid-from",
                "--valid-until",
                "--cap",
                "RFC 3339",
                "YYYY-MM-DD HH:MM",
                "UTC",
            ],
        ),
        (&["deals", "edit"], &["<ID>", "--version", "--cap <N|none>"]),
        (&["deals", "activate"], &["<ID>", "--reason", "--version"]),
        (
            &["deals", "list"],
            &[
                "--state",
                "--partner",
                "--text",
                "--scope",
                "--category",
                "--limit",
                "--json",
            ],
        ),
        (
            &["simulate"],
            &[
                "simulate --cleanup RUN",
                "Simulation RUN",
                "refused",
                "marked vetted",
                "active public coupon deal",
                "members",
                "redemption row",
            ],
        ),
    ];
    for (sub, wanted) in cases {
        let mut args = sub.to_vec();
        args.push("--help");
        let out = pd(None, "u", &args);
        out.success();
        for w in *wanted {
            assert!(out.stdout_text().contains(w), "{w} documented:{out}");
        }
    }
}

#[tokio::test]
async fn an_export_error_names_the_file_asked_for_not_the_temporary_one() {
    let db = TestDb::new().await;
    let admin = db.admin().await;
    let deal = active_deal(&admin, "EXPF").await;
    let dir = TempDir::new("pd-export-name");
    let nowhere = dir.path("no-such-folder").join("out.csv");
    let nowhere = nowhere.display().to_string();
    let d = deal.id.to_string();
    let args = ["export", "redemptions", "--deal", &d, "--out", &nowhere];
    let home = TempDir::new("pd-export-home");
    let out = output(&mut command(Some(&db), "ada", &args, &home), &args);
    let line = out.error_line(1);
    assert_eq!(line, format!("cannot write {nowhere}: no such directory"));
    assert!(!line.contains("partial"), "{line}");
}
