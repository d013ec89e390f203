//! `strategy = "scrub"`: personal data inside free text. The text is kept; each e-mail
//! address, IPv4 and IPv6 address found in it is replaced by a fake of the same kind, derived
//! from the address the way `fake` derives it (see [`crate::mask`]), so an address scrubbed
//! out of a blog post becomes the same fake as in the users table's `fake = "email"` column.
//!
//! The finders are in [`crate::find`], shared with the scanner that reports what a copy still
//! holds: they run over every byte of every scrubbed value (post bodies are the bulk of a
//! dump), so they are hand-written scanners that start from a `memchr`, not regexes.

use std::ops::Range;
use std::sync::OnceLock;

use aho_corasick::packed::Searcher;

use memchr::memchr;
use rand::{RngExt, SeedableRng};

use crate::find::{find_email, find_ipv4, find_ipv6};
use crate::mask::{fake_value, Fake, FakeKind, Key};

/// What a scrub looks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Finds {
    pub email: bool,
    pub ipv4: bool,
    pub ipv6: bool,
}

impl Finds {
    /// Whether an address these finds look for may be in the text that `bytes` hold, as
    /// they are or escaped the way mysqldump escapes (each escape a backslash and one of
    /// `0 ' " n r Z \`): `false` means a scrub finds nothing, so a caller can skip decoding
    /// the text. Looks for the bytes any address must hold, whatever is around them: `@`; a
    /// digit, `.` and a digit; `::`, or a hex digit, `:`, one to four hex digits and `:` (an
    /// IPv6 address without `::` has eight groups). Such escapes never stand for these
    /// bytes, so every address in the decoded text is in the escaped text as it is.
    pub(crate) fn may_occur(&self, bytes: &[u8]) -> bool {
        self.may_occur_with(bytes, self.pairs())
    }

    /// [`Finds::may_occur`], looking for the `.` and `:` of addresses with `pairs` if given,
    /// else at every `.` and `:`.
    fn may_occur_with(&self, bytes: &[u8], pairs: Option<[&Searcher; 2]>) -> bool {
        let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
        let ipv4 = |i: usize| i > 0 && at(i - 1).is_ascii_digit() && at(i + 1).is_ascii_digit();
        let ipv6 = |i: usize| {
            let hex = (i + 1..bytes.len().min(i + 5))
                .take_while(|&j| bytes[j].is_ascii_hexdigit())
                .count();
            at(i + 1) == b':'
                || (i > 0 && at(i - 1).is_ascii_hexdigit() && hex > 0 && at(i + 1 + hex) == b':')
        };
        if self.email && memchr(b'@', bytes).is_some() {
            return true;
        }
        let Some([dots, colons]) = pairs else {
            return (self.ipv4 && memchr::memchr_iter(b'.', bytes).any(ipv4))
                || (self.ipv6 && memchr::memchr_iter(b':', bytes).any(ipv6));
        };
        // Each place a pair starts at, in order.
        let any = |pairs: &Searcher, test: &dyn Fn(usize) -> bool| {
            let mut from = 0;
            while let Some(m) = bytes.get(from..).and_then(|rest| pairs.find(rest)) {
                let i = from + m.start();
                if test(i) {
                    return true;
                }
                from = i + 1;
            }
            false
        };
        (self.ipv4 && any(dots, &ipv4)) || (self.ipv6 && any(colons, &ipv6))
    }

    /// Searches for the two bytes an address holds around its `.` and around its `:` (see
    /// [`PAIRS`]), or `None` where the CPU has no packed search.
    fn pairs(&self) -> Option<[&'static Searcher; 2]> {
        static SEARCHERS: OnceLock<Option<[Searcher; 2]>> = OnceLock::new();
        let [dots, colons] = SEARCHERS
            .get_or_init(|| {
                let dots = Searcher::new(PAIRS[..10].iter().copied())?;
                let colons = Searcher::new(PAIRS[10..].iter().copied())?;
                Some([dots, colons])
            })
            .as_ref()?;
        Some([dots, colons])
    }

    pub(crate) const ALL: Finds = Finds {
        email: true,
        ipv4: true,
        ipv6: true,
    };
    pub(crate) const NAMES: &'static str = "email, ipv4, ipv6";
}

/// The bytes around an address's first `.` or `:` that `may_occur` looks for: a `.`
/// before a digit (IPv4, its ten pairs first), then `::` and a `:` before a hex digit
/// (IPv6). Free text is full of `.` and `:` (sentence ends, `https:`, `wp:paragraph`) that
/// begin no address; a packed search for the pairs passes them by, where a `memchr` for
/// the one byte stopped at each. Two searches, not one: up to 32 patterns take the packed
/// search's faster kind.
const PAIRS: [&[u8]; 33] = [
    b".0", b".1", b".2", b".3", b".4", b".5", b".6", b".7", b".8", b".9", b"::", b":0", b":1",
    b":2", b":3", b":4", b":5", b":6", b":7", b":8", b":9", b":a", b":b", b":c", b":d", b":e",
    b":f", b":A", b":B", b":C", b":D", b":E", b":F",
];

#[derive(Debug)]
pub(crate) struct Scrub {
    pub finds: Finds,
    /// For fake e-mail addresses: `fake = "email"` with the same domain gives the same value.
    pub email: Fake,
}

/// Something found in a text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Found {
    Email,
    Ipv4,
    Ipv6,
}

impl Scrub {
    /// Writes `text` with every address replaced into `out` (cleared first); returns how
    /// many were replaced. With none, `out` is left empty.
    pub(crate) fn scrub_into(&self, key: &Key, text: &[u8], out: &mut Vec<u8>) -> usize {
        out.clear();
        let mut copied = 0;
        let mut count = 0;
        for (kind, range) in Finder::new(self.finds, text) {
            out.extend_from_slice(&text[copied..range.start]);
            let original = &text[range.clone()];
            match kind {
                Found::Email => {
                    let d = key.tagged(FakeKind::Email.tag(), 0, original);
                    let (head, keep) = fake_value(&self.email, &d, original, true);
                    out.extend_from_slice(head.as_bytes());
                    out.extend_from_slice(keep.as_bytes());
                }
                Found::Ipv4 => {
                    let d = key.tagged(FakeKind::Ipv4.tag(), 0, original);
                    out.extend_from_slice(documentation_ipv4(&d, original).as_bytes());
                }
                Found::Ipv6 => {
                    let d = key.tagged(FakeKind::Ipv6.tag(), 0, original);
                    out.extend_from_slice(documentation_ipv6(&d).as_bytes());
                }
            }
            copied = range.end;
            count += 1;
        }
        if count == 0 {
            out.clear();
        } else {
            out.extend_from_slice(&text[copied..]);
        }
        count
    }
}

/// An address in one of the three documentation ranges (RFC 5737): never a real host, and
/// never `original` (data written with documentation addresses stays distinguishable).
pub(crate) fn documentation_ipv4(digest: &[u8; 32], original: &[u8]) -> String {
    const NETS: [&str; 3] = ["192.0.2", "198.51.100", "203.0.113"];
    let mut rng = rand::rngs::ChaCha8Rng::from_seed(*digest);
    loop {
        let net = NETS[rng.random_range(0..NETS.len())];
        let ip = format!("{net}.{}", rng.random_range(1..255u8));
        if ip.as_bytes() != original {
            return ip;
        }
    }
}

/// An address under 2001:db8::/32, the documentation prefix (RFC 3849); 96 random bits, so
/// it equals the original only by a chance not worth a loop.
pub(crate) fn documentation_ipv6(digest: &[u8; 32]) -> String {
    let mut rng = rand::rngs::ChaCha8Rng::from_seed(*digest);
    let mut s = String::from("2001:db8");
    for _ in 0..6 {
        s.push_str(&format!(":{:x}", rng.random::<u16>()));
    }
    s
}

/// Finds addresses left to right. Each finder's next hit is kept until the scan passes it,
/// so a text with many addresses of one kind is not rescanned for the others.
pub(crate) struct Finder<'t> {
    text: &'t [u8],
    finds: Finds,
    /// The next hit of each finder at or after `at`: `None` not searched yet, `Some(None)`
    /// none left.
    next: [Option<Option<Range<usize>>>; 3],
    at: usize,
}

impl<'t> Finder<'t> {
    pub(crate) fn new(finds: Finds, text: &'t [u8]) -> Finder<'t> {
        Finder {
            text,
            finds,
            next: [None, None, None],
            at: 0,
        }
    }
}

impl Iterator for Finder<'_> {
    type Item = (Found, Range<usize>);

    fn next(&mut self) -> Option<(Found, Range<usize>)> {
        const KINDS: [Found; 3] = [Found::Email, Found::Ipv4, Found::Ipv6];
        let enabled = [self.finds.email, self.finds.ipv4, self.finds.ipv6];
        let mut best: Option<usize> = None;
        for k in 0..3 {
            if !enabled[k] {
                continue;
            }
            let stale = match &self.next[k] {
                None => true,
                Some(Some(r)) => r.start < self.at,
                Some(None) => false,
            };
            if stale {
                let f = [find_email, find_ipv4, find_ipv6][k];
                self.next[k] = Some(f(self.text, self.at));
            }
            if let Some(Some(r)) = &self.next[k] {
                let earlier = best
                    .is_none_or(|b| matches!(&self.next[b], Some(Some(rb)) if r.start < rb.start));
                if earlier {
                    best = Some(k);
                }
            }
        }
        let k = best?;
        let range = self.next[k].clone().flatten()?;
        self.at = range.end;
        Some((KINDS[k], range))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// mysqldump's escaping of a string's content.
    fn sql_escaped(text: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for &b in text {
            match b {
                0 => out.extend_from_slice(b"\\0"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                0x1a => out.extend_from_slice(b"\\Z"),
                b'\'' | b'"' | b'\\' => out.extend_from_slice(&[b'\\', b]),
                _ => out.push(b),
            }
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]

        /// Where `may_occur` says no, in the text or in its escaped bytes, no finder finds
        /// anything.
        #[test]
        fn may_occur_misses_no_address(
            pieces in prop::collection::vec(prop::sample::select(vec![
                "anna@example.org", "a@b", "@", "192.0.2.1", "1.2", "10.0.0.256", "1.2.3",
                "2001:db8::1", "::1", "fe80::", "1:2:3:4:5:6:7:8", "12:30:00", "std::vector",
                "a:b", "https://x.org", "\n", "\0", "\\", "'", "\"", " ", "x", "9", ".", ":",
                "f", "é",
            ]), 0..10),
            email in any::<bool>(),
            ipv4 in any::<bool>(),
            ipv6 in any::<bool>(),
        ) {
            let finds = Finds { email, ipv4, ipv6 };
            let text = pieces.concat().into_bytes();
            let found = Finder::new(finds, &text).next();
            if found.is_some() {
                prop_assert!(finds.may_occur(&text), "{:?}", String::from_utf8_lossy(&text));
                prop_assert!(
                    finds.may_occur(&sql_escaped(&text)),
                    "{:?}",
                    String::from_utf8_lossy(&text)
                );
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        /// The packed search for the pairs around `.` and `:` answers as a look at every
        /// `.` and `:` does.
        #[test]
        fn the_pair_search_answers_as_every_stop_does(
            pieces in prop::collection::vec(prop::sample::select(vec![
                "192.0.2.1", "1.2", "a.b", ".", ":", "::", "2001:db8::1", "12:30", "fe:", ":f",
                ":G", "x:1", "9.", ".9", "@", "https://x.org", " ", "0", "f", "Z", "\\n", "é",
            ]), 0..12),
            email in any::<bool>(),
            ipv4 in any::<bool>(),
            ipv6 in any::<bool>(),
        ) {
            let finds = Finds { email, ipv4, ipv6 };
            let text = pieces.concat().into_bytes();
            // `None` on a CPU without a packed search: then both ways are the same one.
            let pairs = finds.pairs();
            prop_assert_eq!(
                finds.may_occur_with(&text, pairs),
                finds.may_occur_with(&text, None),
                "{:?}",
                String::from_utf8_lossy(&text)
            );
        }
    }

    #[test]
    fn may_occur_says_no_to_plain_prose_and_urls() {
        let text = b"<p>See https://www.example.org/about/ for more: it is 5 pm.</p>\n";
        assert!(!Finds::ALL.may_occur(text));
        assert!(!Finds::ALL.may_occur(&sql_escaped(text)));
        assert!(Finds::ALL.may_occur(b"mail anna@example.org"));
        assert!(Finds::ALL.may_occur(b"from 192.0.2.1"));
        assert!(Finds::ALL.may_occur(b"from 2001:db8::1"));
        assert!(!Finds {
            email: true,
            ipv4: false,
            ipv6: false
        }
        .may_occur(b"from 192.0.2.1"));
    }

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
    fn scrub_keeps_the_text_and_replaces_each_address() {
        let key = Key::new(b"s");
        let scrub = Scrub {
            finds: Finds::ALL,
            email: Fake {
                kind: FakeKind::Email,
                domain: "example.invalid".into(),
                words: None,
                range: (0, 0),
            },
        };
        let text =
            b"Write to anna@example.org (from 198.51.100.7, 2001:db8::42) or anna@example.org.";
        let mut out = Vec::new();
        assert_eq!(scrub.scrub_into(&key, text, &mut out), 4);
        let text_out = String::from_utf8(out.clone()).unwrap();
        let out_s = &text_out;
        assert!(out_s.starts_with("Write to "), "{out_s}");
        assert!(!out_s.contains("anna@example.org"), "{out_s}");
        assert!(!out_s.contains("198.51.100.7"), "{out_s}");
        assert!(!out_s.contains("2001:db8::42"), "{out_s}");
        // The same address twice gives the same fake.
        let fakes = all(out_s, find_email);
        assert_eq!(fakes.len(), 2);
        assert_eq!(fakes[0], fakes[1]);
        assert!(fakes[0].ends_with("@example.invalid"));
        assert_eq!(all(out_s, find_ipv4).len(), 1);
        assert_eq!(all(out_s, find_ipv6).len(), 1);
        assert!(out_s.ends_with('.'));
        // Nothing found: nothing written.
        assert_eq!(scrub.scrub_into(&key, b"plain words", &mut out), 0);
        assert!(out.is_empty());
    }
}
