//! `understudy rules vars FILE`: a rule file's variables, defaults and meanings, so the user
//! sees what to pass with `--var` before a run says something moved nothing.

use anyhow::Result;

use crate::args::RulesVarsArgs;
use crate::BadArgs;

pub fn run(args: RulesVarsArgs) -> Result<()> {
    let vars = understudy_rules::Rules::vars_of_path(&args.rules).map_err(BadArgs::from_display)?;
    if vars.is_empty() {
        println!("{}: no variables", args.rules.display());
        return Ok(());
    }
    println!(
        "{}: {} variables (give them with --var NAME=VALUE):",
        args.rules.display(),
        vars.len()
    );
    for var in &vars {
        let default = if var.default.is_empty() {
            "empty".to_string()
        } else {
            format!("{:?}", var.default)
        };
        println!();
        println!("{}  (default: {default})", var.name);
        let help = var
            .help
            .as_deref()
            .unwrap_or("(no description in [vars_help])");
        println!("    {help}");
    }
    Ok(())
}
