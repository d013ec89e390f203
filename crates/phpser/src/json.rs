//! JSON documents, string by string: serialized PHP inside JSON strings and JSON inside
//! serialized strings (issue #6).
//!
//! A JSON string holding serialized PHP hides its structure behind JSON escapes
//! (`"a:1:{s:3:\"url\";s:23:\"https:\/\/old.example.org\";}"`): a byte replacement fixes the
//! URL but leaves `s:23` wrong once the string is decoded. So each string is decoded, handed
//! to the caller (who may parse it as serialized PHP, JSON again, …), and, only if it changed,
//! escaped again in the document's own style. Everything else, strings that did not change
//! included, is copied byte for byte.

use std::ops::Range;

use memchr::{memchr, memchr2, memrchr};

use crate::base64::{starts_like_base64, ARRAY_SECOND};

/// How the document escapes what JSON lets a writer choose to escape; new strings follow it,
/// so a rewritten string looks like its neighbours.
#[derive(Clone, Copy, Debug)]
struct Style {
    /// `\/` for `/` (PHP's `json_encode` default), unless the document writes raw slashes.
    slash: bool,
    /// `\u00fc` for non-ASCII (PHP's default), unless the document writes raw UTF-8.
    unicode: bool,
}

/// Whether `s` may be a JSON object or array (`{…}` or `[…]`, whitespace around). Cheap;
/// [`rewrite`] checks the rest.
pub(crate) fn looks_json(s: &[u8]) -> bool {
    let s = s.trim_ascii();
    matches!(
        (s.first(), s.last()),
        (Some(b'{'), Some(b'}')) | (Some(b'['), Some(b']'))
    )
}

/// What the text around a needle's hit says about plain replacement there.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Around {
    /// The hit lies in this string (its content), where plain replacement does what
    /// [`rewrite`] would.
    Plain(Range<usize>),
    /// No one string holds the hit (it is in a number, or runs over a quote): only plain
    /// replacement finds it, since [`rewrite`] looks at strings alone.
    Outside,
    /// Walk the document with [`rewrite`]: the hit cuts an escape in two, or its string may
    /// hold serialized PHP or JSON (escaped: `{\"`, `[\"`, `:{s:`, `:{i:`, `\"s:`, or a start
    /// `s:`) or a doubled backslash (text escaped twice, whose needles may be escaped deeper
    /// than the pairs say).
    Walk,
}

/// Where `text[hit]` (a needle) lies in the JSON document `text`; see [`Around`].
///
/// Looks only at the string around the hit (a few dozen bytes for a URL), not at the
/// document. The string runs from the nearest `"` before the hit that follows an even number
/// of backslashes to the next such `"`: in valid JSON, where neither `"` nor `\` occurs
/// outside strings, that is the string the hit is in; [`rewrite`] validates.
pub(crate) fn plain_string_around(text: &[u8], hit: Range<usize>) -> Around {
    if inside_escape(text, hit.start) || inside_escape(text, hit.end) {
        return Around::Walk;
    }
    let quote_at = |from: usize, back: bool| -> Option<usize> {
        let mut at = from;
        loop {
            let q = if back {
                memrchr(b'"', text.get(..at)?)?
            } else {
                at + memchr(b'"', text.get(at..)?)?
            };
            if backslashes_before(text, q).is_multiple_of(2) {
                return Some(q);
            }
            at = if back { q } else { q + 1 };
        }
    };
    // The closing quote from the hit's start, so that a `"` in the hit ends the string
    // before the hit does.
    let (Some(open), Some(close)) = (quote_at(hit.start, true), quote_at(hit.start, false)) else {
        return Around::Outside;
    };
    if hit.end > close {
        return Around::Outside;
    }
    let string = open + 1..close;
    if may_nest(&text[string.clone()]) {
        Around::Walk
    } else {
        Around::Plain(string)
    }
}

/// Whether `at` falls inside an escape of a JSON string (`\/`, `\u00fc`), not before or after
/// one: only the last backslash of the five bytes before it can start such an escape.
fn inside_escape(text: &[u8], at: usize) -> bool {
    let from = at.saturating_sub(5);
    let Some(k) = text
        .get(from..at)
        .and_then(|t| t.iter().rposition(|&b| b == b'\\'))
    else {
        return false;
    };
    let k = from + k;
    // A backslash after an odd number of them is the escaped one of `\\`.
    if backslashes_before(text, k) % 2 == 1 {
        return false;
    }
    let len = if text.get(k + 1) == Some(&b'u') { 6 } else { 2 };
    at < k + len
}

/// Whether the content of a JSON string may hold serialized PHP or JSON, or a doubled
/// backslash (see [`plain_string_around`]).
fn may_nest(s: &[u8]) -> bool {
    if s.starts_with(b"s:") {
        return true;
    }
    // Every mark holds one of these byte pairs: a loop without early exit over them, which
    // the compiler makes SIMD, rules out nearly every string at once.
    let is = |x: u8, c: u8| u8::from(x == c);
    let mut pairs = 0;
    for (&a, &b) in s.iter().zip(s.get(1..).unwrap_or_default()) {
        pairs |= is(b, b'\\') & (is(a, b'\\') | is(a, b'{') | is(a, b'['))
            | is(a, b':') & is(b, b'{')
            | is(a, b'"') & is(b, b's');
    }
    pairs != 0 && has_nest_mark(s)
}

/// What [`flat_marks`] found in a JSON document.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Flat {
    /// No string holds one of [`may_nest`]'s marks, nor base64 if that was asked.
    Plain,
    /// A string may start with base64 of serialized PHP or JSON
    /// ([`starts_like_base64`] after a `"`): walk the document.
    Base64,
    /// A string may hold one of [`may_nest`]'s marks (or no packed search was at hand):
    /// look at the strings that hold a needle, hit by hit.
    Look,
}

/// Whether any string of the JSON document `text` may hold one of [`may_nest`]'s marks, or
/// (with `base64`) start with base64 of serialized PHP or JSON: [`Flat::Plain`] answers
/// [`plain_string_around`]'s question about nesting for every hit at once.
///
/// Looks for the marks in the document's bytes, where each shows whatever string it is in:
/// `\\`, `{\"`, `[\"`, `"s:` (a string that starts so, or `\"s:`), `:{s:`, `:{i:` and
/// `\//` (see [`NEST_MARKS`]); and for base64 `"` followed by a prefix of
/// [`starts_like_base64`]. A page builder's document holds hundreds of URLs, each in a string
/// of its own; two SIMD passes over it cost less than finding and testing the string around
/// each, and than the letter scan of [`may_hold_base64`]. Not one pass over its backslashes:
/// `json_encode` writes `\/` for every `/`.
///
/// [`may_hold_base64`]: crate::base64::may_hold_base64
pub(crate) fn flat_marks(text: &[u8], base64: bool) -> Flat {
    MARKS.find(text, base64)
}

/// The marks of [`flat_marks`] but `\\`, which a search of its own finds; and `\//`, an
/// escaped slash before a raw one, where a needle `//host` would start inside an escape
/// (`json_encode` escapes every slash or none).
const NEST_MARKS: [&[u8]; 6] = [b"{\\\"", b"[\\\"", b"\"s:", b":{s:", b":{i:", b"\\//"];

/// `"` and the first two bytes of base64 as [`starts_like_base64`] takes it; an array (`W`)
/// has one of 18 bytes after its `W`.
fn base64_marks() -> Vec<Vec<u8>> {
    let mut marks: Vec<Vec<u8>> = [&b"\"YT"[..], b"\"Tz", b"\"cz", b"\"Qz", b"\"ey", b"\"ew"]
        .iter()
        .map(|m| m.to_vec())
        .collect();
    for &second in ARRAY_SECOND {
        marks.push(vec![b'"', b'W', second]);
    }
    marks
}

/// The searches for the marks of nesting in a JSON document's strings (`\\`, `{\"`, `[\"`,
/// `"s:`, `:{s:`, `:{i:`, `\//`) and of base64 starting after a `"`, in one form of the
/// document: as it is, or encoded once more (SQL-escaped in a dump), so a caller may ask
/// about a document without decoding it first.
///
/// Packed (Teddy) searches, which fingerprint the first three bytes of each mark, none of
/// them common in JSON: the general automaton picks a rare-byte prefilter for these that
/// stops at every `:{`, twenty times the instructions.
///
/// ```
/// use understudy_phpser::hooks::FlatMarks;
/// // Each `"` and `\` written with a backslash before it, as SQL escapes them.
/// let escape = |m: &[u8]| -> Vec<u8> {
///     m.iter()
///         .flat_map(|&b| match b {
///             b'"' | b'\\' => vec![b'\\', b],
///             _ => vec![b],
///         })
///         .collect()
/// };
/// let sql = FlatMarks::encoded(escape);
/// assert!(sql.flat(br#"{\"u\":\"https:\\/\\/x\"}"#, true));
/// // A serialized string in a JSON string.
/// assert!(!sql.flat(br#"{\"u\":\"s:1:\\\"x\\\";\"}"#, true));
/// ```
#[derive(Debug)]
pub struct FlatMarks {
    doubled: memchr::memmem::Finder<'static>,
    nest: Option<aho_corasick::packed::Searcher>,
    /// The nest marks first, then the base64 ones.
    all: Option<aho_corasick::packed::Searcher>,
}

static MARKS: std::sync::LazyLock<FlatMarks> =
    std::sync::LazyLock::new(|| FlatMarks::encoded(|m| m.to_vec()));

impl FlatMarks {
    /// The marks as `encode` writes them. `encode` must map each byte to fixed bytes,
    /// whatever its neighbours, and base64 bytes to themselves (SQL escaping as mysqldump
    /// does it does both).
    pub fn encoded(encode: impl Fn(&[u8]) -> Vec<u8>) -> FlatMarks {
        let packed = |marks: &[Vec<u8>]| {
            aho_corasick::packed::Config::new()
                .builder()
                .extend(marks)
                .build()
        };
        let nest: Vec<Vec<u8>> = NEST_MARKS.iter().map(|m| encode(m)).collect();
        let mut all = nest.clone();
        all.extend(base64_marks().iter().map(|m| encode(m)));
        FlatMarks {
            doubled: memchr::memmem::Finder::new(&encode(b"\\\\")).into_owned(),
            nest: packed(&nest),
            all: packed(&all),
        }
    }

    /// Whether the JSON document `text` (in this form) surely has no string with a nest
    /// mark nor (with `base64`) one that starts like base64 of serialized PHP or JSON: then
    /// its strings hold only text, and plain replacement of needles that
    /// [speak for themselves](crate::hooks::plain_json) does what its walk would. `false`
    /// only means "look closer".
    pub fn flat(&self, text: &[u8], base64: bool) -> bool {
        self.find(text, base64) == Flat::Plain
    }

    fn find(&self, text: &[u8], base64: bool) -> Flat {
        let Some(packed) = (if base64 { &self.all } else { &self.nest }) else {
            return Flat::Look;
        };
        if self.doubled.find(text).is_some() {
            return Flat::Look;
        }
        for m in packed.find_iter(text) {
            if m.pattern().as_usize() < NEST_MARKS.len() {
                return Flat::Look;
            }
            // A base64 mark ends with the first two bytes of base64, which no form changes.
            if starts_like_base64(text.get(m.end() - 2..).unwrap_or_default()) {
                return Flat::Base64;
            }
        }
        Flat::Plain
    }
}

/// [`may_nest`] exactly: the content scanned escape by escape.
fn has_nest_mark(s: &[u8]) -> bool {
    let mut pos = 0;
    while let Some(k) = s.get(pos..).and_then(|t| memchr2(b'\\', b'{', t)) {
        let k = pos + k;
        let next = s.get(k + 1..).unwrap_or_default();
        if s[k] == b'{' {
            // `{s:` and `{i:` open a serialized array only after the `:` of its count.
            if k > 0 && s[k - 1] == b':' && matches!(next.get(..2), Some(b"s:" | b"i:")) {
                return true;
            }
            pos = k + 1;
            continue;
        }
        match next.first() {
            Some(b'\\') => return true,
            Some(b'"') if k > 0 && matches!(s[k - 1], b'{' | b'[') => return true,
            Some(b'"') if next[1..].starts_with(b"s:") => return true,
            _ => {}
        }
        pos = k + 2;
    }
    false
}

/// How many backslashes come right before `text[at]`.
fn backslashes_before(text: &[u8], at: usize) -> usize {
    text[..at].iter().rev().take_while(|&&b| b == b'\\').count()
}

/// Why [`rewrite`] gave up; the caller treats the text as plain bytes.
#[derive(Debug)]
pub(crate) enum NotJson {
    /// The text is not one valid JSON document.
    Invalid,
    /// A new string is not UTF-8, so JSON cannot hold it.
    NotUtf8,
}

/// Rewrites every string of the JSON document `text` into `out` (appended). `edit(is_key,
/// decoded, new)` gets each string decoded and returns `true` after writing its new decoded
/// form into `new` (cleared before each call). Returns whether anything changed; if not, `out`
/// is left as it was, also on errors.
pub(crate) fn rewrite<F, E>(text: &[u8], out: &mut Vec<u8>, mut edit: F) -> Result<bool, E>
where
    F: FnMut(bool, &[u8], &mut Vec<u8>) -> Result<bool, E>,
    E: From<NotJson>,
{
    // Validating first lets the scanner below be simple: outside strings no `"` can occur.
    if serde_json::from_slice::<serde_json::Value>(text).is_err() {
        return Err(NotJson::Invalid.into());
    }
    let start = out.len();
    let result = rewrite_strings(text, out, &mut edit);
    if !matches!(result, Ok(true)) {
        out.truncate(start);
    }
    result
}

fn rewrite_strings<F, E>(text: &[u8], out: &mut Vec<u8>, edit: &mut F) -> Result<bool, E>
where
    F: FnMut(bool, &[u8], &mut Vec<u8>) -> Result<bool, E>,
    E: From<NotJson>,
{
    let mut style = None;
    let mut decoded = Vec::new();
    let mut new = Vec::new();
    let mut copied = 0;
    let mut pos = 0;
    while let Some(k) = memchr::memchr(b'"', &text[pos..]) {
        let open = pos + k;
        let close = string_end(text, open + 1).ok_or(NotJson::Invalid)?;
        pos = close + 1;
        let raw = &text[open + 1..close];
        let is_key = text[pos..].trim_ascii_start().first() == Some(&b':');
        let content: &[u8] = if raw.contains(&b'\\') {
            let s: String =
                serde_json::from_slice(&text[open..=close]).map_err(|_| NotJson::Invalid)?;
            decoded.clear();
            decoded.extend_from_slice(s.as_bytes());
            &decoded
        } else {
            raw
        };
        new.clear();
        if !edit(is_key, content, &mut new)? {
            continue;
        }
        let new = std::str::from_utf8(&new).map_err(|_| NotJson::NotUtf8)?;
        let style = *style.get_or_insert_with(|| document_style(text));
        out.extend_from_slice(&text[copied..=open]);
        escape(new, style, out);
        copied = close;
    }
    if copied == 0 {
        return Ok(false);
    }
    out.extend_from_slice(&text[copied..]);
    Ok(true)
}

/// The index of the `"` that closes the string whose content starts at `from`.
fn string_end(text: &[u8], mut from: usize) -> Option<usize> {
    loop {
        let k = from + memchr2(b'"', b'\\', text.get(from..)?)?;
        if text[k] == b'"' {
            return Some(k);
        }
        from = k + 2;
    }
}

/// The escaping style of `text`'s strings: what PHP's `json_encode` does by default
/// (`\/`, `\uXXXX`) unless the document shows the `JSON_UNESCAPED_SLASHES` or
/// `JSON_UNESCAPED_UNICODE` form and not the default one.
fn document_style(text: &[u8]) -> Style {
    let (mut raw_slash, mut escaped_slash, mut raw_unicode, mut escaped_unicode) =
        (false, false, false, false);
    let mut pos = 0;
    while let Some(k) = memchr::memchr(b'"', &text[pos..]) {
        let Some(close) = string_end(text, pos + k + 1) else {
            break;
        };
        let raw = &text[pos + k + 1..close];
        pos = close + 1;
        let mut i = 0;
        while i < raw.len() {
            match raw[i] {
                b'\\' => {
                    match raw.get(i + 1) {
                        Some(b'/') => escaped_slash = true,
                        Some(b'u') => {
                            let hex = raw
                                .get(i + 2..i + 6)
                                .and_then(|h| std::str::from_utf8(h).ok());
                            if hex
                                .and_then(|h| u16::from_str_radix(h, 16).ok())
                                .is_some_and(|u| u >= 0x80)
                            {
                                escaped_unicode = true;
                            }
                        }
                        _ => {}
                    }
                    i += 2;
                    continue;
                }
                b'/' => raw_slash = true,
                b if b >= 0x80 => raw_unicode = true,
                _ => {}
            }
            i += 1;
        }
    }
    Style {
        slash: escaped_slash || !raw_slash,
        // Raw slashes mean JSON_UNESCAPED_SLASHES, nearly always given together with
        // JSON_UNESCAPED_UNICODE.
        unicode: escaped_unicode || !(raw_unicode || raw_slash),
    }
}

/// Writes `s` as JSON string content (no quotes) in `style`, as PHP's `json_encode` does:
/// lower-case hex, `\b \f \n \r \t` by name, other controls as `\u00XX`.
fn escape(s: &str, style: Style, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let unit = |u: u16, out: &mut Vec<u8>| {
        out.extend_from_slice(b"\\u");
        for shift in [12, 8, 4, 0] {
            out.push(HEX[usize::from((u >> shift) & 0xf)]);
        }
    };
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '/' if style.slash => out.extend_from_slice(b"\\/"),
            '\u{8}' => out.extend_from_slice(b"\\b"),
            '\u{c}' => out.extend_from_slice(b"\\f"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if u32::from(c) < 0x20 => unit(c as u16, out),
            c if !c.is_ascii() && style.unicode => {
                let mut buf = [0u16; 2];
                for &u in c.encode_utf16(&mut buf).iter() {
                    unit(u, out);
                }
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upper(text: &str) -> String {
        let mut out = Vec::new();
        let changed = rewrite::<_, NotJsonErr>(text.as_bytes(), &mut out, |key, s, new| {
            if key || !s.contains(&b'x') {
                return Ok(false);
            }
            new.extend_from_slice(&s.to_ascii_uppercase());
            Ok(true)
        })
        .unwrap();
        if changed {
            String::from_utf8(out).unwrap()
        } else {
            text.to_string()
        }
    }

    #[derive(Debug)]
    struct NotJsonErr;
    impl From<NotJson> for NotJsonErr {
        fn from(_: NotJson) -> Self {
            NotJsonErr
        }
    }

    #[test]
    fn only_changed_strings_are_escaped_again_in_the_documents_style() {
        // Default PHP style: `\/` and `\u00fc` stay so in the changed string.
        assert_eq!(
            upper(r#"{"x":"a\/x\u00fc\"","b":"\u00fc\/"}"#),
            r#"{"x":"A\/X\u00fc\"","b":"\u00fc\/"}"#
        );
        // JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE.
        assert_eq!(upper(r#"["a/x ü", "x\n"]"#), r#"["A/X ü", "X\n"]"#);
        // Untouched documents stay byte-identical, odd escapes and spacing included.
        assert_eq!(upper(r#"{ "k" : "\u0061b" }"#), r#"{ "k" : "\u0061b" }"#);
        // Non-BMP characters as surrogate pairs.
        assert_eq!(upper(r#"["\ud83d\ude00x"]"#), r#"["\ud83d\ude00X"]"#);
    }

    #[test]
    fn a_document_without_marks_has_no_string_with_one() {
        let pieces = [
            "{",
            "[",
            "\\\"",
            ":",
            "s:",
            "i:",
            "{s",
            "a",
            "\\/",
            " ",
            "x{i:",
            "\\\\",
            "\\u00fc",
            "\"",
            "YToxOntpOjA7",
            "eyJ1cmwiOiJ4In0=",
            "W3siYSI6MX1d",
            "Wasp",
            "ewogICJ1",
        ];
        let n = pieces.len();
        let (mut plain, mut base64) = (0, 0);
        for i in 0..n * n * n * n {
            let t: String = [i % n, i / n % n, i / n / n % n, i / n / n / n]
                .iter()
                .map(|&k| pieces[k])
                .collect();
            let doc = format!(r#"{{"k":"{t}","s":1}}"#);
            let doc = doc.as_bytes();
            let holds_base64 = crate::base64::may_hold_base64(doc);
            match flat_marks(doc, true) {
                Flat::Plain => {
                    plain += 1;
                    assert!(!holds_base64, "{t}");
                }
                Flat::Base64 => {
                    base64 += 1;
                    assert!(holds_base64, "{t}");
                }
                Flat::Look => {}
            }
            if flat_marks(doc, false) != Flat::Plain {
                continue;
            }
            // Every string the hit search may take: from any `"` to any later one.
            let quotes: Vec<usize> = memchr::memchr_iter(b'"', doc).collect();
            for (a, &open) in quotes.iter().enumerate() {
                for &close in &quotes[a + 1..] {
                    let content = &doc[open + 1..close];
                    assert!(
                        !may_nest(content),
                        "{t}: {}",
                        String::from_utf8_lossy(content)
                    );
                }
            }
        }
        // The test is not empty: many of these documents have no mark, many have base64.
        assert!(plain > n * n * n * n / 10, "{plain}");
        assert!(base64 > n * n * n * n / 10, "{base64}");
    }

    #[test]
    fn a_hits_string_is_found_and_checked_for_nest_marks() {
        fn around<'a>(text: &'a str, needle: &str) -> Option<&'a str> {
            let start = text.find(needle).unwrap();
            match plain_string_around(text.as_bytes(), start..start + needle.len()) {
                Around::Plain(r) => Some(&text[r]),
                _ => None,
            }
        }
        let outside = |text: &str, needle: &str| {
            let start = text.find(needle).unwrap();
            plain_string_around(text.as_bytes(), start..start + needle.len()) == Around::Outside
        };
        // Not inside one string: plain replacement, the walk would not see it.
        assert!(outside(r#"{"old":"example"}"#, "old\":\""));
        assert!(outside(r#"[1, 2]"#, "1"));
        assert!(outside(r#"{}"#, "}"));
        assert!(!outside(r#"["\/old"]"#, "/old"));
        let doc = r#"{"a":"x\"{s:","url":"see https:\/\/old.example\/\" now","b":"[\"z"}"#;
        // Marks in other strings do not count; escaped quotes do not end the string.
        assert_eq!(
            around(doc, "old.example"),
            Some(r#"see https:\/\/old.example\/\" now"#)
        );
        for (text, needle) in [
            // Serialized PHP or JSON in the string, or text escaped twice.
            (
                r#"["a:1:{s:1:\"u\";s:11:\"old.example\";}"]"#,
                "old.example",
            ),
            (r#"["a:1:{i:0;s:11:\"old.example\";}"]"#, "old.example"),
            (r#"["s:11:\"old.example\";"]"#, "old.example"),
            (r#"["{\"u\":\"old.example\"}"]"#, "old.example"),
            (r#"["[\"old.example\"]"]"#, "old.example"),
            (r#"["[1,\"s:3:\\\"old.example\\\";\"]"]"#, "old.example"),
            (r#"["old.example \\ x"]"#, "old.example"),
            // Not inside one string.
            (r#"{"old":"example"}"#, "old\":\""),
            (r#"[1, 2]"#, "1"),
            // Cutting an escape in two.
            (r#"["\u00fcber"]"#, "00fc"),
            (r#"["\u00fcber"]"#, "\\u00"),
            (r#"["\/old"]"#, "/old"),
            (r#"["x\nold"]"#, "nold"),
        ] {
            assert_eq!(around(text, needle), None, "{needle} in {text}");
        }
        // What the mark test sees, against the marks searched for in the string as text.
        let marks = |t: &str| {
            let t = t.as_bytes();
            use memchr::memmem::{find, find_iter};
            find_iter(t, b"\\\"").any(|k| k > 0 && matches!(t[k - 1], b'{' | b'['))
                || find_iter(t, b":{").any(|k| matches!(t.get(k + 2..k + 4), Some(b"s:" | b"i:")))
                || find(t, b"\"s:").is_some()
                || find(t, b"\\\\").is_some()
        };
        let pieces = [
            "{", "[", "\\\"", ":", "s:", "i:", "{s", "a", "\\/", " ", "{s:", "x{i:", "\\\\",
            "\\u00fc",
        ];
        // Marks in the next string do not count.
        const TAIL: &str = r#"","b":"{\"s:"}"#;
        let n = pieces.len();
        for i in 0..n * n * n * n {
            let t: String = [i % n, i / n % n, i / n / n % n, i / n / n / n]
                .iter()
                .map(|&k| pieces[k])
                .collect();
            let doc = format!(r#"{{"k":"{t}x{TAIL}"#);
            let x = doc.len() - TAIL.len() - 1;
            let want = (!marks(&format!("\"{t}x"))).then(|| format!("{t}x"));
            assert_eq!(around(&doc, "x\""), None, "{doc}");
            let got = match plain_string_around(doc.as_bytes(), x..x + 1) {
                Around::Plain(r) => Some(doc[r].to_string()),
                _ => None,
            };
            assert_eq!(got, want, "{doc}");
        }
    }

    #[test]
    fn not_json_is_refused() {
        let mut out = Vec::new();
        for text in [&b"[1,"[..], b"{\"a\":}", b"[\"\xff\"]"] {
            assert!(rewrite::<_, NotJsonErr>(text, &mut out, |_, _, _| Ok(true)).is_err());
        }
        assert!(looks_json(b" {\"a\":1} "));
        assert!(!looks_json(b"{not json"));
    }
}
