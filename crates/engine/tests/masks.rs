//! Property: for random rows and random mask rules, no masked column's original value is in the
//! output, and every unmasked value passes through unchanged.

use std::sync::Arc;

use proptest::prelude::*;
use understudy_engine::EngineBuilder;
use understudy_rules::Rules;

const STRATEGIES: &[&str] = &[
    "strategy = \"null\"",
    "strategy = \"redact\"",
    "strategy = \"hash\"",
    "strategy = \"hash\"\nlength = 12",
    "strategy = \"fixed\"\nvalue = \"fixed-value\"",
    "strategy = \"template\"\ntemplate = \"user{id}@example.invalid\"",
    "strategy = \"fake\"\nkind = \"email\"",
    "strategy = \"fake\"\nkind = \"name\"",
    "strategy = \"fake\"\nkind = \"username\"",
    "strategy = \"fake\"\nkind = \"phone\"",
    "strategy = \"fake\"\nkind = \"ipv4\"",
    "strategy = \"fake\"\nkind = \"city\"",
    "strategy = \"fake\"\nkind = \"lorem\"",
];

/// Column values: distinctive enough that finding one in the output means it leaked.
fn value() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9 '@.\\\\\"-]{7,30}Q"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn masked_values_never_leak(
        rows in prop::collection::vec(prop::collection::vec(value(), 4), 1..12),
        masks in prop::collection::vec((1usize..4, 0..STRATEGIES.len()), 1..4),
        unique_email in any::<bool>(),
    ) {
        let mut rules = String::from("[vars]\nsecret = \"property-test-secret\"\n");
        let mut masked = [false; 4];
        for (column, strategy) in &masks {
            masked[*column] = true;
            rules.push_str(&format!(
                "[[mask]]\ntable = \"t\"\ncolumn = \"c{column}\"\n{}\n",
                STRATEGIES[*strategy]
            ));
        }
        let compiled = Rules::from_str(&rules, "prop.toml", &[]).unwrap();
        let mut dump = String::from(
            "CREATE TABLE `t` (\n  `id` int(11) NOT NULL,\n  `c1` varchar(200) DEFAULT NULL,\n  `c2` text,\n  `c3` varchar(200) DEFAULT NULL,\n  PRIMARY KEY (`id`)",
        );
        if unique_email {
            dump.push_str(",\n  UNIQUE KEY `c1` (`c1`)");
        }
        dump.push_str("\n);\nINSERT INTO `t` VALUES ");
        let sql = |v: &str| format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'").replace('"', "\\\""));
        let mut seen = std::collections::BTreeSet::new();
        let mut kept = Vec::new();
        let mut secret_values = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            if i > 0 { dump.push(','); }
            dump.push_str(&format!("({}", i + 1));
            for (c, v) in row.iter().enumerate().skip(1) {
                // A UNIQUE column's values are distinct in any real table.
                let v = if c == 1 && unique_email && !seen.insert(v.clone()) { format!("{v}{i}Q") } else { v.clone() };
                dump.push(',');
                dump.push_str(&sql(&v));
                if masked[c] { secret_values.push(v.clone()) } else { kept.push(sql(&v)) }
            }
            dump.push(')');
        }
        dump.push_str(";\n");

        let engine = EngineBuilder::new().rules(Arc::new(compiled)).build().unwrap();
        let mut out = Vec::new();
        // A rule that cannot work for a UNIQUE column (a constant, a short hash) stops the
        // run; what was written before the stop must not leak either.
        let failed = match engine.run(dump.as_bytes(), &mut out) {
            Ok(_) => false,
            Err(e) => {
                prop_assert!(unique_email, "only UNIQUE columns may fail here: {e}");
                true
            }
        };
        let out = String::from_utf8_lossy(&out);
        for v in &secret_values {
            prop_assert!(!out.contains(v.as_str()), "{v:?} leaked through {rules}\n{out}");
            prop_assert!(!out.contains(&sql(v)), "{v:?} leaked through {rules}\n{out}");
        }
        for v in kept.iter().filter(|_| !failed) {
            prop_assert!(out.contains(v.as_str()), "unmasked {v} changed\n{out}");
        }
    }
}
