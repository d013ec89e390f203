//! The SQL side: mariadb-dump's framing around each table, `INSERT`s cut at
//! `net_buffer_length` (or one row each, as `--skip-extended-insert` writes them), binary
//! values as `--hex-blob` writes them, and mysqldump's escaping of string values.

use std::fmt::Display;
use std::io::{self, Write};

use crate::Stats;

/// mariadb-dump's default `net_buffer_length` (1 MiB - 2 KiB, as `mariadb-dump --help
/// --verbose` of 10.11 shows): an extended `INSERT` is ended before a row that would take it
/// to this length.
pub const NET_BUFFER_LENGTH: usize = 1024 * 1024 - 2048;

const HEADER_TOP: &str = "/*M!999999\\- enable the sandbox mode */ \n\
-- MariaDB dump 10.19  Distrib 10.11.19-MariaDB, for debian-linux-gnu (x86_64)
--
-- Host: localhost    Database: ";

const HEADER_REST: &str = "
-- ------------------------------------------------------
-- Server version\t10.11.19-MariaDB-0+deb12u1

/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
/*!40101 SET @OLD_CHARACTER_SET_RESULTS=@@CHARACTER_SET_RESULTS */;
/*!40101 SET @OLD_COLLATION_CONNECTION=@@COLLATION_CONNECTION */;
/*!40101 SET NAMES utf8mb4 */;
/*!40103 SET @OLD_TIME_ZONE=@@TIME_ZONE */;
/*!40103 SET TIME_ZONE='+00:00' */;
/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;
/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;
/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;
/*!40111 SET @OLD_SQL_NOTES=@@SQL_NOTES, SQL_NOTES=0 */;
";

const FOOTER: &str = "/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;

/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;
/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;
/*!40014 SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS */;
/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;
/*!40101 SET CHARACTER_SET_RESULTS=@OLD_CHARACTER_SET_RESULTS */;
/*!40101 SET COLLATION_CONNECTION=@OLD_COLLATION_CONNECTION */;
/*!40111 SET SQL_NOTES=@OLD_SQL_NOTES */;

-- Dump completed on 2025-01-15 12:00:00
";

/// What `CREATE TABLE` ends with for the tables of WordPress 6 (utf8mb4, its collation).
pub const WP_TABLE_OPTIONS: &str =
    "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci";

/// What `CREATE TABLE` ends with for the tables of Elgg 3+ and Drupal 8+.
pub const GENERAL_TABLE_OPTIONS: &str =
    "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci";

/// One row under construction: `(v1,v2,…)`, values escaped as they are added.
#[derive(Default)]
pub struct Row {
    buf: Vec<u8>,
    values: u64,
    /// Binary values as `0x…` (`--hex-blob`).
    hex_blob: bool,
}

impl Row {
    fn begin(&mut self) {
        self.buf.clear();
        self.buf.push(b'(');
        self.values = 0;
    }

    fn sep(&mut self) {
        if self.values > 0 {
            self.buf.push(b',');
        }
        self.values += 1;
    }

    /// A number (or anything that prints as an unquoted literal).
    pub fn num(&mut self, n: impl Display) -> &mut Row {
        self.sep();
        let _ = write!(self.buf, "{n}");
        self
    }

    /// A quoted string, escaped as mysqldump escapes it.
    pub fn str(&mut self, s: &str) -> &mut Row {
        self.sep();
        self.buf.push(b'\'');
        escape_into(s.as_bytes(), &mut self.buf);
        self.buf.push(b'\'');
        self
    }

    /// A value of a BLOB or BINARY column: with `--hex-blob`, `0x` and upper-case hex
    /// digits (an empty value stays `''`), as mariadb-dump writes it; otherwise a quoted,
    /// escaped string of the raw bytes.
    pub fn bin(&mut self, raw: &[u8]) -> &mut Row {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        self.sep();
        if self.hex_blob && !raw.is_empty() {
            self.buf.reserve(2 + 2 * raw.len());
            self.buf.extend_from_slice(b"0x");
            for &b in raw {
                self.buf.push(HEX[usize::from(b >> 4)]);
                self.buf.push(HEX[usize::from(b & 15)]);
            }
        } else {
            self.buf.push(b'\'');
            escape_into(raw, &mut self.buf);
            self.buf.push(b'\'');
        }
        self
    }

    pub fn null(&mut self) -> &mut Row {
        self.sep();
        self.buf.extend_from_slice(b"NULL");
        self
    }
}

/// Appends `raw` escaped as `mysql_real_escape_string()` (and so mysqldump) does: exactly
/// `\0 \n \r \\ \' \" \Z`, everything else as is. Written here rather than taken from
/// `understudy_sqldump::literal` so the generator does not test the lexer with its own code.
pub fn escape_into(raw: &[u8], out: &mut Vec<u8>) {
    let mut start = 0;
    for (i, &b) in raw.iter().enumerate() {
        let esc: &[u8] = match b {
            0 => b"\\0",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\\' => b"\\\\",
            b'\'' => b"\\'",
            b'"' => b"\\\"",
            0x1a => b"\\Z",
            _ => continue,
        };
        out.extend_from_slice(&raw[start..i]);
        out.extend_from_slice(esc);
        start = i + 1;
    }
    out.extend_from_slice(&raw[start..]);
}

/// Writes the dump and counts what it wrote. Each table's rows are bounded by a byte
/// budget (`until`, a position in the whole dump) and a row count, set when the table
/// begins; generators ask [`DumpWriter::more`] before each row.
pub struct DumpWriter<W> {
    out: W,
    pub stats: Stats,
    row: Row,
    /// Name of the open table.
    table: String,
    /// Whether an `INSERT` is open.
    open: bool,
    /// Length of the open `INSERT` so far, and its rows.
    statement: usize,
    statement_rows: u64,
    /// Rows per `INSERT` at most (1: `--skip-extended-insert`).
    rows_per_insert: u64,
    /// The open table's budget: bytes of the whole dump, and rows.
    until: u64,
    max_rows: u64,
    table_rows: u64,
}

impl<W: Write> DumpWriter<W> {
    pub fn new(out: W, hex_blob: bool) -> DumpWriter<W> {
        DumpWriter {
            out,
            stats: Stats::default(),
            row: Row {
                hex_blob,
                ..Row::default()
            },
            table: String::new(),
            open: false,
            statement: 0,
            statement_rows: 0,
            rows_per_insert: u64::MAX,
            until: 0,
            max_rows: 0,
            table_rows: 0,
        }
    }

    /// Whether the open table takes another row.
    pub fn more(&self) -> bool {
        self.stats.bytes < self.until && self.table_rows < self.max_rows
    }

    /// Rows of the open table so far.
    pub fn table_rows(&self) -> u64 {
        self.table_rows
    }

    fn raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.stats.bytes += bytes.len() as u64;
        Ok(())
    }

    /// The header, naming `database` as mariadb-dump does.
    pub fn header(&mut self, database: &str) -> io::Result<()> {
        self.raw(HEADER_TOP.as_bytes())?;
        self.raw(database.as_bytes())?;
        self.raw(HEADER_REST.as_bytes())
    }

    pub fn footer(&mut self) -> io::Result<()> {
        self.raw(FOOTER.as_bytes())?;
        self.out.flush()
    }

    /// Everything mariadb-dump writes before a table's rows. `columns_and_keys` is the body
    /// of `CREATE TABLE`, one definition per line, without the outer parentheses; `options`
    /// what follows its closing parenthesis.
    pub fn begin_table(
        &mut self,
        table: &str,
        columns_and_keys: &str,
        options: &str,
        budget: Budget,
    ) -> io::Result<()> {
        let text = format!(
            "
--
-- Table structure for table `{table}`
--

DROP TABLE IF EXISTS `{table}`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
/*!40101 SET character_set_client = utf8mb4 */;
CREATE TABLE `{table}` (
{columns_and_keys}
) {options};
/*!40101 SET character_set_client = @saved_cs_client */;

--
-- Dumping data for table `{table}`
--

LOCK TABLES `{table}` WRITE;
/*!40000 ALTER TABLE `{table}` DISABLE KEYS */;
"
        );
        self.raw(text.as_bytes())?;
        self.table.clear();
        self.table.push_str(table);
        self.until = budget.until;
        self.max_rows = budget.max_rows;
        self.rows_per_insert = budget.rows_per_insert.max(1);
        self.table_rows = 0;
        self.stats.tables += 1;
        Ok(())
    }

    /// Ends the open `INSERT` (if any) and writes what follows a table's rows.
    pub fn end_table(&mut self) -> io::Result<()> {
        self.end_insert()?;
        let text = format!(
            "/*!40000 ALTER TABLE `{}` ENABLE KEYS */;\nUNLOCK TABLES;\n",
            self.table
        );
        self.raw(text.as_bytes())
    }

    fn end_insert(&mut self) -> io::Result<()> {
        if std::mem::take(&mut self.open) {
            self.raw(b";\n")?;
        }
        Ok(())
    }

    /// A fresh row to fill; hand it back with [`DumpWriter::push_row`].
    pub fn row(&mut self) -> &mut Row {
        self.row.begin();
        &mut self.row
    }

    /// Appends the row built since [`DumpWriter::row`] to the open `INSERT` of the table,
    /// or starts a new one when the row would take the statement past
    /// [`NET_BUFFER_LENGTH`] or the table's rows per `INSERT`, as mariadb-dump does:
    /// ``INSERT INTO `t` VALUES\n(…),\n(…);``, or ``INSERT INTO `t` VALUES (…);`` a line
    /// each with one row per statement (`--skip-extended-insert`).
    pub fn push_row(&mut self) -> io::Result<()> {
        self.row.buf.push(b')');
        let row_len = self.row.buf.len() + 2;
        if self.rows_per_insert == 1 {
            let head = format!("INSERT INTO `{}` VALUES ", self.table);
            self.raw(head.as_bytes())?;
            self.write_row()?;
            self.stats.inserts += 1;
            return self.raw(b";\n");
        }
        if self.open
            && self.statement + row_len < NET_BUFFER_LENGTH
            && self.statement_rows < self.rows_per_insert
        {
            self.raw(b",\n")?;
            self.statement += row_len;
            self.statement_rows += 1;
        } else {
            self.end_insert()?;
            let head = format!("INSERT INTO `{}` VALUES\n", self.table);
            self.raw(head.as_bytes())?;
            // mysqldump.c counts the head plus 4 (`init_length`) and each row plus 2.
            self.statement = head.len() + 4 + row_len;
            self.statement_rows = 1;
            self.open = true;
            self.stats.inserts += 1;
        }
        self.write_row()
    }

    fn write_row(&mut self) -> io::Result<()> {
        let row = std::mem::take(&mut self.row.buf);
        let result = self.raw(&row);
        self.row.buf = row;
        result?;
        self.stats.rows += 1;
        self.stats.values += self.row.values;
        self.table_rows += 1;
        Ok(())
    }
}

/// How much of the dump a table may take: rows are added while the dump is shorter than
/// `until` bytes and the table has fewer than `max_rows`.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    pub until: u64,
    pub max_rows: u64,
    pub rows_per_insert: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_exactly_mysqldumps_set() {
        let mut out = Vec::new();
        escape_into(b"a\0b\nc\rd\\e'f\"g\x1ah\tb\x08", &mut out);
        assert_eq!(out, b"a\\0b\\nc\\rd\\\\e\\'f\\\"g\\Zh\tb\x08");
    }

    #[test]
    fn binary_values_as_hex_blob_writes_them() {
        let mut row = Row {
            hex_blob: true,
            ..Row::default()
        };
        row.begin();
        row.bin(b"\x00\xff'a").bin(b"").num(1);
        assert_eq!(row.buf, b"(0x00FF2761,'',1");
        row.hex_blob = false;
        row.begin();
        row.bin(b"\x00\xff'a");
        assert_eq!(row.buf, b"('\\0\xff\\'a'");
    }
}
