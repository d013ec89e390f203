//! Seeded, deterministic dumps of WordPress, Elgg and Drupal sites, in every shape real
//! dumps come in, for benchmarks of rewrites, restores and pipelines.
//!
//! [`DumpGenerator`] writes what `mariadb-dump` (10.11) writes: the header comments and
//! `/*!40101 SET …*/;` lines, `DROP TABLE` / `CREATE TABLE` / `LOCK TABLES` around each table
//! (in mariadb-dump's alphabetical order), ``INSERT INTO `t` VALUES\n(…),\n(…);`` statements
//! cut below `net_buffer_length` (about 1 MB), values escaped exactly as mysqldump escapes
//! them, and the `-- Dump completed` trailer.
//!
//! The content is shaped like a real site's, because that is what a rewriter spends its time
//! on: HTML with links on the site [`SITE_URL`], serialized PHP with correct `s:N:` byte
//! lengths (nested, objects with protected and private properties), JSON with escaped
//! slashes, e-mail and IP addresses, password hashes. [`Layout`] picks the application,
//! [`Shape`] the form of the dump:
//!
//! | shape | what it models |
//! |---|---|
//! | [`Shape::Default`] | a few big tables, ~1 MB extended `INSERT`s |
//! | [`Shape::ManyTables`] | thousands of small tables with repeated schemas (WordPress multisite: `wp_N_*`; Drupal: field tables), some empty, some with one row |
//! | [`Shape::OneRowInserts`] | `--skip-extended-insert`: one `INSERT` per row, one per line |
//! | [`Shape::Serialized`] | half the rows serialized PHP arrays with URLs and paths |
//! | [`Shape::HexBlob`] | `--hex-blob`: binary columns as `0x…`, with the tables that have them |
//! | [`Shape::Mix`] | all of the above in one dump |
//!
//! The same settings and seed always give the same bytes (ChaCha8, no clocks, no hash
//! maps). The dump ends at the first row boundary at or after the requested size, then
//! closes the statement and the table properly, so it always loads.
//!
//! ```
//! use understudy_generate::{DumpGenerator, Layout, Shape};
//!
//! let (dump, stats) = DumpGenerator::new(1 << 20).seed(7).generate();
//! assert_eq!(dump.len() as u64, stats.bytes);
//! assert!(stats.bytes >= 1 << 20);
//!
//! let mut generator = DumpGenerator::new(1 << 20);
//! generator.layout(Layout::Drupal).shape(Shape::OneRowInserts);
//! let mut out = Vec::new();
//! let stats = generator.write_to(&mut out)?;
//! assert_eq!(stats.inserts, stats.rows);
//! # Ok::<(), understudy_generate::Error>(())
//! ```

#![deny(missing_docs)]

use std::borrow::Cow;
use std::io::{self, Write};

use rand::rngs::ChaCha8Rng;
use rand::SeedableRng;

mod drupal;
mod dump;
mod elgg;
mod text;
mod wordpress;

pub use crate::dump::NET_BUFFER_LENGTH;

use crate::dump::{Budget, DumpWriter};

/// The site's own URL in the generated content (what a rewrite rule would replace).
pub const SITE_URL: &str = "https://www.example.com";

/// The application whose tables the dump holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Layout {
    /// WordPress 6 (`wp_` tables; multisite `wp_N_*` with [`Shape::ManyTables`]).
    #[default]
    WordPress,
    /// Elgg 3 to 5 (`elgg_entities`, `elgg_metadata`, …).
    Elgg,
    /// Drupal 8 and later (`node_field_data`, `config`, `key_value`, `cache_*`, …).
    Drupal,
}

impl Layout {
    /// The database name in the dump's header, and the layout's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Layout::WordPress => "wordpress",
            Layout::Elgg => "elgg",
            Layout::Drupal => "drupal",
        }
    }
}

/// The form of the dump: what about it makes a rewriter or a restore slow or fast.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Shape {
    /// A few big tables in extended `INSERT`s of about 1 MB.
    #[default]
    Default,
    /// Many small tables (about one per 20 KiB of dump unless [`DumpGenerator::tables`]
    /// says): WordPress multisite, ten tables per site; Drupal field tables.
    ManyTables,
    /// One row per `INSERT`, as `mariadb-dump --skip-extended-insert` writes.
    OneRowInserts,
    /// Serialized PHP dense: half the rows or more hold serialized arrays with URLs and
    /// paths.
    Serialized,
    /// Binary columns written as `0x…` (`mariadb-dump --hex-blob`), with tables that hold
    /// binary data.
    HexBlob,
    /// All of the above in one dump: many tables, serialized-dense, hex blobs, and every
    /// other table one row per `INSERT`.
    Mix,
}

impl Shape {
    /// The shape's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Shape::Default => "default",
            Shape::ManyTables => "many-tables",
            Shape::OneRowInserts => "one-row-inserts",
            Shape::Serialized => "serialized",
            Shape::HexBlob => "hex-blob",
            Shape::Mix => "mix",
        }
    }
}

/// What a generated dump holds: the answers benchmarks check.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Bytes written.
    pub bytes: u64,
    /// `CREATE TABLE` statements.
    pub tables: u64,
    /// `INSERT` statements.
    pub inserts: u64,
    /// Rows in all `INSERT`s.
    pub rows: u64,
    /// Values in all rows (the lexer's `Token::Value` count).
    pub values: u64,
}

/// Why a dump could not be generated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The settings do not go together (the message says which and why).
    #[error("{0}")]
    Settings(String),
    /// Writing the dump failed (the cause is the error's source).
    #[error("cannot write the dump")]
    Io(#[from] io::Error),
}

/// What kind of [`Error`] happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Settings that do not go together: the caller's to fix.
    Settings,
    /// Writing failed: the environment's.
    Io,
}

impl Error {
    /// What kind of error this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Settings(_) => ErrorKind::Settings,
            Error::Io(_) => ErrorKind::Io,
        }
    }
}

/// Builds a dump of a given size, layout and shape from a seed. See the [crate docs](crate).
#[derive(Clone, Debug)]
pub struct DumpGenerator {
    size: u64,
    seed: u64,
    layout: Layout,
    shape: Shape,
    tables: Option<u64>,
    rows_per_insert: Option<u64>,
    hex_blob: Option<bool>,
}

/// The settings a layout generates from, resolved from the shape and the knobs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Settings {
    pub size: u64,
    pub seed: u64,
    /// Many tables: how many, about.
    pub tables: Option<u64>,
    /// Rows per `INSERT` at most (`u64::MAX`: as many as `net_buffer_length` allows).
    pub rows_per_insert: u64,
    /// Every other table one row per `INSERT` (the mix).
    pub alternate_one_row: bool,
    /// Serialized-dense content.
    pub dense: bool,
    /// `--hex-blob`, and tables with binary columns.
    pub hex_blob: bool,
}

/// One table of the dump: its name, schema, share of the dump's bytes and a cap on rows;
/// `kind` tells the layout what to fill it with.
pub(crate) struct Spec<K> {
    pub name: String,
    pub kind: K,
    pub schema: Cow<'static, str>,
    pub options: &'static str,
    pub share: f64,
    pub max_rows: u64,
}

/// A layout's content: fills one table with rows while [`DumpWriter::more`] says so.
pub(crate) trait Content {
    type Kind: Copy;
    fn fill<W: Write>(&mut self, kind: Self::Kind, w: &mut DumpWriter<W>) -> io::Result<()>;
}

/// Bytes of framing (comments, `DROP`/`CREATE`/`LOCK`) a table costs at least: `--tables`
/// beyond what the size leaves room for is refused.
const TABLE_FRAMING: u64 = 2048;

/// Tables of at most this many rows get them whatever their share.
const FIXED_ROWS: u64 = 3;

impl DumpGenerator {
    /// A generator for a WordPress dump of the default shape of at least `size` bytes, with
    /// seed 1.
    pub fn new(size: u64) -> DumpGenerator {
        DumpGenerator {
            size,
            seed: 1,
            layout: Layout::WordPress,
            shape: Shape::Default,
            tables: None,
            rows_per_insert: None,
            hex_blob: None,
        }
    }

    /// Sets the seed; each seed gives a different, equally shaped dump.
    pub fn seed(&mut self, seed: u64) -> &mut DumpGenerator {
        self.seed = seed;
        self
    }

    /// Sets the application whose tables the dump holds.
    pub fn layout(&mut self, layout: Layout) -> &mut DumpGenerator {
        self.layout = layout;
        self
    }

    /// Sets the form of the dump.
    pub fn shape(&mut self, shape: Shape) -> &mut DumpGenerator {
        self.shape = shape;
        self
    }

    /// Sets how many tables, about, a [`Shape::ManyTables`] or [`Shape::Mix`] dump has
    /// (WordPress: network tables plus ten per site; Drupal: core tables plus two per
    /// field). Any other shape becomes [`Shape::ManyTables`].
    pub fn tables(&mut self, n: u64) -> &mut DumpGenerator {
        self.tables = Some(n);
        self
    }

    /// Sets the most rows an `INSERT` holds (1: one row per `INSERT`, as
    /// `--skip-extended-insert`); statements are still cut at `net_buffer_length`.
    pub fn rows_per_insert(&mut self, n: u64) -> &mut DumpGenerator {
        self.rows_per_insert = Some(n);
        self
    }

    /// Sets whether binary columns are written as `0x…` (`mariadb-dump --hex-blob`), with
    /// the tables that have them, in any shape. Default: in [`Shape::HexBlob`] and
    /// [`Shape::Mix`] only.
    pub fn hex_blob(&mut self, yes: bool) -> &mut DumpGenerator {
        self.hex_blob = Some(yes);
        self
    }

    /// The settings the layout generates from.
    ///
    /// # Errors
    /// [`ErrorKind::Settings`] when they do not go together: `--tables` for Elgg (its
    /// tables are fixed), more tables than the size has room for, zero rows per insert.
    fn settings(&self) -> Result<Settings, Error> {
        let shape = match (self.shape, self.tables) {
            (Shape::Mix, _) => Shape::Mix,
            (_, Some(_)) => Shape::ManyTables,
            (s, None) => s,
        };
        let many = matches!(shape, Shape::ManyTables | Shape::Mix);
        if self.rows_per_insert == Some(0) {
            return Err(Error::Settings(
                "rows per insert must be at least 1".to_owned(),
            ));
        }
        if self.layout == Layout::Elgg && (shape == Shape::ManyTables || self.tables.is_some()) {
            return Err(Error::Settings(
                "the Elgg layout has one fixed set of tables; many tables are made by the \
                 wordpress layout (multisite) and the drupal layout (field tables)"
                    .to_owned(),
            ));
        }
        let tables = match (many, self.tables) {
            (false, _) => None,
            (true, Some(n)) => {
                let room = self.size / TABLE_FRAMING / 2;
                if n > room {
                    return Err(Error::Settings(format!(
                        "{n} tables do not fit in {} bytes: each needs about {} bytes of \
                         framing; at most {room} tables for this size, or a size of at least \
                         {} bytes",
                        self.size,
                        TABLE_FRAMING,
                        n * TABLE_FRAMING * 2
                    )));
                }
                Some(n)
            }
            // About one table per 20 KiB, as in a multisite dump of ~18,000 tables in
            // 350 MB; the mix has fewer, larger tables.
            (true, None) => {
                let per = if shape == Shape::Mix {
                    80 << 10
                } else {
                    20 << 10
                };
                Some((self.size / per).max(30))
            }
        };
        let one_row = shape == Shape::OneRowInserts;
        Ok(Settings {
            size: self.size,
            seed: self.seed,
            tables,
            rows_per_insert: self
                .rows_per_insert
                .unwrap_or(if one_row { 1 } else { u64::MAX }),
            alternate_one_row: shape == Shape::Mix && self.rows_per_insert.is_none(),
            dense: matches!(shape, Shape::Serialized | Shape::Mix),
            hex_blob: self
                .hex_blob
                .unwrap_or(matches!(shape, Shape::HexBlob | Shape::Mix)),
        })
    }

    /// Checks that the settings go together, without writing anything.
    ///
    /// # Errors
    /// As [`DumpGenerator::write_to`] for [`ErrorKind::Settings`].
    pub fn check(&self) -> Result<(), Error> {
        self.settings().map(|_| ())
    }

    /// Writes the dump to `out` (wrap unbuffered writers in a `BufWriter`: rows are written
    /// one at a time).
    ///
    /// # Errors
    /// [`ErrorKind::Settings`] for settings that do not go together (see
    /// [`DumpGenerator::check`]), before anything is written; [`ErrorKind::Io`] for errors
    /// from `out`.
    pub fn write_to<W: Write>(&self, out: W) -> Result<Stats, Error> {
        let settings = self.settings()?;
        let text = text::Text {
            rng: ChaCha8Rng::seed_from_u64(self.seed),
            site: SITE_URL,
        };
        let mut w = DumpWriter::new(out, settings.hex_blob);
        match self.layout {
            Layout::WordPress => {
                let specs = wordpress::plan(&settings);
                let mut site = wordpress::Site::new(text, &settings, &specs);
                drive(&mut site, specs, self.layout, &settings, &mut w)?;
            }
            Layout::Elgg => {
                let specs = elgg::plan(&settings);
                let mut site = elgg::Site::new(text, &settings);
                drive(&mut site, specs, self.layout, &settings, &mut w)?;
            }
            Layout::Drupal => {
                let specs = drupal::plan(&settings);
                let mut site = drupal::Site::new(text, &settings);
                drive(&mut site, specs, self.layout, &settings, &mut w)?;
            }
        }
        Ok(w.stats)
    }

    /// The dump in memory.
    ///
    /// # Panics
    /// If the settings do not go together ([`DumpGenerator::check`] says so first).
    pub fn generate(&self) -> (Vec<u8>, Stats) {
        let mut out = Vec::with_capacity(self.size as usize + NET_BUFFER_LENGTH);
        match self.write_to(&mut out) {
            Ok(stats) => (out, stats),
            Err(e) => panic!("cannot generate the dump: {e}"),
        }
    }
}

/// Writes the tables in mariadb-dump's (alphabetical) order, each up to its share of the
/// size, the last one up to the size itself.
fn drive<C: Content, W: Write>(
    content: &mut C,
    mut specs: Vec<Spec<C::Kind>>,
    layout: Layout,
    settings: &Settings,
    w: &mut DumpWriter<W>,
) -> io::Result<()> {
    specs.sort_by(|a, b| a.name.cmp(&b.name));
    let total: f64 = specs
        .iter()
        .map(|s| s.share)
        .sum::<f64>()
        .max(f64::MIN_POSITIVE);
    let size = settings.size as f64;
    w.header(layout.name())?;
    let mut cumulative = 0.0;
    let last = specs.len().saturating_sub(1);
    for (i, spec) in specs.iter().enumerate() {
        cumulative += spec.share / total;
        let budget = Budget {
            until: if i == last {
                settings.size
            } else if spec.max_rows <= FIXED_ROWS {
                // A handful of rows costs nothing: written whatever the budget, so a small
                // table behind a large one is not left empty.
                u64::MAX
            } else {
                (size * cumulative) as u64
            },
            max_rows: if i == last { u64::MAX } else { spec.max_rows },
            rows_per_insert: if settings.alternate_one_row && i % 2 == 1 {
                1
            } else {
                settings.rows_per_insert
            },
        };
        w.begin_table(&spec.name, &spec.schema, spec.options, budget)?;
        content.fill(spec.kind, w)?;
        w.end_table()?;
    }
    w.footer()
}

/// Parses a size such as `100M`, `1G`, `512K`, `1.5M` or `123456` (suffixes are powers of
/// 1024, as in `head -c` and `dd`; a trailing `B` or `iB` is accepted).
///
/// # Errors
/// A message saying what is wrong with `s`.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t);
    let (number, unit) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&t[..i], c.to_ascii_uppercase()),
        _ => (t, ' '),
    };
    let factor: u64 = match unit {
        ' ' => 1,
        'K' => 1 << 10,
        'M' => 1 << 20,
        'G' => 1 << 30,
        'T' => 1 << 40,
        _ => return Err(format!("unknown size unit in {s:?} (use K, M, G or T)")),
    };
    let n: f64 = number
        .parse()
        .map_err(|_| format!("not a size: {s:?} (e.g. 100M, 1G, 4096)"))?;
    if !n.is_finite() || n < 0.0 {
        return Err(format!("not a size: {s:?}"));
    }
    Ok((n * factor as f64) as u64)
}

/// splitmix64 of `seed` and `n`: a per-id coin that does not depend on generation order.
pub(crate) fn mix(seed: u64, n: u64) -> u64 {
    let mut z = seed ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests;
