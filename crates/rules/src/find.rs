//! Finders for personal data in free text: e-mail addresses, IPv4 and IPv6 addresses.
//!
//! They live here, public, because two callers need the same answer: the `scrub` mask
//! replaces what they find, and a scanner (`understudy scan`) reports what is left. A scan
//! that found other things than the scrub replaces would flag every scrubbed copy, or miss
//! what the scrub misses.
//!
//! Each finder is a hand-written scanner rather than a regular expression: it runs over
//! every byte of every scanned value, starts from a `memchr` for the one byte its pattern
//! must contain (`@`, `.`, `:`), and accepts only what a well-formed address looks like with
//! its neighbours, so `v1.2.3`, `12:30:00` and `std::vector` are not addresses. Each takes
//! the text and where to start, and returns the byte range of the next match at or after
//! `from`, or `None`.

use std::net::Ipv6Addr;
use std::ops::Range;

use memchr::memchr;

/// Whether an e-mail, IPv4 or IPv6 address may be in the text that `bytes` hold, as they
/// are or escaped the way mysqldump escapes: `false` means none of the finders here finds
/// anything in it, so a caller can skip decoding and scanning the text. One `memchr` for
/// `@`, then a packed search for the bytes around an address's `.` or `:` (the scrub's
/// prefilter, so both skip the same values).
pub fn may_hold_address(bytes: &[u8]) -> bool {
    crate::scrub::Finds::ALL.may_occur(bytes)
}

fn is_local_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-' | b'\'')
}

fn is_domain_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-')
}

/// `local@domain.tld`: a local part of the usual characters, a domain of at least two
/// labels whose last is two or more letters. Dots at either end belong to the sentence.
pub fn find_email(text: &[u8], from: usize) -> Option<Range<usize>> {
    let mut at = from;
    while let Some(i) = memchr(b'@', &text[at..]) {
        let atsign = at + i;
        at = atsign + 1;
        let mut start = atsign;
        while start > from && is_local_byte(text[start - 1]) {
            start -= 1;
        }
        // A local part neither starts nor ends with a dot, nor starts with a quote.
        while start < atsign && matches!(text[start], b'.' | b'\'') {
            start += 1;
        }
        if start == atsign || text[atsign - 1] == b'.' {
            continue;
        }
        let mut end = atsign + 1;
        while end < text.len() && is_domain_byte(text[end]) {
            end += 1;
        }
        while end > atsign + 1 && matches!(text[end - 1], b'.' | b'-') {
            end -= 1;
        }
        let domain = &text[atsign + 1..end];
        let Some(dot) = domain.iter().rposition(|&b| b == b'.') else {
            continue;
        };
        let tld = &domain[dot + 1..];
        let labels_ok = domain
            .split(|&b| b == b'.')
            .all(|l| !l.is_empty() && l[0] != b'-' && l[l.len() - 1] != b'-');
        if tld.len() >= 2 && tld.iter().all(u8::is_ascii_alphabetic) && labels_ok {
            return Some(start..end);
        }
    }
    None
}

/// Four decimal parts of at most 255, not part of a longer run of digits and dots (a
/// version number `1.2.3.4.5`, a decimal `3.14`).
pub fn find_ipv4(text: &[u8], from: usize) -> Option<Range<usize>> {
    let mut at = from;
    while let Some(i) = memchr(b'.', &text[at..]) {
        let dot = at + i;
        // The start of the digit run before this dot.
        let mut start = dot;
        while start > from && text[start - 1].is_ascii_digit() {
            start -= 1;
        }
        at = dot + 1;
        if start == dot {
            continue;
        }
        if start > 0 && (text[start - 1] == b'.' || text[start - 1].is_ascii_alphanumeric()) {
            continue;
        }
        if let Some(end) = ipv4_at(text, start) {
            return Some(start..end);
        }
    }
    None
}

/// The end of an IPv4 address starting at `start`, if there is one.
fn ipv4_at(text: &[u8], start: usize) -> Option<usize> {
    let mut i = start;
    for part in 0..4 {
        let digits = text[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 || digits > 3 {
            return None;
        }
        let n: u32 = text[i..i + digits]
            .iter()
            .fold(0, |n, &d| n * 10 + u32::from(d - b'0'));
        // A leading zero (`01`) is not how addresses are written.
        if n > 255 || (digits > 1 && text[i] == b'0') {
            return None;
        }
        i += digits;
        if part < 3 {
            if text.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
    }
    // A fifth part or a letter right after: a version number or a host name, not an address.
    match text.get(i) {
        Some(b) if b.is_ascii_alphanumeric() => None,
        Some(b'.') if text.get(i + 1).is_some_and(u8::is_ascii_digit) => None,
        _ => Some(i),
    }
}

fn is_ipv6_byte(b: u8) -> bool {
    b.is_ascii_hexdigit() || b == b':' || b == b'.'
}

/// A run of hex digits, colons (and dots, for `::ffff:192.0.2.1`) that the standard library
/// parses as an IPv6 address, with at least one decimal digit (so `a::b` in code stays), not
/// glued to a word.
pub fn find_ipv6(text: &[u8], from: usize) -> Option<Range<usize>> {
    let mut at = from;
    while let Some(i) = memchr(b':', &text[at..]) {
        let colon = at + i;
        let mut start = colon;
        while start > from && is_ipv6_byte(text[start - 1]) {
            start -= 1;
        }
        let mut end = colon;
        while end < text.len() && is_ipv6_byte(text[end]) {
            end += 1;
        }
        at = end.max(colon + 1);
        // Trailing dots and colons belong to the sentence (`… at 2001:db8::1.`).
        while end > start && text[end - 1] == b'.' {
            end -= 1;
        }
        let glued = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_');
        if glued(start.checked_sub(1).and_then(|s| text.get(s))) || glued(text.get(end)) {
            continue;
        }
        let candidate = &text[start..end];
        if candidate.iter().filter(|&&b| b == b':').count() < 2
            || !candidate.iter().any(u8::is_ascii_digit)
        {
            continue;
        }
        let parsed = std::str::from_utf8(candidate)
            .ok()
            .and_then(|s| s.parse::<Ipv6Addr>().ok());
        if parsed.is_some() {
            return Some(start..end);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str, f: fn(&[u8], usize) -> Option<Range<usize>>) -> Vec<&str> {
        let mut found = Vec::new();
        let mut at = 0;
        while let Some(r) = f(text.as_bytes(), at) {
            found.push(&text[r.clone()]);
            at = r.end;
        }
        found
    }

    #[test]
    fn emails() {
        let cases: &[(&str, &[&str])] = &[
            ("anna@example.org", &["anna@example.org"]),
            (
                "Mail: anna.beispiel@members.example.org.",
                &["anna.beispiel@members.example.org"],
            ),
            (
                "<a href=\"mailto:info@example.com\">info@example.com</a>",
                &["info@example.com", "info@example.com"],
            ),
            (
                "{\"email\":\"o'neil+x@mail.example.co.uk\"}",
                &["o'neil+x@mail.example.co.uk"],
            ),
            ("'quoted@example.org'", &["quoted@example.org"]),
            ("a@b, c@d.e, @example.org, x@.org, x@-a.org", &[]),
            ("twitter @handle and x@y", &[]),
            ("v@1.2", &[]),
            (".dot.@example.org", &[]),
            ("a@b.cd e@f.gh", &["a@b.cd", "e@f.gh"]),
        ];
        for (text, want) in cases {
            assert_eq!(all(text, find_email), *want, "{text}");
        }
    }

    #[test]
    fn ipv4s() {
        let cases: &[(&str, &[&str])] = &[
            ("192.0.2.55", &["192.0.2.55"]),
            (
                "from 10.0.0.1, to 255.255.255.255.",
                &["10.0.0.1", "255.255.255.255"],
            ),
            ("ip=203.0.113.9;", &["203.0.113.9"]),
            ("version 1.2.3.4.5 and 1.2.3", &[]),
            ("256.1.1.1 1.2.3.04 a1.2.3.4 1.2.3.4a 3.14", &[]),
            ("\"ip\";s:11:\"192.0.2.200\"", &["192.0.2.200"]),
        ];
        for (text, want) in cases {
            assert_eq!(all(text, find_ipv4), *want, "{text}");
        }
    }

    #[test]
    fn ipv6s() {
        let cases: &[(&str, &[&str])] = &[
            ("2001:db8::42", &["2001:db8::42"]),
            ("[2001:db8:0:0:1:0:0:1]:443", &["2001:db8:0:0:1:0:0:1"]),
            (
                "from fe80::1 and ::ffff:192.0.2.1.",
                &["fe80::1", "::ffff:192.0.2.1"],
            ),
            ("12:30:00 00:1a:2b:3c:4d:5e std::vector a::b", &[]),
            ("::", &[]),
        ];
        for (text, want) in cases {
            assert_eq!(all(text, find_ipv6), *want, "{text}");
        }
    }
}
