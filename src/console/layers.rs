//! The console's dependency direction, checked: framework ← panes ← app. The framework
//! (`action`, `detail`, `form`, `keymap`, `list`, `msg`, `pane`, `shell`, `view`, …) knows no
//! pane and no app; a pane (`panes/NAME/`) knows the framework and other panes, never the
//! registry (`panes/mod.rs`) nor the app (`app`, `runtime`, `screen`); the app knows all.
//! A test reads every file's paths (`crate::console::…`, `super::…`) and fails on a path
//! against the direction, naming the file, the line and the path.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    Framework,
    Pane,
    App,
}

/// The layer of a module, by its path under `console` (`["panes", "deals", "view"]`).
pub fn layer_of(module: &[String]) -> Layer {
    match module.first().map(String::as_str) {
        None | Some("app" | "runtime" | "screen") => Layer::App,
        Some("panes") if module.len() == 1 => Layer::App,
        Some("panes") => Layer::Pane,
        Some(_) => Layer::Framework,
    }
}

/// The module a file under `src/console` is (`panes/deals/mod.rs` → `["panes", "deals"]`).
pub fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// The console modules a line of `module` names: each `crate::console::a::b` and each
/// `super::…` path, resolved to a module path under `console` (as far as the names in it are
/// modules: lower-case words).
pub fn paths_in(module: &[String], line: &str) -> Vec<Vec<String>> {
    let code = line.split("//").next().unwrap_or("");
    let mut out = Vec::new();
    let words = |rest: &str| -> Vec<String> {
        rest.split("::")
            .map(|w| {
                w.chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect::<String>()
            })
            .take_while(|w| {
                !w.is_empty() && w.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            })
            .collect()
    };
    for (i, _) in code.match_indices("crate::console::") {
        out.push(words(&code[i + "crate::console::".len()..]));
    }
    let bytes = code.as_bytes();
    let mut i = 0;
    while let Some(off) = code[i..].find("super::") {
        let start = i + off;
        let preceded = start > 0
            && (bytes[start - 1].is_ascii_alphanumeric()
                || bytes[start - 1] == b':'
                || bytes[start - 1] == b'_');
        let mut rest = &code[start..];
        let mut ups = 0;
        while let Some(r) = rest.strip_prefix("super::") {
            ups += 1;
            rest = r;
        }
        i = code.len() - rest.len();
        if preceded {
            continue;
        }
        let mut base: Vec<String> = module.to_vec();
        for _ in 0..ups {
            base.pop();
        }
        base.extend(words(rest));
        out.push(base);
    }
    out
}

/// May a module of layer `from` name `to`?
pub fn allowed(from: Layer, to: &[String]) -> bool {
    let target = layer_of(to);
    match from {
        Layer::App => true,
        Layer::Pane => target != Layer::App,
        Layer::Framework => target == Layer::Framework,
    }
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Every module of the framework that takes part in a cycle of framework modules (`a → b →
/// … → a`), each cycle named once.
pub fn framework_cycles(console_dir: &Path) -> Vec<String> {
    let graph = graph(console_dir);
    let framework: Vec<&Vec<String>> = graph
        .keys()
        .filter(|m| layer_of(m) == Layer::Framework)
        .collect();
    let mut cycles = Vec::new();
    // A depth-first walk from each module, on framework edges only.
    for start in &framework {
        let mut stack: Vec<(Vec<String>, Vec<Vec<String>>)> = vec![((*start).clone(), vec![])];
        let mut seen = std::collections::BTreeSet::new();
        while let Some((m, path)) = stack.pop() {
            for next in graph.get(&m).into_iter().flatten() {
                if layer_of(next) != Layer::Framework {
                    continue;
                }
                if next == *start {
                    let mut names: Vec<String> = path.iter().map(|p| p.join("::")).collect();
                    names.insert(0, start.join("::"));
                    names.push(next.join("::"));
                    let mut key: Vec<String> = names[..names.len() - 1].to_vec();
                    key.sort();
                    let text = names.join(" → ");
                    if !cycles.iter().any(|(k, _)| *k == key) {
                        cycles.push((key, text));
                    }
                } else if seen.insert(next.clone()) {
                    let mut p = path.clone();
                    p.push(next.clone());
                    stack.push((next.clone(), p));
                }
            }
        }
    }
    cycles.into_iter().map(|(_, t)| t).collect()
}

/// The modules each module's files name, resolved to the modules that exist (a path to an
/// item is a path to the module that holds it).
fn graph(console_dir: &Path) -> std::collections::BTreeMap<Vec<String>, Vec<Vec<String>>> {
    let mut all = Vec::new();
    files(console_dir, &mut all);
    let modules: Vec<(Vec<String>, PathBuf)> = all
        .iter()
        .map(|f| {
            let rel = f.strip_prefix(console_dir).unwrap_or(f);
            (module_of(rel), f.clone())
        })
        .collect();
    let known: std::collections::BTreeSet<Vec<String>> =
        modules.iter().map(|(m, _)| m.clone()).collect();
    let resolve = |p: &[String]| -> Vec<String> {
        (0..=p.len())
            .rev()
            .map(|n| p[..n].to_vec())
            .find(|m| known.contains(m))
            .unwrap_or_default()
    };
    let mut out = std::collections::BTreeMap::new();
    for (module, file) in &modules {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let mut to: Vec<Vec<String>> = Vec::new();
        // Test modules (at the end of a file) are left out: they are not the module's code.
        for line in text.lines().take_while(|l| l.trim() != "#[cfg(test)]") {
            if line.trim_start().starts_with("mod ") || line.trim_start().starts_with("pub mod ") {
                continue;
            }
            for p in paths_in(module, line) {
                let m = resolve(&p);
                if m != *module && !to.contains(&m) {
                    to.push(m);
                }
            }
        }
        out.insert(module.clone(), to);
    }
    out
}

/// Every path against the direction, as `file:line: path`.
pub fn violations(console_dir: &Path) -> Vec<String> {
    let mut all = Vec::new();
    files(console_dir, &mut all);
    all.sort();
    // `#[path = "f.rs"] mod name;` makes `f.rs` the module `name` of the declaring module.
    let mut declared: Vec<(PathBuf, Vec<String>)> = Vec::new();
    for file in &all {
        let rel = file.strip_prefix(console_dir).unwrap_or(file);
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        for (i, l) in lines.iter().enumerate() {
            let Some(target) = l
                .strip_prefix("#[path = \"")
                .and_then(|r| r.split('"').next())
            else {
                continue;
            };
            let name = lines[i + 1..]
                .iter()
                .find_map(|l| {
                    l.strip_prefix("mod ")
                        .or_else(|| l.strip_prefix("pub mod "))
                })
                .map(|n| n.trim_end_matches(';').to_owned());
            if let Some(name) = name {
                let mut module = module_of(rel);
                module.push(name);
                let dir = rel.parent().unwrap_or(Path::new(""));
                declared.push((dir.join(target), module));
            }
        }
    }
    let mut bad = Vec::new();
    for file in all {
        let rel = file.strip_prefix(console_dir).unwrap_or(&file);
        let module = declared
            .iter()
            .find(|(p, _)| p == rel)
            .map(|(_, m)| m.clone())
            .unwrap_or_else(|| module_of(rel));
        // `mod.rs` of the console itself is the app.
        let from = layer_of(&module);
        if module == ["layers"] {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        // Inline modules (`mod tests { … }`) and `#[path]` files nest the module further.
        let mut inline: Vec<(String, i64)> = Vec::new();
        let mut depth: i64 = 0;
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("").trim();
            let mut here = module.clone();
            here.extend(inline.iter().map(|(m, _)| m.clone()));
            for to in paths_in(&here, line) {
                if !allowed(from, &to) {
                    bad.push(format!(
                        "src/console/{}:{}: {:?} code names {} ({:?})",
                        rel.display(),
                        n + 1,
                        from,
                        if to.is_empty() {
                            "console".to_owned()
                        } else {
                            to.join("::")
                        },
                        layer_of(&to)
                    ));
                }
            }
            let decl = code
                .strip_prefix("pub ")
                .unwrap_or(code)
                .strip_prefix("mod ")
                .map(|r| r.trim_end_matches(['{', ';', ' ']).to_owned());
            if let Some(name) = decl.filter(|_| code.ends_with('{')) {
                inline.push((name, depth));
            }
            depth += code.matches('{').count() as i64 - code.matches('}').count() as i64;
            while inline
                .last()
                .is_some_and(|(_, d)| depth <= *d && !code.ends_with('{'))
            {
                inline.pop();
            }
        }
    }
    bad
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Vec<String> {
        s.split('/')
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn paths_resolve_against_the_module() {
        let deals = m("panes/deals");
        assert_eq!(
            paths_in(&deals, "use super::{Answer, Pane};"),
            vec![m("panes")]
        );
        assert_eq!(
            paths_in(&m("panes/deals/view"), "use super::DealsPane;"),
            vec![m("panes/deals")]
        );
        assert_eq!(
            paths_in(&m("screen/chrome"), "use super::super::app::App;"),
            vec![m("app")]
        );
        assert_eq!(
            paths_in(
                &deals,
                "x(crate::console::pane::fx(e)); // crate::console::app"
            ),
            vec![m("pane/fx")]
        );
        assert!(!allowed(Layer::Framework, &m("panes")));
        assert!(!allowed(Layer::Framework, &m("panes/deals")));
        assert!(!allowed(Layer::Pane, &m("panes")));
        assert!(!allowed(Layer::Pane, &m("app")));
        assert!(allowed(Layer::Pane, &m("panes/partners")));
        assert!(allowed(Layer::App, &m("panes/partners")));
    }

    #[test]
    fn no_framework_module_depends_on_itself_through_others() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/console");
        let cycles = framework_cycles(&dir);
        assert!(
            cycles.is_empty(),
            "cycles in the framework:\n{}",
            cycles.join("\n")
        );
    }

    #[test]
    fn the_framework_knows_no_pane_and_no_pane_knows_the_app() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/console");
        let bad = violations(&dir);
        assert!(
            bad.is_empty(),
            "against framework ← panes ← app:\n{}",
            bad.join("\n")
        );
    }
}
