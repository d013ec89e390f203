//! Reading and writing on threads of their own, so the rewrite is not also the one waiting
//! on pipes.
//!
//! In `mariadb-dump | understudy rewrite | mariadb` every byte is copied from a pipe into
//! our memory and from our memory into the next pipe; on a single thread those two kernel
//! copies (and gzip or zstd, when the input or output is compressed) take turns with the
//! lexer instead of running beside it. Here a reader thread keeps a few chunks read ahead and
//! a writer thread writes behind, both with buffers that go back and forth, so a steady run
//! allocates nothing. Errors keep their place: a failed read is returned after every byte
//! read before it, and a failed write is returned by the next write or by
//! [`WriteBehind::finish`].

use std::io::{self, BufRead, Read, Write};
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError};
use std::thread::{self, JoinHandle};

/// The size of the chunks handed between threads.
const CHUNK: usize = 256 * 1024;

/// How many chunks may wait between a thread and the rewrite.
const QUEUED: usize = 4;

/// Fills a recycling queue with every buffer it holds, written once so their pages are
/// the process's from the start: the peak memory of a run is then what it is after its
/// first chunks, not what its threads' timing happened to need at some point (the queues
/// fill up only when one side falls behind, which a longer run is likelier to see).
fn fill_pool(pool: &SyncSender<Vec<u8>>, shape: impl Fn(&mut Vec<u8>)) {
    loop {
        let mut buf = vec![1u8; CHUNK];
        shape(&mut buf);
        if pool.try_send(buf).is_err() {
            break;
        }
    }
}

/// A reader fed by a thread that reads `src` ahead.
pub struct ReadAhead {
    chunks: Receiver<io::Result<Vec<u8>>>,
    recycle: SyncSender<Vec<u8>>,
    current: Vec<u8>,
    at: usize,
    /// The source ended (or failed, and the error was returned): every later read gives 0.
    ended: bool,
}

impl ReadAhead {
    /// Starts the reader thread. It stops at the end of `src`, at its first error, or when
    /// this reader is dropped.
    pub fn spawn<R: Read + Send + 'static>(mut src: R) -> io::Result<ReadAhead> {
        let (chunk_tx, chunks) = mpsc::sync_channel::<io::Result<Vec<u8>>>(QUEUED);
        let (recycle, recycled) = mpsc::sync_channel::<Vec<u8>>(QUEUED + 2);
        fill_pool(&recycle, |buf| buf.resize(CHUNK, 0));
        thread::Builder::new()
            .name("understudy-read".into())
            .spawn(move || loop {
                let mut buf = recycled.try_recv().unwrap_or_default();
                // Recycled buffers keep their length, so only a new one is zeroed.
                buf.resize(CHUNK, 0);
                let mut filled = 0;
                let mut failed = None;
                // Fill most of a chunk: a pipe gives at most what it holds per read, and a
                // chunk per read would mean a hand-over every 64 KiB.
                while filled < CHUNK / 2 {
                    match src.read(&mut buf[filled..]) {
                        Ok(0) => break,
                        Ok(n) => filled += n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => {
                            failed = Some(e);
                            break;
                        }
                    }
                }
                let ended = filled == 0 || failed.is_some();
                if filled > 0 {
                    buf.truncate(filled);
                    if chunk_tx.send(Ok(buf)).is_err() {
                        return;
                    }
                }
                if let Some(e) = failed {
                    let _ = chunk_tx.send(Err(e));
                    return;
                }
                if ended {
                    return;
                }
            })?;
        Ok(ReadAhead {
            chunks,
            recycle,
            current: Vec::new(),
            at: 0,
            ended: false,
        })
    }
}

impl Read for ReadAhead {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let chunk = self.fill_buf()?;
        let n = out.len().min(chunk.len());
        out[..n].copy_from_slice(&chunk[..n]);
        self.consume(n);
        Ok(n)
    }
}

/// The chunks as the thread read them: a reader that copies out of them itself (the
/// parallel rewrite's batches) copies each byte once, into memory it never zeroes.
impl BufRead for ReadAhead {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.at == self.current.len() {
            if self.ended {
                return Ok(&[]);
            }
            match self.chunks.recv() {
                Ok(Ok(next)) => {
                    let done = std::mem::replace(&mut self.current, next);
                    self.at = 0;
                    if done.capacity() > 0 {
                        // The thread allocates a new one if this is full or gone.
                        let _ = self.recycle.try_send(done);
                    }
                }
                Ok(Err(e)) => {
                    self.ended = true;
                    return Err(e);
                }
                // The thread ended at the end of its input.
                Err(_) => {
                    self.ended = true;
                    return Ok(&[]);
                }
            }
        }
        Ok(&self.current[self.at..])
    }

    fn consume(&mut self, n: usize) {
        self.at = (self.at + n).min(self.current.len());
    }
}

/// A writer whose bytes a thread writes to the sink `W`.
///
/// [`Write::flush`] hands over what is buffered but does not wait for it to be written;
/// [`WriteBehind::finish`] waits for everything and gives the sink back.
pub struct WriteBehind<W: Write + Send + 'static> {
    buf: Vec<u8>,
    chunks: Option<SyncSender<Vec<u8>>>,
    recycled: Receiver<Vec<u8>>,
    thread: Option<JoinHandle<(W, io::Result<()>)>>,
    /// The writer thread failed and its error was returned once: later writes fail too.
    failed: Option<io::ErrorKind>,
}

impl<W: Write + Send + 'static> WriteBehind<W> {
    /// Starts the writer thread; it owns `sink` until [`WriteBehind::finish`].
    pub fn spawn(mut sink: W) -> io::Result<WriteBehind<W>> {
        let (chunks, rx) = mpsc::sync_channel::<Vec<u8>>(QUEUED);
        let (recycle, recycled) = mpsc::sync_channel::<Vec<u8>>(QUEUED + 2);
        fill_pool(&recycle, Vec::clear);
        let thread = thread::Builder::new()
            .name("understudy-write".into())
            .spawn(move || {
                for mut buf in rx {
                    if let Err(e) = sink.write_all(&buf) {
                        // Dropping `rx` tells the writer side at its next hand-over.
                        return (sink, Err(e));
                    }
                    buf.clear();
                    let _ = recycle.try_send(buf);
                }
                let flushed = sink.flush();
                (sink, flushed)
            })?;
        Ok(WriteBehind {
            buf: Vec::with_capacity(CHUNK),
            chunks: Some(chunks),
            recycled,
            thread: Some(thread),
            failed: None,
        })
    }

    /// Hands the buffered bytes to the thread.
    fn hand_over(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        if let Some(kind) = self.failed {
            return Err(io::Error::new(kind, "an earlier write failed"));
        }
        let next = match self.recycled.try_recv() {
            Ok(buf) => buf,
            Err(TryRecvError::Empty | TryRecvError::Disconnected) => Vec::with_capacity(CHUNK),
        };
        let full = std::mem::replace(&mut self.buf, next);
        let sent = self.chunks.as_ref().map(|tx| tx.send(full));
        match sent {
            Some(Ok(())) => Ok(()),
            // The thread stopped at a failed write: that error, once.
            _ => {
                let e = self.stop().err().unwrap_or_else(|| {
                    io::Error::new(io::ErrorKind::BrokenPipe, "the writer thread stopped")
                });
                self.failed = Some(e.kind());
                Err(e)
            }
        }
    }

    /// Closes the queue and waits for the thread: the sink, if the thread still had it, and
    /// whether every byte was written.
    fn stop(&mut self) -> io::Result<Option<W>> {
        self.chunks = None;
        let Some(thread) = self.thread.take() else {
            return Ok(None);
        };
        match thread.join() {
            Ok((sink, Ok(()))) => Ok(Some(sink)),
            Ok((_, Err(e))) => Err(e),
            Err(_) => Err(io::Error::other("the writer thread panicked")),
        }
    }

    /// Writes everything still buffered, waits for it, and gives the sink back.
    ///
    /// # Errors
    /// The first write that failed, here or on the thread.
    pub fn finish(mut self) -> io::Result<W> {
        self.hand_over()?;
        match self.stop()? {
            Some(sink) => Ok(sink),
            None => Err(io::Error::new(
                self.failed.unwrap_or(io::ErrorKind::BrokenPipe),
                "an earlier write failed",
            )),
        }
    }
}

impl<W: Write + Send + 'static> Write for WriteBehind<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.write_all(data)?;
        Ok(data.len())
    }

    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        if let Some(kind) = self.failed {
            return Err(io::Error::new(kind, "an earlier write failed"));
        }
        // A chunk at a time, so every buffer keeps its first capacity and is used again: a
        // larger one would be a fresh allocation, and fresh pages, each time.
        let mut rest = data;
        while !rest.is_empty() {
            let n = rest.len().min(CHUNK - self.buf.len());
            self.buf.extend_from_slice(&rest[..n]);
            rest = &rest[n..];
            if self.buf.len() >= CHUNK {
                self.hand_over()?;
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.hand_over()
    }
}

impl<W: Write + Send + 'static> Drop for WriteBehind<W> {
    fn drop(&mut self) {
        // Unfinished: close the queue and let the thread end after what it has.
        self.chunks = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A source that gives at most `step` bytes per read, then fails after `fail_after`.
    struct Trickle {
        data: Vec<u8>,
        at: usize,
        step: usize,
        fail_after: Option<usize>,
    }

    impl Read for Trickle {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if self.fail_after.is_some_and(|n| self.at >= n) {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "corrupt input"));
            }
            let limit = self.fail_after.unwrap_or(self.data.len());
            let n = out.len().min(self.step).min(limit - self.at);
            out[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    /// A reader ahead of all of `input`, given `step` bytes per read.
    fn read_ahead(input: &[u8], step: usize) -> ReadAhead {
        ReadAhead::spawn(Trickle {
            data: input.to_vec(),
            at: 0,
            step,
            fail_after: None,
        })
        .unwrap()
    }

    fn data(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 % 251) as u8).collect()
    }

    #[test]
    fn read_ahead_gives_every_byte_in_order() {
        for (len, step, out) in [
            (0, 1, 10),
            (1, 1, 1),
            (3 * CHUNK + 17, 65536, 4096),
            (CHUNK, 1000, 3 * CHUNK),
            (5 * CHUNK / 2, CHUNK, 7),
        ] {
            let input = data(len);
            let mut r = read_ahead(&input, step);
            let mut got = Vec::new();
            let mut buf = vec![0; out];
            loop {
                let n = r.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            assert_eq!(got, input, "len {len}, step {step}, out {out}");
            assert_eq!(r.read(&mut buf).unwrap(), 0, "stays at the end");
        }
    }

    #[test]
    fn read_ahead_buffered_gives_every_byte_in_order() {
        // Consuming a part of each buffer, from one byte to more than a chunk holds.
        for (len, step, take) in [
            (0, 1, 1),
            (3 * CHUNK + 17, 65536, 1),
            (3 * CHUNK + 17, 65536, 4099),
            (5 * CHUNK / 2, CHUNK, 2 * CHUNK),
        ] {
            let input = data(len);
            let mut r = read_ahead(&input, step);
            let mut got = Vec::new();
            loop {
                let buf = r.fill_buf().unwrap();
                if buf.is_empty() {
                    break;
                }
                let n = buf.len().min(take);
                got.extend_from_slice(&buf[..n]);
                r.consume(n);
            }
            assert_eq!(got, input, "len {len}, step {step}, take {take}");
            assert!(r.fill_buf().unwrap().is_empty(), "stays at the end");
        }
    }

    #[test]
    fn a_failed_read_comes_after_the_bytes_before_it() {
        let input = data(CHUNK + 5000);
        let mut r = ReadAhead::spawn(Trickle {
            data: input.clone(),
            at: 0,
            step: 3000,
            fail_after: Some(CHUNK + 1000),
        })
        .unwrap();
        let mut got = Vec::new();
        let mut buf = vec![0; 8192];
        let err = loop {
            match r.read(&mut buf) {
                Ok(0) => panic!("ended without the error"),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => break e,
            }
        };
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(got, input[..CHUNK + 1000]);
        assert_eq!(r.read(&mut buf).unwrap(), 0, "nothing after the error");
    }

    #[test]
    fn write_behind_writes_every_byte_in_order() {
        let input = data(7 * CHUNK + 123);
        let mut w = WriteBehind::spawn(Vec::new()).unwrap();
        let mut at = 0;
        // Small writes, one larger than a chunk, small ones again.
        for size in [1, 100, 5000, 3 * CHUNK, 17].iter().cycle() {
            let end = (at + size).min(input.len());
            w.write_all(&input[at..end]).unwrap();
            at = end;
            if at == input.len() {
                break;
            }
            if at % 3 == 0 {
                w.flush().unwrap();
            }
        }
        assert_eq!(w.finish().unwrap(), input);
    }

    /// Accepts `limit` bytes, then fails every write.
    #[derive(Debug)]
    struct Full {
        limit: usize,
        written: usize,
    }

    impl Write for Full {
        fn write(&mut self, data: &[u8]) -> io::Result<usize> {
            if self.written >= self.limit {
                return Err(io::Error::new(io::ErrorKind::BrokenPipe, "closed"));
            }
            let n = data.len().min(self.limit - self.written);
            self.written += n;
            Ok(n)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_failed_write_is_returned_by_a_later_write_or_by_finish() {
        let mut w = WriteBehind::spawn(Full {
            limit: CHUNK,
            written: 0,
        })
        .unwrap();
        let chunk = data(CHUNK);
        let mut failed = None;
        for _ in 0..100 {
            if let Err(e) = w.write_all(&chunk) {
                failed = Some(e);
                break;
            }
        }
        let e = failed.expect("a write fails once the thread has failed");
        assert_eq!(e.kind(), io::ErrorKind::BrokenPipe);
        assert!(w.write_all(b"x").is_err(), "and every write after it");
        assert!(w.finish().is_err());

        // A failure on the last bytes shows in finish.
        let mut w = WriteBehind::spawn(Full {
            limit: 10,
            written: 0,
        })
        .unwrap();
        w.write_all(&data(100)).unwrap();
        assert_eq!(w.finish().unwrap_err().kind(), io::ErrorKind::BrokenPipe);
    }
}
