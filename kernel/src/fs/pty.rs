//! Pseudo-terminals: a master (`/dev/ptmx`) and a slave (`/dev/pts/N`) around the same
//! line discipline as the console (canonical mode, echo, `ISIG`). Bytes written to the
//! master are the slave's keyboard; what the slave writes (after `OPOST`/`ONLCR`) and
//! the echo are what the master reads. `TIOCGPTN` gives `N`; the slave stays locked
//! (`EIO` on open) until `TIOCSPTLCK` with 0 (musl's `unlockpt`).

use super::devpts::DevPts;
use super::env::{self, Wake};
use super::file::{FileOps, OpenFile, POLLHUP, POLLIN, POLLOUT};
use super::tty::{Event, LineDiscipline, ONLCR, OPOST, TERMIOS_SIZE, Termios};
use super::ttyjob::JobTty;
use crate::errno::Errno;
use alloc::collections::VecDeque;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use spin::Mutex;

const TCGETS: u32 = 0x5401;
const TCSETS: u32 = 0x5402;
const TCSETSW: u32 = 0x5403;
const TCSETSF: u32 = 0x5404;
const FIONREAD: u32 = 0x541B;
const TIOCGPTN: u32 = 0x8004_5430;
const TIOCSPTLCK: u32 = 0x4004_5431;

/// Most bytes waiting for the master's reader (Linux's buffer is about as large);
/// the slave's writer waits when it is full.
const OUT_MAX: usize = 8192;

pub struct Pty {
    index: u32,
    minor: u32,
    instance: Weak<DevPts>,
    ld: Mutex<LineDiscipline>,
    /// Slave output and echo, for the master's reader.
    out: Mutex<VecDeque<u8>>,
    pub job: JobTty,
    locked: AtomicBool,
    master_open: AtomicBool,
    slaves: AtomicUsize,
    slave_was_open: AtomicBool,
}

impl Pty {
    pub fn new(index: u32, minor: u32, instance: Weak<DevPts>) -> Result<Arc<Pty>, Errno> {
        let p = Pty {
            index,
            minor,
            instance,
            ld: Mutex::new(LineDiscipline::new()),
            out: Mutex::new(VecDeque::new()),
            job: JobTty::new(),
            locked: AtomicBool::new(true),
            master_open: AtomicBool::new(true),
            slaves: AtomicUsize::new(0),
            slave_was_open: AtomicBool::new(false),
        };
        Ok(Arc::new(p))
    }

    fn master_chan(&self) -> usize {
        &self.out as *const _ as usize
    }

    fn slave_chan(&self) -> usize {
        &self.ld as *const _ as usize
    }

    fn push_out(&self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let mut out = self.out.lock();
        if out.try_reserve(bytes.len()).is_ok() {
            out.extend(bytes.iter().copied());
        }
        drop(out);
        env::wakeup(self.master_chan());
    }

    /// Bytes typed at the terminal (a write to the master).
    fn input(&self, buf: &[u8]) -> Result<usize, Errno> {
        let mut echo = Vec::new();
        echo.try_reserve(buf.len() * 2).map_err(|_| Errno::ENOMEM)?;
        let mut sigs = 0u64;
        {
            let mut ld = self.ld.lock();
            for &b in buf {
                if let Event::Signal(sig) = ld.input(b, &mut echo) {
                    sigs |= 1 << sig;
                }
            }
        }
        self.push_out(&echo);
        env::wakeup(self.slave_chan());
        let fg = self.job.foreground();
        for sig in 1..64 {
            if sigs & 1 << sig != 0 {
                super::ttyjob::hooks::signal_group(fg, sig);
            }
        }
        Ok(buf.len())
    }

    fn termios_ioctl(&self, cmd: u32, arg: u64, slave: bool) -> Option<Result<usize, Errno>> {
        let r = match cmd {
            TCGETS => {
                let t = self.ld.lock().termios;
                env::copy_to_user(arg, &t.to_bytes())
            }
            TCSETS | TCSETSW | TCSETSF => (|| {
                let mut b = [0u8; TERMIOS_SIZE];
                env::copy_from_user(arg, &mut b)?;
                if slave {
                    self.job.check_change()?;
                }
                self.ld
                    .lock()
                    .set_termios(Termios::from_bytes(&b), cmd == TCSETSF);
                env::wakeup(self.slave_chan());
                Ok(())
            })(),
            FIONREAD => {
                let n = if slave {
                    self.ld.lock().available()
                } else {
                    self.out.lock().len()
                } as i32;
                env::copy_to_user(arg, &n.to_le_bytes())
            }
            _ => return self.job.ioctl(cmd, arg),
        };
        Some(r.map(|_| 0))
    }
}

/// Opens the multiplexer: a new pair in `instance`.
pub fn open_ptmx(instance: Arc<DevPts>) -> Result<Arc<dyn FileOps>, Errno> {
    let pty = instance.allocate()?;
    Ok(Arc::new(Master { pty }))
}

/// `/dev/tty` for a process whose controlling terminal is a pseudo-terminal slave:
/// that slave (`None` otherwise: the console answers).
pub fn open_ctty() -> Option<Arc<dyn FileOps>> {
    let pty = super::devpts::all_open()
        .into_iter()
        .find(|p| p.master_open.load(Ordering::Acquire) && p.job.controls_caller())?;
    pty.slaves.fetch_add(1, Ordering::AcqRel);
    pty.slave_was_open.store(true, Ordering::Release);
    Some(Arc::new(Slave { pty }))
}

/// A session leader exited: the terminals of its session are hung up.
pub fn session_ended(sid: u32) {
    for p in super::devpts::all_open() {
        p.job.session_ended(sid);
    }
    super::devfs::console_session_ended(sid);
}

/// Opens slave `minor` (its node in a devpts instance).
pub fn open_slave(minor: u32) -> Result<Arc<dyn FileOps>, Errno> {
    let pty = super::devpts::slave(minor).ok_or(Errno::EIO)?;
    if pty.locked.load(Ordering::Acquire) || !pty.master_open.load(Ordering::Acquire) {
        return Err(Errno::EIO);
    }
    pty.slaves.fetch_add(1, Ordering::AcqRel);
    pty.slave_was_open.store(true, Ordering::Release);
    Ok(Arc::new(Slave { pty }))
}

struct Master {
    pty: Arc<Pty>,
}

impl Drop for Master {
    fn drop(&mut self) {
        let p = &self.pty;
        p.master_open.store(false, Ordering::Release);
        if let Some(inst) = p.instance.upgrade() {
            inst.release(p.index, p.minor);
        }
        p.job.hangup();
        env::wakeup(p.slave_chan());
        env::wakeup(p.master_chan());
    }
}

impl FileOps for Master {
    fn read(&self, file: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno> {
        let p = &self.pty;
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            {
                let mut out = p.out.lock();
                if !out.is_empty() {
                    let n = buf.len().min(out.len());
                    for (d, s) in buf.iter_mut().zip(out.drain(..n)) {
                        *d = s;
                    }
                    drop(out);
                    env::wakeup(p.slave_chan());
                    return Ok(n);
                }
            }
            if p.slave_was_open.load(Ordering::Acquire) && p.slaves.load(Ordering::Acquire) == 0 {
                // Every slave closed: Linux reports EIO.
                return Err(Errno::EIO);
            }
            if file.nonblocking() {
                return Err(Errno::EAGAIN);
            }
            let deadline = env::monotonic_ns() + 20_000_000;
            if env::sleep(p.master_chan(), Some(deadline)) == Wake::Interrupted {
                return Err(Errno::EINTR);
            }
        }
    }

    fn write(&self, _: &OpenFile, buf: &[u8]) -> Result<usize, Errno> {
        self.pty.input(buf)
    }

    fn ioctl(&self, _file: &OpenFile, cmd: u32, arg: u64) -> Result<usize, Errno> {
        let p = &self.pty;
        match cmd {
            TIOCGPTN => env::copy_to_user(arg, &p.index.to_le_bytes()).map(|_| 0),
            TIOCSPTLCK => {
                let mut b = [0u8; 4];
                env::copy_from_user(arg, &mut b)?;
                p.locked
                    .store(i32::from_le_bytes(b) != 0, Ordering::Release);
                Ok(0)
            }
            _ => p
                .termios_ioctl(cmd, arg, false)
                .unwrap_or(Err(Errno::ENOTTY)),
        }
    }

    fn poll(&self) -> u16 {
        let p = &self.pty;
        let mut r = POLLOUT;
        if !p.out.lock().is_empty() {
            r |= POLLIN;
        }
        if p.slave_was_open.load(Ordering::Acquire) && p.slaves.load(Ordering::Acquire) == 0 {
            r |= POLLHUP;
        }
        r
    }
}

struct Slave {
    pty: Arc<Pty>,
}

impl Drop for Slave {
    fn drop(&mut self) {
        self.pty.slaves.fetch_sub(1, Ordering::AcqRel);
        env::wakeup(self.pty.master_chan());
    }
}

impl FileOps for Slave {
    fn read(&self, file: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno> {
        let p = &self.pty;
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            p.job.check_read()?;
            if let Some(n) = p.ld.lock().read(buf) {
                return Ok(n);
            }
            if !p.master_open.load(Ordering::Acquire) {
                return Ok(0);
            }
            if file.nonblocking() {
                return Err(Errno::EAGAIN);
            }
            let deadline = env::monotonic_ns() + 20_000_000;
            if env::sleep(p.slave_chan(), Some(deadline)) == Wake::Interrupted {
                return Err(Errno::EINTR);
            }
        }
    }

    fn write(&self, file: &OpenFile, buf: &[u8]) -> Result<usize, Errno> {
        let p = &self.pty;
        let oflag = {
            let t = p.ld.lock().termios;
            p.job.check_write(t.lflag)?;
            t.oflag
        };
        loop {
            if !p.master_open.load(Ordering::Acquire) {
                return Err(Errno::EIO);
            }
            if p.out.lock().len() < OUT_MAX {
                break;
            }
            if file.nonblocking() {
                return Err(Errno::EAGAIN);
            }
            let deadline = env::monotonic_ns() + 20_000_000;
            if env::sleep(p.slave_chan(), Some(deadline)) == Wake::Interrupted {
                return Err(Errno::EINTR);
            }
        }
        let mut cooked = Vec::new();
        cooked
            .try_reserve(buf.len() * 2)
            .map_err(|_| Errno::ENOMEM)?;
        for &b in buf {
            if b == b'\n' && oflag & OPOST != 0 && oflag & ONLCR != 0 {
                cooked.push(b'\r');
            }
            cooked.push(b);
        }
        p.push_out(&cooked);
        Ok(buf.len())
    }

    fn ioctl(&self, _file: &OpenFile, cmd: u32, arg: u64) -> Result<usize, Errno> {
        self.pty
            .termios_ioctl(cmd, arg, true)
            .unwrap_or(Err(Errno::ENOTTY))
    }

    fn poll(&self) -> u16 {
        let p = &self.pty;
        if !p.master_open.load(Ordering::Acquire) {
            return POLLIN | POLLOUT | POLLHUP;
        }
        let mut r = 0;
        if p.ld.lock().readable() {
            r |= POLLIN;
        }
        if p.out.lock().len() < OUT_MAX {
            r |= POLLOUT;
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::file::O_RDWR;
    use crate::fs::vfs::FileSystem;

    fn file(ops: Arc<dyn FileOps>) -> Arc<OpenFile> {
        OpenFile::new(ops, None, alloc::string::String::from("/dev/pts/x"), O_RDWR)
    }

    #[test]
    fn master_input_is_echoed_and_the_slave_reads_lines() {
        let inst = DevPts::new().unwrap();
        let m = file(open_ptmx(inst.clone()).unwrap());
        let p = inst.ptys.lock().get(&0).unwrap().upgrade().unwrap();
        assert_eq!(open_slave(p.minor).err(), Some(Errno::EIO), "locked");
        p.locked.store(false, Ordering::Release);
        let s = file(open_slave(p.minor).unwrap());
        assert_eq!(m.write(b"ls\r"), Ok(3));
        let mut buf = [0u8; 16];
        assert_eq!(s.read(&mut buf), Ok(3));
        assert_eq!(&buf[..3], b"ls\n");
        assert_eq!(s.write(b"a\n"), Ok(2));
        let n = m.read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"ls\na\r\n", "echo, then output with ONLCR");
        assert_eq!(m.poll() & POLLIN, 0);
        drop(s);
        assert_eq!(m.read(&mut buf), Err(Errno::EIO), "the slave closed");
    }

    #[test]
    fn each_instance_numbers_from_zero_and_reuses_numbers() {
        let a = DevPts::new().unwrap();
        let b = DevPts::new().unwrap();
        let m0 = open_ptmx(a.clone()).unwrap();
        let m1 = open_ptmx(a.clone()).unwrap();
        let n0 = open_ptmx(b.clone()).unwrap();
        let idx = |inst: &Arc<DevPts>| -> Vec<u32> { inst.ptys.lock().keys().copied().collect() };
        assert_eq!(idx(&a), [0, 1]);
        assert_eq!(idx(&b), [0]);
        assert!(a.fs.root().lookup("1").is_ok());
        drop(m0);
        assert!(
            a.fs.root().lookup("0").is_err(),
            "the node goes with the master"
        );
        let again = open_ptmx(a.clone()).unwrap();
        assert_eq!(idx(&a), [0, 1]);
        drop((m1, n0, again));
    }
}
