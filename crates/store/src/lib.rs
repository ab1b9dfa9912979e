//! Storage: sqlx implementations of the domain's repository traits, one for
//! the embedded SQLite default and one for PostgreSQL, with migrations
//! embedded in the binary. The store never decides policy. Filled in by the
//! login-flow issue (#3).
#![forbid(unsafe_code)]
