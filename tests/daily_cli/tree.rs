//! The command tree, walked whole: every argument says what it is, and every list, show and
//! search takes `--json` (issue 22, items 18 and 19). Neither can drift: a new flag without
//! help, or a new list without `--json`, fails here.

use clap::CommandFactory;
use partnerdesk::cli::Cli;

/// Every command with its path (`partnerdesk referrals claim`), clap's own `help` subcommands
/// left out.
fn commands() -> Vec<(String, clap::Command)> {
    fn walk(cmd: &clap::Command, path: &str, out: &mut Vec<(String, clap::Command)>) {
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let p = format!("{path} {}", sub.get_name());
            out.push((p.clone(), sub.clone()));
            walk(sub, &p, out);
        }
    }
    let mut root = Cli::command();
    root.build();
    let mut out = vec![("partnerdesk".to_owned(), root.clone())];
    walk(&root, "partnerdesk", &mut out);
    out
}

#[test]
fn every_argument_and_flag_says_what_it_is() {
    let mut missing = Vec::new();
    for (path, cmd) in commands() {
        for a in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
            let help = a
                .get_help()
                .or(a.get_long_help())
                .map(|h| h.to_string())
                .unwrap_or_default();
            if help.trim().is_empty() {
                let name = match a.get_long() {
                    Some(l) => format!("--{l}"),
                    None => format!("<{}>", a.get_id().as_str().to_uppercase()),
                };
                missing.push(format!("{path} {name}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "arguments without help text:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_list_show_and_search_takes_json() {
    let reads = ["list", "show", "search", "deliveries", "attempts"];
    let mut without: Vec<String> = commands()
        .into_iter()
        .filter(|(_, c)| reads.contains(&c.get_name()))
        .filter(|(_, c)| !c.get_arguments().any(|a| a.get_long() == Some("json")))
        .map(|(p, _)| p)
        .collect();
    without.sort();
    assert_eq!(
        without,
        Vec::<String>::new(),
        "lists and shows without --json"
    );
    // The ones the issue named are among those walked.
    let names: Vec<String> = commands().into_iter().map(|(p, _)| p).collect();
    for p in ["partnerdesk operators list", "partnerdesk deals search"] {
        assert!(names.iter().any(|n| n == p), "{p} in {names:?}");
    }
}

#[test]
fn every_date_flag_says_how_a_bare_date_reads() {
    // Each flag that takes a time says that it is UTC and what a bare date means there.
    let (mut vague, mut seen) = (Vec::new(), 0);
    for (path, cmd) in commands() {
        for a in cmd.get_arguments() {
            let Some(name) = a.get_value_names().and_then(|v| v.first()) else {
                continue;
            };
            if !matches!(name.as_str(), "TIME" | "T") {
                continue;
            }
            seen += 1;
            let help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
            let says_day = help.contains("00:00") || help.contains("whole day");
            if !(help.contains("UTC") && help.contains("YYYY-MM-DD") && says_day) {
                vague.push(format!("{path} --{}: {help}", a.get_long().unwrap_or("?")));
            }
        }
    }
    assert!(seen >= 10, "only {seen} time flags found");
    assert!(
        vague.is_empty(),
        "time flags that do not say:\n{}",
        vague.join("\n")
    );
}
