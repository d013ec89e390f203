//! One value: decode, replace, re-encode in the same form.

use aho_corasick::AhoCorasick;
use understudy_phpser::{replace_in_value, Options, Outcome, Replacer, Scratch};
use understudy_sqldump::literal::{decode_hex, encode_hex, escape_into, unescape_into};
use understudy_sqldump::{Value, ValueKind};

/// The replacements, compiled once.
#[derive(Debug)]
pub(crate) struct Replacements {
    replacer: Replacer,
    /// The needles as mysqldump escapes them, to search raw string content without decoding.
    escaped: AhoCorasick,
    options: Options,
}

/// What happened to one value.
pub(crate) enum Rewrite {
    /// Leave the token's bytes as they are.
    Unchanged,
    /// `Scratch::token` holds the new token bytes.
    Changed {
        /// The value was parsed as serialized PHP.
        serialized: bool,
        /// It looked serialized but did not parse; replaced as plain bytes.
        warning: Option<understudy_phpser::Error>,
    },
}

/// Per-thread buffers.
#[derive(Default)]
pub(crate) struct ValueScratch {
    decoded: Vec<u8>,
    rewritten: Vec<u8>,
    php: Scratch,
    /// The new token bytes after a change.
    pub(crate) token: Vec<u8>,
}

impl Replacements {
    pub(crate) fn new(pairs: &[(Vec<u8>, Vec<u8>)], options: Options) -> Result<Self, String> {
        let replacer =
            Replacer::new(pairs.iter().map(|(a, b)| (a, b))).map_err(|e| e.to_string())?;
        let escaped: Vec<Vec<u8>> = pairs
            .iter()
            .filter(|(needle, _)| !needle.is_empty())
            .map(|(needle, _)| {
                let mut e = Vec::new();
                escape_into(needle, &mut e);
                e
            })
            .collect();
        let escaped = AhoCorasick::new(&escaped).map_err(|e| e.to_string())?;
        Ok(Replacements {
            replacer,
            escaped,
            options,
        })
    }

    /// Rewrites the value in `token` (the token's bytes) if a needle is in it.
    pub(crate) fn rewrite(
        &self,
        token: &[u8],
        value: &Value,
        scratch: &mut ValueScratch,
    ) -> Result<Rewrite, understudy_phpser::Error> {
        let content = value.content.of(token);
        scratch.decoded.clear();
        let decoded: &[u8] = match value.kind {
            ValueKind::Str {
                escapes,
                canonical,
                quote,
            } => {
                if canonical && !self.escaped.is_match(content) {
                    return Ok(Rewrite::Unchanged);
                }
                if !escapes {
                    content
                } else {
                    unescape_into(content, quote, &mut scratch.decoded);
                    &scratch.decoded
                }
            }
            ValueKind::Hex => {
                if decode_hex(content, &mut scratch.decoded).is_none() {
                    return Ok(Rewrite::Unchanged);
                }
                &scratch.decoded
            }
            ValueKind::Number | ValueKind::Null | ValueKind::Bit | ValueKind::Keyword => {
                return Ok(Rewrite::Unchanged);
            }
        };
        let report = replace_in_value(
            decoded,
            &self.replacer,
            &mut scratch.php,
            &mut scratch.rewritten,
            self.options,
        )?;
        if report.outcome == Outcome::Unchanged {
            return Ok(Rewrite::Unchanged);
        }
        // Same form as before: everything around the content stays (separator, introducer,
        // quotes, `0x`), only the content is re-encoded.
        let out = &mut scratch.token;
        out.clear();
        out.extend_from_slice(&token[..value.content.start as usize]);
        match value.kind {
            ValueKind::Hex => {
                let upper = !content.iter().any(u8::is_ascii_lowercase);
                encode_hex(&scratch.rewritten, upper, out);
            }
            _ => escape_into(&scratch.rewritten, out),
        }
        out.extend_from_slice(&token[value.content.end as usize..]);
        Ok(Rewrite::Changed {
            serialized: report.serialized,
            warning: report.warning,
        })
    }
}
