//! Throughput of the rewrite engine on a generated 32 MiB WordPress dump in memory, output
//! to a `Vec`: no rules, three `--replace` pairs, and the WordPress rule pack, each with one
//! thread and with one per core.
//!
//! Before timing, each configuration checks that the parallel output is byte for byte the
//! single-threaded one, and that the rules moved the URL where they should.
//!
//! A second group, `encoding-checks`, runs the two configurations with replacements on one
//! thread with and without the looks into PHP sessions, base64 and JSON documents (issue #6),
//! which must not change this dump's output: what those checks cost on a whole dump where few
//! values carry such encodings.
//!
//! ```text
//! cargo bench -p understudy-benches --bench engine -- --warm-up-time 1 --measurement-time 5
//! ```

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use understudy_engine::{Engine, EngineBuilder};
use understudy_generate::{DumpGenerator, SITE_URL};
use understudy_rules::Rules;

const SIZE: u64 = 32 << 20;

const PAIRS: [(&str, &str); 3] = [
    ("https://www.example.com", "https://int.example.org"),
    ("http://www.example.com", "http://int.example.org"),
    ("www.example.com", "int.example.org"),
];

fn engine(config: &str, threads: usize) -> Engine {
    engine_with(config, threads, true)
}

fn engine_with(config: &str, threads: usize, encoding_checks: bool) -> Engine {
    let mut b = EngineBuilder::new();
    b.threads(threads);
    if !encoding_checks {
        b.without_encoding_checks();
    }
    match config {
        "no_rules" => {}
        "replace_3" => {
            for (from, to) in PAIRS {
                b.replace(from.as_bytes(), to.as_bytes());
            }
        }
        "wordpress_pack" => {
            let pack = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules/wordpress.toml");
            let rules = Rules::new()
                .var("src_url", SITE_URL)
                .var("dst_url", "https://int.example.org")
                .var("secret", "benchmark-secret")
                .compile_path(pack)
                .expect("the WordPress pack compiles");
            b.rules(Arc::new(rules));
            // The generated site has six of WordPress's tables, not wp_commentmeta or
            // wp_links, which some of the pack's masks are for.
            b.allow_missing_tables(true);
        }
        other => unreachable!("no configuration {other}"),
    }
    b.build().expect("the engine builds")
}

fn rewrite(engine: &Engine, dump: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(dump.len() + dump.len() / 8);
    engine
        .run(dump, &mut out)
        .expect("the generated dump rewrites");
    out
}

fn bench(c: &mut Criterion) {
    let (dump, _) = DumpGenerator::new(SIZE).seed(1).generate();
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Bytes(dump.len() as u64));
    group.sample_size(10);
    for config in ["no_rules", "replace_3", "wordpress_pack"] {
        let one = rewrite(&engine(config, 1), &dump);
        let many = rewrite(&engine(config, cores), &dump);
        assert!(
            one == many,
            "{config}: --threads {cores} differs from --threads 1"
        );
        // No rules: every URL stays; the pairs move all of them; the pack all but the
        // GUIDs of wp_posts.
        let urls = |b: &[u8]| memchr::memmem::find_iter(b, SITE_URL.as_bytes()).count();
        let (before, after) = (urls(&dump), urls(&one));
        match config {
            "no_rules" => assert_eq!(after, before),
            "replace_3" => assert_eq!(after, 0),
            _ => assert!(
                after > 0 && after < before / 2,
                "{after} of {before} URLs left"
            ),
        }
        for threads in [1, cores] {
            let e = engine(config, threads);
            group.bench_function(format!("{config}/threads_{threads}"), |b| {
                b.iter(|| black_box(rewrite(&e, &dump)))
            });
        }
    }
    group.finish();

    let mut group = c.benchmark_group("encoding-checks");
    group.throughput(Throughput::Bytes(dump.len() as u64));
    group.sample_size(10);
    for config in ["replace_3", "wordpress_pack"] {
        let with = engine_with(config, 1, true);
        let without = engine_with(config, 1, false);
        assert!(
            rewrite(&with, &dump) == rewrite(&without, &dump),
            "{config}: the checks change the output of this dump"
        );
        for (name, e) in [("with_checks", with), ("without_checks", without)] {
            group.bench_function(format!("{config}/{name}"), |b| {
                b.iter(|| black_box(rewrite(&e, &dump)))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
