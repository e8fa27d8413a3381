//! Integration tests of the database crate, on real PostgreSQL and SQLite databases.

mod schema;
