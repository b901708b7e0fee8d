//! What each group may do by SQL, read from the database's own privileges and written in the
//! README between `<!-- grants:begin -->` and `<!-- grants:end -->`: the test fails when the
//! two differ (run it with `PARTNERDESK_WRITE_README=1` to write the table anew).

use crate::common::TestDb;
use sqlx::PgPool;

const GROUPS: [&str; 5] = ["curator", "support", "finance", "admin", "readonly"];
const BEGIN: &str = "<!-- grants:begin -->";
const END: &str = "<!-- grants:end -->";

/// One cell: what `role` may do to `table` (read, insert, update, delete; a column list where
/// only some columns are granted, `all but …` where that is shorter).
async fn cell(pool: &PgPool, role: &str, table: &str) -> String {
    let cols: Vec<String> = sqlx::query_scalar(
        "SELECT attname::text FROM pg_attribute
          WHERE attrelid = ('public.' || quote_ident($1))::regclass AND attnum > 0 AND NOT attisdropped
          ORDER BY attnum",
    )
    .bind(table)
    .fetch_all(pool)
    .await
    .unwrap();
    let mut out = Vec::new();
    for (privilege, word) in [
        ("SELECT", "read"),
        ("INSERT", "insert"),
        ("UPDATE", "update"),
        ("DELETE", "delete"),
    ] {
        let whole: bool =
            sqlx::query_scalar("SELECT has_table_privilege($1, 'public.' || quote_ident($2), $3)")
                .bind(role)
                .bind(table)
                .bind(privilege)
                .fetch_one(pool)
                .await
                .unwrap();
        if whole {
            out.push(word.to_owned());
            continue;
        }
        if privilege == "DELETE" {
            continue;
        }
        let mut some = Vec::new();
        for c in &cols {
            let ok: bool = sqlx::query_scalar(
                "SELECT has_column_privilege($1, 'public.' || quote_ident($2), $3, $4)",
            )
            .bind(role)
            .bind(table)
            .bind(c)
            .bind(privilege)
            .fetch_one(pool)
            .await
            .unwrap();
            if ok {
                some.push(c.clone());
            }
        }
        if some.is_empty() {
            continue;
        }
        let rest: Vec<&String> = cols.iter().filter(|c| !some.contains(c)).collect();
        if rest.len() < some.len() {
            let rest: Vec<&str> = rest.iter().map(|c| c.as_str()).collect();
            out.push(format!("{word} all but {}", rest.join(", ")));
        } else {
            out.push(format!("{word} {}", some.join(", ")));
        }
    }
    if out.is_empty() {
        "—".into()
    } else {
        out.join("; ")
    }
}

/// The README's table, from the database's privileges.
async fn table(db: &TestDb) -> String {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c
          WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
          ORDER BY c.relname",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    let mut groups = Vec::new();
    for g in GROUPS {
        let pg: String = sqlx::query_scalar("SELECT pg_role::text FROM app_roles WHERE role = $1")
            .bind(g)
            .fetch_one(&db.pool)
            .await
            .unwrap();
        groups.push(pg);
    }
    let mut md = format!(
        "| table | {} |\n|---|{}\n",
        GROUPS.join(" | "),
        "---|".repeat(GROUPS.len())
    );
    for t in &tables {
        let mut row = format!("| `{t}` |");
        for g in &groups {
            row.push_str(&format!(" {} |", cell(&db.pool, g, t).await));
        }
        md.push_str(&row);
        md.push('\n');
    }
    let mut fns = String::from("\nFunctions a group may call (beyond PostgreSQL's own):\n\n");
    for f in ["record_changes", "db_login_set_roles", "app_roles_grant"] {
        let mut who = Vec::new();
        for (g, pg) in GROUPS.iter().zip(&groups) {
            let ok: bool = sqlx::query_scalar(
                "SELECT bool_or(has_function_privilege($1, p.oid, 'EXECUTE')) FROM pg_proc p
                  WHERE p.proname = $2 AND p.pronamespace = 'public'::regnamespace",
            )
            .bind(pg)
            .bind(f)
            .fetch_one(&db.pool)
            .await
            .unwrap();
            if ok {
                who.push(*g);
            }
        }
        let who = if who.is_empty() {
            "the owner only".to_owned()
        } else {
            who.join(", ")
        };
        fns.push_str(&format!("- `{f}`: {who}\n"));
    }
    md + &fns
}

#[tokio::test]
async fn the_readme_lists_exactly_what_each_group_may_do() {
    let db = TestDb::new().await;
    let want = table(&db).await;
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let readme = std::fs::read_to_string(path).unwrap();
    let (Some(b), Some(e)) = (readme.find(BEGIN), readme.find(END)) else {
        panic!("README.md has no {BEGIN} … {END} block");
    };
    let have = readme[b + BEGIN.len()..e].trim();
    if have != want.trim() {
        if std::env::var_os("PARTNERDESK_WRITE_README").is_some() {
            let new = format!("{}{BEGIN}\n{}\n{}", &readme[..b], want.trim(), &readme[e..]);
            std::fs::write(path, new).unwrap();
        } else {
            panic!(
                "README.md's grants table differs from the database's privileges; the table should read:\n{want}"
            );
        }
    }
}
