//! Where a quoted string ends, 64 bytes at a time.
//!
//! The lexer reads every string of a dump to its closing quote, and dump text is dense with
//! escapes: a page builder's JSON, SQL-escaped, has a backslash every five bytes or so
//! (`\"` around every key). Stopping at each backslash ([`crate::stops::Stops`]) costs a few
//! instructions per escape; here the escapes of a whole block are worked out at once with
//! bit arithmetic on masks of its backslashes and quotes, as simdjson finds the escaped
//! bytes of JSON, so a block costs nearly the same however many escapes it holds (only
//! escapes other than `\\`, `\'`, `\"` and `\n` are looked at one by one). Hand-written for
//! that reason: the lexer's string scan was a quarter of a replacement run.

/// What [`scan`] found from its start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Scanned {
    /// The first quote no backslash escapes; `None` if the input ends first.
    pub(crate) end: Option<usize>,
    /// Without an end, where to go on once more input is there: the input's length, or the
    /// backslash that ends it, whose escaped byte has not come yet.
    pub(crate) resume: usize,
    /// Whether a backslash came before the end.
    pub(crate) escapes: bool,
    /// Whether a backslash before the end escapes a byte mysqldump does not escape (see
    /// [`is_mysqldump_escape`]).
    pub(crate) odd_escapes: bool,
    /// Whether a `"` before the end is not escaped, which mysqldump always does.
    pub(crate) raw_double_quotes: bool,
}

/// Bytes looked at per step: one bit each in a `u64`.
const BLOCK: usize = 64;

/// Scans `input` from `from`, which is not inside an escape, for the first `quote` no
/// backslash escapes. A doubled quote is not looked at: the caller sees its first quote as
/// the end, and goes on after the second.
pub(crate) fn scan(input: &[u8], from: usize, quote: u8) -> Scanned {
    if let Some(short) = scan_short(input, from, quote) {
        return short;
    }
    let mut escapes = false;
    let mut odd_escapes = false;
    let mut raw_double_quotes = false;
    // Whether the byte at `at` is escaped by a backslash before it.
    let mut carry = 0u64;
    let mut at = from;
    while let Some(rest) = input.get(at..).filter(|r| !r.is_empty()) {
        let block = &rest[..rest.len().min(BLOCK)];
        let Masks {
            backslashes,
            quotes,
            double_quotes,
            n,
        } = masks(block, quote);
        let (escaped, next_carry) = escaped_bytes(backslashes, carry, block.len());
        carry = next_carry;
        let open = quotes & !escaped;
        let before = match open {
            0 => low_bits(block.len()),
            q => low_bits(q.trailing_zeros() as usize),
        };
        escapes |= backslashes & before != 0;
        raw_double_quotes |= double_quotes & !escaped & before != 0;
        // Nearly every escape is `\\`, `\'`, `\"` or `\n`, whose bytes the masks hold;
        // the rest are looked at one by one.
        let mut rare = escaped & before & !(backslashes | quotes | double_quotes | n);
        while rare != 0 && !odd_escapes {
            odd_escapes = !is_mysqldump_escape(block[rare.trailing_zeros() as usize]);
            rare &= rare - 1;
        }
        if open != 0 {
            return Scanned {
                end: Some(at + open.trailing_zeros() as usize),
                resume: input.len(),
                escapes,
                odd_escapes,
                raw_double_quotes,
            };
        }
        at += block.len();
    }
    Scanned {
        end: None,
        resume: input.len().max(from) - usize::from(carry != 0),
        escapes,
        odd_escapes,
        raw_double_quotes,
    }
}

/// [`scan`] for a string that ends within 16 bytes with no backslash before its end, as
/// most values of a dump do (dates, numbers as text, statuses, short names): three
/// compares of one 16-byte block instead of the four masks of four (the whole scan of a
/// short value cost about as much as that of a 64-byte one). `None`: the general scan
/// decides.
#[cfg(target_arch = "x86_64")]
fn scan_short(input: &[u8], from: usize, quote: u8) -> Option<Scanned> {
    let part: &[u8; 16] = input.get(from..)?.first_chunk::<16>()?;
    // SAFETY: SSE2 is in the x86-64 baseline: every CPU of the target has it.
    let [backslashes, quotes, double_quotes] = unsafe { eq_masks(part, [b'\\', quote, b'"']) };
    if quotes == 0 {
        return None;
    }
    let end = quotes.trailing_zeros();
    let before = (1u16 << end) - 1;
    // `from` is not inside an escape, so with no backslash before it the quote is open.
    (backslashes & before == 0).then_some(Scanned {
        end: Some(from + end as usize),
        resume: input.len(),
        escapes: false,
        odd_escapes: false,
        raw_double_quotes: double_quotes & before != 0,
    })
}

/// The general scan only, on other targets.
#[cfg(not(target_arch = "x86_64"))]
fn scan_short(_: &[u8], _: usize, _: u8) -> Option<Scanned> {
    None
}

/// Whether `\` followed by `b` is an escape mysqldump writes (`\0 \' \" \n \r \\ \Z`): a
/// string with only those is [`crate::ValueKind::Str`]'s `canonical`.
pub(crate) fn is_mysqldump_escape(b: u8) -> bool {
    matches!(b, b'0' | b'\'' | b'"' | b'n' | b'r' | b'\\' | b'Z')
}

/// The `n` lowest bits set.
fn low_bits(n: usize) -> u64 {
    if n >= BLOCK {
        u64::MAX
    } else {
        (1 << n) - 1
    }
}

/// Which bytes of a block of `len` bytes a backslash escapes, from its backslashes and
/// whether its first byte is escaped (`carry`, 0 or 1); and whether the byte after the block
/// is. simdjson's method: a run of backslashes escapes the byte after it if it is odd in
/// length, and a subtraction finds, for every run at once, whether it starts on an odd or an
/// even bit.
fn escaped_bytes(backslashes: u64, carry: u64, len: usize) -> (u64, u64) {
    const ODD_BITS: u64 = 0xAAAA_AAAA_AAAA_AAAA;
    // A backslash that is itself escaped starts nothing.
    let potential = backslashes & !carry;
    let maybe_escaped = potential << 1;
    // Odd bits and the bytes after backslashes, minus the backslashes: the borrow runs
    // through each run, and the xor leaves the escaping backslashes and the escaped bytes.
    let codes = (maybe_escaped | ODD_BITS).wrapping_sub(potential) ^ ODD_BITS;
    let escaped = codes ^ (backslashes | carry);
    let escape = codes & backslashes;
    let next = if len < BLOCK {
        (escaped >> len) & 1
    } else {
        escape >> 63
    };
    (escaped & low_bits(len), next)
}

/// One bit per byte of a block.
struct Masks {
    /// Its backslashes.
    backslashes: u64,
    /// Its quotes of the kind that ends the string.
    quotes: u64,
    /// Its `"`.
    double_quotes: u64,
    /// Its `n`: with `"`, the escapes mysqldump writes most after `\\` and `\'`.
    n: u64,
}

/// The [`Masks`] of `block` (at most [`BLOCK`] bytes).
#[cfg(target_arch = "x86_64")]
#[inline]
fn masks(block: &[u8], quote: u8) -> Masks {
    let Some(full) = block.first_chunk::<BLOCK>() else {
        // The last block of the input: padded with zeros, which match nothing. Short
        // inputs are common (the skim stops at the first needle), so not byte by byte.
        let mut padded = [0u8; BLOCK];
        padded[..block.len()].copy_from_slice(block);
        return masks(&padded, quote);
    };
    let mut m = Masks {
        backslashes: 0,
        quotes: 0,
        double_quotes: 0,
        n: 0,
    };
    for (i, part) in full.chunks_exact(16).enumerate() {
        let part: &[u8; 16] = part.try_into().unwrap_or(&[0; 16]);
        // SAFETY: SSE2 is in the x86-64 baseline: every CPU of the target has it.
        let [b, q, d, n] = unsafe { eq_masks(part, [b'\\', quote, b'"', b'n']) };
        m.backslashes |= u64::from(b) << (16 * i);
        m.quotes |= u64::from(q) << (16 * i);
        m.double_quotes |= u64::from(d) << (16 * i);
        m.n |= u64::from(n) << (16 * i);
    }
    m
}

/// For each of `bytes`, which of the 16 bytes of `part` equal it, a bit each.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
fn eq_masks<const N: usize>(part: &[u8; 16], bytes: [u8; N]) -> [u16; N] {
    use std::arch::x86_64::{_mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8};
    // SAFETY: `part` is 16 readable bytes; the load needs no alignment.
    let v = unsafe { _mm_loadu_si128(part.as_ptr().cast()) };
    bytes.map(|b| _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8))) as u16)
}

/// [`masks`] a byte at a time, on other targets.
#[cfg(not(target_arch = "x86_64"))]
fn masks(block: &[u8], quote: u8) -> Masks {
    let bits = |f: &dyn Fn(u8) -> bool| {
        block
            .iter()
            .take(BLOCK)
            .enumerate()
            .fold(0, |m, (i, &c)| m | u64::from(f(c)) << i)
    };
    Masks {
        backslashes: bits(&|c| c == b'\\'),
        quotes: bits(&|c| c == quote),
        double_quotes: bits(&|c| c == b'"'),
        n: bits(&|c| c == b'n'),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// [`scan`] a byte at a time.
    fn by_byte(input: &[u8], from: usize, quote: u8) -> Scanned {
        let (mut escapes, mut odd_escapes, mut raw_double_quotes) = (false, false, false);
        let mut i = from;
        while i < input.len() {
            match input[i] {
                b'\\' => {
                    escapes = true;
                    let Some(&next) = input.get(i + 1) else {
                        return Scanned {
                            end: None,
                            resume: i,
                            escapes,
                            odd_escapes,
                            raw_double_quotes,
                        };
                    };
                    odd_escapes |= !is_mysqldump_escape(next);
                    i += 2;
                }
                c if c == quote => {
                    return Scanned {
                        end: Some(i),
                        resume: input.len(),
                        escapes,
                        odd_escapes,
                        raw_double_quotes,
                    }
                }
                b'"' => {
                    raw_double_quotes = true;
                    i += 1;
                }
                _ => i += 1,
            }
        }
        Scanned {
            end: None,
            resume: input.len().max(from),
            escapes,
            odd_escapes,
            raw_double_quotes,
        }
    }

    #[test]
    fn runs_of_backslashes_across_blocks() {
        for run in 0..140 {
            for at in [0, 1, 30, 62, 63, 64, 65, 127] {
                let mut input = vec![b'a'; at];
                input.extend(std::iter::repeat_n(b'\\', run));
                input.extend_from_slice(b"'x'");
                let want = by_byte(&input, 0, b'\'');
                assert_eq!(scan(&input, 0, b'\''), want, "run {run} at {at}");
                assert_eq!(want.end, Some(at + run + if run % 2 == 0 { 0 } else { 2 }));
                // Cut right after the run: resume at its last backslash if it is odd.
                let cut = &input[..at + run];
                assert_eq!(
                    scan(cut, 0, b'\''),
                    by_byte(cut, 0, b'\''),
                    "cut {run} at {at}"
                );
            }
        }
    }

    #[test]
    fn flags_count_only_the_escapes_before_the_end() {
        let s = scan(br"ab\'c\x'd\q", 0, b'\'');
        assert_eq!((s.end, s.escapes, s.odd_escapes), (Some(7), true, true));
        let s = scan(br"ab'\x", 0, b'\'');
        assert_eq!((s.end, s.escapes, s.odd_escapes), (Some(2), false, false));
        let s = scan(br#"a\"b\\c\n'"#, 0, b'\'');
        assert_eq!((s.end, s.escapes, s.odd_escapes), (Some(9), true, false));
        assert!(!s.raw_double_quotes);
        assert!(scan(br#"a\\"b'"#, 0, b'\'').raw_double_quotes);
        assert!(!scan(br#"a'"b"#, 0, b'\'').raw_double_quotes);
        // The other quote is text.
        assert_eq!(scan(br#"a'b"c"#, 0, b'"').end, Some(3));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]

        #[test]
        fn same_as_a_byte_loop(
            input in prop::collection::vec(
                prop::sample::select(vec![
                    &b"a"[..], b"\\", b"\\\\\\", b"'", b"\"", b"n", b"x", b"0", b"r", b"Z", b"\xe9",
                    b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                ]),
                0..60,
            ).prop_map(|pieces| pieces.concat()),
            from in 0usize..310,
            double in any::<bool>(),
        ) {
            let quote = if double { b'"' } else { b'\'' };
            // `from` must not be inside an escape.
            let from = from.min(input.len());
            let from = (0..=from)
                .rev()
                .find(|&f| input[..f].iter().rev().take_while(|&&b| b == b'\\').count() % 2 == 0)
                .unwrap_or(0);
            prop_assert_eq!(scan(&input, from, quote), by_byte(&input, from, quote));
        }
    }
}
