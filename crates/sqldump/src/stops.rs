//! Where any of two or three bytes occurs, for text where they are dense.
//!
//! The string scan of the lexer stops at every quote and every backslash, and dump text
//! holds a backslash every 17 bytes on a WordPress dump (`\"` in serialized values, `\n`,
//! `\'`). `memchr2` is the fastest search for a byte that is far away, but each call sets
//! up its vectors anew, and one call per backslash made the string scan a fifth of a whole
//! rewrite. [`Stops`] loads 16 bytes at a time, keeps the positions of both bytes in that
//! block as a bit mask and hands them out one by one, so a dense run of stops costs a few
//! instructions each. Hand-written for that reason; SSE2 is part of every x86-64 CPU, and
//! other targets build the same mask one byte at a time.

/// Bytes looked at per step.
const BLOCK: usize = 16;

/// The positions in `haystack` of bytes equal to one of `N` bytes, in order, from a given
/// start (an iterator that can also jump ahead: see [`Stops::skip_to`]).
pub(crate) struct Stops<'h, const N: usize> {
    haystack: &'h [u8],
    bytes: [u8; N],
    /// Where the block of `mask` starts.
    base: usize,
    /// Stops in the block at `base` not handed out yet, one bit per byte.
    mask: u32,
    /// Where the next block starts.
    next: usize,
}

impl<'h, const N: usize> Stops<'h, N> {
    /// Stops at or after `from` (which may be past the end: then there are none).
    pub(crate) fn new(haystack: &'h [u8], bytes: [u8; N], from: usize) -> Stops<'h, N> {
        Stops {
            haystack,
            bytes,
            base: from,
            mask: 0,
            next: from,
        }
    }

    /// Leaves out the stops before `at` (`at` not before the last stop handed out).
    #[inline]
    pub(crate) fn skip_to(&mut self, at: usize) {
        if at < self.base + BLOCK {
            // `at` is in the current block: drop its bits below.
            let shift = at - self.base;
            self.mask &= u32::MAX << shift;
        } else {
            self.mask = 0;
            self.base = at;
            self.next = at;
        }
    }

    /// The next stop.
    #[inline]
    pub(crate) fn next_stop(&mut self) -> Option<usize> {
        loop {
            if self.mask != 0 {
                let k = self.mask.trailing_zeros() as usize;
                self.mask &= self.mask - 1;
                return Some(self.base + k);
            }
            let rest = self.haystack.get(self.next..)?;
            if rest.is_empty() {
                return None;
            }
            self.base = self.next;
            if let Some(block) = rest.first_chunk::<BLOCK>() {
                // SAFETY: `block_mask` needs SSE2 on x86-64, where every CPU has it (it is
                // in the target's baseline); elsewhere it is an ordinary function.
                #[allow(unused_unsafe)]
                let mask = unsafe { block_mask(block, self.bytes) };
                self.mask = mask;
                self.next += BLOCK;
            } else {
                self.mask = tail_mask(rest, self.bytes);
                self.next = self.haystack.len();
            }
        }
    }
}

/// One bit per byte of `block` that equals one of `bytes`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
#[inline]
fn block_mask<const N: usize>(block: &[u8; BLOCK], bytes: [u8; N]) -> u32 {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8, _mm_set_epi64x,
        _mm_setzero_si128,
    };
    let (lo, hi) = block.split_at(8);
    let word = |bytes: &[u8]| {
        let mut w = [0u8; 8];
        w.copy_from_slice(bytes);
        i64::from_le_bytes(w)
    };
    // The compiler makes one unaligned 16-byte load of this.
    let v = _mm_set_epi64x(word(hi), word(lo));
    // `N` is a constant: the loop unrolls to one compare per byte.
    let eq = bytes.iter().fold(_mm_setzero_si128(), |eq, &b| {
        _mm_or_si128(eq, _mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8)))
    });
    _mm_movemask_epi8(eq) as u32
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn block_mask<const N: usize>(block: &[u8; BLOCK], bytes: [u8; N]) -> u32 {
    tail_mask(block, bytes)
}

/// [`block_mask`] for fewer than [`BLOCK`] bytes.
fn tail_mask<const N: usize>(haystack: &[u8], bytes: [u8; N]) -> u32 {
    haystack
        .iter()
        .take(BLOCK)
        .enumerate()
        .filter(|&(_, c)| bytes.contains(c))
        .fold(0, |mask, (i, _)| mask | 1 << i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn all(haystack: &[u8], from: usize) -> Vec<usize> {
        let mut stops = Stops::new(haystack, [b'\'', b'\\'], from);
        std::iter::from_fn(|| stops.next_stop()).collect()
    }

    fn expected(haystack: &[u8], from: usize) -> Vec<usize> {
        (from..haystack.len())
            .filter(|&i| matches!(haystack[i], b'\'' | b'\\'))
            .collect()
    }

    #[test]
    fn finds_every_stop_across_blocks() {
        let mut hay = vec![b'x'; 70];
        for i in [0, 15, 16, 17, 31, 32, 33, 47, 63, 64, 69] {
            hay[i] = if i % 2 == 0 { b'\'' } else { b'\\' };
        }
        for from in [0, 1, 15, 16, 17, 40, 69, 70, 71] {
            assert_eq!(all(&hay, from), expected(&hay, from), "from {from}");
        }
        assert_eq!(all(b"", 0), Vec::<usize>::new());
        assert_eq!(all(b"abc", 0), Vec::<usize>::new());
    }

    #[test]
    fn bytes_above_127_are_not_stops() {
        // `_mm_cmpeq_epi8` compares signed lanes; a byte with the high bit is still unequal.
        let hay: Vec<u8> = (0..=255u8).chain(0..=255u8).collect();
        assert_eq!(all(&hay, 0), expected(&hay, 0));
        let mut stops = Stops::new(&hay, [0xff, 0x80], 0);
        let found: Vec<usize> = std::iter::from_fn(|| stops.next_stop()).collect();
        assert_eq!(found, vec![128, 255, 384, 511]);
    }

    proptest! {
        #[test]
        fn same_stops_as_a_byte_loop(
            hay in proptest::collection::vec(prop::sample::select(vec![b'a', b'\'', b'\\', 0xe9]), 0..120),
            from in 0usize..130,
        ) {
            prop_assert_eq!(all(&hay, from), expected(&hay, from));
            let mut three = Stops::new(&hay, [b'\'', b'\\', 0xe9], from);
            let found: Vec<usize> = std::iter::from_fn(|| three.next_stop()).collect();
            let by_loop: Vec<usize> = (from..hay.len()).filter(|&i| hay[i] != b'a').collect();
            prop_assert_eq!(found, by_loop);
        }

        #[test]
        fn skipping_drops_exactly_the_stops_before(
            hay in proptest::collection::vec(prop::sample::select(vec![b'a', b'\'', b'\\']), 0..120),
            skips in proptest::collection::vec(0usize..20, 0..10),
        ) {
            // Take a stop, then skip a few bytes past it, as the lexer does after a backslash;
            // each stop must be the first at or after where the skip left off.
            let mut stops = Stops::new(&hay, [b'\'', b'\\'], 0);
            let mut at = 0;
            let mut skips = skips.into_iter();
            loop {
                let next = (at..hay.len()).find(|&i| matches!(hay[i], b'\'' | b'\\'));
                let found = stops.next_stop();
                prop_assert_eq!(found, next);
                let Some(j) = found else { break };
                at = j + 1 + skips.next().unwrap_or(0);
                stops.skip_to(at);
            }
        }
    }
}
