//! One value: decode, replace, re-encode in the same form.

use understudy_phpser::{replace_in_value, NeedleSet, Options, Outcome, Replacer, Scratch};
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
}

impl Replacements {
    pub(crate) fn new(
        label: String,
        pairs: &[(&[u8], &[u8])],
        options: Options,
        encoding_checks: bool,
    ) -> Result<Self, String> {
        let replacer = Replacer::new(pairs.iter().copied()).map_err(|e| e.to_string())?;
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
            pairs.iter().map(|&(needle, _)| needle).collect()
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
        Ok(Replacements {
            label,
            replacer,
            escaped,
            options,
            base64: encoding_checks,
        })
    }

    /// Whether a needle may be in string content that is still SQL-escaped. Exact for
    /// mysqldump's escaping, which maps each decoded byte to fixed bytes.
    fn may_match_raw(&self, content: &[u8]) -> bool {
        self.escaped.is_match(content) || (self.base64 && understudy_phpser::may_be_base64(content))
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
}

/// Per-thread buffers.
#[derive(Default)]
pub(crate) struct ValueScratch {
    decoded: Vec<u8>,
    current: Vec<u8>,
    next: Vec<u8>,
    php: Scratch,
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
    }
    let ValueScratch {
        decoded,
        current,
        next,
        php,
    } = scratch;
    let Some(start) = decode(token, value, decoded) else {
        return Ok(None);
    };
    let hex = value.kind == ValueKind::Hex;
    let Some(outcome) = apply_groups(start, hex, groups, php, current, next)? else {
        return Ok(None);
    };
    encode(token, value, Some(current), out);
    Ok(Some(outcome))
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
    let mut outcome = ValueOutcome::default();
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
            outcome.serialized |= report.serialized;
            outcome.warnings.extend(report.warning);
        }
    }
    Ok(have_current.then_some(outcome))
}
