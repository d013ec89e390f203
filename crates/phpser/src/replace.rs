//! [`replace_in_value`]: one column value, whatever it holds, with the needles replaced
//! the way PHP will read it.
//!
//! A value may be serialized PHP, a PHP session, a JSON document, base64 of serialized PHP
//! or JSON, or text, and each may hold the others in its strings: WordPress keeps JSON in
//! serialized options, page builders keep serialized PHP in JSON, job queues keep base64 of
//! either. This module decides per value which it is, and recurses through the wrappers (to
//! [`MAX_WRAP_DEPTH`], then plain replacement) so that every length PHP checks stays right.
//! The recognizers live in modules of their own (`session`, `base64`, `json`, and the
//! [`Replacer`]'s searches); this one decides and combines.
//!
//! Most values are short and hold no needle: their path is one needle search, whose answer
//! every later check reuses, and a few byte tests; the rare encodings live in functions of
//! their own (`#[inline(never)]`) so that path stays small.

use memchr::memmem;

use crate::base64::{decode_base64, may_be_base64, may_hold_base64};
use crate::error::Error;
use crate::json;
use crate::parse::{looks_serialized, Role};
use crate::replacer::Replacer;
use crate::rewrite::{Edit, Outcome, Rewriter};
use crate::session::{binary_session_parts, may_be_session, parse_session};

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

    #[inline]
    pub(crate) fn encodings(&self) -> bool {
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

impl Replacer {
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
        if role == Role::ClassName && !self.replaces_class_names() {
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

/// Plain byte replacement of `value` into `out`.
fn plain(value: &[u8], replacer: &Replacer, out: &mut Vec<u8>, tmp: &mut Vec<u8>) -> Outcome {
    if replacer.replace(value, out, tmp) {
        Outcome::Rewritten
    } else {
        Outcome::Unchanged
    }
}
