//! PHP session data (`name|<serialized>…`, the default `php` session handler): rewritten part
//! by part with correct lengths, checked against real PHP's `session_encode()` and
//! `session_decode()`.

use proptest::prelude::*;
use understudy_phpser::{replace_in_value, Mode, Options, Outcome, Replacer, Scratch};
use understudy_testkit::php::Php;

use crate::util::{b, show};

fn rewrite(value: &[u8], from: &str, to: &str) -> (Outcome, Vec<u8>, bool) {
    let r = Replacer::new([(from, to)]).unwrap();
    let mut out = Vec::new();
    let report = replace_in_value(
        value,
        &r,
        &mut Scratch::new(),
        &mut out,
        Options::new(Mode::Auto),
    )
    .unwrap();
    (report.outcome, out, report.session)
}

#[test]
fn session_parts_are_rewritten_with_their_lengths() {
    let v = br#"_sf2_attributes|a:1:{s:17:"last_forward_from";s:32:"https://mitglieder.example.org/x";}_sf2_meta|a:1:{s:1:"u";i:1;}msg|s:4:"|ok|";"#;
    let (outcome, out, session) = rewrite(
        v,
        "https://mitglieder.example.org",
        "https://int.example.org",
    );
    assert_eq!(outcome, Outcome::Rewritten);
    assert!(session);
    assert_eq!(
        std::str::from_utf8(&out).unwrap(),
        r#"_sf2_attributes|a:1:{s:17:"last_forward_from";s:25:"https://int.example.org/x";}_sf2_meta|a:1:{s:1:"u";i:1;}msg|s:4:"|ok|";"#
    );
}

#[test]
fn a_broken_session_gets_plain_replacement_and_a_warning() {
    let v = br#"a|s:3:"https://x.org";b|i:1;"#;
    let r = Replacer::new([("https://x.org", "https://y.org")]).unwrap();
    let mut out = Vec::new();
    let report = replace_in_value(
        v,
        &r,
        &mut Scratch::new(),
        &mut out,
        Options::new(Mode::Auto),
    )
    .unwrap();
    assert_eq!(report.outcome, Outcome::Rewritten);
    assert!(!report.session);
    assert_eq!(out, br#"a|s:3:"https://y.org";b|i:1;"#.to_vec());
    let warning = report.warning.expect("a warning for a broken session");
    assert_eq!(warning.offset(), 2 + 8, "{warning}");
    // A `!` after the first name does not hide that it starts like a session.
    let mut v2 = v.to_vec();
    v2.extend_from_slice(b"c!|i:1;");
    let report = replace_in_value(
        &v2,
        &r,
        &mut Scratch::new(),
        &mut out,
        Options::new(Mode::Auto),
    )
    .unwrap();
    assert_eq!(report.outcome, Outcome::Rewritten);
    assert_eq!(report.warning.map(|w| w.offset()), Some(2 + 8));
    // Strict: an error instead.
    assert!(replace_in_value(
        v,
        &r,
        &mut Scratch::new(),
        &mut out,
        Options::new(Mode::Auto).strict(true)
    )
    .is_err());
    // Without the needle: untouched, no warning.
    let report = replace_in_value(
        br#"a|s:3:"abcdef";"#,
        &r,
        &mut Scratch::new(),
        &mut out,
        Options::new(Mode::Auto),
    )
    .unwrap();
    assert_eq!(report.outcome, Outcome::Unchanged);
    assert!(report.warning.is_none());
}

#[test]
fn text_with_bars_is_plain_text() {
    for v in [
        &b"see https://x.org | or not"[..],
        b"a|not serialized https://x.org",
        b"|s:1:\"https://x.org\";",
        // PHP refuses `!` in a name: no session starts here, however it goes on.
        b"<!-- wp:paragraph --> x|s:13:\"https://x.org\";",
        b"a!b|s:3:\"https://x.org\";",
    ] {
        let (outcome, out, session) = rewrite(v, "https://x.org", "https://y.org");
        assert_eq!(outcome, Outcome::Rewritten);
        assert!(!session);
        assert_eq!(
            out,
            String::from_utf8_lossy(v)
                .replace("https://x.org", "https://y.org")
                .as_bytes()
        );
    }
    // A value without the needle is left alone whatever it looks like.
    assert_eq!(
        rewrite(b"a|s:1:\"x\";", "https://x.org", "y").0,
        Outcome::Unchanged
    );
}

#[test]
fn binary_session_parts_are_rewritten_with_their_lengths() {
    // `php_binary`: length byte, name, serialized value; a 127-byte name; an undefined
    // variable (0x80 | length, no value) as PHP 5 wrote them.
    let long = "n".repeat(127);
    let v = b(&format!(
        r#"\x03urls:25:"https://old.example.org/x";\x7f{long}a:1:{{i:0;s:23:"https://old.example.org";}}\x84gone\x01ni:1;"#
    ));
    let (outcome, out, session) = rewrite(&v, "https://old.example.org", "https://new.example");
    assert_eq!(outcome, Outcome::Rewritten);
    assert!(session);
    let want = b(&format!(
        r#"\x03urls:21:"https://new.example/x";\x7f{long}a:1:{{i:0;s:19:"https://new.example";}}\x84gone\x01ni:1;"#
    ));
    assert_eq!(show(&out), show(&want));
}

#[test]
fn text_that_only_starts_like_a_binary_session_is_plain_text() {
    for v in [
        // A length byte and a name, but no complete value after it.
        &b"\x03urls:9:\"https://old.example.org\";"[..],
        b"\x03url https://old.example.org",
        // A name longer than the value.
        b"\x7fhttps://old.example.org",
        // A complete part, then text.
        b"\x01ai:1;https://old.example.org",
    ] {
        let (outcome, out, session) = rewrite(v, "https://old.example.org", "https://new.example");
        assert_eq!(outcome, Outcome::Rewritten);
        assert!(!session);
        assert!(!out.is_empty());
    }
}

/// PHP builds sessions from random data, we rewrite them, PHP decodes ours and compares with
/// decoding the original and replacing in every string.
const SCRIPT: &str = r#"
ini_set('session.save_path', sys_get_temp_dir());
ini_set('session.use_cookies', '0');
ini_set('session.use_strict_mode', '0');
session_start();
function replace_all($v, $from, $to) {
    if (is_string($v)) {
        $u = @unserialize($v);
        if ($u !== false || $v === 'b:0;') { return serialize(replace_all($u, $from, $to)); }
        return str_replace($from, $to, $v);
    }
    if (is_array($v)) {
        $out = [];
        foreach ($v as $k => $x) { $out[is_string($k) ? str_replace($from, $to, $k) : $k] = replace_all($x, $from, $to); }
        return $out;
    }
    return $v;
}
function handle(array $f): array {
    [$op, $a, $b, $c] = $f;
    if ($op === 'encode') {
        $_SESSION = json_decode($a, true);
        foreach ($_SESSION as $k => $v) { if (is_string($v) && str_starts_with($v, 'SER:')) { $_SESSION[$k] = serialize(substr($v, 4)); } }
        return [session_encode()];
    }
    // check: $a original, $b ours, $c = from \0 to
    [$from, $to] = explode("\0", $c);
    $_SESSION = [];
    if (!session_decode($a)) { return ['original does not decode']; }
    $want = replace_all($_SESSION, $from, $to);
    $_SESSION = [];
    if (!session_decode($b)) { session_start(); return ['ours does not decode']; }
    return [serialize($_SESSION) === serialize($want) ? 'ok' : 'differs: ' . serialize($_SESSION) . ' vs ' . serialize($want)];
}
"#;

fn session_value() -> impl Strategy<Value = serde_like::Value> {
    serde_like::value()
}

/// Tiny JSON-ish values: what `json_decode(…, true)` can give PHP.
mod serde_like {
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    pub enum Value {
        Str(String),
        Int(i64),
        List(Vec<Value>),
        Map(Vec<(String, Value)>),
    }

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z ]{0,8}",
            "(https://old\\.example\\.org|x|/srv/old/)[a-zé/ü|;:\"]{0,12}",
            "SER:(https://old\\.example\\.org/)?[a-z]{0,6}",
        ]
    }

    pub fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            text().prop_map(Value::Str),
            any::<i32>().prop_map(|n| Value::Int(n.into()))
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::List),
                prop::collection::vec(("(k|https://old\\.example\\.org)[a-z]{0,3}", inner), 0..4)
                    .prop_map(Value::Map),
            ]
        })
    }

    pub fn json(v: &Value) -> String {
        match v {
            Value::Str(s) => format!("{:?}", s).replace("\\u{", "\\u{"),
            Value::Int(n) => n.to_string(),
            Value::List(items) => {
                format!("[{}]", items.iter().map(json).collect::<Vec<_>>().join(","))
            }
            Value::Map(kv) => format!(
                "{{{}}}",
                kv.iter()
                    .map(|(k, v)| format!("{:?}:{}", k, json(v)))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        }
    }
}

/// Builds the sessions with `handler` (`php` or `php_binary`), rewrites them, and has PHP
/// decode ours and compare.
fn check_sessions(
    handler: &str,
    sessions: &[Vec<(String, serde_like::Value)>],
) -> Result<(), TestCaseError> {
    let php = Php::require();
    // The handler must be set before `session_start()`.
    let script = format!("ini_set('session.serialize_handler', '{handler}');\n{SCRIPT}");
    let encode: Vec<Vec<Vec<u8>>> = sessions
        .iter()
        .map(|vars| {
            let json = format!(
                "{{{}}}",
                vars.iter()
                    .map(|(k, v)| format!("{:?}:{}", k, serde_like::json(v)))
                    .collect::<Vec<_>>()
                    .join(",")
            );
            vec![
                b"encode".to_vec(),
                json.into_bytes(),
                Vec::new(),
                Vec::new(),
            ]
        })
        .collect();
    let encoded = php.run_batch(&script, &encode).unwrap();
    let mut checks = Vec::new();
    for e in &encoded {
        let original = &e[0];
        let (outcome, ours, session) =
            rewrite(original, "https://old.example.org", "https://new.example");
        if outcome == Outcome::Rewritten {
            prop_assert!(session, "not seen as a session: {}", show(original));
        }
        let ours = if ours.is_empty() {
            original.clone()
        } else {
            ours
        };
        checks.push(vec![
            b"check".to_vec(),
            original.clone(),
            ours,
            b"https://old.example.org\0https://new.example".to_vec(),
        ]);
    }
    for (answer, check) in php.run_batch(&script, &checks).unwrap().iter().zip(&checks) {
        prop_assert_eq!(
            String::from_utf8_lossy(&answer[0]).into_owned(),
            "ok".to_string(),
            "original {}",
            show(&check[1])
        );
    }
    Ok(())
}

/// Variable names: short ones, and ones near `php_binary`'s limit of 127 bytes (longer ones
/// it leaves out of the session).
const NAME: &str = "[a-z_][a-z0-9_]{0,8}|[a-z]{120,130}";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4))]
    #[test]
    fn php_decodes_our_sessions_like_its_own_replacement(
        sessions in prop::collection::vec(prop::collection::vec((NAME, session_value()), 1..5), 50..100)
    ) {
        check_sessions("php", &sessions)?;
    }

    #[test]
    fn php_decodes_our_binary_sessions_like_its_own_replacement(
        sessions in prop::collection::vec(prop::collection::vec((NAME, session_value()), 1..5), 50..100)
    ) {
        check_sessions("php_binary", &sessions)?;
    }
}
