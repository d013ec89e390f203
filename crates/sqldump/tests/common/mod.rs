//! What the lexer's integration tests share.

// Each test file uses a part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use understudy_sqldump::{DumpReader, Lexed, Lexer, LexerBuilder, Token};

/// The dumps of `fixtures/` (mysqldump, mariadb-dump, MySQL 8 and hand-written), sorted.
pub fn fixture_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let mut files = Vec::new();
    for dir in ["dumps", "mysql8", "handwritten"] {
        for entry in std::fs::read_dir(root.join(dir))
            .into_iter()
            .flatten()
            .flatten()
        {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "sql") {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(files.len() >= 10, "the fixture corpus is missing");
    files
}

/// The tokens (with their stream offsets) and bytes a reader has handed out.
#[derive(Default)]
pub struct Taken {
    pub tokens: Vec<(Token, u64)>,
    pub bytes: Vec<u8>,
}

/// Reads `data` in chunks of `chunk` bytes with a reader that `take` may move on by more
/// than one token at a time (appending what it took to the [`Taken`] and returning how many
/// rows, or `None` to have the reader hand out one token): the tokens and bytes must be
/// those of a plain token-by-token read. Returns the rows `take` took.
pub fn compare_with_plain<F>(data: &[u8], chunk: usize, name: &str, mut take: F) -> u64
where
    F: FnMut(&mut DumpReader<&[u8]>, &mut Taken) -> Option<u64>,
{
    let lexer = LexerBuilder::new().build();
    let mut plain = DumpReader::with_lexer(data, lexer.clone(), chunk);
    let mut want = Vec::new();
    while let Some(item) = plain.next_token().expect("fixtures lex") {
        want.push((item.token, item.pos.byte));
    }
    let mut reader = DumpReader::with_lexer(data, lexer, chunk);
    let mut got = Taken::default();
    let mut rows = 0;
    loop {
        if let Some(n) = take(&mut reader, &mut got) {
            rows += n;
            continue;
        }
        let Some(item) = reader.next_token().expect("fixtures lex") else {
            break;
        };
        got.tokens.push((item.token, item.pos.byte));
        got.bytes.extend_from_slice(item.bytes);
    }
    assert_eq!(got.bytes, data, "{name}: every byte once, in order");
    assert_eq!(got.tokens, want, "{name} in chunks of {chunk}");
    rows
}

/// [`compare_with_plain`] over every fixture in chunks from 1 MiB down to one byte: the
/// rows `take` took in all.
pub fn every_fixture_in_chunks<F>(mut take: F) -> u64
where
    F: FnMut(&str, &mut DumpReader<&[u8]>, &mut Taken) -> Option<u64>,
{
    let mut rows = 0;
    for path in fixture_files() {
        let data = std::fs::read(&path).unwrap();
        let name = path.display().to_string();
        for chunk in [1 << 20, 4096, 97, 8, 1] {
            rows += compare_with_plain(&data, chunk, &name, |r, t| take(&name, r, t));
        }
    }
    rows
}

/// Every token of `input` lexed by `lexer` (more input may follow), with its offset from
/// `base`, up to the first error, whose offset comes second.
pub fn lex_all(mut lexer: Lexer, input: &[u8], base: u64) -> (Vec<(Token, u64)>, Option<u64>) {
    let mut out = Vec::new();
    let mut at = 0;
    loop {
        match lexer.lex(&input[at..], false) {
            Ok((Lexed::Token(t), n)) => {
                out.push((t, base + at as u64));
                at += n;
            }
            Ok(_) => return (out, None),
            Err(e) => return (out, Some(base + (at + e.offset) as u64)),
        }
    }
}

/// Pieces rows are made of, plain, not plain and malformed, for property tests.
pub fn row_piece() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "(",
        ")",
        ",",
        "'",
        "''",
        "\\'",
        "\\\\",
        "\\",
        "a",
        "1",
        "-",
        ".",
        "e",
        "NULL",
        "null",
        "0x",
        "F",
        " ",
        "\n",
        ";",
        "\"",
        "X'",
        "_binary ",
        "N'",
        "(1,'x')",
        ",(2,NULL)",
        " ON",
    ])
}
