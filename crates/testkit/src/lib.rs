//! Test support: boots the real app on `127.0.0.1:0` against a temporary
//! SQLite database or the PostgreSQL in `TEST_DATABASE_URL`, and hands tests
//! an HTTP client. Filled in with the server by the login-flow issue (#3).
#![forbid(unsafe_code)]
