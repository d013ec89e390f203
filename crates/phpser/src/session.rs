//! PHP session data: the parts of the `php` and `php_binary` session encodings.
//!
//! Elgg, Symfony and Drupal store `$_SESSION` as `session_encode()` writes it:
//! `name|<serialized value>` back to back (`session.serialize_handler = php`), or a length
//! byte, the name and the value (`php_binary`). Each part's value is serialized PHP, the
//! whole is not: [`looks_serialized`](crate::looks_serialized) says no, and a plain
//! replacement would break every length in it. Splitting a value into its parts lets
//! [`replace_in_value`](crate::replace_in_value) rewrite each value with correct lengths and
//! keep the names as they are ([`Report::session`](crate::Report::session) says it did).
//!
//! Crate-private: no caller needs the parts themselves, only the rewrite.

use std::ops::Range;

use crate::error::Error;
use crate::parse::{looks_like_value_start, serialized_len};

/// One `name|value` part of session data: the byte ranges of the name and of the serialized
/// value.
pub(crate) type SessionPart = (Range<usize>, Range<usize>);

/// The parts of a value in PHP's default session encoding (`session.serialize_handler =
/// php`, what `session_encode()` writes): `name|<serialized value>` back to back. Returns
/// `(name, value)` ranges if the whole value is made of such parts; otherwise the reason a
/// value that starts like a session is not one, or `Err(None)` when it does not even start
/// like one.
pub(crate) fn parse_session(value: &[u8]) -> Result<Vec<SessionPart>, Option<Error>> {
    let mut parts = Vec::new();
    let mut pos = 0;
    while pos < value.len() {
        let bar = match memchr::memchr(b'|', &value[pos..]) {
            Some(k) => pos + k,
            None if parts.is_empty() => return Err(None),
            None => {
                return Err(Some(Error::expected(
                    pos,
                    "`name|` of a session variable",
                    None,
                )))
            }
        };
        // PHP refuses names with `|` or `!`; an empty name cannot be written either.
        let name_ok = bar > pos && !value[pos..bar].contains(&b'!');
        let start = bar + 1;
        if parts.is_empty() && !(name_ok && looks_like_value_start(&value[start..])) {
            return Err(None);
        }
        if !name_ok {
            return Err(Some(Error::expected(
                pos,
                "a session variable name",
                value.get(pos).copied(),
            )));
        }
        let end = start + serialized_len(&value[start..]).map_err(|e| Some(e.shifted(start)))?;
        parts.push((pos..bar, start..end));
        pos = end;
    }
    if parts.is_empty() {
        return Err(None);
    }
    Ok(parts)
}

/// The parts of a value in PHP's `php_binary` session encoding (`session.serialize_handler =
/// php_binary`): per variable one byte with the name's length (at most 127), the name, and its
/// serialized value. A length byte with the high bit (0x80) set marks a variable PHP 5 wrote
/// as undefined: a name without a value (its part's value range is empty; PHP 7 and later
/// never write one). Returns `(name, value)` ranges, or `None` unless the whole value is made
/// of such parts, each value parsing completely.
pub(crate) fn binary_session_parts(value: &[u8]) -> Option<Vec<SessionPart>> {
    const UNDEF: u8 = 0x80;
    let mut parts = Vec::new();
    let mut pos = 0;
    while let Some(&len) = value.get(pos) {
        let name = pos + 1..pos + 1 + usize::from(len & !UNDEF);
        if name.end > value.len() {
            return None;
        }
        let start = name.end;
        let end = if len & UNDEF != 0 {
            start
        } else {
            // A complete value must follow; checking its first bytes first keeps text that
            // merely starts with a control byte from reaching the parser.
            if !looks_like_value_start(&value[start..]) {
                return None;
            }
            start + serialized_len(&value[start..]).ok()?
        };
        parts.push((name, start..end));
        pos = end;
    }
    (!parts.is_empty()).then_some(parts)
}

/// A cheap test before the session parsers: a `php` session has a `|` after a first name
/// without `!`, so the scan stops at the first `!` (Gutenberg posts start `<!--`); a
/// `php_binary` one a serialized value right after its first name.
#[inline]
pub(crate) fn may_be_session(value: &[u8]) -> bool {
    may_be_session_in(value, value)
}

/// [`may_be_session`] from the value's first [`PLAIN_HEAD`](crate::hooks::PLAIN_HEAD) bytes and the whole value in a
/// form that writes each `|` and `!` as it is and no other byte as one of them.
pub(crate) fn may_be_session_in(head: &[u8], value: &[u8]) -> bool {
    let binary = head.first().is_some_and(|&len| {
        looks_like_value_start(head.get(1 + usize::from(len & 0x7f)..).unwrap_or_default())
            || len & 0x80 != 0
    });
    binary || memchr::memchr2(b'|', b'!', value).is_some_and(|k| value[k] == b'|')
}

#[cfg(test)]
mod tests {
    use super::*;

    // The rewrite of sessions is tested through `replace_in_value` against real PHP
    // (tests/session.rs); these pin the splitting under it.

    #[test]
    fn php_sessions_split_into_their_parts() {
        let v = br#"_sf2_attributes|a:1:{s:17:"last_forward_from";s:32:"https://mitglieder.example.org/x";}_sf2_meta|a:1:{s:1:"u";i:1;}msg|s:4:"|ok|";"#;
        let parts = parse_session(v).unwrap();
        let names: Vec<&[u8]> = parts.iter().map(|(name, _)| &v[name.clone()]).collect();
        assert_eq!(names, [&b"_sf2_attributes"[..], b"_sf2_meta", b"msg"]);
        assert_eq!(&v[parts[2].1.clone()], br#"s:4:"|ok|";"#);
    }

    #[test]
    fn text_with_bars_is_no_session() {
        for v in [
            &b"see https://x.org | or not"[..],
            b"a|not serialized https://x.org",
            b"|s:1:\"https://x.org\";",
            // PHP refuses `!` in a name: no session starts here, however it goes on.
            b"<!-- wp:paragraph --> x|s:13:\"https://x.org\";",
            b"a!b|s:3:\"https://x.org\";",
        ] {
            assert!(parse_session(v).is_err(), "{}", String::from_utf8_lossy(v));
        }
    }

    #[test]
    fn binary_sessions_split_into_their_parts() {
        // A 127-byte name, and an undefined variable (0x80 | length, no value) as PHP 5
        // wrote them.
        let long = [b'n'; 127];
        let v = [
            &b"\x03urls:25:\"https://old.example.org/x\";\x7f"[..],
            &long,
            b"a:1:{i:0;s:23:\"https://old.example.org\";}\x84gone\x01ni:1;",
        ]
        .concat();
        let parts = binary_session_parts(&v).expect("a php_binary session");
        assert_eq!(parts.len(), 4);
        assert_eq!(&v[parts[1].0.clone()], &long[..]);
        assert!(parts[2].1.is_empty(), "the undefined variable has no value");
        assert_eq!(&v[parts[3].1.clone()], b"i:1;");
        assert!(parse_session(&v).is_err());
    }

    #[test]
    fn text_that_only_starts_like_a_binary_session_is_none() {
        for v in [
            // A length byte and a name, but no complete value after it.
            &b"\x03urls:9:\"https://old.example.org\";"[..],
            b"\x03url https://old.example.org",
            // A name longer than the value.
            b"\x7fhttps://old.example.org",
            // A complete part, then text.
            b"\x01ai:1;https://old.example.org",
        ] {
            assert!(
                binary_session_parts(v).is_none(),
                "{}",
                String::from_utf8_lossy(v)
            );
        }
    }
}
