//! Every committed fixture dump, lexed in chunks of every size from 1 byte up and split at
//! random points: the tokens must be the same however the input is cut, and their bytes must
//! add up to the input.

use std::io::{self, Read};

use proptest::prelude::*;
use understudy_sqldump::{DumpReader, LexerBuilder, Token};

mod common;
use common::fixture_files;

/// Hands out the input in pieces whose sizes cycle through `sizes`.
struct Pieces<'a> {
    data: &'a [u8],
    sizes: Vec<usize>,
    next: usize,
}

impl Read for Pieces<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = self.sizes[self.next % self.sizes.len()].max(1);
        self.next += 1;
        let n = want.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fn lex(data: &[u8], sizes: Vec<usize>) -> (Vec<(Token, u64)>, Vec<u8>) {
    let chunk = sizes.iter().copied().max().unwrap_or(1).max(1);
    let src = Pieces {
        data,
        sizes,
        next: 0,
    };
    let mut reader = DumpReader::with_lexer(src, LexerBuilder::new().build(), chunk);
    let mut tokens = Vec::new();
    let mut out = Vec::new();
    while let Some(item) = reader
        .next_token()
        .unwrap_or_else(|e| panic!("fixture does not lex: {e}"))
    {
        tokens.push((item.token, item.pos.byte));
        out.extend_from_slice(item.bytes);
    }
    (tokens, out)
}

#[test]
fn every_fixture_in_chunks_of_every_size() {
    for path in fixture_files() {
        let data = std::fs::read(&path).unwrap();
        let (whole, out) = lex(&data, vec![1 << 20]);
        assert_eq!(out, data, "{}", path.display());
        assert!(
            whole.iter().any(|(t, _)| matches!(t, Token::Value(_)))
                || path.to_string_lossy().contains("no-data"),
            "{} has no values",
            path.display()
        );
        // 1..=64 one size at a time; larger sizes by powers of two.
        let sizes = (1..=64).chain((7..=17).map(|p| 1 << p));
        for size in sizes {
            let (tokens, out) = lex(&data, vec![size]);
            assert_eq!(out, data, "{} in chunks of {size}", path.display());
            assert_eq!(tokens, whole, "{} in chunks of {size}", path.display());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn random_split_points(sizes in prop::collection::vec(1usize..5000, 1..40), pick in any::<prop::sample::Index>()) {
        let files = fixture_files();
        let path = &files[pick.index(files.len())];
        let data = std::fs::read(path).unwrap();
        let (whole, _) = lex(&data, vec![1 << 20]);
        let (tokens, out) = lex(&data, sizes);
        prop_assert_eq!(out, data);
        prop_assert_eq!(tokens, whole);
    }
}
