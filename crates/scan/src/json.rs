//! The strings of a JSON document and the keys they sit under, without building a tree.
//!
//! A scan looked into JSON by parsing it into a `serde_json::Value` and walking that: an
//! allocation per key, per string and per object, then freeing them all. On the generated
//! WordPress dump, 149 Elementor documents (the `pass` of `spass`, a German word, names a
//! context) cost more than a quarter of the scan's instructions that way. Here one pass
//! checks the document and collects its string values, as ranges into the document (or
//! into one buffer, for strings with escapes), each with the context its keys give; the
//! caller visits them only once the whole document has turned out well-formed.
//!
//! The answer has to be the one the tree gave: the same strings, decoded the same way,
//! under the same keys, and nothing for a document `serde_json` refuses. Where matching
//! `serde_json` exactly would take more than a few lines (exponents and long numbers, whose
//! range it checks; surrogate escapes; escaped keys and duplicate keys, where the last value
//! wins; nesting near its recursion limit), this walker says [`Walked::Unsure`] and the
//! caller asks `serde_json`. Tests compare both on documents that hit every branch.

use std::ops::Range;

use crate::detect::Context;

/// What [`leaves`] made of a document.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Walked {
    /// Well-formed; every string value was visited.
    Yes,
    /// Malformed, or outside what this walker decides alone: nothing was visited.
    Unsure,
}

/// Deeper than this, ask `serde_json` (whose limit is 128).
const MAX_DEPTH: u32 = 100;
/// Objects with more keys than this go to `serde_json`: duplicates are looked for by
/// comparing each key with the ones before it.
const MAX_KEYS: usize = 64;

/// Where a string value's decoded bytes are.
#[derive(Clone, Copy, Debug)]
enum Src {
    /// In the document as they are (no escapes).
    Text,
    /// In the buffer of decoded strings.
    Decoded,
}

struct Walker<'t> {
    text: &'t [u8],
    /// The string values found so far: where, and the context of their keys.
    leaves: Vec<(Src, Range<usize>, Context)>,
    /// Strings with escapes, decoded.
    decoded: Vec<u8>,
    /// The keys of the open objects (ranges into `text`), for the duplicate check.
    keys: Vec<Range<usize>>,
}

/// Calls `visit` with each string value of the JSON document `text` (not the keys),
/// decoded, and the context of `ctx` and the keys above it, as walking the
/// `serde_json::Value` of `text` would; or says [`Walked::Unsure`] and visits nothing.
pub(crate) fn leaves(text: &[u8], ctx: Context, visit: &mut dyn FnMut(&[u8], Context)) -> Walked {
    // One set of buffers per document (with its first string, key or escape): the tree it
    // replaces allocated per key and per string.
    let mut w = Walker {
        text,
        leaves: Vec::new(),
        decoded: Vec::new(),
        keys: Vec::new(),
    };
    let Some(end) = w.value(ws(text, 0), 0, ctx) else {
        return Walked::Unsure;
    };
    if ws(text, end) != text.len() {
        return Walked::Unsure;
    }
    for (src, r, c) in &w.leaves {
        let bytes = match src {
            Src::Text => &text[r.clone()],
            Src::Decoded => &w.decoded[r.clone()],
        };
        visit(bytes, *c);
    }
    Walked::Yes
}

/// The first byte from `i` on that is not JSON whitespace.
fn ws(text: &[u8], mut i: usize) -> usize {
    while i < text.len() && matches!(text[i], b' ' | b'\n' | b'\r' | b'\t') {
        i += 1;
    }
    i
}

/// The first byte from `j` on that ends a JSON string's plain run: the closing quote, an
/// escape, or a control character JSON forbids unescaped (which `serde_json` refuses);
/// `text.len()` if none does.
///
/// Eight bytes at a time (SWAR): `(x - 0x01…) & !x & 0x80…` flags the bytes of `x` that are
/// zero, exactly for the lowest one (a borrow may flag bytes above it, never below), so the
/// lowest flag of three such tests is the first stop byte. Runs between escapes are short
/// in Elementor's documents (`https:\/\/…\/`), too short for `memchr2`'s setup.
fn string_stop(text: &[u8], mut j: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    while let Some(word) = text.get(j..j + 8) {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        let x = u64::from_le_bytes(bytes);
        let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
        // Below 0x20: subtracting 0x20 borrows into the high bit (not for bytes from 0x80,
        // which `!x` drops).
        let control = x.wrapping_sub(0x20 * ONES) & !x & HIGH;
        let stops =
            control | zero(x ^ (u64::from(b'"') * ONES)) | zero(x ^ (u64::from(b'\\') * ONES));
        if stops != 0 {
            return j + (stops.trailing_zeros() / 8) as usize;
        }
        j += 8;
    }
    while j < text.len() && !matches!(text[j], 0..=0x1f | b'"' | b'\\') {
        j += 1;
    }
    j
}

impl Walker<'_> {
    /// The value at `i`; returns the index after it. `ctx`: its keys' context.
    fn value(&mut self, i: usize, depth: u32, ctx: Context) -> Option<usize> {
        match *self.text.get(i)? {
            b'{' => self.object(i, depth + 1, ctx),
            b'[' => self.array(i, depth + 1, ctx),
            b'"' => {
                let (end, src, r) = self.string(i)?;
                self.leaves.push((src, r, ctx));
                Some(end)
            }
            b't' => self.literal(i, b"true"),
            b'f' => self.literal(i, b"false"),
            b'n' => self.literal(i, b"null"),
            b'-' | b'0'..=b'9' => self.number(i),
            _ => None,
        }
    }

    fn literal(&self, i: usize, word: &[u8]) -> Option<usize> {
        self.text[i..].starts_with(word).then_some(i + word.len())
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)?`, at most 18 digits: a number `serde_json`
    /// takes. With an exponent or more digits, it checks the range: unsure.
    fn number(&self, i: usize) -> Option<usize> {
        let t = self.text;
        let digits = |from: usize| t[from..].iter().take_while(|b| b.is_ascii_digit()).count();
        let mut j = i + usize::from(t[i] == b'-');
        let int = digits(j);
        if int == 0 || (t[j] == b'0' && int > 1) {
            return None;
        }
        j += int;
        let mut frac = 0;
        if t.get(j) == Some(&b'.') {
            frac = digits(j + 1);
            if frac == 0 {
                return None;
            }
            j += 1 + frac;
        }
        if matches!(t.get(j), Some(b'e' | b'E')) || int + frac > 18 {
            return None;
        }
        Some(j)
    }

    /// The string whose opening quote is at `i`: the index after its closing quote, and
    /// where its decoded bytes are.
    fn string(&mut self, i: usize) -> Option<(usize, Src, Range<usize>)> {
        let t = self.text;
        let start = i + 1;
        let mut j = string_stop(t, start);
        if t.get(j) == Some(&b'"') {
            // `serde_json` takes only UTF-8 (a `String`). Most keys and values are ASCII,
            // which `is_ascii` says with less setup than `from_utf8`.
            if !t[start..j].is_ascii() {
                std::str::from_utf8(&t[start..j]).ok()?;
            }
            return Some((j + 1, Src::Text, start..j));
        }
        // Escapes: decode the whole string into the buffer, a run and an escape at a time.
        let from = self.decoded.len();
        let mut run = start;
        loop {
            self.decoded.extend_from_slice(&t[run..j]);
            let b = match *t.get(j)? {
                b'"' => break,
                b'\\' => *t.get(j + 1)?,
                _ => return None, // a control character
            };
            let decoded = match b {
                b'"' | b'\\' | b'/' => b,
                b'b' => 0x08,
                b'f' => 0x0c,
                b'n' => b'\n',
                b'r' => b'\r',
                b't' => b'\t',
                b'u' => {
                    let hex = t.get(j + 2..j + 6)?;
                    if !hex.iter().all(u8::is_ascii_hexdigit) {
                        return None;
                    }
                    let n = hex
                        .iter()
                        .fold(0u32, |n, &h| n << 4 | (h as char).to_digit(16).unwrap_or(0));
                    // A surrogate (paired or not): unsure.
                    let c = char::from_u32(n)?;
                    let mut buf = [0u8; 4];
                    self.decoded
                        .extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    run = j + 6;
                    j = string_stop(t, run);
                    continue;
                }
                _ => return None,
            };
            self.decoded.push(decoded);
            run = j + 2;
            j = string_stop(t, run);
        }
        // An escape never completes or cuts a UTF-8 sequence, so checking the whole is
        // checking each run between escapes, as `serde_json` does.
        if !self.decoded[from..].is_ascii() {
            std::str::from_utf8(&self.decoded[from..]).ok()?;
        }
        Some((j + 1, Src::Decoded, from..self.decoded.len()))
    }

    fn object(&mut self, i: usize, depth: u32, ctx: Context) -> Option<usize> {
        if depth > MAX_DEPTH {
            return None;
        }
        let t = self.text;
        let mut j = ws(t, i + 1);
        if t.get(j) == Some(&b'}') {
            return Some(j + 1);
        }
        let first_key = self.keys.len();
        loop {
            if t.get(j) != Some(&b'"') {
                return None;
            }
            let (end, src, key) = self.string(j)?;
            // An escaped key would have to be compared decoded; a duplicate key's last
            // value replaces the ones before it in the tree.
            let dup = self.keys[first_key..]
                .iter()
                .any(|k| t[k.clone()] == t[key.clone()]);
            if matches!(src, Src::Decoded) || dup || self.keys.len() - first_key >= MAX_KEYS {
                return None;
            }
            self.keys.push(key.clone());
            j = ws(t, end);
            if t.get(j) != Some(&b':') {
                return None;
            }
            let inner = ctx.or(Context::of_name(&t[key]));
            j = ws(t, self.value(ws(t, j + 1), depth, inner)?);
            match t.get(j) {
                Some(b',') => j = ws(t, j + 1),
                Some(b'}') => {
                    self.keys.truncate(first_key);
                    return Some(j + 1);
                }
                _ => return None,
            }
        }
    }

    fn array(&mut self, i: usize, depth: u32, ctx: Context) -> Option<usize> {
        if depth > MAX_DEPTH {
            return None;
        }
        let t = self.text;
        let mut j = ws(t, i + 1);
        if t.get(j) == Some(&b']') {
            return Some(j + 1);
        }
        loop {
            j = ws(t, self.value(j, depth, ctx)?);
            match t.get(j) {
                Some(b',') => j = ws(t, j + 1),
                Some(b']') => return Some(j + 1),
                _ => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The reference: `serde_json`'s tree, walked as the scan walked it before.
    fn tree(text: &[u8], ctx: Context) -> Option<Vec<(Vec<u8>, Context)>> {
        fn walk(v: &serde_json::Value, ctx: Context, out: &mut Vec<(Vec<u8>, Context)>) {
            match v {
                serde_json::Value::String(s) => out.push((s.as_bytes().to_vec(), ctx)),
                serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, ctx, out)),
                serde_json::Value::Object(map) => {
                    for (k, v) in map {
                        walk(v, ctx.or(Context::of_name(k.as_bytes())), out);
                    }
                }
                _ => {}
            }
        }
        let v = serde_json::from_slice::<serde_json::Value>(text).ok()?;
        let mut out = Vec::new();
        walk(&v, ctx, &mut out);
        Some(out)
    }

    /// This walker's answer, or `None` when it is unsure.
    fn walked(text: &[u8], ctx: Context) -> Option<Vec<(Vec<u8>, Context)>> {
        let mut out = Vec::new();
        match leaves(text, ctx, &mut |s, c| out.push((s.to_vec(), c))) {
            Walked::Yes => Some(out),
            Walked::Unsure => {
                assert!(out.is_empty(), "visited before deciding");
                None
            }
        }
    }

    /// Sure answers are the tree's (as a multiset: the tree's map may order keys).
    fn same_as_tree(text: &[u8]) {
        let ctx = Context::default();
        if let Some(mut w) = walked(text, ctx) {
            let mut t = tree(text, ctx).unwrap_or_else(|| {
                panic!(
                    "walked what serde_json refuses: {:?}",
                    String::from_utf8_lossy(text)
                )
            });
            let key = |x: &(Vec<u8>, Context)| (x.0.clone(), x.1.password, x.1.phone);
            w.sort_by_key(key);
            t.sort_by_key(key);
            assert_eq!(w, t, "{:?}", String::from_utf8_lossy(text));
        }
    }

    #[test]
    fn well_formed_documents_walk_like_the_tree() {
        let sure: &[&str] = &[
            r#"{}"#,
            r#"[]"#,
            r#" [ "a" , 1 , -2.50 , true , false , null , { } , [ ] ] "#,
            r#"{"user":{"mobile":"0171 2345678","sha":"5f4dcc3b5aa765d61d8327deb882cf99"}}"#,
            r#"{"contact":"anna\u0040example.org","ip":"2001:db8::1"}"#,
            r#"{"a":"x\"y\\z\/w\b\f\n\r\t\u00e9\u20ac"}"#,
            r#"[{"password":["s1",{"x":"s2"}]},"s3"]"#,
            "{\"k\":\"Gr\u{f6}\u{df}e \u{1F600}\"}",
            r#"{"a":0,"b":-0,"c":0.5,"d":123456789012345678}"#,
        ];
        for t in sure {
            assert!(walked(t.as_bytes(), Context::default()).is_some(), "{t}");
            same_as_tree(t.as_bytes());
        }
        let unsure_or_refused: &[&[u8]] = &[
            b"",
            b"{",
            b"[1,]",
            b"{\"a\":1,}",
            b"{\"a\" 1}",
            b"[01]",
            b"[1.]",
            b"[-]",
            b"[1e5]",
            b"[1234567890123456789]",
            b"[\"\\ud83d\\ude00\"]",
            b"[\"\\ud83d\"]",
            b"[\"\\x\"]",
            b"[\"\\u12\"]",
            b"[\"a\nb\"]",
            b"[\"\xff\"]",
            b"{\"a\":\"1\",\"a\":\"2\"}",
            b"{\"\\u0061\":\"1\"}",
            b"[] []",
            b"[tru]",
            b"[nul, 1]",
        ];
        for t in unsure_or_refused {
            assert!(
                walked(t, Context::default()).is_none(),
                "{:?}",
                String::from_utf8_lossy(t)
            );
        }
        let deep = format!("{}\"x\"{}", "[".repeat(150), "]".repeat(150));
        assert!(walked(deep.as_bytes(), Context::default()).is_none());
        let ok = format!("{}\"x\"{}", "[".repeat(90), "]".repeat(90));
        same_as_tree(ok.as_bytes());
    }

    #[test]
    fn string_stop_finds_the_first_stop_byte() {
        let bytes: Vec<u8> = (0..=255u8)
            .rev()
            .chain(*b"abc\"def\\gh\x1fij\x7f\x80")
            .collect();
        for start in 0..bytes.len() {
            for end in start..bytes.len().min(start + 40) {
                let text = &bytes[..end];
                let naive = (start..end)
                    .find(|&j| text[j] < 0x20 || text[j] == b'"' || text[j] == b'\\')
                    .unwrap_or(end);
                assert_eq!(string_stop(text, start), naive, "{start}..{end}");
            }
        }
    }

    #[test]
    fn keys_give_context_to_what_is_under_them() {
        let w = walked(
            br#"{"phone":["030 1234567",{"x":"y"}],"other":"z"}"#,
            Context::default(),
        )
        .unwrap();
        let phone: Vec<bool> = w.iter().map(|(_, c)| c.phone).collect();
        assert_eq!(phone, [true, true, false]);
    }

    fn json_piece() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            " ",
            "\n",
            "\"",
            "\"a\"",
            "\"pass\"",
            "\"tel\"",
            "\"x\":",
            "\"b\\u0040c\"",
            "\\",
            "\\n",
            "\\/",
            "\\u00e9",
            "\\ud83d",
            "1",
            "-",
            "0",
            ".",
            "e",
            "true",
            "null",
            "fals",
            "é",
            "\u{1}",
        ])
        .prop_map(str::to_owned)
    }

    fn json_value(depth: u32) -> BoxedStrategy<String> {
        let leaf = prop_oneof![
            "[a-z@. ]{0,6}".prop_map(|s| format!("\"{s}\"")),
            Just("\"a\\\"b\\\\c\\/\\u00e9\"".to_owned()),
            (-1000i64..1000).prop_map(|n| n.to_string()),
            Just("1.25".to_owned()),
            Just("true".to_owned()),
            Just("null".to_owned()),
        ];
        if depth == 0 {
            return leaf.boxed();
        }
        let key = prop::sample::select(vec!["a", "pass", "phone", "x", "mobile", "b"]);
        prop_oneof![
            leaf,
            prop::collection::vec(json_value(depth - 1), 0..4)
                .prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec((key, json_value(depth - 1)), 0..4).prop_map(|v| {
                let kv: Vec<String> = v.iter().map(|(k, v)| format!("\"{k}\": {v}")).collect();
                format!("{{{}}}", kv.join(", "))
            }),
        ]
        .boxed()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Well-formed documents (duplicate keys included): where the walker is sure,
        /// it is the tree; and it is sure of every document without duplicate keys.
        #[test]
        fn generated_documents_walk_like_the_tree(doc in json_value(4)) {
            same_as_tree(doc.as_bytes());
            let ctx = Context::default();
            if walked(doc.as_bytes(), ctx).is_none() {
                prop_assert!(tree(doc.as_bytes(), ctx).is_some());
            }
        }

        /// Pieces of JSON thrown together: mostly malformed; never walked where the tree
        /// refuses, never different where both answer.
        #[test]
        fn malformed_documents_are_never_walked(pieces in prop::collection::vec(json_piece(), 0..16)) {
            same_as_tree(pieces.concat().as_bytes());
        }
    }
}
