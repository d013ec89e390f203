//! Runs of length-prefixed frames in an anonymous temporary file: where the engine puts
//! what it must keep per table when a dump has more tables than memory should hold (see
//! [`crate::tables`] and [`crate::schemas`]).
//!
//! Frames are written at a position and read at theirs (`pwrite`/`pread`), so any number
//! of readers share one file without sharing a cursor. A frame is its length (`u32`), then
//! its fields: integers little-endian, strings as their length (`u32`) and bytes.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::ops::Range;
use std::os::unix::fs::FileExt;

/// Bytes each reader holds.
const READ_BUFFER: usize = 16 * 1024;

/// Writes frames one after another from a position of a file.
pub(crate) struct FrameWriter<'a> {
    out: BufWriter<PositionedWriter<'a>>,
    /// Where the next frame starts.
    at: u64,
    frame: Vec<u8>,
}

impl<'a> FrameWriter<'a> {
    pub(crate) fn new(file: &'a File, start: u64) -> FrameWriter<'a> {
        FrameWriter {
            out: BufWriter::new(PositionedWriter { file, pos: start }),
            at: start,
            frame: Vec::new(),
        }
    }

    /// Where the next frame starts.
    pub(crate) fn position(&self) -> u64 {
        self.at
    }

    /// Writes the frame `fill` puts into the buffer it is given.
    pub(crate) fn frame(&mut self, fill: impl FnOnce(&mut Vec<u8>)) -> io::Result<()> {
        self.frame.clear();
        self.frame.extend_from_slice(&[0; 4]);
        fill(&mut self.frame);
        let len = u32::try_from(self.frame.len() - 4)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a frame of 4 GiB or more"))?;
        self.frame[..4].copy_from_slice(&len.to_le_bytes());
        self.out.write_all(&self.frame)?;
        self.at += self.frame.len() as u64;
        Ok(())
    }

    /// Flushes what is buffered; where the frames end.
    pub(crate) fn finish(mut self) -> io::Result<u64> {
        self.out.flush()?;
        Ok(self.at)
    }
}

/// Writes at a position of a file shared by readers that read at theirs.
struct PositionedWriter<'a> {
    file: &'a File,
    pos: u64,
}

impl Write for PositionedWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Reads the frames of a byte range of a file, in order.
pub(crate) struct FrameReader<'a> {
    file: &'a File,
    /// The range's bytes not yet in `buf`.
    rest: Range<u64>,
    buf: Vec<u8>,
    /// The first byte of `buf` not yet read.
    at: usize,
}

impl<'a> FrameReader<'a> {
    pub(crate) fn new(file: &'a File, range: Range<u64>) -> FrameReader<'a> {
        FrameReader {
            file,
            rest: range,
            buf: Vec::new(),
            at: 0,
        }
    }

    /// Makes `n` bytes available at `buf[at..]`.
    fn fill(&mut self, n: usize) -> io::Result<()> {
        if self.buf.len() - self.at >= n {
            return Ok(());
        }
        self.buf.drain(..self.at);
        self.at = 0;
        let want = (n - self.buf.len()).max(READ_BUFFER) as u64;
        let take = want.min(self.rest.end - self.rest.start) as usize;
        let old = self.buf.len();
        self.buf.resize(old + take, 0);
        self.file
            .read_exact_at(&mut self.buf[old..], self.rest.start)?;
        self.rest.start += take as u64;
        if self.buf.len() < n {
            return Err(cut_short());
        }
        Ok(())
    }

    /// The next frame's fields, if there is a frame left.
    pub(crate) fn next_frame(&mut self) -> io::Result<Option<Decoder<'_>>> {
        if self.at == self.buf.len() && self.rest.is_empty() {
            return Ok(None);
        }
        self.fill(4)?;
        let len = u32::from_le_bytes(self.buf[self.at..self.at + 4].try_into().expect("4 bytes"));
        let len = len as usize;
        self.fill(4 + len)?;
        let start = self.at + 4;
        self.at = start + len;
        let frame = &self.buf[start..start + len];
        Ok(Some(Decoder {
            frame,
            bytes: frame,
        }))
    }
}

fn cut_short() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "a frame read back from the temporary file is cut short",
    )
}

pub(crate) fn put_u64(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(&n.to_le_bytes());
}

pub(crate) fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// Reads the fields of one frame.
pub(crate) struct Decoder<'b> {
    frame: &'b [u8],
    /// What is not read yet.
    bytes: &'b [u8],
}

impl<'b> Decoder<'b> {
    /// The whole frame, read or not, as [`FrameWriter::frame`] takes it.
    pub(crate) fn frame(&self) -> &'b [u8] {
        self.frame
    }

    fn take(&mut self, n: usize) -> io::Result<&'b [u8]> {
        if self.bytes.len() < n {
            return Err(cut_short());
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    pub(crate) fn u64(&mut self) -> io::Result<u64> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }

    pub(crate) fn string(&mut self) -> io::Result<String> {
        self.str().map(str::to_owned)
    }

    /// A string, borrowed from the frame.
    pub(crate) fn str(&mut self) -> io::Result<&'b str> {
        let len = u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")) as usize;
        std::str::from_utf8(self.take(len)?)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }
}

/// Entries per block of a run: a lookup reads one block, found by the first names of the
/// blocks, which stay in memory (a few bytes per table).
const BLOCK: usize = 32;

/// A run of frames sorted by name, in a file of its own, which goes when the run is merged
/// away.
#[derive(Debug)]
pub(crate) struct RunFile {
    file: File,
    len: u64,
    /// Its entries.
    pub(crate) count: usize,
    /// The first name of each block of [`BLOCK`] frames, and where the block starts.
    blocks: Vec<(Box<str>, u64)>,
}

impl RunFile {
    /// A run of `entries`, names and their frames in name order, in a new anonymous file.
    pub(crate) fn write(
        entries: impl Iterator<Item = io::Result<(String, Vec<u8>)>>,
    ) -> io::Result<RunFile> {
        let file = tempfile::tempfile()?;
        let mut out = FrameWriter::new(&file, 0);
        let mut blocks = Vec::new();
        let mut count = 0;
        for entry in entries {
            let (name, frame) = entry?;
            if count % BLOCK == 0 {
                blocks.push((name.into_boxed_str(), out.position()));
            }
            out.frame(|bytes| bytes.extend_from_slice(&frame))?;
            count += 1;
        }
        let len = out.finish()?;
        Ok(RunFile {
            file,
            len,
            count,
            blocks,
        })
    }

    /// Its frames, in order.
    pub(crate) fn frames(&self) -> FrameReader<'_> {
        FrameReader::new(&self.file, 0..self.len)
    }

    /// The frames of the block that holds `name`'s frame if the run has one.
    pub(crate) fn block_of(&self, name: &str) -> Option<FrameReader<'_>> {
        let i = self.blocks.partition_point(|(first, _)| &**first <= name);
        let start = self.blocks.get(i.checked_sub(1)?)?.1;
        let end = self.blocks.get(i).map_or(self.len, |b| b.1);
        Some(FrameReader::new(&self.file, start..end))
    }

    /// Whether the newest two of runs (oldest first) whose entries are `older` and `newer`
    /// are to be merged: when the newest holds at least half as many entries as the one
    /// before. Runs then grow geometrically from newest to oldest, as a binary counter's
    /// bits: a dump of `n` tables leaves about `log2(n / batch)` runs and writes each entry
    /// about as many times (merging all runs at a fixed count wrote every entry again at
    /// each merge, which cost seconds on 200,000 tables).
    pub(crate) fn merge_last_two(older: usize, newer: usize) -> bool {
        newer * 2 >= older
    }
}

/// Entries in name order, each name once: a run's frames decoded, or entries kept in
/// memory.
pub(crate) type Source<'a, T> = Box<dyn Iterator<Item = io::Result<(String, T)>> + 'a>;

/// The frames of `run`, each decoded by `decode` into a name and its entry.
pub(crate) fn decoded<'a, T: 'a>(
    run: &'a RunFile,
    decode: fn(&mut Decoder<'_>) -> io::Result<(String, T)>,
) -> Source<'a, T> {
    let mut frames = run.frames();
    Box::new(std::iter::from_fn(move || match frames.next_frame() {
        Ok(Some(mut d)) => Some(decode(&mut d)),
        Ok(None) => None,
        Err(e) => Some(Err(e)),
    }))
}

/// Sources merged by name (the merge of an external sort): each name once, with the
/// entries every source holds for it combined by `combine(older, newer)`, from the first
/// source to the last. A name's entries come from sources in the order they were made, so
/// the first source is the oldest.
pub(crate) struct Merged<'a, T> {
    sources: Vec<Source<'a, T>>,
    /// Per source, its next entry, if read.
    heads: Vec<Option<T>>,
    /// The names of the next entries, smallest first; ties go to the older source.
    order: BinaryHeap<Reverse<(String, usize)>>,
    combine: fn(T, T) -> T,
    /// Whether every source's first entry was read: not before the first `next`, so that
    /// making the merge does no I/O.
    started: bool,
}

impl<'a, T> Merged<'a, T> {
    pub(crate) fn new(sources: Vec<Source<'a, T>>, combine: fn(T, T) -> T) -> Merged<'a, T> {
        Merged {
            heads: sources.iter().map(|_| None).collect(),
            sources,
            order: BinaryHeap::new(),
            combine,
            started: false,
        }
    }

    /// Reads the next entry of source `i`.
    fn advance(&mut self, i: usize) -> io::Result<()> {
        if let Some(entry) = self.sources[i].next() {
            let (name, t) = entry?;
            self.order.push(Reverse((name, i)));
            self.heads[i] = Some(t);
        }
        Ok(())
    }

    fn next_merged(&mut self) -> io::Result<Option<(String, T)>> {
        if !self.started {
            self.started = true;
            for i in 0..self.sources.len() {
                self.advance(i)?;
            }
        }
        let Some(Reverse((name, i))) = self.order.pop() else {
            return Ok(None);
        };
        let mut merged = self.heads[i].take().expect("a named source has a head");
        self.advance(i)?;
        while self
            .order
            .peek()
            .is_some_and(|Reverse((next, _))| *next == name)
        {
            let Some(Reverse((_, j))) = self.order.pop() else {
                break;
            };
            let t = self.heads[j].take().expect("a named source has a head");
            merged = (self.combine)(merged, t);
            self.advance(j)?;
        }
        Ok(Some((name, merged)))
    }
}

impl<T> Iterator for Merged<'_, T> {
    type Item = io::Result<(String, T)>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_merged().transpose()
    }
}
