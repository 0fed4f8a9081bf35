//! The map in docs/ARCHITECTURE.md is checked, not trusted.
//!
//! `cargo metadata` gives the crate graph as built; these tests compare it with the
//! "Crate graph" table in ARCHITECTURE.md (each crate's direct dependencies on the
//! others, exactly) and with the rules the document states: the domain, the statistics
//! and the evidence engine do no I/O (no async runtime, database driver, HTTP or network
//! crate anywhere below them), and only the two backends depend on a database driver.
//! Another test keeps text meant for the team (notes outside this repository) out of
//! the product.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("the workspace root")
        .to_path_buf()
}

/// The platform this machine builds for: the graph is resolved for it only, so that
/// dependencies of other platforms (never downloaded here) are not needed.
fn host() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(rustc).arg("-vV").output().expect("rustc runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .expect("rustc -vV names the host")
}

fn metadata() -> &'static Value {
    static METADATA: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    METADATA.get_or_init(run_metadata)
}

fn run_metadata() -> Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--offline", "--locked"])
        .args(["--filter-platform", &host()])
        .current_dir(root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON")
}

/// The crate graph as resolved: package name → names of its normal (non-dev, non-build)
/// dependencies, for every package in the build.
struct Graph {
    workspace: BTreeSet<String>,
    normal: BTreeMap<String, BTreeSet<String>>,
}

fn graph() -> Graph {
    let m = metadata();
    let name_of: BTreeMap<String, String> = m["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_string(),
                p["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let workspace = m["workspace_members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| name_of[id.as_str().unwrap()].clone())
        .collect();
    let mut normal: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for node in m["resolve"]["nodes"].as_array().unwrap() {
        let from = name_of[node["id"].as_str().unwrap()].clone();
        let deps = normal.entry(from).or_default();
        for d in node["deps"].as_array().unwrap() {
            let is_normal = d["dep_kinds"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k["kind"].is_null());
            if is_normal {
                deps.insert(name_of[d["pkg"].as_str().unwrap()].clone());
            }
        }
    }
    Graph { workspace, normal }
}

impl Graph {
    /// Everything `name` depends on, directly or not (normal dependencies only).
    fn below(&self, name: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![name.to_string()];
        while let Some(n) = todo.pop() {
            for d in self.normal.get(&n).into_iter().flatten() {
                if seen.insert(d.clone()) {
                    todo.push(d.clone());
                }
            }
        }
        seen
    }
}

/// The "Crate graph" table of ARCHITECTURE.md: crate → the workspace crates it depends on.
fn documented() -> BTreeMap<String, BTreeSet<String>> {
    let text = std::fs::read_to_string(root().join("docs/ARCHITECTURE.md")).unwrap();
    let section = text
        .split("## Crate graph")
        .nth(1)
        .expect("ARCHITECTURE.md has a 'Crate graph' section");
    let mut out = BTreeMap::new();
    for line in section.lines().skip_while(|l| !l.starts_with('|')) {
        if !line.starts_with('|') {
            break;
        }
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        let name = cells[0].trim_matches('`');
        if !name.starts_with("saisei") {
            continue;
        }
        let deps = cells[1]
            .split(',')
            .map(|d| d.trim().trim_matches('`').to_string())
            .filter(|d| d.starts_with("saisei"))
            .collect();
        out.insert(name.to_string(), deps);
    }
    out
}

#[test]
fn the_crate_graph_is_the_documented_one() {
    let g = graph();
    let actual: BTreeMap<String, BTreeSet<String>> = g
        .workspace
        .iter()
        .map(|c| {
            let deps = g.normal[c]
                .iter()
                .filter(|d| g.workspace.contains(*d))
                .cloned()
                .collect();
            (c.clone(), deps)
        })
        .collect();
    assert_eq!(
        actual,
        documented(),
        "docs/ARCHITECTURE.md's crate graph differs from Cargo.toml (left: built, right: documented)"
    );
}

/// Crates that mean I/O: an async runtime, a database driver, HTTP or sockets.
const IO: &[&str] = &[
    "tokio",
    "mio",
    "socket2",
    "sqlx",
    "sqlx-core",
    "hyper",
    "axum",
    "reqwest",
    "tower",
    "libsqlite3-sys",
    "rusqlite",
    "postgres",
    "tokio-postgres",
];

#[test]
fn the_pure_crates_do_no_io() {
    let g = graph();
    for pure in ["saisei-domain", "saisei-stats", "saisei-evidence"] {
        let below = g.below(pure);
        let io: Vec<&&str> = IO.iter().filter(|c| below.contains(**c)).collect();
        assert!(io.is_empty(), "{pure} depends on {io:?}");
        for inner in [
            "saisei-store",
            "saisei-server",
            "saisei-store-sqlite",
            "saisei-store-postgres",
        ] {
            assert!(!below.contains(inner), "{pure} depends on {inner}");
        }
    }
}

#[test]
fn only_the_backends_hold_a_database_driver() {
    let g = graph();
    let holders: BTreeSet<&String> = g
        .workspace
        .iter()
        .filter(|c| g.normal[*c].contains("sqlx"))
        .collect();
    assert_eq!(
        holders.into_iter().cloned().collect::<Vec<_>>(),
        vec![
            "saisei-store-postgres".to_string(),
            "saisei-store-sqlite".to_string()
        ]
    );
}

/// Words that only mean something inside the team: the names of our own notes and the
/// numbering of the source documents we read. The product cites sources by their own
/// names. Spelled in parts, so that this file does not itself carry the words.
const OURS: &[&str] = &[
    concat!("MISSION", ".md"),
    concat!("ENGINEERING", ".md"),
    concat!("se", "ed 00"),
    concat!("se", "eds/"),
    concat!("..", "/shared"),
];

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        // A bench's `work/` holds the databases it built (git ignores it; a million
        // patients is 24 GB): output, not text of ours.
        if path.is_dir()
            && path.ends_with("work")
            && path
                .parent()
                .is_some_and(|p| p.parent().is_some_and(|b| b.ends_with("bench")))
        {
            continue;
        }
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn no_text_meant_for_the_team() {
    let root = root();
    let mut all = Vec::new();
    for dir in ["crates", "rules", "docs", "scripts", "bench", "tests"] {
        files(&root.join(dir), &mut all);
    }
    all.push(root.join("README.md"));
    let this = Path::new(file!()).file_name().unwrap();
    let mut found = Vec::new();
    for path in all {
        if path.file_name() == Some(this) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        for word in OURS {
            if text.contains(word) {
                found.push(format!(
                    "{}: {word}",
                    path.strip_prefix(&root).unwrap().display()
                ));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}
