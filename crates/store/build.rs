//! Rebuild when a migration is added: `sqlx::migrate!` embeds the folders
//! at compile time, and a new file alone does not trigger a rebuild.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
