//! The detectors: what looks like personal data in one decoded text.
//!
//! Each detector is a hand-written scanner over `&[u8]`, not a regex: a scan runs over every
//! byte of every string in the dump, and the answer has to come out at least as fast as
//! `understudy rewrite` writes the dump. E-mail and IP addresses use the finders the `scrub`
//! mask uses ([`understudy_rules::find`]), so a scan reports exactly what a scrub would have
//! replaced, minus the false positives below. The others are here:
//!
//! - **Password hashes** start at a `$`: bcrypt (`$2a$`, `$2b$`, `$2x$`, `$2y$` + cost + 53
//!   characters), WordPress 6.8 (`$wp$2y$…`), phpass (`$P$`, `$H$` + 31 characters), Drupal
//!   7 (`$S$` + 52), argon2 (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`, also `argon2i`/`argon2d`),
//!   and the crypt(3) family (`$1$`, `$5$`, `$6$`). A bare md5/sha1/sha256/sha512 hex digest
//!   counts only as a whole value in a password-like place ([`Context::password`]): elsewhere
//!   the same hex is a file checksum, a cache key or a nonce. So does a whole value there that
//!   has crypt's shape without one of those exact lengths (`$P$` + 33 characters).
//! - **Payment cards:** 13 to 19 digits, in one run or in groups of 4 to 6 separated by one
//!   space or dash, starting with 2 to 6 (the card networks' ranges; timestamps in
//!   milliseconds start with 1), passing the Luhn check, not glued to a letter, digit or dot.
//! - **IBANs:** a country code of an IBAN country, two check digits and the country's
//!   length of letters and digits (printed in groups of four or not), whose mod-97 check is 1.
//! - **Phone numbers**, conservatively: `+` and 8 to 15 digits, grouped by single spaces,
//!   dashes, dots, slashes or a `(0)`, not glued to a word (`+49 30 1234567`, `+1-202-555-0143`).
//!   In a phone-like place ([`Context::phone`]) a whole value of 7 to 15 digits with those
//!   separators counts too (`030 1234567`).
//!
//! What is *not* an address, though the scrub's finders take it (reporting has to be more
//! careful than masking, which may overreach): a dotted quad that follows a product token's
//! slash (`Chrome/120.0.0.0`), and an "address" whose domain ends in a file extension
//! (`logo@2x.png`).

use std::ops::Range;

use memchr::memchr_iter;
use understudy_rules::find;

/// What a finding looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// An e-mail address.
    Email,
    /// An IPv4 address.
    Ipv4,
    /// An IPv6 address.
    Ipv6,
    /// A phone number.
    Phone,
    /// A password hash.
    PasswordHash,
    /// A payment card number that passes the Luhn check.
    Card,
    /// An IBAN whose check digits are right.
    Iban,
}

impl Kind {
    /// Every kind, in report order.
    pub const ALL: [Kind; 7] = [
        Kind::Email,
        Kind::Ipv4,
        Kind::Ipv6,
        Kind::Phone,
        Kind::PasswordHash,
        Kind::Card,
        Kind::Iban,
    ];

    /// The name in reports and messages: `email`, `password_hash`, …
    pub fn name(self) -> &'static str {
        match self {
            Kind::Email => "email",
            Kind::Ipv4 => "ipv4",
            Kind::Ipv6 => "ipv6",
            Kind::Phone => "phone",
            Kind::PasswordHash => "password_hash",
            Kind::Card => "card",
            Kind::Iban => "iban",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What the name of the place a value sits in (a column, or a key inside a serialized or
/// JSON value) says about it. Some data is only recognisable by where it is: 32 hex digits
/// are an md5 password hash in `user_pass` and a file checksum in `meta_value`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Context {
    /// The name holds `pass`, `pwd` or `hash` (`user_pass`, `password`, `password_hash`):
    /// a whole value that is an md5, sha1, sha256 or sha512 hex digest is a password hash.
    pub password: bool,
    /// The name holds `phone`, `mobile`, `fax` or `telefon`, or is `tel` or ends in `_tel`:
    /// a whole value of 7 to 15 digits is a phone number.
    pub phone: bool,
}

impl Context {
    /// The context a column or key name gives.
    pub fn of_name(name: &[u8]) -> Context {
        let lower = name.to_ascii_lowercase();
        let has = |w: &[u8]| memchr::memmem::find(&lower, w).is_some();
        Context {
            password: has(b"pass") || has(b"pwd") || has(b"hash"),
            phone: has(b"phone")
                || has(b"mobile")
                || has(b"fax")
                || has(b"telefon")
                || lower == b"tel"
                || lower.ends_with(b"_tel")
                || lower.starts_with(b"tel_"),
        }
    }

    /// Either context: a key inside a value of a column keeps what the column says.
    pub fn or(self, other: Context) -> Context {
        Context {
            password: self.password || other.password,
            phone: self.phone || other.phone,
        }
    }
}

/// What a quick pass over a value's bytes says may be in it; `false` everywhere means no
/// detector can find anything, so the value need not be decoded or parsed.
///
/// It works on the dump's escaped bytes as well as on decoded text: mysqldump's escapes
/// (`\0 \' \" \n \r \Z \\`) never stand for `@`, `$`, `+`, `.`, `:`, letters or digits, so
/// what the detectors need is in the escaped bytes too (an escape may add a digit or
/// letter, which only makes the answer more often "maybe").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Sieve {
    /// `@`, `$`, `+`, or the bytes around an IP address's `.` or `:`.
    pub marks: bool,
    /// A run of 13 or more digits, single spaces or dashes between them allowed.
    pub card: bool,
    /// Two capital letters right before two digits.
    pub iban: bool,
    /// 7 or more digits in all (for phone-like places).
    pub digits7: bool,
    /// A run of 32 or more hex digits (for password-like places).
    pub hex32: bool,
}

impl Sieve {
    pub(crate) fn any(&self) -> bool {
        self.marks || self.card || self.iban || self.digits7 || self.hex32
    }
}

/// Byte classes of the sieve's loop: a table, not a chain of range tests, so the loop is a
/// load and a few flag updates per byte.
const DIGIT: u8 = 1;
const UPPER: u8 = 2;
const HEX_LETTER: u8 = 4;
const GROUP_SEP: u8 = 8;
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = if c.is_ascii_digit() {
            DIGIT
        } else if matches!(c, b'A'..=b'F') {
            UPPER | HEX_LETTER
        } else if c.is_ascii_uppercase() {
            UPPER
        } else if matches!(c, b'a'..=b'f') {
            HEX_LETTER
        } else if c == b' ' || c == b'-' {
            GROUP_SEP
        } else {
            0
        };
        b += 1;
    }
    t
};

/// One pass over `bytes` for the detectors that cannot start from a `memchr`.
pub(crate) fn sieve(bytes: &[u8]) -> Sieve {
    let marks = memchr::memchr3(b'@', b'$', b'+', bytes).is_some() || find::may_hold_address(bytes);
    let (mut run, mut longest_run) = (0u32, 0u32);
    let mut separated = false;
    let (mut hex, mut longest_hex) = (0u32, 0u32);
    let mut digits = 0u32;
    // The classes of the last three bytes, two bits each: 1 digit, 2 capital letter.
    let mut last3 = 0u8;
    let mut iban = false;
    for &b in bytes {
        let c = CLASS[b as usize];
        if c & DIGIT != 0 {
            run += 1;
            separated = false;
            hex += 1;
            digits += 1;
            // Capital, capital, digit before this digit.
            iban |= (last3 & 0b11_1111) == 0b10_10_01;
            last3 = (last3 << 2) | 1;
            continue;
        }
        longest_run = longest_run.max(run);
        if c & GROUP_SEP != 0 && run > 0 && !separated {
            separated = true;
        } else {
            run = 0;
            separated = false;
        }
        if c & HEX_LETTER != 0 {
            hex += 1;
        } else {
            longest_hex = longest_hex.max(hex);
            hex = 0;
        }
        last3 = (last3 << 2) | u8::from(c & UPPER != 0) << 1;
    }
    Sieve {
        marks,
        card: longest_run.max(run) >= 13,
        iban,
        digits7: digits >= 7,
        hex32: longest_hex.max(hex) >= 32,
    }
}

/// Runs every detector over `text` (decoded: no SQL escapes) and calls `found` with each
/// finding's kind and range, left to right within each kind. `sieve` is what [`sieve`] said
/// about the value's bytes; detectors it rules out are not run.
pub(crate) fn find_all(
    text: &[u8],
    ctx: Context,
    sieve: Sieve,
    found: &mut dyn FnMut(Kind, Range<usize>),
) {
    if sieve.marks {
        let mut at = 0;
        while let Some(r) = find::find_email(text, at) {
            at = r.end;
            if !is_file_name(&text[r.clone()]) {
                found(Kind::Email, r);
            }
        }
        let mut at = 0;
        while let Some(r) = find::find_ipv4(text, at) {
            at = r.end;
            if !follows_product_token(text, r.start) {
                found(Kind::Ipv4, r);
            }
        }
        let mut at = 0;
        while let Some(r) = find::find_ipv6(text, at) {
            at = r.end;
            found(Kind::Ipv6, r);
        }
        for dollar in memchr_iter(b'$', text) {
            if let Some(end) = crypt_hash_at(text, dollar) {
                found(Kind::PasswordHash, dollar..end);
            }
        }
        for plus in memchr_iter(b'+', text) {
            if let Some(end) = phone_at(text, plus) {
                found(Kind::Phone, plus..end);
            }
        }
    }
    if sieve.card || sieve.iban {
        digit_runs(text, sieve, found);
    }
    if ctx.password && (sieve.hex32 || sieve.marks) {
        let t = text.trim_ascii();
        let whole_hash = is_hex_digest(t) || (is_crypt_like(t) && crypt_hash_at(t, 0).is_none());
        if whole_hash {
            let start = t.as_ptr() as usize - text.as_ptr() as usize;
            found(Kind::PasswordHash, start..start + t.len());
        }
    }
    if ctx.phone && sieve.digits7 {
        let t = text.trim_ascii();
        if is_bare_phone(t) && !t.starts_with(b"+") {
            let start = t.as_ptr() as usize - text.as_ptr() as usize;
            found(Kind::Phone, start..start + t.len());
        }
    }
}

/// An e-mail-shaped match whose "domain" ends in a file extension: `logo@2x.png`,
/// `icon@3x.webp` (retina image names).
fn is_file_name(email: &[u8]) -> bool {
    const EXTENSIONS: &[&[u8]] = &[
        b"png", b"jpg", b"jpeg", b"gif", b"svg", b"webp", b"avif", b"bmp", b"ico", b"tif", b"tiff",
        b"css", b"js", b"map", b"pdf", b"zip", b"mp4", b"webm", b"mp3", b"woff", b"woff2", b"ttf",
    ];
    let Some(dot) = email.iter().rposition(|&b| b == b'.') else {
        return false;
    };
    let tld = email[dot + 1..].to_ascii_lowercase();
    EXTENSIONS.contains(&tld.as_slice())
}

/// A dotted quad right after `Product/` is a version (`Chrome/120.0.0.0`), not an address:
/// a `/` after a letter or digit, where a URL's host would follow `//`.
fn follows_product_token(text: &[u8], start: usize) -> bool {
    start >= 2 && text[start - 1] == b'/' && text[start - 2].is_ascii_alphanumeric()
}

/// crypt(3)'s alphabet: what bcrypt, phpass and the SHA-crypt family write after `$`.
fn is_crypt_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'.' || b == b'/'
}

fn is_base64_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
}

/// How many bytes from `at` on satisfy `ok`.
fn count(text: &[u8], at: usize, ok: impl Fn(u8) -> bool) -> usize {
    text.get(at..)
        .map_or(0, |rest| rest.iter().take_while(|&&b| ok(b)).count())
}

/// The end of a password hash whose `$` is at `text[at]`, if one starts there.
pub(crate) fn crypt_hash_at(text: &[u8], at: usize) -> Option<usize> {
    if at > 0 && (is_crypt_byte(text[at - 1]) || text[at - 1] == b'$') {
        return None;
    }
    let rest = &text[at..];
    let end = if rest.starts_with(b"$wp$2") {
        bcrypt_at(text, at + 3)?
    } else if rest.starts_with(b"$2") {
        bcrypt_at(text, at)?
    } else if rest.starts_with(b"$P$") || rest.starts_with(b"$H$") {
        fixed_crypt(text, at + 3, 31)?
    } else if rest.starts_with(b"$S$") {
        fixed_crypt(text, at + 3, 52)?
    } else if rest.starts_with(b"$argon2") {
        argon2_at(text, at)?
    } else if rest.starts_with(b"$1$") {
        sha_crypt_at(text, at + 3, 8, 22)?
    } else if rest.starts_with(b"$5$") {
        sha_crypt_at(text, at + 3, 16, 43)?
    } else if rest.starts_with(b"$6$") {
        sha_crypt_at(text, at + 3, 16, 86)?
    } else {
        return None;
    };
    // Glued to more of the alphabet: something longer that only starts like a hash.
    match text.get(end) {
        Some(&b) if is_crypt_byte(b) || b == b'$' => None,
        _ => Some(end),
    }
}

/// `$2a$10$` + 53 characters, from the `$` at `at`.
fn bcrypt_at(text: &[u8], at: usize) -> Option<usize> {
    let head = text.get(at..at + 7)?;
    let ok = matches!(head[2], b'a' | b'b' | b'x' | b'y')
        && head[3] == b'$'
        && head[4].is_ascii_digit()
        && head[5].is_ascii_digit()
        && head[6] == b'$';
    (ok && count(text, at + 7, is_crypt_byte) == 53).then_some(at + 60)
}

/// Exactly `n` crypt characters at `at`.
fn fixed_crypt(text: &[u8], at: usize, n: usize) -> Option<usize> {
    (count(text, at, is_crypt_byte) == n).then_some(at + n)
}

/// `$1$`/`$5$`/`$6$`: an optional `rounds=N$`, a salt of at most `salt` characters, `$`,
/// and a hash of exactly `hash` characters, from just after the id.
fn sha_crypt_at(text: &[u8], mut at: usize, salt: usize, hash: usize) -> Option<usize> {
    if text.get(at..)?.starts_with(b"rounds=") {
        let digits = count(text, at + 7, |b| b.is_ascii_digit());
        if digits == 0 || text.get(at + 7 + digits) != Some(&b'$') {
            return None;
        }
        at += 8 + digits;
    }
    let s = count(text, at, is_crypt_byte);
    if s == 0 || s > salt || text.get(at + s) != Some(&b'$') {
        return None;
    }
    fixed_crypt(text, at + s + 1, hash)
}

/// `$argon2id$v=19$m=65536,t=4,p=1$<salt>$<hash>` (PHP's `password_hash` with
/// `PASSWORD_ARGON2ID`; `$argon2i$`, `$argon2d$` too), from the `$` at `at`.
fn argon2_at(text: &[u8], at: usize) -> Option<usize> {
    let mut i = at + b"$argon2".len();
    let variant = count(text, i, |b| b == b'i' || b == b'd');
    if variant == 0 || variant > 2 {
        return None;
    }
    i += variant;
    if text.get(i..)?.starts_with(b"$v=") {
        let d = count(text, i + 3, |b| b.is_ascii_digit());
        if d == 0 {
            return None;
        }
        i += 3 + d;
    }
    // `$m=…,t=…,p=…`
    if text.get(i) != Some(&b'$') {
        return None;
    }
    let params = count(text, i + 1, |b| {
        b.is_ascii_digit() || matches!(b, b'm' | b't' | b'p' | b'=' | b',')
    });
    if params < 11 || !text[i + 1..].starts_with(b"m=") {
        return None;
    }
    i += 1 + params;
    let salt = (text.get(i) == Some(&b'$')).then(|| count(text, i + 1, is_base64_byte))?;
    if salt < 8 {
        return None;
    }
    i += 1 + salt;
    let hash = (text.get(i) == Some(&b'$')).then(|| count(text, i + 1, is_base64_byte))?;
    (hash >= 16).then_some(i + 1 + hash)
}

/// 32, 40, 64 or 128 hex digits: md5, sha1, sha256, sha512 in hex. Not a run of one digit
/// (a placeholder such as `000…0`).
pub(crate) fn is_hex_digest(t: &[u8]) -> bool {
    matches!(t.len(), 32 | 40 | 64 | 128)
        && t.iter().all(u8::is_ascii_hexdigit)
        && t.iter().any(|&b| b != t[0])
}

/// A whole value in a password-like place that has the shape of a crypt(3) string without
/// matching one of the exact formats: `$id$` and at least 20 more characters of crypt's
/// alphabet (and `$ , = +`). Hashes from other libraries, or cut or made up by hand.
fn is_crypt_like(t: &[u8]) -> bool {
    t.len() >= 24
        && t[0] == b'$'
        && t[1..].iter().filter(|&&b| b == b'$').count() >= 1
        && t.iter()
            .all(|&b| is_crypt_byte(b) || matches!(b, b'$' | b',' | b'=' | b'+'))
}

/// The end of a phone number whose `+` is at `text[at]`: 8 to 15 digits, the first not 0,
/// in groups separated by one space, dash, dot or slash, or by `(0)`; not glued to a word
/// or a number before or after.
pub(crate) fn phone_at(text: &[u8], at: usize) -> Option<usize> {
    if at > 0 && (text[at - 1].is_ascii_alphanumeric() || matches!(text[at - 1], b'+' | b'.')) {
        return None;
    }
    let mut i = at + 1;
    if !text.get(i).is_some_and(|b| (b'1'..=b'9').contains(b)) {
        return None;
    }
    let mut digits = 0;
    let mut end = i;
    while i < text.len() {
        let b = text[i];
        if b.is_ascii_digit() {
            digits += 1;
            i += 1;
            end = i;
        } else if matches!(b, b' ' | b'-' | b'.' | b'/')
            && text.get(i + 1).is_some_and(u8::is_ascii_digit)
        {
            i += 1;
        } else if text[i..].starts_with(b"(0)") || text[i..].starts_with(b" (0)") {
            i += if b == b' ' { 4 } else { 3 };
            if text.get(i) == Some(&b' ') {
                i += 1;
            }
        } else {
            break;
        }
    }
    if !(8..=15).contains(&digits) {
        return None;
    }
    match text.get(end) {
        Some(&b) if b.is_ascii_alphanumeric() || b == b'_' => None,
        Some(b'.' | b',') if text.get(end + 1).is_some_and(u8::is_ascii_digit) => None,
        _ => Some(end),
    }
}

/// A whole value in a phone-like place: 7 to 15 digits, and only `+ - . / ( )` and spaces
/// besides.
fn is_bare_phone(t: &[u8]) -> bool {
    let digits = t.iter().filter(|b| b.is_ascii_digit()).count();
    (7..=15).contains(&digits)
        && t.iter().all(|&b| {
            b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'/' | b'(' | b')' | b' ')
        })
}

/// Cards and IBANs: both start at a run of digits (an IBAN's check digits follow its
/// country code), so one pass over the digit runs finds both.
fn digit_runs(text: &[u8], sieve: Sieve, found: &mut dyn FnMut(Kind, Range<usize>)) {
    let mut i = 0;
    while let Some(k) = text[i..].iter().position(u8::is_ascii_digit) {
        let start = i + k;
        let end = if sieve.card {
            match card_at(text, start) {
                Some(end) => {
                    found(Kind::Card, start..end);
                    end
                }
                None => start + 1,
            }
        } else {
            start + 1
        };
        if sieve.iban && start >= 2 {
            if let Some(end) = iban_at(text, start - 2) {
                found(Kind::Iban, start - 2..end);
                i = end;
                continue;
            }
        }
        // Past the rest of this run of digits.
        i = end + count(text, end, |b| b.is_ascii_digit());
    }
}

/// The end of a card number starting at the digit `text[start]`.
pub(crate) fn card_at(text: &[u8], start: usize) -> Option<usize> {
    if start > 0 {
        let b = text[start - 1];
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'+' | b',') {
            return None;
        }
    }
    if !(b'2'..=b'6').contains(&text[start]) {
        return None;
    }
    let mut digits = [0u8; 19];
    let mut n = 0;
    let mut i = start;
    let mut group = 0;
    let mut sep = 0u8;
    let mut end = start;
    while i < text.len() {
        let b = text[i];
        if b.is_ascii_digit() {
            if n == digits.len() {
                return None;
            }
            digits[n] = b - b'0';
            n += 1;
            group += 1;
            i += 1;
            end = i;
        } else if (b == b' ' || b == b'-')
            && (sep == 0 || sep == b)
            && (4..=6).contains(&group)
            && text.get(i + 1).is_some_and(u8::is_ascii_digit)
        {
            sep = b;
            group = 0;
            i += 1;
        } else {
            break;
        }
    }
    if !(13..=19).contains(&n) || digits[..n].iter().all(|&d| d == digits[0]) {
        return None;
    }
    match text.get(end) {
        Some(&b) if b.is_ascii_alphanumeric() || b == b'_' => return None,
        Some(b'.' | b',') if text.get(end + 1).is_some_and(u8::is_ascii_digit) => return None,
        _ => {}
    }
    luhn(&digits[..n]).then_some(end)
}

/// The Luhn check of a card number's digits (0 to 9 each).
pub(crate) fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, &d) in digits.iter().rev().enumerate() {
        let d = u32::from(d);
        sum += if i % 2 == 1 {
            let x = d * 2;
            if x > 9 {
                x - 9
            } else {
                x
            }
        } else {
            d
        };
    }
    sum % 10 == 0
}

/// IBAN lengths by country (ISO 13616 registry, SWIFT release of 2024).
const IBAN_LENGTHS: &[(&[u8; 2], usize)] = &[
    (b"AD", 24),
    (b"AE", 23),
    (b"AL", 28),
    (b"AT", 20),
    (b"AZ", 28),
    (b"BA", 20),
    (b"BE", 16),
    (b"BG", 22),
    (b"BH", 22),
    (b"BI", 27),
    (b"BR", 29),
    (b"BY", 28),
    (b"CH", 21),
    (b"CR", 22),
    (b"CY", 28),
    (b"CZ", 24),
    (b"DE", 22),
    (b"DJ", 27),
    (b"DK", 18),
    (b"DO", 28),
    (b"EE", 20),
    (b"EG", 29),
    (b"ES", 24),
    (b"FI", 18),
    (b"FK", 18),
    (b"FO", 18),
    (b"FR", 27),
    (b"GB", 22),
    (b"GE", 22),
    (b"GI", 23),
    (b"GL", 18),
    (b"GR", 27),
    (b"GT", 28),
    (b"HR", 21),
    (b"HU", 28),
    (b"IE", 22),
    (b"IL", 23),
    (b"IQ", 23),
    (b"IS", 26),
    (b"IT", 27),
    (b"JO", 30),
    (b"KW", 30),
    (b"KZ", 20),
    (b"LB", 28),
    (b"LC", 32),
    (b"LI", 21),
    (b"LT", 20),
    (b"LU", 20),
    (b"LV", 21),
    (b"LY", 25),
    (b"MC", 27),
    (b"MD", 24),
    (b"ME", 22),
    (b"MK", 19),
    (b"MN", 20),
    (b"MR", 27),
    (b"MT", 31),
    (b"MU", 30),
    (b"NI", 28),
    (b"NL", 18),
    (b"NO", 15),
    (b"OM", 23),
    (b"PK", 24),
    (b"PL", 28),
    (b"PS", 29),
    (b"PT", 25),
    (b"QA", 29),
    (b"RO", 24),
    (b"RS", 22),
    (b"RU", 33),
    (b"SA", 24),
    (b"SC", 31),
    (b"SD", 18),
    (b"SE", 24),
    (b"SI", 19),
    (b"SK", 24),
    (b"SM", 27),
    (b"SO", 23),
    (b"ST", 25),
    (b"SV", 28),
    (b"TL", 23),
    (b"TN", 24),
    (b"TR", 26),
    (b"UA", 29),
    (b"VA", 22),
    (b"VG", 24),
    (b"XK", 20),
    (b"YE", 30),
];

/// The end of an IBAN whose country code starts at `text[start]`: the country's length of
/// capital letters and digits, written in one run or in groups of four separated by single
/// spaces, with a mod-97 remainder of 1.
pub(crate) fn iban_at(text: &[u8], start: usize) -> Option<usize> {
    if start > 0 && text[start - 1].is_ascii_alphanumeric() {
        return None;
    }
    let country = text.get(start..start + 2)?;
    let &(_, len) = IBAN_LENGTHS.iter().find(|(c, _)| c[..] == *country)?;
    let mut chars = [0u8; 34];
    let mut n = 0;
    let mut i = start;
    let mut end = start;
    while n < len && i < text.len() {
        let b = text[i];
        if b.is_ascii_uppercase() || b.is_ascii_digit() {
            chars[n] = b;
            n += 1;
            i += 1;
            end = i;
        } else if b == b' ' && n % 4 == 0 && n > 0 {
            i += 1;
        } else {
            break;
        }
    }
    if n != len || !chars[2].is_ascii_digit() || !chars[3].is_ascii_digit() {
        return None;
    }
    if text.get(end).is_some_and(u8::is_ascii_alphanumeric) {
        return None;
    }
    // Rearranged (BBAN, country, check digits), letters as 10..35, remainder by 97.
    let mut rem = 0u32;
    for &c in chars[4..n].iter().chain(&chars[..4]) {
        rem = if c.is_ascii_digit() {
            (rem * 10 + u32::from(c - b'0')) % 97
        } else {
            (rem * 100 + u32::from(c - b'A' + 10)) % 97
        };
    }
    (rem == 1).then_some(end)
}
