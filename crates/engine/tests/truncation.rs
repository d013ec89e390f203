//! A dump cut short is never a successful rewrite, never a panic, and never a leak.
//!
//! Every fixture dump, with its rule pack (`understudy_testkit::leaks::fixture_dumps`), is
//! cut at 1,000 offsets drawn by a seeded generator: a good share of them exactly at
//! statement boundaries (the ends of statements, comments and the line breaks between them),
//! always the boundary just before the `-- Dump completed` trailer, the rest anywhere. Each
//! prefix goes through the engine in this process, with one thread or two (with batches
//! that cut statements). What is asserted:
//! - no run panics, and none writes a masked source value before it stops
//!   (`MaskedValues::find_leak` on the partial output);
//! - a cut inside a statement is an error;
//! - a cut between two statements of a dump whose header says it is a mysqldump/mariadb-dump
//!   dump, before its trailer, is an error too: only the missing trailer tells such a prefix
//!   from a whole dump (the engine's trailer check).

use std::panic::{catch_unwind, AssertUnwindSafe};

use understudy_engine::EngineBuilder;
use understudy_sqldump::{DumpReader, Token};
use understudy_testkit::leaks::{fixture_dumps, MaskedValues, Pack};

const CUTS: usize = 1_000;
/// How many of the cuts land exactly on a statement boundary, in percent.
const AT_BOUNDARY: u64 = 45;
const TRAILER: &[u8] = b"-- Dump completed";

/// xorshift64*: seeded, so a failing cut is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Where one dump may be cut, and what a cut there means.
struct Layout {
    /// Byte ranges of whole SQL statements (an `INSERT` from its head to its delimiter).
    statements: Vec<(usize, usize)>,
    /// Offsets between two top-level tokens.
    boundaries: Vec<usize>,
    /// The end of the line that says which tool wrote the dump, if one does.
    header_end: Option<usize>,
    /// Where the trailer line starts, if the dump has one.
    trailer: Option<usize>,
}

impl Layout {
    fn of(dump: &[u8]) -> Layout {
        let mut statements = Vec::new();
        let mut boundaries = Vec::new();
        let mut insert_start = None;
        let mut reader = DumpReader::new(dump);
        while let Some(item) = reader.next_token().expect("the fixture lexes") {
            let start = item.pos.byte as usize;
            let end = start + item.bytes.len();
            match item.token {
                Token::Statement { .. } | Token::CreateTable { .. } => {
                    statements.push((start, end));
                    boundaries.push(end);
                }
                Token::InsertHead { .. } => insert_start = Some(start),
                Token::InsertEnd | Token::InsertTail => {
                    statements.push((insert_start.take().unwrap_or(start), end));
                    boundaries.push(end);
                }
                // A client command (`DELIMITER ;;`) is whole without its line break.
                Token::Space | Token::Comment | Token::SandboxComment | Token::Delimiter { .. } => {
                    boundaries.push(end)
                }
                _ => {}
            }
        }
        let find = |needle: &[u8]| dump.windows(needle.len()).position(|w| w == needle);
        let header_end = find(b"-- MariaDB dump")
            .or_else(|| find(b"-- MySQL dump"))
            .map(|at| at + dump[at..].iter().position(|&b| b == b'\n').unwrap_or(0) + 1);
        Layout {
            statements,
            boundaries,
            header_end,
            trailer: find(TRAILER),
        }
    }

    fn inside_statement(&self, cut: usize) -> bool {
        self.statements.iter().any(|&(s, e)| s < cut && cut < e)
    }

    /// Whether nothing but the missing trailer can tell this prefix from a whole dump.
    fn needs_trailer_check(&self, cut: usize) -> bool {
        match (self.header_end, self.trailer) {
            (Some(h), Some(t)) => h <= cut && cut < t + TRAILER.len(),
            _ => false,
        }
    }
}

/// One cut's run.
struct Cut {
    at: usize,
    ok: bool,
}

/// Runs every cut of every fixture; panics (naming the dump and offset) on a panic or leak.
fn run_cuts() -> Vec<(String, Layout, Vec<Cut>)> {
    let mut all = Vec::new();
    let mut rng = Rng(0x5eed_c0ff_ee00);
    for (path, pack) in fixture_dumps() {
        let dump = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let layout = Layout::of(&dump);
        let rules = pack.rules();
        let masked = MaskedValues::of(&rules, &dump);
        let engine = |threads: usize| {
            EngineBuilder::new()
                .rules(rules.clone())
                .threads(threads)
                .batch_size(256)
                .build()
                .unwrap()
        };
        let (one, two) = (engine(1), engine(2));
        let mut offsets: Vec<usize> = layout.trailer.into_iter().collect();
        while offsets.len() < CUTS {
            let at = if rng.next() % 100 < AT_BOUNDARY {
                layout.boundaries[rng.below(layout.boundaries.len())]
            } else {
                1 + rng.below(dump.len() - 1)
            };
            offsets.push(at.min(dump.len() - 1));
        }
        let mut cuts = Vec::with_capacity(CUTS);
        for (i, &at) in offsets.iter().enumerate() {
            let engine = if i % 4 == 3 { &two } else { &one };
            let mut out = Vec::new();
            let result = catch_unwind(AssertUnwindSafe(|| engine.run(&dump[..at], &mut out)));
            let Ok(result) = result else {
                panic!(
                    "{name} with {}, cut at {at}: the engine panicked",
                    pack_name(pack)
                );
            };
            if let Some(leak) = masked.find_leak(&out) {
                panic!("{name}, cut at {at}: {leak}");
            }
            cuts.push(Cut {
                at,
                ok: result.is_ok(),
            });
        }
        all.push((name, layout, cuts));
    }
    all
}

fn pack_name(pack: Pack) -> &'static str {
    pack.file_name()
}

#[test]
fn cut_dumps_never_panic_leak_or_pass_mid_statement() {
    let mut boundary_cuts = 0;
    let mut total = 0;
    for (name, layout, cuts) in run_cuts() {
        for cut in &cuts {
            total += 1;
            if layout.boundaries.binary_search(&cut.at).is_ok() {
                boundary_cuts += 1;
            }
            assert!(
                !(cut.ok && layout.inside_statement(cut.at)),
                "{name} cut at {} (inside a statement) was rewritten without an error",
                cut.at
            );
        }
    }
    // The generator puts a good share of the cuts exactly between statements.
    assert!(
        boundary_cuts * 100 >= total * 40,
        "{boundary_cuts} of {total}"
    );
}

#[test]
fn cut_dumps_between_statements_fail_too() {
    let mut passed = Vec::new();
    for (name, layout, cuts) in run_cuts() {
        for cut in cuts {
            if cut.ok && layout.needs_trailer_check(cut.at) {
                passed.push(format!("{name}@{}", cut.at));
            }
        }
    }
    assert!(
        passed.is_empty(),
        "{} cuts were rewritten without an error, e.g. {:?}",
        passed.len(),
        &passed[..passed.len().min(10)]
    );
}
