//! Edge cases of the dump lexer, each run through every way of feeding it: all at once, one
//! byte at a time, and split at every byte offset. Tokens, their bytes and positions must not
//! depend on how the input was chunked, and the bytes must always add up to the input.

use std::io::{self, Read};

use understudy_sqldump::{
    DumpReader, ErrorKind, InsertVerb, LexerBuilder, StatementKind, Token, ValueKind,
};

/// A reader that hands out the input in pieces: first `split` bytes, then at most `chunk`.
struct Chunked<'a> {
    data: &'a [u8],
    split: Option<usize>,
    chunk: usize,
}

impl Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut n = self.chunk.min(buf.len()).min(self.data.len());
        if let Some(split) = self.split.take() {
            n = split.min(buf.len()).min(self.data.len());
            if n == 0 && !self.data.is_empty() {
                n = 1.min(buf.len());
            }
        }
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// Describes a token in one short line, so expectations read like the dump.
fn describe(token: Token, bytes: &[u8]) -> String {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    match token {
        Token::Space => "space".into(),
        Token::Comment => format!("comment {}", text(bytes).trim_end()),
        Token::SandboxComment => "sandbox".into(),
        Token::Delimiter { delimiter } => format!("delimiter {}", text(delimiter.of(bytes))),
        Token::Statement { kind } => format!("{kind:?}: {}", text(bytes).trim()),
        Token::CreateTable { name } => format!("create {}", text(name.of(bytes))),
        Token::InsertHead {
            verb,
            table,
            columns,
        } => {
            let cols = columns.map(|c| text(c.of(bytes))).unwrap_or_default();
            format!("{verb:?} {} ({cols})", text(table.of(bytes)))
        }
        Token::RowOpen => "(".into(),
        Token::RowClose => ")".into(),
        Token::InsertEnd => "end".into(),
        Token::InsertTail => format!("tail {}", text(bytes).trim()),
        Token::Rows { rows, first } => format!("{rows} rows{}", if first { ", first" } else { "" }),
        Token::Values { values } => format!("{values} values"),
        Token::Value(v) => {
            let kind = match v.kind {
                ValueKind::Str {
                    escapes,
                    canonical,
                    double_quotes_escaped,
                    quote,
                } => format!(
                    "str{}{}{}{}",
                    quote as char,
                    if escapes { "\\" } else { "" },
                    if canonical { "" } else { "~" },
                    if double_quotes_escaped { "" } else { "\"" }
                ),
                other => format!("{other:?}").to_lowercase(),
            };
            format!(
                "{} {kind} {}|{}",
                v.column,
                text(v.literal.of(bytes)),
                text(v.content.of(bytes))
            )
        }
    }
}

type Lexed = Vec<(String, u64, u64)>;

fn lex_with(input: &[u8], split: Option<usize>, chunk: usize) -> Result<Lexed, String> {
    let src = Chunked {
        data: input,
        split,
        chunk,
    };
    let mut reader = DumpReader::with_lexer(src, LexerBuilder::new().build(), chunk.max(4));
    let mut out = Vec::new();
    let mut tokens = Vec::new();
    loop {
        match reader.next_token() {
            Ok(Some(item)) => {
                out.extend_from_slice(item.bytes);
                tokens.push((
                    describe(item.token, item.bytes),
                    item.pos.byte,
                    item.pos.line,
                ));
            }
            Ok(None) => break,
            Err(e) => return Err(e.to_string()),
        }
    }
    assert_eq!(out, input, "token bytes must add up to the input");
    Ok(tokens)
}

/// Lexes `input` every way and checks that all ways agree; returns the token descriptions.
fn lex_every_way(input: &[u8]) -> Result<Vec<String>, String> {
    let whole = lex_with(input, None, 1 << 20);
    for chunk in [1, 2, 3, 7] {
        assert_eq!(lex_with(input, None, chunk), whole, "chunk size {chunk}");
    }
    for split in 0..=input.len() {
        assert_eq!(
            lex_with(input, Some(split), 1 << 20),
            whole,
            "split at {split}"
        );
    }
    whole.map(|t| t.into_iter().map(|(d, _, _)| d).collect())
}

macro_rules! lexes_to {
    ($name:ident, $input:expr, [$($tok:expr),* $(,)?]) => {
        #[test]
        fn $name() {
            let got = lex_every_way($input).unwrap();
            let want: Vec<String> = vec![$($tok.to_string()),*];
            assert_eq!(got, want);
        }
    };
}

macro_rules! fails_with {
    ($name:ident, $input:expr, $msg:expr) => {
        #[test]
        fn $name() {
            let whole = lex_with($input, None, 1 << 20);
            for chunk in [1, 5] {
                assert_eq!(lex_with($input, None, chunk), whole, "chunk size {chunk}");
            }
            assert_eq!(whole.unwrap_err(), $msg);
        }
    };
}

lexes_to!(empty, b"", []);
lexes_to!(
    mariadb_header,
    b"/*M!999999\\- enable the sandbox mode */ \n-- MariaDB dump 10.19\n--\n\n/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;\n# hash comment\n/* plain */\n",
    [
        "sandbox",
        "space",
        "comment -- MariaDB dump 10.19",
        "comment --",
        "space",
        "Other: /*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;",
        "space",
        "comment # hash comment",
        "comment /* plain */",
        "space",
    ]
);
lexes_to!(
    extended_insert,
    b"INSERT INTO `t` VALUES (1,'a',NULL),\n(-2.5e-3,'it\\'s','')  ;",
    [
        "Insert t ()",
        "(",
        "0 number 1|1",
        "1 str' 'a'|a",
        "2 null NULL|NULL",
        ")",
        "(",
        "0 number -2.5e-3|-2.5e-3",
        "1 str'\\ 'it\\'s'|it\\'s",
        "2 str' ''|",
        ")",
        "end",
    ]
);
// The head mysqldump writes is read by a shortcut when it is whole in the input; cut into
// chunks it goes through the general scan, and `lex_every_way` checks both agree. So do
// the spellings next to it that the shortcut leaves to that scan.
lexes_to!(
    dumped_heads_and_their_neighbours,
    b"INSERT INTO `t;x y` VALUES (1);\nINSERT INTO `a``b` VALUES (2);\nINSERT INTO `t` VALUES(3);\nINSERT INTO `t` VALUE (4);\nINSERT INTO `t` VALUES\n(5);\nINSERT  INTO `t` VALUES (6);\n",
    [
        "Insert t;x y ()",
        "(",
        "0 number 1|1",
        ")",
        "end",
        "space",
        "Insert a``b ()",
        "(",
        "0 number 2|2",
        ")",
        "end",
        "space",
        "Insert t ()",
        "(",
        "0 number 3|3",
        ")",
        "end",
        "space",
        "Insert t ()",
        "(",
        "0 number 4|4",
        ")",
        "end",
        "space",
        "Insert t ()",
        "(",
        "0 number 5|5",
        ")",
        "end",
        "space",
        "Insert t ()",
        "(",
        "0 number 6|6",
        ")",
        "end",
        "space",
    ]
);
lexes_to!(
    complete_insert_with_spaces,
    b"insert ignore into db.`my``t` ( `a` , b ) values ( 1 , 'x''y' ) ;\n",
    [
        "InsertIgnore my``t ( `a` , b )",
        "(",
        "0 number 1|1",
        "1 str'\\~ 'x''y'|x''y",
        ")",
        "end",
        "space",
    ]
);
lexes_to!(
    replace_and_priority,
    b"REPLACE INTO `r` VALUES (1);INSERT LOW_PRIORITY INTO r VALUE (2);",
    [
        "Replace r ()",
        "(",
        "0 number 1|1",
        ")",
        "end",
        "Insert r ()",
        "(",
        "0 number 2|2",
        ")",
        "end",
    ]
);
lexes_to!(
    every_literal,
    b"INSERT INTO t VALUES (0x4142,X'4a',x'',b'0101',0b11,_binary 'a\\0b',_utf8mb4'\xc3\xbc',_binary 0xFF,N'n',\"dq\",TRUE,DEFAULT,+1,.5,-0);",
    [
        "Insert t ()",
        "(",
        "0 hex 0x4142|4142",
        "1 hex X'4a'|4a",
        "2 hex x''|",
        "3 bit b'0101'|0101",
        "4 bit 0b11|11",
        "5 str'\\ _binary 'a\\0b'|a\\0b",
        "6 str' _utf8mb4'\u{fc}'|\u{fc}",
        "7 hex _binary 0xFF|FF",
        "8 str' N'n'|n",
        "9 str\" \"dq\"|dq",
        "10 keyword TRUE|TRUE",
        "11 keyword DEFAULT|DEFAULT",
        "12 number +1|+1",
        "13 number .5|.5",
        "14 number -0|-0",
        ")",
        "end",
    ]
);
lexes_to!(
    escapes_at_every_position,
    b"INSERT INTO t VALUES ('\\\\','\\'','''','\\\\\\'',' \\0\\b\\n\\r\\t\\Z\\\"');",
    [
        "Insert t ()",
        "(",
        "0 str'\\ '\\\\'|\\\\",
        "1 str'\\ '\\''|\\'",
        "2 str'\\~ ''''|''",
        "3 str'\\ '\\\\\\''|\\\\\\'",
        "4 str'\\~ ' \\0\\b\\n\\r\\t\\Z\\\"'| \\0\\b\\n\\r\\t\\Z\\\"",
        ")",
        "end",
    ]
);
lexes_to!(
    delimiter_and_routine,
    b"DELIMITER ;;\n/*!50003 CREATE*/ /*!50020 DEFINER=`root`@`localhost`*/ /*!50003 PROCEDURE `p`()\nBEGIN\n  SELECT ';'; SELECT 1;\nEND */;;\nDELIMITER ;\nINSERT INTO t VALUES (1);",
    [
        "delimiter ;;",
        "Other: /*!50003 CREATE*/ /*!50020 DEFINER=`root`@`localhost`*/ /*!50003 PROCEDURE `p`()\nBEGIN\n  SELECT ';'; SELECT 1;\nEND */;;",
        "space",
        "delimiter ;",
        "Insert t ()",
        "(",
        "0 number 1|1",
        ")",
        "end",
    ]
);
lexes_to!(
    create_table_and_database_statements,
    b"CREATE DATABASE /*!32312 IF NOT EXISTS*/ `d` /*!40100 DEFAULT CHARACTER SET utf8mb4 */;\nUSE `d`;\n/*!40000 DROP DATABASE IF EXISTS `d`*/;\nCREATE TABLE `t;x` (\n  `a` varchar(3) DEFAULT 'a;b' COMMENT 'it''s; -- no'\n) ENGINE=InnoDB;\n",
    [
        "CreateDatabase: CREATE DATABASE /*!32312 IF NOT EXISTS*/ `d` /*!40100 DEFAULT CHARACTER SET utf8mb4 */;",
        "space",
        "Use: USE `d`;",
        "space",
        "DropDatabase: /*!40000 DROP DATABASE IF EXISTS `d`*/;",
        "space",
        "create t;x",
        "space",
    ]
);
lexes_to!(
    insert_select_is_opaque,
    b"INSERT INTO t SELECT * FROM u WHERE a = 'VALUES (1)';\nINSERT INTO t SET a = 1;",
    [
        "OtherInsert: INSERT INTO t SELECT * FROM u WHERE a = 'VALUES (1)';",
        "space",
        "OtherInsert: INSERT INTO t SET a = 1;",
    ]
);
lexes_to!(
    comments_inside_statements,
    b"SELECT 1 -- c;\n, 2 # d;\n, 3 /* e; */;\nSELECT 4--5;",
    [
        "Other: SELECT 1 -- c;\n, 2 # d;\n, 3 /* e; */;",
        "space",
        "Other: SELECT 4--5;",
    ]
);
lexes_to!(
    crlf_lines,
    b"-- c\r\nINSERT INTO t VALUES (1),\r\n(2);\r\n",
    [
        "comment -- c",
        "Insert t ()",
        "(",
        "0 number 1|1",
        ")",
        "(",
        "0 number 2|2",
        ")",
        "end",
        "space",
    ]
);
lexes_to!(
    empty_row,
    b"INSERT INTO t VALUES ();",
    ["Insert t ()", "(", ")", "end"]
);

fails_with!(
    cut_inside_string,
    b"-- x\nINSERT INTO `users` VALUES (1,'abc",
    "byte 35 (line 2), table `users`: input ends inside a quoted literal that starts here"
);
fails_with!(
    cut_inside_statement,
    b"CREATE TABLE `t` (\n  `a` int",
    "byte 0 (line 1), table `t`: input ends inside a statement that starts here (no terminating \";\")"
);
fails_with!(
    cut_between_rows,
    b"INSERT INTO `t` VALUES (1),",
    "byte 27 (line 1), table `t`: input ends inside an INSERT statement: expected '(' to open a row"
);
fails_with!(
    cut_after_row,
    b"INSERT INTO `t` VALUES (1)",
    "byte 26 (line 1), table `t`: input ends inside an INSERT statement: expected ',' and another row, or the statement's end, after ')'"
);
fails_with!(
    unterminated_comment,
    b"SELECT 1;\n/* never closed",
    "byte 10 (line 2): input ends inside a /* … */ comment that starts here"
);
fails_with!(
    unterminated_comment_in_statement,
    b"SELECT 1 /* never closed;",
    "byte 9 (line 1): input ends inside a /* … */ comment that starts here"
);
fails_with!(
    unbalanced_parenthesis,
    b"INSERT INTO `t` VALUES (1,'a'\n;",
    "byte 30 (line 2), table `t`: unexpected ';' here: expected ',' and another value, or ')' to close the row"
);
fails_with!(
    extra_parenthesis,
    b"INSERT INTO `t` VALUES (1,2)),(3);",
    "byte 28 (line 1), table `t`: unexpected ')' here: expected ',' and another row, or the statement's end, after ')'"
);
fails_with!(
    nested_parenthesis,
    b"INSERT INTO `t` VALUES (1,(2));",
    "byte 26 (line 1), table `t`: unexpected '(' here: expected a value"
);
fails_with!(
    function_call_value,
    b"INSERT INTO `t` VALUES (NOW());",
    "byte 27 (line 1), table `t`: unexpected '(' here: expected a literal value (function calls in VALUES are not supported)"
);
fails_with!(
    cut_inside_row,
    b"INSERT INTO `t` VALUES (1,",
    "byte 26 (line 1), table `t`: input ends inside an INSERT statement: expected a value"
);
fails_with!(
    cut_after_value,
    b"INSERT INTO `t` VALUES (1",
    "byte 25 (line 1), table `t`: input ends inside an INSERT statement: expected ',' and another value, or ')' to close the row"
);
fails_with!(
    bad_delimiter,
    b"DELIMITER \n",
    "byte 0 (line 1): bad DELIMITER command: it is empty"
);

#[test]
fn tokens_too_large_are_refused() {
    let input = b"INSERT INTO `t` VALUES ('0123456789abcdef0123456789');";
    let lexer = LexerBuilder::new().max_token(24).build();
    let mut reader = DumpReader::with_lexer(&input[..], lexer, 4);
    let err = loop {
        match reader.next_token() {
            Ok(Some(_)) => {}
            Ok(None) => panic!("a 28-byte value passed a limit of 24"),
            Err(e) => break e,
        }
    };
    assert!(matches!(err.kind(), ErrorKind::TokenTooLarge { limit: 24 }));
    assert_eq!(err.table(), Some("t"));
}

#[test]
fn a_value_over_16_mib_is_one_token_read_in_small_chunks() {
    let big = vec![b'x'; 17 << 20];
    let mut input = b"INSERT INTO `b` VALUES ('".to_vec();
    input.extend_from_slice(&big);
    input.extend_from_slice(b"');\n");
    let src = Chunked {
        data: &input,
        split: None,
        chunk: 64 << 10,
    };
    let mut reader = DumpReader::with_lexer(src, LexerBuilder::new().build(), 64 << 10);
    let mut values = Vec::new();
    while let Some(item) = reader.next_token().unwrap() {
        if let Token::Value(v) = item.token {
            values.push(v.content.len());
        }
    }
    assert_eq!(values, [17 << 20]);
}

#[test]
fn positions_count_bytes_and_lines() {
    let input = b"-- a\n\nINSERT INTO t VALUES\n(1),\n(2);\n";
    let tokens = lex_with(input, None, 1 << 20).unwrap();
    let rows: Vec<_> = tokens
        .iter()
        .filter(|(d, _, _)| d.starts_with("0 number"))
        .map(|(_, byte, line)| (*byte, *line))
        .collect();
    assert_eq!(rows, [(28, 4), (33, 5)]);
}

#[test]
fn verbs_and_kinds_are_exposed() {
    let input = b"REPLACE INTO t VALUES (1);USE x;";
    let mut reader = DumpReader::new(&input[..]);
    let mut seen = Vec::new();
    while let Some(item) = reader.next_token().unwrap() {
        match item.token {
            Token::InsertHead { verb, .. } => seen.push(format!("{verb:?}")),
            Token::Statement { kind } => seen.push(format!("{kind:?}")),
            _ => {}
        }
    }
    assert_eq!(
        seen,
        [
            format!("{:?}", InsertVerb::Replace),
            format!("{:?}", StatementKind::Use)
        ]
    );
}

#[test]
fn statement_tables() {
    use understudy_sqldump::statement_table;
    let cases: &[(&[u8], Option<&[u8]>)] = &[
        (b"DROP TABLE IF EXISTS `wp_users`;", Some(b"wp_users")),
        (b"DROP TABLE t;", Some(b"t")),
        (b"LOCK TABLES `a``b` WRITE;", Some(b"a``b")),
        (
            b"/*!40000 ALTER TABLE `elgg_queue` DISABLE KEYS */;",
            Some(b"elgg_queue"),
        ),
        (b"CREATE TABLE IF NOT EXISTS db.`t2` (a int);", Some(b"t2")),
        (b"INSERT INTO `x` VALUES (1);", Some(b"x")),
        (b"UNLOCK TABLES;", None),
        (
            b"/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER `parent_ai` AFTER INSERT ON `parent` FOR EACH ROW BEGIN SET @x = 1; END */;;",
            Some(b"parent"),
        ),
        (b"CREATE TRIGGER t BEFORE UPDATE ON db.`child` FOR EACH ROW SET NEW.a = 1;", Some(b"child")),
        (b"CREATE PROCEDURE p() BEGIN SELECT 1 FROM t WHERE a = 'x ON y'; END;", None),
        (b"/*!40101 SET NAMES utf8 */;", None),
    ];
    for (statement, want) in cases {
        assert_eq!(
            statement_table(statement),
            *want,
            "{}",
            String::from_utf8_lossy(statement)
        );
    }
}

/// A reader looking ahead at `CREATE TABLE`s finds the name the lexer's token gives, from
/// the statement's first word up to the end of whatever text follows it.
#[test]
fn created_tables_are_named_as_the_lexer_names_them() {
    use understudy_sqldump::created_table;
    let cases: &[(&[u8], Option<&[u8]>)] = &[
        (
            b"CREATE TABLE `wp_users` (\n  `ID` bigint\n);",
            Some(b"wp_users"),
        ),
        (b"CREATE TABLE IF NOT EXISTS db.`t2` (a int);", Some(b"t2")),
        (b"create table `a``b` (a int);", Some(b"a``b")),
        (b"CREATE TEMPORARY TABLE t3 (a int);", Some(b"t3")),
        (b"CREATE OR REPLACE TABLE `t4` (a int);", Some(b"t4")),
        // As the lexer reads it: no comment between `TABLE` and the name.
        (b"CREATE TABLE /* why */ `t5` (a int);", None),
        (b"CREATE TABLE t6 LIKE t1;", Some(b"t6")),
        (b"CREATE DATABASE d;", None),
        (b"CREATE TABLE;", None),
    ];
    for (statement, want) in cases {
        let shown = String::from_utf8_lossy(statement);
        assert_eq!(created_table(statement), *want, "{shown}");
        // The same with the rest of a batch after it, as a reader sees it.
        let mut more = statement.to_vec();
        more.extend_from_slice(b"\nINSERT INTO `other` VALUES (1);\n");
        assert_eq!(created_table(&more), *want, "{shown} and more");
        let tokens = lex_every_way(statement).unwrap();
        let lexed = tokens.iter().find_map(|t| t.strip_prefix("create "));
        let want = want.map(|w| String::from_utf8_lossy(w).into_owned());
        assert_eq!(lexed, want.as_deref(), "{shown}: the lexer's token");
    }
}

lexes_to!(
    concatenated_strings,
    b"INSERT INTO t VALUES ('con' 'cat'\n\"enated\",'a' ,'b');",
    [
        "Insert t ()",
        "(",
        "0 concat 'con' 'cat'\n\"enated\"|'con' 'cat'\n\"enated\"",
        "1 str' 'a'|a",
        "2 str' 'b'|b",
        ")",
        "end",
    ]
);

lexes_to!(
    on_duplicate_key_update,
    b"INSERT INTO t (a,b) VALUES (35,'x') ON DUPLICATE KEY UPDATE b = VALUES(b), c = ';';\n",
    [
        "Insert t (a,b)",
        "(",
        "0 number 35|35",
        "1 str' 'x'|x",
        ")",
        "tail ON DUPLICATE KEY UPDATE b = VALUES(b), c = ';';",
        "space",
    ]
);
