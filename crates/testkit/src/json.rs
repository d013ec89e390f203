//! JSON documents for property tests of the paths that decide about a document at once
//! (nest marks, base64, escapes) against the ones that look string by string.

use proptest::prelude::*;

/// A JSON array of `strings` (decoded text), each alone or as `{"settings":{"url":…}}` (a
/// page builder's shape), with `/` escaped (`json_encode`'s default) or not, and sometimes
/// made something else: a backslash in the middle, a byte after the `[`, one slash escaped
/// and the next not, whitespace before it, a `|` after it.
pub fn json_document(strings: impl Strategy<Value = String>) -> impl Strategy<Value = Vec<u8>> {
    (
        prop::collection::vec((strings, any::<bool>()), 1..8),
        any::<bool>(),
        0..9usize,
    )
        .prop_map(|(strings, escape_slashes, damage)| {
            let doc = serde_json::Value::Array(
                strings
                    .into_iter()
                    .map(|(s, in_object)| {
                        if in_object {
                            serde_json::json!({ "settings": { "url": s } })
                        } else {
                            serde_json::Value::String(s)
                        }
                    })
                    .collect(),
            );
            let mut text = doc.to_string();
            if escape_slashes {
                text = text.replace('/', "\\/");
            }
            let mut text = text.into_bytes();
            match damage {
                0 => {
                    let middle = text.len() / 2;
                    text[middle] = b'\\';
                }
                1 => text.insert(1, b'x'),
                2 => {
                    if let Some(k) = text.windows(4).position(|w| w == br"\/\/") {
                        text.remove(k + 2);
                    }
                }
                3 => text.insert(0, b' '),
                4 => text.push(b'|'),
                _ => {}
            }
            text
        })
}
