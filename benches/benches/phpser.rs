//! `understudy-phpser` throughput on generated WordPress/Elgg-like column values.
//!
//! Each benchmark checks its answer (how many values were rewritten) once before timing.
//!
//! ```text
//! cargo bench -p understudy-benches --bench phpser
//! ```

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use understudy_phpser::{
    replace_in_value, Edit, Mode, Options, Outcome, Replacer, Rewriter, Scratch,
};

const VALUES: usize = 2000;
const OLD: &str = "https://mitglieder.example.org";
const NEW: &str = "https://int.example.org";

fn s(out: &mut String, v: &str) {
    out.push_str(&format!("s:{}:\"{v}\";", v.len()));
}

/// A serialized options array of about 1.5 KB: URLs, paths, numbers, a nested serialized
/// string, protected property names; `host` is the site URL in it.
fn serialized(i: usize, host: &str) -> String {
    let mut inner = String::from("a:3:{");
    for k in 0..3 {
        inner.push_str(&format!("i:{k};"));
        s(
            &mut inner,
            &format!("{host}/wp-content/uploads/2024/0{k}/image-{i}.jpg"),
        );
    }
    inner.push('}');
    let mut v = String::from("a:24:{");
    for k in 0..20 {
        s(&mut v, &format!("option_{k}"));
        match k % 4 {
            0 => s(&mut v, &format!("{host}/page/{i}/{k}")),
            1 => v.push_str(&format!("i:{};", i * 31 + k)),
            2 => s(&mut v, "Waldbühne Heessen – Veranstaltungen und Tickets"),
            _ => v.push_str("d:0.30000000000000004;"),
        }
    }
    s(&mut v, "nested");
    s(&mut v, &inner);
    s(&mut v, "object");
    v.push_str("O:8:\"stdClass\":2:{");
    s(&mut v, "\0*\0action");
    s(&mut v, &format!("{host}/action/{i}"));
    s(&mut v, "flag");
    v.push_str("b:1;}");
    s(&mut v, "path");
    s(&mut v, "/srv/elgg/data/");
    s(&mut v, "none");
    v.push_str("N;");
    v.push('}');
    v
}

/// Plain text of about the same size (HTML post content).
fn plain(i: usize, host: &str) -> String {
    let mut v = String::new();
    for k in 0..12 {
        v.push_str(&format!(
            "<p>Absatz {k} von Beitrag {i}: <a href=\"{host}/post/{i}/{k}\">weiterlesen</a> über die Waldbühne.</p>\n"
        ));
    }
    v
}

fn corpus(make: fn(usize, &str) -> String, host: &str) -> Vec<Vec<u8>> {
    (0..VALUES).map(|i| make(i, host).into_bytes()).collect()
}

/// Runs `replace_in_value` over every value; returns how many were rewritten.
fn run(
    values: &[Vec<u8>],
    replacer: &Replacer,
    scratch: &mut Scratch,
    out: &mut Vec<u8>,
    mode: Mode,
) -> usize {
    let mut rewritten = 0;
    for v in values {
        let report = replace_in_value(v, replacer, scratch, out, Options::new(mode)).unwrap();
        if report.outcome == Outcome::Rewritten {
            rewritten += 1;
            black_box(&out);
        }
    }
    rewritten
}

fn bench(c: &mut Criterion) {
    let replacer = Replacer::new([(OLD, NEW)]).unwrap();
    let corpora = [
        (
            "serialized/hits",
            corpus(serialized, OLD),
            Mode::Auto,
            VALUES,
        ),
        (
            "serialized/no_hits",
            corpus(serialized, "https://www.example.net"),
            Mode::Auto,
            0,
        ),
        // No needle occurs, but Repair mode parses every value anyway: the parser's speed.
        (
            "serialized/parse_only",
            corpus(serialized, "https://www.example.net"),
            Mode::Repair,
            0,
        ),
        ("plain/hits", corpus(plain, OLD), Mode::Auto, VALUES),
        (
            "plain/no_hits",
            corpus(plain, "https://www.example.net"),
            Mode::Auto,
            0,
        ),
    ];
    let mut scratch = Scratch::new();
    let mut out = Vec::new();
    let mut group = c.benchmark_group("phpser");
    for (name, values, mode, want) in &corpora {
        assert_eq!(
            run(values, &replacer, &mut scratch, &mut out, *mode),
            *want,
            "{name}"
        );
        let bytes: usize = values.iter().map(Vec::len).sum();
        group.throughput(Throughput::Bytes(bytes as u64));
        group.bench_function(*name, |b| {
            b.iter(|| run(values, &replacer, &mut scratch, &mut out, *mode))
        });
    }

    // The callback API alone, every string kept: parse and walk, no copying.
    let values = corpus(serialized, OLD);
    let mut rewriter = Rewriter::new();
    let mut keep = |values: &[Vec<u8>], out: &mut Vec<u8>| {
        values
            .iter()
            .filter(|v| {
                rewriter.rewrite(v, out, |_, _, _| Edit::Keep).unwrap() == Outcome::Rewritten
            })
            .count()
    };
    assert_eq!(keep(&values, &mut out), 0);
    group.throughput(Throughput::Bytes(
        values.iter().map(Vec::len).sum::<usize>() as u64,
    ));
    group.bench_function("rewrite/keep_all", |b| b.iter(|| keep(&values, &mut out)));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
