//! Repairing wrong `s:N` and `C:…:N` lengths by search.
//!
//! A `sed` replacement changes a string's bytes but not the length in front of it. To find
//! where each string really ends, [`repair_lengths`] runs the [`Parser`] in repair mode, where
//! a string may end at its declared length or at any later `";` after which the value can go
//! on (a key, a value, a `}`, or the end); a `C:` payload likewise at a `}`. Each such choice
//! is remembered; when the parse fails later, the search goes back to the last choice and
//! takes its next candidate. A work budget keeps adversarial input from making this
//! exponential.

use std::ops::Range;

use crate::error::Error;
use crate::parse::{Frame, Item, Parser};

/// Work allowed per input byte, plus a constant, before the search gives up.
const BUDGET_PER_BYTE: usize = 16;
const BUDGET_BASE: usize = 4096;

/// A token whose length must be rewritten.
struct Fix {
    /// The whole token in the input.
    token: Range<usize>,
    /// The string's or payload's bytes.
    body: Range<usize>,
    /// For `C:`, the class name.
    class: Option<Range<usize>>,
}

/// Writes `input` with every wrong `s:`/`C:` length put right into `out` (cleared first), and
/// where in `out` the repaired strings' and payloads' bytes are into `bodies` (in order).
/// Strings inside strings are not looked into; the rewriter repairs them when it gets there.
///
/// # Errors
///
/// The first parse error, if no choice of string ends makes the value parse (or the search
/// ran out of budget).
pub(crate) fn repair_lengths(
    input: &[u8],
    payload: bool,
    base_depth: usize,
    max_depth: usize,
    stack: &mut Vec<Frame>,
    out: &mut Vec<u8>,
    bodies: &mut Vec<Range<usize>>,
) -> Result<(), Error> {
    out.clear();
    bodies.clear();
    let mut parser = Parser::build(
        input,
        std::mem::take(stack),
        base_depth,
        max_depth,
        payload,
        true,
    );
    // Choice points: the parser before the choice, the end it chose, the fixes so far.
    let mut points: Vec<(Parser<'_>, usize, usize)> = Vec::new();
    let mut fixes: Vec<Fix> = Vec::new();
    let mut first_error = None;
    let mut budget = input
        .len()
        .saturating_mul(BUDGET_PER_BYTE)
        .saturating_add(BUDGET_BASE);
    loop {
        budget = match budget.checked_sub(1) {
            Some(b) => b,
            None => break,
        };
        let before = parser.may_choose().then(|| parser.clone());
        match parser.next() {
            Ok(Some((item, token))) => {
                if let (Some(end), Some(before)) = (parser.take_choice(), before) {
                    points.push((before, end, fixes.len()));
                }
                if parser.stale() {
                    let (body, class) = match item {
                        Item::Str(s) => (s, None),
                        Item::Custom { class, payload } => (payload, Some(range_in(input, class))),
                        _ => continue,
                    };
                    fixes.push(Fix {
                        token,
                        body: range_in(input, body),
                        class,
                    });
                }
            }
            Ok(None) => {
                *stack = parser.into_stack();
                write_fixed(input, &fixes, out, bodies);
                return Ok(());
            }
            Err(e) => {
                first_error.get_or_insert(e);
                let Some((before, end, nfixes)) = points.pop() else {
                    break;
                };
                parser = before;
                parser.retry_after(end);
                fixes.truncate(nfixes);
            }
        }
    }
    Err(first_error
        .unwrap_or_else(|| Error::expected(0, "a value whose lengths can be repaired", None)))
}

fn range_in(input: &[u8], sub: &[u8]) -> Range<usize> {
    let start = (sub.as_ptr() as usize).saturating_sub(input.as_ptr() as usize);
    start..start + sub.len()
}

fn write_fixed(input: &[u8], fixes: &[Fix], out: &mut Vec<u8>, bodies: &mut Vec<Range<usize>>) {
    let mut copied = 0;
    for fix in fixes {
        out.extend_from_slice(&input[copied..fix.token.start]);
        let body = &input[fix.body.clone()];
        match &fix.class {
            None => {
                out.extend_from_slice(b"s:");
                out.extend_from_slice(body.len().to_string().as_bytes());
                out.extend_from_slice(b":\"");
                bodies.push(out.len()..out.len() + body.len());
                out.extend_from_slice(body);
                out.extend_from_slice(b"\";");
            }
            Some(class) => {
                let class = &input[class.clone()];
                out.extend_from_slice(b"C:");
                out.extend_from_slice(class.len().to_string().as_bytes());
                out.extend_from_slice(b":\"");
                out.extend_from_slice(class);
                out.extend_from_slice(b"\":");
                out.extend_from_slice(body.len().to_string().as_bytes());
                out.extend_from_slice(b":{");
                bodies.push(out.len()..out.len() + body.len());
                out.extend_from_slice(body);
                out.push(b'}');
            }
        }
        copied = fix.token.end;
    }
    out.extend_from_slice(&input[copied..]);
}
