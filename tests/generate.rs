//! `understudy generate`: the library's bytes on standard output or in a file (compressed by
//! its extension, appearing only when complete), settings refused before a byte is written,
//! every pack running on its layout without `--allow-missing-tables`, and every shape
//! rewritten the same with any number of threads.

use understudy_generate::{DumpGenerator, Layout, Shape};

use crate::threads::{assert_same_as_one_thread, configs};
use crate::util::{fixtures, run_with_stdin, understudy};

fn library(layout: Layout, shape: Shape, size: u64, seed: u64) -> Vec<u8> {
    let mut g = DumpGenerator::new(size);
    g.layout(layout).shape(shape).seed(seed);
    g.generate().0
}

#[test]
fn generate_writes_what_the_library_writes() {
    let out = understudy()
        .args(["generate", "--layout", "drupal", "--shape", "mix"])
        .args(["--size", "300K", "--seed", "3"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout == library(Layout::Drupal, Shape::Mix, 300 << 10, 3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("understudy: generated ") && stderr.contains("tables"),
        "{stderr}"
    );

    // -q: nothing on standard error; --tables and --rows-per-insert as the library's.
    let out = understudy()
        .args(["generate", "-q", "--size", "1M", "--tables", "40"])
        .args(["--rows-per-insert", "3"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(out.stderr.is_empty());
    let mut g = DumpGenerator::new(1 << 20);
    g.tables(40).rows_per_insert(3);
    assert!(out.stdout == g.generate().0);

    // --hex-blob with another shape: Wordfence's tables, binary columns in hex.
    let out = understudy()
        .args([
            "generate",
            "-q",
            "--size",
            "1M",
            "--shape",
            "one-row-inserts",
        ])
        .arg("--hex-blob")
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut g = DumpGenerator::new(1 << 20);
    g.shape(Shape::OneRowInserts).hex_blob(true);
    assert!(out.stdout == g.generate().0);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("INSERT INTO `wp_wfhits` VALUES (1,"),
        "no one-row wfhits"
    );
    assert!(text.contains(",0x00000000000000000000FFFF"), "no hex IP");
}

#[test]
fn generate_writes_a_file_compressed_by_its_extension() {
    let dir = tempfile::tempdir().unwrap();
    let want = library(Layout::Elgg, Shape::HexBlob, 200 << 10, 1);
    for name in ["dump.sql", "dump.sql.gz", "dump.sql.zst"] {
        let path = dir.path().join(name);
        let out = understudy()
            .args(["generate", "-q", "--layout", "elgg", "--shape", "hex-blob"])
            .args(["--size", "200K", "-o"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let bytes = std::fs::read(&path).unwrap();
        let plain = match name {
            "dump.sql.gz" => {
                let mut v = Vec::new();
                std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut v)
                    .unwrap();
                v
            }
            "dump.sql.zst" => zstd::decode_all(&bytes[..]).unwrap(),
            _ => bytes,
        };
        assert!(plain == want, "{name}");
    }
    // No temporary file left beside them.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
}

/// Settings that cannot work exit 1, an output that cannot be written exits 2, and neither
/// leaves a file.
#[test]
fn generate_refuses_what_cannot_work_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("out.sql");
    for (args, code, says) in [
        (
            &["--size", "1M", "--tables", "100000"][..],
            1,
            "100000 tables do not fit",
        ),
        (
            &["--size", "1M", "--layout", "elgg", "--tables", "50"],
            1,
            "Elgg layout",
        ),
        (
            &["--size", "1M", "--rows-per-insert", "0"],
            1,
            "rows-per-insert",
        ),
        (&["--size", "1Q"], 1, "unknown size unit"),
        (&["--size", "1M", "--shape", "wide"], 1, "--shape"),
    ] {
        let out = understudy()
            .arg("generate")
            .args(args)
            .arg("-o")
            .arg(&out_file)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(!out_file.exists(), "{args:?}");
    }
    let out = understudy()
        .args(["generate", "--size", "1M", "-o"])
        .arg(dir.path().join("no/such/dir/out.sql"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// A reader that goes away (a restore that died) is the environment's failure: exit 2,
/// said once.
#[test]
fn generate_into_a_closed_pipe_exits_2() {
    use std::io::Read;
    let mut child = understudy()
        .args(["generate", "--size", "200M"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut head = [0u8; 10];
    child.stdout.take().unwrap().read_exact(&mut head).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.matches("Broken pipe").count(), 1, "{stderr}");
    assert!(stderr.contains("cannot write the dump"), "{stderr}");
}

/// Each pack meets every table it masks in a dump of its layout, in every shape where the
/// tables differ: no `--allow-missing-tables`, and the site's URL moved. (Drupal's many
/// tables are custom fields, which its pack leaves to the site's own rules: it stops at
/// the first, by design.)
#[test]
fn every_pack_runs_on_its_layout_without_allow_missing_tables() {
    let packs = fixtures().join("../rules");
    let cases = [
        ("wordpress", "https://www.example.com", "default"),
        ("wordpress", "https://www.example.com", "many-tables"),
        ("wordpress", "https://www.example.com", "hex-blob"),
        ("wordpress", "https://www.example.com", "mix"),
        ("elgg", "https://www.example.com/", "default"),
        ("elgg", "https://www.example.com/", "mix"),
        ("drupal", "https://www.example.com", "default"),
        ("drupal", "https://www.example.com", "hex-blob"),
        ("drupal", "https://www.example.com", "one-row-inserts"),
    ];
    for (layout, src, shape) in cases {
        let dump = understudy()
            .args([
                "generate", "-q", "--size", "1M", "--layout", layout, "--shape", shape,
            ])
            .output()
            .unwrap();
        assert!(dump.status.success());
        let dst = if src.ends_with('/') {
            "https://int.example.org/"
        } else {
            "https://int.example.org"
        };
        let out = run_with_stdin(
            understudy()
                .args(["rewrite", "-q", "--rules"])
                .arg(packs.join(format!("{layout}.toml")))
                .args([
                    "--var",
                    &format!("src_url={src}"),
                    "--var",
                    &format!("dst_url={dst}"),
                ])
                .env("UNDERSTUDY_SECRET", "generate-test-secret"),
            &dump.stdout,
        );
        assert!(
            out.status.success(),
            "{layout} {shape}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let moved = out
            .stdout
            .windows(15)
            .filter(|w| *w == b"int.example.org")
            .count();
        assert!(moved > 100, "{layout} {shape}: {moved} moved URLs");
    }
}

/// Every shape of every layout is rewritten byte for byte the same with threads as with
/// one, with replacements and with the WordPress pack.
#[test]
fn every_generated_shape_is_rewritten_the_same_with_threads() {
    let dir = tempfile::tempdir().unwrap();
    let configs = configs();
    for layout in [Layout::WordPress, Layout::Elgg, Layout::Drupal] {
        for shape in [
            Shape::Default,
            Shape::ManyTables,
            Shape::OneRowInserts,
            Shape::Serialized,
            Shape::HexBlob,
            Shape::Mix,
        ] {
            if (layout, shape) == (Layout::Elgg, Shape::ManyTables) {
                continue;
            }
            let dump = library(layout, shape, 1 << 20, 9);
            for args in &configs[1..3] {
                assert_same_as_one_thread(
                    dir.path(),
                    &format!("{layout:?} {shape:?}"),
                    &dump,
                    args,
                    &[("2", None), ("3", Some("20000"))],
                );
            }
        }
    }
}
