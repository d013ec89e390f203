//! Throughput of the dump lexer alone, on a generated 32 MiB WordPress dump in memory.
//!
//! - `dump_reader`: [`DumpReader`] over the bytes (its buffering, positions and table names
//!   included), as the engine uses it;
//! - `lexer`: the raw [`Lexer::lex`] loop over one slice, the core without the driver;
//! - `skim`: the same loop taking rows whole with [`Lexer::skim_rows`] wherever it can, as
//!   the engine does for tables nothing changes (here: every table);
//! - `memchr_newlines`: counting lines with `memchr`, a floor for "touching every byte once".
//!
//! Each benchmark checks its answer before it is timed: the lexer must find exactly the
//! values and rows the generator wrote, and its tokens must cover the input byte for byte.
//!
//! ```text
//! cargo bench -p understudy-benches --bench lexer -- --warm-up-time 1 --measurement-time 3
//! ```

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use understudy_generate::{DumpGenerator, Stats};
use understudy_sqldump::{DumpReader, Lexed, Lexer, Skimmed, Token};

const SIZE: u64 = 32 << 20;

/// What one pass found: `Value` tokens, `RowOpen` tokens and bytes covered by tokens.
#[derive(Debug, Default, PartialEq, Eq)]
struct Counts {
    values: u64,
    rows: u64,
    bytes: u64,
}

impl Counts {
    fn add(&mut self, token: Token, len: usize) {
        match token {
            Token::Value(_) => self.values += 1,
            Token::RowOpen => self.rows += 1,
            Token::Rows { rows, .. } => self.rows += u64::from(rows),
            _ => {}
        }
        self.bytes += len as u64;
    }

    fn expected(stats: &Stats) -> Counts {
        Counts {
            values: stats.values,
            rows: stats.rows,
            bytes: stats.bytes,
        }
    }
}

fn dump_reader(dump: &[u8]) -> Counts {
    let mut reader = DumpReader::new(dump);
    let mut counts = Counts::default();
    while let Some(item) = reader.next_token().expect("the generated dump lexes") {
        counts.add(item.token, item.bytes.len());
    }
    counts
}

fn lexer(dump: &[u8]) -> Counts {
    let mut lexer = Lexer::new();
    let mut counts = Counts::default();
    let mut at = 0;
    loop {
        match lexer
            .lex(&dump[at..], true)
            .expect("the generated dump lexes")
        {
            (Lexed::Token(token), n) => {
                counts.add(token, n);
                at += n;
            }
            (Lexed::End, _) => return counts,
            (Lexed::NeedInput, _) => unreachable!("the whole input is there"),
        }
    }
}

/// The `lexer` loop, but rows are taken whole where they can be: values are not counted.
fn skim(dump: &[u8]) -> Counts {
    let mut lexer = Lexer::new();
    let mut counts = Counts::default();
    let mut at = 0;
    loop {
        if lexer.is_between_rows() {
            if let Skimmed::Rows(token, n) = lexer.skim_rows(&dump[at..]) {
                counts.add(token, n);
                at += n;
                continue;
            }
        }
        match lexer
            .lex(&dump[at..], true)
            .expect("the generated dump lexes")
        {
            (Lexed::Token(token), n) => {
                counts.add(token, n);
                at += n;
            }
            (Lexed::End, _) => return counts,
            (Lexed::NeedInput, _) => unreachable!("the whole input is there"),
        }
    }
}

fn newlines(dump: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', dump).count()
}

fn bench(c: &mut Criterion) {
    let (dump, stats) = DumpGenerator::new(SIZE).seed(1).generate();
    let expected = Counts::expected(&stats);
    assert_eq!(dump_reader(&dump), expected, "DumpReader miscounts");
    assert_eq!(lexer(&dump), expected, "Lexer::lex miscounts");
    let skimmed = skim(&dump);
    assert_eq!(
        (skimmed.rows, skimmed.bytes),
        (expected.rows, expected.bytes),
        "Lexer::skim_rows miscounts"
    );
    assert!(
        skimmed.values < expected.values / 100,
        "rows were not skimmed"
    );
    assert_eq!(
        newlines(&dump),
        dump.iter().filter(|&&b| b == b'\n').count(),
        "memchr miscounts"
    );

    let mut group = c.benchmark_group("lex-wordpress-32MiB");
    group.throughput(Throughput::Bytes(dump.len() as u64));
    // One pass takes tens of milliseconds: ten samples are plenty and keep a run short.
    group.sample_size(10);
    group.bench_function("dump_reader", |b| b.iter(|| dump_reader(black_box(&dump))));
    group.bench_function("lexer", |b| b.iter(|| lexer(black_box(&dump))));
    group.bench_function("skim", |b| b.iter(|| skim(black_box(&dump))));
    group.bench_function("memchr_newlines", |b| b.iter(|| newlines(black_box(&dump))));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
