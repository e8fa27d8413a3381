//! The SQL behind the calls, run alone: its time and its plan (`EXPLAIN QUERY PLAN` in
//! SQLite, `EXPLAIN (ANALYZE, BUFFERS)` in PostgreSQL), for the reading of the slow calls.

use crate::seed::Val;
use std::time::{Duration, Instant};
use wasp_db::{on_pool, Db};

/// One statement an endpoint runs, copied from its module, with the bench's values.
pub struct Probe {
    /// The measured call it belongs to (its label).
    pub call: &'static str,
    pub what: &'static str,
    pub sql: String,
    pub args: Vec<Val>,
}

#[derive(Clone)]
pub struct Finding {
    pub call: &'static str,
    pub what: &'static str,
    pub time: Duration,
    pub plan: Vec<String>,
}

/// Median of 3 runs of the statement, and its plan.
pub async fn run(db: &Db, p: &Probe) -> Finding {
    let mut times = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        on_pool!(db, |pool| bind_all!(
            sqlx::query(&p.sql),
            std::slice::from_ref(&p.args)
        )
        .fetch_all(pool)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", p.sql))
        .len());
        times.push(t.elapsed());
    }
    times.sort();
    let plan = match db {
        Db::Postgres(pool) => {
            let sql = format!("EXPLAIN (ANALYZE, BUFFERS) {}", p.sql);
            use sqlx::Row;
            match bind_all!(sqlx::query(&sql), std::slice::from_ref(&p.args))
                .fetch_all(pool)
                .await
            {
                Ok(rows) => rows.iter().map(|r| r.get::<String, _>(0)).collect(),
                Err(e) => vec![format!("(EXPLAIN failed: {e})")],
            }
        }
        Db::Sqlite { read, .. } => {
            let sql = format!("EXPLAIN QUERY PLAN {}", p.sql);
            use sqlx::Row;
            match bind_all!(sqlx::query(&sql), std::slice::from_ref(&p.args))
                .fetch_all(read)
                .await
            {
                Ok(rows) => rows
                    .iter()
                    .map(|r| {
                        let parent: i64 = r.get(1);
                        let detail: String = r.get(3);
                        format!("{}{detail}", if parent == 0 { "" } else { "  " })
                    })
                    .collect(),
                Err(e) => vec![format!("(EXPLAIN failed: {e})")],
            }
        }
    };
    Finding {
        call: p.call,
        what: p.what,
        time: times[1],
        plan,
    }
}
