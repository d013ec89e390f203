//! Which columns of a dump no rule masks, keeps or drops: the question `rules check --dump`
//! asks, and a clone's doctor asks of the source before anything is copied.

use std::io::BufRead;

use understudy_rules::CompiledRules;
use understudy_sqldump::schema::parse_create_table;
use understudy_sqldump::{DumpReader, Token};

use crate::error::{Detail, Error};

/// The tables a dump creates, and the columns among them that its rules leave uncovered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    /// How many `CREATE TABLE` statements the dump holds.
    pub tables: usize,
    /// `table.column` for each column no rule masks, keeps or drops, in dump order.
    pub uncovered: Vec<String>,
}

/// Reads the dump's `CREATE TABLE` statements and checks each column against `rules`.
///
/// # Errors
/// When the dump cannot be read or a `CREATE TABLE` does not parse.
pub fn coverage<R: BufRead>(rules: &CompiledRules, input: R) -> Result<Coverage, Error> {
    let mut reader = DumpReader::new(input);
    let mut found = Coverage::default();
    loop {
        let delimiter_len = reader.lexer().delimiter().len();
        let Some(item) = reader.next_token()? else {
            break;
        };
        if let Token::CreateTable { .. } = item.token {
            let delimiter = &item.bytes[item.bytes.len().saturating_sub(delimiter_len)..];
            let schema = parse_create_table(item.bytes, delimiter).map_err(|e| {
                Error::from(Detail::Format {
                    pos: item.pos,
                    table: None,
                    message: e.to_string(),
                })
            })?;
            found.tables += 1;
            let columns = schema.columns.iter().map(|c| c.name.as_str());
            for column in rules.uncovered(&schema.name, columns) {
                found.uncovered.push(format!("{}.{column}", schema.name));
            }
        }
    }
    Ok(found)
}
