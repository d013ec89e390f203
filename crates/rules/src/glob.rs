//! Shell-style globs for table names, column names and condition values.
//!
//! A deliberately small dialect, matched on bytes: `*` (any run, also empty), `?` (one
//! UTF-8 character), `[abc]`, `[a-z]`, `[!a-z]` (one ASCII byte), `\x` (a literal `x`).
//! Everything else is literal and case-sensitive. Names like `wp_2_options` are matched by
//! `wp_[0-9]*_options`. No `**`, no braces: table names have no path structure.

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
enum Tok {
    Lit(u8),
    Any,
    Star,
    Class {
        negated: bool,
        ranges: Vec<(u8, u8)>,
    },
}

/// A compiled glob.
#[derive(Clone)]
pub(crate) struct Glob {
    src: Box<str>,
    toks: Box<[Tok]>,
    /// The literal bytes every match starts with, and those it ends with after the last
    /// wildcard (none for a pattern without one): a name that lacks them is refused
    /// without the backtracking walk. The engine matches every table of a dump against
    /// every rule's tables, and most pairs do not match.
    head: Box<[u8]>,
    tail: Box<[u8]>,
    /// The pattern came from a secret variable; `Debug` does not show it.
    secret: bool,
}

impl fmt::Debug for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.secret {
            f.write_str("Glob(<redacted>)")
        } else {
            write!(f, "Glob({:?})", self.src)
        }
    }
}

impl Glob {
    /// Compiles `src`; the error text says what is wrong (without echoing the pattern).
    pub(crate) fn new(src: &str, secret: bool) -> Result<Glob, String> {
        let b = src.as_bytes();
        let mut toks = Vec::new();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'*' => {
                    if toks.last() != Some(&Tok::Star) {
                        toks.push(Tok::Star);
                    }
                    i += 1;
                }
                b'?' => {
                    toks.push(Tok::Any);
                    i += 1;
                }
                b'\\' => {
                    let Some(&c) = b.get(i + 1) else {
                        return Err("a glob may not end in a lone `\\`".into());
                    };
                    toks.push(Tok::Lit(c));
                    i += 2;
                }
                b'[' => {
                    let mut j = i + 1;
                    let negated = matches!(b.get(j), Some(b'!') | Some(b'^'));
                    if negated {
                        j += 1;
                    }
                    let mut ranges = Vec::new();
                    let mut first = true;
                    loop {
                        let Some(&c) = b.get(j) else {
                            return Err("unclosed `[` in glob".into());
                        };
                        if c == b']' && !first {
                            j += 1;
                            break;
                        }
                        first = false;
                        if !c.is_ascii() {
                            return Err("glob character classes `[…]` take ASCII only".into());
                        }
                        if b.get(j + 1) == Some(&b'-') && b.get(j + 2).is_some_and(|&e| e != b']') {
                            let e = b[j + 2];
                            if !e.is_ascii() || e < c {
                                return Err("bad range in glob character class".into());
                            }
                            ranges.push((c, e));
                            j += 3;
                        } else {
                            ranges.push((c, c));
                            j += 1;
                        }
                    }
                    toks.push(Tok::Class { negated, ranges });
                    i = j;
                }
                c => {
                    toks.push(Tok::Lit(c));
                    i += 1;
                }
            }
        }
        let literal = |t: &Tok| match t {
            Tok::Lit(c) => Some(*c),
            _ => None,
        };
        let head: Box<[u8]> = toks.iter().map_while(literal).collect();
        let tail: Box<[u8]> = match toks.iter().rposition(|t| literal(t).is_none()) {
            Some(last) => toks[last + 1..].iter().filter_map(literal).collect(),
            None => Box::default(),
        };
        Ok(Glob {
            src: src.into(),
            toks: toks.into(),
            head,
            tail,
            secret,
        })
    }

    /// The pattern text as written (after variable substitution).
    pub(crate) fn as_str(&self) -> &str {
        &self.src
    }

    pub(crate) fn is_secret(&self) -> bool {
        self.secret
    }

    /// True when the pattern has no wildcard: it names exactly one string.
    pub(crate) fn is_literal(&self) -> bool {
        self.toks.iter().all(|t| matches!(t, Tok::Lit(_)))
    }

    /// The bytes every match starts with (everything before the first wildcard).
    pub(crate) fn literal_prefix(&self) -> Vec<u8> {
        self.head.to_vec()
    }

    pub(crate) fn matches(&self, text: &str) -> bool {
        self.matches_bytes(text.as_bytes())
    }

    /// Whether `text` matches: its literal start and end first, then [`Glob::walk`].
    pub(crate) fn matches_bytes(&self, text: &[u8]) -> bool {
        if text.len() < self.head.len() + self.tail.len()
            || !text.starts_with(&self.head)
            || !text.ends_with(&self.tail)
        {
            return false;
        }
        self.walk(text)
    }

    /// Iterative wildcard matching with single-star backtracking: O(pattern × text) worst
    /// case, no recursion, no allocation.
    fn walk(&self, text: &[u8]) -> bool {
        let p = &self.toks;
        let (mut pi, mut ti) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        while ti < text.len() {
            if pi < p.len() {
                match &p[pi] {
                    Tok::Star => {
                        star = Some((pi, ti));
                        pi += 1;
                        continue;
                    }
                    Tok::Lit(c) if text[ti] == *c => {
                        pi += 1;
                        ti += 1;
                        continue;
                    }
                    Tok::Any => {
                        pi += 1;
                        ti += utf8_len(text, ti);
                        continue;
                    }
                    Tok::Class { negated, ranges } => {
                        let c = text[ti];
                        let hit = ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi);
                        if hit != *negated {
                            pi += 1;
                            ti += 1;
                            continue;
                        }
                    }
                    Tok::Lit(_) => {}
                }
            }
            match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            }
        }
        p[pi..].iter().all(|t| *t == Tok::Star)
    }
}

/// Length of the UTF-8 character starting at `i` (1 for a stray byte).
fn utf8_len(text: &[u8], i: usize) -> usize {
    let n = match text[i] {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => 1,
    };
    let end = (i + n).min(text.len());
    if text[i + 1..end].iter().all(|&b| b & 0xC0 == 0x80) {
        end - i
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::Glob;
    use proptest::prelude::*;

    proptest! {
        /// Refusing a name by its literal start and end never changes an answer.
        #[test]
        fn the_literal_ends_only_refuse_what_the_walk_refuses(
            pattern in "([ab_]|\\*|\\?|\\[ab\\]|\\[!a\\]){0,8}",
            text in "[ab_]{0,10}",
        ) {
            let g = Glob::new(&pattern, false).unwrap();
            prop_assert_eq!(g.matches(&text), g.walk(text.as_bytes()), "{} on {}", pattern, text);
        }
    }

    fn m(p: &str, t: &str) -> bool {
        Glob::new(p, false).unwrap().matches(t)
    }

    #[test]
    fn basics() {
        assert!(m("*", ""));
        assert!(m("*", "anything"));
        assert!(m("wp_*", "wp_options"));
        assert!(!m("wp_*", "wq_options"));
        assert!(m("wp_[0-9]*_options", "wp_2_options"));
        assert!(m("wp_[0-9]*_options", "wp_12_options"));
        assert!(!m("wp_[0-9]*_options", "wp_options"));
        assert!(!m("wp_[0-9]*_options", "wp_x_options"));
        assert!(m("cache_*", "cache_bootstrap"));
        assert!(!m("cache_*", "cachetags"));
        assert!(m("a?c", "abc"));
        assert!(m("a?c", "aüc"));
        assert!(!m("a?c", "ac"));
        assert!(m("[!a]x", "bx"));
        assert!(!m("[!a]x", "ax"));
        assert!(m(r"a\*", "a*"));
        assert!(!m(r"a\*", "ab"));
        assert!(m("*_transient_*", "_site_transient_x"));
        assert!(m("a*b*c", "a__b__b__c"));
        assert!(!m("a*b*c", "a__b__b__"));
        assert!(m("[]]", "]"));
    }

    #[test]
    fn errors_and_prefix() {
        assert!(Glob::new("[abc", false).is_err());
        assert!(Glob::new("abc\\", false).is_err());
        assert!(Glob::new("[z-a]", false).is_err());
        let g = Glob::new("wp_[0-9]*", false).unwrap();
        assert_eq!(g.literal_prefix(), b"wp_");
        assert!(!g.is_literal());
        assert!(Glob::new("wp_users", false).unwrap().is_literal());
    }

    #[test]
    fn redacted_debug() {
        let g = Glob::new("s3cret", true).unwrap();
        assert!(!format!("{g:?}").contains("s3cret"));
    }
}
