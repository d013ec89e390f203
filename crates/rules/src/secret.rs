//! The masking secret from a file: the way to hand it over that no other user can read
//! (argv is public in `/proc/PID/cmdline`; the environment of a process is readable by its
//! owner only, but is inherited by every child it starts).

use std::io::Read;
use std::path::Path;

use crate::{ErrorKind, RulesError};

/// The first line of `path`, from a file no one but its owner can read or write (mode
/// `0600` or stricter); an empty first line is refused.
///
/// # Errors
/// [`ErrorKind::Io`] when the file cannot be read, [`ErrorKind::ExposedSecret`] when group
/// or others may read or write it, [`ErrorKind::MissingSecret`] when it is empty. No message
/// shows any of the file's bytes.
pub fn read_secret_file(path: &Path) -> Result<String, RulesError> {
    let origin = path.display().to_string();
    let io = |what: &str, e: std::io::Error| {
        RulesError::new(
            &origin,
            None,
            "",
            ErrorKind::Io,
            format!("cannot {what} the secret file: {e}"),
        )
    };
    let file = std::fs::File::open(path).map_err(|e| io("open", e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file
            .metadata()
            .map_err(|e| io("read", e))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(RulesError::new(
                &origin,
                None,
                "",
                ErrorKind::ExposedSecret,
                format!(
                    "the secret file may be read or written by others (mode {:04o}): chmod 600 it",
                    mode & 0o7777
                ),
            ));
        }
    }
    let mut text = String::new();
    std::io::BufReader::new(file)
        .read_to_string(&mut text)
        .map_err(|e| io("read (as UTF-8 text)", e))?;
    let secret = text.lines().next().unwrap_or("").trim_end_matches('\r');
    if secret.is_empty() {
        return Err(RulesError::new(
            &origin,
            None,
            "",
            ErrorKind::MissingSecret,
            "the secret file is empty",
        ));
    }
    Ok(secret.to_owned())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn file(text: &str, mode: u32) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), text).unwrap();
        std::fs::set_permissions(f.path(), std::fs::Permissions::from_mode(mode)).unwrap();
        f
    }

    #[test]
    fn reads_the_first_line_of_a_private_file() {
        let f = file("sixteen-byte-secret!\r\nsecond line\n", 0o600);
        assert_eq!(read_secret_file(f.path()).unwrap(), "sixteen-byte-secret!");
    }

    #[test]
    fn refuses_a_file_others_may_read_without_showing_it() {
        let f = file("sixteen-byte-secret!\n", 0o640);
        let e = read_secret_file(f.path()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ExposedSecret);
        assert!(e.to_string().contains("0640"), "{e}");
        assert!(!e.to_string().contains("sixteen"), "{e}");
    }

    #[test]
    fn refuses_an_empty_file_and_a_missing_one() {
        let f = file("\nsecond\n", 0o600);
        assert_eq!(
            read_secret_file(f.path()).unwrap_err().kind(),
            ErrorKind::MissingSecret
        );
        let gone = f.path().with_extension("gone");
        assert_eq!(read_secret_file(&gone).unwrap_err().kind(), ErrorKind::Io);
    }
}
