//! Masks inside structured values: a leaf of PHP `serialize()` output or of JSON, chosen by a
//! key path (WordPress `session_tokens`: `["*", "ip"]`), is masked and the value re-emitted
//! with correct lengths. Everything outside the masked leaves is copied byte for byte.

use understudy_phpser::{looks_serialized, rewrite, unescape, Edit, Item, Outcome, Parser, Role};
use understudy_rules::{Mask, PathSegment};

/// A leaf's new value: `None` for NULL.
pub(crate) type Leaf = Option<Vec<u8>>;

fn path_matches(pattern: &[PathSegment], path: &[&[u8]]) -> bool {
    pattern.len() == path.len()
        && pattern.iter().zip(path).all(|(seg, key)| match seg {
            PathSegment::Any => true,
            PathSegment::Key(k) => k.as_bytes() == *key,
        })
}

/// A property name without its visibility prefix: `\0*\0name` and `\0Class\0name` → `name`.
fn property_name(raw: &[u8]) -> &[u8] {
    if raw.first() == Some(&0) {
        if let Some(end) = raw[1..].iter().position(|&b| b == 0) {
            return &raw[end + 2..];
        }
    }
    raw
}

/// Masks the leaves of serialized PHP `input` at `path`; `out` gets the new value. Returns
/// how many leaves were masked.
///
/// # Errors
/// When `input` is not serialized PHP, or `leaf` fails.
pub(crate) fn mask_serialized(
    input: &[u8],
    pattern: &[PathSegment],
    out: &mut Vec<u8>,
    leaf: &mut dyn FnMut(&[u8]) -> Result<Leaf, String>,
) -> Result<usize, String> {
    out.clear();
    let mut parser = Parser::new(input);
    // The key each open container sits under (the root sits under none).
    let mut stack: Vec<Vec<u8>> = Vec::new();
    let mut depth = 0usize;
    let mut key: Option<Vec<u8>> = None;
    let mut copied = 0;
    let mut masked = 0;
    let mut scratch = Vec::new();
    while let Some((item, range)) = parser
        .next()
        .map_err(|e| format!("the value is not serialized PHP ({e})"))?
    {
        if matches!(parser.role(), Role::Key | Role::PropertyName) {
            let raw: Vec<u8> = match item {
                Item::Str(s) if parser.role() == Role::PropertyName => property_name(s).to_vec(),
                Item::Str(s) | Item::Int(s) => s.to_vec(),
                Item::EscapedStr(s) => {
                    scratch.clear();
                    unescape(s, &mut scratch);
                    scratch.clone()
                }
                _ => Vec::new(),
            };
            key = Some(raw);
            continue;
        }
        match item {
            Item::ArrayStart { .. } | Item::ObjectStart { .. } => {
                if depth > 0 {
                    stack.push(key.take().unwrap_or_default());
                }
                depth += 1;
            }
            Item::End => {
                depth = depth.saturating_sub(1);
                if depth > 0 {
                    stack.pop();
                }
            }
            Item::Str(s) | Item::Int(s) | Item::Float(s) => {
                let here = key.take();
                let mut path: Vec<&[u8]> = stack.iter().map(Vec::as_slice).collect();
                if let Some(k) = &here {
                    path.push(k);
                }
                if depth > 0 && here.is_none() {
                    continue;
                }
                if path_matches(pattern, &path) {
                    let new = leaf(s)?;
                    out.extend_from_slice(&input[copied..range.start]);
                    match new {
                        None => out.extend_from_slice(b"N;"),
                        Some(v) => {
                            out.extend_from_slice(format!("s:{}:\"", v.len()).as_bytes());
                            out.extend_from_slice(&v);
                            out.extend_from_slice(b"\";");
                        }
                    }
                    copied = range.end;
                    masked += 1;
                }
            }
            _ => {
                key = None;
            }
        }
    }
    out.extend_from_slice(&input[copied..]);
    Ok(masked)
}

/// Masks the string leaves of JSON `input` at `path`; `out` gets the new value (compact JSON,
/// keys in their original order). Returns how many leaves were masked.
///
/// # Errors
/// When `input` is not JSON, or `leaf` fails.
pub(crate) fn mask_json(
    input: &[u8],
    pattern: &[PathSegment],
    out: &mut Vec<u8>,
    leaf: &mut dyn FnMut(&[u8]) -> Result<Leaf, String>,
) -> Result<usize, String> {
    let mut value: serde_json::Value =
        serde_json::from_slice(input).map_err(|e| format!("the value is not JSON ({e})"))?;
    let mut masked = 0;
    walk_json(&mut value, pattern, &mut masked, leaf)?;
    out.clear();
    if masked > 0 {
        serde_json::to_writer(&mut *out, &value).map_err(|e| e.to_string())?;
    } else {
        out.extend_from_slice(input);
    }
    Ok(masked)
}

fn walk_json(
    value: &mut serde_json::Value,
    pattern: &[PathSegment],
    masked: &mut usize,
    leaf: &mut dyn FnMut(&[u8]) -> Result<Leaf, String>,
) -> Result<(), String> {
    use serde_json::Value;
    let Some((first, rest)) = pattern.split_first() else {
        let text = match value {
            Value::String(s) => s.clone().into_bytes(),
            Value::Number(n) => n.to_string().into_bytes(),
            Value::Bool(b) => b.to_string().into_bytes(),
            Value::Null | Value::Array(_) | Value::Object(_) => return Ok(()),
        };
        *value = match leaf(&text)? {
            None => Value::Null,
            Some(v) => Value::String(String::from_utf8_lossy(&v).into_owned()),
        };
        *masked += 1;
        return Ok(());
    };
    let matches = |k: &str| match first {
        PathSegment::Any => true,
        PathSegment::Key(want) => want == k,
    };
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if matches(k) {
                    walk_json(v, rest, masked, leaf)?;
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                if matches(&i.to_string()) {
                    walk_json(v, rest, masked, leaf)?;
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Applies a `scrub` mask to a whole value: in serialized PHP, to each string (keys too, an
/// address can be one) with the lengths fixed; in anything else, including serialized PHP
/// that does not parse, to the bytes. Returns how many addresses were replaced; `out` holds
/// the new value when that is more than 0.
pub(crate) fn scrub_value(mask: &Mask, value: &[u8], out: &mut Vec<u8>) -> usize {
    out.clear();
    if looks_serialized(value) {
        let mut found = 0;
        let outcome = rewrite(value, out, |role, s, scratch| {
            if !matches!(role, Role::Value | Role::Key) {
                return Edit::Keep;
            }
            match mask.scrub_into(s, scratch) {
                Some(n) if n > 0 => {
                    found += n;
                    Edit::Replaced
                }
                _ => Edit::Keep,
            }
        });
        match outcome {
            Ok(Outcome::Rewritten) => return found,
            Ok(Outcome::Unchanged) => return 0,
            Err(_) => out.clear(),
        }
    }
    mask.scrub_into(value, out).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upper(v: &[u8]) -> Result<Leaf, String> {
        Ok(Some(v.to_ascii_uppercase()))
    }

    fn path(p: &[&str]) -> Vec<PathSegment> {
        p.iter()
            .map(|s| {
                if *s == "*" {
                    PathSegment::Any
                } else {
                    PathSegment::Key(s.to_string())
                }
            })
            .collect()
    }

    #[test]
    fn session_tokens_ip_and_ua() {
        let v = br#"a:2:{s:4:"abcd";a:3:{s:10:"expiration";i:1700000000;s:2:"ip";s:9:"192.0.2.1";s:2:"ua";s:7:"Firefox";}s:4:"efgh";a:1:{s:2:"ip";s:11:"198.51.100.";}}"#;
        let mut out = Vec::new();
        let mut f = |v: &[u8]| -> Result<Leaf, String> {
            Ok(Some(format!("masked-{}", v.len()).into_bytes()))
        };
        let n = mask_serialized(v, &path(&["*", "ip"]), &mut out, &mut f).unwrap();
        assert_eq!(n, 2);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"a:2:{s:4:"abcd";a:3:{s:10:"expiration";i:1700000000;s:2:"ip";s:8:"masked-9";s:2:"ua";s:7:"Firefox";}s:4:"efgh";a:1:{s:2:"ip";s:9:"masked-11";}}"#
        );
    }

    #[test]
    fn object_properties_and_top_level() {
        let v = b"O:8:\"stdClass\":1:{s:8:\"\0*\0email\";s:3:\"a@b\";}";
        let mut out = Vec::new();
        assert_eq!(
            mask_serialized(v, &path(&["email"]), &mut out, &mut upper).unwrap(),
            1
        );
        assert_eq!(
            out,
            b"O:8:\"stdClass\":1:{s:8:\"\0*\0email\";s:3:\"A@B\";}".to_vec()
        );
        assert_eq!(
            mask_serialized(b"s:3:\"abc\";", &[], &mut out, &mut upper).unwrap(),
            1
        );
        assert_eq!(out, b"s:3:\"ABC\";");
        assert!(mask_serialized(b"not php", &[], &mut out, &mut upper).is_err());
    }

    #[test]
    fn json_leaves() {
        let v = br#"{"b":{"ip":"1.2.3.4","n":1},"a":[{"ip":"5.6.7.8"}]}"#;
        let mut out = Vec::new();
        let mut x = |_: &[u8]| -> Result<Leaf, String> { Ok(Some(b"X".to_vec())) };
        assert_eq!(
            mask_json(v, &path(&["*", "ip"]), &mut out, &mut x).unwrap(),
            1
        );
        assert_eq!(
            out,
            br#"{"b":{"ip":"X","n":1},"a":[{"ip":"5.6.7.8"}]}"#.to_vec()
        );
        assert_eq!(
            mask_json(v, &path(&["a", "0", "ip"]), &mut out, &mut x).unwrap(),
            1
        );
        assert_eq!(
            out,
            br#"{"b":{"ip":"1.2.3.4","n":1},"a":[{"ip":"X"}]}"#.to_vec()
        );
        assert!(mask_json(b"{nope", &[], &mut out, &mut x).is_err());
    }
}
