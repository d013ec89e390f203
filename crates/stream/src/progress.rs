//! What a long run shows while it runs: bytes read, rows, throughput and elapsed time.
//!
//! The counters ([`Progress`]) are bumped where the work already happens in pieces: the
//! input reader adds each read's bytes, the engine stores its row count when it writes a
//! piece of output. Nothing is counted per row or per byte, so a run with a meter costs
//! what one without does. A [`Meter`] thread reads them a few times a second and draws.
//!
//! Most runs read a pipe (`mariadb-dump … | understudy rewrite … | mariadb …`): the size
//! is unknown, so the line shows no percentage and no time left; a file's size gives both.

use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Counters shared between a run and its [`Meter`].
#[derive(Debug, Default)]
pub struct Progress {
    /// Input bytes read, as stored (compressed bytes of a compressed input).
    read: AtomicU64,
    /// The input's size as stored, when it is a file (0: unknown).
    total: AtomicU64,
    rows: AtomicU64,
    /// Whether someone publishes rows (a scan does not).
    counts_rows: AtomicBool,
}

impl Progress {
    /// New counters, all zero.
    pub fn new() -> Arc<Progress> {
        Arc::new(Progress::default())
    }

    /// Adds `n` bytes read from the input.
    pub fn add_read(&self, n: u64) {
        self.read.fetch_add(n, Ordering::Relaxed);
    }

    /// Sets the input's size, as stored.
    pub fn set_total(&self, bytes: u64) {
        self.total.store(bytes, Ordering::Relaxed);
    }

    /// Publishes the number of rows seen so far. A plain store: the one run that owns the
    /// count calls it, as often as it writes.
    pub fn set_rows(&self, rows: u64) {
        self.rows.store(rows, Ordering::Relaxed);
        self.counts_rows.store(true, Ordering::Relaxed);
    }

    /// Input bytes read so far.
    pub fn read(&self) -> u64 {
        self.read.load(Ordering::Relaxed)
    }

    /// Rows seen so far, if the run counts them.
    pub fn rows(&self) -> Option<u64> {
        self.counts_rows
            .load(Ordering::Relaxed)
            .then(|| self.rows.load(Ordering::Relaxed))
    }

    /// The input's size, if known.
    pub fn total(&self) -> Option<u64> {
        Some(self.total.load(Ordering::Relaxed)).filter(|&t| t > 0)
    }

    /// The line a meter shows after `elapsed`.
    pub fn line(&self, elapsed: Duration) -> String {
        let read = self.read();
        let secs = elapsed.as_secs_f64();
        let mut line = format!("understudy: {} read", bytes(read));
        if let Some(total) = self.total() {
            let _ = write!(
                line,
                " of {} ({}%)",
                bytes(total),
                (read.min(total) * 100) / total
            );
        }
        if let Some(rows) = self.rows() {
            let _ = write!(line, ", {} rows", thousands(rows));
        }
        let _ = write!(line, ", {}/s, {}", bytes(rate(read, secs)), clock(secs));
        if let (Some(total), true) = (self.total(), read > 0 && secs > 0.5) {
            let left = total.saturating_sub(read) as f64 * secs / read as f64;
            let _ = write!(line, ", about {} left", clock(left));
        }
        line
    }
}

/// Bytes per second, 0 before any time passed.
pub fn rate(bytes: u64, secs: f64) -> u64 {
    if secs > 0.0 {
        (bytes as f64 / secs) as u64
    } else {
        0
    }
}

/// `n` bytes in decimal units with one decimal (`12.3 MB`), as `pv` and `dd` print them.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["kB", "MB", "GB", "TB", "PB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1000.0;
    let mut unit = 0;
    while value >= 999.95 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// `n` with thousands separated by commas.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// Seconds as `m:ss`, or `h:mm:ss` from an hour on.
fn clock(secs: f64) -> String {
    let s = secs as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// A reader that adds what it reads to [`Progress`]: one atomic add per read call, which
/// for a pipe or file is a chunk of kilobytes.
pub struct Counted<R> {
    inner: R,
    progress: Arc<Progress>,
}

impl<R> Counted<R> {
    /// Counts what `inner` reads into `progress`.
    pub fn new(inner: R, progress: Arc<Progress>) -> Counted<R> {
        Counted { inner, progress }
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.add_read(n as u64);
        Ok(n)
    }
}

/// How a [`Meter`] draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MeterStyle {
    /// One line redrawn in place: standard error is a terminal.
    Redrawn,
    /// A new line each time, for logs (CI) where `\r` would pile up.
    Lines,
}

/// A thread that shows a [`Progress`] on standard error until dropped. Dropped, it stops
/// and, when it redraws, erases its line, so what is printed next (the summary, an error)
/// starts on a clean line.
pub struct Meter {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl Meter {
    /// Starts showing `progress` every `every` in `style`.
    ///
    /// # Errors
    /// When the thread cannot be started.
    pub fn start(progress: Arc<Progress>, style: MeterStyle, every: Duration) -> io::Result<Meter> {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let stopped = Arc::clone(&stop);
        let started = Instant::now();
        let thread = std::thread::Builder::new()
            .name("understudy-progress".into())
            .spawn(move || {
                let (lock, wake) = &*stopped;
                let mut drawn = false;
                let Ok(mut done) = lock.lock() else { return };
                loop {
                    done = match wake.wait_timeout(done, every) {
                        Ok((d, _)) => d,
                        Err(_) => return,
                    };
                    let mut err = io::stderr().lock();
                    if *done {
                        if drawn && style == MeterStyle::Redrawn {
                            let _ = write!(err, "\r\x1b[2K");
                            let _ = err.flush();
                        }
                        return;
                    }
                    let line = progress.line(started.elapsed());
                    // A write that fails (stderr closed) only loses the meter.
                    let _ = match style {
                        MeterStyle::Redrawn => write!(err, "\r\x1b[2K{line}"),
                        MeterStyle::Lines => writeln!(err, "{line}"),
                    };
                    let _ = err.flush();
                    drawn = true;
                }
            })?;
        Ok(Meter {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Meter {
    fn drop(&mut self) {
        let (lock, wake) = &*self.stop;
        if let Ok(mut done) = lock.lock() {
            *done = true;
        }
        wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1000), "1.0 kB");
        assert_eq!(bytes(12_345_678), "12.3 MB");
        assert_eq!(bytes(999_960), "1.0 MB");
        assert_eq!(bytes(4_000_000_000), "4.0 GB");
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(clock(5.9), "0:05");
        assert_eq!(clock(3725.0), "1:02:05");
    }

    #[test]
    fn a_pipe_shows_no_share_and_no_time_left() {
        let p = Progress::new();
        p.add_read(2_000_000);
        assert_eq!(
            p.line(Duration::from_secs(2)),
            "understudy: 2.0 MB read, 1.0 MB/s, 0:02"
        );
        p.set_rows(1500);
        p.set_total(8_000_000);
        assert_eq!(
            p.line(Duration::from_secs(2)),
            "understudy: 2.0 MB read of 8.0 MB (25%), 1,500 rows, 1.0 MB/s, 0:02, about 0:06 left"
        );
    }
}
