//! Page parameters, the `meta` block of lists, and a small builder for filtered list queries.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

/// `?page=&per_page=` (1-based; at most 100 a page). Values out of range are refused
/// (400), not clamped, as the document states them.
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
pub struct PageParams {
    /// Page number, from 1.
    #[serde(default, deserialize_with = "page_number")]
    #[param(minimum = 1, maximum = 2147483647, format = Int32)]
    pub page: Option<u32>,
    /// Items per page, 1–100 (default 20).
    #[serde(default, deserialize_with = "per_page")]
    #[param(minimum = 1, maximum = 100, format = Int32)]
    pub per_page: Option<u32>,
}

fn bounded<'de, D: serde::Deserializer<'de>>(d: D, max: u32) -> Result<Option<u32>, D::Error> {
    let value = Option::<u32>::deserialize(d)?;
    match value {
        Some(v) if v == 0 || v > max => Err(serde::de::Error::custom(format!(
            "must be between 1 and {max}"
        ))),
        v => Ok(v),
    }
}

pub fn page_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    bounded(d, i32::MAX as u32)
}

pub fn per_page<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    bounded(d, 100)
}

impl PageParams {
    pub fn page(&self) -> u32 {
        self.page.unwrap_or(1).max(1)
    }
    pub fn per_page(&self) -> u32 {
        self.per_page.unwrap_or(20).clamp(1, 100)
    }
    pub fn offset(&self) -> i64 {
        i64::from(self.page() - 1) * i64::from(self.per_page())
    }
    pub fn meta(&self, total: i64) -> PageMeta {
        PageMeta {
            total,
            page: self.page(),
            per_page: self.per_page(),
        }
    }
}

pub use wasp_http::error::PageMeta;

/// One bound value of a dynamically built query.
#[derive(Debug, Clone)]
pub enum Arg {
    Text(String),
    Uuid(Uuid),
    Time(DateTime<Utc>),
    Int(i64),
}

/// Collects `WHERE` conditions with numbered placeholders and their values.
#[derive(Debug, Default)]
pub struct Filters {
    clauses: Vec<String>,
    pub args: Vec<Arg>,
}

impl Filters {
    /// Adds a condition; `{}` in `clause` is replaced by the next placeholder.
    pub fn push(&mut self, clause: &str, arg: Arg) -> &mut Self {
        self.args.push(arg);
        let placeholder = format!("${}", self.args.len());
        self.clauses.push(clause.replace("{}", &placeholder));
        self
    }

    /// Adds a condition of several values; `{0}`, `{1}`, … in `clause` are replaced by
    /// their placeholders.
    pub fn push_many(&mut self, clause: &str, args: Vec<Arg>) -> &mut Self {
        let mut clause = clause.to_owned();
        for (i, arg) in args.into_iter().enumerate() {
            self.args.push(arg);
            clause = clause.replace(&format!("{{{i}}}"), &format!("${}", self.args.len()));
        }
        self.clauses.push(clause);
        self
    }

    /// Adds a condition without a value.
    pub fn push_raw(&mut self, clause: &str) -> &mut Self {
        self.clauses.push(clause.to_owned());
        self
    }

    /// ` WHERE a AND b` or the empty string.
    pub fn where_sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.clauses.join(" AND "))
        }
    }

    /// The next placeholder number (for LIMIT/OFFSET after the filters).
    pub fn next_index(&self) -> usize {
        self.args.len() + 1
    }
}

/// Binds every [`Arg`] of `$args` onto the query `$q`, for either backend.
#[macro_export]
macro_rules! bind_args {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for arg in $args.iter() {
            q = match arg {
                $crate::pagination::Arg::Text(v) => q.bind(v.clone()),
                $crate::pagination::Arg::Uuid(v) => q.bind(*v),
                $crate::pagination::Arg::Time(v) => q.bind(*v),
                $crate::pagination::Arg::Int(v) => q.bind(*v),
            };
        }
        q
    }};
}
