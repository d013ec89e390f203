//! The rewriter: [`rewrite`], [`Rewriter`], [`Edit`] and [`Outcome`].
//!
//! It walks the [`Parser`]'s items and copies the input lazily: nothing is written until the
//! first string changes, then everything before it is copied as one slice, the changed string
//! gets a new `s:N:"…";` header, and copying resumes after it. Numbers, references, class
//! names and the structure are never re-serialized, so an untouched `d:0.30000000000000004;`
//! stays exactly that.

use std::ops::Range;

use crate::error::{Error, ErrorKind};
use crate::parse::{looks_serialized, unescape, Frame, Item, Parser, Role, DEFAULT_MAX_DEPTH};
use crate::repair::repair_lengths;

/// What the [`rewrite`] callback did with a string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edit {
    /// Leave the string as it is (`scratch` is ignored).
    Keep,
    /// The callback wrote the new string into `scratch`.
    Replaced,
}

/// Whether a rewrite changed anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing changed; `out` is empty and the caller reuses the input.
    Unchanged,
    /// `out` holds the complete new value.
    Rewritten,
}

/// Rewrites every string of the serialized value `input` through `edit`, writing the result to
/// `out`. A convenience for [`Rewriter::rewrite`] that allocates its buffers on each call.
///
/// ```
/// use understudy_phpser::{rewrite, Edit, Outcome, Role};
///
/// let input = br#"a:1:{s:3:"url";s:19:"http://example.org/";}"#;
/// let mut out = Vec::new();
/// let outcome = rewrite(input, &mut out, |role, s, scratch| {
///     if role == Role::Value && s.starts_with(b"http://") {
///         scratch.extend_from_slice(b"https://");
///         scratch.extend_from_slice(&s[7..]);
///         Edit::Replaced
///     } else {
///         Edit::Keep
///     }
/// })?;
/// assert_eq!(outcome, Outcome::Rewritten);
/// assert_eq!(out, br#"a:1:{s:3:"url";s:20:"https://example.org/";}"#);
/// # Ok::<(), understudy_phpser::Error>(())
/// ```
///
/// # Errors
///
/// When `input` is not one complete serialized value; see [`Rewriter::rewrite`].
pub fn rewrite<F>(input: &[u8], out: &mut Vec<u8>, edit: F) -> Result<Outcome, Error>
where
    F: FnMut(Role, &[u8], &mut Vec<u8>) -> Edit,
{
    Rewriter::new().rewrite(input, out, edit)
}

/// A reusable rewriter: [`rewrite`] with buffers that survive from one value to the next, so
/// rewriting a dump allocates only while the buffers grow. One per thread.
#[derive(Clone, Debug)]
pub struct Rewriter {
    max_depth: usize,
    /// One set of buffers per level of serialized-string nesting.
    levels: Vec<Level>,
    /// Handed to the callback, cleared before each call.
    scratch: Vec<u8>,
    /// Nested candidates that did not parse in the last run.
    fallbacks: usize,
    /// Values (the whole one or nested ones) whose lengths the last run repaired.
    repairs: usize,
}

#[derive(Clone, Debug, Default)]
struct Level {
    stack: Vec<Frame>,
    /// The rewritten form of a nested serialized string or `C:` payload at this level.
    child: Vec<u8>,
    /// A decoded `S:` string, or a replaced class name of a `C:` object.
    text: Vec<u8>,
    /// The value with its lengths repaired.
    fixed: Vec<u8>,
    /// Where the strings and payloads whose lengths were repaired are in `fixed`.
    bodies: Vec<Range<usize>>,
}

/// What became of one string.
enum Leaf {
    Keep,
    /// In `Level::child`.
    Child,
    /// In `Rewriter::scratch`.
    Scratch,
}

impl Default for Rewriter {
    fn default() -> Rewriter {
        Rewriter::new()
    }
}

impl Rewriter {
    /// A rewriter with the [`DEFAULT_MAX_DEPTH`].
    pub fn new() -> Rewriter {
        Rewriter::with_max_depth(DEFAULT_MAX_DEPTH)
    }

    /// A rewriter that gives up ([`ErrorKind::DepthLimit`]) when arrays, objects and
    /// serialized strings inside strings are nested more than `limit` deep, counted together.
    pub fn with_max_depth(limit: usize) -> Rewriter {
        Rewriter {
            max_depth: limit,
            levels: Vec::new(),
            scratch: Vec::new(),
            fallbacks: 0,
            repairs: 0,
        }
    }

    /// The nesting limit.
    pub fn max_depth(&self) -> usize {
        self.max_depth
    }

    /// How many strings (and `C:` payloads) in the value last rewritten
    /// [looked serialized](crate::looks_serialized) but did not parse, and so were handled as
    /// text. Usually values corrupted before; after [`Rewriter::repair`], ones it could not
    /// repair.
    pub fn nested_fallbacks(&self) -> usize {
        self.fallbacks
    }

    /// How many values, the whole one or serialized strings inside it, the last
    /// [`Rewriter::repair`] had to repair.
    pub fn repairs(&self) -> usize {
        self.repairs
    }

    /// Rewrites every string of the serialized value `input` through `edit`.
    ///
    /// `edit(role, bytes, scratch)` is called once for every string, in input order: array
    /// keys ([`Role::Key`]), property names ([`Role::PropertyName`], NUL bytes included),
    /// values ([`Role::Value`]), the class names of `O:`/`C:` objects and `E:` enums
    /// ([`Role::ClassName`]), and the payload of a `C:` object that is not itself serialized
    /// data ([`Role::Value`]). `S:` strings are decoded first. To change a string, the
    /// callback writes the new bytes into `scratch` (cleared before each call) and returns
    /// [`Edit::Replaced`].
    ///
    /// A value string that [looks serialized](crate::looks_serialized) and parses as one
    /// complete value (WordPress and Elgg nest these) is not passed to `edit`; its strings are
    /// rewritten instead, to any depth, and its length is recomputed from the result. One that
    /// does not parse is an ordinary string. A `C:` payload is treated the same way (as a
    /// sequence of values, see [`Parser::payload`]) and gets a new length when it changes.
    ///
    /// Everything else is copied byte for byte; a changed `S:` string is written as `s:`.
    /// The callback may also be called for the strings of a nested candidate that then turns
    /// out not to parse; their results are discarded and the candidate is passed to `edit` as
    /// a whole.
    ///
    /// Returns [`Outcome::Unchanged`] (and leaves `out` empty) if nothing changed, otherwise
    /// [`Outcome::Rewritten`] with the new value in `out`. `out` is cleared first.
    ///
    /// # Errors
    ///
    /// If `input` is not exactly one serialized value ([`ErrorKind::LengthOverrun`],
    /// [`ErrorKind::Expected`], [`ErrorKind::TrailingBytes`]), or nests deeper than the limit
    /// ([`ErrorKind::DepthLimit`], also for nested serialized strings). `out` is then empty.
    pub fn rewrite<F>(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        mut edit: F,
    ) -> Result<Outcome, Error>
    where
        F: FnMut(Role, &[u8], &mut Vec<u8>) -> Edit,
    {
        self.run(input, out, false, &mut edit)
    }

    /// Like [`Rewriter::rewrite`], for a value that is well formed except for wrong `s:N`
    /// (and `C:…:N`) lengths, the usual damage left by a `sed` replacement on a dump.
    ///
    /// A string ends at its declared length if a `";` is there and what follows may come next
    /// at that point (a key, a value, a `}` that closes an open array or object, or the end of
    /// the value); otherwise at the first `";` that is. A `C:` payload likewise ends at a `}`.
    /// Every length that was wrong gets the right one, so the result is
    /// [`Outcome::Rewritten`] even if `edit` changed nothing. A nested serialized string (or
    /// `C:` payload) is repaired too, but only if its own length was wrong: damage inside it
    /// would have changed that length, and without it a string that merely looks like a
    /// damaged serialized value (text such as `s:1:"abc";`) is left alone.
    ///
    /// Where several choices of ends make the value parse, the search takes the first (the
    /// declared end first, then the nearest); that can be wrong when a string itself contains
    /// `";` followed by something like `s:0:"`. A wrong guess usually makes the value fail to
    /// parse later on, and the search then tries the next choice, within a work budget.
    ///
    /// # Errors
    ///
    /// As [`Rewriter::rewrite`], for damage other than lengths.
    pub fn repair<F>(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        mut edit: F,
    ) -> Result<Outcome, Error>
    where
        F: FnMut(Role, &[u8], &mut Vec<u8>) -> Edit,
    {
        self.run(input, out, true, &mut edit)
    }

    fn run<F>(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        repair: bool,
        edit: &mut F,
    ) -> Result<Outcome, Error>
    where
        F: FnMut(Role, &[u8], &mut Vec<u8>) -> Edit,
    {
        out.clear();
        self.fallbacks = 0;
        self.repairs = 0;
        match self.level(input, 0, 0, false, repair, out, edit) {
            Ok(true) => Ok(Outcome::Rewritten),
            Ok(false) => {
                out.clear();
                Ok(Outcome::Unchanged)
            }
            Err(e) => {
                out.clear();
                Err(e)
            }
        }
    }

    /// Rewrites one serialized value (or `C:` payload) at nesting level `lvl`, with `depth`
    /// levels of nesting already used. Returns whether anything changed; if so, `out` holds
    /// the whole new value (appended).
    #[allow(clippy::too_many_arguments)]
    fn level<F>(
        &mut self,
        input: &[u8],
        lvl: usize,
        depth: usize,
        payload: bool,
        repair: bool,
        out: &mut Vec<u8>,
        edit: &mut F,
    ) -> Result<bool, Error>
    where
        F: FnMut(Role, &[u8], &mut Vec<u8>) -> Edit,
    {
        if self.levels.len() <= lvl {
            self.levels.resize_with(lvl + 1, Level::default);
        }
        let mut lv = std::mem::take(&mut self.levels[lvl]);
        let (start, fallbacks, repairs) = (out.len(), self.fallbacks, self.repairs);
        let mut result = self.walk_parsed(input, lvl, depth, payload, None, out, &mut lv, edit);
        let fixable = |r: &Result<bool, Error>| matches!(r, Err(e) if !matches!(e.kind(), ErrorKind::DepthLimit { .. }));
        if repair && fixable(&result) {
            let mut fixed = std::mem::take(&mut lv.fixed);
            let mut bodies = std::mem::take(&mut lv.bodies);
            let repaired = repair_lengths(
                input,
                payload,
                depth,
                self.max_depth,
                &mut lv.stack,
                &mut fixed,
                &mut bodies,
            );
            if repaired.is_ok() {
                out.truncate(start);
                (self.fallbacks, self.repairs) = (fallbacks, repairs + 1);
                result = self
                    .walk_parsed(
                        &fixed,
                        lvl,
                        depth,
                        payload,
                        Some(&bodies),
                        out,
                        &mut lv,
                        edit,
                    )
                    .map(|changed| {
                        if !changed {
                            out.extend_from_slice(&fixed);
                        }
                        true
                    });
            }
            lv.fixed = fixed;
            lv.bodies = bodies;
        }
        self.levels[lvl] = lv;
        result
    }

    /// Parses `input` strictly and rewrites it (see [`Rewriter::level`]).
    #[allow(clippy::too_many_arguments)]
    fn walk_parsed<F>(
        &mut self,
        input: &[u8],
        lvl: usize,
        depth: usize,
        payload: bool,
        repaired: Option<&[Range<usize>]>,
        out: &mut Vec<u8>,
        lv: &mut Level,
        edit: &mut F,
    ) -> Result<bool, Error>
    where
        F: FnMut(Role, &[u8], &mut Vec<u8>) -> Edit,
    {
        let stack = std::mem::take(&mut lv.stack);
        let mut parser = Parser::build(input, stack, depth, self.max_depth, payload, false);
        let result = self.walk(&mut parser, input, lvl, depth, repaired, out, lv, edit);
        lv.stack = parser.into_stack();
        result
    }

    #[allow(clippy::too_many_arguments)]
    fn walk<F>(
        &mut self,
        parser: &mut Parser<'_>,
        input: &[u8],
        lvl: usize,
        depth: usize,
        repaired: Option<&[Range<usize>]>,
        out: &mut Vec<u8>,
        lv: &mut Level,
        edit: &mut F,
    ) -> Result<bool, Error>
    where
        F: FnMut(Role, &[u8], &mut Vec<u8>) -> Edit,
    {
        // Damage inside a nested value changes the length of the string that holds it, so a
        // nested value is repaired only if its own length was repaired here.
        let was_repaired = |at: usize| {
            repaired.is_some_and(|bodies| bodies.binary_search_by_key(&at, |r| r.start).is_ok())
        };
        let mut copied = 0;
        let mut changed = false;
        while let Some((item, range)) = parser.next()? {
            let here = depth + parser.depth();
            match item {
                Item::Str(content) => {
                    let at = offset_in(input, content);
                    let leaf = self.leaf(
                        parser.role(),
                        content,
                        at,
                        lvl,
                        here,
                        was_repaired(at),
                        &mut lv.child,
                        edit,
                    )?;
                    let new: &[u8] = match leaf {
                        Leaf::Keep => continue,
                        Leaf::Child => &lv.child,
                        Leaf::Scratch => &self.scratch,
                    };
                    out.extend_from_slice(&input[copied..range.start]);
                    write_str(out, b's', new, b';');
                    copied = range.end;
                    changed = true;
                }
                Item::EscapedStr(raw) => {
                    unescape(raw, &mut lv.text);
                    let at = offset_in(input, raw);
                    let leaf = self.leaf(
                        parser.role(),
                        &lv.text,
                        at,
                        lvl,
                        here,
                        false,
                        &mut lv.child,
                        edit,
                    )?;
                    let new: &[u8] = match leaf {
                        Leaf::Keep => continue,
                        Leaf::Child => &lv.child,
                        Leaf::Scratch => &self.scratch,
                    };
                    out.extend_from_slice(&input[copied..range.start]);
                    write_str(out, b's', new, b';');
                    copied = range.end;
                    changed = true;
                }
                Item::ObjectStart { class, .. } => {
                    if self.class_name(class, edit) {
                        // Keep the element count and `:{` after the class name's `":`.
                        let rest = offset_in(input, class) + class.len() + 2;
                        out.extend_from_slice(&input[copied..range.start]);
                        write_str(out, b'O', &self.scratch, b':');
                        out.extend_from_slice(&input[rest..range.end]);
                        copied = range.end;
                        changed = true;
                    }
                }
                Item::Enum(name) => {
                    if self.class_name(name, edit) {
                        out.extend_from_slice(&input[copied..range.start]);
                        write_str(out, b'E', &self.scratch, b';');
                        copied = range.end;
                        changed = true;
                    }
                }
                Item::Custom { class, payload } => {
                    let new_class = self.class_name(class, edit);
                    if new_class {
                        lv.text.clear();
                        lv.text.extend_from_slice(&self.scratch);
                    }
                    let at = offset_in(input, payload);
                    let new_payload: Option<&[u8]> = if payload.is_empty() {
                        None
                    } else {
                        match self.nested(
                            payload,
                            at,
                            lvl,
                            here,
                            true,
                            was_repaired(at),
                            &mut lv.child,
                            edit,
                        )? {
                            Some(true) => Some(&lv.child),
                            Some(false) => None,
                            None => {
                                self.scratch.clear();
                                match edit(Role::Value, payload, &mut self.scratch) {
                                    Edit::Replaced => Some(&self.scratch),
                                    Edit::Keep => None,
                                }
                            }
                        }
                    };
                    if new_class || new_payload.is_some() {
                        out.extend_from_slice(&input[copied..range.start]);
                        write_str(out, b'C', if new_class { &lv.text } else { class }, b':');
                        let payload = new_payload.unwrap_or(payload);
                        push_usize(out, payload.len());
                        out.extend_from_slice(b":{");
                        out.extend_from_slice(payload);
                        out.push(b'}');
                        copied = range.end;
                        changed = true;
                    }
                }
                Item::Null
                | Item::Bool(_)
                | Item::Int(_)
                | Item::Float(_)
                | Item::ArrayStart { .. }
                | Item::Ref(_)
                | Item::ObjectRef(_)
                | Item::End => {}
            }
        }
        if changed {
            out.extend_from_slice(&input[copied..]);
        }
        Ok(changed)
    }

    /// Offers a class name to `edit`; `true` if it was replaced (the new name is in scratch).
    fn class_name<F>(&mut self, class: &[u8], edit: &mut F) -> bool
    where
        F: FnMut(Role, &[u8], &mut Vec<u8>) -> Edit,
    {
        self.scratch.clear();
        edit(Role::ClassName, class, &mut self.scratch) == Edit::Replaced
    }

    /// One string: recursed into if it is a value holding serialized data, else offered to
    /// `edit`.
    #[allow(clippy::too_many_arguments)]
    fn leaf<F>(
        &mut self,
        role: Role,
        content: &[u8],
        at: usize,
        lvl: usize,
        depth: usize,
        repair: bool,
        child: &mut Vec<u8>,
        edit: &mut F,
    ) -> Result<Leaf, Error>
    where
        F: FnMut(Role, &[u8], &mut Vec<u8>) -> Edit,
    {
        if role == Role::Value && looks_serialized(content) {
            match self.nested(content, at, lvl, depth, false, repair, child, edit)? {
                Some(true) => return Ok(Leaf::Child),
                Some(false) => return Ok(Leaf::Keep),
                None => {}
            }
        }
        self.scratch.clear();
        Ok(match edit(role, content, &mut self.scratch) {
            Edit::Keep => Leaf::Keep,
            Edit::Replaced => Leaf::Scratch,
        })
    }

    /// Rewrites `content` (at offset `at` of this level's input) into `child` as a nested
    /// value. `Some(changed)` if it parsed, `None` if it is not serialized data after all.
    #[allow(clippy::too_many_arguments)]
    fn nested<F>(
        &mut self,
        content: &[u8],
        at: usize,
        lvl: usize,
        depth: usize,
        payload: bool,
        repair: bool,
        child: &mut Vec<u8>,
        edit: &mut F,
    ) -> Result<Option<bool>, Error>
    where
        F: FnMut(Role, &[u8], &mut Vec<u8>) -> Edit,
    {
        if depth >= self.max_depth {
            return Err(Error::new(
                at,
                ErrorKind::DepthLimit {
                    limit: self.max_depth,
                },
            ));
        }
        child.clear();
        let fallbacks = self.fallbacks;
        match self.level(content, lvl + 1, depth + 1, payload, repair, child, edit) {
            Ok(changed) => Ok(Some(changed)),
            Err(e) if matches!(e.kind(), ErrorKind::DepthLimit { .. }) => Err(e.shifted(at)),
            Err(_) => {
                child.clear();
                // Count this string, not what failed inside it. An opaque `C:` payload is
                // normal, not a fallback.
                self.fallbacks = fallbacks + usize::from(!payload);
                Ok(None)
            }
        }
    }
}

/// Where `sub`, a slice of `input`, starts in it.
fn offset_in(input: &[u8], sub: &[u8]) -> usize {
    (sub.as_ptr() as usize).saturating_sub(input.as_ptr() as usize)
}

/// Writes `T:len:"bytes"E`: a string (`s`, `;`), an enum (`E`, `;`), or the start of an
/// object header (`O`/`C`, `:`).
fn write_str(out: &mut Vec<u8>, tag: u8, bytes: &[u8], end: u8) {
    out.push(tag);
    out.push(b':');
    push_usize(out, bytes.len());
    out.extend_from_slice(b":\"");
    out.extend_from_slice(bytes);
    out.push(b'"');
    out.push(end);
}

fn push_usize(out: &mut Vec<u8>, mut n: usize) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}
