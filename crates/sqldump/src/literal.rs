//! MySQL literals: unescaping what a dump holds and escaping exactly as mysqldump does.
//!
//! Escaping is always the last step before bytes go out, and it emits exactly mysqldump's set
//! (`\0 \n \r \\ \' \" \Z`), so a value that is unescaped and escaped again without a change
//! comes out byte-identical to what mysqldump wrote.

use std::borrow::Cow;

use memchr::{memchr, memchr2};

use crate::stops::Stops;

/// Decodes the content of a quoted string literal (the bytes between the quotes).
///
/// Accepts every MySQL escape: `\0 \' \" \b \n \r \t \Z \\`, `\%` and `\_` (which keep their
/// backslash, as MySQL does), any other `\x` as `x`, and the doubled quote `''` (or `""`).
/// Borrows when there is nothing to decode.
pub fn unescape<'a>(content: &'a [u8], quote: u8, scratch: &'a mut Vec<u8>) -> &'a [u8] {
    if memchr2(b'\\', quote, content).is_none() {
        return content;
    }
    scratch.clear();
    unescape_into(content, quote, scratch);
    scratch
}

/// Like [`unescape`], appending to `out`.
pub fn unescape_into(content: &[u8], quote: u8, out: &mut Vec<u8>) {
    out.reserve(content.len());
    let mut i = 0;
    // Escapes are dense in dump text: see `Stops`.
    let mut stops = Stops::new(content, [b'\\', quote], 0);
    while let Some(j) = stops.next_stop() {
        out.extend_from_slice(&content[i..j]);
        let Some(&next) = content.get(j + 1) else {
            // A lone trailing backslash or quote cannot come from the lexer; keep it as is.
            out.push(content[j]);
            return;
        };
        i = j + 2;
        stops.skip_to(i);
        if content[j] == quote {
            // `''` stands for one quote.
            out.push(quote);
            continue;
        }
        match next {
            b'0' => out.push(0),
            b'b' => out.push(0x08),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'Z' => out.push(0x1a),
            b'%' | b'_' => out.extend_from_slice(&[b'\\', next]),
            other => out.push(other),
        }
    }
    out.extend_from_slice(&content[i..]);
}

/// Decodes a concatenated string literal (`'con' 'cat' "enated"`, possibly after a charset
/// introducer) into the one string MySQL makes of it, appending to `out`.
pub fn unescape_concat(literal: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while let Some(k) = literal[i..].iter().position(|&b| b == b'\'' || b == b'"') {
        let open = i + k;
        let quote = literal[open];
        let mut j = open + 1;
        // The closing quote: not escaped, not doubled.
        while j < literal.len() {
            match literal[j] {
                b'\\' => j += 2,
                b if b == quote && literal.get(j + 1) == Some(&quote) => j += 2,
                b if b == quote => break,
                _ => j += 1,
            }
        }
        let end = j.min(literal.len());
        unescape_into(&literal[open + 1..end], quote, out);
        i = (end + 1).min(literal.len());
    }
}

/// For each byte, the letter that follows the backslash when mysqldump escapes it, or 0 when it
/// is written as it is. A table lookup per byte is what keeps escaping off the profile.
const ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    t[0] = b'0';
    t[b'\n' as usize] = b'n';
    t[b'\r' as usize] = b'r';
    t[b'\\' as usize] = b'\\';
    t[b'\'' as usize] = b'\'';
    t[b'"' as usize] = b'"';
    t[0x1a] = b'Z';
    t
};

/// Appends `raw` escaped exactly as mysqldump escapes string content.
pub fn escape_into(raw: &[u8], out: &mut Vec<u8>) {
    out.reserve(raw.len() + raw.len() / 8 + 2);
    let mut start = 0;
    for (i, &b) in raw.iter().enumerate() {
        let letter = ESCAPE[b as usize];
        if letter != 0 {
            out.extend_from_slice(&raw[start..i]);
            out.extend_from_slice(&[b'\\', letter]);
            start = i + 1;
        }
    }
    out.extend_from_slice(&raw[start..]);
}

/// Decodes hex digits (`0x…` / `X'…'` content) into bytes. `None` if a digit is not hex.
/// An odd number of digits is read as MySQL does: with a leading `0`.
pub fn decode_hex(digits: &[u8], out: &mut Vec<u8>) -> Option<()> {
    fn nibble(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    out.reserve(digits.len() / 2 + 1);
    let mut rest = digits;
    if digits.len() % 2 == 1 {
        out.push(nibble(digits[0])?);
        rest = &digits[1..];
    }
    for pair in rest.chunks_exact(2) {
        out.push(nibble(pair[0])? << 4 | nibble(pair[1])?);
    }
    Some(())
}

/// Appends `raw` as hex digits, upper case as mysqldump writes them, or lower case.
pub fn encode_hex(raw: &[u8], upper: bool, out: &mut Vec<u8>) {
    let digits: &[u8; 16] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    out.reserve(raw.len() * 2);
    for &b in raw {
        out.push(digits[(b >> 4) as usize]);
        out.push(digits[(b & 15) as usize]);
    }
}

/// The name inside a quoted identifier: `` `a``b` `` content `` a``b `` → `` a`b ``.
pub fn unquote_identifier(raw: &[u8]) -> Cow<'_, [u8]> {
    if memchr(b'`', raw).is_none() {
        return Cow::Borrowed(raw);
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        out.push(raw[i]);
        i += if raw[i] == b'`' && raw.get(i + 1) == Some(&b'`') {
            2
        } else {
            1
        };
    }
    Cow::Owned(out)
}

/// The column names of an `INSERT`'s column list (the text between its parentheses).
pub fn column_names(list: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    let mut i = 0;
    while i < list.len() {
        let b = list[i];
        if b == b',' || b.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let (raw, end) = if b == b'`' {
            let mut j = i + 1;
            loop {
                match memchr(b'`', &list[j..]) {
                    Some(k) if list.get(j + k + 1) == Some(&b'`') => j += k + 2,
                    Some(k) => break (&list[i + 1..j + k], j + k + 1),
                    None => break (&list[i + 1..], list.len()),
                }
            }
        } else {
            let end = i + list[i..]
                .iter()
                .take_while(|&&c| c != b',' && !c.is_ascii_whitespace())
                .count();
            (&list[i..end], end)
        };
        names.push(String::from_utf8_lossy(&unquote_identifier(raw)).into_owned());
        i = end;
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescape_every_escape() {
        let mut s = Vec::new();
        let got = unescape(br#"a\0\'\"\b\n\r\t\Z\\\%\_\x''z"#, b'\'', &mut s).to_vec();
        assert_eq!(got, b"a\0'\"\x08\n\r\t\x1a\\\\%\\_x'z".to_vec());
    }

    #[test]
    fn unescape_borrows_plain() {
        let mut s = Vec::new();
        let input = b"plain text";
        assert!(std::ptr::eq(unescape(input, b'\'', &mut s), &input[..]));
    }

    #[test]
    fn escape_round_trips_all_bytes() {
        let all: Vec<u8> = (0..=255u8).collect();
        let mut escaped = Vec::new();
        escape_into(&all, &mut escaped);
        // TAB and \b stay raw, as mysqldump writes them.
        assert!(escaped.contains(&b'\t'));
        assert!(escaped.contains(&0x08));
        let mut back = Vec::new();
        unescape_into(&escaped, b'\'', &mut back);
        assert_eq!(back, all);
    }

    #[test]
    fn concatenated_literals() {
        let mut out = Vec::new();
        unescape_concat(b"_utf8mb4'con' 'c\\'at'\n\"en\"\"ated\"", &mut out);
        assert_eq!(out, b"conc'aten\"ated");
    }

    #[test]
    fn hex_round_trip() {
        let mut raw = Vec::new();
        decode_hex(b"48656C6c6F", &mut raw).unwrap();
        assert_eq!(raw, b"Hello");
        let mut hex = Vec::new();
        encode_hex(&raw, true, &mut hex);
        assert_eq!(hex, b"48656C6C6F");
        raw.clear();
        decode_hex(b"F", &mut raw).unwrap();
        assert_eq!(raw, [0x0f]);
        assert!(decode_hex(b"zz", &mut raw).is_none());
    }

    #[test]
    fn identifiers_and_column_lists() {
        assert_eq!(&*unquote_identifier(b"a``b"), b"a`b");
        assert_eq!(
            column_names(b"`id`, `na``me`,plain ,`a,b`"),
            vec!["id", "na`me", "plain", "a,b"]
        );
    }
}
