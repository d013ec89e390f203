//! Arbitrary bytes through the dump lexer in arbitrary chunks: no panics, and the chunking
//! never changes the answer.
//!
//! The first byte picks the read sizes: bits 0-2 say how many of the following bytes are
//! chunk sizes (cycled, each 1-256 bytes), bits 3-6 the `DumpReader`'s own chunk size, bit 7
//! a small token limit (to reach `TokenTooLarge` on both paths). The rest is the dump.
//!
//! Checked for every input:
//! - the chunked `DumpReader` succeeds exactly when `Lexer::lex` over the whole input in one
//!   slice does;
//! - on success, the token bytes concatenate to the input, every token's position is the sum
//!   of the lengths before it, and both paths give the same tokens with the same lengths.
//!
//! Run with `cargo fuzz run lex_chunks` (nightly) from `fuzz/`.
#![no_main]

use std::io::{self, Read};

use libfuzzer_sys::fuzz_target;
use understudy_sqldump::{DumpReader, Lexed, LexerBuilder, Token};

/// A source that returns at most the next size of `sizes` per `read`, as pipes and sockets do.
struct Chunked<'a> {
    data: &'a [u8],
    sizes: &'a [u8],
    next: usize,
}

impl Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let limit = match self.sizes {
            [] => usize::MAX,
            sizes => usize::from(sizes[self.next % sizes.len()]) + 1,
        };
        self.next += 1;
        let n = limit.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// The tokens of `input` lexed as one slice, or `None` if it does not lex.
fn one_piece(input: &[u8], builder: &LexerBuilder) -> Option<Vec<(Token, usize)>> {
    let mut lexer = builder.build();
    let mut tokens = Vec::new();
    let mut at = 0;
    loop {
        match lexer.lex(&input[at..], true).ok()? {
            (Lexed::Token(token), n) => {
                assert!(n > 0, "an empty token at {at}");
                tokens.push((token, n));
                at += n;
            }
            (Lexed::End, _) => {
                assert_eq!(at, input.len(), "End before the end of input");
                return Some(tokens);
            }
            (Lexed::NeedInput, _) => panic!("NeedInput at end of input (offset {at})"),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&head, rest)) = data.split_first() else {
        return;
    };
    let nsizes = usize::from(head & 7).min(rest.len());
    let (sizes, input) = rest.split_at(nsizes);
    let reader_chunk = 1 + usize::from((head >> 3) & 15) * 17;
    let mut builder = LexerBuilder::new();
    if head & 0x80 != 0 {
        builder.max_token(256);
    }

    let source = Chunked {
        data: input,
        sizes,
        next: 0,
    };
    let mut reader = DumpReader::with_lexer(source, builder.build(), reader_chunk);
    let mut chunked = Vec::new();
    let mut copy = Vec::with_capacity(input.len());
    let ok = loop {
        match reader.next_token() {
            Ok(Some(item)) => {
                assert_eq!(
                    item.pos.byte,
                    copy.len() as u64,
                    "position is not the offset"
                );
                copy.extend_from_slice(item.bytes);
                chunked.push((item.token, item.bytes.len()));
            }
            Ok(None) => break true,
            Err(e) => {
                assert!(
                    e.position().byte <= input.len() as u64,
                    "error beyond the input"
                );
                break false;
            }
        }
    };

    let whole = one_piece(input, &builder);
    assert_eq!(
        ok,
        whole.is_some(),
        "chunked and one-piece lexing disagree on success"
    );
    if let Some(whole) = whole {
        assert!(copy == input, "token bytes do not concatenate to the input");
        assert_eq!(chunked, whole, "chunked and one-piece tokens differ");
    }
});
