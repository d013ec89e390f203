//! Arbitrary bytes through `understudy-phpser` in every mode: no panics, and whatever parsed
//! before a rewrite parses after it.
//!
//! Run with `cargo fuzz run phpser_rewrite` (nightly) from `fuzz/`.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use understudy_phpser::{
    replace_in_value, rewrite, Edit, ErrorKind, Mode, Options, Outcome, Parser, Replacer, Role,
    Scratch,
};

/// Needles that occur in serialized data and replacements that change lengths, including
/// ones that look like serialized syntax.
fn replacer() -> &'static Replacer {
    static R: OnceLock<Replacer> = OnceLock::new();
    R.get_or_init(|| {
        Replacer::new([
            (&b"example"[..], &b"ex"[..]),
            (b"a", b"\";s:1:\"x"),
            (b"\0", b""),
            (b"x", b"https://staging.example.net/longer"),
            (b"}", b"{}"),
        ])
        .expect("a valid replacer")
    })
}

fn parses(v: &[u8]) -> bool {
    let mut p = Parser::new(v);
    loop {
        match p.next() {
            Ok(Some(_)) => {}
            Ok(None) => return true,
            Err(_) => return false,
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let input_parses = parses(data);
    let mut scratch = Scratch::new();
    let mut out = Vec::new();
    for mode in [Mode::Auto, Mode::Off, Mode::Repair] {
        for strict in [false, true] {
            let options = Options::new(mode).strict(strict);
            let Ok(report) = replace_in_value(data, replacer(), &mut scratch, &mut out, options)
            else {
                assert!(strict, "only strict mode returns errors");
                continue;
            };
            let result: &[u8] = match report.outcome {
                Outcome::Unchanged => {
                    assert!(out.is_empty());
                    data
                }
                Outcome::Rewritten => &out,
            };
            // Nested serialized strings count towards the depth limit, so a value the
            // parser alone accepts can still be too deep for a rewrite.
            let too_deep = report
                .warning
                .is_some_and(|w| matches!(w.kind(), ErrorKind::DepthLimit { .. }));
            if mode != Mode::Off && (input_parses || report.repaired) && !too_deep {
                assert!(
                    report.warning.is_none(),
                    "a value that parses got a warning"
                );
                if report.outcome == Outcome::Rewritten {
                    assert!(
                        report.serialized,
                        "a value that parses was replaced as text"
                    );
                }
                assert!(parses(result), "a value that parsed no longer does");
            }
        }
    }
    // Every string doubled, class names included: structure must survive.
    let doubled = rewrite(data, &mut out, |role, s, scratch| {
        if role == Role::ClassName && s.contains(&b':') {
            return Edit::Keep; // an enum's `Class:Case` must keep its colon
        }
        scratch.extend_from_slice(s);
        scratch.extend_from_slice(s);
        Edit::Replaced
    });
    match doubled {
        Ok(outcome) => {
            assert!(input_parses);
            if outcome == Outcome::Rewritten {
                assert!(parses(&out), "a value that parsed no longer does");
            }
        }
        Err(e) => assert!(!input_parses || matches!(e.kind(), ErrorKind::DepthLimit { .. })),
    }
});
