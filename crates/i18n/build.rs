//! `static_loader!` reads the catalogs at compile time; a catalog edited
//! (or added) must rebuild the crate.

fn main() {
    println!("cargo:rerun-if-changed=locales");
}
