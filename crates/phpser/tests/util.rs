//! Helpers shared by the test modules.

/// Test literals: `\0` is a NUL byte, `\xHH` a byte, `\\` a backslash; everything else is
/// taken as UTF-8. Lets tests write `s:9:"\0*\0action";` inside `r#"…"#`.
pub fn b(s: &str) -> Vec<u8> {
    let s = s.as_bytes();
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match (s[i], s.get(i + 1)) {
            (b'\\', Some(b'0')) => {
                out.push(0);
                i += 2;
            }
            (b'\\', Some(b'\\')) => {
                out.push(b'\\');
                i += 2;
            }
            (b'\\', Some(b'x')) => {
                let hex = std::str::from_utf8(&s[i + 2..i + 4]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 4;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// Shows bytes the way the test literals write them.
pub fn show(v: &[u8]) -> String {
    let mut s = String::new();
    for chunk in v.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\0' => s.push_str("\\0"),
                '\\' => s.push_str("\\\\"),
                c => s.push(c),
            }
        }
        for &byte in chunk.invalid() {
            s.push_str(&format!("\\x{byte:02x}"));
        }
    }
    s
}

/// Does `v` parse, completely, as one serialized value?
pub fn parses(v: &[u8]) -> bool {
    let mut p = understudy_phpser::Parser::new(v);
    loop {
        match p.next() {
            Ok(Some(_)) => {}
            Ok(None) => return true,
            Err(_) => return false,
        }
    }
}

/// Runs a PHP oracle script over generated values: each value (as JSON) is first built by
/// `script` (`make`, answering one byte string per form), each form is rewritten by
/// `ours`, and `script` then checks `[form, original, ours, needle, replacement, …]`,
/// answering `ok`. Every check must answer `ok`.
pub fn php_oracle(
    script: &str,
    values: Vec<Vec<u8>>,
    forms: &[&str],
    pairs: &[(&str, &str)],
    ours: impl Fn(&[u8]) -> Vec<u8>,
) -> Result<(), proptest::test_runner::TestCaseError> {
    let php = understudy_testkit::php::Php::require();
    let make: Vec<Vec<Vec<u8>>> = values
        .into_iter()
        .map(|v| vec![b"make".to_vec(), v])
        .collect();
    let made = php.run_batch(script, &make).unwrap();
    let mut checks = Vec::new();
    for built in &made {
        for (form, original) in forms.iter().zip(built) {
            let mut case = vec![form.as_bytes().to_vec(), original.clone(), ours(original)];
            for (n, r) in pairs {
                case.push(n.as_bytes().to_vec());
                case.push(r.as_bytes().to_vec());
            }
            checks.push(case);
        }
    }
    for (answer, case) in php.run_batch(script, &checks).unwrap().iter().zip(&checks) {
        proptest::prop_assert_eq!(
            String::from_utf8_lossy(&answer[0]).into_owned(),
            "ok".to_string(),
            "{} original {}\nours {}",
            show(&case[0]),
            show(&case[1]),
            show(&case[2])
        );
    }
    Ok(())
}
