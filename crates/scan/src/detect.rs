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

use std::sync::OnceLock;

use aho_corasick::packed::Searcher;
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
        // Called for every key of every parsed value. One look at each byte: only five
        // letters start a word (seven searches of the lower-cased name, one per word, were
        // 350 instructions a key; a lower-cased copy, 100). `b | 0x20` lower-cases a
        // letter and turns no other byte into one of the five.
        let name = &name[..name.len().min(64)];
        let is = |i: usize, w: &[u8]| {
            name.get(i..i + w.len())
                .is_some_and(|x| x.eq_ignore_ascii_case(w))
        };
        let (mut password, mut phone) = (false, false);
        for (i, &b) in name.iter().enumerate() {
            match b | 0x20 {
                b'p' => {
                    password |= is(i, b"pass") || is(i, b"pwd");
                    phone |= is(i, b"phone");
                }
                b'h' => password |= is(i, b"hash"),
                b'm' => phone |= is(i, b"mobile"),
                b'f' => phone |= is(i, b"fax"),
                b't' => phone |= is(i, b"telefon"),
                _ => {}
            }
        }
        let n = name.len();
        Context {
            password,
            phone: phone
                || name.eq_ignore_ascii_case(b"tel")
                || (n >= 4 && is(n - 4, b"_tel"))
                || is(0, b"tel_"),
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
/// (`\0 \' \" \n \r \Z \\`) never stand for `@`, `$`, `+`, `.`, `:`, letters or digits,
/// so what the detectors need is in the escaped bytes too (an escape may add a digit or
/// letter, which only makes the answer more often "maybe").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Sieve {
    /// `@`: an e-mail address may be there.
    pub at: bool,
    /// What an IPv4 address needs: three dots, a digit, `.`, a digit (see [`may_hold_ip`]).
    pub ipv4: bool,
    /// What an IPv6 address needs: `::` or a run with six colons (see [`may_hold_ip`]).
    pub ipv6: bool,
    /// `$`: a password hash.
    pub dollar: bool,
    /// `+`: an international phone number.
    pub plus: bool,
    /// A place a card number or IBAN may start (see [`Candidates`]).
    pub digits: bool,
    /// The value is in a password- or phone-like place, or is structured and names one
    /// (`a:1:{s:8:"password";…}`): the whole-value checks of [`Context`] may apply.
    pub context: bool,
}

impl Sieve {
    pub(crate) fn any(&self) -> bool {
        self.at || self.ipv4 || self.ipv6 || self.dollar || self.plus || self.digits || self.context
    }

    /// Everything may be there (tests: the answer must not change).
    #[cfg(test)]
    pub(crate) const ALL: Sieve = Sieve {
        at: true,
        ipv4: true,
        ipv6: true,
        dollar: true,
        plus: true,
        digits: true,
        context: true,
    };
}

/// No detector finds anything in fewer bytes, in any context: the shortest findings are
/// IPv6 addresses (`::1`; `::` holds no digit), then e-mail addresses (`a@b.cd`), IPv4
/// addresses and phone numbers (seven digits in a phone-like place). A test tries every
/// shorter text.
pub(crate) const MIN_FINDING: usize = 3;

/// Key names that give context inside serialized PHP and JSON (see [`Context::of_name`]).
const CONTEXT_WORDS: &[&[u8]] = &[
    b"pass", b"pwd", b"hash", b"phone", b"mobile", b"fax", b"tel",
];

/// Whether an IPv4 and an IPv6 address may be in `bytes` (escaped or not), whose digits,
/// dots and colons are counted in `n`: a digit, `.`, a digit in a run of digits and dots
/// with three dots; `::`, or a run of hex digits, colons and dots with six colons.
///
/// The counts come first (from the pass that counts digits anyway): an IPv4 address is a
/// run of digits and dots with three dots, and an IPv6 address that [`find::find_ipv6`]
/// takes parses as one, so the run of hex digits, colons and dots it is cut from holds `::`
/// or at least six colons (six groups and an IPv4 tail, or eight groups). That rules out
/// dates and times (`2024-01-02 10:11:12`), versions (`6.4.3`), URLs, prose and serialized
/// PHP (`a:5:{s:4:"file";…`, whose runs hold two colons) without asking the finders, and
/// `find_ipv6` tries to parse every run with two colons and a digit. IPv4 and IPv6 are
/// answered apart, so a value with an IPv4 address is not searched for IPv6 ones.
///
/// Stricter than the scrub's prefilter ([`find::may_hold_address`]), which takes every
/// serialized array (`a:2:{`) for a possible IPv6 address: the scrub only looks at values
/// it masks, a scan at every value. A packed search for a dot and a digit passes by the
/// dots of prose.
pub(crate) fn may_hold_ip(bytes: &[u8], n: ByteCounts) -> (bool, bool) {
    (may_hold_ipv4(bytes, n), may_hold_ipv6(bytes, n))
}

/// The run of bytes `is_run_byte` takes around `bytes[at]`, and how many `mark`s it holds.
fn run_around(
    bytes: &[u8],
    at: usize,
    is_run_byte: impl Fn(u8) -> bool,
    mark: u8,
) -> (Range<usize>, usize) {
    let mut start = at;
    while start > 0 && is_run_byte(bytes[start - 1]) {
        start -= 1;
    }
    let mut end = at;
    while end < bytes.len() && is_run_byte(bytes[end]) {
        end += 1;
    }
    let marks = bytes[start..end].iter().filter(|&&b| b == mark).count();
    (start..end, marks)
}

fn may_hold_ipv6(bytes: &[u8], n: ByteCounts) -> bool {
    // A searcher built once (`memmem::find` builds one per call: 400 instructions).
    static PAIR: OnceLock<memchr::memmem::Finder<'static>> = OnceLock::new();
    let pair = PAIR.get_or_init(|| memchr::memmem::Finder::new(b"::"));
    if n.colons >= 2 && pair.find(bytes).is_some() {
        return true;
    }
    if n.colons < 6 {
        return false;
    }
    let is_run_byte = |b: u8| b.is_ascii_hexdigit() || b == b':' || b == b'.';
    // Each run once: the colons of a run already counted are passed by.
    let mut run_end = 0;
    for colon in memchr_iter(b':', bytes) {
        if colon < run_end {
            continue;
        }
        let (run, colons) = run_around(bytes, colon, is_run_byte, b':');
        if colons >= 6 {
            return true;
        }
        run_end = run.end;
    }
    false
}

fn may_hold_ipv4(bytes: &[u8], n: ByteCounts) -> bool {
    static DOTS: OnceLock<Option<Searcher>> = OnceLock::new();
    if n.dots < 3 {
        return false;
    }
    // A digit, `.`, a digit, in a run of digits and dots with three dots.
    let address = |i: usize| {
        i > 0
            && bytes[i - 1].is_ascii_digit()
            && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
            && run_around(bytes, i, |b| b.is_ascii_digit() || b == b'.', b'.').1 >= 3
    };
    let dots = DOTS.get_or_init(|| Searcher::new((b'0'..=b'9').map(|d| [b'.', d])));
    let Some(dots) = dots else {
        return memchr_iter(b'.', bytes).any(address);
    };
    let mut from = 0;
    while let Some(m) = bytes.get(from..).and_then(|rest| dots.find(rest)) {
        let i = from + m.start();
        if address(i) {
            return true;
        }
        from = i + 1;
    }
    false
}

/// Whether `bytes` hold one of [`CONTEXT_WORDS`] in lower case, capitalized or upper case:
/// one packed search. (A case-insensitive automaton is not a packed search, and cost a
/// fifth of a scan's time.)
fn names_context(bytes: &[u8]) -> bool {
    static WORDS: OnceLock<Option<Searcher>> = OnceLock::new();
    let words = WORDS.get_or_init(|| {
        let mut variants = Vec::new();
        for w in CONTEXT_WORDS {
            let mut cap = w.to_vec();
            cap[0].make_ascii_uppercase();
            variants.extend([w.to_vec(), cap, w.to_ascii_uppercase()]);
        }
        Searcher::new(variants)
    });
    match words {
        Some(w) => w.find(bytes).is_some(),
        // No packed search on this CPU: ask each word.
        None => {
            let lower = bytes.to_ascii_lowercase();
            CONTEXT_WORDS
                .iter()
                .any(|w| memchr::memmem::find(&lower, w).is_some())
        }
    }
}

/// The sieve over a value's bytes, for a value in `ctx`.
///
/// A `memchr3` for `@ $ +` and one vectorized pass that counts digits, dots and colons;
/// then only what the counts allow: the IP address tests of [`may_hold_ip`], the 64-byte
/// block masks of [`Candidates`] for cards and IBANs (twelve digits), and, for values that
/// may be serialized PHP or JSON, a search for key names that give context. No per-byte
/// loop with branches: that was 40 % of a scan's time.
pub(crate) fn sieve(bytes: &[u8], ctx: Context) -> Sieve {
    // One pass finds whether any of the three is there; only then one per byte.
    let (mut at, mut dollar, mut plus) = (false, false, false);
    if memchr::memchr3(b'@', b'$', b'+', bytes).is_some() {
        at = memchr::memchr(b'@', bytes).is_some();
        dollar = memchr::memchr(b'$', bytes).is_some();
        plus = memchr::memchr(b'+', bytes).is_some();
    }
    // A card has 13 digits, an IBAN at least 12 (its check digits and an account number):
    // counting them is one vectorized pass, far cheaper than finding where they are.
    let counts = count_bytes(bytes);
    let digit_count = counts.digits;
    // Inside a structured value, a key's context matters only for what the whole-value
    // checks take: a phone number (7 digits), a hex digest (digits, in all but a 2^-32
    // chance) or crypt's shape (`$`).
    let structured = matches!(bytes.first(), Some(b'a' | b'O' | b'{' | b'['));
    let context = ctx.password
        || ctx.phone
        || (structured && (digit_count >= 7 || dollar) && names_context(bytes));
    if structured && context {
        // Such a value is walked, and each of its strings sieved on its own: the rest of
        // the answer matters only if it does not parse, and "maybe" is always right.
        // (The Elementor documents of a WordPress dump, a quarter of its bytes, are here.)
        return Sieve {
            at,
            ipv4: true,
            ipv6: true,
            dollar,
            plus,
            digits: true,
            context,
        };
    }
    let (ipv4, ipv6) = may_hold_ip(bytes, counts);
    let mut digits = false;
    Candidates::new(if digit_count >= 12 { bytes } else { b"" }).run(&mut |c| {
        digits = match c {
            Candidate::Digits(at) => separated_digits(bytes, at).1 >= 13,
            Candidate::Iban(_) => true,
        };
        !digits
    });
    Sieve {
        at,
        ipv4,
        ipv6,
        dollar,
        plus,
        digits,
        context,
    }
}

/// How many digits, dots and colons a value holds.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ByteCounts {
    pub digits: usize,
    pub dots: usize,
    pub colons: usize,
}

/// Counts the ASCII digits, dots and colons of `bytes` in one pass. Counted per 255 bytes in
/// `u8`s, so the compiler adds sixteen or thirty-two bytes per instruction (a `usize` count
/// adds two).
pub(crate) fn count_bytes(bytes: &[u8]) -> ByteCounts {
    let mut n = ByteCounts::default();
    for chunk in bytes.chunks(255) {
        let (mut digits, mut dots, mut colons) = (0u8, 0u8, 0u8);
        for &b in chunk {
            digits += u8::from(b.wrapping_sub(b'0') < 10);
            dots += u8::from(b == b'.');
            colons += u8::from(b == b':');
        }
        n.digits += usize::from(digits);
        n.dots += usize::from(dots);
        n.colons += usize::from(colons);
    }
    n
}

/// Where a card number or an IBAN may start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Candidate {
    /// The first of four or more digits in a row (every card number's first group).
    Digits(usize),
    /// Two capital letters and two digits (an IBAN's country code and check digits).
    Iban(usize),
}

/// Finds [`Candidate`]s with bit masks over 64-byte blocks: one mask of digits and one of
/// capital letters per block (a loop the compiler turns into vector compares), then
/// shifts and ANDs find four digits in a row, or two capitals and two digits, at any bit.
/// Only there does byte-by-byte work start. Dates (`2024-01-02`), years in URLs and IDs
/// are candidates; the callers' checks drop them quickly.
pub(crate) struct Candidates<'t> {
    text: &'t [u8],
}

impl<'t> Candidates<'t> {
    pub(crate) fn new(text: &'t [u8]) -> Candidates<'t> {
        Candidates { text }
    }

    /// Calls `f` with each candidate, left to right; stops when `f` returns `false`.
    pub(crate) fn run(&self, f: &mut dyn FnMut(Candidate) -> bool) {
        let blocks = self.text.len().div_ceil(64);
        if blocks == 0 {
            return;
        }
        // The masks of the block being looked at and of the one after it (positions near
        // a block's end need the next block's first bits), and the digit bit just before
        // the block (a run starts where the byte before is no digit).
        let (mut d, mut u) = block_masks(&self.text[..self.text.len().min(64)]);
        let mut before = 0u128;
        for k in 0..blocks {
            let (nd, nu) = if k + 1 < blocks {
                let next = &self.text[(k + 1) * 64..self.text.len().min((k + 2) * 64)];
                block_masks(next)
            } else {
                (0, 0)
            };
            let wd = u128::from(d) | u128::from(nd) << 64;
            let wu = u128::from(u) | u128::from(nu) << 64;
            let starts = (wd & wd >> 1 & wd >> 2 & wd >> 3) & !(wd << 1 | before);
            let ibans = wu & wu >> 1 & wd >> 2 & wd >> 3;
            let (mut starts, mut ibans) = (starts as u64, ibans as u64);
            while starts | ibans != 0 {
                // Left to right across both kinds.
                let (s, i) = (starts.trailing_zeros(), ibans.trailing_zeros());
                let c = if i < s {
                    ibans &= ibans - 1;
                    Candidate::Iban(k * 64 + i as usize)
                } else {
                    starts &= starts - 1;
                    Candidate::Digits(k * 64 + s as usize)
                };
                if !f(c) {
                    return;
                }
            }
            before = u128::from(d >> 63);
            (d, u) = (nd, nu);
        }
    }
}

/// Bit `i` set where `block[i]` is a digit, and where it is a capital letter.
///
/// SWAR, eight bytes per `u64`: adding `0x80 - lo` sets a byte's high bit when the byte is at
/// least `lo` (no carry crosses bytes below 0x80, and bytes from 0x80 up are masked out), so
/// "at least `lo` and not at least `hi + 1`" is a range test of eight bytes in a few
/// instructions; a multiplication gathers the eight high bits into one byte. The obvious
/// loop of per-byte compares does not vectorize well and cost most of a scan's time.
#[inline]
fn block_masks(block: &[u8]) -> (u64, u64) {
    // Only the words that hold bytes of the block: a short value (a date) is one block of
    // two or three words, not eight. A whole block keeps its loops of eight, unrolled.
    if block.len() == 64 {
        // Most blocks of prose hold no digit: one vectorized look says so for a tenth of
        // the masks' cost, and then only the last word's capitals can matter (before the
        // next block's digits), as in `word_masks`.
        let any_digit = block
            .iter()
            .fold(0u8, |n, &b| n | u8::from(b.wrapping_sub(b'0') < 10));
        if any_digit == 0 {
            return (0, gather(in_range(word(block, 7), b'A', b'Z')) << 56);
        }
        return word_masks::<8>(block);
    }
    let mut padded = [0u8; 64];
    padded[..block.len()].copy_from_slice(block);
    match block.len().div_ceil(8) {
        1 => word_masks::<1>(&padded),
        2 => word_masks::<2>(&padded),
        3 => word_masks::<3>(&padded),
        4 => word_masks::<4>(&padded),
        _ => word_masks::<8>(&padded),
    }
}

/// The high bit of each byte.
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `x` that is in `lo..=hi` (both below 0x80): adding
/// `0x80 - lo` sets a byte's high bit when the byte is at least `lo` (see [`block_masks`]).
#[inline]
fn in_range(x: u64, lo: u8, hi: u8) -> u64 {
    const fn add(lo: u8) -> u64 {
        (0x80 - lo as u64) * 0x0101_0101_0101_0101
    }
    x.wrapping_add(add(lo)) & !x.wrapping_add(add(hi + 1)) & !x & HIGH
}

/// The eight high bits of `high_bits` as the low eight bits, in byte order.
#[inline]
fn gather(high_bits: u64) -> u64 {
    ((high_bits >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56
}

/// Word `w` of `block` (eight bytes).
#[inline]
fn word(block: &[u8], w: usize) -> u64 {
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&block[w * 8..w * 8 + 8]);
    u64::from_le_bytes(bytes)
}

/// [`block_masks`] of the first `N` words of `block` (the rest are zeros).
#[inline]
fn word_masks<const N: usize>(block: &[u8]) -> (u64, u64) {
    let mut words = [0u64; 8];
    let mut digit_words = [0u64; 9];
    let mut digits = 0u64;
    for w in 0..N {
        let x = word(block, w);
        let d = in_range(x, b'0', b'9');
        words[w] = x;
        digit_words[w] = d;
        digits |= gather(d) << (8 * w);
    }
    // Capitals matter only right before digits: in a word with digits or before one (and
    // in the last word, before the next block). Most words of prose have none.
    let mut upper = 0u64;
    for w in 0..N {
        if digit_words[w] != 0 || w == 7 || digit_words[w + 1] != 0 {
            upper |= gather(in_range(words[w], b'A', b'Z')) << (8 * w);
        }
    }
    (digits, upper)
}

/// From the digit at `at`: the end of the run of digits with single spaces or dashes
/// between them, and how many digits it holds.
fn separated_digits(text: &[u8], at: usize) -> (usize, usize) {
    let (mut i, mut end, mut n) = (at, at, 0);
    while i < text.len() {
        if text[i].is_ascii_digit() {
            n += 1;
            i += 1;
            end = i;
        } else if matches!(text[i], b' ' | b'-') && text.get(i + 1).is_some_and(u8::is_ascii_digit)
        {
            i += 1;
        } else {
            break;
        }
    }
    (end, n)
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
    if sieve.at {
        let mut at = 0;
        while let Some(r) = find::find_email(text, at) {
            at = r.end;
            if !is_file_name(&text[r.clone()]) {
                found(Kind::Email, r);
            }
        }
    }
    // IPv6 first: an IPv4-mapped address (`::ffff:192.0.2.1`) is one address, and its
    // IPv4 tail is not counted again. Where the sieve rules IPv6 out, `find_ipv6` would
    // find none: the list stays empty either way.
    let mut v6 = Vec::new();
    if sieve.ipv6 {
        let mut at = 0;
        while let Some(r) = find::find_ipv6(text, at) {
            at = r.end;
            v6.push(r.clone());
            found(Kind::Ipv6, r);
        }
    }
    if sieve.ipv4 {
        let mut at = 0;
        while let Some(r) = find::find_ipv4(text, at) {
            at = r.end;
            let mapped = v6.iter().any(|m| m.start <= r.start && r.end <= m.end);
            if !mapped && !follows_product_token(text, r.start) {
                found(Kind::Ipv4, r);
            }
        }
    }
    if sieve.dollar {
        for dollar in memchr_iter(b'$', text) {
            if let Some(end) = crypt_hash_at(text, dollar) {
                found(Kind::PasswordHash, dollar..end);
            }
        }
    }
    if sieve.plus {
        for plus in memchr_iter(b'+', text) {
            if let Some(end) = phone_at(text, plus) {
                found(Kind::Phone, plus..end);
            }
        }
    }
    if sieve.digits {
        digit_runs(text, found);
    }
    if ctx.password {
        let t = text.trim_ascii();
        let whole_hash = is_hex_digest(t) || (is_crypt_like(t) && crypt_hash_at(t, 0).is_none());
        if whole_hash {
            let start = t.as_ptr() as usize - text.as_ptr() as usize;
            found(Kind::PasswordHash, start..start + t.len());
        }
    }
    if ctx.phone {
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

/// Cards and IBANs, from their [`Candidate`]s. A card's later groups are candidates too;
/// they are skipped (a number is checked from its first digit only, so a tail of it is
/// never taken for a card of its own).
fn digit_runs(text: &[u8], found: &mut dyn FnMut(Kind, Range<usize>)) {
    let mut done = 0;
    Candidates::new(text).run(&mut |c| {
        match c {
            Candidate::Digits(at) if at >= done => {
                done = separated_digits(text, at).0;
                if let Some(end) = card_at(text, at) {
                    found(Kind::Card, at..end);
                }
            }
            Candidate::Iban(at) if at >= done => {
                if let Some(end) = iban_at(text, at) {
                    found(Kind::Iban, at..end);
                    done = end;
                }
            }
            _ => {}
        }
        true
    });
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
    sum.is_multiple_of(10)
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every finding of `kind` in `text` (plain context), through the sieve as a scan runs
    /// it, and with a sieve that lets everything through: both must agree.
    fn finds_in(text: &str, ctx: Context, kind: Kind) -> Vec<String> {
        let run = |s: Sieve| {
            let mut out = Vec::new();
            find_all(text.as_bytes(), ctx, s, &mut |k, r| {
                if k == kind {
                    out.push(text[r].to_owned());
                }
            });
            out
        };
        let sieved = run(sieve(text.as_bytes(), ctx));
        assert_eq!(
            sieved,
            run(Sieve::ALL),
            "the sieve hides a finding in {text:?}"
        );
        sieved
    }

    fn finds(text: &str, kind: Kind) -> Vec<String> {
        finds_in(text, Context::default(), kind)
    }

    /// mysqldump's escaping of a string's content.
    fn sql_escaped(text: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        understudy_sqldump::literal::escape_into(text, &mut out);
        out
    }

    #[test]
    fn cards_pass_luhn_and_look_like_cards() {
        let yes = [
            "4111111111111111",
            "4111 1111 1111 1111",
            "5500-0000-0000-0004",
            "3782 822463 10005",
            "card: 6011000990139424.",
            "(4012888888881881)",
        ];
        for t in yes {
            assert_eq!(finds(t, Kind::Card).len(), 1, "{t}");
        }
        let no = [
            "4111111111111112",           // Luhn fails
            "1700000000000000",           // a timestamp in microseconds
            "0000000000000000",           // first digit, and one digit repeated
            "4444444444444444",           // one digit repeated
            "41111111111111111111",       // 20 digits
            "x4111111111111111",          // glued to a word
            "4111111111111111.5",         // a decimal
            "1 2 3 4 5 6 7 8 9 10 11 12", // a list of numbers
            "4111 1111-1111 1111",        // mixed separators
            "41 11 11 11 11 11 11 11",    // not card groups
            "v4111111111111111",
        ];
        for t in no {
            assert!(finds(t, Kind::Card).is_empty(), "{t}");
        }
        assert!(luhn(&[7, 9, 9, 2, 7, 3, 9, 8, 7, 1, 3]));
        assert!(!luhn(&[7, 9, 9, 2, 7, 3, 9, 8, 7, 1, 4]));
    }

    #[test]
    fn ibans_pass_mod_97() {
        let yes = [
            "DE89370400440532013000",
            "DE89 3704 0044 0532 0130 00",
            "GB82 WEST 1234 5698 7654 32",
            "IBAN: NL91ABNA0417164300.",
            "FR1420041010050500013M02606",
            "a:1:{s:4:\"iban\";s:22:\"DE89370400440532013000\";}",
        ];
        for t in yes {
            assert_eq!(finds(t, Kind::Iban).len(), 1, "{t}");
        }
        let no = [
            "DE89370400440532013001",  // check digits wrong
            "DE8937040044053201300",   // too short for DE
            "DE893704004405320130000", // too long for DE
            "XX89370400440532013000",  // not an IBAN country
            "ADE89370400440532013000", // glued to a letter
            "de89370400440532013000",  // not capitals
        ];
        for t in no {
            assert!(finds(t, Kind::Iban).is_empty(), "{t}");
        }
    }

    #[test]
    fn ipv4_is_four_octets_not_a_version() {
        let yes = [
            "192.0.2.55",
            "from 10.0.0.1, to 255.255.255.255.",
            "s:11:\"192.0.2.200\";",
            "http://203.0.113.9/admin",
            "X-Forwarded-For: 198.51.100.7",
        ];
        for t in yes {
            assert_eq!(
                finds(t, Kind::Ipv4).len(),
                1 + usize::from(t.contains("to 255")),
                "{t}"
            );
        }
        let no = [
            "10.11.19",
            "6.1.1",
            "mariadb 10.11.19-MariaDB",
            "1.2.3.4.5",
            "version 5.0.1",
            "256.1.1.1",
            "1.2.3.04",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0.0.0 Safari/537.36",
            "i:1;d:0.5;s:5:\"6.4.3\";",
            "2024-01-02 10:11:12",
            "3.14159",
            "v1.2.3.4",
        ];
        for t in no {
            assert!(finds(t, Kind::Ipv4).is_empty(), "{t}");
        }
    }

    #[test]
    fn ipv6_forms() {
        let yes = [
            "::1",
            "2001:db8::42",
            "fe80::1ff:fe23:4567:890a",
            "2001:0db8:0000:0000:0000:ff00:0042:8329",
            "[2001:db8:0:0:1:0:0:1]:443",
            "::ffff:192.0.2.1",
            "0:0:0:0:0:ffff:192.0.2.1",
            "2001:db8:0:0:1:0:0:1",
        ];
        for t in yes {
            assert_eq!(finds(t, Kind::Ipv6).len(), 1, "{t}");
        }
        assert!(
            finds("::ffff:192.0.2.1", Kind::Ipv4).is_empty(),
            "counted once"
        );
        let no = [
            "12:30:00",
            "2024-01-02T10:11:12+02:00",
            "std::vector",
            "a:2:{i:0;",
            "::",
            "00:1a:2b:3c:4d:5e",
        ];
        for t in no {
            assert!(finds(t, Kind::Ipv6).is_empty(), "{t}");
        }
    }

    #[test]
    fn password_hashes() {
        let yes = [
            "$2y$10$bI2r3QwrE1pohQzE2a9gKOGpNGYWJMqAQF/FJQbFU6WQsB3x.Ywqe",
            "$2a$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
            "$2b$04$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui",
            "$wp$2y$10$bI2r3QwrE1pohQzE2a9gKOGpNGYWJMqAQF/FJQbFU6WQsB3x.Ywqe",
            "$P$BvN5zUFy9Dl3nJ9fqnk6yxBXsAhl9h.",
            "$H$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0",
            "$S$DnUt2dHdp6Dl.E.VuTIF1UE6mkyflzBmwJ9vM6kQsk1yWlAg3XlR",
            "$argon2id$v=19$m=65536,t=4,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
            "$argon2i$v=19$m=65536,t=4,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
            "$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/",
            "$1$saltsalt$qjXMvbEw8oaL.CzflDugX/",
            "1704067300:$P$BvN5zUFy9Dl3nJ9fqnk6yxBXsAhl9h.",
            "a:1:{s:4:\"pass\";s:34:\"$P$BvN5zUFy9Dl3nJ9fqnk6yxBXsAhl9h.\";}",
        ];
        for t in yes {
            assert_eq!(finds(t, Kind::PasswordHash).len(), 1, "{t}");
        }
        let no = [
            "$P$BvN5zUFy9Dl3nJ9fqnk6yxBXsAhl9h.x", // too long
            "$2y$10$tooshort",
            "price: $20 and $2y",
            "x$P$BvN5zUFy9Dl3nJ9fqnk6yxBXsAhl9h.",
            "$argon2id$v=19$m=65536",
        ];
        for t in no {
            assert!(finds(t, Kind::PasswordHash).is_empty(), "{t}");
        }
    }

    #[test]
    fn hex_digests_count_only_in_password_places() {
        let md5 = "5f4dcc3b5aa765d61d8327deb882cf99";
        let sha1 = "5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8";
        let pass = Context::of_name(b"user_pass");
        assert!(pass.password);
        assert_eq!(finds_in(md5, pass, Kind::PasswordHash), [md5]);
        assert_eq!(finds_in(sha1, pass, Kind::PasswordHash), [sha1]);
        // A file's checksum, a cache key: the same hex elsewhere.
        let other = Context::of_name(b"meta_value");
        assert!(finds_in(md5, other, Kind::PasswordHash).is_empty());
        assert!(finds_in(sha1, other, Kind::PasswordHash).is_empty());
        // Not a whole value, not a digest length, one digit repeated.
        assert!(finds_in(&format!("md5 {md5} of the file"), pass, Kind::PasswordHash).is_empty());
        assert!(finds_in(&md5[..31], pass, Kind::PasswordHash).is_empty());
        assert!(finds_in(&"0".repeat(32), pass, Kind::PasswordHash).is_empty());
        // A made-up phpass string of the wrong length still counts where a password is.
        let odd = "$P$B908bca522e90eb32ad1c1cc017e109/.";
        assert!(finds(odd, Kind::PasswordHash).is_empty());
        assert_eq!(finds_in(odd, pass, Kind::PasswordHash), [odd]);
    }

    #[test]
    fn phones_are_international_or_in_phone_places() {
        let yes = [
            "+49 30 1234567",
            "+1-202-555-0143",
            "Tel. +49 (0)30 123 456 78",
            "+4930123456",
            "s:5:\"phone\";s:14:\"+49 30 1234567\";",
        ];
        for t in yes {
            assert_eq!(finds(t, Kind::Phone).len(), 1, "{t}");
        }
        let no = [
            "+0000",
            "2024-01-02T10:11:12+02:00",
            "1.5e+10",
            "a+1234567890",
            "+123",
            "+1234567890123456789",
            "030 1234567",
        ];
        for t in no {
            assert!(finds(t, Kind::Phone).is_empty(), "{t}");
        }
        let phone = Context::of_name(b"billing_phone");
        assert!(phone.phone && !Context::of_name(b"hotel").phone);
        assert_eq!(finds_in("030 1234567", phone, Kind::Phone), ["030 1234567"]);
        assert_eq!(finds_in("(030) 123-4567", phone, Kind::Phone).len(), 1);
        assert!(finds_in("12345", phone, Kind::Phone).is_empty());
        assert!(finds_in("call 030 1234567", phone, Kind::Phone).is_empty());
    }

    #[test]
    fn emails_but_not_image_names() {
        assert_eq!(finds("anna@example.org", Kind::Email), ["anna@example.org"]);
        assert!(finds("logo@2x.png and icon@3x.webp", Kind::Email).is_empty());
        assert_eq!(
            finds("it\\'s o'neil@example.co.uk", Kind::Email),
            ["o'neil@example.co.uk"]
        );
    }

    #[test]
    fn nothing_is_found_in_fewer_than_min_finding_bytes() {
        assert_eq!(finds("::1", Kind::Ipv6), ["::1"]);
        let contexts = [
            Context::default(),
            Context::of_name(b"password"),
            Context::of_name(b"phone"),
        ];
        let mut texts = vec![vec![]];
        for a in 0..=255u8 {
            texts.push(vec![a]);
            for b in 0..=255u8 {
                texts.push(vec![a, b]);
            }
        }
        assert!(texts.iter().all(|t| t.len() < MIN_FINDING));
        for t in &texts {
            for ctx in contexts {
                find_all(t, ctx, Sieve::ALL, &mut |k, r| {
                    panic!("{k:?} at {r:?} in {t:?}");
                });
            }
        }
    }

    #[test]
    fn context_of_name_matches_a_search_per_word() {
        let naive = |name: &[u8]| {
            let lower = name[..name.len().min(64)].to_ascii_lowercase();
            let has = |w: &[u8]| lower.windows(w.len()).any(|x| x == w);
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
        };
        let words = [
            "", "pass", "PWD", "hash", "phone", "mobile", "fax", "telefon", "tel", "_tel", "tel_",
            "x", "Pa", "ss", "telefo", "p", "mob", "HASH", "_", "hotel",
        ];
        for a in words {
            for b in words {
                for c in ["", "tel", "x_", "n"] {
                    let name = format!("{a}{b}{c}");
                    assert_eq!(
                        Context::of_name(name.as_bytes()),
                        naive(name.as_bytes()),
                        "{name}"
                    );
                }
            }
        }
        let long = format!("{}pass", "x".repeat(62));
        assert_eq!(Context::of_name(long.as_bytes()), naive(long.as_bytes()));
    }

    #[test]
    fn block_masks_match_a_byte_by_byte_look() {
        let bytes: Vec<u8> = (0..=255u8)
            .chain(b"0123456789AZaz@/:[`".iter().copied())
            .collect();
        for start in 0..bytes.len() {
            let block = &bytes[start..bytes.len().min(start + 64)];
            let (d, u) = block_masks(block);
            for (i, b) in block.iter().enumerate() {
                assert_eq!(d >> i & 1 == 1, b.is_ascii_digit(), "{b:#x}");
                // Capitals are marked where they can begin an IBAN: before digits.
                let before_digits = block[i + 1..].iter().take(2).any(u8::is_ascii_digit);
                if u >> i & 1 == 1 {
                    assert!(b.is_ascii_uppercase(), "{b:#x}");
                } else {
                    assert!(!(b.is_ascii_uppercase() && before_digits), "{b:#x}");
                }
            }
            if block.len() < 64 {
                assert_eq!(d >> block.len(), 0);
            }
        }
    }

    #[test]
    fn the_sieve_says_no_to_what_holds_nothing() {
        let plain = Context::default();
        for t in [
            "<p>Hello world, it is 5 pm.</p>",
            "a:2:{i:0;s:3:\"abc\";i:1;b:1;}",
            "2024-01-02",
            "https://www.example.com/wp-content/uploads/2024/01/photo.jpg",
            "5f4dcc3b5aa765d61d8327deb882cf99",
        ] {
            assert!(!sieve(t.as_bytes(), plain).any(), "{t}");
        }
        assert!(
            sieve(
                b"5f4dcc3b5aa765d61d8327deb882cf99",
                Context::of_name(b"pass")
            )
            .context
        );
        let md5 = b"a:1:{s:8:\"password\";s:32:\"5f4dcc3b5aa765d61d8327deb882cf99\";}";
        assert!(sieve(md5, plain).context);
        // A key that gives context, but nothing a whole-value check could take.
        assert!(!sieve(b"a:1:{s:8:\"password\";s:1:\"x\";}", plain).context);
        assert!(sieve(b"DE89370400440532013000", plain).digits);
        assert!(
            !sieve(b"DE89", plain).digits,
            "too few digits for a card or an IBAN"
        );
        assert!(sieve(b"4111 1111 1111 1111", plain).digits);
        // Candidates across a block boundary, and a run split by one.
        let mut long = "x".repeat(62);
        long.push_str("4111111111111111");
        assert_eq!(finds(&long, Kind::Card).len(), 0, "glued to a letter");
        let mut long = " ".repeat(61);
        long.push_str("4111111111111111 DE89370400440532013000");
        assert_eq!(finds(&long, Kind::Card).len(), 1);
        assert_eq!(finds(&long, Kind::Iban).len(), 1);
    }

    fn filler() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop::sample::select(vec![
                " ", "x", "é", "\n", "'", "\"", "\\", ";", ":", "s:5:", "{", "}", "9", ".", "-",
                "1.2", "ab", "Z", "/", ",",
            ]),
            0..12,
        )
        .prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// An address planted between separators in any text is found, as it is and in the
        /// SQL-escaped bytes the sieve reads.
        #[test]
        fn a_planted_email_is_always_found(
            before in filler(),
            after in filler(),
            local in "[a-z][a-z0-9._+-]{0,10}[a-z0-9]",
            domain in "[a-z][a-z0-9-]{0,8}[a-z0-9]\\.(org|com|de|co\\.uk)",
        ) {
            let email = format!("{local}@{domain}");
            prop_assume!(!local.contains(".."));
            let text = format!("{before} {email} {after}");
            prop_assert!(sieve(&sql_escaped(text.as_bytes()), Context::default()).at);
            let found = finds(&text, Kind::Email);
            prop_assert!(found.contains(&email), "{:?} in {:?}", found, text);
        }

        /// Whatever the scrub's finders take for an IP address, the sieve lets through.
        #[test]
        fn the_sieve_passes_every_ip_address(text in "[0-9a-fA-F:. x/]{0,40}") {
            let b = text.as_bytes();
            let found = find::find_ipv4(b, 0).is_some() || find::find_ipv6(b, 0).is_some();
            prop_assert!(!found || sieve(b, Context::default()).ipv4 || sieve(b, Context::default()).ipv6, "{:?}", text);
        }

        /// A dotted version is never an IPv4 address when it has fewer than four parts or a
        /// part above 255.
        #[test]
        fn a_version_is_never_an_ipv4(
            parts in prop::collection::vec(0u32..100_000, 1..7),
            before in filler(),
            after in filler(),
        ) {
            prop_assume!(parts.len() != 4 || parts.iter().any(|&p| p > 255));
            let version = parts.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(".");
            let text = format!("{before} {version} {after}");
            let span = before.len() + 1..before.len() + 1 + version.len();
            let mut found = Vec::new();
            find_all(text.as_bytes(), Context::default(), sieve(text.as_bytes(), Context::default()), &mut |k, r| {
                if k == Kind::Ipv4 {
                    found.push(r);
                }
            });
            for r in found {
                // What is found comes from the filler, never from the version.
                prop_assert!(r.end <= span.start || r.start >= span.end, "{:?} in {:?}", r, text);
            }
        }

        /// A Luhn-valid number is found as a card; changing one digit makes it invalid.
        #[test]
        fn luhn_valid_numbers_are_cards(
            first in 2u8..=6,
            body in prop::collection::vec(0u8..=9, 11..17),
            flip in 0usize..17,
        ) {
            let mut digits = vec![first];
            digits.extend(&body);
            // The check digit that makes the number pass.
            let check = (0..=9).find(|&c| { let mut d = digits.clone(); d.push(c); luhn(&d) }).unwrap();
            digits.push(check);
            prop_assume!(digits.iter().any(|&d| d != digits[0]));
            let number: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
            prop_assert_eq!(finds(&format!("cc {number} ok"), Kind::Card), vec![number.clone()]);
            let i = 1 + flip % (digits.len() - 1);
            let mut wrong = digits.clone();
            wrong[i] = (wrong[i] + 1) % 10;
            prop_assert!(!luhn(&wrong));
        }
    }
}
