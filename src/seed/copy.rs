//! How the demo seed writes its rows: `COPY … FROM STDIN` in CSV, sent in chunks with
//! progress, and the CSV, array and timestamp text it is made of.

use super::Progress;
use crate::error::{Error, Result};
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use std::fmt::Write as _;

pub(super) async fn copy_rows(
    conn: &mut PgConnection,
    statement: &str,
    total: u64,
    phase: &str,
    progress: Progress<'_>,
    mut write_row: impl FnMut(&mut String, u64),
) -> Result<()> {
    const CHUNK: usize = 1 << 20;
    let mut copy = conn.copy_in_raw(statement).await.map_err(Error::from)?;
    let mut buf = String::with_capacity(CHUNK + 4096);
    progress(phase, 0, total);
    for i in 0..total {
        write_row(&mut buf, i);
        if buf.len() >= CHUNK {
            copy.send(buf.as_bytes()).await?;
            buf.clear();
            progress(phase, i + 1, total);
        }
    }
    if !buf.is_empty() {
        copy.send(buf.as_bytes()).await?;
    }
    copy.finish().await?;
    progress(phase, total, total);
    Ok(())
}

/// One CSV line; `None` is NULL (unquoted empty), everything else is quoted.
pub(super) fn row(buf: &mut String, fields: &[Option<&str>]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            buf.push(',');
        }
        if let Some(v) = f {
            buf.push('"');
            for c in v.chars() {
                if c == '"' {
                    buf.push('"');
                }
                buf.push(c);
            }
            buf.push('"');
        }
    }
    buf.push('\n');
}

/// A PostgreSQL array literal with every element quoted.
pub(super) fn pg_array(items: &[&str]) -> String {
    let mut s = String::from("{");
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push('"');
        for c in it.chars() {
            if c == '"' || c == '\\' {
                s.push('\\');
            }
            s.push(c);
        }
        s.push('"');
    }
    s.push('}');
    s
}

pub(super) fn ts(t: DateTime<Utc>) -> String {
    let mut s = String::with_capacity(32);
    let _ = write!(s, "{}", t.format("%Y-%m-%d %H:%M:%S%.6f+00"));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quoting() {
        let mut b = String::new();
        row(&mut b, &[Some("a\"b"), None, Some(""), Some("x,y")]);
        assert_eq!(b, "\"a\"\"b\",,\"\",\"x,y\"\n");
    }

    #[test]
    fn array_literal() {
        assert_eq!(
            pg_array(&["food & drink", "a\"b"]),
            "{\"food & drink\",\"a\\\"b\"}"
        );
    }
}
