//! A naive reference: a recursive-descent parser that builds a tree, a `str_replace` on the
//! tree, and a writer. The streaming rewriter must give the same bytes; the two parsers must
//! accept the same inputs. No PHP involved, so these run many more cases than `oracle`.

use proptest::prelude::*;
use understudy_phpser::{replace_in_value, Mode, Options, Outcome, Replacer, Scratch};

use crate::util::{parses, show};

#[derive(Clone, Debug, PartialEq)]
enum Val {
    Null,
    Bool(bool),
    Int(Vec<u8>),
    Float(Vec<u8>),
    Str(Vec<u8>),
    Arr(Vec<(Val, Val)>),
    Obj(Vec<u8>, Vec<(Val, Val)>),
    Custom(Vec<u8>, Vec<u8>),
    Enum(Vec<u8>),
    Ref(u8, Vec<u8>),
}

/// A `C:` payload: values and the separators and labels between them.
enum Part {
    Raw(Vec<u8>),
    Value(Val),
}

struct P<'a> {
    s: &'a [u8],
    i: usize,
    depth: usize,
    values: usize,
    refs_unchecked: bool,
}

impl P<'_> {
    fn eat(&mut self, lit: &[u8]) -> Option<()> {
        if self.s.get(self.i..)?.starts_with(lit) {
            self.i += lit.len();
            Some(())
        } else {
            None
        }
    }

    fn num(&mut self, signed: bool) -> Option<Vec<u8>> {
        let start = self.i;
        if signed && matches!(self.s.get(self.i), Some(b'+' | b'-')) {
            self.i += 1;
        }
        let d = self.i;
        while self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
        (self.i > d).then(|| self.s[start..self.i].to_vec())
    }

    fn len(&mut self) -> Option<usize> {
        std::str::from_utf8(&self.num(false)?).ok()?.parse().ok()
    }

    fn bytes(&mut self, n: usize) -> Option<Vec<u8>> {
        let b = self.s.get(self.i..self.i.checked_add(n)?)?.to_vec();
        self.i += n;
        Some(b)
    }

    fn float(&mut self) -> Option<Vec<u8>> {
        let start = self.i;
        for special in [&b"NAN"[..], b"INF", b"-INF"] {
            if self.eat(special).is_some() {
                if self.s.get(self.i) == Some(&b';') {
                    return Some(special.to_vec());
                }
                self.i = start;
            }
        }
        // [+-]? (digits | digits? . digits | digits . digits?) ([eE] [+-]? digits)?
        let mut j = self.i;
        if matches!(self.s.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let mut m = 0;
        while self.s.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
            m += 1;
        }
        if self.s.get(j) == Some(&b'.') {
            j += 1;
            while self.s.get(j).is_some_and(u8::is_ascii_digit) {
                j += 1;
                m += 1;
            }
        }
        if m == 0 {
            return None;
        }
        self.i = j;
        if matches!(self.s.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            self.num(true)?;
        }
        Some(self.s[start..self.i].to_vec())
    }

    fn class(&mut self) -> Option<Vec<u8>> {
        let n = self.len()?;
        self.eat(b":\"")?;
        let c = self.bytes(n)?;
        self.eat(b"\"")?;
        Some(c)
    }

    fn valid_class(c: &[u8]) -> bool {
        !c.is_empty()
            && c[0] != b'\\'
            && c.iter()
                .all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'\\' || b >= 0x80)
    }

    fn pairs(&mut self, n: usize, object: bool) -> Option<Vec<(Val, Val)>> {
        if n > (self.s.len() - self.i) / 2 {
            return None;
        }
        self.depth += 1;
        if self.depth > 128 {
            return None;
        }
        let mut v = Vec::new();
        for _ in 0..n {
            let k = self.value(true)?;
            v.push((k, self.value(false)?));
        }
        self.eat(b"}")?;
        let _ = object;
        self.depth -= 1;
        Some(v)
    }

    fn value(&mut self, key: bool) -> Option<Val> {
        let tag = *self.s.get(self.i)?;
        if key && !matches!(tag, b'i' | b's' | b'S') {
            return None;
        }
        if tag == b'N' {
            self.eat(b"N;")?;
            self.values += 1;
            return Some(Val::Null);
        }
        self.i += 1;
        self.eat(b":")?;
        if !key && !matches!(tag, b'R') {
            self.values += 1;
        }
        let v = match tag {
            b'b' => {
                let v = match self.s.get(self.i)? {
                    b'0' => false,
                    b'1' => true,
                    _ => return None,
                };
                self.i += 1;
                Val::Bool(v)
            }
            b'i' => Val::Int(self.num(true)?),
            b'd' => Val::Float(self.float()?),
            b's' => {
                let n = self.len()?;
                self.eat(b":\"")?;
                let b = self.bytes(n)?;
                self.eat(b"\"")?;
                Val::Str(b)
            }
            b'S' => {
                let n = self.len()?;
                self.eat(b":\"")?;
                let mut b = Vec::new();
                for _ in 0..n {
                    let c = *self.s.get(self.i)?;
                    if c == b'\\' {
                        let h = std::str::from_utf8(self.s.get(self.i + 1..self.i + 3)?).ok()?;
                        if !h.bytes().all(|c| c.is_ascii_hexdigit()) {
                            return None;
                        }
                        b.push(u8::from_str_radix(h, 16).ok()?);
                        self.i += 3;
                    } else {
                        b.push(c);
                        self.i += 1;
                    }
                }
                self.eat(b"\"")?;
                Val::Str(b)
            }
            b'a' => {
                let n = self.len()?;
                self.eat(b":{")?;
                return Some(Val::Arr(self.pairs(n, false)?));
            }
            b'O' => {
                let c = self.class()?;
                self.eat(b":")?;
                let n = self.len()?;
                self.eat(b":{")?;
                if !Self::valid_class(&c) {
                    return None;
                }
                return Some(Val::Obj(c, self.pairs(n, true)?));
            }
            b'C' => {
                let c = self.class()?;
                self.eat(b":")?;
                let n = self.len()?;
                self.eat(b":{")?;
                if !Self::valid_class(&c) || n >= self.s.len() - self.i {
                    return None;
                }
                let payload = self.bytes(n)?;
                self.eat(b"}")?;
                self.refs_unchecked = true;
                return Some(Val::Custom(c, payload));
            }
            b'E' => {
                let c = self.class()?;
                let colon = c.iter().position(|&b| b == b':')?;
                if !Self::valid_class(&c[..colon]) {
                    return None;
                }
                Val::Enum(c)
            }
            b'r' | b'R' => {
                let id = self.num(false)?;
                let n: usize = std::str::from_utf8(&id).ok()?.parse().unwrap_or(usize::MAX);
                let seen = if tag == b'r' {
                    self.values - 1
                } else {
                    self.values
                };
                if n == 0 || (!self.refs_unchecked && n > seen) {
                    return None;
                }
                Val::Ref(tag, id)
            }
            _ => return None,
        };
        self.eat(b";")?;
        Some(v)
    }
}

fn parser(s: &[u8], payload: bool) -> P<'_> {
    P {
        s,
        i: 0,
        depth: 0,
        values: 0,
        refs_unchecked: payload,
    }
}

/// Exactly one value.
fn parse(s: &[u8]) -> Option<Val> {
    let mut p = parser(s, false);
    let v = p.value(false)?;
    (p.i == s.len()).then_some(v)
}

/// A `C:` payload: `[x:|m:] value ([;,:]? [x:|m:] value)*`.
fn parse_payload(s: &[u8]) -> Option<Vec<Part>> {
    let mut p = parser(s, true);
    let mut parts = Vec::new();
    loop {
        let start = p.i;
        if !parts.is_empty() && matches!(s.get(p.i), Some(b';' | b',' | b':')) {
            p.i += 1;
        }
        if matches!(s.get(p.i..p.i + 2), Some([b'x' | b'm', b':'])) {
            p.i += 2;
        }
        parts.push(Part::Raw(s[start..p.i].to_vec()));
        parts.push(Part::Value(p.value(false)?));
        if p.i == s.len() {
            return Some(parts);
        }
    }
}

fn str_replace(s: &[u8], pairs: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut cur = s.to_vec();
    for (n, r) in pairs {
        if n.is_empty() {
            continue;
        }
        let mut next = Vec::new();
        let mut i = 0;
        while i < cur.len() {
            if cur[i..].starts_with(n) {
                next.extend_from_slice(r);
                i += n.len();
            } else {
                next.push(cur[i]);
                i += 1;
            }
        }
        cur = next;
    }
    cur
}

fn write(v: &Val, out: &mut Vec<u8>) {
    let header = |out: &mut Vec<u8>, tag: &str, b: &[u8]| {
        out.extend_from_slice(format!("{tag}:{}:\"", b.len()).as_bytes());
        out.extend_from_slice(b);
        out.push(b'"');
    };
    let pairs = |out: &mut Vec<u8>, ps: &[(Val, Val)]| {
        out.extend_from_slice(format!("{}:{{", ps.len()).as_bytes());
        for (k, v) in ps {
            write(k, out);
            write(v, out);
        }
        out.push(b'}');
    };
    match v {
        Val::Null => out.extend_from_slice(b"N;"),
        Val::Bool(b) => out.extend_from_slice(if *b { b"b:1;" } else { b"b:0;" }),
        Val::Int(n) => out.extend_from_slice(&[b"i:", &n[..], b";"].concat()),
        Val::Float(n) => out.extend_from_slice(&[b"d:", &n[..], b";"].concat()),
        Val::Str(s) => {
            header(out, "s", s);
            out.push(b';');
        }
        Val::Arr(ps) => {
            out.extend_from_slice(b"a:");
            pairs(out, ps);
        }
        Val::Obj(c, ps) => {
            header(out, "O", c);
            out.push(b':');
            pairs(out, ps);
        }
        Val::Custom(c, payload) => {
            header(out, "C", c);
            out.extend_from_slice(format!(":{}:{{", payload.len()).as_bytes());
            out.extend_from_slice(payload);
            out.push(b'}');
        }
        Val::Enum(e) => {
            header(out, "E", e);
            out.push(b';');
        }
        Val::Ref(tag, id) => out.extend_from_slice(&[&[*tag, b':'][..], id, b";"].concat()),
    }
}

fn to_bytes(v: &Val) -> Vec<u8> {
    let mut out = Vec::new();
    write(v, &mut out);
    out
}

fn map(v: &Val, key: bool, pairs: &[(Vec<u8>, Vec<u8>)]) -> Val {
    let entries = |ps: &[(Val, Val)]| -> Vec<(Val, Val)> {
        ps.iter()
            .map(|(k, v)| (map(k, true, pairs), map(v, false, pairs)))
            .collect()
    };
    match v {
        Val::Str(s) if !key => match naive_rewrite(s, pairs) {
            Some(inner) => Val::Str(inner),
            None => Val::Str(str_replace(s, pairs)),
        },
        Val::Str(s) => Val::Str(str_replace(s, pairs)),
        Val::Arr(ps) => Val::Arr(entries(ps)),
        Val::Obj(c, ps) => Val::Obj(c.clone(), entries(ps)),
        Val::Custom(c, payload) if payload.is_empty() => Val::Custom(c.clone(), Vec::new()),
        Val::Custom(c, payload) => {
            let new = match parse_payload(payload) {
                Some(parts) => parts
                    .iter()
                    .flat_map(|p| match p {
                        Part::Raw(r) => r.clone(),
                        Part::Value(v) => to_bytes(&map(v, false, pairs)),
                    })
                    .collect(),
                None => str_replace(payload, pairs),
            };
            Val::Custom(c.clone(), new)
        }
        other => other.clone(),
    }
}

/// Parse, replace in every string of the tree, write.
fn naive_rewrite(s: &[u8], pairs: &[(Vec<u8>, Vec<u8>)]) -> Option<Vec<u8>> {
    Some(to_bytes(&map(&parse(s)?, false, pairs)))
}

const FRAGMENTS: &[&[u8]] = &[
    b"https://www.example.org",
    b"/srv/www/",
    "Waldbühne".as_bytes(),
    b"\0*\0",
    b"\xff",
    b"\"",
    b"\";",
    b";",
    b"}",
    b"s:1:",
    b"i:0;",
    b"N;",
    b"abc",
    b"x",
];

const REPLACEMENTS: &[&[u8]] = &[
    b"",
    b"Z",
    b"https://int.example.net/longer",
    b"\";s:2:\"",
    "\u{fc}".as_bytes(),
];

/// Strings without `"`, so that `sed` on them cannot look like structure. (No empty
/// strings: several `s:0:"";` in a row let a wrong length land on another string's end by
/// coincidence, and then the damage has more than one repair.)
const SED_STRINGS: &[&[u8]] = &[
    b"/srv/www/site",
    b"https://www.example.org/x",
    "Waldb\u{fc}hne".as_bytes(),
    b"a;b}c",
];

fn sed_string() -> BoxedStrategy<Vec<u8>> {
    prop::sample::select(SED_STRINGS)
        .prop_map(<[u8]>::to_vec)
        .boxed()
}

/// `sed` replacements whose needles cannot occur in serialized structure.
fn sed_pairs() -> [(Vec<u8>, Vec<u8>); 3] {
    [
        (
            b"https://www.example.org".to_vec(),
            b"http://localhost".to_vec(),
        ),
        (b"/srv/www/".to_vec(), b"/home/test/htdocs/".to_vec()),
        ("\u{fc}".as_bytes().to_vec(), b"ue".to_vec()),
    ]
}

fn string() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(FRAGMENTS), 0..4).prop_map(|fs| fs.concat())
}

fn class() -> impl Strategy<Value = Vec<u8>> {
    prop::sample::select(&["stdClass", "Foo", "Elgg\\Queue", "Café"][..])
        .prop_map(|s| s.as_bytes().to_vec())
}

/// Values as PHP writes them (canonical numbers and lengths), with `strings` as leaves.
fn value_with(strings: BoxedStrategy<Vec<u8>>, custom: bool) -> impl Strategy<Value = Val> {
    let s2 = strings.clone();
    let leaf = prop_oneof![
        1 => Just(Val::Null),
        1 => any::<bool>().prop_map(Val::Bool),
        1 => any::<i32>().prop_map(|n| Val::Int(n.to_string().into_bytes())),
        1 => prop::sample::select(&["1.5", "0.1", "-0", "1.0E+25", "NAN", "INF", "-INF"][..])
            .prop_map(|f| Val::Float(f.as_bytes().to_vec())),
        3 => strings.clone().prop_map(Val::Str),
        1 => Just(Val::Enum(b"Suit:Hearts".to_vec())),
    ];
    leaf.prop_recursive(4, 40, 4, move |inner| {
        let key = prop_oneof![
            any::<u8>().prop_map(|n| Val::Int(n.to_string().into_bytes())),
            s2.clone().prop_map(Val::Str),
        ];
        let entries = prop::collection::vec((key, inner.clone()), 0..4);
        let refs = prop_oneof![Just(Val::Ref(b'R', b"1".to_vec())), Just(Val::Ref(b'r', b"1".to_vec()))];
        prop_oneof![
            3 => entries.clone().prop_map(Val::Arr),
            2 => (class(), prop::collection::vec((s2.clone().prop_map(Val::Str), inner.clone()), 0..4))
                .prop_map(|(c, ps)| Val::Obj(c, ps)),
            2 => inner.clone().prop_map(|v| Val::Str(to_bytes(&v))),
            u32::from(custom) => (class(), inner.clone()).prop_map(|(c, v)| Val::Custom(c, to_bytes(&v))),
            u32::from(custom) => (class(), inner.clone(), inner.clone()).prop_map(|(c, a, b)| {
                let payload = [&b"x:"[..], &to_bytes(&a), b";m:", &to_bytes(&b)].concat();
                Val::Custom(c, payload)
            }),
            u32::from(custom) => (class(), s2.clone()).prop_map(|(c, mut s)| {
                s.retain(|&b| b != b':' && b != b';');
                Val::Custom(c, s)
            }),
            // References only inside a container, where value 1 exists.
            1 => (inner, refs).prop_map(|(v, r)| Val::Arr(vec![(Val::Int(b"0".to_vec()), v), (Val::Int(b"1".to_vec()), r)])),
        ]
    })
}

fn value() -> impl Strategy<Value = Val> {
    value_with(string().boxed(), true)
}

fn pairs() -> impl Strategy<Value = Vec<(Vec<u8>, Vec<u8>)>> {
    let needle = (
        prop::sample::select(FRAGMENTS),
        any::<prop::sample::Index>(),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(f, i, j)| {
            let start = i.index(f.len());
            f[start..start + 1 + j.index(f.len() - start)].to_vec()
        });
    let replacement = prop::sample::select(REPLACEMENTS).prop_map(<[u8]>::to_vec);
    prop::collection::vec((needle, replacement), 1..4)
}

fn run(
    input: &[u8],
    pairs: &[(Vec<u8>, Vec<u8>)],
    mode: Mode,
) -> (Vec<u8>, understudy_phpser::Report) {
    let replacer = Replacer::new(pairs.iter().map(|(n, r)| (n, r))).unwrap();
    let mut out = Vec::new();
    let report = replace_in_value(
        input,
        &replacer,
        &mut Scratch::new(),
        &mut out,
        Options::new(mode),
    )
    .unwrap();
    let result = match report.outcome {
        Outcome::Unchanged => input.to_vec(),
        Outcome::Rewritten => out,
    };
    (result, report)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// The streaming rewriter writes what parse → replace → write gives.
    #[test]
    fn rewrite_matches_naive(v in value(), pairs in pairs()) {
        let input = to_bytes(&v);
        prop_assert!(parses(&input), "{}", show(&input));
        let want = naive_rewrite(&input, &pairs).unwrap();
        let (got, report) = run(&input, &pairs, Mode::Auto);
        prop_assert_eq!(show(&got), show(&want), "input {}", show(&input));
        prop_assert!(report.warning.is_none());
        prop_assert!(parses(&got));
    }

    /// The two parsers accept the same damaged values, and nothing panics on them in any mode.
    #[test]
    fn parsers_agree_on_damaged_values(
        v in value(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, prop::sample::select(&b"0123456789:;\"{}saiNdObCE-.\\"[..])), 1..3),
    ) {
        let mut input = to_bytes(&v);
        for (at, op, byte) in edits {
            let i = at.index(input.len() + 1);
            match op {
                0 => input.insert(i, byte),
                1 if i < input.len() => { input.remove(i); }
                _ if i < input.len() => input[i] = byte,
                _ => input.push(byte),
            }
        }
        prop_assert_eq!(parses(&input), parse(&input).is_some(), "{}", show(&input));
        for mode in [Mode::Auto, Mode::Off, Mode::Repair] {
            let (got, report) = run(&input, &[(b"x".to_vec(), b"yy".to_vec())], mode);
            if report.serialized {
                prop_assert!(parses(&got), "mode {:?} made {} from {}", mode, show(&got), show(&input));
            }
        }
    }

    /// `sed` on the serialized bytes breaks lengths; `Mode::Repair` puts them right again,
    /// giving what a serialization-aware replacement would have given in the first place.
    /// (Without `C:` objects: with stale lengths nested inside payloads, which are sequences
    /// with optional separators, the search finds *a* parse, not always the original one.)
    #[test]
    fn repair_undoes_sed(v in value_with(sed_string(), false), which in 0usize..3) {
        let pairs = &sed_pairs()[which..=which];
        let input = to_bytes(&v);
        let sed = str_replace(&input, pairs);
        let want = naive_rewrite(&input, pairs).unwrap();
        let (got, report) = run(&sed, &[], Mode::Repair);
        prop_assert!(report.warning.is_none(), "sed output {} not repaired", show(&sed));
        prop_assert_eq!(report.nested_fallbacks, 0, "sed output {} became {}", show(&sed), show(&got));
        prop_assert_eq!(report.repaired, sed != want, "sed output {}", show(&sed));
        prop_assert_eq!(show(&got), show(&want), "sed output {}", show(&sed));
    }

    /// With `C:` objects the repaired value may differ from the original, but it parses.
    #[test]
    fn repair_with_custom_objects_parses(v in value_with(sed_string(), true), which in 0usize..3) {
        let sed = str_replace(&to_bytes(&v), &sed_pairs()[which..=which]);
        let (got, report) = run(&sed, &[], Mode::Repair);
        prop_assert!(report.warning.is_some() || parses(&got), "{} became {}", show(&sed), show(&got));
    }
}

#[test]
fn naive_reference_sanity() {
    let v = br#"a:2:{i:0;s:3:"abc";i:1;s:13:"a:1:{i:0;N;}x";}"#;
    assert!(parse(v).is_some());
    assert!(parse(b"a:1:{i:0;N;}x").is_none());
    let pairs = [(b"abc".to_vec(), b"z".to_vec())];
    assert_eq!(
        naive_rewrite(v, &pairs).unwrap(),
        br#"a:2:{i:0;s:1:"z";i:1;s:13:"a:1:{i:0;N;}x";}"#
    );
}
