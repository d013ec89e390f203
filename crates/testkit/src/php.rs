//! The `php-cli` oracle: real PHP, one process per batch of cases.
//!
//! Tests of serialized PHP data must agree with what `unserialize()` really does, and starting
//! PHP once per case would cost about 20 ms each. [`Php::run_batch`] therefore runs one `php`
//! process over a whole batch: the caller supplies a script that defines
//! `function handle(array $fields): array`, the harness writes every case (a list of byte
//! strings) to a file, PHP calls `handle` once per case, and the answers (lists of byte
//! strings) come back in order. Bytes are passed length-prefixed, so NULs, quotes, newlines
//! and invalid UTF-8 survive both ways.
//!
//! ```no_run
//! use understudy_testkit::php::Php;
//! let php = Php::require();
//! let script = r#"function handle(array $f): array { return [serialize($f[0])]; }"#;
//! let out = php.run_batch(script, &[vec![b"a\0b".to_vec()]]).unwrap();
//! assert_eq!(out, vec![vec![b"s:3:\"a\0b\";".to_vec()]]);
//! ```
//!
//! PHP runs with `-n` (no `php.ini`), `error_reporting=E_ALL & ~E_DEPRECATED` and
//! `display_errors=stderr`, so warnings never mix with the answers on stdout; a fatal error
//! or a non-zero exit is a [`PhpError::Failed`] carrying PHP's stderr.

use std::fmt;
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Environment variable naming the `php` binary to use instead of the one on `PATH`.
pub const PHP_ENV: &str = "UNDERSTUDY_PHP";

const INSTALL_HINT: &str = "the PHP oracle tests need php-cli 8.1 or later \
     (Debian: apt-get install php-cli), or set UNDERSTUDY_PHP to a php binary";

/// Read and write the case records; calls the user's `handle` once per record.
const DRIVER: &str = r#"
function __understudy_read_exact($in, int $len): string {
    $buf = '';
    while (strlen($buf) < $len) {
        $chunk = fread($in, $len - strlen($buf));
        if ($chunk === false || $chunk === '') {
            fwrite(STDERR, "understudy php harness: short read\n");
            exit(3);
        }
        $buf .= $chunk;
    }
    return $buf;
}
$__understudy_in = fopen($argv[1], 'rb');
$__understudy_out = fopen('php://stdout', 'wb');
while (($__understudy_line = fgets($__understudy_in)) !== false) {
    $__understudy_fields = [];
    for ($__understudy_i = (int) $__understudy_line; $__understudy_i > 0; $__understudy_i--) {
        $__understudy_len = (int) fgets($__understudy_in);
        $__understudy_fields[] = $__understudy_len > 0
            ? __understudy_read_exact($__understudy_in, $__understudy_len) : '';
    }
    $__understudy_answer = handle($__understudy_fields);
    fwrite($__understudy_out, count($__understudy_answer) . "\n");
    foreach ($__understudy_answer as $__understudy_field) {
        $__understudy_field = (string) $__understudy_field;
        fwrite($__understudy_out, strlen($__understudy_field) . "\n" . $__understudy_field);
    }
}
fclose($__understudy_out);
"#;

/// Errors from the PHP harness.
#[derive(Debug)]
pub enum PhpError {
    /// No usable `php` binary.
    NotFound {
        /// What was tried.
        looked: String,
    },
    /// Writing the batch, starting PHP or reading its answers failed.
    Io {
        /// What the harness was doing.
        what: &'static str,
        /// The underlying error.
        source: io::Error,
    },
    /// PHP exited with an error (a fatal error, an exception, a syntax error in the script).
    Failed {
        /// The exit status, as shown by the OS.
        status: String,
        /// PHP's stderr.
        stderr: String,
    },
    /// PHP's output did not follow the record format (the script printed something?).
    Protocol(String),
}

impl fmt::Display for PhpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PhpError::NotFound { looked } => {
                write!(f, "php not found (looked for {looked}): {INSTALL_HINT}")
            }
            PhpError::Io { what, source } => write!(f, "php harness: {what}: {source}"),
            PhpError::Failed { status, stderr } => {
                write!(f, "php failed ({status}); its stderr:\n{stderr}")
            }
            PhpError::Protocol(why) => write!(f, "php harness: bad answer from php: {why}"),
        }
    }
}

impl std::error::Error for PhpError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PhpError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

fn io_err(what: &'static str) -> impl FnOnce(io::Error) -> PhpError {
    move |source| PhpError::Io { what, source }
}

/// A `php` command-line binary.
#[derive(Clone, Debug)]
pub struct Php {
    program: PathBuf,
}

impl Php {
    /// Finds `php`: `$UNDERSTUDY_PHP` if set, else `php` on `PATH`; checks that it runs.
    ///
    /// # Errors
    ///
    /// [`PhpError::NotFound`] if there is none or it does not run.
    pub fn find() -> Result<Php, PhpError> {
        let program = std::env::var_os(PHP_ENV)
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("php"));
        let php = Php { program };
        match php.version() {
            Ok(_) => Ok(php),
            Err(_) => Err(PhpError::NotFound {
                looked: format!("`{}` (${PHP_ENV} or PATH)", php.program.display()),
            }),
        }
    }

    /// [`Php::find`], or a panic that says how to install PHP. For tests, which must fail
    /// (not skip) without PHP.
    ///
    /// # Panics
    ///
    /// If no `php` is found.
    pub fn require() -> Php {
        match Php::find() {
            Ok(php) => php,
            Err(e) => panic!("{e}"),
        }
    }

    /// The binary.
    pub fn program(&self) -> &Path {
        &self.program
    }

    /// `PHP_VERSION`, e.g. `8.2.29`.
    ///
    /// # Errors
    ///
    /// If PHP does not run.
    pub fn version(&self) -> Result<String, PhpError> {
        let out = self.eval("echo PHP_VERSION;")?;
        Ok(String::from_utf8_lossy(&out).trim().to_string())
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args([
            "-n",
            "-d",
            "error_reporting=E_ALL & ~E_DEPRECATED",
            "-d",
            "display_errors=stderr",
            "-d",
            "memory_limit=1G",
        ]);
        cmd
    }

    /// Runs `php -r code` and returns its stdout.
    ///
    /// # Errors
    ///
    /// If PHP cannot be started or exits non-zero.
    pub fn eval(&self, code: &str) -> Result<Vec<u8>, PhpError> {
        let out = self
            .command()
            .arg("-r")
            .arg(code)
            .stdin(Stdio::null())
            .output()
            .map_err(io_err("starting php"))?;
        if !out.status.success() {
            return Err(PhpError::Failed {
                status: out.status.to_string(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            });
        }
        Ok(out.stdout)
    }

    /// Runs `script` once over all `cases` in one PHP process.
    ///
    /// `script` is PHP code without the `<?php` tag; it may declare classes and functions
    /// and must define `function handle(array $fields): array`, which gets one case's byte
    /// strings and returns the answer's (values are cast to string). The answers come back
    /// in case order.
    ///
    /// # Errors
    ///
    /// If PHP cannot be started, exits non-zero (the error carries its stderr), or answers
    /// in the wrong shape.
    pub fn run_batch(
        &self,
        script: &str,
        cases: &[Vec<Vec<u8>>],
    ) -> Result<Vec<Vec<Vec<u8>>>, PhpError> {
        let dir = tempfile::tempdir().map_err(io_err("creating a temp dir"))?;
        let script_path = dir.path().join("oracle.php");
        let input_path = dir.path().join("cases.bin");
        let mut program = String::with_capacity(script.len() + DRIVER.len() + 16);
        program.push_str("<?php\n");
        program.push_str(script);
        program.push('\n');
        program.push_str(DRIVER);
        std::fs::write(&script_path, program).map_err(io_err("writing the script"))?;
        let mut input = Vec::new();
        for case in cases {
            write_record(&mut input, case);
        }
        std::fs::write(&input_path, input).map_err(io_err("writing the cases"))?;

        let out = self
            .command()
            .arg(&script_path)
            .arg(&input_path)
            .stdin(Stdio::null())
            .output()
            .map_err(io_err("running php"))?;
        if !out.status.success() {
            return Err(PhpError::Failed {
                status: out.status.to_string(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            });
        }
        let mut reader = BufReader::new(&out.stdout[..]);
        let mut answers = Vec::with_capacity(cases.len());
        while let Some(answer) = read_record(&mut reader)? {
            answers.push(answer);
        }
        if answers.len() != cases.len() {
            return Err(PhpError::Protocol(format!(
                "{} answers for {} cases; stderr:\n{}",
                answers.len(),
                cases.len(),
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        Ok(answers)
    }
}

fn write_record(out: &mut Vec<u8>, fields: &[Vec<u8>]) {
    // Infallible: writing to a Vec.
    let _ = writeln!(out, "{}", fields.len());
    for field in fields {
        let _ = writeln!(out, "{}", field.len());
        out.extend_from_slice(field);
    }
}

fn read_number(reader: &mut impl BufRead) -> Result<Option<usize>, PhpError> {
    let mut line = String::new();
    let n = reader
        .read_line(&mut line)
        .map_err(io_err("reading php's answers"))?;
    if n == 0 {
        return Ok(None);
    }
    line.trim_end()
        .parse()
        .map(Some)
        .map_err(|_| PhpError::Protocol(format!("expected a length, got {line:?}")))
}

fn read_record(reader: &mut impl BufRead) -> Result<Option<Vec<Vec<u8>>>, PhpError> {
    let Some(count) = read_number(reader)? else {
        return Ok(None);
    };
    let mut fields = Vec::with_capacity(count);
    for _ in 0..count {
        let len = read_number(reader)?
            .ok_or_else(|| PhpError::Protocol("answer ends early".to_string()))?;
        let mut field = vec![0; len];
        reader
            .read_exact(&mut field)
            .map_err(io_err("reading php's answers"))?;
        fields.push(field);
    }
    Ok(Some(fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_bytes_in_one_process() {
        let php = Php::require();
        let script = r#"function handle(array $f): array { return [count($f), strrev($f[0] ?? ''), getmypid()]; }"#;
        let cases: Vec<Vec<Vec<u8>>> = vec![
            vec![b"a\0b\n\xff\"".to_vec(), Vec::new()],
            vec![],
            vec![b"xyz".to_vec()],
        ];
        let out = php.run_batch(script, &cases).unwrap();
        assert_eq!(out.len(), 3);
        assert_eq!(out[0][0], b"2");
        assert_eq!(out[0][1], b"\"\xff\nb\0a");
        assert_eq!(out[1][0], b"0");
        assert_eq!(out[2][1], b"zyx");
        assert_eq!(out[0][2], out[2][2], "one process for the whole batch");
    }

    #[test]
    fn a_fatal_error_is_reported_with_stderr() {
        let php = Php::require();
        let err = php
            .run_batch(
                "function handle(array $f): array { throw new Exception('boom'); }",
                &[vec![]],
            )
            .unwrap_err();
        assert!(err.to_string().contains("boom"), "{err}");
    }
}
