//! The `rewrite_pack` fuzz target's check in the ordinary test suite (no nightly needed):
//! every fixture dump rewritten with its rule pack keeps no masked value, and every input of
//! the target's seed corpus and of its regressions (`fuzz/regressions/rewrite_pack/`, one
//! file per failure the fuzzer found) runs without a panic and without a leak.
//!
//! The check itself is `understudy_testkit::leaks`; its module docs say what counts as a
//! masked value surviving.

use std::path::{Path, PathBuf};

use understudy_engine::EngineBuilder;
use understudy_testkit::leaks::{fixture_dumps, MaskedValues, Pack, Selector};

/// Runs `dump` with `pack` as the fuzz target does; returns whether the run succeeded,
/// panicking (with the leak) if a masked value survived.
fn rewrite_checked(
    pack: Pack,
    threads: usize,
    batch: usize,
    dump: &[u8],
    what: &str,
) -> (bool, Vec<u8>) {
    let rules = pack.rules();
    let engine = EngineBuilder::new()
        .rules(rules.clone())
        .threads(threads)
        .batch_size(batch)
        .build()
        .expect("the packs build an engine");
    let mut out = Vec::new();
    let ok = engine.run(dump, &mut out).is_ok();
    if let Some(leak) = MaskedValues::of(&rules, dump).find_leak(&out) {
        panic!("{what}: {leak}");
    }
    (ok, out)
}

#[test]
fn fixtures_keep_no_masked_value() {
    for (path, pack) in fixture_dumps() {
        let dump = std::fs::read(&path).unwrap();
        let what = format!("{} with {}", path.display(), pack.file_name());
        let checked = MaskedValues::of(&pack.rules(), &dump).len();
        // Each application's own site has people in it: the check must not be vacuous.
        let site = is_site(&path);
        eprintln!("{what}: {checked} masked values checked");
        assert!(
            !site || checked >= 10,
            "{what}: only {checked} values checked"
        );
        // A site rewrites; a dump that is not one (tables the pack does not know, or lacking
        // the ones it masks) stops, as the packs fail closed; neither leaks.
        let (ok, one) = rewrite_checked(pack, 1, 1 << 20, &dump, &what);
        assert_eq!(ok, site, "{what}: rewritten: {ok}");
        // Two threads and batches that cut statements: the same answer, the same bytes.
        let (two_ok, two) = rewrite_checked(pack, 2, 64, &dump, &what);
        assert_eq!(two_ok, ok, "{what}: two threads answer otherwise");
        assert!(!ok || one == two, "{what}: two threads write other bytes");
    }
}

/// The files of `dir` in name order (none if it does not exist).
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != "README.md"))
        .collect();
    files.sort();
    files
}

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// Replays one input of the fuzz target exactly as the target runs it.
fn replay(path: &Path) -> bool {
    let data = std::fs::read(path).unwrap();
    let Some((run, dump)) = Selector::split(&data) else {
        return true;
    };
    let rules = run.pack.rules();
    let engine = EngineBuilder::new()
        .rules(rules.clone())
        .threads(run.threads)
        .batch_size(run.batch)
        .output_is_buffered(run.buffered)
        .strict(run.strict)
        .build()
        .expect("the packs build an engine");
    let mut out = Vec::new();
    let ok = engine.run(dump, &mut out).is_ok();
    if let Some(leak) = MaskedValues::of(&rules, dump).find_leak(&out) {
        panic!("{}: {leak}", path.display());
    }
    ok
}

#[test]
fn fuzz_seed_corpus_replays() {
    let seeds = inputs(&fuzz_dir().join("corpus/rewrite_pack"));
    assert!(seeds.len() >= 18, "run fuzz/seed.sh: {} seeds", seeds.len());
    for seed in &seeds {
        assert_eq!(replay(seed), is_site(seed), "{}", seed.display());
    }
}

/// Whether a fixture (or a seed made of one) is an application's whole site: the others
/// (`types.*`, the two-database dump with `types` beside WordPress, the Elgg queue and
/// session tables alone) hold tables a pack does not know or lack the ones it masks, so a
/// pack stops on them.
fn is_site(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
        !n.starts_with("types.") && !n.starts_with("elgg3-wrappers") && !n.starts_with("multi.")
    })
}

/// Every regression the fuzzer found replays through the target's check: no leak, and no
/// panic. The malformed ones (rows with fewer values than their table's columns, in one
/// thread or in a parallel worker past a lex error) must end in an error.
#[test]
fn fuzz_regressions_replay() {
    let inputs = inputs(&fuzz_dir().join("regressions/rewrite_pack"));
    assert!(
        !inputs.is_empty(),
        "fuzz/regressions/rewrite_pack/ is missing"
    );
    let mut failed = Vec::new();
    for input in &inputs {
        let malformed = input
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("fewer-values") || n.starts_with("short-row"));
        match std::panic::catch_unwind(|| replay(input)) {
            Ok(true) if malformed => {
                failed.push(format!("{}: rewritten without an error", input.display()))
            }
            Ok(_) => {}
            Err(_) => failed.push(format!("{}: panicked", input.display())),
        }
    }
    assert!(failed.is_empty(), "{failed:#?}");
}

/// The check is not blind: a copy of each site's dump without the pack applied leaks.
#[test]
fn an_unmasked_copy_is_caught() {
    for (path, pack) in fixture_dumps() {
        let dump = std::fs::read(&path).unwrap();
        let masked = MaskedValues::of(&pack.rules(), &dump);
        if masked.is_empty() {
            continue;
        }
        let leak = masked.find_leak(&dump);
        assert!(leak.is_some(), "{}: the dump itself passes", path.display());
    }
}
