//! What the encoding checks of issue #6 (PHP sessions, base64, JSON documents) cost on a
//! whole generated WordPress dump, where few values carry such encodings: the engine with and
//! without them (`EngineBuilder::without_encoding_checks`), on one thread, the 32 MiB dump
//! in memory, output to a `Vec`.
//!
//! Not a criterion benchmark: on a shared machine criterion's intervals are wider than the
//! difference. This runs the two engines alternately and keeps the best time of each, which
//! load from elsewhere can only make slower. Both must write the same bytes first.
//!
//! ```text
//! cargo run --release -p understudy-benches --example checks_cost -- replace_3 [RUNS]
//! cargo run --release -p understudy-benches --example checks_cost -- wordpress_pack [RUNS]
//! valgrind --tool=callgrind target/release/examples/checks_cost replace_3 0 with
//! ```

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use understudy_engine::{Engine, EngineBuilder};
use understudy_generate::{DumpGenerator, SITE_URL};
use understudy_rules::Rules;

const PAIRS: [(&str, &str); 3] = [
    ("https://www.example.com", "https://int.example.org"),
    ("http://www.example.com", "http://int.example.org"),
    ("www.example.com", "int.example.org"),
];

fn engine(config: &str, checks: bool) -> Engine {
    let mut b = EngineBuilder::new();
    if !checks {
        b.without_encoding_checks();
    }
    match config {
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
        other => panic!("no configuration {other}: replace_3 or wordpress_pack"),
    }
    b.build().expect("the engine builds")
}

fn main() {
    let mut args = std::env::args().skip(1);
    let config = args.next().unwrap_or_else(|| "replace_3".into());
    let runs: usize = args
        .next()
        .map_or(40, |n| n.parse().expect("RUNS is a number"));
    let (dump, _) = DumpGenerator::new(32 << 20).seed(1).generate();
    // `with` or `without` alone: one run of that engine, for a profiler
    // (`valgrind --tool=callgrind`) to compare the two.
    if let Some(only) = args.next() {
        let engine = engine(&config, only == "with");
        engine
            .run(&dump[..], std::io::sink())
            .expect("the dump rewrites");
        return;
    }
    let engines = [engine(&config, true), engine(&config, false)];
    let mut outputs = [Vec::new(), Vec::new()];
    for (engine, out) in engines.iter().zip(&mut outputs) {
        engine.run(&dump[..], out).expect("the dump rewrites");
    }
    assert!(
        outputs[0] == outputs[1],
        "the checks change this dump's output"
    );
    let mut best = [f64::MAX; 2];
    for _ in 0..runs {
        for (engine, (out, best)) in engines.iter().zip(outputs.iter_mut().zip(&mut best)) {
            out.clear();
            let start = Instant::now();
            engine.run(&dump[..], out).expect("the dump rewrites");
            *best = best.min(start.elapsed().as_secs_f64());
        }
    }
    println!(
        "{config}, best of {runs}: with the checks {:.1} ms, without {:.1} ms: {:+.1} %",
        best[0] * 1e3,
        best[1] * 1e3,
        (best[0] / best[1] - 1.0) * 100.0
    );
}
