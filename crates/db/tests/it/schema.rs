//! The two migration folders, `migrations/postgres` and `migrations/sqlite`, are written by
//! hand and must describe the same schema. This applies both to fresh databases (SQLite in
//! a temporary directory, PostgreSQL in a database created for the test and dropped after,
//! `WASP_TEST_POSTGRES_URL`) and compares what they hold: the same tables; per table the
//! same columns, nullability and primary key; the same indexes by name, each on the same
//! table with the same key columns, uniqueness and partiality. Column types and defaults
//! are not compared (the two databases store UUIDs, timestamps, JSON, INET and decimals
//! differently, and SQLite binds timestamps from the code), nor triggers (PostgreSQL keeps
//! `updated_at` with triggers, SQLite lets the code set it). The deliberate differences are
//! listed in [`EXCEPTIONS`], each with its reason.

use sqlx::{postgres::PgPoolOptions, Row};
use std::{
    collections::{BTreeMap, BTreeSet},
    fmt::Write as _,
};
use uuid::Uuid;
use wasp_db::Db;

/// Differences the two schemas keep, as the test words them, each with why it may stay. All
/// are indexes `migrations/postgres/0001_management.sql` has and its SQLite twin was written
/// without (found when this test was added, not decided then); an index changes no table's
/// meaning, only how a lookup is found. Adding one to SQLite takes a migration there and
/// removing its line here.
const EXCEPTIONS: &[(&str, &str)] = &[
    (
        "index idx_admin_sessions_admin: admin_sessions(admin_id) partial in postgres, \
         admin_sessions(admin_id) in sqlite",
        "the same lookup; SQLite's covers revoked sessions too",
    ),
    (
        "index idx_alerts_customer: only in postgres",
        "alerts are written and counted by status (idx_alerts_status, on both); no query \
         reads them by customer",
    ),
    (
        "index idx_alerts_server: only in postgres",
        "alerts are written and counted by status (idx_alerts_status, on both); no query \
         reads them by server",
    ),
    (
        "index idx_api_keys_customer_active: only in postgres",
        "SQLite finds a customer's keys through idx_api_keys_customer",
    ),
    (
        "index idx_audit_logs_actor_action: only in postgres",
        "SQLite finds an actor's rows through idx_audit_actor (0009 rebuilt the audit \
         indexes for its write cost)",
    ),
    (
        "index idx_audit_severity: only in postgres",
        "on SQLite the audit viewer's severity filter reads through the time index",
    ),
    (
        "index idx_customer_usage_customer_date: only in postgres",
        "the UNIQUE (customer_id, date) constraint's own index serves it on both",
    ),
    (
        "index idx_customers_server_status: only in postgres",
        "SQLite finds a server's customers through idx_customers_server",
    ),
    (
        "index idx_webhooks_active: only in postgres",
        "a flag; the queries that test it find the webhook by id or by customer first",
    ),
];

/// One table: its columns (name → nullable) and its primary key's columns in order.
#[derive(Default)]
struct Table {
    columns: BTreeMap<String, bool>,
    primary_key: Vec<String>,
}

/// One index created by a migration (not one a constraint made implicitly).
#[derive(PartialEq)]
struct Index {
    table: String,
    /// Key columns in order; an expression is `(expr)`.
    columns: Vec<String>,
    unique: bool,
    partial: bool,
}

#[derive(Default)]
struct Schema {
    tables: BTreeMap<String, Table>,
    indexes: BTreeMap<String, Index>,
}

impl std::fmt::Display for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let unique = if self.unique { "unique " } else { "" };
        let partial = if self.partial { " partial" } else { "" };
        write!(
            f,
            "{unique}{}({}){partial}",
            self.table,
            self.columns.join(", ")
        )
    }
}

/// sqlx's own bookkeeping, the same on both and not ours.
const MIGRATIONS_TABLE: &str = "_sqlx_migrations";

async fn postgres_schema(db: &Db) -> Result<Schema, sqlx::Error> {
    let Db::Postgres(pool) = db else {
        unreachable!("a PostgreSQL database")
    };
    let mut schema = Schema::default();
    let columns = sqlx::query(
        "SELECT c.relname::text, a.attname::text, NOT a.attnotnull \
         FROM pg_attribute a \
         JOIN pg_class c ON c.oid = a.attrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') \
           AND a.attnum > 0 AND NOT a.attisdropped",
    )
    .fetch_all(pool)
    .await?;
    for row in columns {
        let (table, column, nullable): (String, String, bool) =
            (row.get(0), row.get(1), row.get(2));
        schema
            .tables
            .entry(table)
            .or_default()
            .columns
            .insert(column, nullable);
    }
    let keys = sqlx::query(
        "SELECT c.relname::text, a.attname::text \
         FROM pg_constraint k \
         JOIN pg_class c ON c.oid = k.conrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         CROSS JOIN LATERAL unnest(k.conkey) WITH ORDINALITY AS key(attnum, position) \
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = key.attnum \
         WHERE n.nspname = current_schema() AND k.contype = 'p' \
         ORDER BY c.relname, key.position",
    )
    .fetch_all(pool)
    .await?;
    for row in keys {
        let (table, column): (String, String) = (row.get(0), row.get(1));
        schema
            .tables
            .entry(table)
            .or_default()
            .primary_key
            .push(column);
    }
    // Indexes that back a primary key, UNIQUE or EXCLUDE constraint are the constraint's
    // (compared as the primary key above, or not at all: SQLite names them itself).
    let indexes = sqlx::query(
        "SELECT i.relname::text, t.relname::text, x.indisunique, x.indpred IS NOT NULL, \
                ARRAY(SELECT pg_get_indexdef(x.indexrelid, k, true) \
                      FROM generate_series(1, x.indnkeyatts) AS k ORDER BY k) \
         FROM pg_index x \
         JOIN pg_class i ON i.oid = x.indexrelid \
         JOIN pg_class t ON t.oid = x.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = current_schema() \
           AND NOT EXISTS (SELECT 1 FROM pg_constraint k \
                           WHERE k.conindid = x.indexrelid AND k.conrelid = x.indrelid \
                             AND k.contype IN ('p', 'u', 'x'))",
    )
    .fetch_all(pool)
    .await?;
    for row in indexes {
        let columns: Vec<String> = row.get(4);
        schema.indexes.insert(
            row.get(0),
            Index {
                table: row.get(1),
                columns: columns.into_iter().map(|c| normalise(&c)).collect(),
                unique: row.get(2),
                partial: row.get(3),
            },
        );
    }
    Ok(schema)
}

async fn sqlite_schema(db: &Db) -> Result<Schema, sqlx::Error> {
    let Db::Sqlite { read: pool, .. } = db else {
        unreachable!("a SQLite database")
    };
    let mut schema = Schema::default();
    let columns = sqlx::query(
        "SELECT m.name, p.name, p.\"notnull\", p.pk \
         FROM sqlite_schema m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
         ORDER BY m.name, p.pk",
    )
    .fetch_all(pool)
    .await?;
    for row in columns {
        let (table, column, not_null, pk): (String, String, bool, i64) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        let table = schema.tables.entry(table).or_default();
        // A primary key column is taken as NOT NULL, as PostgreSQL makes it; every one in
        // migrations/sqlite says NOT NULL too (SQLite itself would accept NULL in one).
        table.columns.insert(column.clone(), !not_null && pk == 0);
        if pk > 0 {
            table.primary_key.push(column);
        }
    }
    // Indexes with SQL are the migrations' own; those SQLite makes for a PRIMARY KEY or
    // UNIQUE constraint (sqlite_autoindex_…) have none.
    let indexes = sqlx::query(
        "SELECT m.name, m.tbl_name, l.\"unique\", l.partial \
         FROM sqlite_schema m JOIN pragma_index_list(m.tbl_name) l ON l.name = m.name \
         WHERE m.type = 'index' AND m.sql IS NOT NULL",
    )
    .fetch_all(pool)
    .await?;
    for row in indexes {
        let name: String = row.get(0);
        let sql: String = sqlx::query_scalar("SELECT sql FROM sqlite_schema WHERE name = $1")
            .bind(&name)
            .fetch_one(pool)
            .await?;
        let named: Vec<Option<String>> = sqlx::query_scalar(
            "SELECT name FROM pragma_index_xinfo($1) WHERE key = 1 ORDER BY seqno",
        )
        .bind(&name)
        .fetch_all(pool)
        .await?;
        schema.indexes.insert(
            name,
            Index {
                table: row.get(1),
                columns: sqlite_index_columns(&sql, named),
                unique: row.get(2),
                partial: row.get(3),
            },
        );
    }
    Ok(schema)
}

/// An index's key columns: a column by name; an expression (SQLite names none) as written
/// in the `CREATE INDEX` between the parentheses, in the same place.
fn sqlite_index_columns(sql: &str, named: Vec<Option<String>>) -> Vec<String> {
    let written = key_list(sql);
    named
        .into_iter()
        .enumerate()
        .map(|(i, name)| match name {
            Some(name) => name,
            None => normalise(written.get(i).map(String::as_str).unwrap_or("?")),
        })
        .collect()
}

/// The comma-separated terms between the first parentheses of `CREATE INDEX … ON t(…)`.
fn key_list(sql: &str) -> Vec<String> {
    let Some(start) = sql.find('(') else {
        return Vec::new();
    };
    let (mut depth, mut terms, mut term) = (0, Vec::new(), String::new());
    for c in sql[start + 1..].chars() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => break,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                terms.push(std::mem::take(&mut term));
                continue;
            }
            _ => {}
        }
        term.push(c);
    }
    terms.push(term);
    terms
}

/// An index key term compared across the two: lower case, no sort order, no spaces, no
/// quotes, casts to text or outer parentheses (PostgreSQL gives back `lower(email::text)`
/// and `"timestamp"`, SQLite keeps `LOWER(email)` as written).
fn normalise(term: &str) -> String {
    let mut t = term
        .trim()
        .to_lowercase()
        .replace("::text", "")
        .replace('"', "");
    for suffix in [" desc", " asc"] {
        if let Some(rest) = t.strip_suffix(suffix) {
            t = rest.to_owned();
        }
    }
    let mut t: String = t.chars().filter(|c| !c.is_whitespace()).collect();
    while t.starts_with('(') && t.ends_with(')') {
        t = t[1..t.len() - 1].to_owned();
    }
    t
}

/// Every difference between the two schemas, one line each.
fn differences(pg: &Schema, lite: &Schema) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let tables: BTreeSet<&String> = pg.tables.keys().chain(lite.tables.keys()).collect();
    for name in tables {
        if name == MIGRATIONS_TABLE {
            continue;
        }
        let (p, s) = match (pg.tables.get(name), lite.tables.get(name)) {
            (Some(p), Some(s)) => (p, s),
            (Some(_), None) => {
                out.insert(format!("table {name}: only in postgres"));
                continue;
            }
            (None, _) => {
                out.insert(format!("table {name}: only in sqlite"));
                continue;
            }
        };
        let columns: BTreeSet<&String> = p.columns.keys().chain(s.columns.keys()).collect();
        for column in columns {
            match (p.columns.get(column), s.columns.get(column)) {
                (Some(_), None) => out.insert(format!("column {name}.{column}: only in postgres")),
                (None, Some(_)) => out.insert(format!("column {name}.{column}: only in sqlite")),
                (Some(a), Some(b)) if a != b => {
                    let says = |nullable: &bool| if *nullable { "NULL" } else { "NOT NULL" };
                    out.insert(format!(
                        "column {name}.{column}: {} in postgres, {} in sqlite",
                        says(a),
                        says(b)
                    ))
                }
                _ => false,
            };
        }
        if p.primary_key != s.primary_key {
            out.insert(format!(
                "table {name}: primary key ({}) in postgres, ({}) in sqlite",
                p.primary_key.join(", "),
                s.primary_key.join(", ")
            ));
        }
    }
    let indexes: BTreeSet<&String> = pg.indexes.keys().chain(lite.indexes.keys()).collect();
    for name in indexes {
        match (pg.indexes.get(name), lite.indexes.get(name)) {
            (Some(_), None) => out.insert(format!("index {name}: only in postgres")),
            (None, Some(_)) => out.insert(format!("index {name}: only in sqlite")),
            (Some(a), Some(b)) if a != b => {
                out.insert(format!("index {name}: {a} in postgres, {b} in sqlite"))
            }
            _ => false,
        };
    }
    out
}

/// Applies migrations/postgres to a database made for this test, reads its schema, and
/// drops the database whatever happened.
async fn migrated_postgres() -> Schema {
    let admin_url = std::env::var("WASP_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect(&admin_url)
        .await
        .expect("PostgreSQL reachable at WASP_TEST_POSTGRES_URL");
    let name = format!("wasp_t_schema_{}", Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .expect("CREATE DATABASE");
    let base = admin_url
        .rsplit_once('/')
        .map_or(&*admin_url, |(base, _)| base);
    let read = async {
        let db = Db::connect(&format!("{base}/{name}"), 2).await?;
        let schema = match db.migrate().await {
            Ok(()) => postgres_schema(&db).await,
            Err(e) => Err(sqlx::Error::Migrate(Box::new(e))),
        };
        db.close().await;
        schema
    };
    let schema = read.await;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&admin)
        .await
        .expect("DROP DATABASE");
    admin.close().await;
    schema.expect("migrations/postgres applied and read")
}

/// Applies migrations/sqlite to a database file in a fresh directory and reads its schema.
async fn migrated_sqlite() -> Schema {
    let dir = std::env::temp_dir().join(format!("wasp-schema-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    let read = async {
        let db = Db::connect(&format!("sqlite://{}/wasp.db", dir.display()), 2).await?;
        let schema = match db.migrate().await {
            Ok(()) => sqlite_schema(&db).await,
            Err(e) => Err(sqlx::Error::Migrate(Box::new(e))),
        };
        db.close().await;
        schema
    };
    let schema = read.await;
    let _ = std::fs::remove_dir_all(&dir);
    schema.expect("migrations/sqlite applied and read")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_and_sqlite_migrations_describe_the_same_schema() {
    let (pg, lite) = tokio::join!(migrated_postgres(), migrated_sqlite());
    // A schema read wrong would compare equal to an empty one.
    assert!(pg.tables.contains_key("customers") && lite.tables.contains_key("customers"));
    assert!(pg.indexes.len() > 10 && lite.indexes.len() > 10);

    let found = differences(&pg, &lite);
    let excepted: BTreeSet<String> = EXCEPTIONS.iter().map(|(d, _)| (*d).to_owned()).collect();
    let mut report = String::new();
    for d in found.difference(&excepted) {
        let _ = writeln!(report, "  {d}");
    }
    let stale: Vec<&String> = excepted.difference(&found).collect();
    assert!(
        report.is_empty() && stale.is_empty(),
        "migrations/postgres and migrations/sqlite disagree (add the missing part to the \
         other folder, or list a deliberate difference in EXCEPTIONS with its reason):\n\
         {report}exceptions that no longer apply: {stale:?}"
    );
}
