//! Character devices and devtmpfs. Device nodes are ordinary ramfs nodes carrying a
//! device number; opening one goes through `open_device`, as Linux's chrdev table does.
//! The console is the serial line under the `tty` line discipline: the serial IRQ hands
//! each received byte to `console_input`.

use super::env::{self, Wake};
use super::file::{FileOps, OpenFile, POLLIN, POLLOUT};
use super::ramfs::RamFs;
use super::tty::{Event, LineDiscipline, TERMIOS_SIZE, Termios};
use super::ttyjob::JobTty;
use super::vfs::{FileSystem, S_IFBLK, S_IFCHR, makedev};
use crate::errno::Errno;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use spin::{Mutex, Once};

pub const NULL: (u32, u32) = (1, 3);
pub const ZERO: (u32, u32) = (1, 5);
pub const FULL: (u32, u32) = (1, 7);
pub const RANDOM: (u32, u32) = (1, 8);
pub const URANDOM: (u32, u32) = (1, 9);
pub const TTY: (u32, u32) = (5, 0);
pub const CONSOLE: (u32, u32) = (5, 1);
/// RAM block devices `/dev/ram0`..`/dev/ram3`: block major 1 (Linux's ramdisk).
pub const RAM_MAJOR: u32 = 1;
pub const RAM_DEVICES: u32 = 4;

/// The persistent file system (type `ramblk`) of RAM block device `rdev`: one instance
/// per device for the kernel's lifetime, so its contents survive unmounting and every
/// mount shows the same tree. `None` for other device numbers.
pub fn ramblk(rdev: u64) -> Option<Arc<RamFs>> {
    static DISKS: [Once<Arc<RamFs>>; RAM_DEVICES as usize] =
        [const { Once::new() }; RAM_DEVICES as usize];
    let (ma, mi) = (super::vfs::major(rdev), super::vfs::minor(rdev));
    if ma != RAM_MAJOR || mi >= RAM_DEVICES {
        return None;
    }
    Some(
        DISKS[mi as usize]
            .call_once(|| RamFs::new("ramblk"))
            .clone(),
    )
}

/// The devtmpfs instance (Linux has one, whatever the number of mounts).
pub fn devtmpfs() -> Arc<RamFs> {
    static DEV: Once<Arc<RamFs>> = Once::new();
    DEV.call_once(|| {
        let fs = RamFs::new("devtmpfs");
        let root = fs.root();
        let nodes = [
            ("null", NULL, 0o666),
            ("zero", ZERO, 0o666),
            ("full", FULL, 0o666),
            ("random", RANDOM, 0o666),
            ("urandom", URANDOM, 0o666),
            ("tty", TTY, 0o666),
            ("console", CONSOLE, 0o600),
            ("ptmx", (5, 2), 0o666),
        ];
        for (name, (ma, mi), perm) in nodes {
            root.create(name, S_IFCHR | perm, 0, 0, makedev(ma, mi))
                .expect("a fresh devtmpfs has room for its nodes");
        }
        for n in 0..RAM_DEVICES {
            root.create(
                &alloc::format!("ram{n}"),
                S_IFBLK | 0o660,
                0,
                0,
                makedev(RAM_MAJOR, n),
            )
            .expect("a fresh devtmpfs has room for its block devices");
        }
        root.mkdir("shm", 0o1777, 0, 0)
            .expect("a fresh devtmpfs has room for shm");
        root.mkdir("pts", 0o755, 0, 0)
            .expect("a fresh devtmpfs has room for pts");
        fs
    })
    .clone()
}

/// The file object of character device `rdev`; `ENXIO` if there is no such device.
pub fn open_device(rdev: u64) -> Result<Arc<dyn FileOps>, Errno> {
    let dev = (super::vfs::major(rdev), super::vfs::minor(rdev));
    Ok(match dev {
        NULL => Arc::new(Null),
        ZERO => Arc::new(Zero),
        FULL => Arc::new(Full),
        RANDOM | URANDOM => Arc::new(Random),
        TTY | CONSOLE => Arc::new(Console),
        _ => return Err(Errno::ENXIO),
    })
}

struct Null;

impl FileOps for Null {
    fn read(&self, _: &OpenFile, _: &mut [u8]) -> Result<usize, Errno> {
        Ok(0)
    }
    fn write(&self, _: &OpenFile, buf: &[u8]) -> Result<usize, Errno> {
        Ok(buf.len())
    }
    fn pread(&self, _: u64, _: &mut [u8]) -> Result<usize, Errno> {
        Ok(0)
    }
    fn pwrite(&self, _: u64, buf: &[u8]) -> Result<usize, Errno> {
        Ok(buf.len())
    }
    fn seek(&self, _: &OpenFile, _: i64, _: u32) -> Result<u64, Errno> {
        Ok(0)
    }
}

struct Zero;

impl FileOps for Zero {
    fn read(&self, _: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno> {
        buf.fill(0);
        Ok(buf.len())
    }
    fn write(&self, _: &OpenFile, buf: &[u8]) -> Result<usize, Errno> {
        Ok(buf.len())
    }
    fn pread(&self, _: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        buf.fill(0);
        Ok(buf.len())
    }
    fn pwrite(&self, _: u64, buf: &[u8]) -> Result<usize, Errno> {
        Ok(buf.len())
    }
    fn seek(&self, _: &OpenFile, _: i64, _: u32) -> Result<u64, Errno> {
        Ok(0)
    }
}

/// `/dev/full`: reads give zeros, writes `ENOSPC` (null(4)).
struct Full;

impl FileOps for Full {
    fn read(&self, f: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno> {
        Zero.read(f, buf)
    }
    fn write(&self, _: &OpenFile, _: &[u8]) -> Result<usize, Errno> {
        Err(Errno::ENOSPC)
    }
    fn pread(&self, off: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        Zero.pread(off, buf)
    }
    fn pwrite(&self, _: u64, _: &[u8]) -> Result<usize, Errno> {
        Err(Errno::ENOSPC)
    }
    fn seek(&self, _: &OpenFile, _: i64, _: u32) -> Result<u64, Errno> {
        Ok(0)
    }
}

/// Not cryptographic: a xorshift generator seeded from the clock, enough for the
/// programs that read a seed from `/dev/urandom`.
struct Random;

impl FileOps for Random {
    fn read(&self, _: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno> {
        static STATE: AtomicU64 = AtomicU64::new(0);
        let mut x = STATE.load(Ordering::Relaxed) ^ env::monotonic_ns() ^ 0x9E37_79B9_7F4A_7C15;
        for chunk in buf.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
        }
        STATE.store(x, Ordering::Relaxed);
        Ok(buf.len())
    }
    fn write(&self, _: &OpenFile, buf: &[u8]) -> Result<usize, Errno> {
        Ok(buf.len())
    }
}

static LINE: Mutex<LineDiscipline> = Mutex::new(LineDiscipline::new());

/// Bytes received while the line discipline was locked (the IRQ must not spin on a
/// lock the interrupted thread holds): a single-producer ring drained under the lock.
struct InputRing {
    bytes: [AtomicU8; 256],
    head: AtomicUsize,
    tail: AtomicUsize,
}

static RING: InputRing = InputRing {
    bytes: [const { AtomicU8::new(0) }; 256],
    head: AtomicUsize::new(0),
    tail: AtomicUsize::new(0),
};

impl InputRing {
    fn push(&self, b: u8) {
        let head = self.head.load(Ordering::Relaxed);
        if head.wrapping_sub(self.tail.load(Ordering::Acquire)) >= self.bytes.len() {
            return; // full: drop, as a UART overrun would
        }
        self.bytes[head % self.bytes.len()].store(b, Ordering::Relaxed);
        self.head.store(head.wrapping_add(1), Ordering::Release);
    }

    fn pop(&self) -> Option<u8> {
        let tail = self.tail.load(Ordering::Relaxed);
        if tail == self.head.load(Ordering::Acquire) {
            return None;
        }
        let b = self.bytes[tail % self.bytes.len()].load(Ordering::Relaxed);
        self.tail.store(tail.wrapping_add(1), Ordering::Release);
        Some(b)
    }
}

fn console_chan() -> usize {
    &LINE as *const _ as usize
}

/// The console's job-control state: the controlling terminal of init's session.
fn console_job() -> &'static JobTty {
    static JOB: Once<JobTty> = Once::new();
    JOB.call_once(|| {
        let j = JobTty::new();
        j.set_initial(1, 24, 80);
        j
    })
}

/// The console's session ended (its leader exited).
pub fn console_session_ended(sid: u32) {
    console_job().session_ended(sid);
}

/// Runs `f` on the line discipline after feeding it the bytes received meanwhile.
fn with_line<R>(f: impl FnOnce(&mut LineDiscipline) -> R) -> R {
    let mut ld = LINE.lock();
    let sigs = drain(&mut ld);
    let r = f(&mut ld);
    drop(ld);
    send_isig(sigs);
    r
}

/// Feeds the received bytes to the line discipline; returns the signals (a bit per
/// number) typed for the foreground group (^C, ^\, ^Z under `ISIG`).
fn drain(ld: &mut LineDiscipline) -> u64 {
    let mut echo = Vec::new();
    let mut sigs = 0u64;
    while let Some(b) = RING.pop() {
        if let Event::Signal(sig) = ld.input(b, &mut echo) {
            sigs |= 1 << sig;
        }
    }
    if !echo.is_empty() {
        env::console_write(&echo);
    }
    sigs
}

/// Sends the typed signals to the console's foreground process group (no lock held).
fn send_isig(sigs: u64) {
    if sigs == 0 {
        return;
    }
    let fg = console_job().foreground();
    for sig in 1..64 {
        if sigs & 1 << sig != 0 {
            super::ttyjob::hooks::signal_group(fg, sig);
        }
    }
}

/// A byte received on the serial line (called from the serial IRQ handler, which
/// only interrupts user mode or the idle loop: no kernel lock is held here).
pub fn console_input(byte: u8) {
    RING.push(byte);
    let mut sigs = 0;
    if let Some(mut ld) = LINE.try_lock() {
        sigs = drain(&mut ld);
    }
    send_isig(sigs);
    env::wakeup(console_chan());
}

/// A console read re-checks at least this often: a byte that arrives between the check
/// and the sleep wakes nobody (the IRQ can run in that window).
const CONSOLE_RECHECK_NS: u64 = 20_000_000;

struct Console;

const TCGETS: u32 = 0x5401;
const TCSETS: u32 = 0x5402;
const TCSETSW: u32 = 0x5403;
const TCSETSF: u32 = 0x5404;
const FIONREAD: u32 = 0x541B;

impl FileOps for Console {
    fn read(&self, file: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            console_job().check_read()?;
            if let Some(n) = with_line(|ld| ld.read(buf)) {
                return Ok(n);
            }
            if file.nonblocking() {
                return Err(Errno::EAGAIN);
            }
            let deadline = env::monotonic_ns() + CONSOLE_RECHECK_NS;
            if env::sleep(console_chan(), Some(deadline)) == Wake::Interrupted {
                return Err(Errno::EINTR);
            }
        }
    }

    fn write(&self, _: &OpenFile, buf: &[u8]) -> Result<usize, Errno> {
        console_job().check_write(with_line(|ld| ld.termios.lflag))?;
        env::console_write(buf);
        Ok(buf.len())
    }

    fn ioctl(&self, _file: &OpenFile, cmd: u32, arg: u64) -> Result<usize, Errno> {
        if let Some(r) = console_job().ioctl(cmd, arg) {
            return r;
        }
        match cmd {
            TCGETS => {
                let t = with_line(|ld| ld.termios);
                env::copy_to_user(arg, &t.to_bytes())?;
            }
            TCSETS | TCSETSW | TCSETSF => {
                let mut b = [0u8; TERMIOS_SIZE];
                env::copy_from_user(arg, &mut b)?;
                console_job().check_change()?;
                with_line(|ld| ld.set_termios(Termios::from_bytes(&b), cmd == TCSETSF));
            }
            FIONREAD => {
                let n = with_line(|ld| ld.available()) as i32;
                env::copy_to_user(arg, &n.to_le_bytes())?;
            }
            _ => return Err(Errno::ENOTTY),
        }
        Ok(0)
    }

    fn poll(&self) -> u16 {
        if with_line(|ld| ld.readable()) {
            POLLIN | POLLOUT
        } else {
            POLLOUT
        }
    }

    fn wait_chan(&self) -> Option<usize> {
        Some(console_chan())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::file::O_RDWR;

    fn open(name: &str) -> Arc<OpenFile> {
        let node = devtmpfs().root().lookup(name).expect("device node");
        let ops = open_device(node.metadata().rdev).expect("device");
        OpenFile::new(ops, Some(node), alloc::format!("/dev/{name}"), O_RDWR)
    }

    #[test]
    fn null_zero_and_full_behave_like_linux() {
        let null = open("null");
        let mut buf = [1u8; 8];
        assert_eq!(null.read(&mut buf), Ok(0));
        assert_eq!(null.write(b"abc"), Ok(3));
        let zero = open("zero");
        assert_eq!(zero.read(&mut buf), Ok(8));
        assert_eq!(buf, [0; 8]);
        assert_eq!(zero.stat().map(|m| m.rdev), Ok(makedev(1, 5)));
        let full = open("full");
        buf = [1u8; 8];
        assert_eq!(full.read(&mut buf), Ok(8));
        assert_eq!(buf, [0; 8]);
        assert_eq!(full.write(b"abc"), Err(Errno::ENOSPC));
        assert_eq!(full.stat().map(|m| m.rdev), Ok(makedev(1, 7)));
    }

    #[test]
    fn each_ram_device_has_one_persistent_file_system() {
        let a = ramblk(makedev(RAM_MAJOR, 0)).expect("ram0");
        assert!(Arc::ptr_eq(
            &a,
            &ramblk(makedev(RAM_MAJOR, 0)).expect("ram0")
        ));
        assert!(!Arc::ptr_eq(
            &a,
            &ramblk(makedev(RAM_MAJOR, 3)).expect("ram3")
        ));
        assert!(ramblk(makedev(RAM_MAJOR, 4)).is_none());
        assert!(ramblk(makedev(8, 0)).is_none());
        assert_eq!(a.name(), "ramblk");
        let m = devtmpfs().root().lookup("ram2").expect("ram2").metadata();
        assert_eq!(
            (m.file_type(), m.rdev),
            (super::super::vfs::FileType::BlockDevice, makedev(1, 2))
        );
    }

    #[test]
    fn unknown_devices_give_enxio_and_other_files_no_tty_ioctls() {
        assert_eq!(open_device(makedev(42, 42)).err(), Some(Errno::ENXIO));
        assert_eq!(open("null").ioctl(TCGETS, 0), Err(Errno::ENOTTY));
    }

    #[test]
    fn console_input_becomes_readable_lines_and_is_echoed() {
        let con = open("console");
        let _ = env::take_console_output();
        for &b in b"hi\r" {
            console_input(b);
        }
        assert_eq!(env::take_console_output(), b"hi\n");
        assert_eq!(con.poll() & POLLIN, POLLIN);
        let mut buf = [0u8; 8];
        assert_eq!(con.read(&mut buf), Ok(3));
        assert_eq!(&buf[..3], b"hi\n");
        assert_eq!(con.write(b"out"), Ok(3));
        assert_eq!(env::take_console_output(), b"out");
        assert_eq!(con.ioctl(0x1234, 0), Err(Errno::ENOTTY));
    }
}
