//! The fast paths a caller may take on a value it has not decoded: [`plain_text`] and
//! [`plain_json`].
//!
//! In a dump every value is SQL-escaped, and a page builder's JSON is mostly escapes (`\"`
//! for every quote): decoding a value, replacing in it and escaping it again cost more than
//! the replacement. Where [`replace_in_value`](crate::replace_in_value) would do nothing but
//! replace the needles as plain bytes, a caller may replace them in the escaped bytes
//! instead. These tell, conservatively, from the value's first bytes and one search of the
//! rest, when that is so. Only the engine asks: they are exported for it in
//! [`crate::hooks`].

use crate::base64::may_be_base64;
use crate::json::FlatMarks;
use crate::parse::looks_like_value_start;
use crate::replace::{Mode, Options};
use crate::replacer::Replacer;
use crate::session::may_be_session_in;

/// How many bytes of a value's start [`plain_text`] looks at: the longest `php_binary`
/// session name (127) with its length byte, and the start of the value after it.
pub const PLAIN_HEAD: usize = 1 + 127 + 3;

/// Whether [`replace_in_value`](crate::replace_in_value) surely treats a value as plain
/// text, whatever its bytes after `head`: it cannot be base64 of serialized PHP or JSON,
/// serialized PHP, a PHP session or a JSON document. Then replacing the needles as plain bytes is all it does, and a caller
/// may do that on the value in another form (SQL-escaped) without decoding it first.
///
/// `head` is the value's first [`PLAIN_HEAD`] bytes (all of it, if shorter). `value` is the
/// whole value, decoded or in a form that writes each `|`, `!` and base64 byte as it is and
/// turns any other byte into bytes that are not all base64 (SQL escaping does so): a `php`
/// session has a `|` before any `!`. Conservative: `false` only means "look closer".
///
/// ```
/// use understudy_phpser::hooks::plain_text;
/// assert!(plain_text(b"<!-- wp:paragraph -->", b"<!-- wp:paragraph -->"));
/// assert!(!plain_text(b"a:1:{i:0;i:1;}", b"a:1:{i:0;i:1;}"));
/// assert!(!plain_text(b"  {\"url\":1}", b"  {\"url\":1}"));
/// ```
pub fn plain_text(head: &[u8], value: &[u8]) -> bool {
    let Some(&first) = head.first() else {
        return true;
    };
    // A JSON document, whitespace before it included.
    if first.is_ascii_whitespace() || matches!(first, b'{' | b'[') {
        return false;
    }
    // Serialized PHP, or base64 of it or of JSON.
    if looks_like_value_start(head) || may_be_base64(value) {
        return false;
    }
    // A `php_binary` session: a length byte, a name, a serialized value. `head` holds
    // whatever may follow the longest name.
    let after_name = 1 + usize::from(first & 0x7f);
    if first & 0x80 != 0 || looks_like_value_start(head.get(after_name..).unwrap_or_default()) {
        return false;
    }
    // A `php` session.
    memchr::memchr2(b'|', b'!', value).is_none_or(|k| value[k] != b'|')
}

/// Whether [`replace_in_value`](crate::replace_in_value) surely replaces the needles as
/// plain bytes in a value that is a JSON object or array whose strings hold only text, as
/// [`plain_text`] says for text: then a caller may replace them in the value in another form (SQL-escaped)
/// without decoding it. A page builder's document in a dump is mostly escapes (`\"` for
/// every quote), so decoding it and escaping it again cost more than the replacement.
///
/// `head` is the value's first [`PLAIN_HEAD`] bytes, decoded (all of it, if shorter);
/// `value` the whole value in the form `marks` were built for ([`FlatMarks::encoded`]).
/// Needs needles that speak for themselves in any string (hosts, `https://…`; see
/// [`Replacer::new`]), and the options `replace_in_value` gets. Conservative: `false`
/// only means "look closer".
///
/// ```
/// use understudy_phpser::hooks::{plain_json, FlatMarks};
/// use understudy_phpser::{Mode, Options, Replacer};
/// let r = Replacer::new([("www.example.org", "int.example.org")])?;
/// let marks = FlatMarks::encoded(|m| m.to_vec());
/// let doc = br#"{"link":"https:\/\/www.example.org\/"}"#;
/// assert!(plain_json(&r, doc, doc, &marks, Options::new(Mode::Auto)));
/// let nested = br#"{"meta":"a:1:{s:1:\"u\";s:15:\"www.example.org\";}"}"#;
/// assert!(!plain_json(&r, nested, nested, &marks, Options::new(Mode::Auto)));
/// # Ok::<(), understudy_phpser::BuildError>(())
/// ```
pub fn plain_json(
    replacer: &Replacer,
    head: &[u8],
    value: &[u8],
    marks: &FlatMarks,
    options: Options,
) -> bool {
    // The checks of `replace_value` on its way to plain replacement for such a value:
    // not base64, not serialized (both start otherwise), not a session, and a document
    // `wants_json_or_base64_walk` passes (its base64 answer also covers
    // `replace_json_base64` for a value without a needle).
    matches!(head.first(), Some(b'{' | b'['))
        && (options.mode() == Mode::Off
            || (replacer.flat_json_is_plain()
                && !may_be_session_in(head, value)
                && marks.flat(value, options.looks_into_base64())))
}
