//! Arbitrary dumps through the whole rewrite with a rule pack: no panics, and no value that
//! the pack masks survives.
//!
//! The first byte picks the run (`understudy_testkit::leaks::Selector`): bits 0-1 the pack
//! (`rules/wordpress.toml`, `elgg.toml`, `elgg-2.3.toml`, `drupal.toml`, built in and
//! compiled once with fixed URL and path variables and a fixed secret, as `tests/packs.rs`
//! gives them), bit 2 one or two threads, bits 3-5 the batch size (16 bytes to 2 KiB, so
//! batches cut statements and rows), bit 6 whether the engine writes straight to the
//! output, bit 7 strict mode. The rest is the dump; `fuzz/seed.sh` makes the seed corpus of
//! the fixture dumps with these bytes in front.
//!
//! Checked for every input:
//! - `Engine::run`, in this process, returns and does not panic, whatever the bytes;
//! - no candidate of `MaskedValues::of` is a substring of what it wrote, whether it
//!   returned `Ok` or stopped with an error (a failed run must not have leaked either).
//!   The candidates are the string values of columns the pack masks unconditionally and as
//!   a whole that are found nowhere else in the input nor in what the pack itself writes;
//!   `crates/testkit/src/leaks.rs` defines them exactly and says where that is not sound.
//!
//! Run with `cargo fuzz run rewrite_pack` (nightly) from `fuzz/`. `cargo test` replays the
//! seed corpus and every input under `fuzz/regressions/rewrite_pack/` through the same
//! check (`crates/engine/tests/packs_leak.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use understudy_engine::EngineBuilder;
use understudy_testkit::leaks::{MaskedValues, Selector};

fuzz_target!(|data: &[u8]| {
    let Some((run, dump)) = Selector::split(data) else {
        return;
    };
    let rules = run.pack.rules();
    let masked = MaskedValues::of(&rules, dump);
    let mut builder = EngineBuilder::new();
    builder
        .rules(rules.clone())
        .threads(run.threads)
        .batch_size(run.batch)
        .output_is_buffered(run.buffered)
        .strict(run.strict);
    let Ok(engine) = builder.build() else {
        return;
    };
    let mut out = Vec::new();
    let result = engine.run(dump, &mut out);
    if let Some(leak) = masked.find_leak(&out) {
        let how = if result.is_ok() { "Ok" } else { "Err" };
        panic!("{leak} (the run returned {how})");
    }
});
