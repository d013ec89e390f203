//! Property tests against real PHP.
//!
//! proptest generates PHP values (nested arrays, `stdClass` objects with dynamic properties,
//! objects with public, protected and private properties, serialized strings inside strings,
//! binary and multi-byte strings, ints, floats including INF and NAN, bools, null, references,
//! `Serializable` objects and enums) as PHP source. PHP serializes them; we rewrite the result
//! with random needle/replacement pairs (taken from the same fragments the strings are built
//! of, so they occur, in keys too); then PHP checks that `unserialize()` of our output equals
//! the original with `str_replace()` applied to every string and key, recursing into nested
//! serialized strings. Each proptest case is a batch of values, so PHP starts twice per batch.
//!
//! Without `php` these tests fail (they do not skip): CI installs php-cli.

use std::fmt::Write as _;

use proptest::prelude::*;
use understudy_phpser::{replace_in_value, Mode, Options, Outcome, Replacer, Scratch};
use understudy_testkit::php::Php;

use crate::util::{parses, show};

/// Classes, enums and helpers the generated PHP code uses.
const PRELUDE: &str = r#"
class A {
    public $pub;
    protected $prot;
    private $priv;
    function setA($pub, $prot, $priv) { $this->pub = $pub; $this->prot = $prot; $this->priv = $priv; }
}
class B extends A {
    private $priv;
    public $b2;
    function setB($priv, $b2) { $this->priv = $priv; $this->b2 = $b2; }
}
class Cus implements Serializable {
    public $d;
    function serialize() { return serialize($this->d); }
    function unserialize($s) { $this->d = unserialize($s); }
}
class Raw implements Serializable {
    public $raw;
    function serialize() { return $this->raw; }
    function unserialize($s) { $this->raw = $s; }
}
enum Suit: string { case Hearts = 'H'; case Spades = 'S'; }
enum Plain { case One; case Two; }
function mkA($pub, $prot, $priv) { $o = new A; $o->setA($pub, $prot, $priv); return $o; }
function mkB($pub, $prot, $apriv, $bpriv, $b2) { $o = new B; $o->setA($pub, $prot, $apriv); $o->setB($bpriv, $b2); return $o; }
function refpair($v) { $a = [$v]; $a[1] = &$a[0]; return $a; }
function objpair($o) { return [$o, $o]; }
function cus($d) { $o = new Cus; $o->d = $d; return $o; }
function raw($s) { $o = new Raw; $o->raw = $s; return $o; }
"#;

/// Phase 1: PHP source in, `serialize()` out.
const SERIALIZE: &str = r#"
function handle(array $f): array {
    $v = eval('return ' . $f[0] . ';');
    return [serialize($v)];
}
"#;

/// Phase 2: `[original, ours, needle1, replacement1, …]` in, `ok` or what differs out.
const CHECK: &str = r#"
class Diff extends Exception {}
function rep(string $s): string { return str_replace($GLOBALS['N'], $GLOBALS['R'], $s); }
function unser(string $s, string $what) {
    $v = @unserialize($s);
    if ($v === false && $s !== 'b:0;') throw new Diff("$what does not unserialize");
    return $v;
}
// A string PHP itself would have written for a value: the ones we must recurse into.
function is_ser(string $s): bool {
    if ($s === 'b:0;') return true;
    $v = @unserialize($s);
    return $v !== false && serialize($v) === $s;
}
function show($v): string { return var_export($v, true); }
function cmp($o, $a, string $path): void {
    if (is_string($o)) {
        if (!is_string($a)) throw new Diff("$path: want a string, got " . show($a));
        if (is_ser($o)) {
            cmp(unserialize($o), unser($a, "$path (nested)"), "$path<nested>");
            return;
        }
        $want = rep($o);
        if ($want !== $a) throw new Diff("$path: want " . show($want) . ", got " . show($a));
        return;
    }
    if (is_array($o)) {
        if (!is_array($a)) throw new Diff("$path: want an array, got " . show($a));
        cmp_entries($o, $a, true, $path);
        return;
    }
    if ($o instanceof UnitEnum) {
        if ($o !== $a) throw new Diff("$path: want " . show($o) . ", got " . show($a));
        return;
    }
    if (is_object($o)) {
        if (!is_object($a) || get_class($o) !== get_class($a)) {
            throw new Diff("$path: want a " . get_class($o) . ", got " . show($a));
        }
        // A Serializable's property names are not in the serialized data.
        cmp_entries((array) $o, (array) $a, !($o instanceof Serializable), "$path->");
        return;
    }
    if (serialize($o) !== serialize($a)) throw new Diff("$path: want " . show($o) . ", got " . show($a));
}
function cmp_entries(array $o, array $a, bool $keys, string $path): void {
    // What PHP gets when it reads the entries with replaced keys: a later duplicate
    // overwrites an earlier one in place, numeric strings become integer keys.
    $want = [];
    foreach ($o as $k => $v) {
        $want[is_string($k) && $keys ? rep($k) : $k] = $v;
    }
    if (array_keys($want) !== array_keys($a)) {
        throw new Diff("$path: want keys " . show(array_keys($want)) . ", got " . show(array_keys($a)));
    }
    foreach ($want as $k => $v) cmp($v, $a[$k], $path . '[' . show($k) . ']');
}
function handle(array $f): array {
    $GLOBALS['N'] = [];
    $GLOBALS['R'] = [];
    for ($i = 2; $i + 1 < count($f); $i += 2) {
        $GLOBALS['N'][] = $f[$i];
        $GLOBALS['R'][] = $f[$i + 1];
    }
    try {
        cmp(unser($f[0], 'the original'), unser($f[1], 'our output'), '$v');
    } catch (Diff $d) {
        return [$d->getMessage()];
    }
    return ['ok'];
}
"#;

/// Pieces strings and keys are made of, and needles are cut from: URLs, paths, multi-byte
/// UTF-8, NUL and invalid bytes, and bits of serialized syntax to trap a rewriter that
/// looks at bytes instead of structure.
const FRAGMENTS: &[&[u8]] = &[
    b"https://www.example.org",
    b"http://example.org/wp-content/uploads/",
    b"/srv/www/htdocs/",
    b"example",
    "Waldbühne".as_bytes(),
    "ü".as_bytes(),
    "€".as_bytes(),
    b"\0",
    b"\0\xff",
    b"\xfe\xff\x80",
    b"\"",
    b"\";",
    b";",
    b"}",
    b"{",
    b":",
    b"s:1:",
    b"a:1:{",
    b"i:0;",
    b"N;",
    b"\\",
    b" ",
    b"abc",
    b"\r\n",
    b"x",
];

/// What needles are replaced by.
const REPLACEMENTS: &[&[u8]] = &[
    b"",
    b"X",
    b"https://staging.example.net/a/much/longer/path",
    "ü".as_bytes(),
    b"\0",
    b"\";s:1:\"",
    b"}",
    "Ärger".as_bytes(),
    b"N;",
    b"a:1:{i:0;N;}",
    b"1",
];

/// Property names declared in the PHP classes (mangled as `serialize()` writes them). A
/// needle inside one would rename a declared property, which PHP then adds next to the
/// declared one (still null): not what `str_replace` on the array form predicts. Renaming
/// dynamic properties is covered by `stdClass` values.
const DECLARED: &[&[u8]] = &[b"pub", b"\0*\0prot", b"\0A\0priv", b"\0B\0priv", b"b2"];

#[derive(Clone, Debug)]
enum Float {
    Lit(f64),
    Inf,
    NegInf,
    Nan,
}

#[derive(Clone, Debug)]
enum Key {
    Int(i64),
    Str(Vec<u8>),
}

#[derive(Clone, Debug)]
enum V {
    Null,
    Bool(bool),
    Int(i64),
    Float(Float),
    Str(Vec<u8>),
    Arr(Vec<(Key, V)>),
    /// `stdClass` with dynamic (public) properties.
    Std(Vec<(Vec<u8>, V)>),
    /// `A`: public, protected, private.
    A(Box<[V; 3]>),
    /// `B extends A`: A's three, B's own private `priv`, public `b2`.
    B(Box<[V; 5]>),
    /// `serialize(v)`, as a string.
    Nested(Box<V>),
    /// `[$v, &$v]`: `R:`.
    RefPair(Box<V>),
    /// `[$o, $o]`: `r:`.
    ObjPair(Box<V>),
    /// `C:` with a serialized payload.
    Cus(Box<V>),
    /// `C:` with an opaque payload.
    Raw(Vec<u8>),
    Enum(u8),
}

fn php_bytes(out: &mut String, b: &[u8]) {
    out.push('"');
    for byte in b {
        let _ = write!(out, "\\x{byte:02x}");
    }
    out.push('"');
}

fn php_int(out: &mut String, n: i64) {
    if n == i64::MIN {
        out.push_str("PHP_INT_MIN");
    } else {
        let _ = write!(out, "{n}");
    }
}

fn php_code(out: &mut String, v: &V) {
    let list = |out: &mut String, name: &str, vs: &[V]| {
        out.push_str(name);
        out.push('(');
        for (i, v) in vs.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            php_code(out, v);
        }
        out.push(')');
    };
    match v {
        V::Null => out.push_str("null"),
        V::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        V::Int(n) => php_int(out, *n),
        V::Float(Float::Lit(f)) => {
            let _ = write!(out, "({f:e})");
        }
        V::Float(Float::Inf) => out.push_str("INF"),
        V::Float(Float::NegInf) => out.push_str("-INF"),
        V::Float(Float::Nan) => out.push_str("NAN"),
        V::Str(s) => php_bytes(out, s),
        V::Arr(entries) => {
            out.push('[');
            for (k, v) in entries {
                match k {
                    Key::Int(n) => php_int(out, *n),
                    Key::Str(s) => php_bytes(out, s),
                }
                out.push_str(" => ");
                php_code(out, v);
                out.push_str(", ");
            }
            out.push(']');
        }
        V::Std(props) => {
            out.push_str("(object)[");
            for (k, v) in props {
                php_bytes(out, k);
                out.push_str(" => ");
                php_code(out, v);
                out.push_str(", ");
            }
            out.push(']');
        }
        V::A(vs) => list(out, "mkA", &vs[..]),
        V::B(vs) => list(out, "mkB", &vs[..]),
        V::Nested(v) => list(out, "serialize", std::slice::from_ref(v)),
        V::RefPair(v) => list(out, "refpair", std::slice::from_ref(v)),
        V::ObjPair(v) => list(out, "objpair", std::slice::from_ref(v)),
        V::Cus(v) => list(out, "cus", std::slice::from_ref(v)),
        V::Raw(s) => {
            out.push_str("raw(");
            php_bytes(out, s);
            out.push(')');
        }
        V::Enum(n) => out.push_str(
            ["Suit::Hearts", "Suit::Spades", "Plain::One", "Plain::Two"][usize::from(*n % 4)],
        ),
    }
}

fn string() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => prop::collection::vec(prop::sample::select(FRAGMENTS), 0..5).prop_map(|fs| fs.concat()),
        1 => prop::collection::vec(any::<u8>(), 0..8),
    ]
}

fn float() -> impl Strategy<Value = Float> {
    prop_oneof![
        3 => prop::sample::select(&[0.1, 1.5, -0.0, 1e25, 1e-7, 123456789.125, f64::MAX, 5e-324][..]).prop_map(Float::Lit),
        3 => any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Float::Lit),
        1 => Just(Float::Inf),
        1 => Just(Float::NegInf),
        1 => Just(Float::Nan),
    ]
}

fn key() -> impl Strategy<Value = Key> {
    prop_oneof![
        1 => prop_oneof![-3i64..20, Just(i64::MIN), Just(i64::MAX)].prop_map(Key::Int),
        3 => string().prop_map(Key::Str),
    ]
}

fn value() -> impl Strategy<Value = V> {
    let leaf = prop_oneof![
        1 => Just(V::Null),
        1 => any::<bool>().prop_map(V::Bool),
        1 => prop_oneof![any::<i64>(), -5i64..5].prop_map(V::Int),
        1 => float().prop_map(V::Float),
        6 => string().prop_map(V::Str),
        1 => (0u8..4).prop_map(V::Enum),
        // Without `:` and `;` an opaque payload cannot parse as serialized data, which a
        // rewriter would rightly rewrite as such while PHP's `Raw` class sees bytes.
        1 => string().prop_map(|mut s| { s.retain(|&b| b != b':' && b != b';'); V::Raw(s) }),
    ];
    leaf.prop_recursive(4, 48, 5, |inner| {
        let object = prop_oneof![
            prop::collection::vec((string(), inner.clone()), 0..4).prop_map(V::Std),
            [inner.clone(), inner.clone(), inner.clone()].prop_map(|vs| V::A(Box::new(vs))),
            [
                inner.clone(),
                inner.clone(),
                inner.clone(),
                inner.clone(),
                inner.clone()
            ]
            .prop_map(|vs| V::B(Box::new(vs))),
        ];
        prop_oneof![
            4 => prop::collection::vec((key(), inner.clone()), 0..5).prop_map(V::Arr),
            3 => object.clone(),
            2 => inner.clone().prop_map(|v| V::Nested(Box::new(v))),
            1 => inner.clone().prop_map(|v| V::RefPair(Box::new(v))),
            1 => object.prop_map(|v| V::ObjPair(Box::new(v))),
            1 => inner.prop_map(|v| V::Cus(Box::new(v))),
        ]
    })
}

/// A needle: a piece of a fragment (or two fragments), never part of a declared property
/// name.
fn needle() -> impl Strategy<Value = Option<Vec<u8>>> {
    (
        prop::sample::select(FRAGMENTS),
        prop::option::weighted(0.2, prop::sample::select(FRAGMENTS)),
        any::<prop::sample::Index>(),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(a, b, i, j)| {
            let mut f = a.to_vec();
            f.extend_from_slice(b.unwrap_or_default());
            let start = i.index(f.len());
            let len = 1 + j.index(f.len() - start);
            let n = f[start..start + len].to_vec();
            let declared = DECLARED.iter().any(|d| d.windows(n.len()).any(|w| w == n));
            (!declared).then_some(n)
        })
}

fn replacement() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => prop::sample::select(REPLACEMENTS).prop_map(<[u8]>::to_vec),
        1 => prop::collection::vec(any::<u8>(), 0..6),
    ]
}

#[derive(Clone, Debug)]
struct Case {
    value: V,
    pairs: Vec<(Vec<u8>, Vec<u8>)>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        value(),
        prop::collection::vec((needle(), replacement()), 1..4),
    )
        .prop_map(|(value, pairs)| Case {
            value,
            pairs: pairs
                .into_iter()
                .filter_map(|(n, r)| n.map(|n| (n, r)))
                .collect(),
        })
}

/// Serializes every case's value in PHP, one process for the batch.
fn serialize_all(php: &Php, cases: &[Case]) -> Vec<Vec<u8>> {
    let inputs: Vec<Vec<Vec<u8>>> = cases
        .iter()
        .map(|c| {
            let mut code = String::new();
            php_code(&mut code, &c.value);
            vec![code.into_bytes()]
        })
        .collect();
    let script = format!("{PRELUDE}{SERIALIZE}");
    php.run_batch(&script, &inputs)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|mut answer| answer.swap_remove(0))
        .collect()
}

fn check_batch(cases: &[Case], mode: Mode) -> Result<(), TestCaseError> {
    let php = Php::require();
    let originals = serialize_all(&php, cases);
    let mut scratch = Scratch::new();
    let mut out = Vec::new();
    let mut checks = Vec::with_capacity(cases.len());
    for (case, orig) in cases.iter().zip(&originals) {
        prop_assert!(
            parses(orig),
            "PHP's own output does not parse: {}",
            show(orig)
        );
        let replacer = Replacer::new(case.pairs.iter().map(|(n, r)| (n, r))).unwrap();
        let report = replace_in_value(
            orig,
            &replacer,
            &mut scratch,
            &mut out,
            Options::new(mode).strict(true),
        )
        .map_err(|e| TestCaseError::fail(format!("{e} in {}", show(orig))))?;
        prop_assert!(
            !report.repaired,
            "repaired PHP's own output: {}",
            show(orig)
        );
        let ours = match report.outcome {
            Outcome::Unchanged => orig.clone(),
            Outcome::Rewritten => out.clone(),
        };
        let mut fields = vec![orig.clone(), ours];
        for (n, r) in &case.pairs {
            fields.push(n.clone());
            fields.push(r.clone());
        }
        checks.push(fields);
    }
    let script = format!("{PRELUDE}{CHECK}");
    let answers = php
        .run_batch(&script, &checks)
        .unwrap_or_else(|e| panic!("{e}"));
    for ((answer, fields), case) in answers.iter().zip(&checks).zip(cases) {
        if answer[0] != b"ok" {
            let mut code = String::new();
            php_code(&mut code, &case.value);
            let pairs: Vec<(String, String)> =
                case.pairs.iter().map(|(n, r)| (show(n), show(r))).collect();
            return Err(TestCaseError::fail(format!(
                "{}\n  value:    {code}\n  original: {}\n  pairs:    {pairs:?}\n  ours:     {}",
                String::from_utf8_lossy(&answer[0]),
                show(&fields[0]),
                show(&fields[1]),
            )));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20, max_shrink_iters: 200, ..ProptestConfig::default() })]

    /// 20 batches of 100 to 300 values (about 4,000 per run), two PHP processes per batch.
    #[test]
    fn unserialize_agrees_with_str_replace(cases in prop::collection::vec(case(), 100..300)) {
        check_batch(&cases, Mode::Auto)?;
    }

    /// Repair mode must not change what well-formed values become (about 1,000 values).
    #[test]
    fn repair_mode_agrees_on_valid_values(cases in prop::collection::vec(case(), 1..100)) {
        check_batch(&cases, Mode::Repair)?;
    }
}

/// The values of the reference document, checked in PHP.
#[test]
fn reference_values_unserialize_after_rewrite() {
    let values: &[&[u8]] = &[
        br#"a:2:{s:8:"Programm";s:33:"https://www.example.org/programm/";s:7:"Tickets";s:38:"https://mitglieder.example.org/tickets";}"#,
        br#"a:3:{i:0;s:4:"blog";i:1;s:6:"groups";i:2;s:7:"members";}"#,
        br#"s:31:"https://mitglieder.example.org/";"#,
        br#"s:15:"/srv/elgg/data/";"#,
        "s:10:\"Waldbühne\";".as_bytes(),
        br#"s:48:"https://mitglieder.example.org/file/download/123";"#,
        b"O:8:\"stdClass\":2:{s:9:\"\0*\0action\";s:38:\"https://mitglieder.example.org/tickets\";s:1:\"d\";d:1.5;}",
    ];
    let replacer = Replacer::new([
        ("https://mitglieder.example.org", "https://int.example.org"),
        ("/srv/elgg/data/", "/srv/int/data/"),
        ("bühne", "buehne"),
    ])
    .unwrap();
    let mut checks = Vec::new();
    let mut scratch = Scratch::new();
    let mut out = Vec::new();
    for v in values {
        let report = replace_in_value(
            v,
            &replacer,
            &mut scratch,
            &mut out,
            Options::new(Mode::Auto).strict(true),
        )
        .unwrap();
        let ours = if report.outcome == Outcome::Rewritten {
            out.clone()
        } else {
            v.to_vec()
        };
        checks.push(vec![
            v.to_vec(),
            ours,
            b"https://mitglieder.example.org".to_vec(),
            b"https://int.example.org".to_vec(),
            b"/srv/elgg/data/".to_vec(),
            b"/srv/int/data/".to_vec(),
            "bühne".as_bytes().to_vec(),
            b"buehne".to_vec(),
        ]);
    }
    let answers = Php::require()
        .run_batch(&format!("{PRELUDE}{CHECK}"), &checks)
        .unwrap();
    for (a, c) in answers.iter().zip(&checks) {
        assert_eq!(String::from_utf8_lossy(&a[0]), "ok", "{}", show(&c[1]));
    }
}
