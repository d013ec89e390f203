//! `understudy generate`: arguments to an [`understudy_generate::DumpGenerator`], the dump to
//! standard output or a file (compressed by its extension), a summary to standard error.

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::ValueEnum;
use understudy_generate::{DumpGenerator, ErrorKind, Layout, Shape};
use understudy_stream::{codec_for_path, Codec, Output};

use crate::args::CompressArg;
use crate::BadArgs;

#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// The size of the dump: at least this many bytes (K, M, G, T: powers of 1024, e.g.
    /// 100M, 1.5G). It ends at the first row boundary after it, with every statement and
    /// table closed and mariadb-dump's `-- Dump completed` trailer.
    #[arg(short, long, value_name = "SIZE", value_parser = parse_size)]
    pub size: u64,

    /// The application whose tables the dump holds.
    #[arg(long, value_enum, default_value_t = LayoutArg::Wordpress)]
    pub layout: LayoutArg,

    /// The form of the dump.
    #[arg(long, value_enum, default_value_t = ShapeArg::Default)]
    pub shape: ShapeArg,

    /// The seed: the same settings and seed always give the same bytes.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,

    /// About how many tables (WordPress: a multisite network, ten tables per site;
    /// Drupal: two field tables per field). Implies --shape many-tables unless the shape
    /// is mix. Default: one table per 20 KiB of dump.
    #[arg(long, value_name = "N")]
    pub tables: Option<u64>,

    /// At most N rows per INSERT (1: one row per INSERT, as mariadb-dump
    /// --skip-extended-insert writes). Default: as many as mariadb-dump's 1 MiB
    /// net_buffer_length holds.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub rows_per_insert: Option<u64>,

    /// Write binary columns as 0x… (as mariadb-dump --hex-blob does), with the tables
    /// that have them, whatever the shape (hex-blob and mix always do).
    #[arg(long)]
    pub hex_blob: bool,

    /// Where to write; `-` or nothing writes standard output. A file appears only when the
    /// whole dump was written.
    #[arg(short, long, value_name = "OUTPUT")]
    pub output: Option<PathBuf>,

    /// Compress the output: `auto` follows the output file's extension (.gz, .zst).
    #[arg(long, value_enum, default_value_t = CompressArg::Auto)]
    pub compress: CompressArg,

    /// No summary on standard error.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LayoutArg {
    /// WordPress 6: wp_posts, wp_postmeta, wp_options, … (multisite wp_N_* with many
    /// tables).
    Wordpress,
    /// Elgg 3 to 5: elgg_entities, elgg_metadata, elgg_config, elgg_private_settings, ….
    Elgg,
    /// Drupal 8+: node_field_data, node__body, users_field_data, config, key_value,
    /// cache_*, watchdog, ….
    Drupal,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ShapeArg {
    /// A few big tables, extended INSERTs of about 1 MB.
    Default,
    /// Thousands of small tables with repeated schemas, some empty, some with one row.
    ManyTables,
    /// One row per INSERT, one INSERT per line (--skip-extended-insert).
    OneRowInserts,
    /// Half the rows or more hold serialized PHP arrays with URLs and paths.
    Serialized,
    /// Binary columns as 0x… (--hex-blob), with the tables that have them.
    HexBlob,
    /// All of the above in one dump.
    Mix,
}

fn parse_size(s: &str) -> Result<u64, String> {
    understudy_generate::parse_size(s)
}

pub fn run(args: GenerateArgs) -> Result<()> {
    let started = std::time::Instant::now();
    understudy_stream::cleanup::install()?;
    let mut generator = DumpGenerator::new(args.size);
    generator
        .seed(args.seed)
        .layout(match args.layout {
            LayoutArg::Wordpress => Layout::WordPress,
            LayoutArg::Elgg => Layout::Elgg,
            LayoutArg::Drupal => Layout::Drupal,
        })
        .shape(match args.shape {
            ShapeArg::Default => Shape::Default,
            ShapeArg::ManyTables => Shape::ManyTables,
            ShapeArg::OneRowInserts => Shape::OneRowInserts,
            ShapeArg::Serialized => Shape::Serialized,
            ShapeArg::HexBlob => Shape::HexBlob,
            ShapeArg::Mix => Shape::Mix,
        });
    if let Some(n) = args.tables {
        generator.tables(n);
    }
    if let Some(n) = args.rows_per_insert {
        generator.rows_per_insert(n);
    }
    if args.hex_blob {
        generator.hex_blob(true);
    }
    // Settings that do not go together, and an output that cannot be written, cost
    // nothing: both are refused before the first byte.
    generator.check().map_err(BadArgs::from_display)?;
    let path = args
        .output
        .as_deref()
        .filter(|p| *p != std::path::Path::new("-"));
    if let Some(out) = path {
        if !std::fs::metadata(out).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
            crate::writable(out, "output")?;
        }
    }
    let codec = match (args.compress, path) {
        (CompressArg::Auto, Some(path)) => codec_for_path(path),
        (CompressArg::Auto, None) | (CompressArg::None, _) => Codec::None,
        (CompressArg::Gzip, _) => Codec::Gzip,
        (CompressArg::Zstd, _) => Codec::Zstd,
    };
    let output = Output::create(path, codec)?;
    // Rows are written one at a time: batch them into large writes.
    let mut out = BufWriter::with_capacity(1 << 20, output);
    let stats = match generator.write_to(&mut out) {
        Ok(stats) => stats,
        Err(e) if e.kind() == ErrorKind::Settings => return Err(BadArgs::from_display(e)),
        Err(e) => return Err(e).context("generate stopped; no complete output was produced"),
    };
    out.flush().context("cannot write the dump")?;
    let output = out
        .into_inner()
        .map_err(|e| e.into_error())
        .context("cannot write the dump")?;
    output.finish().context("cannot write output")?;
    if !args.quiet {
        use understudy_stream::{bytes, rate, thousands};
        let secs = started.elapsed().as_secs_f64();
        eprintln!(
            "understudy: generated {} in {secs:.1} s ({}/s): {} tables, {} INSERT statements, \
             {} rows ({} layout, {} shape, seed {})",
            bytes(stats.bytes),
            bytes(rate(stats.bytes, secs)),
            thousands(stats.tables),
            thousands(stats.inserts),
            thousands(stats.rows),
            args.layout
                .to_possible_value()
                .map_or_else(String::new, |v| v.get_name().to_owned()),
            args.shape
                .to_possible_value()
                .map_or_else(String::new, |v| v.get_name().to_owned()),
            args.seed
        );
    }
    Ok(())
}
