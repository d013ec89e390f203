//! `rewrite --report FILE`: JSON, or an HTML page when FILE ends in `.html`.

use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result};

/// Writes `report` to `path`, as the extension says (`.html`/`.htm`: a page; else JSON).
/// Streamed: a dump with a hundred thousand tables has that many entries, read back from
/// the engine's temporary file as they are written.
pub fn write(path: &Path, report: &understudy_engine::Report) -> Result<()> {
    let html = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"));
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
    let mut out = BufWriter::new(file);
    if html {
        report
            .write_html(&mut out)
            .with_context(|| format!("cannot write the report to {}", path.display()))?;
    } else {
        serde_json::to_writer_pretty(&mut out, report)
            .with_context(|| format!("cannot write the report to {}", path.display()))?;
    }
    out.flush()
        .with_context(|| format!("cannot write {}", path.display()))
}
