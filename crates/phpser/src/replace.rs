//! The convenience layer the engine uses: a [`Replacer`] of needle/replacement pairs and
//! [`replace_in_value`], which decides per value whether to parse it.

use std::ops::Range;

use memchr::memmem;

use crate::boundary::Boundary;
use crate::error::Error;
use crate::json::{self, FlatMarks};
use crate::needles::NeedleSet;
use crate::parse::{looks_serialized, Parser, Role};
use crate::rewrite::{Edit, Outcome, Rewriter};

/// An ordered list of byte replacements, applied like successive `str_replace()` calls (or
/// one `str_replace()` with arrays): the first pair replaces every non-overlapping occurrence,
/// left to right, then the second pair runs on the result, and so on. Empty needles are
/// skipped, as PHP does.
///
/// Build it once and share it between threads; the per-thread buffers live in a [`Scratch`].
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

/// A [`Replacer`] could not be built (too many or too long needles for the automaton).
#[derive(Debug, thiserror::Error)]
#[error("cannot build the needle automaton: {0}")]
pub struct BuildError(#[from] aho_corasick::BuildError);

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

    /// Whether class names ([`Role::ClassName`]) are replaced in too. Off by default: a
    /// renamed class must exist where the data is read, or `unserialize()` fails (for enums)
    /// or yields `__PHP_Incomplete_Class`.
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

    /// The one search per value whose answer the checks share: whether a needle is in `s`
    /// (as it is, or JSON-escaped if `options` look at encodings).
    fn search(&self, s: &[u8], options: Options) -> bool {
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
    fn wants_json_walk(&self, s: &[u8]) -> bool {
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
    fn wants_json_or_base64_walk(&self, s: &[u8], base64: bool) -> bool {
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

    /// Whether [`replace_in_value`] surely replaces the needles as plain bytes in a value
    /// that is a JSON object or array whose strings hold only text, as [`plain_text`] says
    /// for text: then a caller may replace them in the value in another form (SQL-escaped)
    /// without decoding it. A page builder's document in a dump is mostly escapes (`\"` for
    /// every quote), so decoding it and escaping it again cost more than the replacement.
    ///
    /// `head` is the value's first [`PLAIN_HEAD`] bytes, decoded (all of it, if shorter);
    /// `value` the whole value in the form `marks` were built for ([`FlatMarks::encoded`]).
    /// Needs needles that speak for themselves in any string (hosts, `https://…`; see
    /// [`Replacer::new`]), and the options `replace_in_value` gets. Conservative: `false`
    /// only means "look closer".
    ///
    /// ```
    /// use understudy_phpser::{FlatMarks, Mode, Options, Replacer};
    /// let r = Replacer::new([("www.example.org", "int.example.org")])?;
    /// let marks = FlatMarks::encoded(|m| m.to_vec());
    /// let doc = br#"{"link":"https:\/\/www.example.org\/"}"#;
    /// assert!(r.plain_json(doc, doc, &marks, Options::new(Mode::Auto)));
    /// let nested = br#"{"meta":"a:1:{s:1:\"u\";s:15:\"www.example.org\";}"}"#;
    /// assert!(!r.plain_json(nested, nested, &marks, Options::new(Mode::Auto)));
    /// # Ok::<(), understudy_phpser::BuildError>(())
    /// ```
    pub fn plain_json(
        &self,
        head: &[u8],
        value: &[u8],
        marks: &FlatMarks,
        options: Options,
    ) -> bool {
        // The checks of `replace_value` on its way to plain replacement for such a value:
        // not base64, not serialized (both start otherwise), not a session, and a document
        // `wants_json_or_base64_walk` passes (its base64 answer also covers
        // `replace_json_base64` for a value without a needle).
        matches!(head.first(), Some(b'{' | b'['))
            && (options.mode == Mode::Off
                || (self.flat_json_is_plain
                    && !may_be_session_in(head, value)
                    && marks.flat(value, options.looks_into_base64())))
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

    /// The [`rewrite`](crate::rewrite) callback: replaces in keys, property names and values,
    /// and in class names only if [`Replacer::class_names`] is on. A value that is a JSON
    /// document is rewritten string by string (its strings may hold serialized PHP again).
    fn edit(
        &self,
        role: Role,
        s: &[u8],
        scratch: &mut Vec<u8>,
        tmp: &mut Vec<u8>,
        ctx: &mut Ctx,
    ) -> Edit {
        if role == Role::ClassName && !self.class_names {
            return Edit::Keep;
        }
        // base64 hides the needles from the search: a queued job or a plugin may keep
        // base64 of serialized PHP or JSON inside serialized data.
        if role == Role::Value
            && ctx.options.looks_into_base64()
            && ctx.depth < MAX_WRAP_DEPTH
            && may_be_base64(s)
        {
            scratch.clear();
            match replace_base64(s, self, scratch, ctx.options, ctx.depth + 1) {
                Ok(Some(report)) => {
                    ctx.fallbacks += report.nested_fallbacks;
                    if ctx.warning.is_none() {
                        ctx.warning = report.warning;
                    }
                    return match report.outcome {
                        Outcome::Rewritten => Edit::Replaced,
                        Outcome::Unchanged => Edit::Keep,
                    };
                }
                Ok(None) => {}
                Err(e) => {
                    ctx.error.get_or_insert(e);
                    return Edit::Keep;
                }
            }
        }
        let hit = self.search(s, ctx.options);
        // A JSON document without a needle in sight may still hold base64 of one.
        let nested = !hit
            && role == Role::Value
            && ctx.options.looks_into_base64()
            && ctx.depth < MAX_WRAP_DEPTH
            && may_hold_base64(s);
        if !hit && !nested {
            return Edit::Keep;
        }
        if role == Role::Value
            && ctx.options.encodings()
            && ctx.depth < MAX_WRAP_DEPTH
            && (nested || self.wants_json_walk(s))
        {
            match replace_json(s, self, scratch, ctx) {
                Ok(Some(true)) => return Edit::Replaced,
                Ok(Some(false)) => return Edit::Keep,
                Ok(None) => {}
                // Strict mode: remembered, returned once the rewrite is over.
                Err(e) => {
                    ctx.error.get_or_insert(e);
                    return Edit::Keep;
                }
            }
        }
        scratch.clear();
        if self.replace(s, scratch, tmp) {
            Edit::Replaced
        } else {
            Edit::Keep
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

/// How [`replace_in_value`] treats a value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mode {
    /// Parse values that [look serialized](crate::looks_serialized); if one does not parse,
    /// replace in its bytes and report a warning. Other values: plain byte replacement.
    #[default]
    Auto,
    /// Plain byte replacement everywhere, as `sed` would (and with the same damage).
    Off,
    /// Like `Auto`, but a value that does not parse is parsed again with
    /// [`Rewriter::repair`], which recomputes wrong `s:N` and `C:` lengths (left behind by
    /// earlier `sed` runs). Values that parse but contain no needle are still checked, so this mode
    /// parses every value that looks serialized.
    Repair,
}

/// Options for [`replace_in_value`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    mode: Mode,
    strict: bool,
    /// Whether base64 of serialized PHP or JSON is looked into.
    base64: bool,
    /// Set only by the benchmark of what the checks cost (default off, so checks on).
    skip_encodings: bool,
}

impl Options {
    /// Options with the given mode, not strict.
    pub fn new(mode: Mode) -> Options {
        Options {
            mode,
            strict: false,
            base64: true,
            skip_encodings: false,
        }
    }

    /// Whether values that are base64 of serialized PHP or JSON (whole values, or strings
    /// inside serialized or JSON values) are decoded, rewritten and encoded again (the
    /// default), or left as they are.
    pub fn base64(mut self, yes: bool) -> Options {
        self.base64 = yes;
        self
    }

    /// Whether base64 is looked into (see [`Options::base64`]).
    pub fn looks_into_base64(&self) -> bool {
        self.base64 && self.encodings()
    }

    /// Strict: a value that looks serialized but does not parse (or repair) is an error
    /// instead of getting a plain replacement and a warning.
    pub fn strict(mut self, yes: bool) -> Options {
        self.strict = yes;
        self
    }

    /// The mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Whether corrupt-looking values are errors.
    pub fn is_strict(&self) -> bool {
        self.strict
    }

    /// Leaves out the encoding checks (PHP sessions, base64, JSON documents, and the
    /// JSON-escaped needles in the prefilter), so that only the rewrite they extend is left.
    /// For the benchmark that measures what they cost (`benches/benches/encodings.rs`): the
    /// same function minus only the checks.
    #[doc(hidden)]
    pub fn without_encoding_checks(mut self) -> Options {
        self.skip_encodings = true;
        self
    }

    fn encodings(&self) -> bool {
        !self.skip_encodings
    }
}

/// What [`replace_in_value`] did with one value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// Whether `out` holds a new value.
    pub outcome: Outcome,
    /// The value was rewritten as serialized data (it parsed, possibly after repair).
    pub serialized: bool,
    /// [`Mode::Repair`] fixed wrong string lengths.
    pub repaired: bool,
    /// The value looked serialized but did not parse, so the needles were replaced in its
    /// bytes; why it did not parse. Lengths in it may now be wrong.
    pub warning: Option<Error>,
    /// The value was base64 of serialized PHP or JSON, rewritten inside and encoded again
    /// with the same alphabet and padding.
    pub base64: bool,
    /// The value was PHP session data (`name|<serialized>…`, the default `php` session
    /// handler, or the `php_binary` one) and its serialized parts were rewritten.
    pub session: bool,
    /// JSON strings were rewritten one by one (decoded, replaced in, escaped again): the
    /// value is a JSON document, or one is inside it.
    pub json: bool,
    /// Strings inside the value that looked serialized but did not parse (nor repair, in
    /// [`Mode::Repair`]), so the needles were replaced in them as text; see
    /// [`Rewriter::nested_fallbacks`].
    pub nested_fallbacks: usize,
}

impl Report {
    fn plain(outcome: Outcome) -> Report {
        Report {
            outcome,
            serialized: false,
            repaired: false,
            base64: false,
            session: false,
            json: false,
            warning: None,
            nested_fallbacks: 0,
        }
    }

    /// Adds what the rewrite found inside JSON strings.
    fn absorb(mut self, ctx: Ctx) -> Report {
        self.json |= ctx.json;
        self.serialized |= ctx.serialized;
        self.nested_fallbacks += ctx.fallbacks;
        if self.warning.is_none() {
            self.warning = ctx.warning;
        }
        self
    }
}

/// How deep JSON documents and the values in their strings may wrap each other; deeper ones
/// get plain replacement.
const MAX_WRAP_DEPTH: usize = 16;

/// What the rewrite of one value needs and finds on its way through JSON strings.
#[derive(Debug)]
struct Ctx {
    options: Options,
    /// JSON documents entered so far.
    depth: usize,
    /// A strict-mode error inside a JSON string (the rewrite callback cannot return it).
    error: Option<Error>,
    warning: Option<Error>,
    fallbacks: usize,
    json: bool,
    serialized: bool,
}

impl Ctx {
    fn new(options: Options, depth: usize) -> Ctx {
        Ctx {
            options,
            depth,
            error: None,
            warning: None,
            fallbacks: 0,
            json: false,
            serialized: false,
        }
    }
}

/// Why a JSON rewrite stopped.
enum JsonStop {
    NotJson,
    Strict(Error),
}

impl From<json::NotJson> for JsonStop {
    fn from(_: json::NotJson) -> JsonStop {
        JsonStop::NotJson
    }
}

/// Rewrites the JSON document `text` into `out` (appended): keys get plain replacement, value
/// strings all that [`replace_in_value`] does (serialized PHP, base64, JSON again). `None` if
/// it is not JSON after all, or cannot hold the result (`out` is then as it was).
fn replace_json(
    text: &[u8],
    replacer: &Replacer,
    out: &mut Vec<u8>,
    ctx: &mut Ctx,
) -> Result<Option<bool>, Error> {
    let (mut tmp, mut scratch) = (Vec::new(), None);
    let result = json::rewrite(text, out, |is_key, s, new| {
        // A value string may be base64 of serialized PHP or JSON, where no needle shows, or
        // hold such base64.
        let base64 = || ctx.options.looks_into_base64() && (may_be_base64(s) || may_hold_base64(s));
        if !replacer.is_match(s) && (is_key || !base64()) {
            return Ok(false);
        }
        if is_key {
            return Ok(replacer.replace(s, new, &mut tmp));
        }
        let scratch = scratch.get_or_insert_with(Scratch::new);
        let report = replace_value(s, replacer, scratch, new, ctx.options, ctx.depth + 1)
            .map_err(JsonStop::Strict)?;
        ctx.serialized |= report.serialized;
        ctx.json |= report.json;
        ctx.fallbacks += report.nested_fallbacks;
        if ctx.warning.is_none() {
            ctx.warning = report.warning;
        }
        Ok(report.outcome == Outcome::Rewritten)
    });
    match result {
        Ok(changed) => {
            ctx.json |= changed;
            Ok(Some(changed))
        }
        Err(JsonStop::NotJson) => Ok(None),
        Err(JsonStop::Strict(e)) => Err(e),
    }
}

/// One `name|value` part of session data: the byte ranges of the name and of the serialized
/// value.
pub type SessionPart = (Range<usize>, Range<usize>);

/// The parts of a value in PHP's default session encoding (`session.serialize_handler =
/// php`, what `session_encode()` writes): `name|<serialized value>` back to back, as Elgg,
/// Symfony and Drupal store sessions. Returns `(name, value)` ranges, or `None` unless the
/// whole value is made of such parts.
pub fn session_parts(value: &[u8]) -> Option<Vec<SessionPart>> {
    parse_session(value).ok()
}

/// Like [`session_parts`], with the reason a value that starts like a session is not one:
/// `Err(None)` when it does not even start like one.
fn parse_session(value: &[u8]) -> Result<Vec<SessionPart>, Option<Error>> {
    let mut parts = Vec::new();
    let mut pos = 0;
    while pos < value.len() {
        let bar = match memchr::memchr(b'|', &value[pos..]) {
            Some(k) => pos + k,
            None if parts.is_empty() => return Err(None),
            None => {
                return Err(Some(Error::expected(
                    pos,
                    "`name|` of a session variable",
                    None,
                )))
            }
        };
        // PHP refuses names with `|` or `!`; an empty name cannot be written either.
        let name_ok = bar > pos && !value[pos..bar].contains(&b'!');
        let start = bar + 1;
        if parts.is_empty() && !(name_ok && looks_like_value_start(&value[start..])) {
            return Err(None);
        }
        if !name_ok {
            return Err(Some(Error::expected(
                pos,
                "a session variable name",
                value.get(pos).copied(),
            )));
        }
        let end = start + serialized_len(&value[start..]).map_err(|e| Some(e.shifted(start)))?;
        parts.push((pos..bar, start..end));
        pos = end;
    }
    if parts.is_empty() {
        return Err(None);
    }
    Ok(parts)
}

/// The parts of a value in PHP's `php_binary` session encoding (`session.serialize_handler =
/// php_binary`): per variable one byte with the name's length (at most 127), the name, and its
/// serialized value. A length byte with the high bit (0x80) set marks a variable PHP 5 wrote
/// as undefined: a name without a value (its part's value range is empty; PHP 7 and later
/// never write one). Returns `(name, value)` ranges, or `None` unless the whole value is made
/// of such parts, each value parsing completely.
pub fn binary_session_parts(value: &[u8]) -> Option<Vec<SessionPart>> {
    const UNDEF: u8 = 0x80;
    let mut parts = Vec::new();
    let mut pos = 0;
    while let Some(&len) = value.get(pos) {
        let name = pos + 1..pos + 1 + usize::from(len & !UNDEF);
        if name.end > value.len() {
            return None;
        }
        let start = name.end;
        let end = if len & UNDEF != 0 {
            start
        } else {
            // A complete value must follow; checking its first bytes first keeps text that
            // merely starts with a control byte from reaching the parser.
            if !looks_like_value_start(&value[start..]) {
                return None;
            }
            start + serialized_len(&value[start..]).ok()?
        };
        parts.push((name, start..end));
        pos = end;
    }
    (!parts.is_empty()).then_some(parts)
}

/// A cheap test before the session parsers: a `php` session has a `|` after a first name
/// without `!`, so the scan stops at the first `!` (Gutenberg posts start `<!--`); a
/// `php_binary` one a serialized value right after its first name.
fn may_be_session(value: &[u8]) -> bool {
    may_be_session_in(value, value)
}

/// [`may_be_session`] from the value's first [`PLAIN_HEAD`] bytes and the whole value in a
/// form that writes each `|` and `!` as it is and no other byte as one of them.
fn may_be_session_in(head: &[u8], value: &[u8]) -> bool {
    let binary = head.first().is_some_and(|&len| {
        looks_like_value_start(head.get(1 + usize::from(len & 0x7f)..).unwrap_or_default())
            || len & 0x80 != 0
    });
    binary || memchr::memchr2(b'|', b'!', value).is_some_and(|k| value[k] == b'|')
}

/// How many bytes of a value's start [`plain_text`] looks at: the longest `php_binary`
/// session name (127) with its length byte, and the start of the value after it.
pub const PLAIN_HEAD: usize = 1 + 127 + 3;

/// Whether [`replace_in_value`] surely treats a value as plain text, whatever its bytes after
/// `head`: it cannot be base64 of serialized PHP or JSON, serialized PHP, a PHP session or a
/// JSON document. Then replacing the needles as plain bytes is all it does, and a caller
/// may do that on the value in another form (SQL-escaped) without decoding it first.
///
/// `head` is the value's first [`PLAIN_HEAD`] bytes (all of it, if shorter). `value` is the
/// whole value, decoded or in a form that writes each `|`, `!` and base64 byte as it is and
/// turns any other byte into bytes that are not all base64 (SQL escaping does so): a `php`
/// session has a `|` before any `!`. Conservative: `false` only means "look closer".
///
/// ```
/// use understudy_phpser::plain_text;
/// assert!(plain_text(b"<!-- wp:paragraph -->", b"<!-- wp:paragraph -->"));
/// assert!(!plain_text(b"a:1:{i:0;i:1;}", b"a:1:{i:0;i:1;}"));
/// assert!(!plain_text(b"  {\"url\":1}", b"  {\"url\":1}"));
/// ```
pub fn plain_text(head: &[u8], value: &[u8]) -> bool {
    let Some(&first) = head.first() else {
        return true;
    };
    // A JSON document, whitespace before it included.
    if first.is_ascii_whitespace() || matches!(first, b'{' | b'[') {
        return false;
    }
    // Serialized PHP, or base64 of it or of JSON.
    if looks_like_value_start(head) || may_be_base64(value) {
        return false;
    }
    // A `php_binary` session: a length byte, a name, a serialized value. `head` holds
    // whatever may follow the longest name.
    let after_name = 1 + usize::from(first & 0x7f);
    if first & 0x80 != 0 || looks_like_value_start(head.get(after_name..).unwrap_or_default()) {
        return false;
    }
    // A `php` session.
    memchr::memchr2(b'|', b'!', value).is_none_or(|k| value[k] != b'|')
}

/// Whether serialized data may start here (`a:`, `s:`, `i:`, `N;` …).
fn looks_like_value_start(v: &[u8]) -> bool {
    matches!(
        v,
        [
            b'a' | b'O' | b'C' | b's' | b'S' | b'i' | b'd' | b'b' | b'E' | b'r' | b'R',
            b':',
            ..
        ] | [b'N', b';', ..]
    )
}

/// Whether `value` may be base64 of serialized PHP or JSON: the first bytes of `a:`, `O:`,
/// `s:`, `C:` (`YTo`, `Tzo`, `czo`, `Qzo`: a queued `Serializable` job), a JSON object
/// (`ey` for `{"` and `{ `, `ew` for `{` and a line break, as `JSON_PRETTY_PRINT` writes it)
/// or array (`W`, then `w`…`z`, a digit, `+`, `/`, `-` or `_`) encoded, and nothing but
/// base64 after them. Cheap; a needle cannot be seen in base64 text, so callers that skip
/// values without a needle must not skip these.
#[inline]
pub fn may_be_base64(value: &[u8]) -> bool {
    starts_like_base64(value) && value.iter().all(|&b| is_base64_byte(b))
}

/// Whether `text` starts the way base64 of serialized PHP or JSON does, as
/// [`may_be_base64`] and [`may_hold_base64`] look for it: a prefix of theirs, and 8 bytes of
/// base64. For callers that find where strings start (`text` runs on past the string's end;
/// the quote that ends it is not base64): base64 [`may_be_base64`] finds starts a value,
/// base64 [`may_hold_base64`] finds follows a `"`, SQL-escaped to `\"` or not.
///
/// ```
/// use understudy_phpser::starts_like_base64;
/// assert!(starts_like_base64(b"YToxOntpOjA7czo1OiJ4In0=','next'"));
/// assert!(!starts_like_base64(b"YTo',1"));
/// assert!(!starts_like_base64(b"What is it"));
/// ```
#[inline]
pub fn starts_like_base64(text: &[u8]) -> bool {
    // The first two bytes rule out nearly every text, without a call: the dump lexer asks at
    // every string and every `\"`.
    matches!(
        text,
        [b'Y', b'T', ..] | [b'T' | b'c' | b'Q', b'z', ..] | [b'e', b'y' | b'w', ..] | [b'W', b'w'..=b'z' | b'0'..=b'9' | b'+' | b'/' | b'-' | b'_', ..]
    ) && base64_head(text)
}

/// The bytes that may follow the `W` of base64 of a JSON array: `[` is `010110 11`, so the
/// second character holds `11` and four bits of the next byte (`w`…`z`, `0`…`9`, `+` and
/// `/`, or `-` and `_` in the URL-safe alphabet).
pub(crate) const ARRAY_SECOND: &[u8] = b"wxyz0123456789+/-_";

/// [`starts_like_base64`] after its first test.
#[inline(never)]
fn base64_head(text: &[u8]) -> bool {
    text.first_chunk::<8>().is_some_and(|head| {
        BASE64_PREFIXES.iter().any(|p| head.starts_with(p))
            && head.iter().all(|&b| is_base64_byte(b))
    })
}

/// How base64 of serialized PHP or JSON starts (see [`may_be_base64`]). `{}` (`e30=`) is too
/// short to hold anything.
const BASE64_PREFIXES: [&[u8]; 7] = [b"YTo", b"Tzo", b"czo", b"Qzo", b"ey", b"ew", b"W"];

/// A byte of the standard or the URL-safe base64 alphabet, or padding.
fn is_base64_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_' | b'=')
}

/// Decodes base64 that holds complete serialized PHP or JSON; returns the engine to encode it
/// again with the same alphabet and padding.
fn decode_base64(value: &[u8], out: &mut Vec<u8>) -> Option<base64::engine::GeneralPurpose> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    use base64::Engine;
    let url = value.iter().any(|&b| b == b'-' || b == b'_');
    let padded = value.ends_with(b"=") || value.len().is_multiple_of(4);
    let engine = match (url, padded) {
        (false, true) => STANDARD,
        (false, false) => STANDARD_NO_PAD,
        (true, true) => URL_SAFE,
        (true, false) => URL_SAFE_NO_PAD,
    };
    out.clear();
    engine.decode_vec(value, out).ok()?;
    // Only what decodes to something complete: a base64-looking word stays a word.
    let complete = if looks_serialized(out) {
        serialized_len(out).is_ok_and(|n| n == out.len())
    } else {
        serde_json::from_slice::<serde_json::Value>(out).is_ok()
    };
    // Re-encoding must give the input back, or the alphabet/padding guess was wrong.
    (complete && engine.encode(&*out).as_bytes() == value).then_some(engine)
}

/// The length of the one serialized value at the start of `input` (more may follow).
fn serialized_len(input: &[u8]) -> Result<usize, Error> {
    let mut parser = Parser::new(input);
    loop {
        if parser.next()?.is_none() {
            return Err(Error::expected(parser.offset(), "a serialized value", None));
        }
        if parser.depth() == 0 {
            return Ok(parser.offset());
        }
    }
}

/// Per-thread buffers for [`replace_in_value`]: reuse one for every value.
#[derive(Clone, Debug, Default)]
pub struct Scratch {
    rewriter: Rewriter,
    tmp: Vec<u8>,
}

impl Scratch {
    /// Buffers with the default nesting limit.
    pub fn new() -> Scratch {
        Scratch::default()
    }

    /// Buffers for a rewriter with the given nesting limit (see [`Rewriter::with_max_depth`]).
    pub fn with_max_depth(limit: usize) -> Scratch {
        Scratch {
            rewriter: Rewriter::with_max_depth(limit),
            tmp: Vec::new(),
        }
    }
}

/// Applies `replacer` to one (unescaped) column value, keeping serialized PHP intact.
///
/// - A value that does not [look serialized](crate::looks_serialized), or any value in
///   [`Mode::Off`], gets plain byte replacement.
/// - If no needle occurs anywhere in the value (one Aho-Corasick pass), nothing is parsed and
///   the answer is [`Outcome::Unchanged`], except in [`Mode::Repair`] and for values with an
///   `S:` string (whose escapes can hide a needle).
/// - Otherwise the value is [rewritten](Rewriter::rewrite) with the replacer applied to every
///   key, property name and value string, recursing into nested serialized strings.
/// - If it does not parse: in [`Mode::Repair`] it is [repaired](Rewriter::repair) if
///   possible; else, unless strict, it gets plain byte replacement and
///   [`Report::warning`] says where parsing failed.
///
/// On [`Outcome::Unchanged`] `out` is empty and the value stays as it is.
///
/// ```
/// use understudy_phpser::{replace_in_value, Mode, Options, Outcome, Replacer, Scratch};
///
/// let r = Replacer::new([("https://www.example.org", "http://localhost:8080")])?;
/// let mut scratch = Scratch::new();
/// let mut out = Vec::new();
/// let v = br#"a:1:{s:7:"Tickets";s:31:"https://www.example.org/tickets";}"#;
/// let report = replace_in_value(v, &r, &mut scratch, &mut out, Options::new(Mode::Auto))?;
/// assert_eq!(report.outcome, Outcome::Rewritten);
/// assert_eq!(out, br#"a:1:{s:7:"Tickets";s:29:"http://localhost:8080/tickets";}"#);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// Only in strict mode, for a value that looks serialized but does not parse (nor repair, in
/// [`Mode::Repair`]).
pub fn replace_in_value(
    value: &[u8],
    replacer: &Replacer,
    scratch: &mut Scratch,
    out: &mut Vec<u8>,
    options: Options,
) -> Result<Report, Error> {
    replace_value(value, replacer, scratch, out, options, 0)
}

/// [`replace_in_value`] for a value inside `depth` JSON documents.
///
/// Most values are short and hold no needle; their path (one search, a few byte tests) is
/// kept small, and the rare encodings live in functions of their own.
fn replace_value(
    value: &[u8],
    replacer: &Replacer,
    scratch: &mut Scratch,
    out: &mut Vec<u8>,
    options: Options,
    depth: usize,
) -> Result<Report, Error> {
    out.clear();
    if options.mode == Mode::Off {
        return Ok(Report::plain(plain(value, replacer, out, &mut scratch.tmp)));
    }
    // Base64 hides the needles from the search below, so it goes first.
    let base64_lookalike = options.looks_into_base64() && may_be_base64(value);
    if base64_lookalike {
        if let Some(report) = replace_base64(value, replacer, out, options, depth)? {
            return Ok(report);
        }
    }
    // One search for the needles (raw or JSON-escaped) whose answer every check below reuses:
    // without a hit no session, JSON document or plain text can change.
    let hit = replacer.search(value, options);
    if !looks_serialized(value) {
        if !hit {
            if options.looks_into_base64() && depth < MAX_WRAP_DEPTH && may_hold_base64(value) {
                return replace_json_base64(value, replacer, out, options, depth);
            }
            return Ok(Report::plain(Outcome::Unchanged));
        }
        if options.encodings() {
            let wrapped = replace_wrapped(value, replacer, scratch, out, options, depth);
            if let Some(report) = wrapped? {
                return Ok(report);
            }
        }
        let mut report = Report::plain(plain(value, replacer, out, &mut scratch.tmp));
        if base64_lookalike && report.outcome == Outcome::Rewritten {
            // A base64-looking word that holds a needle as it is: replaced as text, which
            // may have broken a token; said, or refused when strict.
            let e = Error::new(0, crate::ErrorKind::NotBase64Data);
            if options.strict {
                out.clear();
                return Err(e);
            }
            report.warning = Some(e);
        }
        return Ok(report);
    }
    if options.mode != Mode::Repair
        && !hit
        && memmem::find(value, b"S:").is_none()
        && !(options.looks_into_base64() && may_hold_base64(value))
    {
        return Ok(Report::plain(Outcome::Unchanged));
    }
    replace_serialized(value, replacer, scratch, out, options, depth)
}

/// [`replace_value`] for a value without a needle in sight that may be a JSON document
/// with base64 of serialized PHP or JSON in its strings.
#[inline(never)]
fn replace_json_base64(
    value: &[u8],
    replacer: &Replacer,
    out: &mut Vec<u8>,
    options: Options,
    depth: usize,
) -> Result<Report, Error> {
    let mut ctx = Ctx::new(options, depth);
    let changed = replace_json(value, replacer, out, &mut ctx)?;
    if changed != Some(true) {
        out.clear();
        return Ok(Report::plain(Outcome::Unchanged));
    }
    Ok(Report::plain(Outcome::Rewritten).absorb(ctx))
}

/// Whether a serialized value or a JSON document may hold, in one of its strings, base64 of
/// serialized PHP or JSON (see [`may_be_base64`]): a `"` followed by the first letters of
/// such base64. The needles cannot be seen in base64, so callers that skip values without a
/// needle must not skip these. Gives the same answer for the value SQL-escaped.
///
/// ```
/// use understudy_phpser::may_hold_base64;
/// assert!(may_hold_base64(br#"a:1:{s:3:"job";s:12:"YToxOntpOjA7";}"#));
/// assert!(may_hold_base64(br#"{"state":"eyJ1cmwiOiJ4In0="}"#));
/// assert!(!may_hold_base64(br#"a:1:{s:3:"url";s:5:"https";}"#));
/// assert!(!may_hold_base64(br#"about "YToxOntpOjA7""#));
/// ```
#[inline]
pub fn may_hold_base64(value: &[u8]) -> bool {
    // Called for every value without a needle: the first two bytes rule out nearly all of
    // them without a call.
    may_nest_base64(value) && holds_base64(value)
}

/// Whether [`may_hold_base64`] looks inside a value that starts with `head`: serialized
/// PHP (`a:`, `O:`, `C:`, `s:`) or a JSON document (`{`, `[`, whitespace before it as the
/// JSON walk allows). The same for the value SQL-escaped (a line break written `\n`).
///
/// ```
/// use understudy_phpser::may_nest_base64;
/// assert!(may_nest_base64(b"a:1:{"));
/// assert!(may_nest_base64(b" \n[\"x\"]"));
/// assert!(!may_nest_base64(b"<p>Hello"));
/// ```
#[inline]
pub fn may_nest_base64(head: &[u8]) -> bool {
    match head {
        [b'a' | b'O' | b'C' | b's', b':', ..] | [b'{' | b'[', ..] => true,
        [b' ' | b'\t' | b'\n' | b'\r' | b'\\', ..] => after_json_space(head),
        _ => false,
    }
}

/// [`may_nest_base64`] for a value that starts with whitespace, or with a backslash (an
/// escaped line break): whether `{` or `[` follows it.
#[inline(never)]
fn after_json_space(mut head: &[u8]) -> bool {
    loop {
        head = match head {
            [b' ' | b'\t' | b'\n' | b'\r', rest @ ..] | [b'\\', b'n' | b'r', rest @ ..] => rest,
            [b'{' | b'[', ..] => return true,
            _ => return false,
        };
    }
}

/// The scan of [`may_hold_base64`], for serialized and JSON values.
#[inline(never)]
fn holds_base64(value: &[u8]) -> bool {
    // Found by their rarest letters, `z` of `Tzo`, `czo` and `Qzo`, `Y` of `YTo` and `W`,
    // and by `"ey` and `"ew` whole (`"e` alone starts many JSON keys), in SIMD passes that
    // seldom stop outside base64: stopping at every `"` of a serialized value instead, or a
    // substring search per prefix, cost more than all the other checks together on the
    // generated WordPress dump (BENCHMARKS.md).
    let base64_after =
        |quote: usize| value.get(quote) == Some(&b'"') && starts_like_base64(&value[quote + 1..]);
    let [ey, ew] = &*OBJECT_STARTS;
    memchr::memchr3_iter(b'z', b'Y', b'W', value).any(|at| {
        let back = if value[at] == b'z' { 2 } else { 1 };
        base64_after(at.wrapping_sub(back))
    }) || ey.find_iter(value).any(base64_after)
        || ew.find_iter(value).any(base64_after)
}

/// `"ey` and `"ew`, searched for by [`holds_base64`]; built once, as they are searched for
/// per value.
static OBJECT_STARTS: std::sync::LazyLock<[memmem::Finder<'static>; 2]> =
    std::sync::LazyLock::new(|| [memmem::Finder::new(b"\"ey"), memmem::Finder::new(b"\"ew")]);

/// Plain byte replacement of `value` into `out`.
fn plain(value: &[u8], replacer: &Replacer, out: &mut Vec<u8>, tmp: &mut Vec<u8>) -> Outcome {
    if replacer.replace(value, out, tmp) {
        Outcome::Rewritten
    } else {
        Outcome::Unchanged
    }
}

/// [`replace_value`] for base64 of serialized PHP or JSON; `None` if `value` is not that.
#[inline(never)]
fn replace_base64(
    value: &[u8],
    replacer: &Replacer,
    out: &mut Vec<u8>,
    options: Options,
    depth: usize,
) -> Result<Option<Report>, Error> {
    let mut decoded = Vec::new();
    let Some(engine) = decode_base64(value, &mut decoded) else {
        return Ok(None);
    };
    let mut inner = Vec::new();
    let mut nested = Scratch::default();
    let mut report = replace_value(&decoded, replacer, &mut nested, &mut inner, options, depth)?;
    if report.outcome == Outcome::Rewritten {
        use base64::Engine;
        out.extend_from_slice(engine.encode(&inner).as_bytes());
    }
    report.base64 = true;
    Ok(Some(report))
}

/// [`replace_value`] for a value with a needle that does not look serialized: a PHP session
/// or a JSON document. `None` if it is neither (it then gets plain replacement).
#[inline(never)]
fn replace_wrapped(
    value: &[u8],
    replacer: &Replacer,
    scratch: &mut Scratch,
    out: &mut Vec<u8>,
    options: Options,
    depth: usize,
) -> Result<Option<Report>, Error> {
    let Scratch { rewriter, tmp } = scratch;
    if may_be_session(value) {
        // `php` first, then `php_binary`; a `|` inside a binary session's strings can make it
        // start like a `php` one.
        let parts = match parse_session(value) {
            Ok(parts) => Some(parts),
            Err(e) => match (binary_session_parts(value), e) {
                (Some(parts), _) => Some(parts),
                (None, None) => None,
                // Starts like a session but is not one: plain bytes, with a warning (or an
                // error).
                (None, Some(e)) if options.strict => return Err(e),
                (None, Some(e)) => {
                    let mut report = Report::plain(plain(value, replacer, out, tmp));
                    report.warning = Some(e);
                    return Ok(Some(report));
                }
            },
        };
        if let Some(parts) = parts {
            let mut ctx = Ctx::new(options, depth);
            let mut outcome = Outcome::Unchanged;
            let mut part = Vec::new();
            let mut copied = 0;
            for (_, data) in parts {
                // The name with its `|` or its length byte, kept as it is.
                out.extend_from_slice(&value[copied..data.start]);
                copied = data.end;
                if data.is_empty() {
                    continue;
                }
                let edit = |role: Role, s: &[u8], scr: &mut Vec<u8>| {
                    replacer.edit(role, s, scr, tmp, &mut ctx)
                };
                match rewriter.rewrite(&value[data.clone()], &mut part, edit) {
                    Ok(Outcome::Rewritten) => {
                        outcome = Outcome::Rewritten;
                        out.extend_from_slice(&part);
                    }
                    Ok(Outcome::Unchanged) => out.extend_from_slice(&value[data]),
                    // It parsed as a prefix above; a failure here is a nesting limit. Treat the
                    // value as text, as for any value that does not parse.
                    Err(_) => {
                        out.clear();
                        return Ok(Some(Report::plain(plain(value, replacer, out, tmp))));
                    }
                }
            }
            if let Some(e) = ctx.error {
                out.clear();
                return Err(e);
            }
            if outcome == Outcome::Unchanged {
                out.clear();
            }
            let mut report = Report::plain(outcome);
            report.serialized = true;
            report.session = true;
            return Ok(Some(report.absorb(ctx)));
        }
    }
    if depth < MAX_WRAP_DEPTH
        && replacer.wants_json_or_base64_walk(value, options.looks_into_base64())
    {
        let mut ctx = Ctx::new(options, depth);
        if let Some(changed) = replace_json(value, replacer, out, &mut ctx)? {
            let outcome = if changed {
                Outcome::Rewritten
            } else {
                Outcome::Unchanged
            };
            return Ok(Some(Report::plain(outcome).absorb(ctx)));
        }
    }
    Ok(None)
}

/// [`replace_value`] for a value that looks serialized (and may hold a needle).
fn replace_serialized(
    value: &[u8],
    replacer: &Replacer,
    scratch: &mut Scratch,
    out: &mut Vec<u8>,
    options: Options,
    depth: usize,
) -> Result<Report, Error> {
    let Scratch { rewriter, tmp } = scratch;
    let mut ctx = Ctx::new(options, depth);
    let edit = |role: Role, s: &[u8], scr: &mut Vec<u8>| replacer.edit(role, s, scr, tmp, &mut ctx);
    let result = if options.mode == Mode::Repair {
        rewriter.repair(value, out, edit)
    } else {
        rewriter.rewrite(value, out, edit)
    };
    let err = match (result, ctx.error.take()) {
        (Ok(_), Some(e)) => {
            out.clear();
            return Err(e);
        }
        (Ok(outcome), None) => {
            let report = Report {
                outcome,
                serialized: true,
                repaired: options.mode == Mode::Repair && rewriter.repairs() > 0,
                base64: false,
                session: false,
                json: false,
                warning: None,
                nested_fallbacks: rewriter.nested_fallbacks(),
            };
            return Ok(report.absorb(ctx));
        }
        (Err(e), _) => e,
    };
    if options.strict {
        return Err(err);
    }
    let mut report = Report::plain(plain(value, replacer, out, tmp));
    report.warning = Some(err);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
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
