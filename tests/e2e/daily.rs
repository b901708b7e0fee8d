//! What a new user tripped over (issue "Daily use"), in the real console.

use super::*;

/// A private tmux server with its default settings (`-f /dev/null`), removed when dropped.
struct Tmux {
    socket: PathBuf,
}

impl Tmux {
    fn start(home: &Home) -> Tmux {
        let socket = home.path().join("tmux.sock");
        let ok = std::process::Command::new("tmux")
            .arg("-S")
            .arg(&socket)
            .args([
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-x",
                "80",
                "-y",
                "24",
            ])
            .status()
            .expect("tmux is installed (scripts/test.sh installs it)");
        assert!(ok.success(), "tmux new-session failed");
        Tmux { socket }
    }

    /// `TMUX` as tmux sets it for the programs in its panes.
    fn env(&self) -> (String, String) {
        ("TMUX".into(), format!("{},1,0", self.socket.display()))
    }

    fn buffer(&self) -> Option<String> {
        let out = std::process::Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("show-buffer")
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = std::process::Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("kill-server")
            .status();
    }
}

/// `y` inside tmux with its default settings reaches tmux's clipboard, and the toast says
/// what was copied.
#[tokio::test]
async fn copy_inside_tmux_reaches_its_clipboard_and_says_what() {
    let db = seeded(OPERATOR).await;
    let home = Home::new();
    let tmux = Tmux::start(&home);
    let mut env = env_for(&db, &home, OPERATOR);
    env.push(tmux.env());
    let mut p = Pty::spawn(BIN, &[], &env, home.path(), 120, 40);
    wait_ready(&p);
    let first = list_names(&p)[0].clone();
    p.send("y");
    p.wait_for("copied partner id", TIMEOUT);
    let screen = p.screen();
    let id: i64 = screen
        .split("copied partner id ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the toast names the id:\n{screen}"));
    assert_eq!(tmux.buffer().as_deref(), Some(id.to_string().as_str()));
    let name: String = sqlx::query_scalar("SELECT display_name FROM partners WHERE id = $1")
        .bind(id)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert!(
        first.starts_with(name.chars().take(12).collect::<String>().as_str()),
        "{first} vs {name}"
    );
    quit(&mut p);
}
