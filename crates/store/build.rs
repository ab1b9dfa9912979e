//! Embeds the migrations. PostgreSQL's are embedded by `sqlx::migrate!`;
//! SQLite's are listed here for [`lite_migrate`](src/lite_migrate.rs) as
//! `(file name, SQL)` in file-name order. Rebuilds when a migration is
//! added: a new file alone does not trigger a rebuild.
use std::fmt::Write as _;

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    let dir = std::path::Path::new("migrations/sqlite");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "sql"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut list = String::from("&[\n");
    for file in files {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let absolute = std::fs::canonicalize(&file).unwrap_or(file);
        let _ = writeln!(
            list,
            "    ({name:?}, include_str!({:?})),",
            absolute.display().to_string()
        );
    }
    list.push(']');
    let out = std::env::var_os("OUT_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_default();
    if let Err(e) = std::fs::write(out.join("sqlite_migrations.rs"), list) {
        println!("cargo:warning=cannot write the SQLite migration list: {e}");
    }
}
