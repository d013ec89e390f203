//! `understudy completions SHELL` and `understudy man`: both made from the clap definitions
//! of `args.rs`, so they cannot drift from what the binary accepts.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::CommandFactory;
use clap_complete::Shell;

use crate::args::Args;

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Write understudy.1 and one page per command (understudy-rewrite.1, …) into DIR
    /// instead of printing understudy.1.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

pub fn completions(args: CompletionsArgs) -> Result<()> {
    let mut cmd = Args::command();
    // Into memory first: clap_complete panics on a write error, and a closed pipe
    // (`understudy completions bash | head`) must be an error message, not a panic.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "understudy", &mut script);
    let mut out = std::io::stdout().lock();
    out.write_all(&script)
        .and_then(|()| out.flush())
        .context("cannot write the completions")
}

pub fn man(args: ManArgs) -> Result<()> {
    // `help` is a subcommand for the terminal only: no page of its own.
    let mut cmd = Args::command().disable_help_subcommand(true);
    // Display and binary names of the subcommands (`understudy-rewrite`,
    // `understudy rewrite`) are set by building.
    cmd.build();
    match &args.dir {
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&page(&cmd, true)?)
                .and_then(|()| out.flush())
                .context("cannot write the manual page")
        }
        Some(dir) => write_pages(&cmd, dir, true),
    }
}

/// Writes the page of `cmd` and of each of its visible subcommands into `dir`.
fn write_pages(cmd: &clap::Command, dir: &Path, top: bool) -> Result<()> {
    let path = dir.join(format!("{}.1", page_name(cmd)));
    std::fs::write(&path, page(cmd, top)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    for sub in visible_subcommands(cmd) {
        write_pages(sub, dir, false)?;
    }
    Ok(())
}

fn visible_subcommands(cmd: &clap::Command) -> impl Iterator<Item = &clap::Command> {
    cmd.get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
}

fn page_name(cmd: &clap::Command) -> String {
    cmd.get_display_name()
        .unwrap_or_else(|| cmd.get_name())
        .to_string()
}

/// One manual page. clap_mangen's sections, except that the EXAMPLES of `--help` become a
/// section of their own set verbatim: clap_mangen puts `after_long_help` under "EXTRA" as
/// running text, which joins the example commands into one paragraph.
fn page(cmd: &clap::Command, top: bool) -> Result<Vec<u8>> {
    // The footer names the program and version on every page (clap_mangen would put the
    // subcommand's bare name there).
    let man = clap_mangen::Man::new(cmd.clone())
        .source(format!("understudy {}", env!("CARGO_PKG_VERSION")));
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut out)?;
    }
    if visible_subcommands(cmd).next().is_some() {
        man.render_subcommands_section(&mut out)?;
    }
    if let Some(help) = cmd.get_after_long_help() {
        let text = help.to_string();
        let body = text.strip_prefix("EXAMPLES\n").unwrap_or(&text);
        out.extend_from_slice(b".SH EXAMPLES\n.nf\n");
        for line in body.lines() {
            out.extend_from_slice(roff_line(line.strip_prefix("    ").unwrap_or(line)).as_bytes());
            out.push(b'\n');
        }
        out.extend_from_slice(b".fi\n");
    }
    let mut see_also: Vec<String> = Vec::new();
    let mut stack: Vec<&clap::Command> = visible_subcommands(cmd).collect();
    if top {
        while let Some(sub) = stack.pop() {
            see_also.push(format!("{}(1)", page_name(sub)));
            stack.extend(visible_subcommands(sub));
        }
    } else {
        see_also.push("understudy(1)".into());
    }
    see_also.sort();
    out.extend_from_slice(b".SH \"SEE ALSO\"\n");
    out.extend_from_slice(roff_line(&see_also.join(", ")).as_bytes());
    out.push(b'\n');
    // Only the top command has a version (clap_mangen would panic on the others').
    if cmd.get_version().is_some() {
        man.render_version_section(&mut out)?;
    }
    Ok(ascii_only(&out))
}

/// Non-ASCII characters (the help text's `→` and `…`) as roff's `\[uXXXX]` escapes: troff
/// reads its input as Latin-1 unless a preprocessor converts it, and `man -l` on a system
/// without `preconv` would print mojibake.
fn ascii_only(page: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(page);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            out.push_str(&format!("\\[u{:04X}]", u32::from(c)));
        }
    }
    out.into_bytes()
}

/// A line of text for roff: backslashes escaped, and a leading `.` or `'` (which would make
/// it a request) and hyphens of options (which would become typographic dashes) kept literal.
fn roff_line(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    if line.starts_with(['.', '\'']) {
        out.push_str("\\&");
    }
    for c in line.chars() {
        match c {
            '\\' => out.push_str("\\e"),
            '-' => out.push_str("\\-"),
            c => out.push(c),
        }
    }
    out
}
