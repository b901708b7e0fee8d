//! Themes: `themes/default.toml` and `themes/mono.toml` are built in; a file of the same name
//! (or a new name) in the config directory's `themes/` overrides the styles it names.
//! `NO_COLOR` strips every colour and keeps only text attributes.

use crate::config::describe_toml_error;
use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

pub const DEFAULT_THEME: &str = include_str!("../../themes/default.toml");
pub const MONO_THEME: &str = include_str!("../../themes/mono.toml");

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StyleSpec {
    fg: Option<String>,
    bg: Option<String>,
    #[serde(default)]
    bold: bool,
    #[serde(default)]
    italic: bool,
    #[serde(default)]
    underline: bool,
    #[serde(default)]
    reversed: bool,
    #[serde(default)]
    dim: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    #[serde(default)]
    styles: BTreeMap<String, StyleSpec>,
}

macro_rules! theme_styles {
    ($($field:ident),+ $(,)?) => {
        /// Every style the console uses.
        #[derive(Debug, Clone, PartialEq)]
        pub struct Theme {
            pub name: String,
            $(pub $field: Style,)+
        }

        impl Theme {
            fn blank(name: &str) -> Self {
                Self { name: name.to_owned(), $($field: Style::default(),)+ }
            }

            fn slot(&mut self, key: &str) -> Option<&mut Style> {
                match key { $(stringify!($field) => Some(&mut self.$field),)+ _ => None }
            }

            fn for_each(&mut self, f: impl Fn(Style) -> Style) {
                $(self.$field = f(self.$field);)+
            }
        }
    };
}

theme_styles!(
    title,
    tab,
    tab_active,
    header,
    selected,
    marked,
    border,
    border_focus,
    status,
    status_ok,
    status_warn,
    status_error,
    ok,
    warn,
    error,
    muted,
    key,
    label,
    input,
    input_focus,
    toast,
    toast_error,
);

impl Theme {
    pub fn builtin(name: &str) -> Option<Theme> {
        let text = match name {
            "default" => DEFAULT_THEME,
            "mono" => MONO_THEME,
            _ => return None,
        };
        let mut t = Theme::blank(name);
        t.merge_text(text, Path::new(&format!("themes/{name}.toml")))
            .expect("built-in themes are valid");
        Some(t)
    }

    /// The named theme: built in, then the user's file of that name on top. A problem is
    /// reported (file, line, reason) and the default theme is used.
    pub fn load(name: &str, user_dir: &Path, no_color: bool) -> (Theme, Option<String>) {
        let user_file = user_dir.join(format!("{name}.toml"));
        let base = Theme::builtin(name);
        let (mut theme, warning) = match (base, std::fs::read_to_string(&user_file)) {
            (Some(mut t), Ok(text)) => match t.merge_text(&text, &user_file) {
                Ok(()) => (t, None),
                Err(e) => (Theme::builtin("default").expect("built in"), Some(e)),
            },
            (Some(t), Err(_)) => (t, None),
            (None, Ok(text)) => {
                let mut t = Theme::builtin("default").expect("built in");
                t.name = name.to_owned();
                match t.merge_text(&text, &user_file) {
                    Ok(()) => (t, None),
                    Err(e) => (Theme::builtin("default").expect("built in"), Some(e)),
                }
            }
            (None, Err(_)) => (
                Theme::builtin("default").expect("built in"),
                Some(format!(
                    "unknown theme '{name}' (built in: default, mono; or add {})",
                    user_file.display()
                )),
            ),
        };
        if no_color {
            theme.strip_colours();
        }
        (theme, warning)
    }

    fn merge_text(&mut self, text: &str, path: &Path) -> Result<(), String> {
        let file: ThemeFile =
            toml::from_str(text).map_err(|e| describe_toml_error(path, text, &e))?;
        let line_of = |needle: &str| {
            text.lines()
                .position(|l| l.trim_start().starts_with(needle))
                .map(|i| i + 1)
                .unwrap_or(1)
        };
        for (key, spec) in file.styles {
            let line = line_of(&key);
            let style =
                to_style(&spec).map_err(|r| format!("{}:{line}: {key}: {r}", path.display()))?;
            let slot = self
                .slot(&key)
                .ok_or_else(|| format!("{}:{line}: unknown style '{key}'", path.display()))?;
            *slot = style;
        }
        Ok(())
    }

    /// `NO_COLOR`: keep attributes, drop colours; selection becomes reversed video.
    pub fn strip_colours(&mut self) {
        self.for_each(|s| Style {
            fg: None,
            bg: None,
            underline_color: None,
            ..s
        });
        self.selected = self.selected.add_modifier(Modifier::REVERSED);
        self.tab_active = self.tab_active.add_modifier(Modifier::REVERSED);
        self.input_focus = self.input_focus.add_modifier(Modifier::UNDERLINED);
        self.toast = self.toast.add_modifier(Modifier::REVERSED);
        self.toast_error = self
            .toast_error
            .add_modifier(Modifier::REVERSED | Modifier::BOLD);
    }
}

fn colour(s: &str) -> Result<Color, String> {
    s.parse::<Color>()
        .map_err(|_| format!("unknown colour '{s}' (a name like cyan, #rrggbb, or 0-255)"))
}

fn to_style(spec: &StyleSpec) -> Result<Style, String> {
    let mut s = Style::default();
    if let Some(fg) = &spec.fg {
        s = s.fg(colour(fg)?);
    }
    if let Some(bg) = &spec.bg {
        s = s.bg(colour(bg)?);
    }
    let mut m = Modifier::empty();
    for (on, flag) in [
        (spec.bold, Modifier::BOLD),
        (spec.italic, Modifier::ITALIC),
        (spec.underline, Modifier::UNDERLINED),
        (spec.reversed, Modifier::REVERSED),
        (spec.dim, Modifier::DIM),
    ] {
        if on {
            m |= flag;
        }
    }
    Ok(s.add_modifier(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_load() {
        let d = Theme::builtin("default").unwrap();
        assert_eq!(d.header.fg, Some(Color::Rgb(0xff, 0xd3, 0x7f)));
        let m = Theme::builtin("mono").unwrap();
        // The mono theme uses only the 16 ANSI colours.
        let all = [
            m.title,
            m.tab,
            m.tab_active,
            m.header,
            m.selected,
            m.border,
            m.status,
            m.ok,
            m.warn,
            m.error,
            m.muted,
            m.key,
            m.toast,
        ];
        for s in all {
            for c in [s.fg, s.bg].into_iter().flatten() {
                assert!(
                    !matches!(c, Color::Rgb(..) | Color::Indexed(_)),
                    "{c:?} is not one of the 16"
                );
            }
        }
    }

    #[test]
    fn no_color_keeps_only_attributes() {
        let mut t = Theme::builtin("default").unwrap();
        t.strip_colours();
        assert_eq!(t.header.fg, None);
        assert!(t.header.add_modifier.contains(Modifier::BOLD));
        assert!(t.selected.add_modifier.contains(Modifier::REVERSED));
    }

    #[test]
    fn bad_user_theme_is_reported_and_default_used() {
        let dir = std::env::temp_dir().join(format!("pd-theme-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("default.toml"),
            "[styles]\ntitle = { fg = \"cyan\" }\nheader = { fg = \"plaid\" }\n",
        )
        .unwrap();
        let (t, warn) = Theme::load("default", &dir, false);
        let warn = warn.unwrap();
        assert!(warn.ends_with("default.toml:3: header: unknown colour 'plaid' (a name like cyan, #rrggbb, or 0-255)"), "{warn}");
        assert_eq!(t, Theme::builtin("default").unwrap());
        std::fs::remove_dir_all(&dir).ok();
    }
}
