//! What `understudy clone` costs against the copy it replaces, `mariadb-dump | mariadb`, on
//! one generated WordPress-shaped database, between two throwaway servers on this machine.
//!
//! The restore is the bound of both: the rewrite has to hide inside it. Each configuration
//! runs in rounds with the others (so a slow spell of a shared machine does not fall on one
//! alone) and keeps its best wall time:
//!
//! - `mariadb-dump | mariadb`: `--single-transaction --quick`, into a fresh database;
//! - `clone, 3 URL pairs`: the plan's `replace`, atomic (staging database, then the swap);
//! - `clone, WordPress pack`: `rules/wordpress.toml`, atomic.
//!
//! ```text
//! cargo build --release --bin understudy
//! cargo run --release -p understudy-benches --example clone_time -- 1G [ROUNDS]
//! ```

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use understudy_generate::{parse_size, DumpGenerator, SITE_URL};
use understudy_testkit::mariadb::MariaDb;

/// Server options of both servers: a buffer pool that holds a good part of the data, as a
/// real server's would.
const SERVER: &[&str] = &[
    "--innodb-buffer-pool-size=1G",
    "--innodb-log-file-size=256M",
];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let size = parse_size(args.get(1).map_or("256M", String::as_str)).expect("a size: 256M, 1G");
    let rounds: usize = args.get(2).map_or(3, |r| r.parse().expect("rounds"));
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let understudy = std::env::var_os("UNDERSTUDY")
        .map_or_else(|| root.join("target/release/understudy"), PathBuf::from);
    assert!(
        understudy.is_file(),
        "build it first: cargo build --release --bin understudy"
    );

    let src = MariaDb::start_with(SERVER).unwrap();
    let dst = MariaDb::start_with(SERVER).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump.sql");
    let mut generator = DumpGenerator::new(size);
    generator.seed(1);
    generator
        .write_to(std::io::BufWriter::new(
            std::fs::File::create(&dump).unwrap(),
        ))
        .unwrap();
    src.create_database("wp").unwrap();
    let started = Instant::now();
    src.load_file("wp", &dump).unwrap();
    let bytes = src
        .dump("wp", &["--single-transaction", "--quick"])
        .unwrap()
        .len();
    eprintln!(
        "source: {:.0} MB generated, loaded in {:.0} s; mariadb-dump writes {} bytes",
        std::fs::metadata(&dump).unwrap().len() as f64 / 1e6,
        started.elapsed().as_secs_f64(),
        bytes
    );
    std::fs::remove_file(&dump).unwrap();

    let secret = dir.path().join("secret");
    std::fs::write(&secret, "bench-secret-0123456789abcdef\n").unwrap();
    std::fs::set_permissions(&secret, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let plan = |name: &str, rewrite: &str| -> PathBuf {
        let path = dir.path().join(format!("{name}.toml"));
        std::fs::write(
            &path,
            format!(
                "[source]\nsocket = \"{}\"\nuser = \"root\"\ndatabase = \"wp\"\n\n\
                 [target]\nsocket = \"{}\"\nuser = \"root\"\ndatabase = \"{name}\"\n\n\
                 [rewrite]\n{rewrite}\n",
                src.socket().display(),
                dst.socket().display()
            ),
        )
        .unwrap();
        path
    };
    let host = SITE_URL.trim_start_matches("https://");
    let pairs = plan(
        "pairs",
        &format!(
            "replace = [\"{SITE_URL}=https://int.example.org\", \"http://{host}=http://int.example.org\", \"{host}=int.example.org\"]"
        ),
    );
    let pack = plan(
        "pack",
        &format!(
            "rules = \"{}\"\nsecret_file = \"{}\"\nallow_missing_tables = true\n\
             vars = {{ src_url = \"{SITE_URL}\", dst_url = \"https://int.example.org\" }}",
            root.join("rules/wordpress.toml").display(),
            secret.display()
        ),
    );

    let plain = |db: &str| {
        dst.execute(&format!(
            "DROP DATABASE IF EXISTS {db}; CREATE DATABASE {db}"
        ))
        .unwrap();
        let mut dump = src.dump_command();
        dump.args(["--single-transaction", "--quick", "wp"])
            .stdout(Stdio::piped());
        let mut dumping = dump.spawn().unwrap();
        let mut restore = dst.client();
        restore.arg(db).stdin(dumping.stdout.take().unwrap());
        let ok = restore.status().unwrap().success();
        assert!(
            ok && dumping.wait().unwrap().success(),
            "mariadb-dump | mariadb failed"
        );
    };
    let clone = |plan: &Path| {
        let out = Command::new(&understudy)
            .args(["clone", "-q"])
            .arg(plan)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let names = [
        "mariadb-dump | mariadb",
        "clone, 3 URL pairs",
        "clone, WordPress pack",
    ];
    let mut best = [f64::MAX; 3];
    for round in 0..rounds {
        for (i, best) in best.iter_mut().enumerate() {
            let start = Instant::now();
            match i {
                0 => plain("plain"),
                1 => clone(&pairs),
                _ => clone(&pack),
            }
            let secs = start.elapsed().as_secs_f64();
            eprintln!("round {round}: {}: {secs:.2} s", names[i]);
            *best = best.min(secs);
        }
    }
    println!("| copy | best of {rounds} | MB/s of the dump | against mariadb-dump \\| mariadb |");
    println!("|---|---|---|---|");
    for (name, secs) in names.iter().zip(best) {
        let name = name.replace('|', "\\|");
        println!(
            "| {name} | {secs:.2} s | {:.1} | {:.2}× |",
            bytes as f64 / 1e6 / secs,
            secs / best[0]
        );
    }
}
