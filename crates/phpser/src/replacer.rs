//! [`Replacer`]: the needle/replacement pairs, applied as PHP's `str_replace()` applies
//! them, and the searches that tell whether a value needs more than that.
//!
//! Built once per rule and shared between threads. Besides the pairs it keeps a prefilter,
//! each needle as it is and JSON-escaped once to three times, so one pass over a value tells
//! whether it can change at all. And it knows whether its needles speak for themselves in
//! JSON (a host does; a path `/var/www` does not, since `\/var` starts inside an escape): then
//! a JSON document none of whose strings may nest serialized PHP, JSON or base64 gets plain
//! replacement without a walk, which is what most page builders' documents are.
//!
//! What becomes of a whole value (serialized, session, JSON, base64, text) is decided in
//! [`replace_in_value`](crate::replace_in_value).

use std::ops::Range;

use memchr::memmem;

use crate::base64::may_hold_base64;
use crate::boundary::Boundary;
use crate::json;
use crate::needles::{BuildError, NeedleSet};
use crate::replace::Options;

/// An ordered list of byte replacements, applied like successive `str_replace()` calls (or
/// one `str_replace()` with arrays): the first pair replaces every non-overlapping occurrence,
/// left to right, then the second pair runs on the result, and so on. Empty needles are
/// skipped, as PHP does.
///
/// Build it once and share it between threads; the per-thread buffers live in a
/// [`Scratch`](crate::Scratch).
///
/// ```
/// use understudy_phpser::Replacer;
///
/// let r = Replacer::new([("https://www.example.org", "https://staging.example.org")])?;
/// let (mut out, mut tmp) = (Vec::new(), Vec::new());
/// assert!(r.replace(b"see https://www.example.org/x", &mut out, &mut tmp));
/// assert_eq!(out, b"see https://staging.example.org/x");
/// # Ok::<(), understudy_phpser::BuildError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Replacer {
    /// Finds whether any needle occurs at all, also as JSON-escaped text: about one pass
    /// however many needles there are.
    any: NeedleSet,
    /// What `any` looks for: see [`Replacer::prefilter_needles`].
    prefilter: Vec<Vec<u8>>,
    /// How many entries of `prefilter`, at its start, are needles as they are.
    raw: usize,
    /// The length of the longest needle.
    longest: usize,
    /// The needles alone, for [`Options::without_encoding_checks`].
    needles: NeedleSet,
    pairs: Vec<Pair>,
    class_names: bool,
    /// Whether, in a JSON document where no string may nest ([`json::may_nest_anywhere`]),
    /// plain replacement does what the walk does wherever the needles are (see
    /// [`hits_speak_for_themselves`]), so [`Replacer::wants_json_walk`] need not look at
    /// each hit.
    flat_json_is_plain: bool,
}

#[derive(Clone, Debug)]
struct Pair {
    needle: memmem::Finder<'static>,
    replacement: Vec<u8>,
    boundary: Boundary,
}

impl Replacer {
    /// Builds a replacer from `(needle, replacement)` pairs, applied in the given order.
    ///
    /// # Errors
    ///
    /// If the needles are too many or too long for the search automaton.
    pub fn new<I, N, R>(pairs: I) -> Result<Replacer, BuildError>
    where
        I: IntoIterator<Item = (N, R)>,
        N: AsRef<[u8]>,
        R: AsRef<[u8]>,
    {
        Replacer::bounded(pairs.into_iter().map(|(n, r)| (n, r, Boundary::NONE)))
    }

    /// [`Replacer::new`] with a [`Boundary`] per pair: where its needle may match.
    ///
    /// ```
    /// use understudy_phpser::{Boundary, Replacer};
    /// let host = "https://www.example.org";
    /// let r = Replacer::bounded([(host, "https://int.example.org", Boundary::of_source(host.as_bytes()))])?;
    /// let (mut out, mut tmp) = (Vec::new(), Vec::new());
    /// assert!(!r.replace(b"see https://www.example.org.au", &mut out, &mut tmp));
    /// assert!(r.replace(b"see https://www.example.org/x", &mut out, &mut tmp));
    /// # Ok::<(), understudy_phpser::BuildError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// If the needles are too many or too long for the search automaton.
    pub fn bounded<I, N, R>(pairs: I) -> Result<Replacer, BuildError>
    where
        I: IntoIterator<Item = (N, R, Boundary)>,
        N: AsRef<[u8]>,
        R: AsRef<[u8]>,
    {
        let pairs: Vec<Pair> = pairs
            .into_iter()
            .filter(|(n, _, _)| !n.as_ref().is_empty())
            .map(|(n, r, boundary)| Pair {
                needle: memmem::Finder::new(n.as_ref()).into_owned(),
                replacement: r.as_ref().to_vec(),
                boundary,
            })
            .collect();
        // The needles first, so an index below `raw` means "seen as it is".
        let mut prefilter: Vec<Vec<u8>> = Vec::new();
        for pair in &pairs {
            if !prefilter.iter().any(|n| n == pair.needle.needle()) {
                prefilter.push(pair.needle.needle().to_vec());
            }
        }
        let raw = prefilter.len();
        for pair in &pairs {
            for levels in 0..=JSON_LEVELS {
                // After `levels` escapings a `"` has 2^levels - 1 backslashes before it; a `/`
                // has that many only if every level escaped it (`json_encode`'s default), so
                // anything from none to that many.
                let quote = (1 << levels) - 1;
                for slash in 0..=quote {
                    let v = json_escaped(pair.needle.needle(), quote, slash);
                    if !prefilter.contains(&v) {
                        prefilter.push(v);
                    }
                }
            }
        }
        let any = NeedleSet::new(&prefilter)?;
        let needles = NeedleSet::new(pairs.iter().map(|p| p.needle.needle()))?;
        let flat_json_is_plain = hits_speak_for_themselves(&prefilter, raw);
        Ok(Replacer {
            any,
            prefilter,
            raw,
            longest: pairs
                .iter()
                .map(|p| p.needle.needle().len())
                .max()
                .unwrap_or(0),
            needles,
            pairs,
            class_names: false,
            flat_json_is_plain,
        })
    }

    /// Whether class names ([`Role::ClassName`](crate::Role::ClassName)) are replaced in
    /// too. Off by default: a renamed class must exist where the data is read, or
    /// `unserialize()` fails (for enums) or yields `__PHP_Incomplete_Class`.
    pub fn class_names(&mut self, yes: bool) -> &mut Replacer {
        self.class_names = yes;
        self
    }

    /// The number of (non-empty) needles.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// `true` if there are no needles, so nothing ever changes.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Every byte string whose presence in a value means a needle may be in it: the needles,
    /// and each as JSON escapes it (`"`, `\`, `/`) once, twice and three times, for JSON
    /// (in serialized strings) in JSON strings. A caller that skips values before decoding
    /// them (SQL escapes) must look for all of these.
    pub fn prefilter_needles(&self) -> impl Iterator<Item = &[u8]> {
        self.prefilter.iter().map(Vec::as_slice)
    }

    /// Does any needle occur in `haystack`, as it is or JSON-escaped (see
    /// [`Replacer::prefilter_needles`])? A `false` means no replacement can change it.
    pub fn is_match(&self, haystack: &[u8]) -> bool {
        self.any.is_match(haystack)
    }

    /// Whether class names are replaced in (see [`Replacer::class_names`]).
    #[inline]
    pub(crate) fn replaces_class_names(&self) -> bool {
        self.class_names
    }

    /// Whether plain replacement does in a flat JSON document what its walk does (see
    /// [`hits_speak_for_themselves`]).
    #[inline]
    pub(crate) fn flat_json_is_plain(&self) -> bool {
        self.flat_json_is_plain
    }

    /// The one search per value whose answer the checks share: whether a needle is in `s`
    /// (as it is, or JSON-escaped if `options` look at encodings).
    #[inline]
    pub(crate) fn search(&self, s: &[u8], options: Options) -> bool {
        if options.encodings() {
            self.any.is_match(s)
        } else {
            self.needles.is_match(s)
        }
    }

    /// Whether `s` (in which [`Replacer::is_match`] found something) is a JSON document that
    /// needs its strings decoded: a needle is somewhere in it only JSON-escaped, or a string
    /// with a needle may hold serialized PHP or JSON (see [`json::plain_string_around`]). Otherwise
    /// plain replacement does the same, much faster. Decided per hit, looking only at the
    /// strings that hold one: marks elsewhere in the document do not matter, and a needle
    /// found as it is does not hide one that is there only escaped.
    pub(crate) fn wants_json_walk(&self, s: &[u8]) -> bool {
        if !json::looks_json(s) {
            return false;
        }
        if self.flat_json_is_plain && json::flat_marks(s, false) == json::Flat::Plain {
            return false;
        }
        self.wants_json_walk_per_hit(s)
    }

    /// [`Replacer::wants_json_walk`], or (with `base64`) whether `s` may hold base64 of
    /// serialized PHP or JSON ([`may_hold_base64`]): one search for the marks of both where
    /// the hits need no look of their own.
    pub(crate) fn wants_json_or_base64_walk(&self, s: &[u8], base64: bool) -> bool {
        if self.flat_json_is_plain && json::looks_json(s) {
            match json::flat_marks(s, base64) {
                json::Flat::Plain => return false,
                json::Flat::Base64 => return true,
                json::Flat::Look => {
                    return self.wants_json_walk_per_hit(s) || (base64 && may_hold_base64(s))
                }
            }
        }
        self.wants_json_walk(s) || (base64 && may_hold_base64(s))
    }

    /// [`Replacer::wants_json_walk`] hit by hit.
    fn wants_json_walk_per_hit(&self, s: &[u8]) -> bool {
        // The content of the string looked at last; its other hits need no second look.
        let mut seen = 0..0;
        // The needle as it is found last: the escaped forms of one at the same place come
        // right after it.
        let mut raw = 0..0;
        // One hit per place: the forms of needles found at one place overlap, and a needle
        // as it is comes first.
        for (index, start) in self.any.first_at_each(s) {
            let hit = start..start + self.prefilter[index].len();
            if index >= self.raw {
                // Only an escaped form of a needle here, which plain replacement would miss.
                // If a needle as it is overlaps it (`www.example.com` in `https:\/\/www…`),
                // the pairs say what becomes of it.
                if !overlap(&raw, &hit) && !self.needle_overlaps(s, &hit) {
                    return true;
                }
                continue;
            }
            raw = hit.clone();
            if seen.start <= hit.start && hit.end <= seen.end {
                continue;
            }
            match json::plain_string_around(s, hit) {
                json::Around::Plain(string) => seen = string,
                json::Around::Outside => {}
                json::Around::Walk => return true,
            }
        }
        false
    }

    /// Whether a needle as it is occurs in `s` overlapping `hit`.
    fn needle_overlaps(&self, s: &[u8], hit: &Range<usize>) -> bool {
        let reach = self.longest.saturating_sub(1);
        let from = hit.start.saturating_sub(reach);
        let window = s
            .get(from..s.len().min(hit.end + reach))
            .unwrap_or_default();
        self.needles.find_iter(window).any(|(i, k)| {
            let len = self.pairs.get(i).map_or(0, |p| p.needle.needle().len());
            overlap(&(from + k..from + k + len), hit)
        })
    }

    /// Applies all pairs to `input`, writing the result to `out` (cleared first) and using
    /// `tmp` as a second buffer. Returns `false`, with `out` empty, if nothing matched.
    pub fn replace(&self, input: &[u8], out: &mut Vec<u8>, tmp: &mut Vec<u8>) -> bool {
        out.clear();
        // Where the current text is; it moves between `out` and `tmp`.
        enum At {
            Input,
            Out,
            Tmp,
        }
        let mut at = At::Input;
        for pair in &self.pairs {
            at = match at {
                At::Input if replace_one(pair, input, out) => At::Out,
                At::Out if replace_one(pair, out, tmp) => At::Tmp,
                At::Tmp if replace_one(pair, tmp, out) => At::Out,
                unchanged => unchanged,
            };
        }
        match at {
            At::Input => false,
            At::Out => true,
            At::Tmp => {
                std::mem::swap(out, tmp);
                true
            }
        }
    }
}

/// Whether the needles' hits in a JSON document can ask for its walk only through the
/// strings they are in ([`json::Around::Walk`] for nest marks): every JSON-escaped form of a
/// needle (`prefilter[raw..]`) that a document without `\\` may hold holds a needle as it is
/// (`prefilter[..raw]`), so no hit is one that only the walk sees, and no needle holds a
/// backslash but in `\/` or starts with a byte that may follow one in an escape (`\"`,
/// `\n`, a hex digit of `\u00fc`; `/` only as `//`, see [`json::flat_marks`]), so in valid
/// JSON none cuts an escape in two. (In a document that is not valid JSON the walk gives up
/// and plain replacement runs, whatever the hits.) A host, `https://…` or `www.…`, passes,
/// with its `json_encode`d twin `https:\/\/…` beside it; a path `/var/www/…` does not
/// (`\/var`).
fn hits_speak_for_themselves(prefilter: &[Vec<u8>], raw: usize) -> bool {
    let (needles, escaped) = prefilter.split_at(raw);
    // A backslash only as the `\/` of a needle `json_encode` escaped (as replace rules add
    // them): a whole escape, since in a document without `\\` every backslash starts one.
    // A needle may start `//` (a scheme-relative URL): the flat marks look for `\//`, where
    // its hit would start at an escaped slash.
    let whole = |n: &Vec<u8>| {
        n.iter()
            .enumerate()
            .all(|(i, &b)| b != b'\\' || n.get(i + 1) == Some(&b'/'))
            && n.first().is_some_and(|&b| {
                !(b.is_ascii_hexdigit()
                    || matches!(b, b'"' | b'b' | b'f' | b'n' | b'r' | b't' | b'u')
                    || b == b'/' && !n.starts_with(b"//"))
            })
    };
    // Forms escaped twice hold `\\`, which a flat document does not.
    needles.iter().all(whole)
        && escaped
            .iter()
            .filter(|form| memmem::find(form, b"\\\\").is_none())
            .all(|form| needles.iter().any(|n| memmem::find(form, n).is_some()))
}

/// Whether two byte ranges share a byte.
fn overlap(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}

/// How many levels of JSON escaping [`Replacer::is_match`] sees through.
const JSON_LEVELS: usize = 3;

/// `s` as it reads after some levels of JSON escaping, for the prefilter: `quote`
/// backslashes before each `"`, `quote + 1` for each `\`, `slash` before each `/` (the ones
/// that change URLs and serialized data; other characters are taken as written raw).
fn json_escaped(s: &[u8], quote: usize, slash: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() + 8);
    for &b in s {
        let n = match b {
            b'"' | b'\\' => quote,
            b'/' => slash,
            _ => 0,
        };
        out.resize(out.len() + n, b'\\');
        out.push(b);
    }
    out
}

/// Replaces every occurrence of one needle in `src` that its boundary admits into `dst`
/// (cleared first if there is one); `false`, with `dst` untouched, if there is none.
fn replace_one(pair: &Pair, src: &[u8], dst: &mut Vec<u8>) -> bool {
    let n = pair.needle.needle().len();
    let (mut copied, mut from) = (0, 0);
    while let Some(k) = pair.needle.find(&src[from..]) {
        let at = from + k;
        if !pair.boundary.admits(src, at, at + n) {
            // Inside a longer host or path: look on from the next byte.
            from = at + 1;
            continue;
        }
        if copied == 0 {
            dst.clear();
        }
        dst.extend_from_slice(&src[copied..at]);
        dst.extend_from_slice(&pair.replacement);
        copied = at + n;
        from = copied;
    }
    // Needles are not empty: something was replaced exactly when something was copied.
    if copied == 0 {
        return false;
    }
    dst.extend_from_slice(&src[copied..]);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::replace::{replace_in_value, Mode, Report, Scratch};
    use base64::Engine;
    use proptest::prelude::*;
    use understudy_testkit::json::json_document;

    const PAIRS: [(&str, &str); 3] = [
        ("https://www.example.com", "https://int.example.org"),
        ("http://www.example.com", "http://int.example.org"),
        ("www.example.com", "int.example.org"),
    ];

    /// The site URL of the WordPress pack as its variants expand it (the other scheme,
    /// scheme-relative, `json_encode`d, URL-encoded), longest needle first.
    const PACK_PAIRS: [(&str, &str); 7] = [
        (r"https:\/\/www.example.com", r"https:\/\/int.example.org"),
        (r"http:\/\/www.example.com", r"https:\/\/int.example.org"),
        (
            "https%3A%2F%2Fwww.example.com",
            "https%3A%2F%2Fint.example.org",
        ),
        ("https://www.example.com", "https://int.example.org"),
        ("http://www.example.com", "https://int.example.org"),
        (r"\/\/www.example.com", r"\/\/int.example.org"),
        ("//www.example.com", "//int.example.org"),
    ];

    /// [`PAIRS`] as replace rules expand them: each with its `json_encode`d twin, longest
    /// needle first.
    const RULE_PAIRS: [(&str, &str); 5] = [
        (r"https:\/\/www.example.com", r"https:\/\/int.example.org"),
        (r"http:\/\/www.example.com", r"http:\/\/int.example.org"),
        ("https://www.example.com", "https://int.example.org"),
        ("http://www.example.com", "http://int.example.org"),
        ("www.example.com", "int.example.org"),
    ];

    /// A string of a JSON document, as its decoded text: plain, a URL, serialized PHP,
    /// JSON again, base64 of either, text escaped twice.
    fn string() -> impl Strategy<Value = String> {
        let url = prop_oneof![
            Just("https://www.example.com/wp-content/x.jpg"),
            Just("http://www.example.com"),
            Just("see www.example.com/über"),
            Just("src=//www.example.com/y.js"),
            Just("https://cdn.example.net/x"),
        ];
        let serialized = |u: &str| format!("a:1:{{s:3:\"url\";s:{}:\"{u}\";}}", u.len());
        prop_oneof![
            4 => url.clone().prop_map(str::to_owned),
            2 => "[a-zA-Z :{}\\[\\]\"\\\\]{0,12}",
            1 => url.clone().prop_map(serialized),
            1 => url.clone().prop_map(|u| serde_json::json!({ "u": u }).to_string()),
            1 => url
                .clone()
                .prop_map(move |u| base64::engine::general_purpose::STANDARD.encode(serialized(u))),
            1 => url.prop_map(|u| {
                base64::engine::general_purpose::STANDARD
                    .encode(serde_json::json!([u]).to_string())
            }),
            1 => Just("s:3:\"abc\";".to_owned()),
            1 => Just("Wasp eyes".to_owned()),
        ]
    }

    fn run(r: &Replacer, doc: &[u8], options: Options) -> (Result<Report, Error>, Vec<u8>) {
        let (mut scratch, mut out) = (Scratch::default(), Vec::new());
        let report = replace_in_value(doc, r, &mut scratch, &mut out, options);
        (report, out)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// The search of a whole document for nest marks and base64 decides as the look at
        /// each hit does: the same output and report.
        #[test]
        fn a_flat_document_is_decided_as_hit_by_hit(
            doc in json_document(string()),
            base64 in any::<bool>(),
            pairs in 0..3usize,
        ) {
            let fast = match pairs {
                0 => Replacer::new(PAIRS),
                1 => Replacer::new(RULE_PAIRS),
                _ => Replacer::new(PACK_PAIRS),
            }
            .unwrap();
            prop_assert!(fast.flat_json_is_plain);
            let mut slow = fast.clone();
            slow.flat_json_is_plain = false;
            for options in [Options::new(Mode::Auto), Options::new(Mode::Auto).strict(true), Options::new(Mode::Repair)] {
                let options = options.base64(base64);
                let (a, b) = (run(&fast, &doc, options), run(&slow, &doc, options));
                prop_assert_eq!(format!("{:?}", a.0), format!("{:?}", b.0));
                prop_assert_eq!(a.1, b.1);
            }
        }
    }

    #[test]
    fn hosts_speak_for_themselves_paths_and_lone_urls_do_not() {
        let flat = |pairs: &[(&str, &str)]| {
            Replacer::new(pairs.iter().copied())
                .unwrap()
                .flat_json_is_plain
        };
        assert!(flat(&PAIRS));
        assert!(flat(&RULE_PAIRS));
        assert!(flat(&PACK_PAIRS));
        // Without its twin, `\/\/www…` is seen only by the walk.
        assert!(!flat(&[("//www.example.com", "//int.example.org")]));
        assert!(flat(&[("www.example.com", "int.example.org")]));
        // `https:\/\/www…` holds no needle as it is: only the walk sees it.
        assert!(!flat(&[(
            "https://www.example.com",
            "https://int.example.org"
        )]));
        // `\/var…`: a hit may start inside an escape.
        assert!(!flat(&[("/var/www", "/srv/www")]));
        // `\u00e9` ends in `e9`; `\"` holds `"`.
        assert!(!flat(&[("e9.example", "x.example")]));
        assert!(!flat(&[("\"quoted\"", "x")]));
        // A backslash that does not start `\/`, or ends the needle.
        assert!(!flat(&[(r"www.example.com\u00e9", "x")]));
        assert!(!flat(&[(r"www.example.com\", "x")]));
    }
}
