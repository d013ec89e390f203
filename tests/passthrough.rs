//! With no rules, `understudy rewrite` writes back exactly the bytes it read, through every
//! combination of plain, gzip and zstd input and output.

use std::process::Stdio;

use crate::util::{fixture_dumps, run_with_stdin, understudy};

#[test]
fn every_fixture_is_byte_identical_through_stdin_and_stdout() {
    let dumps = fixture_dumps();
    assert!(dumps.len() >= 10, "fixture corpus missing: {dumps:?}");
    for path in dumps {
        let data = std::fs::read(&path).unwrap();
        let out = run_with_stdin(understudy().arg("rewrite"), &data);
        assert!(
            out.status.success(),
            "{}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stdout == data,
            "{} changed in passthrough",
            path.display()
        );
    }
}

#[test]
fn file_input_and_file_output() {
    let dir = tempfile::tempdir().unwrap();
    for path in fixture_dumps() {
        let target = dir.path().join("out.sql");
        let status = understudy()
            .arg("rewrite")
            .arg(&path)
            .arg("-o")
            .arg(&target)
            .stderr(Stdio::inherit())
            .status()
            .unwrap();
        assert!(status.success());
        assert!(std::fs::read(&target).unwrap() == std::fs::read(&path).unwrap());
    }
}

/// `-o /dev/null` or `-o` a named pipe into a restore: written to as a stream. Renaming a
/// finished temporary file over it would replace the device or pipe with a regular file.
#[test]
fn an_output_path_that_is_not_a_regular_file_is_written_to_not_replaced() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("restore.pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let path = fixture_dumps().into_iter().next().unwrap();
    let reading = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    let status = understudy()
        .arg("rewrite")
        .arg(&path)
        .arg("-o")
        .arg(&fifo)
        .stderr(Stdio::inherit())
        .status()
        .unwrap();
    assert!(status.success());
    assert!(reading.join().unwrap() == std::fs::read(&path).unwrap());
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 1, "no temporary file left beside it: {left:?}");
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn gunzip(data: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(data)
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[test]
fn gzip_and_zstd_round_trip_byte_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let original = std::fs::read(crate::util::fixtures().join("dumps/wordpress.default.sql"))
        .expect("wordpress fixture");
    let inputs: Vec<(&str, Vec<u8>)> = vec![
        ("plain", original.clone()),
        ("gzip", gzip(&original)),
        ("zstd", zstd::encode_all(&original[..], 3).unwrap()),
        // Two gzip members back to back are one stream, as `cat a.gz b.gz` makes.
        ("gzip-multi", {
            let half = original.len() / 2;
            let mut two = gzip(&original[..half]);
            two.extend(gzip(&original[half..]));
            two
        }),
    ];
    for (name, input) in &inputs {
        for ext in ["sql", "sql.gz", "sql.zst"] {
            let target = dir.path().join(format!("{name}.{ext}"));
            let out = run_with_stdin(understudy().arg("rewrite").arg("-o").arg(&target), input);
            assert!(
                out.status.success(),
                "{name} → {ext}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let written = std::fs::read(&target).unwrap();
            let decoded = match ext {
                "sql" => written.clone(),
                "sql.gz" => {
                    assert_eq!(&written[..2], &[0x1f, 0x8b], "{name} → {ext} is gzip");
                    gunzip(&written)
                }
                _ => {
                    assert_eq!(
                        &written[..4],
                        &[0x28, 0xb5, 0x2f, 0xfd],
                        "{name} → {ext} is zstd"
                    );
                    zstd::decode_all(&written[..]).unwrap()
                }
            };
            assert!(decoded == original, "{name} → {ext} is not byte-identical");
        }
    }
    // --compress on standard output.
    let out = run_with_stdin(
        understudy().args(["rewrite", "--compress", "zstd"]),
        &original,
    );
    assert!(zstd::decode_all(&out.stdout[..]).unwrap() == original);
    let out = run_with_stdin(
        understudy().args(["rewrite", "--compress", "gzip"]),
        &original,
    );
    assert!(gunzip(&out.stdout) == original);
}

#[test]
fn dry_run_reads_everything_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("never.sql");
    let dump = std::fs::read(crate::util::fixtures().join("dumps/wordpress.default.sql")).unwrap();
    let out = run_with_stdin(
        understudy()
            .args([
                "rewrite",
                "--dry-run",
                "--replace",
                "www.example.com=x.example",
            ])
            .arg("-o")
            .arg(&target),
        &dump,
    );
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    assert!(!target.exists());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("values replaced"), "{stderr}");
    // It still checks the input.
    let out = run_with_stdin(
        understudy().args(["rewrite", "--dry-run"]),
        &dump[..dump.len() - 40],
    );
    assert_eq!(out.status.code(), Some(1));
}

/// Pipes in and out get a 1 MiB buffer (Linux's default is 64 KiB), so a pipeline's
/// processes take turns less often; what goes through is unchanged.
#[cfg(target_os = "linux")]
#[test]
fn pipes_in_and_out_are_widened() {
    use std::io::{Read, Write};
    // The pipes are made, and measured, before the child starts: measured after, a child
    // quick to widen them would look like a machine whose pipes are wide already.
    // Close-on-exec, so the child holds no copy of the test's ends (it would never see the
    // end of its input).
    let cloexec = rustix::pipe::PipeFlags::CLOEXEC;
    let (in_read, in_write) = rustix::pipe::pipe_with(cloexec).unwrap();
    let (out_read, out_write) = rustix::pipe::pipe_with(cloexec).unwrap();
    let before = rustix::pipe::fcntl_getpipe_size(&in_write).unwrap();
    assert!(
        before < 1 << 20,
        "the test needs a narrower default pipe: {before}"
    );
    let mut child = understudy()
        .args(["rewrite", "--quiet"])
        .stdin(Stdio::from(in_read))
        .stdout(Stdio::from(out_write))
        .spawn()
        .unwrap();
    let (mut stdin, mut stdout) = (std::fs::File::from(in_write), std::fs::File::from(out_read));
    let dump = b"CREATE TABLE `t` (`id` int);\nINSERT INTO `t` VALUES (1);\n";
    stdin.write_all(dump).unwrap();
    // Both are widened as the rewrite starts, while it waits for the rest of its input.
    let widened = |pipe: &dyn std::os::fd::AsFd| {
        (0..1000).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(10));
            rustix::pipe::fcntl_getpipe_size(pipe.as_fd()).unwrap() == 1 << 20
        })
    };
    assert!(widened(&stdin), "standard input");
    assert!(widened(&stdout), "standard output");
    drop(stdin);
    let mut out = Vec::new();
    stdout.read_to_end(&mut out).unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(out, dump);
}
