//! What an opaque statement does to the data, read from its first words.
//!
//! The lexer hands out the rows of `INSERT … VALUES` value by value; every other statement
//! passes as one opaque token. A rewrite that masks a table must know when such a statement
//! still writes into it (`UPDATE`, `INSERT … SELECT`, an `INSERT` inside a versioned comment,
//! `LOAD DATA`), moves its columns (`ALTER TABLE … ADD COLUMN … FIRST`) or gives its name to
//! another table (`RENAME TABLE`): it cannot mask what it does not see, so it must refuse
//! those. And a stream whose statements do not begin with an SQL word is not a dump at all.
//!
//! This reads only the statement's head and clause words; it is not a parser. It errs toward
//! [`Effect::WritesRows`] and [`Effect::ShiftsColumns`], which a caller refuses, and toward
//! [`Effect::NotSql`] only for text no MySQL or MariaDB server would run.

use crate::lexer::{identifier, skip_space_all, word_end, CodeWords};

/// What a statement does to the rows and columns of tables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect<'a> {
    /// Nothing a rewrite must follow: session settings, locks, keys, views, routines,
    /// `DROP TABLE`, an `ALTER TABLE` that keeps the columns where they are.
    Other,
    /// Writes rows into `table` with values the rewrite does not see one by one:
    /// `INSERT … SELECT`, `INSERT … SET`, `UPDATE`, `LOAD DATA`, `REPLACE … SET`, or an
    /// `INSERT … VALUES` the lexer passed whole (inside a versioned comment).
    WritesRows {
        /// The table written (the last part of `db.table`, still quoted).
        table: &'a [u8],
        /// The statement's verb, for messages.
        verb: &'static str,
    },
    /// Adds, drops, renames or moves columns of `table`, so positions the rules resolved
    /// from its `CREATE TABLE` no longer hold.
    ShiftsColumns {
        /// The table altered.
        table: &'a [u8],
    },
    /// Renames tables: data inserted under one name ends up under another.
    RenamesTables {
        /// `(from, to)` pairs, as written.
        pairs: Vec<(&'a [u8], &'a [u8])>,
    },
    /// Runs SQL built from a string when the dump is restored (`PREPARE`, `EXECUTE`), which
    /// no rewrite can look into.
    Dynamic,
    /// The statement does not begin with a word any MySQL or MariaDB statement begins
    /// with: the input is not SQL.
    NotSql,
}

/// The words a statement may begin with (upper case), as MySQL 8 and MariaDB 11 know them.
const VERBS: &[&[u8]] = &[
    b"ALTER",
    b"ANALYZE",
    b"BEGIN",
    b"BINLOG",
    b"CACHE",
    b"CALL",
    b"CHANGE",
    b"CHECK",
    b"CHECKSUM",
    b"COMMIT",
    b"CREATE",
    b"DEALLOCATE",
    b"DELETE",
    b"DESC",
    b"DESCRIBE",
    b"DO",
    b"DROP",
    b"EXECUTE",
    b"EXPLAIN",
    b"FLUSH",
    b"GET",
    b"GRANT",
    b"HANDLER",
    b"HELP",
    b"IMPORT",
    b"INSERT",
    b"INSTALL",
    b"KILL",
    b"LOAD",
    b"LOCK",
    b"OPTIMIZE",
    b"PREPARE",
    b"PURGE",
    b"RELEASE",
    b"RENAME",
    b"REPAIR",
    b"REPLACE",
    b"RESET",
    b"RESIGNAL",
    b"REVOKE",
    b"ROLLBACK",
    b"SAVEPOINT",
    b"SELECT",
    b"SET",
    b"SHOW",
    b"SHUTDOWN",
    b"SIGNAL",
    b"START",
    b"STOP",
    b"TABLE",
    b"TRUNCATE",
    b"UNINSTALL",
    b"UNLOCK",
    b"UPDATE",
    b"USE",
    b"VALUES",
    b"WITH",
    b"XA",
];

/// Reads what `statement` (its whole text, delimiter included or not) does to the data.
pub fn statement_effect(statement: &[u8]) -> Effect<'_> {
    let mut words = CodeWords::new(statement);
    let Some((verb, verb_end)) = words.next() else {
        // Nothing but whitespace, comments and punctuation: `;` alone is a statement, and
        // `(SELECT …)` runs; anything else that starts with a symbol is not SQL.
        let rest = &statement[skip_space_all(statement, 0)..];
        return match rest.first() {
            None | Some(b';' | b'(' | b'*') => Effect::Other,
            Some(b'/') if rest.starts_with(b"/*") => Effect::Other,
            _ => Effect::NotSql,
        };
    };
    if !VERBS.iter().any(|v| verb.eq_ignore_ascii_case(v)) {
        return Effect::NotSql;
    }
    let is = |w: &[u8], k: &[u8]| w.eq_ignore_ascii_case(k);
    if is(verb, b"INSERT") || is(verb, b"REPLACE") {
        let verb_name = if is(verb, b"INSERT") {
            "INSERT"
        } else {
            "REPLACE"
        };
        return match table_after(
            statement,
            verb_end,
            &[
                b"LOW_PRIORITY",
                b"DELAYED",
                b"HIGH_PRIORITY",
                b"IGNORE",
                b"INTO",
            ],
        ) {
            Some(table) => Effect::WritesRows {
                table,
                verb: verb_name,
            },
            None => Effect::NotSql,
        };
    }
    if is(verb, b"UPDATE") {
        return match table_after(statement, verb_end, &[b"LOW_PRIORITY", b"IGNORE"]) {
            Some(table) => Effect::WritesRows {
                table,
                verb: "UPDATE",
            },
            None => Effect::NotSql,
        };
    }
    if is(verb, b"LOAD") {
        // LOAD DATA … INTO TABLE t / LOAD XML … INTO TABLE t
        let into = find_word(statement, verb_end, b"INTO");
        let table = into.and_then(|at| table_after(statement, at, &[b"TABLE"]));
        return match table {
            Some(table) => Effect::WritesRows {
                table,
                verb: "LOAD DATA",
            },
            None => Effect::NotSql,
        };
    }
    if is(verb, b"PREPARE") || is(verb, b"EXECUTE") {
        return Effect::Dynamic;
    }
    if is(verb, b"RENAME") {
        return rename_effect(statement, verb_end);
    }
    if is(verb, b"ALTER") {
        return alter_effect(statement, &mut words);
    }
    Effect::Other
}

/// The table named after `at`, past any of `skip` (modifier words); the last part of
/// `db.table`.
fn table_after<'a>(statement: &'a [u8], at: usize, skip: &[&[u8]]) -> Option<&'a [u8]> {
    let mut at = skip_space_all(statement, at);
    loop {
        let end = word_end(statement, at);
        let word = &statement[at..end];
        if word.is_empty() || !skip.iter().any(|s| word.eq_ignore_ascii_case(s)) {
            break;
        }
        at = skip_space_all(statement, end);
    }
    let (mut name, end) = identifier(statement, at)?;
    if statement.get(end) == Some(&b'.') {
        if let Some((table, _)) = identifier(statement, end + 1) {
            name = table;
        }
    }
    Some(name.of(statement))
}

/// Where the quoted string or identifier that opens at `at` ends (past its closing quote).
fn after_quoted(statement: &[u8], at: usize) -> usize {
    let quote = statement[at];
    let mut at = at + 1;
    while at < statement.len() && statement[at] != quote {
        at += if statement[at] == b'\\' { 2 } else { 1 };
    }
    at + 1
}

/// Where the word `word` ends, searching whole words from `from` outside quotes.
fn find_word(statement: &[u8], from: usize, word: &[u8]) -> Option<usize> {
    let mut at = from;
    while at < statement.len() {
        match statement[at] {
            b'\'' | b'"' | b'`' => at = after_quoted(statement, at),
            b if b.is_ascii_alphanumeric() || b == b'_' || b == b'$' => {
                let end = word_end(statement, at);
                if statement[at..end].eq_ignore_ascii_case(word) {
                    return Some(end);
                }
                at = end;
            }
            _ => at += 1,
        }
    }
    None
}

/// `RENAME TABLE a TO b, c TO d` (and `RENAME USER`, which moves no data).
fn rename_effect(statement: &[u8], verb_end: usize) -> Effect<'_> {
    let at = skip_space_all(statement, verb_end);
    let end = word_end(statement, at);
    let object = &statement[at..end];
    if !(object.eq_ignore_ascii_case(b"TABLE") || object.eq_ignore_ascii_case(b"TABLES")) {
        return Effect::Other;
    }
    let mut pairs = Vec::new();
    let mut at = end;
    while let Some(from) = table_after(statement, at, &[b"IF", b"EXISTS"]) {
        let Some(to_at) = find_word(statement, at, b"TO") else {
            break;
        };
        let Some(to) = table_after(statement, to_at, &[]) else {
            break;
        };
        pairs.push((from, to));
        // The next pair follows a comma after the target's name.
        let Some(comma) = find_top_level(statement, to_at, b',') else {
            break;
        };
        at = comma + 1;
    }
    if pairs.is_empty() {
        return Effect::NotSql;
    }
    Effect::RenamesTables { pairs }
}

/// The first `byte` at or after `from` outside quotes and parentheses.
fn find_top_level(statement: &[u8], from: usize, byte: u8) -> Option<usize> {
    let mut depth = 0usize;
    let mut at = from;
    while at < statement.len() {
        match statement[at] {
            b'\'' | b'"' | b'`' => {
                at = after_quoted(statement, at);
                continue;
            }
            b'(' => depth += 1,
            b')' => depth = depth.saturating_sub(1),
            b if b == byte && depth == 0 => return Some(at),
            _ => {}
        }
        at += 1;
    }
    None
}

/// The words after `ADD` / `DROP` that name something other than a column.
const NOT_A_COLUMN: &[&[u8]] = &[
    b"INDEX",
    b"KEY",
    b"CONSTRAINT",
    b"PRIMARY",
    b"UNIQUE",
    b"FULLTEXT",
    b"SPATIAL",
    b"FOREIGN",
    b"PARTITION",
    b"CHECK",
    b"PERIOD",
    b"SYSTEM",
];

/// `ALTER [ONLINE] [IGNORE] TABLE t clause, clause …`: which clauses move columns.
fn alter_effect<'a>(statement: &'a [u8], words: &mut CodeWords<'a>) -> Effect<'a> {
    let mut table_word_end = None;
    for _ in 0..3 {
        match words.next() {
            Some((w, end)) if w.eq_ignore_ascii_case(b"TABLE") => {
                table_word_end = Some(end);
                break;
            }
            Some((w, _))
                if w.eq_ignore_ascii_case(b"ONLINE") || w.eq_ignore_ascii_case(b"IGNORE") => {}
            // ALTER VIEW / DATABASE / USER / EVENT … touch no table's columns.
            _ => return Effect::Other,
        }
    }
    let Some(after_table) = table_word_end else {
        return Effect::Other;
    };
    let at = skip_space_all(statement, after_table);
    let at = if statement[at..].len() >= 2 && statement[at..at + 2].eq_ignore_ascii_case(b"IF") {
        // IF EXISTS
        let e = word_end(statement, at);
        skip_space_all(statement, word_end(statement, skip_space_all(statement, e)))
    } else {
        at
    };
    let Some((mut name, mut end)) = identifier(statement, at) else {
        return Effect::NotSql;
    };
    if statement.get(end) == Some(&b'.') {
        if let Some((table, e)) = identifier(statement, end + 1) {
            name = table;
            end = e;
        }
    }
    let table = name.of(statement);
    let shifts = Effect::ShiftsColumns { table };
    // Each clause starts after the table name or a top-level comma.
    let mut clause_start = end;
    loop {
        let mut clause = CodeWords::new(&statement[clause_start..]);
        let first = clause.next().map(|(w, _)| w);
        let second = clause.next().map(|(w, _)| w);
        let is = |w: Option<&[u8]>, k: &[u8]| w.is_some_and(|w| w.eq_ignore_ascii_case(k));
        let names_other = |w: Option<&[u8]>| {
            w.is_some_and(|w| NOT_A_COLUMN.iter().any(|k| w.eq_ignore_ascii_case(k)))
        };
        let clause_end = find_top_level(statement, clause_start, b',');
        let text = &statement[clause_start..clause_end.unwrap_or(statement.len())];
        if is(first, b"CHANGE") || is(first, b"RENAME") {
            // CHANGE [COLUMN] a b …, RENAME COLUMN a TO b, RENAME [TO|AS] t2
            if !(is(first, b"RENAME") && (names_other(second))) {
                return shifts;
            }
        }
        if (is(first, b"ADD") || is(first, b"DROP")) && !names_other(second) {
            // ADD [COLUMN] c …, DROP [COLUMN] c
            return shifts;
        }
        if is(first, b"MODIFY")
            && (find_word(text, 0, b"FIRST").is_some() || find_word(text, 0, b"AFTER").is_some())
        {
            return shifts;
        }
        match clause_end {
            Some(comma) => clause_start = comma + 1,
            None => return Effect::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writes(sql: &str) -> Option<(String, &'static str)> {
        match statement_effect(sql.as_bytes()) {
            Effect::WritesRows { table, verb } => {
                Some((String::from_utf8_lossy(table).into_owned(), verb))
            }
            _ => None,
        }
    }

    #[test]
    fn statements_that_write_rows_name_their_table() {
        for (sql, table, verb) in [
            ("INSERT INTO `users` SELECT * FROM t;", "users", "INSERT"),
            (
                "INSERT IGNORE INTO db.`users` SET a='x';",
                "users",
                "INSERT",
            ),
            ("REPLACE users SET email='a@b.c';", "users", "REPLACE"),
            (
                "/*!40000 INSERT INTO `users` VALUES (1,'a') */;",
                "users",
                "INSERT",
            ),
            (
                "update LOW_PRIORITY `users` set a = 'b';",
                "users",
                "UPDATE",
            ),
            (
                "LOAD DATA LOCAL INFILE '/tmp/into x' INTO TABLE `users` FIELDS TERMINATED BY ',';",
                "users",
                "LOAD DATA",
            ),
            (
                "INSERT DELAYED `wp_users`(a) VALUES (1);",
                "wp_users",
                "INSERT",
            ),
        ] {
            assert_eq!(writes(sql), Some((table.to_owned(), verb)), "{sql}");
        }
    }

    #[test]
    fn alter_table_that_moves_columns() {
        let shifts = |sql: &str| matches!(statement_effect(sql.as_bytes()), Effect::ShiftsColumns { table } if table == b"users");
        for sql in [
            "ALTER TABLE `users` ADD COLUMN `x` int FIRST;",
            "ALTER TABLE users ADD `x` int;",
            "ALTER TABLE users ENGINE=InnoDB, DROP `email`;",
            "ALTER TABLE users DROP COLUMN email;",
            "ALTER TABLE users CHANGE email mail varchar(10);",
            "ALTER TABLE users RENAME COLUMN email TO mail;",
            "ALTER TABLE users RENAME TO people;",
            "ALTER TABLE users MODIFY email varchar(10) AFTER id;",
            "ALTER ONLINE TABLE db.users ADD (a int, b int);",
        ] {
            assert!(shifts(sql), "{sql}");
        }
        for sql in [
            "/*!40000 ALTER TABLE `users` DISABLE KEYS */;",
            "ALTER TABLE `users` ADD PRIMARY KEY (`id`), ADD KEY `k` (`email`);",
            "ALTER TABLE users MODIFY id int(11) NOT NULL AUTO_INCREMENT, AUTO_INCREMENT=5;",
            "ALTER TABLE users ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES t (b);",
            "ALTER TABLE users DROP INDEX k, DROP FOREIGN KEY fk;",
            "ALTER TABLE users COMMENT 'first, after';",
            "ALTER DATABASE d CHARACTER SET utf8mb4;",
        ] {
            assert_eq!(statement_effect(sql.as_bytes()), Effect::Other, "{sql}");
        }
    }

    #[test]
    fn rename_table_pairs() {
        let effect = statement_effect(b"RENAME TABLE `tmp` TO `users`, a.b TO `c`;");
        assert_eq!(
            effect,
            Effect::RenamesTables {
                pairs: vec![(&b"tmp"[..], &b"users"[..]), (&b"b"[..], &b"c"[..])]
            }
        );
        assert_eq!(statement_effect(b"RENAME USER a TO b;"), Effect::Other);
    }

    #[test]
    fn what_is_not_sql() {
        for text in [
            "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/usr/sbin/nologin;",
            "\u{feff}INSERT INTO users VALUES (1);",
            "\0\0INSERT INTO users VALUES (1);",
            "hello world;",
            "<?php echo 1;",
        ] {
            assert_eq!(
                statement_effect(text.as_bytes()),
                Effect::NotSql,
                "{text:?}"
            );
        }
        for sql in [
            "SET NAMES utf8mb4;",
            "/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE */;",
            "/*M!100616 SET @OLD_NOTE_VERBOSITY=@@NOTE_VERBOSITY, NOTE_VERBOSITY=0 */;",
            "LOCK TABLES `users` WRITE;",
            "DROP TABLE IF EXISTS `users`;",
            "/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER t BEFORE INSERT ON users FOR EACH ROW SET NEW.a = 1 */;;",
            ";",
            "  \n",
            "SELECT 1;",
            "START TRANSACTION;",
        ] {
            assert_eq!(statement_effect(sql.as_bytes()), Effect::Other, "{sql:?}");
        }
        assert_eq!(
            statement_effect(b"PREPARE s FROM 'INSERT INTO users VALUES (1)';"),
            Effect::Dynamic
        );
    }
}
