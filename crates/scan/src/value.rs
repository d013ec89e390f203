//! One decoded value, looked into: plain text, serialized PHP or JSON.
//!
//! A flat scan of `a:1:{s:5:"email";s:16:"anna@example.org";}` already finds the address;
//! the value is parsed for what the flat text cannot say: which key a string sits under
//! (`s:5:"phone";s:9:"030123456"` is a phone number only because of its key; 32 hex digits
//! under `password` are a hash), JSON's escapes (`anna\u0040example.org`), and strings that
//! are themselves serialized or JSON (WordPress nests both). A value that does not parse is
//! scanned as plain text, so nothing is missed because a length is wrong.
//!
//! Parsing happens only for values the sieve passes (see [`crate::detect::sieve`]): most
//! serialized values hold nothing a detector could find, and are never parsed.

use std::ops::Range;

use understudy_phpser::{looks_serialized, Item, Parser, Role};

use crate::detect::{find_all, sieve, Context, Kind, Sieve, MIN_FINDING};
use crate::json::{self, Walked};

/// Where in a value a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    /// The value is plain text (or did not parse).
    Plain,
    /// In a string inside serialized PHP.
    Serialized,
    /// In a string inside JSON.
    Json,
}

/// One finding in a value: its kind, its bytes, the whole string it was found in (a leaf
/// of a serialized or JSON value, or the value itself), and where that string is.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Finding<'a> {
    pub kind: Kind,
    pub text: &'a [u8],
    pub leaf: &'a [u8],
    pub place: Place,
}

/// How deep strings inside strings are followed (serialized in JSON in serialized …).
const MAX_NESTING: u8 = 8;

/// Scans `value` (decoded), looking into serialized PHP and JSON, and calls `found` for each
/// finding. `sieve` is what the sieve said about the value's bytes.
pub(crate) fn scan_value(
    value: &[u8],
    ctx: Context,
    sieve: Sieve,
    found: &mut dyn FnMut(Finding<'_>),
) {
    scan_leaf(value, ctx, sieve, Place::Plain, 0, found);
}

fn scan_leaf(
    text: &[u8],
    ctx: Context,
    sieve: Sieve,
    place: Place,
    depth: u8,
    found: &mut dyn FnMut(Finding<'_>),
) {
    let mut place = place;
    if depth < MAX_NESTING {
        // Parsing is for what flat text cannot tell: keys that give context, where a
        // finding is, nested values. A structured value whose flat text holds nothing and
        // names no context is not parsed: most of them.
        if looks_serialized(text) && (sieve.context || finds_any(text, ctx, sieve)) && parses(text)
        {
            walk_serialized(text, ctx, depth, found);
            return;
        }
        if looks_json(text) {
            // A JSON document is walked only where a key may give context or an `@` hides
            // as `\u0040`. Otherwise the flat text says the same, and its findings are
            // counted as in JSON.
            if sieve.context || memchr::memmem::find(text, b"\\u0040").is_some() {
                let walked = json::leaves(text, ctx, &mut |s, c| {
                    leaf(s, c, Place::Json, depth, found);
                });
                if walked == Walked::Yes {
                    return;
                }
                // What the walker leaves to `serde_json` (see `crate::json`): rare.
                if let Ok(json) = serde_json::from_slice::<serde_json::Value>(text) {
                    walk_json(&json, ctx, depth, found);
                    return;
                }
            } else {
                place = Place::Json;
            }
        }
    }
    find_all(text, ctx, sieve, &mut |kind, r: Range<usize>| {
        found(Finding {
            kind,
            text: &text[r],
            leaf: text,
            place,
        })
    });
}

/// Whether the detectors find anything in `text` read as plain text.
fn finds_any(text: &[u8], ctx: Context, sieve: Sieve) -> bool {
    let mut any = false;
    find_all(text, ctx, sieve, &mut |_, _| any = true);
    any
}

/// Whether a serialized value parses to its end: a value is walked only then, so a value
/// that fails halfway is not reported twice (once walked, once as plain text).
fn parses(text: &[u8]) -> bool {
    let mut p = Parser::new(text);
    loop {
        match p.next() {
            Ok(Some(_)) => {}
            Ok(None) => return true,
            Err(_) => return false,
        }
    }
}

/// `{…}` or `[…]`, give or take whitespace: worth handing to a JSON parser.
fn looks_json(text: &[u8]) -> bool {
    let t = text.trim_ascii();
    matches!(
        (t.first(), t.last()),
        (Some(b'{'), Some(b'}')) | (Some(b'['), Some(b']'))
    )
}

/// The strings of a serialized value that parsed, each under the context of its key.
fn walk_serialized(text: &[u8], ctx: Context, depth: u8, found: &mut dyn FnMut(Finding<'_>)) {
    let mut p = Parser::new(text);
    let mut key: &[u8] = b"";
    // The key (or property name) of each open array or object, so a value after a nested
    // array gets its own key back.
    while let Ok(Some((item, _))) = p.next() {
        let role = p.role();
        match item {
            Item::Str(s) if matches!(role, Role::Key | Role::PropertyName) => key = s,
            Item::Int(_) if role == Role::Key => key = b"",
            Item::Str(s) => leaf(
                s,
                ctx.or(Context::of_name(key)),
                Place::Serialized,
                depth,
                found,
            ),
            Item::Custom { payload, .. } => leaf(payload, ctx, Place::Serialized, depth, found),
            _ => {}
        }
    }
}

/// The strings of a JSON value, each under the context of its key.
fn walk_json(
    value: &serde_json::Value,
    ctx: Context,
    depth: u8,
    found: &mut dyn FnMut(Finding<'_>),
) {
    match value {
        serde_json::Value::String(s) => leaf(s.as_bytes(), ctx, Place::Json, depth, found),
        serde_json::Value::Array(items) => {
            for v in items {
                walk_json(v, ctx, depth, found);
            }
        }
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                walk_json(v, ctx.or(Context::of_name(k.as_bytes())), depth, found);
            }
        }
        _ => {}
    }
}

fn leaf(text: &[u8], ctx: Context, place: Place, depth: u8, found: &mut dyn FnMut(Finding<'_>)) {
    // Empty strings and two-letter codes are common leaves (`"size":""`); nothing fits in
    // them, nested values included.
    if text.len() < MIN_FINDING {
        return;
    }
    let s = sieve(text, ctx);
    if s.any() {
        scan_leaf(text, ctx, s, place, depth + 1, found);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(value: &[u8], ctx: Context) -> Vec<(Kind, String, Place)> {
        let mut out = Vec::new();
        let s = sieve(value, ctx);
        scan_value(value, ctx, s, &mut |f| {
            out.push((
                f.kind,
                String::from_utf8_lossy(f.text).into_owned(),
                f.place,
            ))
        });
        out
    }

    #[test]
    fn looks_into_serialized_php() {
        let v = br#"a:2:{s:5:"email";s:16:"anna@example.org";s:4:"meta";a:1:{s:2:"ip";s:9:"192.0.2.7";}}"#;
        assert_eq!(
            found(v, Context::default()),
            [
                (Kind::Email, "anna@example.org".into(), Place::Serialized),
                (Kind::Ipv4, "192.0.2.7".into(), Place::Serialized),
            ]
        );
    }

    #[test]
    fn keys_give_context() {
        // A phone number and an md5 hash known only by their keys.
        let v = br#"a:3:{s:5:"phone";s:11:"030 1234567";s:8:"password";s:32:"5f4dcc3b5aa765d61d8327deb882cf99";s:4:"file";s:32:"5f4dcc3b5aa765d61d8327deb882cf99";}"#;
        let f = found(v, Context::default());
        assert_eq!(
            f.iter().map(|(k, _, _)| *k).collect::<Vec<_>>(),
            [Kind::Phone, Kind::PasswordHash],
            "{f:?}"
        );
        let j = br#"{"user":{"mobile":"0171 2345678","sha":"5f4dcc3b5aa765d61d8327deb882cf99"}}"#;
        let f = found(j, Context::default());
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].0, Kind::Phone);
        assert_eq!(f[0].2, Place::Json);
    }

    #[test]
    fn json_escapes_are_decoded() {
        let v = br#"{"contact":"anna\u0040example.org","ip":"2001:db8::1"}"#;
        let f = found(v, Context::default());
        assert_eq!(
            f,
            [
                (Kind::Email, "anna@example.org".into(), Place::Json),
                (Kind::Ipv6, "2001:db8::1".into(), Place::Json),
            ]
        );
    }

    #[test]
    fn nested_serialized_in_json_in_serialized() {
        let inner = r#"a:1:{s:1:"e";s:16:"anna@example.org";}"#;
        let json = serde_json::to_string(&serde_json::json!({ "data": inner })).unwrap();
        let outer = format!("a:1:{{i:0;s:{}:\"{}\";}}", json.len(), json);
        // Found once; JSON without keys that give context is read as flat text, so the
        // finding counts as in JSON.
        let f = found(outer.as_bytes(), Context::default());
        assert_eq!(f, [(Kind::Email, "anna@example.org".into(), Place::Json)]);
        // With a context key inside, the JSON is parsed and the serialized value in it too.
        let json =
            serde_json::to_string(&serde_json::json!({ "data": inner, "phone": "030 1234567" }))
                .unwrap();
        let outer = format!("a:1:{{i:0;s:{}:\"{}\";}}", json.len(), json);
        let f = found(outer.as_bytes(), Context::default());
        assert!(
            f.contains(&(Kind::Email, "anna@example.org".into(), Place::Serialized)),
            "{f:?}"
        );
        assert!(
            f.contains(&(Kind::Phone, "030 1234567".into(), Place::Json)),
            "{f:?}"
        );
    }

    #[test]
    fn a_broken_serialized_value_is_plain_text_counted_once() {
        // The declared length is wrong (an earlier sed run): plain text, each address once.
        let v = br#"a:1:{s:5:"email";s:99:"anna@example.org";}"#;
        assert_eq!(
            found(v, Context::default()),
            [(Kind::Email, "anna@example.org".into(), Place::Plain)]
        );
    }
}
