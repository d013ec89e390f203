//! What the encoding checks of issue #6 (PHP sessions, base64, JSON documents) cost on a
//! generated WordPress dump where few values carry them.
//!
//! Every string value of an 8 MiB dump (seed 1) is decoded once up front; both benchmarks then
//! replace the site URL in all of them:
//!
//! - `with_checks`: `replace_in_value`, as the engine calls it;
//! - `without_checks`: the same minus the encoding checks: a value that looks serialized is
//!   rewritten with the same replacement in its strings, any other gets a plain replacement.
//!
//! Before timing, both must rewrite the same number of values (the dump has no session or
//! base64 values, and its Elementor JSON is changed the same way by either path).
//!
//! ```text
//! cargo bench -p understudy-benches --bench encodings
//! ```

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use understudy_benches::DumpGenerator;
use understudy_phpser::{
    looks_serialized, replace_in_value, Edit, Mode, Options, Outcome, Replacer, Rewriter, Role,
    Scratch,
};
use understudy_sqldump::literal::unescape_into;
use understudy_sqldump::{DumpReader, Token, ValueKind};

const SIZE: u64 = 8 << 20;
const OLD: &str = "https://www.example.com";
const NEW: &str = "https://int.example.org";

/// Every string value of the dump, unescaped.
fn values(dump: &[u8]) -> Vec<Vec<u8>> {
    let mut reader = DumpReader::new(dump);
    let mut out = Vec::new();
    while let Some(item) = reader.next_token().expect("the generated dump lexes") {
        if let Token::Value(v) = item.token {
            if let ValueKind::Str { quote, .. } = v.kind {
                let mut raw = Vec::new();
                unescape_into(v.content.of(item.bytes), quote, &mut raw);
                out.push(raw);
            }
        }
    }
    out
}

fn with_checks(
    values: &[Vec<u8>],
    r: &Replacer,
    scratch: &mut Scratch,
    out: &mut Vec<u8>,
) -> usize {
    let mut n = 0;
    for v in values {
        let report = replace_in_value(v, r, scratch, out, Options::new(Mode::Auto)).unwrap();
        if report.outcome == Outcome::Rewritten {
            n += 1;
            black_box(&out);
        }
    }
    n
}

fn without_checks(
    values: &[Vec<u8>],
    r: &Replacer,
    rewriter: &mut Rewriter,
    out: &mut Vec<u8>,
    tmp: &mut Vec<u8>,
) -> usize {
    let mut n = 0;
    for v in values {
        let changed = if looks_serialized(v) {
            if !r.is_match(v) {
                continue;
            }
            let edit = |role: Role, s: &[u8], scratch: &mut Vec<u8>| {
                if role != Role::ClassName && r.is_match(s) && r.replace(s, scratch, tmp) {
                    Edit::Replaced
                } else {
                    Edit::Keep
                }
            };
            match rewriter.rewrite(v, out, edit) {
                Ok(outcome) => outcome == Outcome::Rewritten,
                Err(_) => r.replace(v, out, tmp),
            }
        } else {
            r.replace(v, out, tmp)
        };
        if changed {
            n += 1;
            black_box(&out);
        }
    }
    n
}

fn bench(c: &mut Criterion) {
    let (dump, _) = DumpGenerator::new(SIZE).seed(1).generate();
    let values = values(&dump);
    let r = Replacer::new([
        (OLD, NEW),
        ("https:\\/\\/www.example.com", "https:\\/\\/int.example.org"),
    ])
    .unwrap();
    let (mut scratch, mut rewriter) = (Scratch::new(), Rewriter::new());
    let (mut out, mut tmp) = (Vec::new(), Vec::new());
    let want = with_checks(&values, &r, &mut scratch, &mut out);
    assert!(want > 1000, "{want} values rewritten");
    assert_eq!(
        without_checks(&values, &r, &mut rewriter, &mut out, &mut tmp),
        want,
        "both paths rewrite the same values"
    );
    let mut group = c.benchmark_group("encodings-wordpress-8MiB");
    group.throughput(Throughput::Bytes(
        values.iter().map(Vec::len).sum::<usize>() as u64,
    ));
    group.sample_size(20);
    group.bench_function("with_checks", |b| {
        b.iter(|| with_checks(&values, &r, &mut scratch, &mut out))
    });
    group.bench_function("without_checks", |b| {
        b.iter(|| without_checks(&values, &r, &mut rewriter, &mut out, &mut tmp))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
