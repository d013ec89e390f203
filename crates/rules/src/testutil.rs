//! Test helpers: compile rule text with a controlled environment, read errors as text.

use crate::{CompiledRules, Rules, RulesError};

/// Compiles `text` as `t.toml` with an empty environment (plus `env`).
pub(crate) fn compile_env(text: &str, env: &[(&str, &str)]) -> Result<CompiledRules, RulesError> {
    let mut r = Rules::new();
    r.env("UNDERSTUDY_TEST_PLACEHOLDER", "");
    for (k, v) in env {
        r.env(*k, *v);
    }
    r.compile_str(text, "t.toml")
}

/// Compiles `text` as `t.toml` with an empty environment.
pub(crate) fn compile(text: &str) -> Result<CompiledRules, RulesError> {
    compile_env(text, &[])
}

/// Compiles `text` with a fixed secret prepended in `[vars]` (text must not have [vars]).
pub(crate) fn with_secret(text: &str) -> CompiledRules {
    compile(&format!(
        "[vars]\nsecret = \"test-secret-of-16-bytes\"\n{text}"
    ))
    .unwrap()
}

/// The error text of compiling `text`; panics if it compiles.
pub(crate) fn err(text: &str) -> String {
    match compile(text) {
        Ok(_) => panic!("compiled, expected an error:\n{text}"),
        Err(e) => e.to_string(),
    }
}
