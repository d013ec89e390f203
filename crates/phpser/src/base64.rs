//! base64 of serialized PHP or JSON: how it is recognised, and decoded with its alphabet.
//!
//! Job queues and plugins keep serialized PHP or JSON base64-encoded (`YToxOntz…` is
//! `a:1:{s…`), as a whole value or as a string inside a serialized value or a JSON document.
//! No needle can be seen through base64, so a search that finds none does not prove the value
//! stays as it is. [`replace_in_value`](crate::replace_in_value) decodes such base64, rewrites
//! what it holds and encodes it again with the same alphabet and padding; the probes here
//! decide, from a few bytes and one SIMD pass, where that may be needed.
//!
//! The engine asks the same probes before it skips a value, or whole rows, in which no needle
//! shows: they are exported for it in [`crate::hooks`].

use memchr::memmem;

use crate::parse::{looks_serialized, serialized_len};

/// Whether `value` may be base64 of serialized PHP or JSON: the first bytes of `a:`, `O:`,
/// `s:`, `C:` (`YTo`, `Tzo`, `czo`, `Qzo`: a queued `Serializable` job), a JSON object
/// (`ey` for `{"` and `{ `, `ew` for `{` and a line break, as `JSON_PRETTY_PRINT` writes it)
/// or array (`W`, then `w`…`z`, a digit, `+`, `/`, `-` or `_`) encoded, and nothing but
/// base64 after them. Cheap; a needle cannot be seen in base64 text, so callers that skip
/// values without a needle must not skip these.
#[inline]
pub fn may_be_base64(value: &[u8]) -> bool {
    starts_like_base64(value) && value.iter().all(|&b| is_base64_byte(b))
}

/// Whether `text` starts the way base64 of serialized PHP or JSON does, as
/// [`may_be_base64`] and [`may_hold_base64`] look for it: a prefix of theirs, and 8 bytes of
/// base64. For callers that find where strings start (`text` runs on past the string's end;
/// the quote that ends it is not base64): base64 [`may_be_base64`] finds starts a value,
/// base64 [`may_hold_base64`] finds follows a `"`, SQL-escaped to `\"` or not.
///
/// ```
/// use understudy_phpser::hooks::starts_like_base64;
/// assert!(starts_like_base64(b"YToxOntpOjA7czo1OiJ4In0=','next'"));
/// assert!(!starts_like_base64(b"YTo',1"));
/// assert!(!starts_like_base64(b"What is it"));
/// ```
#[inline]
pub fn starts_like_base64(text: &[u8]) -> bool {
    // The first two bytes rule out nearly every text, without a call: the dump lexer asks at
    // every string and every `\"`.
    matches!(
        text,
        [b'Y', b'T', ..] | [b'T' | b'c' | b'Q', b'z', ..] | [b'e', b'y' | b'w', ..] | [b'W', b'w'..=b'z' | b'0'..=b'9' | b'+' | b'/' | b'-' | b'_', ..]
    ) && base64_head(text)
}

/// The bytes that may follow the `W` of base64 of a JSON array: `[` is `010110 11`, so the
/// second character holds `11` and four bits of the next byte (`w`…`z`, `0`…`9`, `+` and
/// `/`, or `-` and `_` in the URL-safe alphabet).
pub(crate) const ARRAY_SECOND: &[u8] = b"wxyz0123456789+/-_";

/// [`starts_like_base64`] after its first test.
#[inline(never)]
fn base64_head(text: &[u8]) -> bool {
    text.first_chunk::<8>().is_some_and(|head| {
        BASE64_PREFIXES.iter().any(|p| head.starts_with(p))
            && head.iter().all(|&b| is_base64_byte(b))
    })
}

/// How base64 of serialized PHP or JSON starts (see [`may_be_base64`]). `{}` (`e30=`) is too
/// short to hold anything.
const BASE64_PREFIXES: [&[u8]; 7] = [b"YTo", b"Tzo", b"czo", b"Qzo", b"ey", b"ew", b"W"];

/// A byte of the standard or the URL-safe base64 alphabet, or padding.
fn is_base64_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_' | b'=')
}

/// Whether a serialized value or a JSON document may hold, in one of its strings, base64 of
/// serialized PHP or JSON (see [`may_be_base64`]): a `"` followed by the first letters of
/// such base64. The needles cannot be seen in base64, so callers that skip values without a
/// needle must not skip these. Gives the same answer for the value SQL-escaped.
///
/// ```
/// use understudy_phpser::hooks::may_hold_base64;
/// assert!(may_hold_base64(br#"a:1:{s:3:"job";s:12:"YToxOntpOjA7";}"#));
/// assert!(may_hold_base64(br#"{"state":"eyJ1cmwiOiJ4In0="}"#));
/// assert!(!may_hold_base64(br#"a:1:{s:3:"url";s:5:"https";}"#));
/// assert!(!may_hold_base64(br#"about "YToxOntpOjA7""#));
/// ```
#[inline]
pub fn may_hold_base64(value: &[u8]) -> bool {
    // Called for every value without a needle: the first two bytes rule out nearly all of
    // them without a call.
    may_nest_base64(value) && holds_base64(value)
}

/// Whether [`may_hold_base64`] looks inside a value that starts with `head`: serialized
/// PHP (`a:`, `O:`, `C:`, `s:`) or a JSON document (`{`, `[`, whitespace before it as the
/// JSON walk allows). The same for the value SQL-escaped (a line break written `\n`).
///
/// ```
/// use understudy_phpser::hooks::may_nest_base64;
/// assert!(may_nest_base64(b"a:1:{"));
/// assert!(may_nest_base64(b" \n[\"x\"]"));
/// assert!(!may_nest_base64(b"<p>Hello"));
/// ```
#[inline]
pub fn may_nest_base64(head: &[u8]) -> bool {
    match head {
        [b'a' | b'O' | b'C' | b's', b':', ..] | [b'{' | b'[', ..] => true,
        [b' ' | b'\t' | b'\n' | b'\r' | b'\\', ..] => after_json_space(head),
        _ => false,
    }
}

/// [`may_nest_base64`] for a value that starts with whitespace, or with a backslash (an
/// escaped line break): whether `{` or `[` follows it.
#[inline(never)]
fn after_json_space(mut head: &[u8]) -> bool {
    loop {
        head = match head {
            [b' ' | b'\t' | b'\n' | b'\r', rest @ ..] | [b'\\', b'n' | b'r', rest @ ..] => rest,
            [b'{' | b'[', ..] => return true,
            _ => return false,
        };
    }
}

/// The scan of [`may_hold_base64`], for serialized and JSON values.
#[inline(never)]
fn holds_base64(value: &[u8]) -> bool {
    // Found by their rarest letters, `z` of `Tzo`, `czo` and `Qzo`, `Y` of `YTo` and `W`,
    // and by `"ey` and `"ew` whole (`"e` alone starts many JSON keys), in SIMD passes that
    // seldom stop outside base64: stopping at every `"` of a serialized value instead, or a
    // substring search per prefix, cost more than all the other checks together on the
    // generated WordPress dump (BENCHMARKS.md).
    let base64_after =
        |quote: usize| value.get(quote) == Some(&b'"') && starts_like_base64(&value[quote + 1..]);
    let [ey, ew] = &*OBJECT_STARTS;
    memchr::memchr3_iter(b'z', b'Y', b'W', value).any(|at| {
        let back = if value[at] == b'z' { 2 } else { 1 };
        base64_after(at.wrapping_sub(back))
    }) || ey.find_iter(value).any(base64_after)
        || ew.find_iter(value).any(base64_after)
}

/// `"ey` and `"ew`, searched for by [`holds_base64`]; built once, as they are searched for
/// per value.
static OBJECT_STARTS: std::sync::LazyLock<[memmem::Finder<'static>; 2]> =
    std::sync::LazyLock::new(|| [memmem::Finder::new(b"\"ey"), memmem::Finder::new(b"\"ew")]);

/// Decodes base64 that holds complete serialized PHP or JSON; returns the engine to encode it
/// again with the same alphabet and padding.
pub(crate) fn decode_base64(
    value: &[u8],
    out: &mut Vec<u8>,
) -> Option<base64::engine::GeneralPurpose> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    use base64::Engine;
    let url = value.iter().any(|&b| b == b'-' || b == b'_');
    let padded = value.ends_with(b"=") || value.len().is_multiple_of(4);
    let engine = match (url, padded) {
        (false, true) => STANDARD,
        (false, false) => STANDARD_NO_PAD,
        (true, true) => URL_SAFE,
        (true, false) => URL_SAFE_NO_PAD,
    };
    out.clear();
    engine.decode_vec(value, out).ok()?;
    // Only what decodes to something complete: a base64-looking word stays a word.
    let complete = if looks_serialized(out) {
        serialized_len(out).is_ok_and(|n| n == out.len())
    } else {
        serde_json::from_slice::<serde_json::Value>(out).is_ok()
    };
    // Re-encoding must give the input back, or the alphabet/padding guess was wrong.
    (complete && engine.encode(&*out).as_bytes() == value).then_some(engine)
}
