//! Patching a PHP configuration file (`wp-config.php`, Elgg's and Drupal's `settings.php`)
//! by its statements, not by `sed`: a setting is changed where it is assigned, or added
//! where PHP will still see it in time, and every other byte stays as it was.
//!
//! The file is read by a small scanner that knows PHP's comments, strings (single, double,
//! heredoc and nowdoc) and `?>`, so a `define('DB_NAME', …)` in a comment is left alone and
//! a `;` inside a string does not end a statement. Settings are named as a program reads
//! them:
//!
//! - `define:NAME` — `define('NAME', value);`
//! - `$var`, `$CONFIG->dbuser`, `$settings['file_private_path']` — an assignment; a key
//!   path (`$databases['default']['default']['host']`) is also found inside the array
//!   literal assigned to a shorter path (`$databases['default']['default'] = [ 'host' => …`).

use std::ops::Range;

/// A PHP value to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhpValue {
    /// A string, written single-quoted.
    Str(String),
    /// An integer.
    Int(i64),
    /// `true` or `false`.
    Bool(bool),
    /// A list of strings: `['a', 'b']`.
    List(Vec<String>),
}

impl PhpValue {
    /// The value as PHP source.
    pub fn literal(&self) -> String {
        fn quote(s: &str) -> String {
            format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
        }
        match self {
            PhpValue::Str(s) => quote(s),
            PhpValue::Int(i) => i.to_string(),
            PhpValue::Bool(b) => b.to_string(),
            PhpValue::List(items) => {
                format!(
                    "[{}]",
                    items
                        .iter()
                        .map(|s| quote(s))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        }
    }
}

/// How a setting is found in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setting {
    /// `define('NAME', …)`.
    Define(String),
    /// An assignment to this variable, property or key path (normalized: no spaces, keys
    /// single-quoted).
    Assign(String),
}

impl Setting {
    /// Parses `define:NAME` or an assignment target (`$CONFIG->dbuser`, `$a['b']["c"]`).
    pub fn parse(name: &str) -> Result<Setting, String> {
        if let Some(n) = name.strip_prefix("define:") {
            if n.is_empty() || !n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(format!(
                    "{name:?}: a constant's name is letters, digits and _"
                ));
            }
            return Ok(Setting::Define(n.to_string()));
        }
        if !name.starts_with('$') {
            return Err(format!(
                "{name:?}: expected define:NAME or a PHP variable ($name, $obj->prop, $a['key'])"
            ));
        }
        Ok(Setting::Assign(normalize_target(name)))
    }
}

/// How a patch went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Patched {
    /// Changed where it was (this many places).
    Replaced(usize),
    /// Not there: added.
    Added,
    /// Not there, and only to be changed where present: left alone.
    Absent,
}

/// A statement of the file: its range, and what it assigns.
#[derive(Debug)]
struct Statement {
    range: Range<usize>,
    kind: StatementKind,
}

#[derive(Debug)]
enum StatementKind {
    Define { name: String, value: Range<usize> },
    Assign { target: String, value: Range<usize> },
    Other,
}

/// A PHP file being patched.
#[derive(Debug, Clone)]
pub struct PhpFile {
    text: String,
}

impl PhpFile {
    /// The file's text.
    pub fn new(text: String) -> PhpFile {
        PhpFile { text }
    }

    /// The text, patched so far.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The current value of `setting`, as PHP source, where it is assigned last.
    pub fn get(&self, setting: &Setting) -> Option<String> {
        let stmts = statements(&self.text);
        self.find(&stmts, setting)
            .last()
            .map(|r| self.text[r.clone()].trim().to_string())
    }

    /// The value of `setting` when it is a plain string or number literal.
    pub fn get_literal(&self, setting: &Setting) -> Option<String> {
        literal_value(&self.get(setting)?)
    }

    /// Sets `setting` to `value`: where it is assigned (every place), else added (when
    /// `add` is set) before the line that loads `wp-settings.php`, else before a final
    /// `?>`, else at the end.
    pub fn set(&mut self, setting: &Setting, value: &PhpValue, add: bool) -> Patched {
        let stmts = statements(&self.text);
        let mut places = self.find(&stmts, setting);
        if !places.is_empty() {
            let n = places.len();
            places.sort_by_key(|r| std::cmp::Reverse(r.start));
            for r in places {
                // Keep the whitespace around the old value.
                let old = &self.text[r.clone()];
                let lead = old.len() - old.trim_start().len();
                let trail = old.len() - old.trim_end().len();
                let inner = r.start + lead..r.end - trail;
                self.text.replace_range(inner, &value.literal());
            }
            return Patched::Replaced(n);
        }
        if !add {
            return Patched::Absent;
        }
        let line = match setting {
            Setting::Define(name) => format!("define( '{name}', {} );\n", value.literal()),
            Setting::Assign(target) => format!("{target} = {};\n", value.literal()),
        };
        let at = self.insertion_point(&stmts, setting);
        let needs_newline = at > 0 && !self.text[..at].ends_with('\n');
        let line = if needs_newline {
            format!("\n{line}")
        } else {
            line
        };
        self.text.insert_str(at, &line);
        Patched::Added
    }

    /// Where `setting`'s value is, in every statement that sets it.
    fn find(&self, stmts: &[Statement], setting: &Setting) -> Vec<Range<usize>> {
        let mut found = Vec::new();
        for s in stmts {
            match (&s.kind, setting) {
                (StatementKind::Define { name, value }, Setting::Define(want)) if name == want => {
                    found.push(value.clone());
                }
                (StatementKind::Assign { target, value }, Setting::Assign(want)) => {
                    if target == want {
                        found.push(value.clone());
                    } else if let Some(rest) = want.strip_prefix(target.as_str()) {
                        if let Some(keys) = key_path(rest) {
                            if let Some(r) = find_in_array(&self.text, value.clone(), &keys) {
                                found.push(r);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        found
    }

    fn insertion_point(&self, stmts: &[Statement], setting: &Setting) -> usize {
        // After an assignment to a shorter path of it (which would otherwise overwrite it).
        if let Setting::Assign(want) = setting {
            let after = stmts.iter().rev().find(|s| match &s.kind {
                StatementKind::Assign { target, .. } => {
                    want.starts_with(target.as_str()) && key_path(&want[target.len()..]).is_some()
                }
                _ => false,
            });
            if let Some(s) = after {
                return line_end(&self.text, s.range.end);
            }
        }
        // Before WordPress loads itself: constants defined later come too late.
        for s in stmts {
            let t = &self.text[s.range.clone()];
            if t.contains("wp-settings.php") && (t.contains("require") || t.contains("include")) {
                return line_start(&self.text, s.range.start);
            }
        }
        let trimmed = self.text.trim_end();
        if trimmed.ends_with("?>") {
            return line_start(&self.text, trimmed.len() - 2);
        }
        self.text.len()
    }
}

fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |i| i + 1)
}

fn line_end(text: &str, at: usize) -> usize {
    text[at..].find('\n').map_or(text.len(), |i| at + i + 1)
}

/// `$a [ "b" ] -> c` as `$a['b']->c`.
fn normalize_target(raw: &str) -> String {
    let mut out = String::new();
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '"' => {
                out.push('\'');
                for c in chars.by_ref() {
                    if c == '"' {
                        break;
                    }
                    out.push(c);
                }
                out.push('\'');
            }
            '\'' => {
                out.push('\'');
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    out.push(c);
                }
                out.push('\'');
            }
            c => out.push(c),
        }
    }
    out
}

/// `['a']['b']` as `["a", "b"]`; `None` for anything else.
fn key_path(rest: &str) -> Option<Vec<String>> {
    let mut keys = Vec::new();
    let mut rest = rest;
    while !rest.is_empty() {
        let inner = rest.strip_prefix("['")?;
        let end = inner.find("']")?;
        keys.push(inner[..end].to_string());
        rest = &inner[end + 2..];
    }
    (!keys.is_empty()).then_some(keys)
}

/// A string or number literal's value.
fn literal_value(src: &str) -> Option<String> {
    let s = src.trim();
    if s.len() >= 2 && s.starts_with('\'') && s.ends_with('\'') {
        let inner = &s[1..s.len() - 1];
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some(n @ ('\\' | '\'')) => out.push(n),
                    Some(n) => {
                        out.push('\\');
                        out.push(n);
                    }
                    None => out.push('\\'),
                }
            } else if c == '\'' {
                return None;
            } else {
                out.push(c);
            }
        }
        return Some(out);
    }
    if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') {
        let inner = &s[1..s.len() - 1];
        // Interpolation or escapes: not a plain literal.
        if inner.contains(['$', '\\', '"']) {
            return None;
        }
        return Some(inner.to_string());
    }
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return Some(s.to_string());
    }
    None
}

/// Within the array literal at `range` (`[ … ]` or `array( … )`), the value of the entry
/// with key path `keys`.
fn find_in_array(text: &str, range: Range<usize>, keys: &[String]) -> Option<Range<usize>> {
    let src = &text[range.clone()];
    let trimmed = src.trim_start();
    let lead = src.len() - trimmed.len();
    let body_start = if trimmed.starts_with('[') {
        1
    } else if trimmed.len() >= 5 && trimmed[..5].eq_ignore_ascii_case("array") {
        trimmed[5..].trim_start().strip_prefix('(')?;
        trimmed.find('(')? + 1
    } else {
        return None;
    };
    let base = range.start + lead + body_start;
    // Split the body into top-level entries.
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut entry_start = base;
    let mut i = base;
    let end = range.end;
    let mut entries = Vec::new();
    while i < end {
        let skip = skip_non_code(bytes, i, end);
        if skip > i {
            i = skip;
            continue;
        }
        match bytes[i] {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                if depth == 0 {
                    entries.push(entry_start..i);
                    break;
                }
                depth -= 1;
            }
            b',' if depth == 0 => {
                entries.push(entry_start..i);
                entry_start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    for e in entries {
        let entry = &text[e.clone()];
        let Some(arrow) = find_top_level(text, e.clone(), "=>") else {
            continue;
        };
        let key = literal_value(&text[e.start..arrow])?;
        let _ = entry;
        if key == keys[0] {
            let value = arrow + 2..e.end;
            return if keys.len() == 1 {
                Some(value)
            } else {
                find_in_array(text, value, &keys[1..])
            };
        }
    }
    None
}

fn find_top_level(text: &str, range: Range<usize>, needle: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = range.start;
    let mut depth = 0usize;
    while i < range.end {
        let skip = skip_non_code(bytes, i, range.end);
        if skip > i {
            i = skip;
            continue;
        }
        match bytes[i] {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ if depth == 0 && bytes[i..range.end].starts_with(needle.as_bytes()) => {
                return Some(i)
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// If a comment or string starts at `i`, the index after it; else `i`.
fn skip_non_code(b: &[u8], i: usize, end: usize) -> usize {
    let at = |j: usize| if j < end { b[j] } else { 0 };
    match b[i] {
        b'#' => to_line_end(b, i, end),
        b'/' if at(i + 1) == b'/' => to_line_end(b, i, end),
        b'/' if at(i + 1) == b'*' => {
            let mut j = i + 2;
            while j < end && !(b[j] == b'*' && at(j + 1) == b'/') {
                j += 1;
            }
            (j + 2).min(end)
        }
        q @ (b'\'' | b'"' | b'`') => {
            let mut j = i + 1;
            while j < end && b[j] != q {
                if b[j] == b'\\' {
                    j += 1;
                }
                j += 1;
            }
            (j + 1).min(end)
        }
        b'<' if b[i..end].starts_with(b"<<<") => heredoc_end(b, i, end),
        _ => i,
    }
}

/// A `//` or `#` comment ends at the line's end or at `?>`.
fn to_line_end(b: &[u8], i: usize, end: usize) -> usize {
    let mut j = i;
    while j < end && b[j] != b'\n' && !b[j..end].starts_with(b"?>") {
        j += 1;
    }
    j
}

fn heredoc_end(b: &[u8], i: usize, end: usize) -> usize {
    let mut j = i + 3;
    while j < end && (b[j] == b' ' || b[j] == b'\t') {
        j += 1;
    }
    let quoted = j < end && (b[j] == b'\'' || b[j] == b'"');
    if quoted {
        j += 1;
    }
    let id_start = j;
    while j < end && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
        j += 1;
    }
    let id = &b[id_start..j];
    if id.is_empty() {
        return i + 3;
    }
    // The closing identifier: at a line's start (after indentation), not followed by an
    // identifier character.
    let mut k = j;
    while k < end {
        if b[k] == b'\n' {
            let mut m = k + 1;
            while m < end && (b[m] == b' ' || b[m] == b'\t') {
                m += 1;
            }
            if b[m..end].starts_with(id) {
                let after = m + id.len();
                if after >= end || !(b[after].is_ascii_alphanumeric() || b[after] == b'_') {
                    return after;
                }
            }
        }
        k += 1;
    }
    end
}

/// The file's statements in PHP code (not in inline HTML), each classified.
fn statements(text: &str) -> Vec<Statement> {
    let b = text.as_bytes();
    let end = b.len();
    let mut out = Vec::new();
    let mut in_code = false;
    let mut i = 0;
    let mut start = 0;
    let mut depth = 0usize;
    while i < end {
        if !in_code {
            if b[i..].starts_with(b"<?php") {
                in_code = true;
                i += 5;
                start = i;
            } else if b[i..].starts_with(b"<?=") {
                in_code = true;
                i += 3;
                start = i;
            } else {
                i += 1;
            }
            continue;
        }
        let skip = skip_non_code(b, i, end);
        if skip > i {
            i = skip;
            continue;
        }
        if b[i..].starts_with(b"?>") {
            push_statement(text, start..i, &mut out);
            in_code = false;
            depth = 0;
            i += 2;
            continue;
        }
        match b[i] {
            b'(' | b'[' => depth += 1,
            b')' | b']' => depth = depth.saturating_sub(1),
            b';' | b'{' | b'}' if depth == 0 => {
                push_statement(text, start..i, &mut out);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if in_code {
        push_statement(text, start..end, &mut out);
    }
    out
}

fn push_statement(text: &str, range: Range<usize>, out: &mut Vec<Statement>) {
    let b = text.as_bytes();
    // Skip leading whitespace and comments.
    let mut s = range.start;
    loop {
        while s < range.end && b[s].is_ascii_whitespace() {
            s += 1;
        }
        if s < range.end
            && (b[s] == b'#'
                || b[s..range.end].starts_with(b"//")
                || b[s..range.end].starts_with(b"/*"))
        {
            s = skip_non_code(b, s, range.end);
            continue;
        }
        break;
    }
    if s >= range.end {
        return;
    }
    let range = s..range.end;
    let kind = classify(text, range.clone());
    out.push(Statement { range, kind });
}

fn classify(text: &str, range: Range<usize>) -> StatementKind {
    let src = &text[range.clone()];
    if src.len() > 6 && src[..6].eq_ignore_ascii_case("define") {
        let rest = src[6..].trim_start();
        if let Some(args) = rest.strip_prefix('(') {
            let args_start = range.start + (src.len() - args.len());
            if let Some(comma) = find_top_level(text, args_start..range.end, ",") {
                if let Some(name) = literal_value(&text[args_start..comma]) {
                    // The value ends at the call's closing parenthesis (or a third argument).
                    let close = text[..range.end].rfind(')').filter(|&c| c > comma);
                    if let Some(close) = close {
                        let value_end =
                            find_top_level(text, comma + 1..close, ",").unwrap_or(close);
                        return StatementKind::Define {
                            name,
                            value: comma + 1..value_end,
                        };
                    }
                }
            }
        }
        return StatementKind::Other;
    }
    if src.starts_with('$') {
        // The first `=` at depth 0 that is an assignment, not `==`, `=>`, `!=`, `<=`, `>=`,
        // or a compound assignment.
        let b = text.as_bytes();
        let mut i = range.start;
        let mut depth = 0usize;
        while i < range.end {
            let skip = skip_non_code(b, i, range.end);
            if skip > i {
                i = skip;
                continue;
            }
            match b[i] {
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => depth = depth.saturating_sub(1),
                b'=' if depth == 0 => {
                    let next = b.get(i + 1).copied().unwrap_or(0);
                    let prev = if i > range.start { b[i - 1] } else { 0 };
                    if next == b'=' || next == b'>' || b"!<>.+-*/%&|^?".contains(&prev) {
                        return StatementKind::Other;
                    }
                    return StatementKind::Assign {
                        target: normalize_target(&text[range.start..i]),
                        value: i + 1..range.end,
                    };
                }
                _ => {}
            }
            i += 1;
        }
    }
    StatementKind::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    const WP: &str = "<?php\n/** The name of the database */\ndefine( 'DB_NAME', 'wordpress' );\n\
        // define( 'DB_USER', 'in a comment' );\ndefine('DB_USER','prod_user');\n\
        define( 'DB_PASSWORD', 'p;a\\'ss' );\n$table_prefix = 'wp_';\n\
        if ( ! defined( 'ABSPATH' ) ) {\n\tdefine( 'ABSPATH', __DIR__ . '/' );\n}\n\
        /* That's all, stop editing! */\nrequire_once ABSPATH . 'wp-settings.php';\n";

    fn s(name: &str) -> Setting {
        Setting::parse(name).unwrap()
    }

    #[test]
    fn replaces_a_define_and_leaves_every_other_byte() {
        let mut f = PhpFile::new(WP.to_string());
        assert_eq!(
            f.get_literal(&s("define:DB_PASSWORD")).as_deref(),
            Some("p;a'ss")
        );
        assert_eq!(
            f.set(&s("define:DB_USER"), &PhpValue::Str("int".into()), true),
            Patched::Replaced(1)
        );
        assert_eq!(
            f.text(),
            WP.replace("define('DB_USER','prod_user')", "define('DB_USER','int')")
        );
    }

    #[test]
    fn adds_a_missing_define_before_wordpress_loads() {
        let mut f = PhpFile::new(WP.to_string());
        assert_eq!(
            f.set(
                &s("define:WP_HOME"),
                &PhpValue::Str("https://int".into()),
                false
            ),
            Patched::Absent
        );
        assert_eq!(
            f.set(
                &s("define:WP_HOME"),
                &PhpValue::Str("https://int".into()),
                true
            ),
            Patched::Added
        );
        let at = f
            .text()
            .find("define( 'WP_HOME', 'https://int' );\n")
            .unwrap();
        assert!(at < f.text().find("require_once").unwrap());
        assert!(at > f.text().find("stop editing").unwrap());
    }

    #[test]
    fn variables_and_properties_with_quotes_and_spaces() {
        let text = "<?php\n$CONFIG = new \\stdClass;\n$CONFIG->dbuser = 'elgg';\n$CONFIG -> dbpass=\"x\";\n$CONFIG->dbport = 3306;\n?>\n";
        let mut f = PhpFile::new(text.into());
        assert_eq!(f.get_literal(&s("$CONFIG->dbpass")).as_deref(), Some("x"));
        assert_eq!(
            f.get_literal(&s("$CONFIG->dbport")).as_deref(),
            Some("3306")
        );
        f.set(&s("$CONFIG->dbpass"), &PhpValue::Str("n'ew".into()), true);
        f.set(
            &s("$CONFIG->wwwroot"),
            &PhpValue::Str("https://int/".into()),
            true,
        );
        assert_eq!(
            f.text(),
            "<?php\n$CONFIG = new \\stdClass;\n$CONFIG->dbuser = 'elgg';\n$CONFIG -> dbpass='n\\'ew';\n$CONFIG->dbport = 3306;\n$CONFIG->wwwroot = 'https://int/';\n?>\n"
        );
    }

    #[test]
    fn keys_inside_an_array_literal() {
        let text = "<?php\n$databases['default']['default'] = array (\n  'database' => 'prod',\n  'host' => 'db' , 'prefix' => '',\n  'namespace' => 'Drupal\\\\mysql\\\\Driver',\n);\n$settings[\"hash_salt\"] = 'x';\n";
        let mut f = PhpFile::new(text.into());
        assert_eq!(
            f.get_literal(&s("$databases['default']['default']['host']"))
                .as_deref(),
            Some("db")
        );
        f.set(
            &s("$databases['default']['default']['host']"),
            &PhpValue::Str("int-db".into()),
            true,
        );
        f.set(
            &s("$databases['default']['default']['port']"),
            &PhpValue::Int(3307),
            true,
        );
        f.set(
            &s("$settings['hash_salt']"),
            &PhpValue::Str("new".into()),
            true,
        );
        assert_eq!(
            f.text(),
            "<?php\n$databases['default']['default'] = array (\n  'database' => 'prod',\n  'host' => 'int-db' , 'prefix' => '',\n  'namespace' => 'Drupal\\\\mysql\\\\Driver',\n);\n$databases['default']['default']['port'] = 3307;\n$settings[\"hash_salt\"] = 'new';\n"
        );
    }

    #[test]
    fn strings_heredocs_and_comments_do_not_end_or_start_statements() {
        let text = "<?php\n$a = <<<EOT\n$b = 'no'; define('X', 1);\nEOT;\n# $b = 'no';\n$c = \"x;y\"; $b = 'yes';\n";
        let f = PhpFile::new(text.into());
        assert_eq!(f.get_literal(&s("$b")).as_deref(), Some("yes"));
        assert_eq!(f.get_literal(&s("define:X")), None);
        assert_eq!(f.get_literal(&s("$c")).as_deref(), Some("x;y"));
    }

    #[test]
    fn a_value_that_is_not_a_literal_is_not_read_as_one() {
        let text = "<?php\ndefine('DB_PASSWORD', getenv('DB_PASSWORD'));\n";
        let f = PhpFile::new(text.into());
        assert_eq!(
            f.get(&s("define:DB_PASSWORD")).as_deref(),
            Some("getenv('DB_PASSWORD')")
        );
        assert_eq!(f.get_literal(&s("define:DB_PASSWORD")), None);
    }
}
