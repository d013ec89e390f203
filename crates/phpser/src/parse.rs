//! The streaming reader: [`looks_serialized`], [`Parser`], [`Item`] and [`Role`].
//!
//! The grammar is PHP 8's `ext/standard/var_unserializer.re`, byte for byte where it matters
//! for rewriting: lengths are bytes, strings are not terminated by their quote but by their
//! declared length, and a container's element count decides where it ends. The parser builds
//! no tree; it keeps one small frame per open array or object.

use std::ops::Range;

use crate::error::{Error, ErrorKind};

/// How deeply arrays, objects and serialized strings inside strings may nest by default.
///
/// PHP's own `unserialize_max_depth` is 4096, but real data (WordPress options, Elgg
/// configuration and queues) stays below 20; a lower limit keeps the recursion into nested
/// serialized strings shallow.
pub const DEFAULT_MAX_DEPTH: usize = 128;

/// Bytes PHP accepts in a class name (`zend_is_valid_class_name`): ASCII letters and digits,
/// `_`, the namespace separator `\` and every byte from 0x80 up. `unserialize()` rejects
/// names with anything else, so a value naming such a class is not serialized data.
const CLASS_NAME: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric() || b == b'_' || b == b'\\' || b >= 0x80;
        i += 1;
    }
    t
};

/// Is `v` worth parsing as serialized PHP? A cheap check of the first three and the last
/// byte, no parsing.
///
/// `true` for `N;` and for values that start like `b:`, `i:`, `d:`, `s:`, `S:`, `a:`, `O:`,
/// `C:` or `E:` followed by a plausible third byte and end in `;` (scalars, strings, enums)
/// or `}` (arrays and objects). A `true` answer does not mean the value parses; a `false`
/// answer means `unserialize()` would not accept it as a whole value.
///
/// ```
/// use understudy_phpser::looks_serialized;
/// assert!(looks_serialized(b"a:1:{i:0;s:1:\"x\";}"));
/// assert!(looks_serialized(b"s:5:\"oops\";")); // looks right, but the length is wrong
/// assert!(!looks_serialized(b"a: plain text"));
/// assert!(!looks_serialized(b"https://example.org/"));
/// ```
pub fn looks_serialized(v: &[u8]) -> bool {
    let [tag, colon, third, ..] = v else {
        return v == b"N;";
    };
    let last = v[v.len() - 1];
    if *colon != b':' {
        return false;
    }
    match tag {
        b'b' => matches!(third, b'0' | b'1') && last == b';',
        b'i' => (third.is_ascii_digit() || matches!(third, b'-' | b'+')) && last == b';',
        b'd' => {
            (third.is_ascii_digit() || matches!(third, b'-' | b'+' | b'.' | b'I' | b'N'))
                && last == b';'
        }
        b's' | b'S' | b'E' => third.is_ascii_digit() && last == b';',
        b'a' | b'O' | b'C' => third.is_ascii_digit() && last == b'}',
        _ => false,
    }
}

/// Whether serialized data may start here (`a:`, `s:`, `i:`, `N;` …).
#[inline]
pub(crate) fn looks_like_value_start(v: &[u8]) -> bool {
    matches!(
        v,
        [
            b'a' | b'O' | b'C' | b's' | b'S' | b'i' | b'd' | b'b' | b'E' | b'r' | b'R',
            b':',
            ..
        ] | [b'N', b';', ..]
    )
}

/// What a string in a serialized value is for; passed to the [`rewrite`](crate::rewrite)
/// callback.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Role {
    /// An array key (`s:` or `S:` in key position; integer keys are not strings).
    Key,
    /// A value: an array element, a property value, the top-level value, or the payload of a
    /// `C:` object that is not itself serialized data.
    Value,
    /// An object property name. Protected and private names carry NUL bytes:
    /// `"\0*\0name"` and `"\0Class\0name"`.
    PropertyName,
    /// The class name of an `O:` or `C:` object, or the `Class:Case` of an `E:` enum.
    /// Changing it only makes sense if the new class exists where the data is read.
    ClassName,
}

/// One token of a serialized value, borrowed from the input.
///
/// Numbers are handed out as their original bytes (`Int(b"-3")`, `Float(b"1.0E+25")`,
/// `Float(b"NAN")`), never converted, so a rewrite can copy them unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Item<'a> {
    /// `N;`
    Null,
    /// `b:0;` or `b:1;`
    Bool(bool),
    /// `i:…;`: the digits with their optional sign.
    Int(&'a [u8]),
    /// `d:…;`: the number as written, or `NAN`, `INF`, `-INF`.
    Float(&'a [u8]),
    /// `s:N:"…";`: the `N` bytes of the string.
    Str(&'a [u8]),
    /// `S:N:"…";`: the raw bytes between the quotes, with `\xx` hex escapes; `N` counts the
    /// decoded bytes. Decode with [`unescape`].
    EscapedStr(&'a [u8]),
    /// `a:N:{`: an array of `N` key/value pairs follows, then [`Item::End`].
    ArrayStart {
        /// The number of key/value pairs.
        len: usize,
    },
    /// `O:L:"Class":N:{`: an object with `N` property name/value pairs follows, then
    /// [`Item::End`].
    ObjectStart {
        /// The class name.
        class: &'a [u8],
        /// The number of property name/value pairs.
        len: usize,
    },
    /// `C:L:"Class":N:{payload}`: an object that implements `Serializable`; the payload is
    /// whatever its `serialize()` returned.
    Custom {
        /// The class name.
        class: &'a [u8],
        /// The `N` payload bytes.
        payload: &'a [u8],
    },
    /// `E:L:"Enum:Case";`: a PHP 8.1 enum case.
    Enum(&'a [u8]),
    /// `R:n;`: a PHP reference (`&`) to the `n`th value (1-based).
    Ref(&'a [u8]),
    /// `r:n;`: the same object as the `n`th value (1-based).
    ObjectRef(&'a [u8]),
    /// `}`: the end of the innermost array or object.
    End,
}

/// One open array or object: how many keys and values are still to come.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Frame {
    /// Keys plus values still to read; even means a key is next.
    remaining: usize,
    object: bool,
}

/// A streaming, zero-copy reader for one serialized PHP value.
///
/// [`Parser::next`] hands out [`Item`]s in input order with the byte range each covers;
/// [`Parser::role`] says whether the last one is a key, a property name or a value. Every
/// length and count is checked against the input, so a slice handed out is exactly what
/// `unserialize()` would read, and an error names the byte where PHP would give up.
///
/// ```
/// use understudy_phpser::{Item, Parser, Role};
///
/// let value = "a:1:{s:3:\"url\";s:3:\"ü!\";}"; // ü is two bytes
/// let mut p = Parser::new(value.as_bytes());
/// assert_eq!(p.next()?, Some((Item::ArrayStart { len: 1 }, 0..5)));
/// assert_eq!(p.next()?, Some((Item::Str(b"url"), 5..15)));
/// assert_eq!(p.role(), Role::Key);
/// assert_eq!(p.next()?, Some((Item::Str("ü!".as_bytes()), 15..25)));
/// assert_eq!(p.role(), Role::Value);
/// assert_eq!(p.next()?, Some((Item::End, 25..26)));
/// assert_eq!(p.next()?, None);
/// # Ok::<(), understudy_phpser::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Parser<'a> {
    input: &'a [u8],
    pos: usize,
    stack: Vec<Frame>,
    /// Nesting already used by enclosing values (for serialized strings inside strings).
    base_depth: usize,
    max_depth: usize,
    role: Role,
    started: bool,
    done: bool,
    /// A `C:` payload: a sequence of values, each optionally labelled `x:` or `m:`, with at
    /// most one `;`, `,` or `:` between two, as `ArrayObject`, `SplObjectStorage` and
    /// `SplDoublyLinkedList` wrote them before PHP 7.4.
    payload: bool,
    /// Repair mode: `s:` and `C:` lengths may be wrong; find the end from the content.
    repair: bool,
    /// The last `Str` or `Custom` had a wrong declared length (repair mode only).
    stale: bool,
    /// Repair mode: the end chosen for the last `Str` or `Custom`, if one was chosen.
    choice: Option<usize>,
    /// Repair mode: for the next `Str` or `Custom`, take the first candidate end after this.
    retry: Option<usize>,
    /// Values read so far, the numbering `R:`/`r:` ids refer to.
    values: usize,
    /// A `C:` object was read: its payload's values shift the numbering in ways only the
    /// class knows, so `R:`/`r:` ids can no longer be checked.
    refs_unchecked: bool,
}

impl<'a> Parser<'a> {
    /// A parser for one complete serialized value (`unserialize()`'s input), with the
    /// [`DEFAULT_MAX_DEPTH`].
    pub fn new(input: &'a [u8]) -> Parser<'a> {
        Parser::build(input, Vec::new(), 0, DEFAULT_MAX_DEPTH, false, false)
    }

    /// A parser for the payload of a `C:` object: one or more values, each optionally
    /// labelled `x:` or `m:`, with at most one `;`, `,` or `:` between two: the shapes
    /// `ArrayObject`, `SplObjectStorage` and `SplDoublyLinkedList` write (e.g.
    /// `x:i:0;a:0:{};m:a:0:{}`). References in a payload may point outside it, so their ids
    /// are not checked.
    pub fn payload(input: &'a [u8]) -> Parser<'a> {
        Parser::build(input, Vec::new(), 0, DEFAULT_MAX_DEPTH, true, false)
    }

    /// Replaces the nesting limit (arrays and objects inside each other).
    pub fn with_max_depth(mut self, limit: usize) -> Parser<'a> {
        self.max_depth = limit;
        self
    }

    pub(crate) fn build(
        input: &'a [u8],
        mut stack: Vec<Frame>,
        base_depth: usize,
        max_depth: usize,
        payload: bool,
        repair: bool,
    ) -> Parser<'a> {
        stack.clear();
        Parser {
            input,
            pos: 0,
            stack,
            base_depth,
            max_depth,
            role: Role::Value,
            started: false,
            done: false,
            payload,
            repair,
            stale: false,
            choice: None,
            retry: None,
            values: 0,
            refs_unchecked: payload,
        }
    }

    pub(crate) fn into_stack(self) -> Vec<Frame> {
        self.stack
    }

    /// The role of the item most recently returned by [`Parser::next`]: [`Role::Key`] or
    /// [`Role::PropertyName`] for a key, [`Role::Value`] for everything else.
    pub fn role(&self) -> Role {
        self.role
    }

    /// How many arrays and objects are open.
    pub fn depth(&self) -> usize {
        self.stack.len()
    }

    /// The offset of the next byte to read.
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// In repair mode: did the last [`Item::Str`] or [`Item::Custom`] have a wrong declared
    /// length?
    pub(crate) fn stale(&self) -> bool {
        self.stale
    }

    /// In repair mode: the end chosen for the last item, if it was a string or `C:` payload
    /// whose end had to be chosen.
    pub(crate) fn take_choice(&mut self) -> Option<usize> {
        self.choice.take()
    }

    /// In repair mode: make the next string or `C:` payload end at the first candidate after
    /// `end` (which an earlier attempt from the same state chose).
    pub(crate) fn retry_after(&mut self, end: usize) {
        self.retry = Some(end);
    }

    /// In repair mode: might the next item need a choice (is it a string or `C:` object)?
    pub(crate) fn may_choose(&self) -> bool {
        (self.payload && self.stack.is_empty())
            || matches!(self.input.get(self.pos..self.pos + 2), Some(b"s:" | b"C:"))
    }

    /// The next item and the bytes it covers: the whole token for scalars, strings, `C:`
    /// objects and enums; the header (`a:2:{`, `O:8:"stdClass":1:{`) for arrays and objects;
    /// the `}` for [`Item::End`].
    ///
    /// # Errors
    ///
    /// When the input is not serialized PHP at this point: a length or count larger than
    /// the rest of the input ([`ErrorKind::LengthOverrun`]), a byte the grammar does not allow
    /// ([`ErrorKind::Expected`]), nesting beyond the limit ([`ErrorKind::DepthLimit`]), or
    /// bytes after a complete value ([`ErrorKind::TrailingBytes`]). After an error, and
    /// after the value has ended, `next` returns `Ok(None)`.
    #[allow(clippy::should_implement_trait)] // fallible: not an `Iterator`
    pub fn next(&mut self) -> Result<Option<(Item<'a>, Range<usize>)>, Error> {
        if self.done {
            return Ok(None);
        }
        self.stale = false;
        let step = self.step();
        if !matches!(step, Ok(Some(_))) {
            self.done = true;
        }
        step
    }

    fn step(&mut self) -> Result<Option<(Item<'a>, Range<usize>)>, Error> {
        let Some(frame) = self.stack.last_mut() else {
            if self.payload {
                if self.started {
                    if self.pos == self.input.len() {
                        return Ok(None);
                    }
                    // At most one separator between two values.
                    if matches!(self.input[self.pos], b';' | b',' | b':') {
                        self.pos += 1;
                    }
                }
                // An optional label.
                if matches!(self.input.get(self.pos..), Some([b'x' | b'm', b':', ..])) {
                    self.pos += 2;
                }
            } else if self.started {
                if self.pos == self.input.len() {
                    return Ok(None);
                }
                return Err(Error::new(self.pos, ErrorKind::TrailingBytes));
            }
            self.started = true;
            self.role = Role::Value;
            return self.value(false).map(Some);
        };
        if frame.remaining == 0 {
            let at = self.pos;
            match self.at(at) {
                Some(b'}') => {}
                found => return Err(Error::expected(at, "`}`", found)),
            }
            self.stack.pop();
            self.pos = at + 1;
            self.role = Role::Value;
            return Ok(Some((Item::End, at..at + 1)));
        }
        let key = frame.remaining % 2 == 0;
        frame.remaining -= 1;
        self.role = match (key, frame.object) {
            (true, false) => Role::Key,
            (true, true) => Role::PropertyName,
            (false, _) => Role::Value,
        };
        self.value(key).map(Some)
    }

    fn at(&self, i: usize) -> Option<u8> {
        self.input.get(i).copied()
    }

    fn expect(&self, i: usize, byte: u8, what: &'static str) -> Result<(), Error> {
        match self.at(i) {
            Some(b) if b == byte => Ok(()),
            found => Err(Error::expected(i, what, found)),
        }
    }

    /// The end of a run of ASCII digits starting at `i`.
    fn digits(&self, mut i: usize) -> usize {
        while matches!(self.at(i), Some(b'0'..=b'9')) {
            i += 1;
        }
        i
    }

    /// An unsigned decimal (PHP's `uiv`) at `i`: its value (saturating) and its end.
    fn uiv(&self, i: usize) -> Result<(usize, usize), Error> {
        let end = self.digits(i);
        if end == i {
            return Err(Error::expected(i, "a digit", self.at(i)));
        }
        let n = self.input[i..end].iter().fold(0usize, |n, d| {
            n.saturating_mul(10).saturating_add(usize::from(d - b'0'))
        });
        Ok((n, end))
    }

    fn value(&mut self, key: bool) -> Result<(Item<'a>, Range<usize>), Error> {
        let start = self.pos;
        let (item, end) = self.token(start, key)?;
        if !key {
            if let Item::Ref(id) | Item::ObjectRef(id) = item {
                self.check_ref(start + 2, id)?;
            }
            if !matches!(item, Item::Ref(_)) {
                self.values += 1;
            }
        }
        self.pos = end;
        Ok((item, start..end))
    }

    /// `R:`/`r:` ids are 1-based and must name a value read before (PHP's `var_access`).
    fn check_ref(&self, at: usize, id: &[u8]) -> Result<(), Error> {
        let n = id.iter().fold(0usize, |n, d| {
            n.saturating_mul(10).saturating_add(usize::from(d - b'0'))
        });
        if n == 0 || (!self.refs_unchecked && n > self.values) {
            return Err(Error::expected(
                at,
                "the id of a value read before",
                id.first().copied(),
            ));
        }
        Ok(())
    }

    fn token(&mut self, start: usize, key: bool) -> Result<(Item<'a>, usize), Error> {
        let input = self.input;
        let Some(tag) = self.at(start) else {
            let what = if key {
                "an array key"
            } else {
                "a serialized value"
            };
            return Err(Error::expected(start, what, None));
        };
        if key && !matches!(tag, b'i' | b's' | b'S') {
            return Err(Error::expected(
                start,
                "an integer or string key",
                Some(tag),
            ));
        }
        if tag == b'N' {
            self.expect(start + 1, b';', "`;`")?;
            return Ok((Item::Null, start + 2));
        }
        if !matches!(
            tag,
            b'b' | b'i' | b'd' | b's' | b'S' | b'a' | b'O' | b'C' | b'E' | b'r' | b'R'
        ) {
            return Err(Error::expected(start, "a serialized value", Some(tag)));
        }
        self.expect(start + 1, b':', "`:`")?;
        let p = start + 2;
        match tag {
            b'b' => {
                let v = match self.at(p) {
                    Some(b'0') => false,
                    Some(b'1') => true,
                    found => return Err(Error::expected(p, "`0` or `1`", found)),
                };
                self.expect(p + 1, b';', "`;`")?;
                Ok((Item::Bool(v), p + 2))
            }
            b'i' => {
                let end = self.int(p)?;
                self.expect(end, b';', "`;`")?;
                Ok((Item::Int(&input[p..end]), end + 1))
            }
            b'd' => {
                let end = self.float(p)?;
                self.expect(end, b';', "`;`")?;
                Ok((Item::Float(&input[p..end]), end + 1))
            }
            b's' => self.string(start),
            b'S' => self.escaped(start),
            b'a' => {
                let (len, q) = self.uiv(p)?;
                self.expect(q, b':', "`:`")?;
                self.expect(q + 1, b'{', "`{`")?;
                self.open(start, p, len, q + 2, false)?;
                Ok((Item::ArrayStart { len }, q + 2))
            }
            b'O' => {
                let (class, q) = self.class_name(p, b':')?;
                let (len, r) = self.uiv(q)?;
                self.expect(r, b':', "`:`")?;
                self.expect(r + 1, b'{', "`{`")?;
                self.open(start, q, len, r + 2, true)?;
                Ok((Item::ObjectStart { class, len }, r + 2))
            }
            b'C' => {
                let (class, q) = self.class_name(p, b':')?;
                let (len, r) = self.uiv(q)?;
                self.expect(r, b':', "`:`")?;
                self.expect(r + 1, b'{', "`{`")?;
                let body = r + 2;
                if self.repair {
                    return self.repair_custom(class, body, len);
                }
                let available = input.len() - body;
                // PHP wants the `}` after the payload before it reads the payload.
                if len >= available {
                    let available = available.saturating_sub(1);
                    return Err(Error::new(
                        q,
                        ErrorKind::LengthOverrun {
                            declared: len,
                            available,
                        },
                    ));
                }
                self.expect(body + len, b'}', "`}` after the declared payload length")?;
                self.refs_unchecked = true;
                let payload = &input[body..body + len];
                Ok((Item::Custom { class, payload }, body + len + 1))
            }
            b'E' => {
                let (name, end) = self.class_name(p, b';')?;
                if memchr::memchr(b':', name).is_none() {
                    return Err(Error::expected(
                        end - 2,
                        "`:` between enum and case",
                        Some(b'"'),
                    ));
                }
                Ok((Item::Enum(name), end))
            }
            // b'r' | b'R'
            _ => {
                let (_, q) = self.uiv(p)?;
                self.expect(q, b';', "`;`")?;
                let id = &input[p..q];
                let item = if tag == b'R' {
                    Item::Ref(id)
                } else {
                    Item::ObjectRef(id)
                };
                Ok((item, q + 1))
            }
        }
    }

    /// PHP's `iv`: an optional sign and at least one digit; returns the end.
    fn int(&self, p: usize) -> Result<usize, Error> {
        let mut i = p;
        if matches!(self.at(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let end = self.digits(i);
        if end == i {
            return Err(Error::expected(i, "a digit", self.at(i)));
        }
        Ok(end)
    }

    /// `NAN`, `INF`, `-INF`, or PHP's `iv | nv | nvexp`; returns the end.
    fn float(&self, p: usize) -> Result<usize, Error> {
        let rest = &self.input[p..];
        for special in [&b"NAN"[..], b"INF", b"-INF"] {
            if rest.starts_with(special) {
                return Ok(p + special.len());
            }
        }
        let mut i = p;
        if matches!(self.at(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let int_end = self.digits(i);
        let mut mantissa = int_end - i;
        let mut end = int_end;
        if self.at(end) == Some(b'.') {
            let frac_end = self.digits(end + 1);
            mantissa += frac_end - (end + 1);
            end = frac_end;
        }
        if mantissa == 0 {
            return Err(Error::expected(i, "a number", self.at(i)));
        }
        if matches!(self.at(end), Some(b'e' | b'E')) {
            end = self.int(end + 1)?;
        }
        Ok(end)
    }

    /// `uiv ":\"" name "\"" after` at `p`, the shape of `O:`/`C:` class names (`after` is
    /// `:`) and `E:` enum names (`;`). Returns the name and the index after `after`.
    fn class_name(&self, p: usize, after: u8) -> Result<(&'a [u8], usize), Error> {
        let (len, q) = self.uiv(p)?;
        self.expect(q, b':', "`:`")?;
        self.expect(q + 1, b'"', "`\"`")?;
        let s = q + 2;
        let available = self.input.len() - s;
        if len > available {
            return Err(Error::new(
                p,
                ErrorKind::LengthOverrun {
                    declared: len,
                    available,
                },
            ));
        }
        let e = s + len;
        self.expect(e, b'"', "`\"` after the declared class name length")?;
        self.expect(e + 1, after, if after == b';' { "`;`" } else { "`:`" })?;
        let name = &self.input[s..e];
        // An enum's case name is looked up as a constant, so only the part before the
        // first `:` has to be a valid class name.
        let class = if after == b';' {
            name.split(|&b| b == b':').next().unwrap_or(name)
        } else {
            name
        };
        let bad = match class.first() {
            None => Some(0),
            Some(b'\\') => Some(0),
            Some(_) => class.iter().position(|&b| !CLASS_NAME[usize::from(b)]),
        };
        if let Some(i) = bad {
            return Err(Error::expected(s + i, "a class name", self.at(s + i)));
        }
        Ok((name, e + 2))
    }

    /// Opens an array or object of `len` pairs whose body starts at `body`.
    fn open(
        &mut self,
        start: usize,
        count_at: usize,
        len: usize,
        body: usize,
        object: bool,
    ) -> Result<(), Error> {
        // Every pair needs at least two bytes (PHP's `IS_FAKE_ELEM_COUNT`); this also keeps
        // `2 * len` from overflowing.
        let available = self.input.len() - body;
        if len > available / 2 {
            return Err(Error::new(
                count_at,
                ErrorKind::LengthOverrun {
                    declared: len,
                    available,
                },
            ));
        }
        if self.base_depth + self.stack.len() >= self.max_depth {
            return Err(Error::new(
                start,
                ErrorKind::DepthLimit {
                    limit: self.max_depth,
                },
            ));
        }
        self.stack.push(Frame {
            remaining: 2 * len,
            object,
        });
        Ok(())
    }

    fn string(&mut self, start: usize) -> Result<(Item<'a>, usize), Error> {
        let (len, q) = self.uiv(start + 2)?;
        self.expect(q, b':', "`:`")?;
        self.expect(q + 1, b'"', "`\"`")?;
        let body = q + 2;
        if self.repair {
            return self.repair_string(body, len);
        }
        let available = self.input.len() - body;
        if len > available {
            return Err(Error::new(
                start + 2,
                ErrorKind::LengthOverrun {
                    declared: len,
                    available,
                },
            ));
        }
        let end = body + len;
        self.expect(end, b'"', "`\"` at the declared end of the string")?;
        self.expect(end + 1, b';', "`;`")?;
        Ok((Item::Str(&self.input[body..end]), end + 2))
    }

    /// `S:N:"…";`: `N` decoded bytes, each a plain byte or a `\xx` hex escape.
    fn escaped(&mut self, start: usize) -> Result<(Item<'a>, usize), Error> {
        let (len, q) = self.uiv(start + 2)?;
        self.expect(q, b':', "`:`")?;
        self.expect(q + 1, b'"', "`\"`")?;
        let body = q + 2;
        let available = self.input.len() - body;
        if len > available {
            return Err(Error::new(
                start + 2,
                ErrorKind::LengthOverrun {
                    declared: len,
                    available,
                },
            ));
        }
        let mut p = body;
        for _ in 0..len {
            match self.at(p) {
                Some(b'\\') => {
                    for k in 1..=2 {
                        match self.at(p + k) {
                            Some(h) if h.is_ascii_hexdigit() => {}
                            found => return Err(Error::expected(p + k, "a hex digit", found)),
                        }
                    }
                    p += 3;
                }
                Some(_) => p += 1,
                None => return Err(Error::expected(p, "more string bytes", None)),
            }
        }
        self.expect(p, b'"', "`\"` at the declared end of the string")?;
        self.expect(p + 1, b';', "`;`")?;
        Ok((Item::EscapedStr(&self.input[body..p]), p + 2))
    }

    /// Repair mode: a string ends at a `";` that may be followed by what comes next.
    fn repair_string(&mut self, body: usize, declared: usize) -> Result<(Item<'a>, usize), Error> {
        let end = self.pick_end(body, declared, b"\";")?;
        Ok((Item::Str(&self.input[body..end]), end + 2))
    }

    /// Repair mode: a `C:` payload ends at a `}` that may be followed by what comes next.
    fn repair_custom(
        &mut self,
        class: &'a [u8],
        body: usize,
        declared: usize,
    ) -> Result<(Item<'a>, usize), Error> {
        self.refs_unchecked = true;
        let end = self.pick_end(body, declared, b"}")?;
        let payload = &self.input[body..end];
        Ok((Item::Custom { class, payload }, end + 1))
    }

    /// Repair mode: the end of a string or payload whose body starts at `body`. Candidates,
    /// in order: the declared end; if the body starts like a serialized value, the offsets
    /// where `term` follows and the bytes before it [look serialized](looks_serialized) (so a
    /// nested value is not cut at its first inner string); then every other offset where
    /// `term` is followed by what may come next. Takes the first, or with
    /// [`Parser::retry_after`] the one after the given end; records the choice for
    /// [`Parser::take_choice`].
    fn pick_end(&mut self, body: usize, declared: usize, term: &[u8]) -> Result<usize, Error> {
        let input = self.input;
        let declared_end = body
            .checked_add(declared)
            .filter(|&e| self.ends_at(e, term));
        let nested = matches!(
            input.get(body..),
            Some(
                [b'N', b';', ..]
                    | [
                        b'b' | b'i' | b'd' | b's' | b'S' | b'a' | b'O' | b'C' | b'E',
                        b':',
                        ..
                    ]
            )
        );
        let first = |e: usize| nested && looks_serialized(&input[body..e]);
        // Phase 0: candidates that look like whole serialized values; phase 1: the others.
        let (mut phase, mut from) = match (self.retry.take(), declared_end) {
            (None, Some(d)) => {
                self.stale = false;
                self.choice = Some(d);
                return Ok(d);
            }
            (None, None) => (usize::from(!nested), body),
            (Some(prev), Some(d)) if prev == d => (usize::from(!nested), body),
            (Some(prev), _) => (usize::from(!first(prev)), prev + 1),
        };
        loop {
            while let Some(i) = memchr::memchr(term[0], input.get(from..).unwrap_or_default()) {
                let end = from + i;
                if Some(end) != declared_end
                    && first(end) == (phase == 0)
                    && self.ends_at(end, term)
                {
                    self.stale = end - body != declared;
                    self.choice = Some(end);
                    return Ok(end);
                }
                from = end + 1;
            }
            if phase == 1 || !nested {
                return Err(Error::expected(
                    body,
                    "an end of the string or payload followed by what may come next",
                    None,
                ));
            }
            (phase, from) = (1, body);
        }
    }

    /// Repair mode: does `term` at `end` end a string or payload, with something that may
    /// come next after it?
    fn ends_at(&self, end: usize, term: &[u8]) -> bool {
        self.input.get(end..).is_some_and(|r| r.starts_with(term))
            && self.continues(end + term.len())
    }

    /// Repair mode: could the value go on at `q` after a string that ends just before it?
    /// Looks through `}`s that would close the open arrays and objects, up to the first
    /// key or value, or the end of the value.
    fn continues(&self, mut q: usize) -> bool {
        let starts_value = |n: &[u8]| match n {
            [b'N', b';', ..] => true,
            [t, b':', ..] => matches!(
                t,
                b'b' | b'i' | b'd' | b's' | b'S' | b'a' | b'O' | b'C' | b'E' | b'r' | b'R'
            ),
            _ => false,
        };
        for frame in self.stack.iter().rev() {
            let next = self.input.get(q..).unwrap_or_default();
            if frame.remaining == 0 {
                if next.first() != Some(&b'}') {
                    return false;
                }
                q += 1;
            } else if frame.remaining % 2 == 0 {
                return matches!(next, [b'i' | b's' | b'S', b':', ..]);
            } else {
                return starts_value(next);
            }
        }
        let next = self.input.get(q..).unwrap_or_default();
        if self.payload {
            next.is_empty()
                || matches!(next[0], b';' | b',' | b':')
                || matches!(next, [b'x' | b'm', b':', ..])
                || starts_value(next)
        } else {
            next.is_empty()
        }
    }
}

/// The length of the one serialized value at the start of `input` (more may follow).
pub(crate) fn serialized_len(input: &[u8]) -> Result<usize, Error> {
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

/// Decodes the raw bytes of an [`Item::EscapedStr`] (`\xx` hex escapes) into `out`, which
/// is cleared first. A backslash not followed by two hex digits is copied as it is (that
/// cannot happen for bytes the [`Parser`] handed out).
pub fn unescape(raw: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if b == b'\\' {
            if let (Some(hi), Some(lo)) = (
                raw.get(i + 1).and_then(|&h| hex(h)),
                raw.get(i + 2).and_then(|&l| hex(l)),
            ) {
                out.push(hi << 4 | lo);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}
