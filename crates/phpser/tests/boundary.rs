//! Boundaries: a needle whose source is a host or a path is never replaced where the text
//! goes on with a byte that continues its host or path, in any wrapper `replace_in_value`
//! looks into, and always where it does not.

use proptest::prelude::*;
use understudy_phpser::{replace_in_value, Boundary, Mode, Options, Outcome, Replacer, Scratch};

/// Sources: URLs, bare hosts, paths.
fn source() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{1,8}(\\.[a-z0-9-]{1,8}){1,2}".prop_map(|h| format!("https://{h}")),
        "[a-z]{1,8}(\\.[a-z0-9-]{1,8}){1,2}",
        "(/[a-z0-9_-]{1,8}){1,3}",
    ]
}

/// What follows the needle: continuing its host or path, or not.
fn continuation() -> impl Strategy<Value = (String, bool)> {
    prop_oneof![
        "[a-zA-Z0-9_-][a-z]{0,3}".prop_map(|s| (s, true)),
        "\\.[a-z0-9][a-z]{0,3}".prop_map(|s| (s, true)),
        prop::sample::select(vec![
            "/x", "", "\"", ":8080", "?q=1", " and", ". ", "'", "#top"
        ])
        .prop_map(|s| (s.to_owned(), false)),
    ]
}

/// The text as a wrapper holds it: plain, a serialized string, in a serialized array,
/// and JSON.
fn wrap(text: &str, how: u8) -> Vec<u8> {
    match how {
        0 => text.as_bytes().to_vec(),
        1 => format!("s:{}:\"{text}\";", text.len()).into_bytes(),
        2 => format!("a:1:{{s:1:\"k\";s:{}:\"{text}\";}}", text.len()).into_bytes(),
        _ => serde_json::to_vec(&serde_json::json!({ "k": text })).unwrap(),
    }
}

proptest! {
    #[test]
    fn a_source_followed_by_a_host_or_path_byte_never_matches(
        src in source(),
        (after, continues) in continuation(),
        how in 0u8..4,
    ) {
        let text = format!("see {src}{after}");
        let boundary = Boundary::of_source(src.as_bytes());
        prop_assert!(!boundary.is_none());
        let replacer = Replacer::bounded([(&src[..], "REPLACED", boundary)]).unwrap();
        let value = wrap(&text, how);
        let mut scratch = Scratch::new();
        let mut out = Vec::new();
        let report =
            replace_in_value(&value, &replacer, &mut scratch, &mut out, Options::new(Mode::Auto))
                .unwrap();
        // A bare host after `see ` may also match where `after` starts another copy of it;
        // the one after `see ` is the one asked about.
        let moved = report.outcome == Outcome::Rewritten
            && String::from_utf8_lossy(&out).contains("see REPLACED");
        prop_assert_eq!(moved, !continues, "{:?} in {:?}", src, String::from_utf8_lossy(&value));
    }
}

proptest! {
    /// A subdomain pair (`.base` → `.int.example`, as `subdomains = true` compiles it) moves
    /// `LABEL.base` exactly where a label precedes it and its last label ends, in every
    /// wrapper, with serialized lengths written for the new text; the base alone and its
    /// neighbours stay.
    #[test]
    fn a_subdomain_moves_after_a_label_and_where_the_base_ends(
        base in "[a-z]{1,6}\\.[a-z]{2,4}",
        label in "[a-z0-9][a-z0-9-]{0,4}(\\.[a-z0-9]{1,4})?",
        left in prop::sample::select(vec!["", " ", "//", "@", "%2F", "\"", "x"]),
        (after, continues) in continuation(),
        how in 0u8..4,
    ) {
        let (needle, to) = (format!(".{base}"), ".int.example".to_owned());
        let boundary = Boundary::subdomain(needle.as_bytes(), to.as_bytes());
        let replacer = Replacer::bounded([(&needle[..], &to[..], boundary)]).unwrap();
        let run = |text: &str| {
            let value = wrap(text, how);
            let mut out = Vec::new();
            let report = replace_in_value(
                &value, &replacer, &mut Scratch::new(), &mut out, Options::new(Mode::Auto),
            )
            .unwrap();
            if report.outcome == Outcome::Rewritten { out } else { value }
        };
        let text = format!("see {left}{label}{needle}{after}");
        let want = if continues {
            text.clone()
        } else {
            format!("see {left}{label}{to}{after}")
        };
        let (got, want) = (run(&text), wrap(&want, how));
        prop_assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(&want));
        // The base alone, and glued to a word, is no subdomain.
        for stay in [format!("see {base}{after}"), format!("see x{base}{after}")] {
            prop_assert_eq!(run(&stay), wrap(&stay, how));
        }
    }
}
