//! What the encoding checks of issue #6 (PHP sessions, base64, JSON documents) cost on a
//! generated WordPress dump where few values carry them.
//!
//! Every string value of an 8 MiB dump (seed 1) is decoded once up front; both benchmarks then
//! replace the site URL (raw and `\/`-escaped) in all of them:
//!
//! - `with_checks`: `replace_in_value`, as the engine calls it;
//! - `without_checks`: the same function with `Options::without_encoding_checks`, which leaves
//!   out only the checks: no session, base64 or JSON-document detection, and a prefilter that
//!   looks for the needles alone, not also for their JSON-escaped forms. What is left is the
//!   rewrite as it was before them: serialized values rewritten string by string, any other
//!   value given a plain replacement if a needle is in it.
//!
//! Before timing, both must give every value the same bytes (the dump has no session or
//! base64 values, and its Elementor JSON is changed the same way by either path).
//!
//! ```text
//! cargo bench -p understudy-benches --bench encodings
//! ```

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use understudy_generate::DumpGenerator;
use understudy_phpser::{replace_in_value, Mode, Options, Outcome, Replacer, Scratch};
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

/// `replace_in_value` on one value; `true` if `out` holds a new value.
fn rewrite(v: &[u8], r: &Replacer, scratch: &mut Scratch, out: &mut Vec<u8>, o: Options) -> bool {
    let report = replace_in_value(v, r, scratch, out, o).expect("not strict: never an error");
    report.outcome == Outcome::Rewritten
}

fn bench(c: &mut Criterion) {
    let (dump, _) = DumpGenerator::new(SIZE).seed(1).generate();
    let values = values(&dump);
    let pairs = [
        (OLD, NEW),
        ("https:\\/\\/www.example.com", "https:\\/\\/int.example.org"),
    ];
    let r = Replacer::new(pairs).expect("two short needles");
    let with = Options::new(Mode::Auto);
    let without = with.without_encoding_checks();
    let mut scratch = Scratch::new();
    let (mut out, mut want) = (Vec::new(), Vec::new());
    let mut rewritten = 0;
    for v in &values {
        let changed = rewrite(v, &r, &mut scratch, &mut want, with);
        let same = rewrite(v, &r, &mut scratch, &mut out, without);
        assert_eq!(
            changed,
            same,
            "both change {:?}",
            String::from_utf8_lossy(v)
        );
        if changed {
            assert_eq!(want, out, "both write the same bytes");
            rewritten += 1;
        }
    }
    assert!(rewritten > 1000, "{rewritten} values rewritten");
    let mut group = c.benchmark_group("encodings-wordpress-8MiB");
    group.throughput(Throughput::Bytes(
        values.iter().map(Vec::len).sum::<usize>() as u64,
    ));
    group.sample_size(20);
    for (name, options) in [("with_checks", with), ("without_checks", without)] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut n = 0;
                for v in &values {
                    if rewrite(v, &r, &mut scratch, &mut out, options) {
                        n += 1;
                        black_box(&out);
                    }
                }
                assert_eq!(n, rewritten);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
