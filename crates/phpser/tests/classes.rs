//! `C:` Serializable payloads and `__serialize`/`__unserialize` objects, proven against the
//! real classes: PHP defines them, builds values from them (nested in each other, in
//! serialized strings, in sessions and in base64), we rewrite, and PHP reconstructs the
//! objects from our output. They must equal (`==`, and field by field with `===`) the
//! objects PHP gets by decoding the original and replacing in every string (issue #6,
//! acceptance 1).

use proptest::prelude::*;
use understudy_phpser::{replace_in_value, Mode, Options, Outcome, Replacer, Scratch};

use crate::util::{php_oracle, show};

/// The pairs a rule with the `json_escaped` and `url_encoded` variants expands to.
const PAIRS: [(&str, &str); 3] = [
    ("https://old.example.org", "https://new.example"),
    ("https:\\/\\/old.example.org", "https:\\/\\/new.example"),
    ("https%3A%2F%2Fold.example.org", "https%3A%2F%2Fnew.example"),
];

/// The classes, PHP's side of the comparison, and `handle`.
const SCRIPT: &str = r#"
ini_set('session.save_path', sys_get_temp_dir());
ini_set('session.use_cookies', '0');
ini_set('session.use_strict_mode', '0');
session_start();

// Old-style Serializable whose payload is itself serialize() output holding a serialized
// string (Elgg 2/3 queue items, Symfony before 4.3): C:3:"Bag":N:{a:2:{…s:6:"packed";s:M:"…"}}.
class Bag implements Serializable {
    public $data;
    public $packed;
    function __construct($data = null, $packed = null) { $this->data = $data; $this->packed = $packed; }
    function serialize() { return serialize(['data' => $this->data, 'packed' => $this->packed]); }
    function unserialize($s) {
        $a = unserialize($s);
        if (!is_array($a)) throw new Exception("Bag payload does not unserialize: $s");
        if (@unserialize($a['packed']) === false && $a['packed'] !== 'b:0;') throw new Exception("Bag packed is broken: {$a['packed']}");
        $this->data = $a['data'];
        $this->packed = $a['packed'];
    }
}
// Serializable whose payload is not serialized data: a query string, the URL urlencode()d.
class Link implements Serializable {
    public $url;
    public $title;
    function __construct($url = null, $title = null) { $this->url = $url; $this->title = $title; }
    function serialize() { return http_build_query(['u' => $this->url, 't' => $this->title]); }
    function unserialize($s) {
        parse_str($s, $a);
        if (!isset($a['u'], $a['t'])) throw new Exception("Link payload is broken: $s");
        $this->url = $a['u'];
        $this->title = $a['t'];
    }
}
// __serialize/__unserialize (PHP 7.4+): O:6:"Modern":4:{…}, the array's entries in place of
// the properties, private and protected ones included.
class Modern {
    private $url;
    protected $meta;
    public $child;
    private $packed;
    function __construct($url = null, $meta = null, $child = null) {
        $this->url = $url; $this->meta = $meta; $this->child = $child; $this->packed = serialize($meta);
    }
    function __serialize(): array { return ['u' => $this->url, 'm' => $this->meta, 'c' => $this->child, 'p' => $this->packed]; }
    function __unserialize(array $a): void {
        if (count($a) !== 4) throw new Exception('Modern: ' . count($a) . ' entries');
        if (@unserialize($a['p']) === false && $a['p'] !== 'b:0;') throw new Exception("Modern packed is broken: {$a['p']}");
        [$this->url, $this->meta, $this->child, $this->packed] = [$a['u'], $a['m'], $a['c'], $a['p']];
    }
}

function build($j) {
    if (!is_array($j)) return $j;
    if (isset($j['@'])) {
        $d = $j['d'];
        switch ($j['@']) {
            case 'bag': return new Bag(build($d[0]), serialize(build($d[1])));
            case 'link': return new Link($d[0], $d[1]);
            case 'mod': return new Modern($d[0], build($d[1]), build($d[2]));
            case 'ser': return serialize(build($d));
        }
    }
    $out = [];
    foreach ($j as $k => $v) $out[$k] = build($v);
    return $out;
}

// A string PHP itself would have written for a value: the ones the rewriter recurses into.
function is_ser(string $s): bool {
    if ($s === 'b:0;') return true;
    $v = @unserialize($s);
    return $v !== false && serialize($v) === $s;
}
function rep(string $s): string { return str_replace($GLOBALS['N'], $GLOBALS['R'], $s); }
// The original, decoded, with the replacement applied to every string, key and property, and
// inside every serialized string: what a correct rewrite must decode to.
function replace_deep($v) {
    if (is_string($v)) return is_ser($v) ? serialize(replace_deep(unserialize($v))) : rep($v);
    if (is_array($v)) {
        $out = [];
        foreach ($v as $k => $x) $out[is_string($k) ? rep($k) : $k] = replace_deep($x);
        return $out;
    }
    if (is_object($v)) {
        $o = clone $v;
        foreach ((new ReflectionObject($o))->getProperties() as $p) {
            $p->setAccessible(true);
            $p->setValue($o, replace_deep($p->getValue($o)));
        }
        return $o;
    }
    return $v;
}
// Objects as class + every property, serialized strings decoded: compared with ===.
function norm($v) {
    if (is_string($v)) return is_ser($v) ? ['ser' => norm(unserialize($v))] : $v;
    if (is_array($v)) { $out = []; foreach ($v as $k => $x) $out[$k] = norm($x); return ['arr' => $out]; }
    if (is_object($v)) {
        $out = ['class' => get_class($v)];
        foreach ((new ReflectionObject($v))->getProperties() as $p) {
            $p->setAccessible(true);
            $out[$p->getName()] = norm($p->getValue($v));
        }
        return $out;
    }
    return $v;
}
function decode(string $form, string $s) {
    if ($form === 'b64') {
        $b = base64_decode($s, true);
        if ($b === false || base64_encode($b) !== $s) throw new Exception('not canonical base64');
        $s = $b;
    }
    if ($form === 'sess') {
        $_SESSION = [];
        if (!session_decode($s)) { session_start(); throw new Exception('session does not decode'); }
        return $_SESSION;
    }
    $v = @unserialize($s);
    if ($v === false && $s !== 'b:0;') throw new Exception('does not unserialize');
    return $v;
}
function handle(array $f): array {
    if ($f[0] === 'make') {
        $v = build(json_decode($f[1], true));
        $ser = serialize($v);
        if (serialize(unserialize($ser)) !== $ser) throw new Exception("PHP does not round-trip $ser");
        $_SESSION = ['a' => $v, 'b' => 1, 'c' => 'https://old.example.org/s'];
        return [$ser, base64_encode($ser), session_encode()];
    }
    // check: form, original, ours, then needle/replacement pairs
    [$GLOBALS['N'], $GLOBALS['R']] = [[], []];
    for ($i = 3; $i + 1 < count($f); $i += 2) { $GLOBALS['N'][] = $f[$i]; $GLOBALS['R'][] = $f[$i + 1]; }
    try {
        $want = replace_deep(decode($f[0], $f[1]));
        $got = decode($f[0], $f[2]);
    } catch (Throwable $e) {
        return [$e->getMessage()];
    }
    if ($got != $want) return ['differs (==): ' . var_export($got, true) . ' vs ' . var_export($want, true)];
    if (serialize(norm($got)) !== serialize(norm($want))) return ['differs: ' . var_export(norm($got), true) . ' vs ' . var_export(norm($want), true)];
    return ['ok'];
}
"#;

/// A value as PHP's `build()` reads it (JSON).
#[derive(Clone, Debug)]
enum Node {
    Str(String),
    Int(i64),
    List(Vec<Node>),
    Map(Vec<(String, Node)>),
    /// `new Bag(data, serialize(packed))`: a `C:` payload with a serialized string inside.
    Bag(Box<Node>, Box<Node>),
    /// `new Link(url, title)`: an opaque `C:` payload (a query string).
    Link(String, String),
    /// `new Modern(url, meta, child)`: `__serialize`, with `serialize(meta)` in it too.
    Modern(String, Box<Node>, Box<Node>),
    /// `serialize(value)` as a string.
    Ser(Box<Node>),
}

fn json(n: &Node) -> String {
    let q = |s: &str| serde_json::to_string(s).unwrap();
    let tagged =
        |tag: &str, parts: &[String]| format!(r#"{{"@":"{tag}","d":[{}]}}"#, parts.join(","));
    match n {
        Node::Str(s) => q(s),
        Node::Int(i) => i.to_string(),
        Node::List(v) => format!("[{}]", v.iter().map(json).collect::<Vec<_>>().join(",")),
        Node::Map(kv) => format!(
            "{{{}}}",
            kv.iter()
                .map(|(k, v)| format!("{}:{}", q(k), json(v)))
                .collect::<Vec<_>>()
                .join(",")
        ),
        Node::Bag(d, p) => tagged("bag", &[json(d), json(p)]),
        Node::Link(u, t) => tagged("link", &[q(u), q(t)]),
        Node::Modern(u, m, c) => tagged("mod", &[q(u), json(m), json(c)]),
        Node::Ser(v) => format!(r#"{{"@":"ser","d":{}}}"#, json(v)),
    }
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z &=]{0,8}",
        "(https://old\\.example\\.org|x|/srv/old/)[a-zé/ü|;:\"&=?]{0,12}",
    ]
}

fn node() -> impl Strategy<Value = Node> {
    let leaf = prop_oneof![
        text().prop_map(Node::Str),
        any::<i32>().prop_map(|n| Node::Int(n.into())),
        (text(), text()).prop_map(|(u, t)| Node::Link(u, t)),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Node::List),
            prop::collection::vec(
                ("(k|https://old\\.example\\.org)[a-z]{0,3}", inner.clone()),
                0..4
            )
            .prop_map(Node::Map),
            (inner.clone(), inner.clone()).prop_map(|(d, p)| Node::Bag(d.into(), p.into())),
            (text(), inner.clone(), inner.clone()).prop_map(|(u, m, c)| Node::Modern(
                u,
                m.into(),
                c.into()
            )),
            inner.prop_map(|v| Node::Ser(v.into())),
        ]
    })
}

fn rewrite(value: &[u8]) -> Vec<u8> {
    let r = Replacer::new(PAIRS).unwrap();
    let mut out = Vec::new();
    let report = replace_in_value(
        value,
        &r,
        &mut Scratch::new(),
        &mut out,
        Options::new(Mode::Auto),
    )
    .unwrap();
    assert!(report.warning.is_none(), "{}", show(value));
    match report.outcome {
        Outcome::Unchanged => value.to_vec(),
        Outcome::Rewritten => out,
    }
}

/// Builds the values in PHP, rewrites each in its three forms and has PHP check them.
fn check(values: &[Node]) -> Result<(), TestCaseError> {
    let values = values.iter().map(|v| json(v).into_bytes()).collect();
    php_oracle(SCRIPT, values, &["ser", "b64", "sess"], &PAIRS, rewrite)
}

/// One value of every shape, three levels deep, so the test cannot pass on luck.
#[test]
fn every_class_shape_nested_three_deep() {
    let url = |s: &str| Node::Str(format!("https://old.example.org/{s}"));
    let queue = Node::Bag(
        Node::Map(vec![
            ("https://old.example.org/k".into(), url("a")),
            (
                "job".into(),
                Node::Modern(
                    "https://old.example.org/job".into(),
                    Node::Ser(Box::new(Node::Link(
                        "https://old.example.org/l?x=1&y=2".into(),
                        "Tür https://old.example.org".into(),
                    )))
                    .into(),
                    Node::Bag(url("c").into(), url("d").into()).into(),
                ),
            ),
        ])
        .into(),
        Node::Ser(url("p").into()).into(),
    );
    check(&[queue, url("plain")]).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4))]
    #[test]
    fn php_rebuilds_our_objects_like_its_own_replacement(values in prop::collection::vec(node(), 30..60)) {
        check(&values)?;
    }
}
