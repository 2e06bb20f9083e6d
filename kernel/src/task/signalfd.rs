//! signalfd (signalfd(2)): a file from which the reading thread takes its pending signals
//! of a mask as 128-byte `struct signalfd_siginfo` records, instead of having them
//! delivered (the mask is normally blocked). `POLLIN` while one is pending.

use super::sched;
use super::signal::{self, SIGCHLD, UNBLOCKABLE};
use crate::errno::Errno;
use crate::fs::file::{FileOps, O_NONBLOCK, O_RDWR, OpenFile, POLLIN};
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use spin::Mutex;

pub const SFD_CLOEXEC: u32 = 0o2000000;
pub const SFD_NONBLOCK: u32 = O_NONBLOCK;

pub struct SignalFd {
    mask: Mutex<u64>,
}

/// Open signalfds by the address of their file object (to recognise one by its fd).
static SIGNALFDS: Mutex<BTreeMap<usize, Weak<SignalFd>>> = Mutex::new(BTreeMap::new());

/// The wait channel of every signalfd: a signal sent anywhere notifies it, and poll,
/// select and epoll on a signalfd wait there.
static CHAN: u8 = 0;

pub fn chan() -> usize {
    &CHAN as *const u8 as usize
}

impl Drop for SignalFd {
    fn drop(&mut self) {
        SIGNALFDS.lock().remove(&(self as *const SignalFd as usize));
    }
}

/// A new signalfd for `mask` (SIGKILL and SIGSTOP are left out, as Linux does).
pub fn open(mask: u64, flags: u32) -> Arc<OpenFile> {
    let s = Arc::new(SignalFd {
        mask: Mutex::new(mask & !UNBLOCKABLE),
    });
    SIGNALFDS
        .lock()
        .insert(Arc::as_ptr(&s) as usize, Arc::downgrade(&s));
    OpenFile::new(
        s,
        None,
        String::from("anon_inode:[signalfd]"),
        O_RDWR | (flags & SFD_NONBLOCK),
    )
}

/// Replaces the mask of `file` if it is a signalfd (`EINVAL` otherwise).
pub fn set_mask(file: &OpenFile, mask: u64) -> Result<(), Errno> {
    let key = Arc::as_ptr(file.ops()) as *const () as usize;
    let s = SIGNALFDS
        .lock()
        .get(&key)
        .and_then(Weak::upgrade)
        .ok_or(Errno::EINVAL)?;
    *s.mask.lock() = mask & !UNBLOCKABLE;
    Ok(())
}

/// `struct signalfd_siginfo` from a `siginfo_t`: the union's fields by the kind of
/// signal (a child's status, an I/O signal's band and fd, else the sender and value).
pub fn record(info: &[u8; 128]) -> [u8; 128] {
    let i32_at = |o: usize| i32::from_le_bytes([info[o], info[o + 1], info[o + 2], info[o + 3]]);
    let u64_at = |o: usize| u64::from_le_bytes(info[o..o + 8].try_into().unwrap_or([0; 8]));
    let (signo, code) = (i32_at(0), i32_at(8));
    let mut r = [0u8; 128];
    let mut put32 = |o: usize, v: u32| r[o..o + 4].copy_from_slice(&v.to_le_bytes());
    put32(0, signo as u32);
    put32(4, i32_at(4) as u32);
    put32(8, code as u32);
    let head = u64_at(16);
    let third = u64_at(24);
    if code > 0 && signo as u32 == SIGCHLD {
        put32(12, head as u32); // ssi_pid
        put32(16, (head >> 32) as u32); // ssi_uid
        put32(40, third as u32); // ssi_status
    } else if code > 0 {
        put32(28, head as u32); // ssi_band
        put32(20, third as u32); // ssi_fd
    } else {
        put32(12, head as u32);
        put32(16, (head >> 32) as u32);
        put32(44, third as u32); // ssi_int
        r[48..56].copy_from_slice(&third.to_le_bytes()); // ssi_ptr
    }
    r
}

impl FileOps for SignalFd {
    fn read(&self, file: &OpenFile, buf: &mut [u8]) -> Result<usize, Errno> {
        if buf.len() < 128 {
            return Err(Errno::EINVAL);
        }
        let t = sched::current();
        let mut done = 0;
        loop {
            let mask = *self.mask.lock();
            while done + 128 <= buf.len() {
                let Some((sig, detail)) = signal::take_from_set(&t, mask) else {
                    break;
                };
                let info = signal::siginfo_bytes(&t, sig, detail);
                buf[done..done + 128].copy_from_slice(&record(&info));
                done += 128;
            }
            if done > 0 {
                return Ok(done);
            }
            if file.nonblocking() {
                return Err(Errno::EAGAIN);
            }
            t.inner.lock().sigwait = mask;
            let woke = sched::sleep(0, None);
            t.inner.lock().sigwait = 0;
            if woke == sched::Wake::Interrupted && signal::pending_of(&t) & mask == 0 {
                return Err(Errno::EINTR);
            }
        }
    }

    fn write(&self, _file: &OpenFile, _buf: &[u8]) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }

    fn wait_chan(&self) -> Option<usize> {
        Some(chan())
    }

    fn poll(&self) -> u16 {
        let mask = *self.mask.lock();
        match sched::try_current() {
            Some(t) if signal::pending_of(&t) & mask != 0 => POLLIN,
            _ => 0,
        }
    }
}
