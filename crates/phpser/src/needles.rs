//! [`NeedleSet`]: whether any of many byte strings occurs, in about one `memmem` pass.
//!
//! The prefilter of a [`Replacer`](crate::Replacer) holds each needle as it is and as one to
//! three levels of JSON escaping write it (`https:\/\/…`, `https:\\\/\\\/…`), and the engine
//! looks for all of those SQL-escaped too: 16 or more patterns that all start with `https:`.
//! An Aho-Corasick automaton over them finds a candidate at every `https:` in the data and
//! runs about ten times slower than one `memmem` pass. But every such variant keeps the
//! needle's host part (`www.example.com`) verbatim, since escaping only adds or changes
//! backslashes, slashes and quotes. So the set searches for those shared *anchors* and
//! compares the few patterns of an anchor around each place it occurs.

use aho_corasick::{AhoCorasick, Input, MatchKind};
use memchr::memmem;

use crate::replace::BuildError;

/// A set of byte strings, built once; [`NeedleSet::is_match`] tells whether any occurs in a
/// haystack, exactly as an Aho-Corasick automaton over them would.
///
/// ```
/// use understudy_phpser::NeedleSet;
///
/// let set = NeedleSet::new(["https://www.example.org", r"https:\/\/www.example.org"])?;
/// assert!(set.is_match(br#"{"url":"https:\/\/www.example.org\/"}"#));
/// assert!(!set.is_match(b"see www.example.org"));
/// # Ok::<(), understudy_phpser::BuildError>(())
/// ```
#[derive(Clone, Debug)]
pub struct NeedleSet {
    search: Search,
    /// Per anchor (by its index in `search`): each pattern that holds it, with the offset of
    /// the anchor in the pattern and the pattern's index in the caller's list.
    patterns: Vec<Vec<Pattern>>,
}

#[derive(Clone, Debug)]
struct Pattern {
    offset: usize,
    bytes: Vec<u8>,
    index: usize,
}

// One per set, built once: the size does not matter, a box would cost a load per search.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
enum Search {
    None,
    /// The usual case (one host in all needles): a SIMD substring search.
    One(memmem::Finder<'static>),
    /// Several anchors, none inside another (a pattern holding one joins it), so at most one
    /// starts at any byte: a leftmost-first automaton (which may use SIMD, unlike an
    /// overlapping one) restarted one byte after each hit finds them all.
    Many(AhoCorasick),
}

/// Bytes that JSON or SQL escaping may add to or change in a needle; an anchor has none.
const ESCAPABLE: &[u8] = b"\\/\"'\0\n\r\x1a";

/// A shorter run of plain bytes would find too many candidates; such a pattern is its own
/// anchor.
const MIN_ANCHOR: usize = 4;

impl NeedleSet {
    /// Builds the set. Patterns may repeat; an empty one matches everywhere.
    ///
    /// # Errors
    ///
    /// If there are too many or too long anchors for the search automaton.
    pub fn new<I, P>(patterns: I) -> Result<NeedleSet, BuildError>
    where
        I: IntoIterator<Item = P>,
        P: AsRef<[u8]>,
    {
        let mut todo: Vec<(Vec<u8>, std::ops::Range<usize>, usize)> = Vec::new();
        for (index, p) in patterns.into_iter().enumerate() {
            let p = p.as_ref();
            if !todo.iter().any(|(q, ..)| q == p) {
                todo.push((p.to_vec(), best_anchor(p), index));
            }
        }
        // Short anchors first: a longer pattern that holds one joins it instead of costing
        // a search of its own (`https://www.example.com` joins `www.example.com`).
        todo.sort_by_key(|(_, anchor, _)| anchor.len());
        let mut anchors: Vec<Vec<u8>> = Vec::new();
        let mut patterns: Vec<Vec<Pattern>> = Vec::new();
        for (bytes, own, index) in todo {
            let joined = anchors
                .iter()
                .enumerate()
                .find_map(|(i, a)| memmem::find(&bytes, a).map(|off| (i, off)));
            match joined {
                Some((i, offset)) => patterns[i].push(Pattern {
                    offset,
                    bytes,
                    index,
                }),
                None => {
                    anchors.push(bytes[own.clone()].to_vec());
                    patterns.push(vec![Pattern {
                        offset: own.start,
                        bytes,
                        index,
                    }]);
                }
            }
        }
        // The caller's order within an anchor: it may want some patterns tried first.
        for group in &mut patterns {
            group.sort_by_key(|p| p.index);
        }
        let search = match anchors.as_slice() {
            [] => Search::None,
            [one] => Search::One(memmem::Finder::new(one).into_owned()),
            many => Search::Many(
                AhoCorasick::builder()
                    .match_kind(MatchKind::LeftmostFirst)
                    .build(many)?,
            ),
        };
        Ok(NeedleSet { search, patterns })
    }

    /// Does any pattern occur in `haystack`?
    pub fn is_match(&self, haystack: &[u8]) -> bool {
        self.find(haystack).is_some()
    }

    /// A pattern that occurs in `haystack`, by its index in the list given to
    /// [`NeedleSet::new`] (the first of equal ones): at the first place where any occurs, the
    /// first in that list, which need not be the leftmost. Lets a caller that needs to know
    /// more than "any" skip a search.
    pub fn find(&self, haystack: &[u8]) -> Option<usize> {
        let at = |anchor: usize, start: usize| {
            self.patterns[anchor].iter().find_map(|p| {
                let s = start.checked_sub(p.offset)?;
                (haystack.get(s..s + p.bytes.len()) == Some(&p.bytes)).then_some(p.index)
            })
        };
        match &self.search {
            Search::None => None,
            Search::One(finder) => {
                // Overlapping: a pattern may hold its anchor where another hit of it ends.
                let mut pos = 0;
                while let Some(k) = haystack.get(pos..).and_then(|h| finder.find(h)) {
                    if let Some(i) = at(0, pos + k) {
                        return Some(i);
                    }
                    pos += k + 1;
                }
                None
            }
            Search::Many(ac) => {
                let mut pos = 0;
                while pos < haystack.len() {
                    let Some(m) = ac.find(Input::new(haystack).span(pos..haystack.len())) else {
                        break;
                    };
                    if let Some(i) = at(m.pattern().as_usize(), m.start()) {
                        return Some(i);
                    }
                    pos = m.start() + 1;
                }
                None
            }
        }
    }
}

/// The longest run of `p` without [`ESCAPABLE`] bytes, or all of `p` if that run is short.
fn best_anchor(p: &[u8]) -> std::ops::Range<usize> {
    let mut best = 0..0;
    let mut start = 0;
    for (i, b) in p.iter().enumerate() {
        if ESCAPABLE.contains(b) {
            start = i + 1;
        } else if i + 1 - start > best.len() {
            best = start..i + 1;
        }
    }
    if best.len() < MIN_ANCHOR {
        0..p.len()
    } else {
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same answer as an Aho-Corasick automaton over the patterns, on haystacks built
    /// from pieces of them.
    #[test]
    fn agrees_with_aho_corasick() {
        let sets: &[&[&str]] = &[
            &["https://www.example.com", r"https:\/\/www.example.com"],
            &[
                "https://a.example",
                "a.example",
                "http://a.example/x",
                "b.example",
            ],
            &["abcd", "cdef", "x/y", "/", "ab'cd\"ef"],
            &["", "zz"],
            &["old.example/wp", "wp-content/old.example"],
            &["abab", "ababx"],
            // A hit of one anchor that fails hides the start of another.
            &["abcd/x", "cdef"],
        ];
        let pieces = [
            "https:",
            "//",
            r"\/",
            r"\\",
            "www.example.com",
            "a.example",
            "/x",
            "ab",
            "cd",
            "ef",
            "b.ex",
            "ample",
            "x",
            "/y",
            "'",
            "\"",
            "old.example",
            "/wp",
            "wp-content/",
            " ",
            "abx",
        ];
        for set in sets {
            let ours = NeedleSet::new(set.iter()).unwrap();
            let ac = AhoCorasick::new(set.iter()).unwrap();
            // Every sequence of up to three pieces.
            let n = pieces.len();
            for i in 0..n * n * n {
                let h = [i % n, i / n % n, i / n / n]
                    .iter()
                    .map(|&k| pieces[k])
                    .collect::<String>();
                assert_eq!(
                    ours.is_match(h.as_bytes()),
                    ac.is_match(&h),
                    "{set:?} in {h:?}"
                );
                if let Some(i) = ours.find(h.as_bytes()) {
                    assert!(h.contains(set[i]), "{set:?}[{i}] in {h:?}");
                }
            }
        }
    }

    #[test]
    fn one_anchor_serves_needles_sharing_a_host() {
        let set = NeedleSet::new([
            "www.example.com",
            "https://www.example.com",
            r"https:\/\/www.example.com",
            r"https:\\\/\\\/www.example.com",
        ])
        .unwrap();
        assert!(matches!(set.search, Search::One(_)));
        assert!(set.is_match(b"x www.example.com"));
        let set = NeedleSet::new(["https://www.example.com", r"http:\/\/www.example.com"]).unwrap();
        assert!(matches!(set.search, Search::One(_)));
        assert!(set.is_match(br"http:\/\/www.example.com"));
        assert!(!set.is_match(b"http://www.example.com"));
    }
}
