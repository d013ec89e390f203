//! Seeded, deterministic WordPress-shaped dumps for Understudy's benchmarks.
//!
//! [`DumpGenerator`] writes what `mariadb-dump` (10.11) writes for a WordPress 6 site: the
//! header comments and `/*!40101 SET …*/;` lines, `DROP TABLE` / `CREATE TABLE` / `LOCK TABLES`
//! around each of `wp_comments`, `wp_options`, `wp_postmeta`, `wp_posts`, `wp_usermeta` and
//! `wp_users`, and extended ``INSERT INTO `t` VALUES\n(…),\n(…);`` statements cut below
//! `net_buffer_length` (about 1 MB), with values escaped exactly as mysqldump escapes them.
//!
//! The content is shaped like a real site's, because that is what the lexer and the rewriter
//! spend their time on:
//! - post content as Gutenberg blocks (and older posts as classic HTML with CRLF line ends),
//!   with links and images on the site [`SITE_URL`], revisions and attachments outnumbering
//!   posts;
//! - serialized PHP in options and meta, with correct `s:N:` byte lengths, nested serialized
//!   strings, objects with protected and private (NUL-wrapped) property names and namespaced
//!   class names;
//! - Elementor page-builder JSON (`https:\/\/www.example.com\/…`, `\u00fc`), which the dump
//!   escapes once more (`https:\\/\\/`);
//! - users with e-mail addresses and password hashes, comments with IP addresses.
//!
//! The same size and seed always give the same bytes (ChaCha8, no clocks, no hash maps).
//! The dump ends at the first row boundary at or after the requested size, then closes the
//! statement and the table properly, so it always loads.
//!
//! ```
//! use understudy_benches::DumpGenerator;
//!
//! let (dump, stats) = DumpGenerator::new(1 << 20).seed(7).generate();
//! assert_eq!(dump.len() as u64, stats.bytes);
//! assert!(stats.bytes >= 1 << 20);
//! ```

use std::io::{self, Write};

use rand::rngs::ChaCha8Rng;
use rand::SeedableRng;

mod dump;
mod text;
mod wordpress;

pub use crate::dump::NET_BUFFER_LENGTH;

/// The site's own URL in the generated content (what a rewrite rule would replace).
pub const SITE_URL: &str = "https://www.example.com";

/// What a generated dump holds: the answers benchmarks check.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Bytes written.
    pub bytes: u64,
    /// `INSERT` statements.
    pub inserts: u64,
    /// Rows in all `INSERT`s.
    pub rows: u64,
    /// Values in all rows (the lexer's `Token::Value` count).
    pub values: u64,
}

/// Builds a WordPress-shaped dump of a given size from a seed. See the [crate docs](crate).
#[derive(Clone, Debug)]
pub struct DumpGenerator {
    size: u64,
    seed: u64,
}

impl DumpGenerator {
    /// A generator for a dump of at least `size` bytes, with seed 1.
    pub fn new(size: u64) -> DumpGenerator {
        DumpGenerator { size, seed: 1 }
    }

    /// Sets the seed; each seed gives a different, equally shaped dump.
    pub fn seed(&mut self, seed: u64) -> &mut DumpGenerator {
        self.seed = seed;
        self
    }

    /// Writes the dump to `out` (wrap unbuffered writers in a `BufWriter`: rows are written
    /// one at a time).
    ///
    /// # Errors
    /// Only errors from `out`.
    pub fn write_to<W: Write>(&self, out: W) -> io::Result<Stats> {
        let text = text::Text {
            rng: ChaCha8Rng::seed_from_u64(self.seed),
            site: SITE_URL,
        };
        let mut writer = dump::DumpWriter::new(out);
        wordpress::Site::new(text, self.seed, self.size).write(&mut writer, self.size)?;
        Ok(writer.stats)
    }

    /// The dump in memory.
    pub fn generate(&self) -> (Vec<u8>, Stats) {
        let mut out = Vec::with_capacity(self.size as usize + NET_BUFFER_LENGTH);
        let stats = self
            .write_to(&mut out)
            .expect("writing to a Vec cannot fail");
        (out, stats)
    }
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

#[cfg(test)]
mod tests {
    use understudy_sqldump::literal::unescape;
    use understudy_sqldump::{DumpReader, Token, ValueKind};

    use super::*;

    const SIZE: u64 = 2 << 20;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("100M"), Ok(100 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert_eq!(parse_size("512KiB"), Ok(512 << 10));
        assert_eq!(parse_size("1.5M"), Ok(3 << 19));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("12Q").is_err());
        assert!(parse_size("M").is_err());
        assert!(parse_size("-1M").is_err());
    }

    #[test]
    fn deterministic_per_seed() {
        let a = DumpGenerator::new(300_000).seed(3).generate();
        let b = DumpGenerator::new(300_000).seed(3).generate();
        let c = DumpGenerator::new(300_000).seed(4).generate();
        assert!(a == b, "the same seed gave different dumps");
        assert_ne!(a.0, c.0);
    }

    /// A 2 MiB dump lexes without error; the lexer's counts are the generator's, its tokens
    /// give back the input, it ends just after the requested size, and every value that
    /// looks serialized parses with correct lengths.
    #[test]
    fn lexes_and_counts_match() {
        let (dump, stats) = DumpGenerator::new(SIZE).generate();
        assert_eq!(stats.bytes, dump.len() as u64);
        assert!(stats.bytes >= SIZE);
        // The last row is small (wp_users), so the dump ends within the footer's length.
        assert!(
            stats.bytes < SIZE + 2048,
            "{} bytes for {SIZE} asked",
            stats.bytes
        );

        let mut reader = DumpReader::new(&dump[..]);
        let mut copy = Vec::with_capacity(dump.len());
        let (mut values, mut rows, mut inserts, mut serialized, mut creates) = (0, 0, 0, 0, 0);
        let mut scratch = Vec::new();
        while let Some(item) = reader.next_token().expect("the dump lexes") {
            copy.extend_from_slice(item.bytes);
            match item.token {
                Token::Value(v) => {
                    values += 1;
                    if let ValueKind::Str { quote, .. } = v.kind {
                        let raw = unescape(v.content.of(item.bytes), quote, &mut scratch);
                        if understudy_phpser::looks_serialized(raw) {
                            serialized += 1;
                            let mut p = understudy_phpser::Parser::new(raw);
                            let bad = |e| {
                                let v = String::from_utf8_lossy(raw);
                                panic!("bad serialized value ({e}): {v}")
                            };
                            while p.next().unwrap_or_else(bad).is_some() {}
                        }
                    }
                }
                Token::RowOpen => rows += 1,
                Token::InsertHead { .. } => inserts += 1,
                Token::CreateTable { .. } => creates += 1,
                _ => {}
            }
        }
        assert!(copy == dump, "tokens do not give back the input");
        assert_eq!(values, stats.values);
        assert_eq!(rows, stats.rows);
        assert_eq!(inserts, stats.inserts);
        assert_eq!(creates, 6);
        assert!(serialized > 100, "only {serialized} serialized values");
        assert!(inserts > 6, "statements are not cut at net_buffer_length");
    }

    /// Statements stay below mariadb-dump's `net_buffer_length` unless a single row is larger.
    #[test]
    fn statements_are_cut_like_mariadb_dump() {
        let (dump, _) = DumpGenerator::new(SIZE).generate();
        let mut reader = DumpReader::new(&dump[..]);
        let mut len = 0;
        let mut rows = 0;
        while let Some(item) = reader.next_token().expect("the dump lexes") {
            match item.token {
                Token::InsertHead { .. } => (len, rows) = (0, 0),
                Token::RowOpen => rows += 1,
                Token::InsertEnd => assert!(len < NET_BUFFER_LENGTH || rows == 1, "{len} bytes"),
                _ => {}
            }
            len += item.bytes.len();
        }
    }

    /// The real thing: MariaDB loads the dump, and mariadb-dump writes the same bytes back
    /// (apart from the `AUTO_INCREMENT` counters the generator leaves out, the header and the
    /// date), so statements are cut and values escaped exactly as mariadb-dump does.
    #[test]
    fn mariadb_loads_it_and_dumps_it_back_identically() {
        let (dump, _) = DumpGenerator::new(SIZE).seed(5).generate();
        let db = understudy_testkit::mariadb::MariaDb::start().expect("a throwaway mariadbd");
        db.create_database("wordpress").expect("create database");
        db.load("wordpress", &dump).expect("the dump loads");
        let back = db
            .dump("wordpress", &["--skip-dump-date"])
            .expect("mariadb-dump");
        let body = |d: &[u8]| -> String {
            let s = String::from_utf8_lossy(d);
            let start = s.find("\n--\n-- Table structure").expect("a table");
            let end = s.rfind("-- Dump completed").expect("the last line");
            let mut out = String::new();
            for line in s[start..end].split_inclusive('\n') {
                match line.find(" AUTO_INCREMENT=") {
                    Some(i) if line.starts_with(") ENGINE=") => {
                        let rest = &line[i + " AUTO_INCREMENT=".len()..];
                        out.push_str(&line[..i]);
                        out.push_str(rest.trim_start_matches(|c: char| c.is_ascii_digit()));
                    }
                    _ => out.push_str(line),
                }
            }
            out
        };
        let (ours, theirs) = (body(&dump), body(&back));
        assert!(
            ours.len() as u64 > SIZE - 20_000,
            "the comparison covers the rows"
        );
        if ours != theirs {
            let line = ours.lines().zip(theirs.lines()).position(|(a, b)| a != b);
            panic!(
                "mariadb-dump ({}) writes it differently from line {line:?} of the tables",
                db.binaries().dump_version().unwrap_or_default()
            );
        }
    }

    #[test]
    fn site_url_is_everywhere_a_real_site_has_it() {
        let (dump, _) = DumpGenerator::new(SIZE).generate();
        let plain = memchr::memmem::find_iter(&dump, SITE_URL).count();
        let json = memchr::memmem::find_iter(&dump, r"https:\\/\\/www.example.com").count();
        // About one plain occurrence per 2 KB, and Elementor's escaped form as well.
        assert!(plain as u64 > SIZE / 4096, "{plain}");
        assert!(json > 20, "{json}");
    }
}
