//! Column definitions from `CREATE TABLE` statements.
//!
//! Rules refer to columns by name, but mysqldump's default extended `INSERT`s carry no column
//! list: the names come from the `CREATE TABLE` earlier in the stream. This is the cold path
//! (once per table), so it uses `sqlparser`'s MySQL dialect rather than hand-written parsing.
//! MariaDB writes a few things `sqlparser` does not read; for those a line-based reader of
//! mysqldump's own layout (one `` `column` type … `` per line) takes over, so a dump never
//! fails just because its DDL is exotic.

use sqlparser::ast::{ColumnOption, Statement, TableConstraint};
use sqlparser::dialect::MySqlDialect;
use sqlparser::parser::Parser;

use std::collections::HashMap;
use std::sync::Arc;

use crate::lexer::Span;
use crate::literal::unquote_identifier;

/// A table's name and columns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableSchema {
    /// The table name, unquoted.
    pub name: String,
    /// The columns in order. Shared: the tables a [`SchemaCache`] reads from one text share
    /// one list, so a dump of thousands of tables alike holds each list once (and comparing
    /// two shared lists is a pointer comparison, as `Arc`'s `Eq` looks there first).
    pub columns: Arc<[Column]>,
}

/// One column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// The column name, unquoted.
    pub name: String,
    /// The base type in upper case: `VARCHAR`, `LONGTEXT`, `INT`, …
    pub type_name: String,
    /// The length limit in characters (`CHAR(n)`, `VARCHAR(n)`).
    pub max_chars: Option<u64>,
    /// The length limit in bytes (`BINARY(n)`, `VARBINARY(n)`, the `TEXT` and `BLOB` family).
    pub max_bytes: Option<u64>,
    /// Whether the column alone is a `PRIMARY KEY` or `UNIQUE` key, so values must stay unique.
    pub unique: bool,
}

impl TableSchema {
    /// The index of a column by name (MySQL column names are case-insensitive).
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(name))
    }
}

/// Why a `CREATE TABLE` could not be read.
#[derive(Clone, Debug, thiserror::Error)]
#[error("cannot read the columns of this CREATE TABLE: {reason}")]
pub struct SchemaError {
    reason: String,
}

/// Reads a `CREATE TABLE` statement (with or without its delimiter).
///
/// # Errors
/// When neither `sqlparser` nor the line-based reader finds a table with columns.
pub fn parse_create_table(statement: &[u8], delimiter: &[u8]) -> Result<TableSchema, SchemaError> {
    let mut body = statement.trim_ascii_end();
    if let Some(stripped) = body.strip_suffix(delimiter) {
        body = stripped;
    }
    let text = String::from_utf8_lossy(body);
    match from_sqlparser(&text) {
        Ok(schema) => Ok(schema),
        Err(reason) => from_lines(body).ok_or(SchemaError { reason }),
    }
}

/// Read `CREATE TABLE`s by their text with the table's name taken out, so a dump that
/// creates the same table under many names reads it once: a multisite WordPress dump holds
/// thousands of `wp_N_posts` alike but for the name (and `AUTO_INCREMENT`, also taken out),
/// and `sqlparser` (its tokenizer and allocations) cost a third of copying such a dump.
///
/// The name is put back into the schema a statement shares; so only names whose parse is
/// known are shared: one backquoted identifier of letters, digits, `_` and `$`, read back as
/// itself. Holds at most [`SchemaCache::MAX_ENTRIES`] texts (then starts over), so memory
/// stays flat over any dump.
#[derive(Debug, Default)]
pub struct SchemaCache {
    /// Only what was read: an error names the table, and is rare. Keys are whole
    /// statements, a kilobyte or two: foldhash, not SipHash, which cost as much as the rest
    /// of a cached read.
    read: HashMap<Vec<u8>, TableSchema, foldhash::fast::RandomState>,
    key: Vec<u8>,
}

impl SchemaCache {
    /// How many texts are kept.
    pub const MAX_ENTRIES: usize = 4096;

    /// A cache with nothing read yet.
    pub fn new() -> SchemaCache {
        SchemaCache::default()
    }

    /// [`parse_create_table`] of `statement`, whose table name is `name` (the
    /// [`Token::CreateTable`](crate::Token::CreateTable) span), read once per text.
    ///
    /// # Errors
    /// As [`parse_create_table`].
    pub fn parse(
        &mut self,
        statement: &[u8],
        name: Span,
        delimiter: &[u8],
    ) -> Result<TableSchema, SchemaError> {
        let Some(plain) = plain_name(statement, name) else {
            return parse_create_table(statement, delimiter);
        };
        self.key.clear();
        self.key
            .extend_from_slice(&statement[..name.start as usize]);
        self.key.push(b'`');
        let after = &statement[name.end as usize..];
        // The table options of mariadb-dump's last line; no column is read from them.
        let last_line = memchr::memrchr(b'\n', after).map_or(0, |i| i + 1);
        let (columns, options) = after.split_at(last_line);
        self.key.extend_from_slice(columns);
        let (before, after) = without_auto_increment(options);
        self.key.extend_from_slice(before);
        self.key.extend_from_slice(after);
        self.key.extend_from_slice(delimiter);
        if let Some(read) = self.read.get(&self.key) {
            let mut schema = read.clone();
            schema.name = plain.to_owned();
            return Ok(schema);
        }
        let schema = parse_create_table(statement, delimiter)?;
        // Shared only if the name reads back as itself (see above).
        if schema.name == plain {
            if self.read.len() >= SchemaCache::MAX_ENTRIES {
                self.read.clear();
            }
            self.read.insert(self.key.clone(), schema.clone());
        }
        Ok(schema)
    }
}

/// The name at `name` in `statement`, if it is backquoted and of letters, digits, `_` and
/// `$` (the lexer's span is inside the quotes).
fn plain_name(statement: &[u8], name: Span) -> Option<&str> {
    let (start, end) = (name.start as usize, name.end as usize);
    let quoted =
        start > 0 && statement.get(start - 1) == Some(&b'`') && statement.get(end) == Some(&b'`');
    let inner = &statement[start..end];
    let plain = quoted
        && !inner.is_empty()
        && inner
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$');
    // ASCII, so this cannot fail.
    plain.then(|| std::str::from_utf8(inner).ok()).flatten()
}

/// `options` around its ` AUTO_INCREMENT=<digits>`, if it has one.
fn without_auto_increment(options: &[u8]) -> (&[u8], &[u8]) {
    const WORD: &[u8] = b" AUTO_INCREMENT=";
    let Some(at) = memchr::memmem::find(options, WORD) else {
        return (options, &[]);
    };
    let digits = options[at + WORD.len()..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    (&options[..at], &options[at + WORD.len() + digits..])
}

fn from_sqlparser(sql: &str) -> Result<TableSchema, String> {
    let statements = Parser::parse_sql(&MySqlDialect {}, sql).map_err(|e| e.to_string())?;
    let Some(Statement::CreateTable(table)) = statements.into_iter().next() else {
        return Err("not a CREATE TABLE statement".into());
    };
    let name = table
        .name
        .0
        .last()
        .map(|part| part.to_string())
        .unwrap_or_default();
    let mut columns: Vec<Column> = table
        .columns
        .iter()
        .map(|c| {
            let unique = c.options.iter().any(|o| {
                matches!(
                    o.option,
                    ColumnOption::Unique(_) | ColumnOption::PrimaryKey(_)
                )
            });
            column(&c.name.value, &c.data_type.to_string(), unique)
        })
        .collect();
    for constraint in &table.constraints {
        let keyed: Vec<String> = match constraint {
            TableConstraint::Unique(u) => u.columns.iter().map(|c| c.to_string()).collect(),
            TableConstraint::PrimaryKey(p) => p.columns.iter().map(|c| c.to_string()).collect(),
            _ => continue,
        };
        mark_unique(&mut columns, &keyed);
    }
    if columns.is_empty() {
        return Err("no columns".into());
    }
    Ok(TableSchema {
        name: unquote(&name),
        columns: columns.into(),
    })
}

/// mysqldump's layout: `` CREATE TABLE `t` ( `` then one definition per line.
fn from_lines(body: &[u8]) -> Option<TableSchema> {
    let text = String::from_utf8_lossy(body);
    let mut lines = text.lines();
    let head = lines.next()?;
    let name_start = head.find('`')?;
    let name_len = head[name_start + 1..].find('`')?;
    let name = head[name_start + 1..name_start + 1 + name_len].to_string();
    let mut columns = Vec::new();
    let mut keys = Vec::new();
    for line in lines {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix('`') {
            let end = rest.find('`')?;
            let ty = rest[end + 1..].trim_start();
            let ty_end = ty.find([' ', ',']).unwrap_or(ty.len());
            columns.push(column(&rest[..end], &ty[..ty_end], false));
        } else if line.starts_with("PRIMARY KEY") || line.starts_with("UNIQUE KEY") {
            let open = line.find('(')?;
            let close = line.rfind(')')?;
            keys.push(
                line[open + 1..close]
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .collect::<Vec<_>>(),
            );
        }
    }
    for key in keys {
        mark_unique(&mut columns, &key);
    }
    (!columns.is_empty()).then(|| TableSchema {
        name,
        columns: columns.into(),
    })
}

/// Marks the column of a single-column key unique (a composite key does not make its parts
/// unique).
fn mark_unique(columns: &mut [Column], key: &[String]) {
    if let [only] = key {
        // `username`(50) keeps only the name.
        let name = unquote(only.split('(').next().unwrap_or(only).trim());
        if let Some(c) = columns
            .iter_mut()
            .find(|c| c.name.eq_ignore_ascii_case(&name))
        {
            c.unique = true;
        }
    }
}

fn unquote(name: &str) -> String {
    let inner = name
        .strip_prefix('`')
        .and_then(|n| n.strip_suffix('`'))
        .unwrap_or(name);
    String::from_utf8_lossy(&unquote_identifier(inner.as_bytes())).into_owned()
}

fn column(name: &str, data_type: &str, unique: bool) -> Column {
    let upper = data_type.to_ascii_uppercase();
    let base_end = upper
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(upper.len());
    let type_name = upper[..base_end].to_string();
    let length = upper[base_end..]
        .strip_prefix('(')
        .and_then(|rest| rest.split([')', ',']).next())
        .and_then(|n| n.trim().parse::<u64>().ok());
    let (max_chars, max_bytes) = match type_name.as_str() {
        "CHAR" | "VARCHAR" | "CHARACTER" | "NCHAR" | "NVARCHAR" => (length, None),
        "BINARY" | "VARBINARY" => (None, length),
        "TINYTEXT" | "TINYBLOB" => (None, Some(255)),
        "TEXT" | "BLOB" => (None, Some(65_535)),
        "MEDIUMTEXT" | "MEDIUMBLOB" => (None, Some(16_777_215)),
        "LONGTEXT" | "LONGBLOB" => (None, Some(4_294_967_295)),
        _ => (None, None),
    };
    Column {
        name: unquote(name),
        type_name,
        max_chars,
        max_bytes,
        unique,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ELGG_USERS: &[u8] = b"CREATE TABLE `elgg_users_entity` (
  `guid` bigint(20) unsigned NOT NULL,
  `name` text NOT NULL,
  `username` varchar(128) NOT NULL DEFAULT '',
  `email` text NOT NULL,
  `password_hash` varchar(255) NOT NULL DEFAULT '',
  `code` binary(16) DEFAULT NULL,
  `full` varchar(300) GENERATED ALWAYS AS (concat(`name`,' ',`username`)) VIRTUAL,
  PRIMARY KEY (`guid`),
  UNIQUE KEY `username` (`username`(50)),
  UNIQUE KEY `pair` (`name`(10),`email`(10)),
  KEY `email` (`email`(50))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;";

    fn check(schema: &TableSchema) {
        assert_eq!(schema.name, "elgg_users_entity");
        let names: Vec<_> = schema.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "guid",
                "name",
                "username",
                "email",
                "password_hash",
                "code",
                "full"
            ]
        );
        let by = |n: &str| &schema.columns[schema.column_index(n).unwrap()];
        assert!(by("guid").unique);
        assert!(by("username").unique);
        assert!(
            !by("name").unique,
            "a composite key does not make its parts unique"
        );
        assert!(!by("email").unique);
        assert_eq!(by("username").max_chars, Some(128));
        assert_eq!(by("username").type_name, "VARCHAR");
        assert_eq!(by("email").max_bytes, Some(65_535));
        assert_eq!(by("code").max_bytes, Some(16));
    }

    #[test]
    fn reads_mariadb_dump_create_table() {
        check(&from_sqlparser(&String::from_utf8_lossy(ELGG_USERS)).unwrap());
        check(&parse_create_table(ELGG_USERS, b";").unwrap());
    }

    #[test]
    fn line_reader_agrees_with_sqlparser() {
        check(&from_lines(ELGG_USERS).unwrap());
    }

    #[test]
    fn falls_back_to_lines_for_what_sqlparser_rejects() {
        let odd = b"CREATE TABLE `t` (\n  `a` int(11) NOT NULL,\n  `b` varchar(5) /*M!100301 COMPRESSED*/ WITH SOME NEW SYNTAX,\n  PRIMARY KEY (`a`)\n) ENGINE=InnoDB;;";
        let schema = parse_create_table(odd, b";;").unwrap();
        assert_eq!(schema.columns.len(), 2);
        assert!(schema.columns[0].unique);
        assert_eq!(schema.columns[1].max_chars, Some(5));
    }

    /// Every `CREATE TABLE` of every fixture, as it is and under other names and
    /// `AUTO_INCREMENT`s, reads through the cache as `parse_create_table` reads it.
    #[test]
    fn the_cache_reads_every_fixture_schema_as_the_parser_does() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures");
        let mut files = Vec::new();
        let mut dirs = vec![std::path::PathBuf::from(dir)];
        while let Some(d) = dirs.pop() {
            for entry in std::fs::read_dir(d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "sql") {
                    files.push(path);
                }
            }
        }
        let mut cache = SchemaCache::new();
        let mut seen = 0;
        let mut shared = 0;
        for file in files {
            let dump = std::fs::read(&file).unwrap();
            let mut reader = crate::DumpReader::new(&dump[..]);
            let mut statements = Vec::new();
            loop {
                let delimiter = reader.lexer().delimiter().to_vec();
                let Ok(Some(item)) = reader.next_token() else {
                    break;
                };
                if let crate::Token::CreateTable { name } = item.token {
                    statements.push((item.bytes.to_vec(), name, delimiter));
                }
            }
            for (bytes, name, delimiter) in statements {
                let variants = [
                    (bytes.clone(), name),
                    renamed(&bytes, name, b"wp_7_x"),
                    renamed(&bytes, name, b"other$name_2"),
                    (renumbered(&bytes), name),
                ];
                for (v, span) in variants {
                    let want = parse_create_table(&v, &delimiter).map_err(|e| e.to_string());
                    let got = cache.parse(&v, span, &delimiter).map_err(|e| e.to_string());
                    assert_eq!(
                        got,
                        want,
                        "{}: {}",
                        file.display(),
                        String::from_utf8_lossy(&v)
                    );
                    seen += 1;
                }
            }
            shared = cache.read.len();
        }
        assert!(seen > 100, "only {seen} statements");
        // Renamed and renumbered, most statements are read once.
        assert!(
            shared * 2 < seen,
            "{shared} texts kept for {seen} statements"
        );
    }

    /// Tables read from one text share their column list: thousands of tables alike cost
    /// one list, not one each.
    #[test]
    fn tables_alike_share_their_columns() {
        let mut cache = SchemaCache::new();
        let span = Span { start: 14, end: 31 };
        assert_eq!(&ELGG_USERS[14..31], b"elgg_users_entity");
        let first = cache.parse(ELGG_USERS, span, b";").unwrap();
        let (other, other_span) = renamed(ELGG_USERS, span, b"wp_7_x");
        let second = cache.parse(&other, other_span, b";").unwrap();
        assert_eq!(second.name, "wp_7_x");
        assert!(Arc::ptr_eq(&first.columns, &second.columns));
        assert_eq!(
            first.columns,
            parse_create_table(ELGG_USERS, b";").unwrap().columns
        );
    }

    /// `bytes` with the name at `name` replaced by `to`, and the new name's span.
    fn renamed(bytes: &[u8], name: Span, to: &[u8]) -> (Vec<u8>, Span) {
        let mut v = bytes[..name.start as usize].to_vec();
        v.extend_from_slice(to);
        v.extend_from_slice(&bytes[name.end as usize..]);
        let span = Span {
            start: name.start,
            end: name.start + to.len() as u32,
        };
        (v, span)
    }

    /// `bytes` with another `AUTO_INCREMENT` (or one added to its last line).
    fn renumbered(bytes: &[u8]) -> Vec<u8> {
        let text = String::from_utf8_lossy(bytes).into_owned();
        match text.find(" AUTO_INCREMENT=") {
            Some(at) => {
                let digits = text[at + 16..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .count();
                format!(
                    "{} AUTO_INCREMENT=98765{}",
                    &text[..at],
                    &text[at + 16 + digits..]
                )
                .into_bytes()
            }
            None => text
                .replacen(") ENGINE=", ") ENGINE=InnoDB AUTO_INCREMENT=3 X=", 1)
                .into_bytes(),
        }
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(parse_create_table(b"CREATE TABLE (;", b";").is_err());
    }
}
