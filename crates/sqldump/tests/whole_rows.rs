//! `Lexer::lex_row` and the readers' `next_row`, which take a row in one call: they must
//! give the tokens `Lexer::lex` gives one by one, and leave the lexer untouched when they
//! take nothing.

use std::ops::Range;

use proptest::prelude::*;
use understudy_sqldump::{Lexer, Position, RowItem, SliceReader, Token, Value};

mod common;
use common::{every_fixture_in_chunks, lex_all, row_piece};

/// The tokens a whole row stands for, with their stream offsets.
fn row_tokens(row: &RowItem<'_>, values: &[(Value, Range<usize>)]) -> Vec<(Token, u64)> {
    let at = |offset: usize| row.pos.byte + offset as u64;
    let mut out = vec![(Token::RowOpen, at(0))];
    let mut end = row.parts.open;
    for (value, range) in values {
        assert_eq!(range.start, end, "values follow each other");
        out.push((Token::Value(*value), at(range.start)));
        end = range.end;
    }
    assert_eq!(
        row.parts.close.start, end,
        "the close follows the last value"
    );
    assert_eq!(
        row.parts.close.end,
        row.bytes.len(),
        "the row ends with its close"
    );
    out.push((Token::RowClose, at(row.parts.close.start)));
    out
}

#[test]
fn whole_rows_of_the_fixtures_lex_as_token_by_token_in_chunks_of_any_size() {
    let mut values = Vec::new();
    let rows = every_fixture_in_chunks(|_, reader, taken| {
        let row = reader.next_row(&mut values)?;
        taken.tokens.extend(row_tokens(&row, &values));
        taken.bytes.extend_from_slice(row.bytes);
        Some(1)
    });
    assert!(rows > 1000, "only {rows} rows taken whole in the corpus");
}

#[test]
fn a_slice_reader_takes_rows_whole_with_their_positions() {
    let input = b"INSERT INTO `t` VALUES (1,'a\nb'),\n(2, _binary 'x' 'y')  ,(3,NULL);\n";
    let mut reader = SliceReader::new(Lexer::new(), Position { byte: 10, line: 5 }, "");
    let mut at = 0;
    let mut values = Vec::new();
    assert!(
        reader.next_row(input, &mut at, &mut values).is_none(),
        "a head first"
    );
    let head = reader.next(input, &mut at, true).unwrap().unwrap();
    assert!(matches!(head.token, Token::InsertHead { .. }));
    let first = reader.next_row(input, &mut at, &mut values).unwrap();
    assert_eq!(first.bytes, b" (1,'a\nb')");
    assert_eq!(first.pos, Position { byte: 32, line: 5 });
    assert_eq!(values.len(), 2);
    let second = reader.next_row(input, &mut at, &mut values).unwrap();
    assert_eq!(second.bytes, b",\n(2, _binary 'x' 'y')");
    assert_eq!(second.pos, Position { byte: 42, line: 6 });
    assert_eq!(
        values[1].0.literal.of(&second.bytes[values[1].1.clone()]),
        b"_binary 'x' 'y'"
    );
    let third = reader.next_row(input, &mut at, &mut values).unwrap();
    assert_eq!(third.bytes, b"  ,(3,NULL)");
    assert_eq!(third.pos, Position { byte: 64, line: 7 });
    assert!(
        reader.next_row(input, &mut at, &mut values).is_none(),
        "the end"
    );
    assert!(values.is_empty());
    let end = reader.next(input, &mut at, true).unwrap().unwrap();
    assert_eq!(end.token, Token::InsertEnd);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    /// Whatever the bytes, a row taken whole is the tokens the lexer gives one by one, and
    /// the lexer goes on from there as it would; a row not taken leaves the lexer as it was.
    #[test]
    fn a_whole_row_agrees_with_the_lexer(pieces in prop::collection::vec(row_piece(), 0..24), first: bool) {
        let input = pieces.concat();
        let input = input.as_bytes();
        let lexer = Lexer::new().between_rows(first);
        let (all, _) = lex_all(lexer.clone(), input, 0);
        let mut whole = lexer.clone();
        let mut values = vec![(Value {
            kind: understudy_sqldump::ValueKind::Null,
            column: 9,
            literal: Default::default(),
            content: Default::default(),
        }, 0..1)];
        match whole.lex_row(input, &mut values) {
            Some(parts) => {
                let row = RowItem { bytes: &input[..parts.close.end], parts, pos: Position { byte: 0, line: 1 } };
                let taken = row_tokens(&row, &values);
                prop_assert_eq!(&all[..taken.len().min(all.len())], &taken[..]);
                let end = row.bytes.len();
                let (rest, _) = lex_all(whole, &input[end..], end as u64);
                prop_assert_eq!(&all[taken.len()..], &rest[..]);
            }
            None => {
                prop_assert!(values.is_empty());
                let (again, _) = lex_all(whole, input, 0);
                prop_assert_eq!(again, all);
            }
        }
    }
}
