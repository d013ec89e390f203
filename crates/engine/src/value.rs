//! One value: decode, replace, re-encode in the same form.

use std::sync::LazyLock;

use understudy_phpser::hooks::{plain_json, plain_text, FlatMarks, NeedleSet, PLAIN_HEAD};
use understudy_phpser::{replace_in_value, Boundary, Options, Outcome, Replacer, Scratch};
use understudy_sqldump::literal::{decode_hex, encode_hex, escape_into, unescape_into};
use understudy_sqldump::{Value, ValueKind};

/// One group of replacement pairs applied together (one `[[replace]]` rule, or the
/// command line's `--replace` pairs), compiled once.
#[derive(Debug)]
pub(crate) struct Replacements {
    /// Which rule, for the report (`--replace` for the command line's).
    pub(crate) label: String,
    replacer: Replacer,
    /// The needles as mysqldump escapes them, to search raw string content without decoding.
    escaped: NeedleSet,
    options: Options,
    /// Whether base64 values are looked into (off only to measure what the checks cost).
    base64: bool,
    /// The pairs as mysqldump escapes them, if plain replacement can be done on string
    /// content as it is in the dump (see [`replace_escaped`]).
    escaped_pairs: Option<Vec<EscapedPair>>,
    /// What all of `escaped_pairs` hold, if their replacement can be done in one search
    /// (see [`replace_anchored`]).
    anchor: Option<Anchor>,
    /// The tables and columns the command line's pairs keep to (`--skip-tables`, …); a
    /// rule's group has its filter in the rules.
    pub(crate) scope: Option<std::sync::Arc<understudy_rules::ReplaceScope>>,
}

/// A replacement pair, SQL-escaped.
#[derive(Debug)]
struct EscapedPair {
    needle: memchr::memmem::Finder<'static>,
    replacement: Vec<u8>,
    boundary: Boundary,
}

impl Replacements {
    /// Whether the group may apply to some column of `table` (its scope lets it).
    pub(crate) fn table_ok(&self, table: &str) -> bool {
        self.scope.as_ref().is_none_or(|s| s.table_ok(table))
    }

    /// Whether the group applies to values of `table.column`.
    pub(crate) fn applies_to(&self, table: &str, column: &str) -> bool {
        self.scope
            .as_ref()
            .is_none_or(|s| s.applies_to(table, column))
    }

    /// Whether deciding for `table`'s values needs its column names.
    pub(crate) fn needs_columns(&self, table: &str) -> bool {
        self.scope.as_ref().is_some_and(|s| s.needs_columns(table))
    }

    /// A group of pairs that match anywhere (for tests).
    #[cfg(test)]
    pub(crate) fn new(
        label: String,
        pairs: &[(&[u8], &[u8])],
        options: Options,
        encoding_checks: bool,
    ) -> Result<Self, String> {
        let pairs: Vec<(&[u8], &[u8], Boundary)> =
            pairs.iter().map(|&(n, r)| (n, r, Boundary::NONE)).collect();
        Replacements::bounded(label, &pairs, options, encoding_checks)
    }

    /// A group of `(needle, replacement, boundary)` pairs, applied in order.
    pub(crate) fn bounded(
        label: String,
        pairs: &[(&[u8], &[u8], Boundary)],
        options: Options,
        encoding_checks: bool,
    ) -> Result<Self, String> {
        let replacer = Replacer::bounded(pairs.iter().cloned()).map_err(|e| e.to_string())?;
        let options = if encoding_checks {
            options
        } else {
            options.without_encoding_checks()
        };
        // The replacer's prefilter, not just the needles: it also finds them JSON-escaped
        // (JSON in JSON strings), which the replacer decodes.
        let needles: Vec<&[u8]> = if encoding_checks {
            replacer.prefilter_needles().collect()
        } else {
            pairs.iter().map(|&(needle, _, _)| needle).collect()
        };
        let escaped: Vec<Vec<u8>> = needles
            .into_iter()
            .map(|needle| {
                let mut e = Vec::new();
                escape_into(needle, &mut e);
                e
            })
            .collect();
        // Not an Aho-Corasick automaton: its 16 or more patterns all start with `https:`, and
        // a NeedleSet searches for the host they share instead (a fifth of the whole run on
        // a generated WordPress dump went to the automaton; see BENCHMARKS.md).
        let escaped = NeedleSet::new(&escaped).map_err(|e| e.to_string())?;
        // A needle may hold backslashes (`https:\/\/…`), which are always escaped in the
        // dump, but no other byte mysqldump escapes: a hand-written dump may hold those raw
        // (a newline, a `"` in a `'…'` string), and the escaped needle would not find them.
        let plain_safe = pairs.iter().all(|(needle, _, _)| {
            !needle.is_empty()
                && needle
                    .iter()
                    .all(|&b| b == b'\\' || !matches!(b, 0 | b'\n' | b'\r' | b'\'' | b'"' | 0x1a))
        });
        let escaped_pairs = plain_safe.then(|| {
            pairs
                .iter()
                .map(|(needle, replacement, boundary)| {
                    let (mut n, mut r) = (Vec::new(), Vec::new());
                    escape_into(needle, &mut n);
                    escape_into(replacement, &mut r);
                    EscapedPair {
                        needle: memchr::memmem::Finder::new(&n).into_owned(),
                        replacement: r,
                        boundary: boundary.clone(),
                    }
                })
                .collect()
        });
        let anchor = escaped_pairs.as_deref().and_then(Anchor::new);
        Ok(Replacements {
            label,
            replacer,
            escaped,
            options,
            base64: options.looks_into_base64(),
            escaped_pairs,
            anchor,
            scope: None,
        })
    }

    /// An offset in `rows` (whole rows of a dump, still SQL-escaped) at or before the first
    /// needle this group may replace: no value that ends before it holds one as it is or
    /// escaped. `rows.len()` if none. Exact only for strings escaped as mysqldump does and
    /// no `0x…` values, which `Lexer::skim_rows_before` checks. Base64 hides needles from
    /// this search; `Lexer::skim_rows_before` looks for its start where it stops anyway
    /// (`RowFilter::flags`), cheaper than a search of all the bytes here.
    pub(crate) fn first_change(&self, rows: &[u8]) -> usize {
        self.escaped
            .find_iter(rows)
            .next()
            .map_or(rows.len(), |(_, start)| start)
    }

    /// Whether the group decodes base64 to look for its needles.
    pub(crate) fn looks_into_base64(&self) -> bool {
        self.base64
    }

    /// Whether a needle may be in string content that is still SQL-escaped. Exact for
    /// mysqldump's escaping, which maps each decoded byte to fixed bytes.
    fn may_match_raw(&self, content: &[u8]) -> bool {
        self.escaped.is_match(content)
            || (self.base64
                && (understudy_phpser::hooks::may_be_base64(content)
                    || understudy_phpser::hooks::may_hold_base64(content)))
    }
}

/// What replacements did to one value.
#[derive(Default)]
pub(crate) struct ValueOutcome {
    /// Labels of the groups that changed the value.
    pub(crate) changed_by: Vec<usize>,
    /// Whether any change was made inside serialized PHP.
    pub(crate) serialized: bool,
    /// Where the needle lived: `plain`, `serialized`, `session`, `base64`; each prefixed with
    /// `hex blob, ` for `0x…` values.
    pub(crate) encoding: &'static str,
    /// Values that looked serialized and did not parse.
    pub(crate) warnings: Vec<understudy_phpser::Error>,
    /// Whether every group that changed the value replaced in it as plain text.
    plain_only: bool,
}

/// Per-thread buffers.
#[derive(Default)]
pub(crate) struct ValueScratch {
    decoded: Vec<u8>,
    current: Vec<u8>,
    next: Vec<u8>,
    php: Scratch,
    /// Where an [`Anchor`] occurs in the text being replaced.
    anchors: Vec<usize>,
}

/// The decoded bytes of a value, or `None` for literals that are not text (numbers, NULL,
/// bit values, keywords). `buf` holds them when decoding was needed.
pub(crate) fn decode<'a>(token: &'a [u8], value: &Value, buf: &'a mut Vec<u8>) -> Option<&'a [u8]> {
    let content = value.content.of(token);
    match value.kind {
        ValueKind::Str { escapes, quote, .. } => {
            if !escapes {
                return Some(content);
            }
            buf.clear();
            unescape_into(content, quote, buf);
            Some(buf)
        }
        ValueKind::Hex => {
            buf.clear();
            decode_hex(content, buf)?;
            Some(buf)
        }
        ValueKind::Concat => {
            buf.clear();
            understudy_sqldump::literal::unescape_concat(content, buf);
            Some(buf)
        }
        ValueKind::Number | ValueKind::Null | ValueKind::Bit | ValueKind::Keyword => None,
    }
}

/// The value's bytes as the rules see them: strings and hex decoded, numbers and keywords as
/// written, `None` for NULL.
pub(crate) fn cell_bytes<'a>(
    token: &'a [u8],
    value: &Value,
    buf: &'a mut Vec<u8>,
) -> Option<&'a [u8]> {
    match value.kind {
        ValueKind::Null => None,
        ValueKind::Number | ValueKind::Bit | ValueKind::Keyword => Some(value.content.of(token)),
        _ => decode(token, value, buf),
    }
}

/// [`FlatMarks`] for JSON documents as mysqldump escapes them, which are searched in the
/// dump's bytes without decoding ([`replace_plain_escaped`]).
static SQL_ESCAPED_MARKS: LazyLock<FlatMarks> = LazyLock::new(|| {
    FlatMarks::encoded(|mark| {
        let mut escaped = Vec::new();
        escape_into(mark, &mut escaped);
        escaped
    })
});

/// Writes the token with a new value in place of the old one, in the same form where the
/// form can hold it: a string stays a string (with its introducer), `0x…` stays hex (upper or
/// lower case as before); a number or keyword that becomes text is written as a string.
pub(crate) fn encode(token: &[u8], value: &Value, new: Option<&[u8]>, out: &mut Vec<u8>) {
    out.clear();
    let Some(new) = new else {
        out.extend_from_slice(&token[..value.literal.start as usize]);
        out.extend_from_slice(b"NULL");
        out.extend_from_slice(&token[value.literal.end as usize..]);
        return;
    };
    match value.kind {
        ValueKind::Str { .. } => {
            out.extend_from_slice(&token[..value.content.start as usize]);
            escape_into(new, out);
            out.extend_from_slice(&token[value.content.end as usize..]);
        }
        ValueKind::Hex if !new.is_empty() => {
            let content = value.content.of(token);
            let upper = !content.iter().any(u8::is_ascii_lowercase);
            out.extend_from_slice(&token[..value.content.start as usize]);
            encode_hex(new, upper, out);
            out.extend_from_slice(&token[value.content.end as usize..]);
        }
        _ => {
            // `0x` with no digits is not SQL, and numbers cannot hold text: a plain string.
            out.extend_from_slice(&token[..value.literal.start as usize]);
            out.push(b'\'');
            escape_into(new, out);
            out.push(b'\'');
            out.extend_from_slice(&token[value.literal.end as usize..]);
        }
    }
}

/// Applies `groups` in order to the value in `token`. On a change, `out` holds the new token.
pub(crate) fn replace(
    token: &[u8],
    value: &Value,
    groups: &[&Replacements],
    scratch: &mut ValueScratch,
    out: &mut Vec<u8>,
) -> Result<Option<ValueOutcome>, (usize, understudy_phpser::Error)> {
    if groups.is_empty() {
        return Ok(None);
    }
    if let ValueKind::Str {
        canonical: true, ..
    } = value.kind
    {
        let content = value.content.of(token);
        if !groups.iter().any(|g| g.may_match_raw(content)) {
            return Ok(None);
        }
        if let Some(done) = replace_plain_escaped(token, value, groups, scratch, out) {
            return Ok(done);
        }
    }
    let ValueScratch {
        decoded,
        current,
        next,
        php,
        ..
    } = scratch;
    let Some(start) = decode(token, value, decoded) else {
        return Ok(None);
    };
    let hex = value.kind == ValueKind::Hex;
    let Some(outcome) = apply_groups(start, hex, groups, php, current, next)? else {
        return Ok(None);
    };
    if let ValueKind::Str {
        canonical: true, ..
    } = value.kind
    {
        let changed = outcome
            .changed_by
            .iter()
            .map(|&i| groups[i].escaped_pairs.as_deref());
        if let (true, Some(changed)) = (outcome.plain_only, changed.collect::<Option<Vec<_>>>()) {
            let content = value.content;
            out.clear();
            out.extend_from_slice(&token[..content.start as usize]);
            if replace_escaped(
                content.of(token),
                changed.into_iter().flatten(),
                current,
                next,
            ) {
                out.extend_from_slice(current);
                out.extend_from_slice(&token[content.end as usize..]);
                return Ok(Some(outcome));
            }
            // Not reached when the pairs found the needles in the decoded value; should it
            // be, the value is encoded from that.
        }
    }
    encode(token, value, Some(current), out);
    Ok(Some(outcome))
}

/// [`replace`] for a string whose every group would find it plain text
/// ([`plain_text`]): the pairs replaced in its escaped content, without decoding it. Most
/// values with a needle are such (posts, comments, links); decoding them only to learn that
/// took a sixth of a replacement run. `None` if a group may see more than text in it (or
/// cannot replace escaped), and [`replace`] decodes it.
fn replace_plain_escaped(
    token: &[u8],
    value: &Value,
    groups: &[&Replacements],
    scratch: &mut ValueScratch,
    out: &mut Vec<u8>,
) -> Option<Option<ValueOutcome>> {
    let ValueKind::Str {
        canonical: true,
        double_quotes_escaped,
        quote,
        ..
    } = value.kind
    else {
        return None;
    };
    let content = value.content;
    let ValueScratch {
        decoded,
        current,
        next,
        anchors,
        ..
    } = scratch;
    let mut outcome = ValueOutcome {
        plain_only: true,
        ..ValueOutcome::default()
    };
    // The decoded head: enough escaped bytes for PLAIN_HEAD decoded ones, the last of which
    // may be cut in two and is not looked at. Text, or a JSON document with only text in
    // its strings, for every group; the marks of the latter are searched as mysqldump
    // escapes them, so only where every `"` is escaped (other tools may leave them raw).
    let is_plain = |text: &[u8], decoded: &mut Vec<u8>| {
        decoded.clear();
        unescape_into(&text[..text.len().min(2 * PLAIN_HEAD + 2)], quote, decoded);
        decoded.truncate(PLAIN_HEAD);
        plain_text(decoded, text)
            || double_quotes_escaped
                && groups
                    .iter()
                    .all(|g| plain_json(&g.replacer, decoded, text, &SQL_ESCAPED_MARKS, g.options))
    };
    // Without a needle in sight, only something other than text (base64) may change.
    if !is_plain(content.of(token), decoded) {
        return None;
    }
    for (i, group) in groups.iter().enumerate() {
        let pairs = group.escaped_pairs.as_deref()?;
        // `current` holds the content once a group has changed it, and is looked at again.
        let text: &[u8] = if outcome.changed_by.is_empty() {
            content.of(token)
        } else {
            if !is_plain(current, decoded) {
                return None;
            }
            current
        };
        let changed = match &group.anchor {
            // Its one search of the value is the test for a needle too.
            Some(anchor) => replace_anchored(text, pairs, anchor, next, decoded, anchors),
            None if group.escaped.is_match(text) => {
                replace_escaped(text, pairs.iter(), next, decoded)
            }
            None => false,
        };
        if changed {
            std::mem::swap(current, next);
            outcome.changed_by.push(i);
        }
    }
    if outcome.changed_by.is_empty() {
        return Some(None);
    }
    outcome.encoding = "plain";
    out.clear();
    out.extend_from_slice(&token[..content.start as usize]);
    out.extend_from_slice(current);
    out.extend_from_slice(&token[content.end as usize..]);
    Some(Some(outcome))
}

/// Plain replacement of `pairs` (SQL-escaped, in order, each on the result of the one
/// before) in string content as it is in the dump, into `out` (`tmp` is a second buffer).
/// Returns whether anything changed.
///
/// For a value that only got plain replacement this gives the bytes that decoding,
/// replacing and escaping again would, without escaping the whole value again byte by byte
/// (a tenth of a rewrite's time on a WordPress dump). mysqldump's escaping maps each byte to
/// fixed bytes, and each escape starts with a backslash, so an escaped needle found where an
/// even number of backslashes precedes it is the needle found in the decoded value, and one
/// found after an odd number starts inside an escape and is passed over.
fn replace_escaped<'p>(
    content: &[u8],
    pairs: impl Iterator<Item = &'p EscapedPair>,
    out: &mut Vec<u8>,
    tmp: &mut Vec<u8>,
) -> bool {
    let mut changed = false;
    for pair in pairs {
        let src: &[u8] = if changed { out } else { content };
        tmp.clear();
        let needle_len = pair.needle.needle().len();
        let (mut copied, mut from) = (0, 0);
        while let Some(k) = pair.needle.find(&src[from..]) {
            let at = from + k;
            if inside_escape(src, at) || !pair.boundary.admits_escaped(src, at, at + needle_len) {
                from = at + 1;
                continue;
            }
            tmp.extend_from_slice(&src[copied..at]);
            tmp.extend_from_slice(&pair.replacement);
            copied = at + needle_len;
            from = copied;
        }
        // Needles are not empty: something was replaced exactly when something was copied.
        if copied > 0 {
            tmp.extend_from_slice(&src[copied..]);
            std::mem::swap(out, tmp);
            changed = true;
        }
    }
    changed
}

/// Whether `text[at]` (SQL-escaped) is the byte an escape's backslash escapes: it follows
/// an odd number of backslashes.
fn inside_escape(text: &[u8], at: usize) -> bool {
    text[..at].iter().rev().take_while(|&&b| b == b'\\').count() % 2 == 1
}

/// A run of bytes every needle of a group holds (the host of a site URL and its escaped
/// variants), such that no replacement can make one (see [`Anchor::new`]): then the
/// needles are found where the anchor is, and [`replace_anchored`] searches a value once,
/// not once per pair. A page builder's document is long and its pairs are several (each
/// URL with its `json_encode`d twin): a search per pair was about a seventh of a replacement
/// run.
#[derive(Debug)]
struct Anchor {
    finder: memchr::memmem::Finder<'static>,
    /// Where the anchor starts in each pair's needle (its first place there).
    offsets: Vec<usize>,
}

impl Anchor {
    /// The longest run of at least 4 bytes that every needle holds, if it has no border (a
    /// start that is also its end, so its places never overlap) and no replacement can make
    /// a place of it: a replacement is not empty, neither holds it nor lies inside it, and
    /// neither starts with an end of it nor ends with a start of it.
    fn new(pairs: &[EscapedPair]) -> Option<Anchor> {
        let needles: Vec<&[u8]> = pairs.iter().map(|p| p.needle.needle()).collect();
        let shortest = needles.iter().min_by_key(|n| n.len())?;
        let holds = |hay: &[u8], part: &[u8]| memchr::memmem::find(hay, part).is_some();
        let anchor = (4..=shortest.len()).rev().find_map(|len| {
            shortest
                .windows(len)
                .find(|&run| needles.iter().all(|n| holds(n, run)))
        })?;
        let bordered = (1..anchor.len()).any(|k| anchor[..k] == anchor[anchor.len() - k..]);
        let safe = |r: &[u8]| {
            !r.is_empty()
                && !holds(r, anchor)
                && !holds(anchor, r)
                && (1..=r.len())
                    .all(|k| !anchor.starts_with(&r[r.len() - k..]) && !anchor.ends_with(&r[..k]))
        };
        if bordered || !pairs.iter().all(|p| safe(&p.replacement)) {
            return None;
        }
        Some(Anchor {
            finder: memchr::memmem::Finder::new(anchor).into_owned(),
            offsets: needles
                .iter()
                .map(|n| memchr::memmem::find(n, anchor))
                .collect::<Option<_>>()?,
        })
    }
}

/// [`replace_escaped`] with one search for the group's [`Anchor`]: each pair looks for its
/// needle only around the anchor's places. The places in the text a pair leaves are the
/// places before it, moved, but for those its replacements covered: a replacement can make
/// none. `places` is scratch space.
fn replace_anchored(
    content: &[u8],
    pairs: &[EscapedPair],
    anchor: &Anchor,
    out: &mut Vec<u8>,
    tmp: &mut Vec<u8>,
    places: &mut Vec<usize>,
) -> bool {
    places.clear();
    places.extend(anchor.finder.find_iter(content));
    let width = anchor.finder.needle().len();
    let mut changed = false;
    for (pair, &offset) in pairs.iter().zip(&anchor.offsets) {
        let src: &[u8] = if changed { out } else { content };
        let needle = pair.needle.needle();
        tmp.clear();
        // The places of the anchor in the text this pair writes, built over `places`:
        // `kept` of them so far; `shift` is how much longer that text is so far.
        let (mut copied, mut kept, mut shift) = (0, 0, 0isize);
        for i in 0..places.len() {
            let place = places[i];
            if place < copied {
                // Inside a needle just replaced: gone.
                continue;
            }
            let at = place.wrapping_sub(offset);
            let found = place >= offset
                && at >= copied
                && src.get(at..at + needle.len()) == Some(needle)
                && !inside_escape(src, at)
                && pair.boundary.admits_escaped(src, at, at + needle.len());
            if !found {
                places[kept] = place.wrapping_add_signed(shift);
                kept += 1;
                continue;
            }
            // Places before the needle that run into it are gone too.
            let new_at = at.wrapping_add_signed(shift);
            while kept > 0 && places[kept - 1] + width > new_at {
                kept -= 1;
            }
            tmp.extend_from_slice(&src[copied..at]);
            tmp.extend_from_slice(&pair.replacement);
            copied = at + needle.len();
            shift += pair.replacement.len() as isize - needle.len() as isize;
        }
        places.truncate(kept);
        if copied > 0 {
            tmp.extend_from_slice(&src[copied..]);
            std::mem::swap(out, tmp);
            changed = true;
        }
    }
    changed
}

/// Applies `groups` in order to already decoded bytes (a value a mask produced); on a change
/// `bytes` holds the result.
pub(crate) fn replace_decoded(
    bytes: &mut Vec<u8>,
    groups: &[&Replacements],
    scratch: &mut ValueScratch,
) -> Result<Option<ValueOutcome>, (usize, understudy_phpser::Error)> {
    let ValueScratch {
        current, next, php, ..
    } = scratch;
    let outcome = apply_groups(bytes, false, groups, php, current, next)?;
    if outcome.is_some() {
        std::mem::swap(bytes, current);
    }
    Ok(outcome)
}

/// The loop of [`replace`]: each group on the result of the one before; the final value ends
/// in `current`.
fn apply_groups(
    start: &[u8],
    hex: bool,
    groups: &[&Replacements],
    php: &mut Scratch,
    current: &mut Vec<u8>,
    next: &mut Vec<u8>,
) -> Result<Option<ValueOutcome>, (usize, understudy_phpser::Error)> {
    let mut outcome = ValueOutcome {
        plain_only: true,
        ..ValueOutcome::default()
    };
    let mut have_current = false;
    for (i, group) in groups.iter().enumerate() {
        let input: &[u8] = if have_current { current } else { start };
        let report = replace_in_value(input, &group.replacer, php, next, group.options)
            .map_err(|e| (i, e))?;
        if report.outcome == Outcome::Rewritten {
            std::mem::swap(current, next);
            have_current = true;
            if outcome.changed_by.is_empty() {
                outcome.encoding = match (hex, report.base64, report.session, report.serialized) {
                    (false, true, _, _) => "base64",
                    (false, _, true, _) => "session",
                    (false, _, _, true) => "serialized",
                    (false, _, _, _) => "plain",
                    (true, true, _, _) => "hex blob, base64",
                    (true, _, true, _) => "hex blob, session",
                    (true, _, _, true) => "hex blob, serialized",
                    (true, _, _, _) => "hex blob, plain",
                };
            }
            outcome.changed_by.push(i);
            outcome.plain_only &=
                !(report.serialized || report.base64 || report.session || report.json);
            outcome.serialized |= report.serialized;
            outcome.warnings.extend(report.warning);
        }
    }
    Ok(have_current.then_some(outcome))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::TestCaseError;
    use understudy_phpser::Mode;
    use understudy_sqldump::{Lexed, Lexer, Token};
    use understudy_testkit::json::json_document;

    /// The one value of `INSERT INTO t VALUES (<literal>);`, lexed.
    fn lex_value(statement: &[u8]) -> (Vec<u8>, Value) {
        let mut lexer = Lexer::new();
        let mut at = 0;
        loop {
            match lexer.lex(&statement[at..], true).unwrap() {
                (Lexed::Token(Token::Value(v)), n) => {
                    return (statement[at..at + n].to_vec(), v);
                }
                (Lexed::Token(_), n) => at += n,
                _ => panic!("no value in {:?}", String::from_utf8_lossy(statement)),
            }
        }
    }

    /// Bytes text in dumps is made of, escapes and near-needles included.
    fn piece() -> impl Strategy<Value = &'static [u8]> {
        prop::sample::select(vec![
            &b"a"[..],
            b"/",
            b"\\",
            b"\\\\",
            b"'",
            b"\"",
            b"\n",
            b"\r",
            b"\0",
            b"\x1a",
            b"\t",
            b"old",
            b"old.example",
            b"ld.ex",
            b"\\/",
            b"https://",
            b"https:\\/\\/",
            b" ",
        ])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        /// Plain replacement in the escaped content writes what decoding, replacing and
        /// escaping again would.
        #[test]
        fn escaped_replacement_is_decoded_replacement(
            text in prop::collection::vec(piece(), 0..16),
            pairs in prop::collection::vec(
                (prop::sample::select(vec!["old", "old.example", "https:\\/\\/old", "\\/", "a"]),
                 prop::sample::select(vec!["new", "", "n'e\"w\\", "x\ny"])),
                1..4,
            ),
        ) {
            let text = text.concat();
            let mut escaped = Vec::new();
            escape_into(&text, &mut escaped);
            let statement = [&b"INSERT INTO t VALUES ('"[..], &escaped, b"');"].concat();
            let (token, value) = lex_value(&statement);
            let pairs: Vec<(&[u8], &[u8])> =
                pairs.iter().map(|(a, b)| (a.as_bytes(), b.as_bytes())).collect();
            let group = Replacements::new("t".into(), &pairs, Options::new(Mode::Off), true)
                .unwrap();
            prop_assert!(group.escaped_pairs.is_some());
            let mut scratch = ValueScratch::default();
            let mut out = Vec::new();
            let got = replace(&token, &value, &[&group], &mut scratch, &mut out).unwrap();
            // By hand: decode, replace pair by pair, escape.
            let mut want = text.clone();
            for (from, to) in &pairs {
                let mut next = Vec::new();
                let mut rest = &want[..];
                while let Some(k) = memchr::memmem::find(rest, from) {
                    next.extend_from_slice(&rest[..k]);
                    next.extend_from_slice(to);
                    rest = &rest[k + from.len()..];
                }
                next.extend_from_slice(rest);
                want = next;
            }
            let mut want_token = b"'".to_vec();
            escape_into(&want, &mut want_token);
            want_token.push(b'\'');
            match got {
                Some(outcome) => {
                    prop_assert!(outcome.plain_only);
                    prop_assert_eq!(
                        String::from_utf8_lossy(&out),
                        String::from_utf8_lossy(&want_token)
                    );
                }
                None => prop_assert_eq!(want, text),
            }
        }
    }

    type Replaced = Result<Option<ValueOutcome>, (usize, understudy_phpser::Error)>;

    /// Checks what [`replace`] gave for the value `text` (in `token`, written to `out`)
    /// against decoding, replacing and escaping: the same value and report. With
    /// `raw_quotes` the dump left `"` unescaped, which a value replaced in its bytes keeps
    /// and one decoded does not: then the decoded values are compared.
    fn same_as_decoded(
        text: &[u8],
        token: &[u8],
        value: &Value,
        group: &Replacements,
        got: Replaced,
        out: &[u8],
        raw_quotes: bool,
    ) -> Result<(), TestCaseError> {
        let mut decoded = text.to_vec();
        let want = replace_decoded(&mut decoded, &[group], &mut ValueScratch::default());
        match (got, want) {
            (Ok(Some(got)), Ok(Some(want))) => {
                if raw_quotes {
                    let mut got_text = Vec::new();
                    unescape_into(&out[1..out.len() - 1], b'\'', &mut got_text);
                    prop_assert_eq!(
                        String::from_utf8_lossy(&got_text),
                        String::from_utf8_lossy(&decoded)
                    );
                } else {
                    let mut want_token = Vec::new();
                    encode(token, value, Some(&decoded), &mut want_token);
                    prop_assert_eq!(
                        String::from_utf8_lossy(out),
                        String::from_utf8_lossy(&want_token)
                    );
                }
                prop_assert_eq!(got.encoding, want.encoding);
                prop_assert_eq!(got.changed_by, want.changed_by);
                prop_assert_eq!(got.plain_only, want.plain_only);
                prop_assert_eq!(got.warnings.len(), want.warnings.len());
            }
            (Ok(None), Ok(None)) | (Err(_), Err(_)) => {}
            (got, want) => prop_assert!(
                false,
                "{:?}: escaped {:?}, decoded {:?}",
                String::from_utf8_lossy(text),
                got.map(|o| o.map(|o| o.encoding)),
                want.map(|o| o.map(|o| o.encoding))
            ),
        }
        Ok(())
    }

    /// Starts of values: text, and each wrapper the replacer looks into.
    fn value_start() -> impl Strategy<Value = &'static [u8]> {
        prop::sample::select(vec![
            &b""[..],
            b"<p>",
            b"The site ",
            b"a:1:{i:0;s:17:\"https://old/x/y/z\";}",
            b"s:10:\"https://ol\";",
            b"{\"u\":\"https:\\/\\/old\"}",
            b"[\"x\"]",
            b"user|s:3:\"old\";",
            b"\x03abcs:3:\"old\";",
            b"YToxOntpOjA7czoxMzoiaHR0cHM6Ly9vbGQveCI7fQ==",
        ])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Values replaced in their escaped content (plain text) or decoded (the rest) give
        /// what decoding, replacing and escaping gives, with the same report.
        #[test]
        fn escaped_values_are_replaced_as_decoded_ones(
            start in value_start(),
            text in prop::collection::vec(piece(), 0..12),
        ) {
            let text = [start, &text.concat()].concat();
            let mut escaped = Vec::new();
            escape_into(&text, &mut escaped);
            let statement = [&b"INSERT INTO t VALUES ('"[..], &escaped, b"');"].concat();
            let (token, value) = lex_value(&statement);
            let pairs: [(&[u8], &[u8]); 2] =
                [(b"https://old", b"https://n'ew"), (b"https:\\/\\/old", b"https:\\/\\/n'ew")];
            let group =
                Replacements::new("t".into(), &pairs, Options::new(Mode::Auto), true).unwrap();
            let mut out = Vec::new();
            let got = replace(&token, &value, &[&group], &mut ValueScratch::default(), &mut out);
            same_as_decoded(&text, &token, &value, &group, got, &out, false)?;
        }
    }

    /// The decoded text of a string in a JSON document: URLs, serialized PHP, JSON and
    /// base64 of serialized PHP with a needle, a backslash (escaped twice), session marks,
    /// bytes JSON and SQL escape.
    fn json_string() -> impl Strategy<Value = String> {
        let url = prop::sample::select(vec![
            "https://www.old.example/x",
            "http://www.old.example",
            "see www.old.example/über",
            "https://cdn.example/x",
        ]);
        let serialized = |u: &str| format!("a:1:{{s:1:\"u\";s:{}:\"{u}\";}}", u.len());
        prop_oneof![
            4 => url.clone().prop_map(str::to_owned),
            2 => "[a-z |!:{}\\[\\]\"'\\\\\n]{0,10}",
            1 => url.clone().prop_map(serialized),
            1 => url.clone().prop_map(|u| serde_json::json!({ "u": u }).to_string()),
            1 => url.prop_map(move |u| {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD.encode(serialized(u))
            }),
        ]
    }

    /// `text` SQL-escaped as mysqldump does, or (`raw_quotes`) with `"` as it is, as other
    /// tools write `'…'` strings.
    fn sql_string(text: &[u8], raw_quotes: bool) -> Vec<u8> {
        let mut escaped = Vec::new();
        for (i, piece) in text.split(|&b| b == b'"' && raw_quotes).enumerate() {
            if i > 0 {
                escaped.push(b'"');
            }
            escape_into(piece, &mut escaped);
        }
        escaped
    }

    /// The pairs of one replace rule for `https://www.old.example`, with its `json_encode`d
    /// twin, and one for the host alone.
    const JSON_PAIRS: [(&[u8], &[u8]); 3] = [
        (br"https:\/\/www.old.example", br"https:\/\/new.example"),
        (b"https://www.old.example", b"https://new.example"),
        (b"www.old.example", b"new.example"),
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        /// JSON documents replaced in their escaped content (when their strings hold only
        /// text) or decoded give what decoding, replacing and escaping gives, with the same
        /// report, whatever the mode.
        #[test]
        fn escaped_json_documents_are_replaced_as_decoded_ones(
            text in json_document(json_string()),
            mode in prop::sample::select(vec![Mode::Auto, Mode::Repair, Mode::Off]),
            base64 in any::<bool>(),
            raw_quotes in any::<bool>(),
        ) {
            let escaped = sql_string(&text, raw_quotes);
            let statement = [&b"INSERT INTO t VALUES ('"[..], &escaped, b"');"].concat();
            let (token, value) = lex_value(&statement);
            let options = Options::new(mode).base64(base64);
            let group = Replacements::new("t".into(), &JSON_PAIRS, options, true).unwrap();
            let mut out = Vec::new();
            let got = replace(&token, &value, &[&group], &mut ValueScratch::default(), &mut out);
            same_as_decoded(&text, &token, &value, &group, got, &out, raw_quotes)?;
        }
    }

    /// Which JSON documents are replaced without decoding: the fast path is taken where it
    /// may be, and only there.
    #[test]
    fn json_documents_with_only_text_in_their_strings_are_not_decoded() {
        let options = Options::new(Mode::Auto);
        let group = Replacements::new("t".into(), &JSON_PAIRS, options, true).unwrap();
        let escaped_path = |doc: &[u8], raw_quotes: bool| {
            let escaped = sql_string(doc, raw_quotes);
            let statement = [&b"INSERT INTO t VALUES ('"[..], &escaped, b"');"].concat();
            let (token, value) = lex_value(&statement);
            let mut out = Vec::new();
            let taken = replace_plain_escaped(
                &token,
                &value,
                &[&group],
                &mut ValueScratch::default(),
                &mut out,
            );
            taken.map(|changed| changed.is_some())
        };
        let doc = br#"[{"u":"https:\/\/www.old.example\/x","t":"caf\u00e9 \"x\""}]"#;
        assert_eq!(escaped_path(doc, false), Some(true));
        let doc = br#"{"u":"https:\/\/cdn.example\/x"}"#;
        assert_eq!(escaped_path(doc, false), Some(false));
        // `"` left raw in the dump: the marks are not searched for so.
        assert_eq!(escaped_path(doc, true), None);
        // Serialized PHP, JSON or base64 in a string; text escaped twice; a `php` session.
        for doc in [
            &br#"{"m":"a:1:{s:1:\"u\";s:15:\"www.old.example\";}"}"#[..],
            br#"{"m":"{\"u\":\"www.old.example\"}"}"#,
            br#"{"m":"YToxOntpOjA7czoxNTo","u":"www.old.example"}"#,
            br#"{"m":"a\\b www.old.example"}"#,
            br#"{"m":"x|www.old.example"}"#,
        ] {
            for raw_quotes in [false, true] {
                let path = escaped_path(doc, raw_quotes);
                assert_eq!(path, None, "{}", String::from_utf8_lossy(doc));
            }
        }
    }

    fn escaped_pair(needle: &[u8], replacement: &[u8]) -> EscapedPair {
        EscapedPair {
            boundary: Boundary::NONE,
            needle: memchr::memmem::Finder::new(needle).into_owned(),
            replacement: replacement.to_vec(),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        /// One search for the anchor replaces what one search per pair does, wherever the
        /// needles are (next to each other, overlapping, after backslashes).
        #[test]
        fn anchored_replacement_is_pair_by_pair_replacement(
            text in prop::collection::vec(prop::sample::select(vec![
                &b"www.old.example"[..], b"https://", br"https:\\/\\/", b"http:", b"//",
                b"/x", b"\\", b"\\\\", b"w", b"e", b" ", b"'",
            ]), 0..24),
            pairs in prop::collection::vec((
                prop::sample::select(vec![
                    &b"https://www.old.example"[..], b"http://www.old.example",
                    br"https:\\/\\/www.old.example", b"www.old.example", b"//www.old.example",
                    b"www.old.example/x",
                ]),
                prop::sample::select(vec![
                    &b"https://new.example"[..], b"new.example", b"#", br"n\\/ex",
                ]),
            ), 1..5),
        ) {
            let text = text.concat();
            let pairs: Vec<EscapedPair> =
                pairs.iter().map(|(n, r)| escaped_pair(n, r)).collect();
            let anchor = Anchor::new(&pairs).expect("these replacements make no anchor");
            let (mut want, mut tmp) = (Vec::new(), Vec::new());
            let want_changed = replace_escaped(&text, pairs.iter(), &mut want, &mut tmp);
            let (mut got, mut places) = (Vec::new(), Vec::new());
            let got_changed =
                replace_anchored(&text, &pairs, &anchor, &mut got, &mut tmp, &mut places);
            prop_assert_eq!(got_changed, want_changed);
            if want_changed {
                prop_assert_eq!(String::from_utf8_lossy(&got), String::from_utf8_lossy(&want));
            }
        }
    }

    #[test]
    fn no_anchor_where_a_replacement_could_make_one() {
        let with = |replacement: &[u8]| {
            Anchor::new(&[
                escaped_pair(b"https://www.old.example", b"https://new.example"),
                escaped_pair(b"www.old.example", replacement),
            ])
        };
        let anchor = with(b"new.example").expect("an anchor");
        assert_eq!(anchor.finder.needle(), b"www.old.example");
        assert_eq!(anchor.offsets, [8, 0]);
        // Empty, inside the anchor, holding it, ending with its start, starting with its end.
        for replacement in [
            &b""[..],
            b"old",
            b"www.old.example.org",
            b"new.www.o",
            b"ple.x",
        ] {
            assert!(with(replacement).is_none(), "{replacement:?}");
        }
        // A run of 4 bytes in common, and none.
        let apart = [escaped_pair(b"abcde", b"x"), escaped_pair(b"bcdef", b"y")];
        assert!(Anchor::new(&apart).is_some());
        let apart = [escaped_pair(b"abcd", b"x"), escaped_pair(b"cdef", b"y")];
        assert!(Anchor::new(&apart).is_none());
        // A border: `abab` could overlap itself.
        assert!(Anchor::new(&[escaped_pair(b"abab", b"x")]).is_none());
    }

    #[test]
    fn needles_with_bytes_a_dump_may_hold_raw_are_not_searched_escaped() {
        let options = Options::new(Mode::Auto);
        let quote = Replacements::new("q".into(), &[(b"a\"b", b"c")], options, true).unwrap();
        assert!(quote.escaped_pairs.is_none());
        let newline = Replacements::new("n".into(), &[(b"a\nb", b"c")], options, true).unwrap();
        assert!(newline.escaped_pairs.is_none());
        let slashes =
            Replacements::new("s".into(), &[(br"https:\/\/a", b"c")], options, true).unwrap();
        assert!(slashes.escaped_pairs.is_some());
    }
}
