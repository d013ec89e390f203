//! `[[mask]]`: replacement values for personal data.
//!
//! # Determinism
//! Every value that depends on the original is derived from a keyed digest,
//! `HMAC-SHA256(secret, "understudy/" kind 0x00 attempt(u32 BE) original)`, never from the
//! table or column. So the same e-mail address becomes the same fake address in `wp_users`
//! and in `wp_comments`, on every run with the same secret, and a different secret gives
//! unrelated values. `hash` is plain `HMAC-SHA256(secret, original)` in hex, so it can be
//! reproduced elsewhere. `fake` seeds a ChaCha8 generator with the digest and draws from the
//! `fake` crate's English word lists (so its values can change when that crate's lists
//! change; Cargo.lock pins it).
//!
//! # NULL and empty values
//! NULL stays NULL under every strategy. An empty string stays empty under `hash`, `fake`
//! and `redact` (it carries nothing to hide); `fixed` and `template` replace it too.
//!
//! # Fitting and uniqueness
//! Values are counted in characters. `max_chars` (from `varchar(N)`) truncates `fake`,
//! `hash`, `redact` output; `fixed` and `template` are never cut (that would change their
//! meaning): a value that does not fit is an error. Unique values carry an 8-hex-digit
//! suffix from the digest (`anna.smith.3fa2c1d9@example.invalid`); truncation shortens the
//! name part and keeps the suffix. `email` and `username` always carry the suffix, so a
//! value is masked the same way in a UNIQUE column and in an ordinary one. The suffix makes
//! collisions unlikely, not impossible (about n²/2⁵³ for n values); an engine that must be
//! sure keeps the outputs of a UNIQUE column and, on a collision, calls again with
//! `Fit::attempt` raised, which draws a new value.

use std::fmt;
use std::sync::Arc;

use fake::faker::address::en::{BuildingNumber, CityName, StreetName, ZipCode};
use fake::faker::lorem::en::Word;
use fake::faker::name::en::{FirstName, LastName};
use fake::faker::phone_number::en::CellNumber;
use fake::Fake as _;
use hmac::{Hmac, Mac};
use rand::{RngExt, SeedableRng};
use sha2::Sha256;

use crate::condition::Condition;
use crate::error::{EvalError, MaskError};
use crate::lookup::LookupStore;
use crate::model::TableSet;
use crate::row::{Cell, RowAccess};
use crate::scrub::{documentation_ipv4, documentation_ipv6, Scrub};
use crate::template::Template;

/// The masking key: an HMAC-SHA256 state keyed with the secret once, cloned per value.
pub(crate) struct Key {
    mac: Hmac<Sha256>,
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key(<redacted>)")
    }
}

impl Key {
    pub(crate) fn new(secret: &[u8]) -> Key {
        Key {
            mac: Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length"),
        }
    }

    /// `HMAC-SHA256(secret, msg)`.
    pub(crate) fn plain(&self, msg: &[u8]) -> [u8; 32] {
        let mut m = self.mac.clone();
        m.update(msg);
        m.finalize().into_bytes().into()
    }

    /// The digest that seeds `kind`'s value for `original`.
    pub(crate) fn tagged(&self, kind: &str, attempt: u32, original: &[u8]) -> [u8; 32] {
        let mut m = self.mac.clone();
        m.update(b"understudy/");
        m.update(kind.as_bytes());
        m.update(&[0]);
        m.update(&attempt.to_be_bytes());
        m.update(original);
        m.finalize().into_bytes().into()
    }
}

pub(crate) fn push_hex(out: &mut Vec<u8>, bytes: &[u8], digits: usize) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, b) in bytes.iter().enumerate() {
        if 2 * i < digits {
            out.push(HEX[usize::from(b >> 4)]);
        }
        if 2 * i + 1 < digits {
            out.push(HEX[usize::from(b & 15)]);
        }
    }
}

fn hex(bytes: &[u8], digits: usize) -> String {
    let mut v = Vec::with_capacity(digits);
    push_hex(&mut v, bytes, digits);
    String::from_utf8(v).expect("hex is ASCII")
}

/// Where inside a structured value a mask applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inside {
    /// The column holds PHP `serialize()` output; the engine parses it and masks leaves.
    Serialized,
    /// The column holds JSON.
    Json,
}

/// One step of a mask's `path` inside a structured value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathSegment {
    /// `"*"`: any key or index at this level.
    Any,
    /// A key (array keys and object property names; integer keys as decimal text).
    Key(String),
}

/// The strategy of a mask, without its parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StrategyKind {
    /// SQL NULL.
    Null,
    /// A constant value.
    Fixed,
    /// A template over the row's columns and lookups.
    Template,
    /// Hex HMAC of the value.
    Hash,
    /// A fake value of a kind (email, name, …).
    Fake,
    /// Same shape: letters → x/X, digits → 0.
    Redact,
    /// The text kept, e-mail and IP addresses in it replaced by fakes.
    Scrub,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FakeKind {
    Email,
    Name,
    FirstName,
    LastName,
    Username,
    Phone,
    Street,
    City,
    Postcode,
    Ipv4,
    Ipv6,
    Url,
    Lorem,
    Date,
}

pub(crate) const FAKE_KINDS: &str =
    "email, name, first_name, last_name, username, phone, street, city, postcode, ipv4, ipv6, url, lorem, date";

impl FakeKind {
    pub(crate) fn parse(s: &str) -> Option<FakeKind> {
        Some(match s {
            "email" => FakeKind::Email,
            "name" => FakeKind::Name,
            "first_name" => FakeKind::FirstName,
            "last_name" => FakeKind::LastName,
            "username" => FakeKind::Username,
            "phone" => FakeKind::Phone,
            "street" => FakeKind::Street,
            "city" => FakeKind::City,
            "postcode" => FakeKind::Postcode,
            "ipv4" => FakeKind::Ipv4,
            "ipv6" => FakeKind::Ipv6,
            "url" => FakeKind::Url,
            "lorem" => FakeKind::Lorem,
            "date" => FakeKind::Date,
            _ => return None,
        })
    }

    pub(crate) fn tag(self) -> &'static str {
        match self {
            FakeKind::Email => "fake:email",
            FakeKind::Name => "fake:name",
            FakeKind::FirstName => "fake:first_name",
            FakeKind::LastName => "fake:last_name",
            FakeKind::Username => "fake:username",
            FakeKind::Phone => "fake:phone",
            FakeKind::Street => "fake:street",
            FakeKind::City => "fake:city",
            FakeKind::Postcode => "fake:postcode",
            FakeKind::Ipv4 => "fake:ipv4",
            FakeKind::Ipv6 => "fake:ipv6",
            FakeKind::Url => "fake:url",
            FakeKind::Lorem => "fake:lorem",
            FakeKind::Date => "fake:date",
        }
    }

    /// Kinds whose values cannot carry a uniqueness suffix.
    pub(crate) fn can_be_unique(self) -> bool {
        !matches!(self, FakeKind::Ipv4 | FakeKind::Date)
    }
}

#[derive(Debug)]
pub(crate) struct Fake {
    pub kind: FakeKind,
    pub domain: Box<str>,
    pub words: Option<u32>,
    /// Days since 1970-01-01, inclusive.
    pub range: (i64, i64),
}

pub(crate) struct Fixed {
    pub bytes: Box<[u8]>,
    pub secret: bool,
}

impl fmt::Debug for Fixed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.secret {
            f.write_str("<redacted>")
        } else {
            write!(f, "{:?}", String::from_utf8_lossy(&self.bytes))
        }
    }
}

#[derive(Debug)]
pub(crate) enum Strategy {
    Null,
    Fixed(Fixed),
    Template(Template),
    Hash { len: usize },
    Fake(Fake),
    Redact,
    Scrub(Scrub),
}

impl Strategy {
    pub(crate) fn kind(&self) -> StrategyKind {
        match self {
            Strategy::Null => StrategyKind::Null,
            Strategy::Fixed(_) => StrategyKind::Fixed,
            Strategy::Template(_) => StrategyKind::Template,
            Strategy::Hash { .. } => StrategyKind::Hash,
            Strategy::Fake(_) => StrategyKind::Fake,
            Strategy::Redact => StrategyKind::Redact,
            Strategy::Scrub(_) => StrategyKind::Scrub,
        }
    }

    pub(crate) fn name(&self) -> &'static str {
        match self {
            Strategy::Null => "null",
            Strategy::Fixed(_) => "fixed",
            Strategy::Template(_) => "template",
            Strategy::Hash { .. } => "hash",
            Strategy::Fake(f) => f.kind.tag(),
            Strategy::Redact => "redact",
            Strategy::Scrub(_) => "scrub",
        }
    }

    pub(crate) fn needs_key(&self) -> bool {
        match self {
            Strategy::Hash { .. } | Strategy::Fake(_) | Strategy::Scrub(_) => true,
            Strategy::Template(t) => t.uses_hash(),
            _ => false,
        }
    }
}

/// How the engine wants the value: column limit, uniqueness, and which attempt this is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fit {
    /// The column's length limit in characters (`varchar(N)`), if any.
    pub max_chars: Option<usize>,
    /// The column is UNIQUE or PRIMARY: different inputs must give different outputs.
    pub unique: bool,
    /// 0 normally; the engine raises it to draw a different value after a collision.
    pub attempt: u32,
}

/// A masked value: NULL or raw bytes (unescaped; the engine escapes them for SQL).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MaskValue {
    /// SQL NULL.
    Null,
    /// The new value.
    Bytes(Vec<u8>),
}

/// What [`Mask::apply_into`] wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Masked {
    /// The value is NULL; `out` is empty.
    Null,
    /// The value is in `out`.
    Value,
}

/// A compiled `[[mask]]`.
#[derive(Debug)]
pub struct Mask {
    pub(crate) index: usize,
    /// `name`, else `mask[N]`.
    pub(crate) name: Box<str>,
    pub(crate) label: Box<str>,
    pub(crate) tables: TableSet,
    pub(crate) column: Box<str>,
    pub(crate) when: Option<Condition>,
    pub(crate) strategy: Strategy,
    pub(crate) unique: bool,
    pub(crate) inside: Option<Inside>,
    pub(crate) path: Box<[PathSegment]>,
    pub(crate) key: Option<Arc<Key>>,
    pub(crate) optional: bool,
    pub(crate) path_optional: bool,
}

impl Mask {
    /// Position among the `[[mask]]` entries of the file (from 0).
    pub fn index(&self) -> usize {
        self.index
    }

    /// `mask[3] (wp_users.user_email)`, or `mask[3] "user e-mail" (wp_users.user_email)`
    /// for a mask with a `name`, as used in error messages.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The mask's `name`, else `mask[3]`: what a report counts its values under. Several
    /// masks may share a name (one mask of e-mail addresses per table, say); their counts
    /// then add up per column.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the mask's `table` pattern matches `table`.
    pub fn applies_to_table(&self, table: &str) -> bool {
        self.tables.matches(table)
    }

    /// Whether a dump may lack every table the mask names, or its column (`optional = true`:
    /// a plugin's tables and the columns some of its versions add). Otherwise a mask that
    /// met no table of a dump, or a table without its column, is an error: a wrong table
    /// prefix or name would leave the data it is for unmasked.
    pub fn is_optional(&self) -> bool {
        self.optional
    }

    /// Whether a value without the mask's `path` (inside serialized or JSON data) passes as
    /// it is (`path_optional = true`). Otherwise such a value is an error: the data the mask
    /// is for may sit under another key or shape.
    pub fn path_is_optional(&self) -> bool {
        self.path_optional
    }

    /// The column the mask replaces.
    pub fn column(&self) -> &str {
        &self.column
    }

    /// The `when` condition, if any.
    pub fn condition(&self) -> Option<&Condition> {
        self.when.as_ref()
    }

    /// The strategy.
    pub fn strategy(&self) -> StrategyKind {
        self.strategy.kind()
    }

    /// The strategy's name as in messages: `fixed`, `hash`, `fake:email`, …
    pub fn strategy_name(&self) -> &'static str {
        self.strategy.name()
    }

    /// Whether the rule says `unique = true`. The engine adds UNIQUE/PRIMARY columns
    /// through [`Fit::unique`].
    pub fn is_unique(&self) -> bool {
        self.unique
    }

    /// `inside`: the mask applies to leaves of a serialized or JSON value.
    pub fn inside(&self) -> Option<Inside> {
        self.inside
    }

    /// The key path inside the value (empty: the whole value, e.g. a serialized string).
    pub fn path(&self) -> &[PathSegment] {
        &self.path
    }

    /// Every column of the row the mask reads: its own column, `when` columns and
    /// template columns. The engine can check them once per table.
    pub fn columns(&self) -> impl Iterator<Item = &str> + '_ {
        let when = self.when.iter().flat_map(|c| c.columns());
        let tpl: Box<dyn Iterator<Item = &str>> = match &self.strategy {
            Strategy::Template(t) => Box::new(t.columns()),
            _ => Box::new(std::iter::empty()),
        };
        std::iter::once(&*self.column).chain(when).chain(tpl)
    }

    /// For a `scrub` mask: writes `text` with its addresses replaced into `out` (cleared
    /// first) and returns how many there were (0: `out` is empty, the text stays). `None`
    /// for every other strategy. The engine calls it on each string inside serialized PHP,
    /// so the lengths can be fixed around it.
    pub fn scrub_into(&self, text: &[u8], out: &mut Vec<u8>) -> Option<usize> {
        match &self.strategy {
            Strategy::Scrub(s) => Some(s.scrub_into(self.key(), text, out)),
            _ => None,
        }
    }

    /// For a `scrub` mask: whether it may find an address in text that holds `bytes`, as
    /// they are or SQL-escaped as mysqldump escapes (see `Finds::may_occur`); `false` means
    /// it finds none, and the text need not be decoded. `None` for every other strategy.
    pub fn scrub_may_find(&self, bytes: &[u8]) -> Option<bool> {
        match &self.strategy {
            Strategy::Scrub(s) => Some(s.finds.may_occur(bytes)),
            _ => None,
        }
    }

    /// Whether this mask writes `value` whatever the original was: `value` is the constant
    /// of a `fixed` mask, or of a `template` without placeholders. A scanner asks this to
    /// tell a masked value (the pack's fixed password hash) from one left as it was; the
    /// constant itself is not handed out, since it may come from a secret.
    pub fn writes_constant(&self, value: &[u8]) -> bool {
        match &self.strategy {
            Strategy::Fixed(f) => *f.bytes == *value,
            Strategy::Template(t) => t.constant() == Some(value),
            _ => false,
        }
    }

    /// Whether [`Mask::writes_constant`] can say yes for some value: a scanner asks it once
    /// per mask, and then only those masks for each finding.
    pub fn writes_a_constant(&self) -> bool {
        match &self.strategy {
            Strategy::Fixed(_) => true,
            Strategy::Template(t) => t.constant().is_some(),
            _ => false,
        }
    }

    /// The domain of the e-mail addresses this mask makes up: `fake` with `kind = "email"`
    /// and `scrub` (its fakes take the same `domain`, `example.invalid` by default), or a
    /// template that ends in `@domain`. An address at that domain is this mask's output.
    pub fn email_domain(&self) -> Option<&str> {
        match &self.strategy {
            Strategy::Fake(f) if f.kind == FakeKind::Email => Some(&f.domain),
            Strategy::Scrub(s) if s.finds.email => Some(&s.email.domain),
            Strategy::Template(t) => t.email_domain(),
            _ => None,
        }
    }

    /// Whether this mask writes IP addresses: `fake` IPv4 or IPv6 and `scrub`, which always
    /// take them from the documentation ranges (192.0.2.0/24, 198.51.100.0/24,
    /// 203.0.113.0/24, 2001:db8::/32).
    pub fn writes_ip_addresses(&self) -> bool {
        match &self.strategy {
            Strategy::Fake(f) => matches!(f.kind, FakeKind::Ipv4 | FakeKind::Ipv6),
            Strategy::Scrub(s) => s.finds.ipv4 || s.finds.ipv6,
            _ => false,
        }
    }

    /// Whether the mask reads lookups (in `when` or its template): then it depends on
    /// tables read earlier, not on its row alone.
    pub fn uses_lookups(&self) -> bool {
        let in_template = match &self.strategy {
            Strategy::Template(t) => t.lookups().next().is_some(),
            _ => false,
        };
        in_template
            || self
                .when
                .as_ref()
                .is_some_and(|c| c.lookups().next().is_some())
    }

    /// Whether the mask applies to `row` (its `when` holds, or it has none).
    ///
    /// # Errors
    /// See [`Condition::matches`].
    pub fn applies(&self, row: &dyn RowAccess, lookups: &LookupStore) -> Result<bool, EvalError> {
        match &self.when {
            None => Ok(true),
            Some(c) => c.matches(row, lookups),
        }
    }

    /// The masked value for `original`. `row` is the whole row (for templates), `max_chars`
    /// the column's limit, `unique` whether the column is UNIQUE/PRIMARY. Does not check
    /// `when`: call [`applies`](Self::applies) first.
    ///
    /// # Errors
    /// A [`MaskError`] whenever no acceptable value can be produced; never falls back to
    /// the original.
    pub fn apply(
        &self,
        original: Cell<'_>,
        row: &dyn RowAccess,
        lookups: &LookupStore,
        max_chars: Option<usize>,
        unique: bool,
    ) -> Result<MaskValue, MaskError> {
        let mut out = Vec::new();
        let fit = Fit {
            max_chars,
            unique,
            attempt: 0,
        };
        Ok(
            match self.apply_into(original, row, lookups, fit, &mut out)? {
                Masked::Null => MaskValue::Null,
                Masked::Value => MaskValue::Bytes(out),
            },
        )
    }

    /// Like [`apply`](Self::apply), writing into a reused buffer (cleared first).
    ///
    /// # Errors
    /// As [`apply`](Self::apply).
    pub fn apply_into(
        &self,
        original: Cell<'_>,
        row: &dyn RowAccess,
        lookups: &LookupStore,
        fit: Fit,
        out: &mut Vec<u8>,
    ) -> Result<Masked, MaskError> {
        out.clear();
        let Cell::Bytes(orig) = original else {
            return Ok(Masked::Null);
        };
        let unique = fit.unique || self.unique;
        let cannot_be_unique = || MaskError::CannotBeUnique {
            mask: self.label.clone(),
            strategy: self.strategy.name().into(),
        };
        match &self.strategy {
            Strategy::Null => return Ok(Masked::Null),
            Strategy::Fixed(f) => {
                if unique {
                    return Err(cannot_be_unique());
                }
                out.extend_from_slice(&f.bytes);
                self.check_fits(out, fit.max_chars)?;
            }
            Strategy::Template(t) => {
                if unique && (fit.attempt > 0 || t.constant().is_some()) {
                    return Err(cannot_be_unique());
                }
                t.render(orig, row, lookups, self.key.as_deref(), &self.label, out)?;
                self.check_fits(out, fit.max_chars)?;
            }
            Strategy::Hash { len } => {
                if orig.is_empty() {
                    return Ok(Masked::Value);
                }
                let key = self.key();
                let d = if fit.attempt == 0 {
                    key.plain(orig)
                } else {
                    key.tagged("hash", fit.attempt, orig)
                };
                let n = (*len).min(fit.max_chars.unwrap_or(usize::MAX));
                if unique && n < MIN_UNIQUE_HASH {
                    return Err(MaskError::DoesNotFit {
                        mask: self.label.clone(),
                        needed: MIN_UNIQUE_HASH,
                        max: n,
                    });
                }
                push_hex(out, &d, n);
            }
            Strategy::Redact => {
                if unique {
                    return Err(cannot_be_unique());
                }
                redact_into(orig, fit.max_chars, out);
            }
            Strategy::Scrub(scrub) => {
                if unique {
                    return Err(cannot_be_unique());
                }
                if scrub.scrub_into(self.key(), orig, out) == 0 {
                    out.extend_from_slice(orig);
                }
                self.check_fits(out, fit.max_chars)?;
            }
            Strategy::Fake(f) => {
                if orig.is_empty() {
                    return Ok(Masked::Value);
                }
                if unique && !f.kind.can_be_unique() {
                    return Err(cannot_be_unique());
                }
                let d = self.key().tagged(f.kind.tag(), fit.attempt, orig);
                let (head, keep) = fake_value(f, &d, orig, unique);
                fit_parts(&head, &keep, fit.max_chars, unique, &self.label, out)?;
            }
        }
        Ok(Masked::Value)
    }

    fn key(&self) -> &Key {
        self.key
            .as_deref()
            .expect("validated: strategies that need the secret have a key")
    }

    fn check_fits(&self, out: &[u8], max: Option<usize>) -> Result<(), MaskError> {
        if let Some(max) = max {
            let n = char_count(out);
            if n > max {
                return Err(MaskError::DoesNotFit {
                    mask: self.label.clone(),
                    needed: n,
                    max,
                });
            }
        }
        Ok(())
    }
}

/// The fewest hex digits a `hash` in a UNIQUE column may have (64 bits).
pub(crate) const MIN_UNIQUE_HASH: usize = 16;

/// Characters in possibly-invalid UTF-8 (each invalid byte counts as one).
pub(crate) fn char_count(b: &[u8]) -> usize {
    b.utf8_chunks()
        .map(|c| c.valid().chars().count() + c.invalid().len())
        .sum()
}

/// letters → `x`/`X`, digits → `0`, everything else kept; invalid UTF-8 bytes → `x`.
pub(crate) fn redact_into(orig: &[u8], max: Option<usize>, out: &mut Vec<u8>) {
    let max = max.unwrap_or(usize::MAX);
    let mut n = 0;
    let mut buf = [0u8; 4];
    'outer: for chunk in orig.utf8_chunks() {
        for c in chunk.valid().chars() {
            if n == max {
                break 'outer;
            }
            let r = if c.is_alphabetic() {
                if c.is_uppercase() {
                    'X'
                } else {
                    'x'
                }
            } else if c.is_numeric() {
                '0'
            } else {
                c
            };
            out.extend_from_slice(r.encode_utf8(&mut buf).as_bytes());
            n += 1;
        }
        for _ in chunk.invalid() {
            if n == max {
                break 'outer;
            }
            out.push(b'x');
            n += 1;
        }
    }
}

/// Lower-case ASCII letters of a name (`O'Keefe` → `okeefe`), appended to `out`.
fn push_ident(out: &mut String, s: &str) {
    out.extend(
        s.chars()
            .filter(|c| c.is_ascii_alphabetic())
            .map(|c| c.to_ascii_lowercase()),
    );
}

/// `first.last` of two names' ASCII letters, lower-case: one string per fake, not three.
fn idents(first: &str, last: &str) -> String {
    let mut s = String::with_capacity(first.len() + last.len() + 1);
    push_ident(&mut s, first);
    s.push('.');
    push_ident(&mut s, last);
    s
}

/// Generates a fake value as `(head, keep)`: `keep` (the uniqueness suffix and fixed tail)
/// survives truncation, `head` is shortened.
pub(crate) fn fake_value(
    f: &Fake,
    digest: &[u8; 32],
    orig: &[u8],
    unique: bool,
) -> (String, String) {
    let mut rng = rand::rngs::ChaCha8Rng::from_seed(*digest);
    let suffix = hex(&digest[28..], 8);
    let opt = |sep: &str| {
        if unique {
            format!("{sep}{suffix}")
        } else {
            String::new()
        }
    };
    match f.kind {
        FakeKind::Email => {
            let a: String = FirstName().fake_with_rng(&mut rng);
            let b: String = LastName().fake_with_rng(&mut rng);
            (idents(&a, &b), format!(".{suffix}@{}", f.domain))
        }
        FakeKind::Username => {
            let a: String = FirstName().fake_with_rng(&mut rng);
            let b: String = LastName().fake_with_rng(&mut rng);
            (idents(&a, &b), format!(".{suffix}"))
        }
        FakeKind::Name => {
            let a: String = FirstName().fake_with_rng(&mut rng);
            let b: String = LastName().fake_with_rng(&mut rng);
            (format!("{a} {b}"), opt(" "))
        }
        FakeKind::FirstName => (FirstName().fake_with_rng(&mut rng), opt(" ")),
        FakeKind::LastName => (LastName().fake_with_rng(&mut rng), opt(" ")),
        FakeKind::Phone => {
            let p: String = CellNumber().fake_with_rng(&mut rng);
            let ext = u32::from_be_bytes(digest[28..32].try_into().expect("4 bytes"));
            (
                p,
                if unique {
                    format!(" x{ext:010}")
                } else {
                    String::new()
                },
            )
        }
        FakeKind::Street => {
            let n: String = BuildingNumber().fake_with_rng(&mut rng);
            let s: String = StreetName().fake_with_rng(&mut rng);
            (format!("{n} {s}"), opt(" "))
        }
        FakeKind::City => (CityName().fake_with_rng(&mut rng), opt(" ")),
        FakeKind::Postcode => (ZipCode().fake_with_rng(&mut rng), opt("-")),
        // Documentation ranges: a fake address must never be a real host.
        FakeKind::Ipv4 => (documentation_ipv4(digest, orig), String::new()),
        FakeKind::Ipv6 => (documentation_ipv6(digest), String::new()),
        FakeKind::Url => {
            let a: String = FirstName().fake_with_rng(&mut rng);
            let b: String = LastName().fake_with_rng(&mut rng);
            (
                format!("https://{}/~{}", f.domain, idents(&a, &b)),
                opt("."),
            )
        }
        FakeKind::Lorem => {
            let n = f.words.map_or_else(
                || {
                    let words = orig
                        .split(|b| b.is_ascii_whitespace())
                        .filter(|w| !w.is_empty())
                        .count();
                    words.clamp(1, 10_000)
                },
                |w| w as usize,
            );
            let mut s = String::new();
            for i in 0..n {
                let w: &str = Word().fake_with_rng(&mut rng);
                if i == 0 {
                    let mut c = w.chars();
                    if let Some(f) = c.next() {
                        s.extend(f.to_uppercase());
                        s.push_str(c.as_str());
                    }
                } else {
                    s.push(' ');
                    s.push_str(w);
                }
            }
            s.push('.');
            (s, opt(" "))
        }
        FakeKind::Date => {
            let (lo, hi) = f.range;
            let span = u64::try_from(hi - lo).unwrap_or(0) + 1;
            let day = lo + i64::try_from(rng.random::<u64>() % span).unwrap_or(0);
            (civil_from_days(day), String::new())
        }
    }
}

/// Joins `head` and `keep` within `max` characters into `out`: cuts `head` first (and
/// trailing separators with it); if even `keep` does not fit, a unique value is an error
/// and any other is cut as a whole.
pub(crate) fn fit_parts(
    head: &str,
    keep: &str,
    max: Option<usize>,
    unique: bool,
    label: &str,
    out: &mut Vec<u8>,
) -> Result<(), MaskError> {
    let mut join = |head: &str, keep: &str| {
        out.extend_from_slice(head.as_bytes());
        out.extend_from_slice(keep.as_bytes());
    };
    let Some(max) = max else {
        join(head, keep);
        return Ok(());
    };
    let hn = head.chars().count();
    let kn = keep.chars().count();
    if hn + kn <= max {
        join(head, keep);
        return Ok(());
    }
    if kn <= max {
        let cut: String = head.chars().take(max - kn).collect();
        let cut = cut.trim_end_matches(['.', ' ', '-', '_', '/', '~', ':']);
        if cut.is_empty() {
            join(keep.trim_start_matches(['.', ' ', '-']), "");
        } else {
            join(cut, keep);
        }
        return Ok(());
    }
    if unique {
        return Err(MaskError::DoesNotFit {
            mask: label.into(),
            needed: kn,
            max,
        });
    }
    let whole: String = head.chars().chain(keep.chars()).take(max).collect();
    join(&whole, "");
    Ok(())
}

/// `YYYY-MM-DD` for days since 1970-01-01 (proleptic Gregorian; H. Hinnant's algorithm).
pub(crate) fn civil_from_days(z: i64) -> String {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!("{y:04}-{m:02}-{d:02}")
}

/// Days since 1970-01-01 for a `YYYY-MM-DD` date, `None` if it is not a real date.
pub(crate) fn days_from_civil(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i64 = s[..4].parse().ok()?;
    let m: i64 = s[5..7].parse().ok()?;
    let d: i64 = s[8..].parse().ok()?;
    if !(1..=12).contains(&m) || d < 1 {
        return None;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let dim = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if d > dim[(m - 1) as usize] {
        return None;
    }
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}
