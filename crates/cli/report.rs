//! `rewrite --report FILE`: JSON, or an HTML page when FILE ends in `.html`.

use std::path::Path;

use anyhow::{Context, Result};

/// Writes `report` to `path`, as the extension says (`.html`/`.htm`: a page; else JSON).
pub fn write(path: &Path, report: &understudy_engine::Report) -> Result<()> {
    let html = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"));
    let bytes = if html {
        let mut page = Vec::new();
        report
            .write_html(&mut page)
            .context("cannot render the report")?;
        page
    } else {
        serde_json::to_vec_pretty(report).context("cannot encode the report")?
    };
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}
