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

/// A [`Replacer`](crate::Replacer) or a [`NeedleSet`] could not be built (too many or too
/// long needles for the search automaton).
#[derive(Debug, thiserror::Error)]
#[error("cannot build the needle automaton: {0}")]
pub struct BuildError(#[from] aho_corasick::BuildError);

/// A set of byte strings, built once; [`NeedleSet::is_match`] tells whether any occurs in a
/// haystack, exactly as an Aho-Corasick automaton over them would.
///
/// ```
/// use understudy_phpser::hooks::NeedleSet;
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
    /// The bytes before the anchor and after it.
    before: Vec<u8>,
    after: Vec<u8>,
    /// The last four bytes of `before` (if it has four), for a first test in one comparison.
    tail: Option<[u8; 4]>,
    anchor_len: usize,
    index: usize,
}

impl Pattern {
    fn new(bytes: &[u8], anchor: std::ops::Range<usize>, index: usize) -> Pattern {
        let before = &bytes[..anchor.start];
        Pattern {
            before: before.to_vec(),
            after: bytes[anchor.end..].to_vec(),
            tail: before.last_chunk().copied(),
            anchor_len: anchor.len(),
            index,
        }
    }

    /// Where the pattern starts, if it occurs around its anchor found at `at`. Checked from
    /// the anchor outwards: the escaped variants of a needle differ right before it (`//` or
    /// `\/\/`), so most fail at the first test, and the anchor is not compared again.
    fn at(&self, haystack: &[u8], at: usize) -> Option<usize> {
        let start = at.checked_sub(self.before.len())?;
        let before = haystack.get(start..at)?;
        if self.tail.is_some() && before.last_chunk() != self.tail.as_ref() {
            return None;
        }
        let after = at + self.anchor_len;
        let same = before == self.before.as_slice()
            && (self.after.is_empty()
                || haystack.get(after..after + self.after.len()) == Some(&self.after));
        same.then_some(start)
    }
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
                Some((i, offset)) => {
                    let anchor = offset..offset + anchors[i].len();
                    patterns[i].push(Pattern::new(&bytes, anchor, index));
                }
                None => {
                    anchors.push(bytes[own.clone()].to_vec());
                    patterns.push(vec![Pattern::new(&bytes, own, index)]);
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
        // What `find_iter` does up to its first hit, as plain loops: this runs on every value.
        let at = |anchor: usize, start: usize| {
            let group = &self.patterns[anchor];
            group
                .iter()
                .find_map(|p| p.at(haystack, start).map(|_| p.index))
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
            Search::Many(_) => {
                let mut pos = 0;
                while let Some((anchor, start)) = self.next_anchor(haystack, pos) {
                    if let Some(i) = at(anchor, start) {
                        return Some(i);
                    }
                    pos = start + 1;
                }
                None
            }
        }
    }

    /// Every occurrence of every pattern, overlapping ones included, as `(index, start)`
    /// (the index as [`NeedleSet::find`] gives it). They come in the order their anchors
    /// occur, so not always by `start` when patterns hold their anchor at different offsets;
    /// [`NeedleSet::find`] is the first of them.
    ///
    /// ```
    /// use understudy_phpser::hooks::NeedleSet;
    ///
    /// let set = NeedleSet::new(["https://www.example.org", "www.example.org"])?;
    /// let hits: Vec<_> = set.find_iter(b"https://www.example.org/ www.example.org").collect();
    /// assert_eq!(hits, [(0, 0), (1, 8), (1, 25)]);
    /// # Ok::<(), understudy_phpser::BuildError>(())
    /// ```
    pub fn find_iter<'a>(
        &'a self,
        haystack: &'a [u8],
    ) -> impl Iterator<Item = (usize, usize)> + 'a {
        // The anchor occurrence being checked: its group, its start, the next pattern to try.
        let mut current: Option<(usize, usize, usize)> = None;
        // Where the search for the next anchor starts.
        let mut pos = 0;
        std::iter::from_fn(move || loop {
            if let Some((anchor, at, next)) = current.as_mut() {
                let group = &self.patterns[*anchor];
                while let Some(p) = group.get(*next) {
                    *next += 1;
                    if let Some(start) = p.at(haystack, *at) {
                        return Some((p.index, start));
                    }
                }
            }
            let (anchor, at) = self.next_anchor(haystack, pos)?;
            // Overlapping: a pattern may hold its anchor where another hit of it ends.
            pos = at + 1;
            current = Some((anchor, at, 0));
        })
    }

    /// At each place where an anchor occurs, the first pattern in the caller's order that
    /// occurs around it, as `(index, start)`: the hits of [`NeedleSet::find_iter`] one per
    /// place. The patterns around one place all hold its anchor there, so they overlap the
    /// one given; a caller that needs to know only where needles are tries one or two
    /// patterns per place instead of all of them (a needle has 15 JSON-escaped forms).
    ///
    /// ```
    /// use understudy_phpser::hooks::NeedleSet;
    ///
    /// let set = NeedleSet::new(["www.example.org", "https://www.example.org"])?;
    /// let hits: Vec<_> = set.first_at_each(b"https://www.example.org/ www.example.org").collect();
    /// assert_eq!(hits, [(0, 8), (0, 25)]);
    /// # Ok::<(), understudy_phpser::BuildError>(())
    /// ```
    pub fn first_at_each<'a>(
        &'a self,
        haystack: &'a [u8],
    ) -> impl Iterator<Item = (usize, usize)> + 'a {
        let mut pos = 0;
        std::iter::from_fn(move || loop {
            let (anchor, at) = self.next_anchor(haystack, pos)?;
            pos = at + 1;
            let first = self.patterns[anchor]
                .iter()
                .find_map(|p| p.at(haystack, at).map(|start| (p.index, start)));
            if first.is_some() {
                return first;
            }
        })
    }

    /// The first anchor that starts at or after `pos`: its index and start.
    #[inline]
    fn next_anchor(&self, haystack: &[u8], pos: usize) -> Option<(usize, usize)> {
        match &self.search {
            Search::None => None,
            Search::One(finder) => Some((0, pos + finder.find(haystack.get(pos..)?)?)),
            Search::Many(ac) => {
                if pos >= haystack.len() {
                    return None;
                }
                let m = ac.find(Input::new(haystack).span(pos..haystack.len()))?;
                Some((m.pattern().as_usize(), m.start()))
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
            // Repeated patterns, and several of one anchor at one place.
            &[
                "a.example",
                "https://a.example",
                "a.example",
                r"https:\/\/a.example",
            ],
            &["ab/x", "ab/x/y", "x/y", "b/x"],
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
                // Every occurrence, by the first of equal patterns.
                let first = |i: usize| set.iter().position(|p| *p == set[i]).unwrap_or(i);
                let mut want: Vec<(usize, usize)> = ac
                    .find_overlapping_iter(&h)
                    .map(|m| (first(m.pattern().as_usize()), m.start()))
                    .collect();
                want.sort_unstable();
                want.dedup();
                let mut got: Vec<(usize, usize)> = ours.find_iter(h.as_bytes()).collect();
                got.sort_unstable();
                assert_eq!(got, want, "{set:?} in {h:?}");
                assert_eq!(
                    ours.find(h.as_bytes()),
                    ours.find_iter(h.as_bytes()).next().map(|(i, _)| i),
                    "{set:?} in {h:?}"
                );
                // One hit per place, among them; every hit overlaps one of those.
                let each: Vec<(usize, usize)> = ours.first_at_each(h.as_bytes()).collect();
                assert!(each.iter().all(|hit| got.contains(hit)), "{set:?} in {h:?}");
                assert!(each.len() <= got.len());
                let span = |&(i, start): &(usize, usize)| start..start + set[i].len();
                for hit in &got {
                    let covered = each.iter().any(|e| {
                        let (a, b) = (span(hit), span(e));
                        a.start < b.end && b.start < a.end
                            || a.is_empty() && b.contains(&a.start)
                            || a == b
                    });
                    assert!(covered, "{set:?} in {h:?}: {hit:?} not near {each:?}");
                }
                assert_eq!(
                    ours.find(h.as_bytes()),
                    each.first().map(|&(i, _)| i),
                    "{set:?} in {h:?}"
                );
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
