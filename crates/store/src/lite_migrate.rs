//! SQLite's migrations, run over rusqlite and recorded in sqlx's own
//! table (`_sqlx_migrations`, same columns, same SHA-384 checksums), so a
//! database migrated by an earlier twofactor (whose SQLite ran on sqlx)
//! goes on from where it was, and one migrated here reads the same to
//! sqlx's tools.
//!
//! A file `NNNN_words.sql` is version `NNNN`, described as "words". Each
//! runs in its own transaction with the row that records it, so a failed
//! migration leaves nothing behind. Refused with a clear error: a version
//! recorded as failed (`success = false`, left by a crash of an older
//! runner), a recorded version this binary does not have (a newer
//! twofactor migrated the file), and a recorded checksum that differs (the
//! file changed after it was applied).

use std::time::Instant;

use sha2::{Digest as _, Sha384};

use crate::ConnectError;
use crate::sqlite_direct::Direct;

/// `(file name, SQL)` of every migration, in order (from build.rs).
const MIGRATIONS: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/sqlite_migrations.rs"));

/// sqlx's table, as sqlx creates it.
const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS _sqlx_migrations ( \
     version BIGINT PRIMARY KEY, description TEXT NOT NULL, \
     installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, success BOOLEAN NOT NULL, \
     checksum BLOB NOT NULL, execution_time BIGINT NOT NULL)";

/// One migration file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Migration {
    version: i64,
    description: String,
    sql: &'static str,
    checksum: Vec<u8>,
}

/// A migration from its file name, as sqlx reads one: the version before
/// the first `_`, the rest without `.sql` and with spaces for `_`.
fn parse(name: &str, sql: &'static str) -> Result<Migration, String> {
    let (version, rest) = name
        .split_once('_')
        .ok_or_else(|| format!("migration file {name:?} is not NNNN_description.sql"))?;
    let description = rest
        .strip_suffix(".sql")
        .ok_or_else(|| format!("migration file {name:?} does not end in .sql"))?;
    let version = version
        .parse::<i64>()
        .map_err(|_| format!("migration file {name:?} has no number before its first _"))?;
    Ok(Migration {
        version,
        description: description.replace('_', " "),
        sql,
        checksum: Sha384::digest(sql.as_bytes()).to_vec(),
    })
}

/// What to do, given the migrations and what the table records.
fn plan<'m>(
    migrations: &'m [Migration],
    applied: &[(i64, bool, Vec<u8>)],
) -> Result<Vec<&'m Migration>, String> {
    if let Some((version, ..)) = applied.iter().find(|(_, success, _)| !success) {
        return Err(format!(
            "migration {version} was left partly applied; restore the database from a backup"
        ));
    }
    for (version, _, checksum) in applied {
        match migrations.iter().find(|m| m.version == *version) {
            None => {
                return Err(format!(
                    "the database has migration {version}, which this twofactor does not know: \
                     it was migrated by a newer version"
                ));
            }
            Some(m) if m.checksum != *checksum => {
                return Err(format!(
                    "migration {version} ({}) differs from the one applied to this database",
                    m.description
                ));
            }
            Some(_) => {}
        }
    }
    Ok(migrations
        .iter()
        .filter(|m| !applied.iter().any(|(v, ..)| *v == m.version))
        .collect())
}

fn failed(e: impl std::fmt::Display) -> ConnectError {
    ConnectError::Migrate(e.to_string())
}

/// Brings the database up to date.
pub(crate) async fn run(direct: &Direct) -> Result<(), ConnectError> {
    let migrations = MIGRATIONS
        .iter()
        .map(|(name, sql)| parse(name, sql))
        .collect::<Result<Vec<_>, _>>()
        .map_err(failed)?;
    let tx = direct.begin().await.map_err(failed)?;
    tx.execute_batch(CREATE_TABLE).map_err(failed)?;
    let applied = {
        let mut statement = tx
            .prepare("SELECT version, success, checksum FROM _sqlx_migrations ORDER BY version")
            .map_err(failed)?;
        let rows = statement
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .map_err(failed)?;
        rows.collect::<rusqlite::Result<Vec<(i64, bool, Vec<u8>)>>>()
            .map_err(failed)?
    };
    tx.commit().await.map_err(failed)?;
    for migration in plan(&migrations, &applied).map_err(failed)? {
        let started = Instant::now();
        let tx = direct.begin().await.map_err(failed)?;
        // Another process may have applied it since the table was read.
        let done = tx
            .prepare("SELECT 1 FROM _sqlx_migrations WHERE version = ?1")
            .and_then(|mut s| s.exists([migration.version]))
            .map_err(failed)?;
        if done {
            continue;
        }
        tx.execute_batch(migration.sql).map_err(|e| {
            failed(format!(
                "migration {} ({}): {e}",
                migration.version, migration.description
            ))
        })?;
        let elapsed = i64::try_from(started.elapsed().as_nanos()).unwrap_or(i64::MAX);
        tx.execute(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (?1, ?2, TRUE, ?3, ?4)",
            rusqlite::params![
                migration.version,
                migration.description,
                migration.checksum,
                elapsed
            ],
        )
        .map_err(failed)?;
        tx.commit().await.map_err(failed)?;
        tracing::debug!(version = migration.version, "SQLite migration applied");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn migrations() -> Vec<Migration> {
        MIGRATIONS
            .iter()
            .map(|(name, sql)| parse(name, sql).unwrap())
            .collect()
    }

    #[test]
    fn every_file_is_listed_in_order_and_named_as_sqlx_names_it() {
        let all = migrations();
        let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
            .unwrap()
            .count();
        assert_eq!(all.len(), files);
        assert!(all.windows(2).all(|w| w[0].version < w[1].version));
        let first = &all[0];
        assert_eq!((first.version, first.description.as_str()), (1, "init"));
        assert_eq!(first.checksum.len(), 48, "SHA-384");
        let scopes = all.iter().find(|m| m.version == 13).unwrap();
        assert_eq!(scopes.description, "api key scopes");
    }

    #[test]
    fn odd_file_names_are_refused_plainly() {
        for (name, why) in [
            ("init.sql", "NNNN_description"),
            ("0001_init.txt", "does not end in .sql"),
            ("x1_init.sql", "no number"),
        ] {
            let error = parse(name, "").unwrap_err();
            assert!(error.contains(why), "{name}: {error}");
        }
    }

    #[test]
    fn the_plan_runs_what_is_missing_and_refuses_what_does_not_fit() {
        let all = migrations();
        let recorded = |m: &Migration| (m.version, true, m.checksum.clone());
        assert_eq!(plan(&all, &[]).unwrap().len(), all.len());
        let some: Vec<_> = all.iter().take(3).map(recorded).collect();
        let rest = plan(&all, &some).unwrap();
        assert_eq!(rest.first().map(|m| m.version), Some(4));
        let every: Vec<_> = all.iter().map(recorded).collect();
        assert!(plan(&all, &every).unwrap().is_empty());

        let mut dirty = every.clone();
        dirty[2].1 = false;
        assert!(plan(&all, &dirty).unwrap_err().contains("partly applied"));
        let mut changed = every.clone();
        changed[0].2[0] ^= 1;
        assert!(plan(&all, &changed).unwrap_err().contains("differs"));
        let mut newer = every;
        newer.push((9_999, true, vec![0; 48]));
        assert!(plan(&all, &newer).unwrap_err().contains("newer version"));
    }

    #[tokio::test]
    async fn a_database_is_migrated_once_and_a_second_run_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        let setup = rusqlite::Connection::open(&path).unwrap();
        setup.pragma_update(None, "journal_mode", "WAL").unwrap();
        drop(setup);
        let direct = Direct::open(&path).unwrap();
        run(&direct).await.unwrap();
        run(&direct).await.unwrap();
        let check = rusqlite::Connection::open(&path).unwrap();
        let (count, max): (i64, i64) = check
            .query_row(
                "SELECT COUNT(*), MAX(version) FROM _sqlx_migrations WHERE success",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(usize::try_from(count).unwrap(), MIGRATIONS.len());
        assert_eq!(Some(max), migrations().last().map(|m| m.version));
        // A file changed after it was applied is refused, nothing run.
        check
            .execute(
                "UPDATE _sqlx_migrations SET checksum = X'00' WHERE version = 1",
                [],
            )
            .unwrap();
        let error = run(&direct).await.unwrap_err().to_string();
        assert!(error.contains("differs"), "{error}");
    }
}
