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

/// The shape of a structured value, enough to tell whether a mask's path leads to its
/// leaves. Built only for values a mask looks into (a cold path), never printed with its
/// contents: a message names the path and the kind found, not the data.
enum Shape {
    /// A string, number or enum case: what a path ends at.
    Scalar,
    /// `null` or a boolean: nothing personal, at any place of a path.
    Empty,
    /// An array or object: keys (object properties without their visibility prefix) and
    /// values; `what` says which for messages.
    Map(&'static str, Entries),
    /// What no path can look into: a PHP reference, a `C:` object's payload.
    Opaque(&'static str),
}

/// An array's or object's keys and values, in order.
type Entries = Vec<(Vec<u8>, Shape)>;

/// Checks that every place `pattern` leads to in `shape` is a scalar (or null): a literal
/// key that is missing, a scalar where the path goes on, or a container or reference where
/// it ends would leave data the mask is meant for unmasked. A `*` over no entries is fine.
fn check_path(shape: &Shape, pattern: &[PathSegment], at: &mut Vec<String>) -> Result<(), String> {
    let here = |at: &Vec<String>| {
        if at.is_empty() {
            "the value itself".to_owned()
        } else {
            format!("`{}`", at.join("."))
        }
    };
    let Some((first, rest)) = pattern.split_first() else {
        return match shape {
            Shape::Scalar | Shape::Empty => Ok(()),
            Shape::Map(what, _) => Err(format!("{} is {what}, not a string", here(at))),
            Shape::Opaque(what) => Err(format!(
                "{} is {what}, which cannot be masked in place",
                here(at)
            )),
        };
    };
    match shape {
        Shape::Empty => Ok(()),
        Shape::Scalar => Err(format!(
            "{} is a string or number, where the path goes on",
            here(at)
        )),
        Shape::Opaque(what) => Err(format!(
            "{} is {what}, which the path cannot look into",
            here(at)
        )),
        Shape::Map(what, entries) => match first {
            PathSegment::Any => {
                for (key, child) in entries {
                    at.push(String::from_utf8_lossy(key).into_owned());
                    check_path(child, rest, at)?;
                    at.pop();
                }
                Ok(())
            }
            PathSegment::Key(k) => {
                let Some((_, child)) = entries.iter().find(|(key, _)| key == k.as_bytes()) else {
                    return Err(format!("{} is {what} without the key `{k}`", here(at)));
                };
                at.push(k.clone());
                check_path(child, rest, at)?;
                at.pop();
                Ok(())
            }
        },
    }
}

/// An array key or property name as a path step: integer keys as their digits, property
/// names without their visibility prefix, `S:` keys decoded.
fn key_of(item: &Item<'_>, role: Role, scratch: &mut Vec<u8>) -> Vec<u8> {
    match *item {
        Item::Str(s) if role == Role::PropertyName => property_name(s).to_vec(),
        Item::Str(s) | Item::Int(s) => s.to_vec(),
        Item::EscapedStr(s) => {
            scratch.clear();
            unescape(s, scratch);
            scratch.clone()
        }
        _ => Vec::new(),
    }
}

/// The shape of serialized PHP `input`.
fn serialized_shape(input: &[u8]) -> Result<Shape, String> {
    let mut parser = Parser::new(input);
    // Open containers with their entries so far, and the key each sits under.
    let mut open: Vec<(&'static str, Entries, Vec<u8>)> = Vec::new();
    let mut key: Vec<u8> = Vec::new();
    let mut scratch = Vec::new();
    let mut root = None;
    while let Some((item, _)) = parser
        .next()
        .map_err(|e| format!("the value is not serialized PHP ({e})"))?
    {
        if matches!(parser.role(), Role::Key | Role::PropertyName) {
            key = key_of(&item, parser.role(), &mut scratch);
            continue;
        }
        let done = match item {
            Item::ArrayStart { .. } => {
                open.push(("an array", Vec::new(), std::mem::take(&mut key)));
                continue;
            }
            Item::ObjectStart { .. } => {
                open.push(("an object", Vec::new(), std::mem::take(&mut key)));
                continue;
            }
            Item::End => {
                let Some((what, entries, under)) = open.pop() else {
                    continue;
                };
                key = under;
                Shape::Map(what, entries)
            }
            Item::Str(_) | Item::EscapedStr(_) | Item::Int(_) | Item::Float(_) | Item::Enum(_) => {
                Shape::Scalar
            }
            Item::Null | Item::Bool(_) => Shape::Empty,
            Item::Ref(_) | Item::ObjectRef(_) => Shape::Opaque("a reference (R: or r:)"),
            Item::Custom { .. } => Shape::Opaque("a C: object's payload"),
            _ => Shape::Opaque("a value of a kind this reader does not know"),
        };
        match open.last_mut() {
            Some((_, entries, _)) => entries.push((std::mem::take(&mut key), done)),
            None => root = Some(done),
        }
    }
    root.ok_or_else(|| "the value is not serialized PHP (empty)".to_owned())
}

/// The shape of a JSON value.
fn json_shape(value: &serde_json::Value) -> Shape {
    use serde_json::Value;
    match value {
        Value::Null | Value::Bool(_) => Shape::Empty,
        Value::Number(_) | Value::String(_) => Shape::Scalar,
        Value::Array(items) => Shape::Map(
            "an array",
            items
                .iter()
                .enumerate()
                .map(|(i, v)| (i.to_string().into_bytes(), json_shape(v)))
                .collect(),
        ),
        Value::Object(map) => Shape::Map(
            "an object",
            map.iter()
                .map(|(k, v)| (k.as_bytes().to_vec(), json_shape(v)))
                .collect(),
        ),
    }
}

/// Checks that `pattern` leads only to leaves in serialized PHP `input` (see
/// [`check_path`]).
pub(crate) fn check_serialized_path(input: &[u8], pattern: &[PathSegment]) -> Result<(), String> {
    check_path(&serialized_shape(input)?, pattern, &mut Vec::new())
}

/// Checks that `pattern` leads only to leaves in JSON `input` (see [`check_path`]).
pub(crate) fn check_json_path(input: &[u8], pattern: &[PathSegment]) -> Result<(), String> {
    let value: serde_json::Value =
        serde_json::from_slice(input).map_err(|e| format!("the value is not JSON ({e})"))?;
    check_path(&json_shape(&value), pattern, &mut Vec::new())
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
            key = Some(key_of(&item, parser.role(), &mut scratch));
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
            Item::Str(_) | Item::EscapedStr(_) | Item::Int(_) | Item::Float(_) => {
                let decoded;
                let s = match item {
                    Item::EscapedStr(raw) => {
                        scratch.clear();
                        unescape(raw, &mut scratch);
                        decoded = scratch.clone();
                        &decoded[..]
                    }
                    Item::Str(s) | Item::Int(s) | Item::Float(s) => s,
                    _ => continue,
                };
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
///
/// # Errors
/// When the value is serialized PHP nested deeper than the parser follows: scrubbing its
/// bytes would break the lengths PHP reads it by, and leaving it would leave the addresses.
pub(crate) fn scrub_value(mask: &Mask, value: &[u8], out: &mut Vec<u8>) -> Result<usize, String> {
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
            Ok(Outcome::Rewritten) => return Ok(found),
            Ok(Outcome::Unchanged) => return Ok(0),
            Err(e) => {
                if let understudy_phpser::ErrorKind::DepthLimit { limit } = e.kind() {
                    return Err(format!(
                        "the value is serialized PHP nested deeper than {limit} levels, which \
                         is not followed: scrubbing its bytes would break its lengths"
                    ));
                }
                // Not serialized after all (text that begins like it): scrub it as text.
                out.clear();
            }
        }
    }
    Ok(mask.scrub_into(value, out).unwrap_or(0))
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
