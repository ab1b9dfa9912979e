//! Storage: the domain's [`domain::Store`] on the embedded SQLite default or on
//! PostgreSQL, with migrations embedded in the binary.
//!
//! One driver per database: rusqlite for SQLite, sqlx for PostgreSQL. One
//! SQL text serves both: every statement uses `$N` parameters (which SQLite
//! also understands), `ON CONFLICT`, and `RETURNING`, and all integers are
//! 64-bit. The `on_pool!` macro runs the same code against whichever
//! backend is configured — [`lite`] gives rusqlite the shape of sqlx's
//! query API — so there is no second copy of each query.
#![forbid(unsafe_code)]

mod connect;
mod lane;
mod lite;
mod lite_migrate;
mod pg_batch;
mod sql_store;
mod sqlite_direct;

pub use connect::{Backend, ConnectError, connect};
pub use sql_store::{ExplainArg, SqlStore, hot_queries};
