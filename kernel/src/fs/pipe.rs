//! Pipes: a 64 KiB buffer between a read end and a write end. Reads block until data
//! or until every writer is gone (then EOF); writes block for room, and fail with
//! `EPIPE` plus `SIGPIPE` once every reader is gone. `O_NONBLOCK` gives `EAGAIN`.
//! Writes of at most `PIPE_BUF` bytes are atomic. The pipe and its buffer (which grows
//! with what is written, up to 64 KiB) are charged to the group of the process that made
//! it: a write that cannot grow the buffer over the group's limit gives `ENOMEM`.

use super::env::{self, Wake};
use super::fasync::{BAND_IN, BAND_OUT, FasyncList, POLL_IN, POLL_OUT};
use super::file::{
    FileOps, O_ACCMODE, O_RDONLY, O_WRONLY, OpenFile, POLLERR, POLLHUP, POLLIN, POLLOUT,
};
use super::vfs::{Metadata, S_IFIFO, alloc_dev};
use crate::errno::Errno;
use crate::plimits::kmem::{self, Charge};
use alloc::collections::VecDeque;
use alloc::format;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};
use spin::{Mutex, Once};

pub const PIPE_CAPACITY: usize = 64 * 1024;
pub const PIPE_BUF: usize = 4096;

struct State {
    buf: VecDeque<u8>,
    readers: usize,
    writers: usize,
    /// The pipe object and the buffer's capacity.
    charge: Charge,
}

/// What a pipe whose buffer holds `cap` bytes costs on the heap.
fn pipe_cost(cap: usize) -> u64 {
    kmem::arc_cost::<Pipe>() + kmem::array_cost::<u8>(cap)
}

impl State {
    /// Room in the buffer for `n` more bytes, the bigger buffer charged first: `ENOMEM`
    /// over the group's limit or when the heap has no room.
    fn make_room(&mut self, n: usize) -> Result<(), Errno> {
        let len = self.buf.len() + n;
        if len <= self.buf.capacity() {
            return Ok(());
        }
        let cap = len
            .max(self.buf.capacity().saturating_mul(2))
            .min(PIPE_CAPACITY);
        self.charge.resize(pipe_cost(cap))?;
        let grown = self.buf.try_reserve_exact(cap - self.buf.len());
        let _ = self.charge.resize(pipe_cost(self.buf.capacity()));
        grown.map_err(|_| Errno::ENOMEM)
    }
}

pub struct Pipe {
    ino: u64,
    state: Mutex<State>,
    /// Ends with `O_ASYNC`: readers hear of data, writers of room.
    async_readers: FasyncList,
    async_writers: FasyncList,
}

impl Pipe {
    fn chan(&self) -> usize {
        self as *const Pipe as usize
    }

    fn metadata(&self) -> Metadata {
        static DEV: Once<u64> = Once::new();
        let now = env::now();
        Metadata {
            dev: *DEV.call_once(alloc_dev),
            ino: self.ino,
            mode: S_IFIFO | 0o600,
            nlink: 1,
            blksize: 4096,
            atime: now,
            mtime: now,
            ctime: now,
            ..Default::default()
        }
    }
}

pub struct PipeReader(Arc<Pipe>);
pub struct PipeWriter(Arc<Pipe>);

/// A new pipe as its two open files: (read end, write end). `flags` may hold
/// `O_NONBLOCK` (and `O_CLOEXEC`, which is the fd table's business).
/// The pipe is charged to the caller's group (`ENOMEM` over its limit); the two files are
/// charged when installed.
pub fn new_pipe(flags: u32) -> Result<(Arc<OpenFile>, Arc<OpenFile>), Errno> {
    static NEXT_INO: AtomicU64 = AtomicU64::new(1);
    let charge = Charge::new(pipe_cost(0))?;
    let ino = NEXT_INO.fetch_add(1, Ordering::Relaxed);
    let pipe = Arc::new(Pipe {
        ino,
        state: Mutex::new(State {
            buf: VecDeque::new(),
            readers: 1,
            writers: 1,
            charge,
        }),
        async_readers: FasyncList::default(),
        async_writers: FasyncList::default(),
    });
    let name = format!("pipe:[{ino}]");
    let status = flags & super::file::O_NONBLOCK;
    let r = OpenFile::new(
        Arc::new(PipeReader(pipe.clone())),
        None,
        name.clone(),
        super::file::O_RDONLY | status,
    );
    let w = OpenFile::new(
        Arc::new(PipeWriter(pipe)),
        None,
        name,
        super::file::O_WRONLY | status,
    );
    Ok((r, w))
}

/// Sleeps on the pipe; `EINTR` if a signal arrived.
fn wait(pipe: &Pipe) -> Result<(), Errno> {
    match env::sleep(pipe.chan(), None) {
        Wake::Interrupted => Err(Errno::EINTR),
        _ => Ok(()),
    }
}

impl FileOps for PipeReader {
    fn reopen(&self, flags: u32) -> Option<Result<Arc<dyn FileOps>, Errno>> {
        Some(Ok(reopen(&self.0, flags)))
    }

    fn read(&self, file: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno> {
        if buf.is_empty() {
            return Ok(0);
        }
        let p = &self.0;
        loop {
            {
                let mut s = p.state.lock();
                if !s.buf.is_empty() {
                    let n = buf.len().min(s.buf.len());
                    for (dst, src) in buf.iter_mut().zip(s.buf.drain(..n)) {
                        *dst = src;
                    }
                    drop(s);
                    env::wakeup(p.chan());
                    p.async_writers.notify(POLL_OUT, BAND_OUT);
                    return Ok(n);
                }
                if s.writers == 0 {
                    return Ok(0);
                }
            }
            if file.nonblocking() {
                return Err(Errno::EAGAIN);
            }
            wait(p)?;
        }
    }

    fn write(&self, _file: &OpenFile, _buf: &[u8]) -> Result<usize, Errno> {
        Err(Errno::EBADF)
    }

    fn stat(&self) -> Result<Metadata, Errno> {
        Ok(self.0.metadata())
    }

    fn poll(&self) -> u16 {
        let s = self.0.state.lock();
        let mut ev = 0;
        if !s.buf.is_empty() {
            ev |= POLLIN;
        }
        if s.writers == 0 {
            ev |= POLLHUP;
        }
        ev
    }

    fn ioctl(&self, _file: &OpenFile, cmd: u32, arg: u64) -> Result<usize, Errno> {
        fionread(cmd, arg, self.0.state.lock().buf.len())
    }

    fn wait_chan(&self) -> Option<usize> {
        Some(self.0.chan())
    }

    fn fasync(&self, file: &Arc<OpenFile>) -> Result<(), Errno> {
        self.0.async_readers.add(file)
    }

    /// As `read`, but the data stays in the pipe.
    fn peek(&self, file: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno> {
        let p = &self.0;
        loop {
            {
                let s = p.state.lock();
                if !s.buf.is_empty() || buf.is_empty() {
                    let n = buf.len().min(s.buf.len());
                    for (dst, src) in buf.iter_mut().zip(s.buf.iter()) {
                        *dst = *src;
                    }
                    return Ok(n);
                }
                if s.writers == 0 {
                    return Ok(0);
                }
            }
            if file.nonblocking() {
                return Err(Errno::EAGAIN);
            }
            wait(p)?;
        }
    }
}

fn fionread(cmd: u32, arg: u64, avail: usize) -> Result<usize, Errno> {
    const FIONREAD: u32 = 0x541B;
    if cmd != FIONREAD {
        return Err(Errno::ENOTTY);
    }
    env::copy_to_user(arg, &(avail as i32).to_le_bytes())?;
    Ok(0)
}

/// Opens pipe `p` again (`/proc/[pid]/fd/N`): a read end, a write end, or for `O_RDWR`
/// both, as Linux's FIFO open.
fn reopen(p: &Arc<Pipe>, flags: u32) -> Arc<dyn FileOps> {
    let reader = || {
        p.state.lock().readers += 1;
        PipeReader(p.clone())
    };
    let writer = || {
        p.state.lock().writers += 1;
        PipeWriter(p.clone())
    };
    match flags & O_ACCMODE {
        O_RDONLY => Arc::new(reader()),
        O_WRONLY => Arc::new(writer()),
        _ => Arc::new(PipeBoth(reader(), writer())),
    }
}

/// Both ends of a pipe in one open file (a pipe reopened with `O_RDWR`).
struct PipeBoth(PipeReader, PipeWriter);

impl FileOps for PipeBoth {
    fn read(&self, file: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno> {
        self.0.read(file, buf)
    }
    fn write(&self, file: &OpenFile, buf: &[u8]) -> Result<usize, Errno> {
        self.1.write(file, buf)
    }
    fn stat(&self) -> Result<Metadata, Errno> {
        self.0.stat()
    }
    fn poll(&self) -> u16 {
        self.0.poll() | self.1.poll()
    }
    fn ioctl(&self, file: &OpenFile, cmd: u32, arg: u64) -> Result<usize, Errno> {
        self.0.ioctl(file, cmd, arg)
    }
    fn wait_chan(&self) -> Option<usize> {
        self.0.wait_chan()
    }
    fn fasync(&self, file: &Arc<OpenFile>) -> Result<(), Errno> {
        self.0.fasync(file)?;
        self.1.fasync(file)
    }
    fn peek(&self, file: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno> {
        self.0.peek(file, buf)
    }
    fn reopen(&self, flags: u32) -> Option<Result<Arc<dyn FileOps>, Errno>> {
        Some(Ok(reopen(&self.0.0, flags)))
    }
}

impl Drop for PipeReader {
    fn drop(&mut self) {
        self.0.state.lock().readers -= 1;
        env::wakeup(self.0.chan());
    }
}

impl FileOps for PipeWriter {
    fn reopen(&self, flags: u32) -> Option<Result<Arc<dyn FileOps>, Errno>> {
        Some(Ok(reopen(&self.0, flags)))
    }

    fn read(&self, _file: &OpenFile, _buf: &mut [u8]) -> Result<usize, Errno> {
        Err(Errno::EBADF)
    }

    fn write(&self, file: &OpenFile, buf: &[u8]) -> Result<usize, Errno> {
        if buf.is_empty() {
            return Ok(0);
        }
        let p = &self.0;
        let mut done = 0;
        loop {
            {
                let mut s = p.state.lock();
                if s.readers == 0 {
                    drop(s);
                    env::sigpipe_current();
                    return if done > 0 {
                        Ok(done)
                    } else {
                        Err(Errno::EPIPE)
                    };
                }
                let room = PIPE_CAPACITY - s.buf.len();
                let left = buf.len() - done;
                // A small write goes in whole or waits; a large one goes in pieces.
                let n = if buf.len() <= PIPE_BUF {
                    if room >= left { left } else { 0 }
                } else {
                    room.min(left)
                };
                if n > 0 {
                    if let Err(e) = s.make_room(n) {
                        return if done > 0 { Ok(done) } else { Err(e) };
                    }
                    s.buf.extend(&buf[done..done + n]);
                    done += n;
                    drop(s);
                    env::wakeup(p.chan());
                    p.async_readers.notify(POLL_IN, BAND_IN);
                    if done == buf.len() {
                        return Ok(done);
                    }
                    continue;
                }
            }
            if file.nonblocking() {
                return if done > 0 {
                    Ok(done)
                } else {
                    Err(Errno::EAGAIN)
                };
            }
            if let Err(e) = wait(p) {
                return if done > 0 { Ok(done) } else { Err(e) };
            }
        }
    }

    fn stat(&self) -> Result<Metadata, Errno> {
        Ok(self.0.metadata())
    }

    fn poll(&self) -> u16 {
        let s = self.0.state.lock();
        let mut ev = 0;
        if s.buf.len() + PIPE_BUF <= PIPE_CAPACITY {
            ev |= POLLOUT;
        }
        if s.readers == 0 {
            ev |= POLLERR;
        }
        ev
    }

    fn ioctl(&self, _file: &OpenFile, cmd: u32, arg: u64) -> Result<usize, Errno> {
        fionread(cmd, arg, self.0.state.lock().buf.len())
    }

    fn wait_chan(&self) -> Option<usize> {
        Some(self.0.chan())
    }

    fn fasync(&self, file: &Arc<OpenFile>) -> Result<(), Errno> {
        self.0.async_writers.add(file)
    }
}

impl Drop for PipeWriter {
    fn drop(&mut self) {
        self.0.state.lock().writers -= 1;
        env::wakeup(self.0.chan());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::file::O_NONBLOCK;
    use alloc::vec;

    #[test]
    fn data_flows_from_the_write_end_to_the_read_end() {
        let (r, w) = new_pipe(0).expect("pipe");
        assert_eq!(w.write(b"hello"), Ok(5));
        let mut buf = [0u8; 3];
        assert_eq!(r.read(&mut buf), Ok(3));
        assert_eq!(&buf, b"hel");
        assert_eq!(r.poll() & POLLIN, POLLIN);
        assert_eq!(r.read(&mut buf), Ok(2));
        assert_eq!(
            r.read(&mut buf),
            Err(Errno::EINTR),
            "blocking (interrupted at once on the host)"
        );
        assert_eq!(
            w.read(&mut buf),
            Err(Errno::EBADF),
            "the write end is write-only"
        );
        assert_eq!(r.stat().map(|m| m.mode), Ok(S_IFIFO | 0o600));
    }

    #[test]
    fn eof_when_writers_are_gone_and_epipe_when_readers_are_gone() {
        let (r, w) = new_pipe(O_NONBLOCK).expect("pipe");
        let mut buf = [0u8; 4];
        assert_eq!(r.read(&mut buf), Err(Errno::EAGAIN));
        w.write(b"x").expect("write");
        drop(w);
        assert_eq!(r.read(&mut buf), Ok(1), "buffered data survives the writer");
        assert_eq!(r.read(&mut buf), Ok(0), "then EOF");
        assert_eq!(r.poll() & POLLHUP, POLLHUP);
        let (r, w) = new_pipe(0).expect("pipe");
        drop(r);
        assert_eq!(w.write(b"x"), Err(Errno::EPIPE));
        assert_eq!(w.poll() & POLLERR, POLLERR);
    }

    #[test]
    fn a_full_pipe_takes_what_fits_then_gives_eagain() {
        let (r, w) = new_pipe(O_NONBLOCK).expect("pipe");
        let big = vec![7u8; PIPE_CAPACITY + 100];
        assert_eq!(w.write(&big), Ok(PIPE_CAPACITY));
        assert_eq!(w.write(b"x"), Err(Errno::EAGAIN));
        assert_eq!(w.poll() & POLLOUT, 0);
        let mut buf = vec![0u8; 10];
        r.read(&mut buf).expect("read");
        assert_eq!(
            w.write(&[1u8; PIPE_BUF]),
            Err(Errno::EAGAIN),
            "small writes are all or nothing"
        );
        assert_eq!(w.write(&[1u8; 10]), Ok(10));
    }
}
