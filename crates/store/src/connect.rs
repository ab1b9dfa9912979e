//! Opening the database named by a URL and bringing its schema up to date.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::SqlStore;

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite (`sqlite://path`).
    Sqlite,
    /// PostgreSQL (`postgres://…`).
    Postgres,
}

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// Neither `sqlite:` nor `postgres:`/`postgresql:`.
    #[error("database URL must start with sqlite: or postgres:")]
    UnknownScheme,
    /// The URL could not be parsed.
    #[error("invalid database URL: {0}")]
    BadUrl(String),
    /// The server is unreachable or refused.
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    /// A migration failed.
    #[error("database migration failed: {0}")]
    Migrate(String),
}

/// A pooled connection is checked with a ping only when it sat idle for a
/// while (sqlx's default pings on every acquire: a second round trip per
/// statement). A connection that broke while busy fails its statement and
/// is dropped.
async fn ping_if_idle<C: sqlx::Connection>(
    conn: &mut C,
    meta: sqlx::pool::PoolConnectionMetadata,
) -> Result<bool, sqlx::Error> {
    if meta.idle_for >= Duration::from_secs(10) {
        conn.ping().await?;
    }
    Ok(true)
}

/// How long a request waits for a PostgreSQL connection. While the server
/// is down sqlx keeps retrying the connect until this runs out, so it bounds
/// how long a request hangs before its 503 (the goal: within 2 s). A loaded
/// pool hands a connection over in milliseconds, far below this.
const PG_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);

/// Makes the SQLite file readable and writable by this user only: created
/// empty with mode 0600 if missing (SQLite gives its `-wal` and `-shm`
/// files the database's mode), tightened to 0600 if it and its companions
/// were readable by others.
fn private_database_files(path: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        let mut companions = vec![path.to_path_buf()];
        for suffix in ["-wal", "-shm"] {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            companions.push(name.into());
        }
        for file in companions {
            let Ok(meta) = std::fs::metadata(&file) else {
                continue;
            };
            if meta.permissions().mode() & 0o077 != 0 {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Opens the database at `url`, creating a SQLite file if missing, and
/// runs the embedded migrations when `migrate` is set. `search_path` puts a
/// PostgreSQL store in its own schema (tests use one per run).
pub async fn connect(
    url: &str,
    migrate: bool,
    search_path: Option<&str>,
) -> Result<SqlStore, ConnectError> {
    let lower = url.to_ascii_lowercase();
    let store = if lower.starts_with("sqlite:") {
        connect_sqlite(url).await?
    } else if lower.starts_with("postgres:") || lower.starts_with("postgresql:") {
        connect_postgres(url, search_path).await?
    } else {
        return Err(ConnectError::UnknownScheme);
    };
    if migrate {
        store.migrate().await?;
    }
    Ok(store)
}

/// The file a `sqlite:` URL names: `sqlite://PATH` or `sqlite:PATH`,
/// percent-escapes decoded, with at most the option `mode=rwc` (create if
/// missing, which is what happens anyway) or `mode=rw`.
fn sqlite_path(url: &str) -> Result<std::path::PathBuf, ConnectError> {
    let bad = |why: &str| {
        ConnectError::BadUrl(format!(
            "{why}: give a file, as in sqlite://data/twofactor.db"
        ))
    };
    let rest = url.get("sqlite:".len()..).unwrap_or_default();
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (path, options) = rest.split_once('?').unwrap_or((rest, ""));
    for option in options.split('&').filter(|o| !o.is_empty()) {
        if !matches!(option, "mode=rwc" | "mode=rw") {
            return Err(bad(&format!("unsupported SQLite URL option {option:?}")));
        }
    }
    let path = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .map_err(|_| bad("the SQLite path is not UTF-8"))?;
    if path.is_empty() {
        return Err(bad("the SQLite URL names no file"));
    }
    if path == ":memory:" || path.starts_with("file:") {
        return Err(bad("in-memory SQLite is not supported"));
    }
    if path.contains('\0') {
        return Err(bad("the SQLite path holds a NUL byte"));
    }
    Ok(std::path::PathBuf::from(path.as_ref()))
}

/// The SQLite file at `url`, in WAL mode, private to this user: its read
/// connections and its one writer ([`crate::sqlite_direct`]).
async fn connect_sqlite(url: &str) -> Result<SqlStore, ConnectError> {
    let path = sqlite_path(url)?;
    private_database_files(&path).map_err(|e| {
        ConnectError::Connect(format!("cannot make {} private: {e}", path.display()))
    })?;
    // WAL mode is kept in the file: set once, here, before any other
    // connection opens it.
    let setup = rusqlite::Connection::open(&path)
        .map_err(|e| ConnectError::Connect(format!("{}: {e}", path.display())))?;
    setup
        .busy_timeout(Duration::from_secs(5))
        .and_then(|()| setup.pragma_update(None, "journal_mode", "WAL"))
        .map_err(|e| ConnectError::Connect(format!("{}: {e}", path.display())))?;
    drop(setup);
    let direct = crate::sqlite_direct::Direct::open(&path)
        .map_err(|e| ConnectError::Connect(format!("{}: {e}", path.display())))?;
    Ok(SqlStore::sqlite(direct))
}

/// The PostgreSQL database at `url`, in schema `search_path` if given.
async fn connect_postgres(url: &str, search_path: Option<&str>) -> Result<SqlStore, ConnectError> {
    let mut options =
        PgConnectOptions::from_str(url).map_err(|e| ConnectError::BadUrl(e.to_string()))?;
    if let Some(schema) = search_path {
        options = options.options([("search_path", schema)]);
    }
    // Every statement here looks rows up by key, so one plan per
    // prepared statement serves all parameters. PostgreSQL's default
    // plans the statement again for each execution first and keeps doing
    // so when it cannot show a generic plan is as cheap: for the
    // batched verification statements (arrays, CTEs) that planning was
    // half of PostgreSQL's work — 2,665/s against 5,478/s with generic
    // plans (docs/benchmarks-log.md). The query-plan test checks these plans.
    options = options.options([("plan_cache_mode", "force_generic_plan")]);
    // A plan is kept until the next ANALYZE of its tables (autovacuum's,
    // a minute or more away; never where autovacuum is off), so it must
    // not depend on how big a table was when it was made. `failures` is
    // empty most of the time: once ANALYZE has seen it so, a sequential
    // scan is the cheapest plan for its lookups, and it stays the plan
    // while a flood of wrong codes fills the table (measured:
    // verifications fell from ~9,800/s to 1,107-1,165/s after a VACUUM
    // ANALYZE of a fresh database).
    // Every statement here has an index to use (the query-plan test
    // checks it), so scanning whole tables is ruled out instead.
    options = options.options([("enable_seqscan", "off")]);
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .test_before_acquire(false)
        .before_acquire(|conn, meta| Box::pin(ping_if_idle(conn, meta)))
        .acquire_timeout(PG_ACQUIRE_TIMEOUT)
        .connect_with(options)
        .await
        .map_err(|e| ConnectError::Connect(e.to_string()))?;
    Ok(SqlStore::postgres(pool))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_a_file_or_are_refused_plainly() {
        for (url, path) in [
            ("sqlite://data/twofactor.db", "data/twofactor.db"),
            ("sqlite:data/t.db", "data/t.db"),
            (
                "sqlite:///var/lib/twofactor/t.db",
                "/var/lib/twofactor/t.db",
            ),
            (
                "sqlite://dir%20with%20space/t.db?mode=rwc",
                "dir with space/t.db",
            ),
            ("SQLITE://t.db?mode=rw", "t.db"),
        ] {
            assert_eq!(
                sqlite_path(url).unwrap(),
                std::path::Path::new(path),
                "{url}"
            );
        }
        for (url, why) in [
            ("sqlite://", "names no file"),
            ("sqlite:", "names no file"),
            ("sqlite://t.db?mode=ro", "unsupported SQLite URL option"),
            (
                "sqlite://t.db?cache=shared&mode=rwc",
                "unsupported SQLite URL option",
            ),
            ("sqlite://%ff.db", "not UTF-8"),
            ("sqlite://a%00b.db", "NUL byte"),
            ("sqlite://file:x?mode=memory", "unsupported"),
        ] {
            let error = sqlite_path(url).unwrap_err().to_string();
            assert!(error.contains(why), "{url}: {error}");
        }
    }

    #[tokio::test]
    async fn in_memory_sqlite_is_refused_with_a_clear_error() {
        for url in ["sqlite::memory:", "sqlite://:memory:"] {
            let error = connect(url, true, None).await.unwrap_err();
            assert!(
                error
                    .to_string()
                    .contains("in-memory SQLite is not supported"),
                "{url}: {error}"
            );
        }
    }
}
