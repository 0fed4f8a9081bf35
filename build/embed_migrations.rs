//! Build script of the two database backends: embeds every file in the crate's
//! `migrations/` folder, in order, so that adding a migration is adding a file.
//!
//! A file is `NNNN_description.sql`; one whose first line is `-- no-transaction` runs
//! outside the migrator's transaction (it manages its own, e.g. a SQLite table rebuild
//! that must turn foreign keys off). Written by hand because sqlx's `migrate!` macro
//! would pull in its compile-time query machinery for this one listing.

use std::fmt::Write;
use std::path::Path;

fn main() {
    let dir = Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("migrations");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("the crate has a migrations folder")
        .map(|e| e.expect("a readable migrations folder").path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    let mut out = String::from("&[\n");
    for (i, path) in files.iter().enumerate() {
        let stem = path.file_stem().unwrap().to_str().unwrap();
        let (number, description) = stem
            .split_once('_')
            .unwrap_or_else(|| panic!("{stem}: name migrations NNNN_description.sql"));
        let version: i64 = number
            .parse()
            .unwrap_or_else(|_| panic!("{stem}: the name starts with its number"));
        assert_eq!(
            version,
            i as i64 + 1,
            "{stem}: migrations are numbered 1, 2, 3…"
        );
        let sql = std::fs::read_to_string(path).unwrap();
        let own_transaction = sql.starts_with("-- no-transaction");
        writeln!(
            out,
            "    ({version}, {description:?}, include_str!({:?}), {own_transaction}),",
            path.display().to_string()
        )
        .unwrap();
    }
    out.push(']');
    let target = Path::new(&std::env::var("OUT_DIR").unwrap()).join("migrations.rs");
    std::fs::write(target, out).unwrap();
}
