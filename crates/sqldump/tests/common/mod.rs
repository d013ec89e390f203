//! What the lexer's integration tests share.

use std::path::{Path, PathBuf};

/// The dumps of `fixtures/` (mysqldump, mariadb-dump, MySQL 8 and hand-written), sorted.
pub fn fixture_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let mut files = Vec::new();
    for dir in ["dumps", "mysql8", "handwritten"] {
        for entry in std::fs::read_dir(root.join(dir))
            .into_iter()
            .flatten()
            .flatten()
        {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "sql") {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(files.len() >= 10, "the fixture corpus is missing");
    files
}
