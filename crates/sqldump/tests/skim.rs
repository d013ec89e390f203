//! `Lexer::skim_rows`, which takes whole rows in one step: it must take only rows that
//! `Lexer::lex` reads the same way, stop before anything else, and never split a token.

use proptest::prelude::*;
use understudy_sqldump::{Lexed, Lexer, Look, Skimmed, Token};

mod common;
use common::{every_fixture_in_chunks, lex_all, row_piece};

/// [`lex_all`] of input that must lex: the tokens, or the offset of the error.
fn tokens(lexer: Lexer, input: &[u8], base: u64) -> Result<Vec<(Token, u64)>, u64> {
    match lex_all(lexer, input, base) {
        (tokens, None) => Ok(tokens),
        (_, Some(at)) => Err(at),
    }
}

/// The reader takes rows whole wherever it can; each skimmed piece, lexed value by value,
/// must give the tokens of a plain lex.
#[test]
fn skimmed_fixtures_lex_as_before_in_chunks_of_any_size() {
    let skimmed = every_fixture_in_chunks(|name, reader, taken| {
        let before = reader.lexer().clone();
        let item = reader.skim_rows()?;
        let Token::Rows { rows, first } = item.token else {
            panic!("{name}: skim_rows gave {:?}", item.token);
        };
        let inner = tokens(before.between_rows(first), item.bytes, item.pos.byte)
            .unwrap_or_else(|at| panic!("{name}: skimmed rows do not lex at {at}"));
        let closes = inner.iter().filter(|(t, _)| *t == Token::RowClose).count();
        assert_eq!(
            closes, rows as usize,
            "{name}: row count at {}",
            item.pos.byte
        );
        taken.tokens.extend(inner);
        taken.bytes.extend_from_slice(item.bytes);
        Some(u64::from(rows))
    });
    assert!(skimmed > 1000, "only {skimmed} rows skimmed in the corpus");
}

/// `(rows taken, bytes taken)` of a skim of `input` before the first row (`first`) or after one.
fn skim(input: &str, first: bool) -> Option<(u32, usize)> {
    let mut lexer = Lexer::new().between_rows(first);
    let (token, n) = match lexer.skim_rows(input.as_bytes()) {
        Skimmed::Rows(token, n) => (token, n),
        // Cut only where a longer input could make it a row.
        Skimmed::Cut => {
            assert!(!input.contains(')'), "{input:?} is cut");
            return None;
        }
        Skimmed::NotPlain => return None,
    };
    let Token::Rows { rows, first: f } = token else {
        panic!("{token:?}");
    };
    assert_eq!(f, first);
    assert!(lexer.is_between_rows(), "after whole rows");
    Some((rows, n))
}

#[test]
fn takes_the_rows_mysqldump_writes() {
    assert_eq!(skim("(1,2,0),(3,4,0);", true), Some((2, 15)));
    assert_eq!(skim(",(1,'a'),\n(2,'b');", false), Some((2, 17)));
    assert_eq!(skim(" (-1.5e3,+2,.5,NULL,0x1F,0XaB)", true), Some((1, 30)));
    assert_eq!(skim(r"('it\'s','a''b','\\',''),(1)", true), Some((2, 28)));
    assert_eq!(skim("('',''''),(1)x", true), Some((2, 13)));
}

#[test]
fn stops_before_a_row_it_does_not_take_whole() {
    for row in [
        "(1,2", "(1,2,", "('abc", "('abc'", "('ab\\", "('a''", "(0x1F", "(NU", "(", "", " ",
    ] {
        assert_eq!(skim(row, true), None, "cut: {row:?}");
        assert_eq!(
            skim(&format!("(7){row}"), true),
            Some((1, 3)),
            "after a row: {row:?}"
        );
    }
    // Not plain: the lexer reads these (or rejects them) value by value.
    for row in [
        "()",
        "( 1)",
        "(1 )",
        "(1, 2)",
        "('a' 'b')",
        "('a' )",
        "(\"a\")",
        "(_binary 'a')",
        "(X'1F')",
        "(b'01')",
        "(0b01)",
        "(null)",
        "(NULLx)",
        "(TRUE)",
        "(e)",
        "(-.)",
        "(0x)",
        "(0x1G)",
        "(1a)",
        "(NOW())",
        "(1;2)",
    ] {
        assert_eq!(skim(row, true), None, "{row:?}");
        assert_eq!(
            skim(&format!("(7),{row},(8)"), true),
            Some((1, 3)),
            "{row:?}"
        );
    }
    // The delimiter ends the rows; a row needs its `,`.
    assert_eq!(skim(";(1)", false), None);
    assert_eq!(skim("(1)", false), None);
    assert_eq!(skim(",(1)", true), None);
    // Only between rows.
    assert_eq!(Lexer::new().skim_rows(b"(1)"), Skimmed::NotPlain);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    /// Whatever the bytes, a skim takes whole rows that the lexer reads the same way: as
    /// many `)` as it says, ending on a token boundary of a plain lex of the whole input.
    #[test]
    fn a_skim_agrees_with_the_lexer(pieces in prop::collection::vec(row_piece(), 0..24), first: bool) {
        let input = pieces.concat();
        let lexer = Lexer::new().between_rows(first);
        let (rows, n) = match lexer.clone().skim_rows(input.as_bytes()) {
            Skimmed::Rows(Token::Rows { rows, .. }, n) => (rows, n),
            Skimmed::Rows(other, _) => return Err(TestCaseError::fail(format!("{other:?}"))),
            // Cut: the lexer, too, reads all of it and waits for more.
            Skimmed::Cut => {
                let (_, error) = lex_all(lexer, input.as_bytes(), 0);
                prop_assert_eq!(error, None, "{:?} is cut", input);
                return Ok(());
            }
            Skimmed::NotPlain => return Ok(()),
        };
        let taken = tokens(lexer.clone(), &input.as_bytes()[..n], 0);
        let taken = taken.map_err(|at| TestCaseError::fail(format!("skimmed bytes fail at {at}")))?;
        let closes = taken.iter().filter(|(t, _)| *t == Token::RowClose).count();
        prop_assert_eq!(closes, rows as usize);
        // The same tokens as the lexer finds in the whole input, which go on from there.
        let (all, _) = lex_all(lexer, input.as_bytes(), 0);
        prop_assert_eq!(&all[..taken.len().min(all.len())], &taken[..]);
    }
}

/// Passes every string.
const NOTHING: fn(&[u8]) -> Look = |_| Look::Pass;

/// `skim_rows_before`: the rows taken, or `None`.
fn skim_before(input: &str, limit: usize) -> Option<(u32, usize)> {
    let mut lexer = Lexer::new().between_rows(true);
    match lexer.skim_rows_before(input.as_bytes(), limit, &NOTHING) {
        Skimmed::Rows(Token::Rows { rows, .. }, n) => Some((rows, n)),
        _ => None,
    }
}

#[test]
fn rows_before_a_limit_are_taken_only_if_a_search_sees_their_text() {
    let rows = r"(1,'a\'b\\c\n'),(2,'x'),(3,NULL)";
    assert_eq!(skim_before(rows, rows.len()), Some((3, rows.len())));
    // A row that ends after the limit is left, even when the limit is inside a string.
    assert_eq!(skim_before(rows, rows.len() - 1), Some((2, 23)));
    assert_eq!(skim_before(rows, 20), Some((1, 15)));
    assert_eq!(skim_before(rows, 15), Some((1, 15)));
    assert_eq!(skim_before(rows, 14), None);
    assert_eq!(skim_before(rows, 3), None);
    // Escapes mysqldump does not write, doubled quotes and hex are for the lexer.
    for row in [r"(1,'a\/b')", r"(1,'a\%')", "(1,'it''s')", "(1,0x1F)"] {
        let input = format!("(0,'ok'),{row},(2)");
        assert_eq!(skim_before(&input, input.len()), Some((1, 8)), "{row}");
        assert_eq!(
            skim(&input, true),
            Some((3, input.len())),
            "{row} without a limit"
        );
    }
}

/// The token at `input[*at..]`, moving `at` past it.
fn lex_next(lexer: &mut Lexer, input: &str, at: &mut usize) -> Token {
    let (Lexed::Token(token), n) = lexer.lex(&input.as_bytes()[*at..], true).unwrap() else {
        panic!("a token");
    };
    *at += n;
    token
}

#[test]
fn values_after_the_first_are_taken_up_to_the_limit_and_counted_as_columns() {
    let row = r"(1,'a',2.5,NULL,'b\'c'),(2,'x')";
    let mut lexer = Lexer::new().between_rows(true);
    let mut at = 0;
    let next = |lexer: &mut Lexer, at: &mut usize| lex_next(lexer, row, at);
    assert_eq!(next(&mut lexer, &mut at), Token::RowOpen);
    // Between rows and at a row's first value, values are not skimmed.
    assert_eq!(
        lexer.skim_rows_before(&row.as_bytes()[at..], 100, &NOTHING),
        Skimmed::NotPlain
    );
    assert!(matches!(next(&mut lexer, &mut at), Token::Value(v) if v.column == 0));
    assert!(lexer.is_after_value());
    // `,'a',2.5` end at 8 bytes on: a limit of 7 takes `,'a'` only.
    let rest = &row.as_bytes()[at..];
    assert_eq!(
        lexer.skim_rows_before(rest, 7, &NOTHING),
        Skimmed::Rows(Token::Values { values: 1 }, 4)
    );
    at += 4;
    let rest = &row.as_bytes()[at..];
    assert_eq!(
        lexer.skim_rows_before(rest, rest.len(), &NOTHING),
        Skimmed::Rows(Token::Values { values: 3 }, 16)
    );
    at += 16;
    assert!(lexer.is_after_value());
    assert_eq!(next(&mut lexer, &mut at), Token::RowClose);
    // The columns went on from the skimmed values.
    assert_eq!(next(&mut lexer, &mut at), Token::RowOpen);
    assert!(matches!(next(&mut lexer, &mut at), Token::Value(v) if v.column == 0));
    // After `(1` and three skimmed values, the next one lexed is column 4.
    let odd = r"(1,'a',2,3,'x\/y')";
    let mut lexer3 = Lexer::new().between_rows(true);
    let mut at3 = 0;
    let next3 = |lexer: &mut Lexer, at: &mut usize| lex_next(lexer, odd, at);
    next3(&mut lexer3, &mut at3);
    next3(&mut lexer3, &mut at3);
    // `\/` is not mysqldump's: the skim stops before that value.
    assert_eq!(
        lexer3.skim_rows_before(&odd.as_bytes()[at3..], 100, &NOTHING),
        Skimmed::Rows(Token::Values { values: 3 }, 8)
    );
    at3 += 8;
    assert!(matches!(next3(&mut lexer3, &mut at3), Token::Value(v) if v.column == 4));
}

#[test]
fn look_is_asked_where_each_string_starts_and_after_each_quote_it_wants_to_see() {
    // Strings of serialized PHP and JSON start after a `"`, which mysqldump writes as `\"`
    // and other tools may write as it is; a `'` escaped inside a string starts nothing.
    let rows = r#"(1,'ab',NULL,'x\"YTo\"'),(2,'q"Tz',3)"#;
    let asked = std::cell::RefCell::new(Vec::new());
    // Inside every string but the one that starts with `q`.
    let record = |text: &[u8]| {
        asked.borrow_mut().push(rows.len() - text.len());
        if text.starts_with(b"q") {
            Look::Pass
        } else {
            Look::Inside
        }
    };
    let mut lexer = Lexer::new().between_rows(true);
    assert_eq!(
        lexer.skim_rows_before(rows.as_bytes(), rows.len(), &record),
        Skimmed::Rows(
            Token::Rows {
                rows: 2,
                first: true
            },
            rows.len()
        )
    );
    let starts = |texts: &[&str]| -> Vec<usize> {
        let mut from = 0;
        texts
            .iter()
            .map(|t| {
                from += rows[from..].find(t).unwrap();
                from
            })
            .collect()
    };
    assert_eq!(
        *asked.borrow(),
        starts(&["ab'", r#"x\""#, r#"YTo\"'"#, r#"'),"#, "q\""])
    );
    // What it stops at is not taken, wherever in the row it is; the rows before are. In a
    // string it passes, it is not asked again.
    let yto = |text: &[u8]| {
        if text.starts_with(b"YTo") || text.starts_with(b"Tz") {
            Look::Stop
        } else if text.starts_with(b"plain") {
            Look::Pass
        } else {
            Look::Inside
        }
    };
    let raw = r#"(0,'a'),(1,'raw "Tz in it')"#;
    let passed = r#"(0,'a'),(1,'plain \"Tz in it')"#;
    for (input, taken) in [
        (r"(0,'a'),(1,'YToxOn')", Some((1, 7))),
        (r#"(0,'a'),(1,'a:1:{s:3:\"YTo\";}')"#, Some((1, 7))),
        (raw, Some((1, 7))),
        (passed, Some((2, passed.len()))),
        (r"(1,'YToxOn')", None),
        (r"(0,'aYTo'),(1,'\'YTo')", Some((2, 22))),
    ] {
        let mut lexer = Lexer::new().between_rows(true);
        let got = match lexer.skim_rows_before(input.as_bytes(), input.len(), &yto) {
            Skimmed::Rows(Token::Rows { rows, .. }, n) => Some((rows, n)),
            _ => None,
        };
        assert_eq!(got, taken, "{input}");
    }
    // The values after a lexed one are skimmed up to the one it stops at.
    let row = r#"(1,'a','b',3,'s:3:\"Tzo\";','c')"#;
    let mut lexer = Lexer::new().between_rows(true);
    let mut at = 0;
    lex_next(&mut lexer, row, &mut at);
    lex_next(&mut lexer, row, &mut at);
    assert_eq!(
        lexer.skim_rows_before(&row.as_bytes()[at..], row.len() - at, &yto),
        Skimmed::Rows(Token::Values { values: 3 }, 10)
    );
}

/// A value cut by the end of the input is continued by the next `lex`, never skimmed: a
/// skim from its start while the lexer keeps its progress counted the row's values into
/// the next row's.
#[test]
fn a_value_cut_by_the_end_of_the_input_is_not_skimmed_until_it_is_lexed() {
    let row = r"(1,'a longer string',2,'x'),(3,'y',4,'z')";
    let mut lexer = Lexer::new().between_rows(true);
    let mut at = 0;
    assert_eq!(lex_next(&mut lexer, row, &mut at), Token::RowOpen);
    assert!(matches!(lex_next(&mut lexer, row, &mut at), Token::Value(v) if v.column == 0));
    assert!(lexer.can_skim(true));
    // The input ends inside `'a longer string'`.
    let cut = &row.as_bytes()[at..at + 8];
    assert_eq!(lexer.lex(cut, false).unwrap(), (Lexed::NeedInput, 0));
    assert!(!lexer.can_skim(true), "inside a cut value");
    // With the rest of the input, the value is lexed where it was left, then skims go on.
    let Token::Value(v) = lex_next(&mut lexer, row, &mut at) else {
        panic!("the cut value");
    };
    assert_eq!(v.column, 1);
    assert!(lexer.can_skim(true));
    let rest = &row.as_bytes()[at..];
    assert_eq!(
        lexer.skim_rows_before(rest, rest.len(), &NOTHING),
        Skimmed::Rows(Token::Values { values: 2 }, 6)
    );
    at += 6;
    assert_eq!(lex_next(&mut lexer, row, &mut at), Token::RowClose);
    assert_eq!(lex_next(&mut lexer, row, &mut at), Token::RowOpen);
    assert!(matches!(lex_next(&mut lexer, row, &mut at), Token::Value(v) if v.column == 0));
}
