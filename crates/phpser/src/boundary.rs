//! Where a needle that is a host or a path may match: only where the host or the path
//! segment ends, never inside a longer one.
//!
//! `https://www.prod.example` is a prefix of `https://www.prod.example.com/partner/` (another
//! company's site) and `/var/www/prod` of `/var/www/production`. A plain `str_replace` (and
//! `sed`, and wp-cli's `search-replace`) moves both; a copy that rewrites other people's
//! links is not faithful. So a needle whose source is a URL, a bare host or an absolute path
//! matches only where the next byte does not continue its last label or segment: not a
//! letter, digit, `-` or `_`, nor a `.` followed by one (`example.com.au`). A bare host or
//! path must also not continue a longer one on its left (`myprod.example`,
//! `/backup/var/www/prod`). Mysqldump's and JSON's escapes, URL encoding and the ends of
//! serialized strings all begin with a byte outside that set, so the same test holds in every
//! encoding the replacements see.
//!
//! A host move with its subdomains (a WordPress subdomain network: `de.prod.example`,
//! `shop.prod.example`) needs two more shapes: the exact host, which must not match as the
//! end of a subdomain (that one moves to another base), and [`Boundary::subdomain`]: the
//! needle `.prod.example` after a label, so every `LABEL.prod.example` moves and
//! `xprod.example` or `prod.example.com` do not.

/// Where a needle may match; see the module documentation. [`Boundary::NONE`] matches
/// anywhere, like `str_replace`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Boundary {
    right: bool,
    left: Left,
    /// For [`Left::Label`]: the labels the destination base adds in front of the source base
    /// (`int` when `.prod.example` moves to `.int.prod.example`). A host that already ends in
    /// them has moved (by this rule, or by an earlier one to the destination) and must not
    /// move again: `de.int.prod.example` would become `de.int.int.prod.example`.
    moved: Option<Box<[u8]>>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Left {
    /// Anything may come before.
    #[default]
    Any,
    /// A bare host: not after a letter, digit, `-` or `_` (a `.` before it makes a
    /// subdomain, which moves with its domain).
    Host,
    /// An absolute path, or a host exactly (not as a subdomain's end): not after a
    /// letter, digit, `-`, `_` or `.`.
    Path,
    /// A subdomain's `.base`: right after a label (a letter, digit, `-` or `_`).
    Label,
}

/// The character before `start`: a percent-encoded one (`%2F` before a host in a URL-encoded
/// redirect parameter) as the byte it stands for.
fn before(text: &[u8], start: usize) -> Option<u8> {
    let hex = |b: u8| (b as char).to_digit(16);
    if start >= 3 && text[start - 3] == b'%' {
        if let (Some(h), Some(l)) = (hex(text[start - 2]), hex(text[start - 1])) {
            return u8::try_from(h * 16 + l).ok();
        }
    }
    start.checked_sub(1).map(|i| text[i])
}

/// Bytes that continue a host label or a path segment.
fn continues(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

impl Boundary {
    /// Matches anywhere.
    pub const NONE: Boundary = Boundary {
        right: false,
        left: Left::Any,
        moved: None,
    };

    /// The boundary of a bare host that matches only as itself: where its last label ends
    /// and not after a letter, digit, `-`, `_` or `.`, so neither `myexample.org` nor the
    /// subdomain `shop.example.org` (which a [`Boundary::subdomain`] pair moves) is it.
    pub fn exact_host() -> Boundary {
        Boundary {
            right: true,
            left: Left::Path,
            moved: None,
        }
    }

    /// The boundary of a subdomain pair `.base` → `.base'`: the needle (`.prod.example`)
    /// matches right after a label (`de` of `de.prod.example`, `eu.shop` of
    /// `eu.shop.prod.example`) and where its last label ends, as a host does. When the
    /// destination `.base'` ends in the needle (`.int.prod.example`), a host that already
    /// reads `….int.prod.example` or `int.prod.example` has moved and is left alone.
    pub fn subdomain(needle: &[u8], replacement: &[u8]) -> Boundary {
        let moved = replacement
            .strip_suffix(needle)
            .and_then(|r| r.strip_prefix(b"."))
            .filter(|r| !r.is_empty())
            .map(Box::from);
        Boundary {
            right: true,
            left: Left::Label,
            moved,
        }
    }

    /// The boundary for the needles of a replacement whose source is `from`: a URL
    /// (`scheme://…` or `//…`), a bare host (`www.example.org`) or an absolute path
    /// (`/var/www/site`) ends where its last label or segment ends; anything else matches
    /// anywhere.
    pub fn of_source(from: &[u8]) -> Boundary {
        let ends_in_word = from.last().is_some_and(|&b| continues(b));
        let url = memchr::memmem::find(from, b"://").is_some() || from.starts_with(b"//");
        if url {
            return Boundary {
                right: ends_in_word,
                left: Left::Any,
                moved: None,
            };
        }
        if from.first() == Some(&b'/') {
            return Boundary {
                right: ends_in_word,
                left: Left::Path,
                moved: None,
            };
        }
        let host = from.contains(&b'.')
            && from.iter().all(|&b| continues(b) || b == b'.')
            && from.first().is_some_and(u8::is_ascii_alphanumeric)
            && ends_in_word;
        if host {
            return Boundary {
                right: true,
                left: Left::Host,
                moved: None,
            };
        }
        Boundary::NONE
    }

    /// Whether this is [`Boundary::NONE`].
    pub fn is_none(&self) -> bool {
        *self == Boundary::NONE
    }

    /// Whether a needle found at `start..end` of decoded `text` may be replaced there.
    #[inline]
    pub fn admits(&self, text: &[u8], start: usize, end: usize) -> bool {
        self.right_ok(text, end)
            && self.left_ok(before(text, start))
            && !self.has_moved(text, start, |s| before(text, s))
    }

    /// [`Boundary::admits`] for `text` as mysqldump escapes it: a byte an escape's backslash
    /// escapes (`\n`'s `n`) stands for a control character or a quote, which continues
    /// nothing. (No byte that continues a host or path, nor `.`, is ever escaped, so the test
    /// on the right is the same.)
    #[inline]
    pub fn admits_escaped(&self, text: &[u8], start: usize, end: usize) -> bool {
        if !self.right_ok(text, end) {
            return false;
        }
        let before_escaped = |start: usize| {
            let escaped = start.checked_sub(1).is_some_and(|i| {
                // After an odd number of backslashes: not the byte it stands for.
                text[..i].iter().rev().take_while(|&&b| b == b'\\').count() % 2 == 1
            });
            if escaped {
                None
            } else {
                before(text, start)
            }
        };
        self.left_ok(before_escaped(start)) && !self.has_moved(text, start, before_escaped)
    }

    /// For a subdomain pair whose destination ends in its needle: whether the host whose
    /// `.base` starts at `start` already ends in the destination's added labels (see
    /// [`Boundary::subdomain`]). `before` reads the character before an offset.
    #[inline]
    fn has_moved(&self, text: &[u8], start: usize, before: impl Fn(usize) -> Option<u8>) -> bool {
        let Some(moved) = &self.moved else {
            return false;
        };
        let Some(at) = start.checked_sub(moved.len()) else {
            return false;
        };
        text[at..start] == **moved && before(at).is_none_or(|b| b == b'.' || !continues(b))
    }

    #[inline]
    fn right_ok(&self, text: &[u8], end: usize) -> bool {
        if !self.right {
            return true;
        }
        match text.get(end) {
            Some(&b) if continues(b) => false,
            Some(b'.') => !text.get(end + 1).is_some_and(|&b| continues(b)),
            _ => true,
        }
    }

    #[inline]
    fn left_ok(&self, before: Option<u8>) -> bool {
        match (self.left, before) {
            (Left::Label, None) => false,
            (Left::Any, _) | (_, None) => true,
            (Left::Host, Some(b)) => !continues(b),
            (Left::Path, Some(b)) => !continues(b) && b != b'.',
            (Left::Label, Some(b)) => continues(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admits(from: &str, text: &str) -> bool {
        let b = Boundary::of_source(from.as_bytes());
        let start = text.find(from).expect("the needle is in the text");
        b.admits(text.as_bytes(), start, start + from.len())
    }

    #[test]
    fn hosts_end_where_their_last_label_ends() {
        let url = "https://www.prod-net.example";
        for text in [
            "https://www.prod-net.example",
            "https://www.prod-net.example/partner/",
            "see https://www.prod-net.example.",
            "https://www.prod-net.example:8080/",
            "https://www.prod-net.example\"",
            "https://www.prod-net.example?x=1",
            "(https://www.prod-net.example)",
        ] {
            assert!(admits(url, text), "{text}");
        }
        for text in [
            "https://www.prod-net.example.com/partner/",
            "https://www.prod-net.examples",
            "https://www.prod-net.example-backup.net",
            "https://www.prod-net.example_old",
        ] {
            assert!(!admits(url, text), "{text}");
        }
        assert!(!admits("example.com", "myexample.com"));
        assert!(!admits("example.com", "example.com.au"));
        assert!(!admits("example.com", "example.community"));
        assert!(admits("example.com", "www.example.com"));
        assert!(admits("example.com", "mail@example.com"));
        assert!(admits("shop.example.de", "//shop.example.de/"));
        // URL-encoded: `%2F` before is a `/`, `%2D` a `-`.
        assert!(admits("example.com", "u=https%3A%2F%2Fexample.com%2Fx"));
        assert!(!admits("example.com", "u=%2Dexample.com"));
        assert!(!admits("shop.example.de", "shop.example.de-backup.net"));
    }

    #[test]
    fn paths_end_where_their_last_segment_ends() {
        let root = "/var/www/prod";
        for text in [
            "/var/www/prod",
            "/var/www/prod/x",
            "\"/var/www/prod\"",
            "/var/www/prod.",
            "/var/www/prod ",
        ] {
            assert!(admits(root, text), "{text}");
        }
        for text in [
            "/var/www/production/x",
            "/var/www/prod-old/up",
            "/var/www/prod_1",
            "/var/www/prod.bak",
            "/backup/var/www/prod",
            "x./var/www/prod",
        ] {
            assert!(!admits(root, text), "{text}");
        }
        // A root with its slash ends in a separator: anything may follow.
        assert!(admits("/var/www/prod/", "/var/www/prod/x"));
    }

    #[test]
    fn other_text_matches_anywhere() {
        for from in ["foo", "Example Org", "a:b", "", "-x-"] {
            assert!(Boundary::of_source(from.as_bytes()).is_none(), "{from}");
        }
    }

    #[test]
    fn an_escaped_byte_continues_nothing() {
        let b = Boundary::of_source(b"/var/www/prod");
        // `\n` before the path in the dump is a newline in the value.
        let text = br"x\n/var/www/prod";
        assert!(b.admits_escaped(text, 3, text.len()));
        assert!(!b.admits(text, 3, text.len()));
        // `\\` then `n`: the `n` is itself.
        let text = br"x\\n/var/www/prod";
        assert!(!b.admits_escaped(text, 4, text.len()));
    }

    #[test]
    fn a_subdomain_is_a_label_before_the_base() {
        let b = Boundary::subdomain(b".prod-net.example", b".int-net.example");
        let at = |text: &str| {
            let start = text
                .find(".prod-net.example")
                .expect("the needle is in the text");
            b.admits(text.as_bytes(), start, start + ".prod-net.example".len())
        };
        for text in [
            "de.prod-net.example",
            "https://shop.prod-net.example/x",
            "//eu.shop.prod-net.example",
            "mail@de.prod-net.example",
            "u=https%3A%2F%2Fde.prod-net.example%2F",
            "de.prod-net.example.",
        ] {
            assert!(at(text), "{text}");
        }
        for text in [
            "https://.prod-net.example",
            "de.prod-net.example.com",
            "de.prod-net.example-backup.net",
            "de.prod-net.examples",
        ] {
            assert!(!at(text), "{text}");
        }
        // Escaped: `\n` before the base is a newline, no label.
        assert!(!b.admits_escaped(br"x\n.prod-net.example", 3, 20));
        assert!(b.admits_escaped(br"x\nde.prod-net.example", 5, 22));
    }

    #[test]
    fn a_host_that_has_moved_under_the_base_stays() {
        // The destination lies under the source: `int.example.org` for `example.org`.
        let b = Boundary::subdomain(b".example.org", b".int.example.org");
        let at = |text: &str| {
            let start = text
                .find(".example.org")
                .expect("the needle is in the text");
            b.admits(text.as_bytes(), start, start + ".example.org".len())
        };
        assert!(at("https://de.example.org/"));
        assert!(at("https://mint.example.org/"));
        assert!(at("https://int-x.example.org/"));
        assert!(!at("https://int.example.org/"));
        assert!(!at("https://de.int.example.org/"));
        assert!(!at("u=%2Fint.example.org"));
        // Escaped: the host starts after the escape.
        assert!(!b.admits_escaped(br"\nint.example.org", 5, 17));
        assert!(b.admits_escaped(br"\\nint.example.org", 6, 18));
    }

    #[test]
    fn an_exact_host_is_not_a_subdomain() {
        let b = Boundary::exact_host();
        let at = |text: &str, host: &str| {
            let start = text.find(host).expect("the needle is in the text");
            b.admits(text.as_bytes(), start, start + host.len())
        };
        assert!(at("https://www.example.org/", "www.example.org"));
        assert!(at("admin@example.org", "example.org"));
        assert!(!at("https://de.example.org/", "example.org"));
        assert!(!at("myexample.org", "example.org"));
        assert!(!at("example.org.au", "example.org"));
    }
}
