//! POSIX message queues: wrappers for `mq_open` … `mq_getsetattr` (syscalls 240–245), called
//! as musl calls them (the name without its leading `/`), plus `poll(2)` for one descriptor.

use crate::sys::{self, SysResult, Timespec, check, syscall1, syscall3, syscall4, syscall5};
use alloc::ffi::CString;
use alloc::vec::Vec;

pub mod nr {
    pub const POLL: usize = 7;
    pub const MQ_OPEN: usize = 240;
    pub const MQ_UNLINK: usize = 241;
    pub const MQ_TIMEDSEND: usize = 242;
    pub const MQ_TIMEDRECEIVE: usize = 243;
    pub const MQ_NOTIFY: usize = 244;
    pub const MQ_GETSETATTR: usize = 245;
}

pub const ENAMETOOLONG: i32 = 36;
pub const ENOTSOCK: i32 = 88;
pub const EMSGSIZE: i32 = 90;

pub const MQ_PRIO_MAX: u32 = 32768;
pub const SIGEV_SIGNAL: i32 = 0;
pub const SIGEV_NONE: i32 = 1;
pub const SIGEV_THREAD: i32 = 2;

pub const POLLIN: i16 = 0x1;
pub const POLLOUT: i16 = 0x4;

/// `struct mq_attr`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MqAttr {
    pub flags: i64,
    pub maxmsg: i64,
    pub msgsize: i64,
    pub curmsgs: i64,
    pub reserved: [i64; 4],
}

impl MqAttr {
    /// Attributes for a new queue.
    pub fn new(maxmsg: i64, msgsize: i64) -> MqAttr {
        MqAttr {
            maxmsg,
            msgsize,
            ..Default::default()
        }
    }
}

/// `struct sigevent` (64 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct SigEvent {
    pub value: u64,
    pub signo: i32,
    pub notify: i32,
    pub rest: [u64; 6],
}

impl SigEvent {
    pub fn new(notify: i32, signo: i32, value: u64) -> SigEvent {
        SigEvent {
            value,
            signo,
            notify,
            rest: [0; 6],
        }
    }
}

/// The name as musl's `mq_open` passes it: a leading `/` stripped.
fn kernel_name(name: &str) -> CString {
    let n = name.strip_prefix('/').unwrap_or(name);
    CString::new(n).unwrap_or_default()
}

// SAFETY (the calls below): every pointer comes from a reference or slice lent for the call.

/// `mq_open(name, oflag, mode, attr)`.
pub fn open(name: &str, oflag: usize, mode: usize, attr: Option<&MqAttr>) -> SysResult<i32> {
    let n = kernel_name(name);
    let a = attr.map_or(0, |a| a as *const MqAttr as usize);
    // SAFETY: see above.
    check(unsafe { syscall4(nr::MQ_OPEN, n.as_ptr() as usize, oflag, mode, a) }).map(|fd| fd as i32)
}

/// `mq_open` of an existing queue.
pub fn open_existing(name: &str, oflag: usize) -> SysResult<i32> {
    open(name, oflag, 0, None)
}

pub fn unlink(name: &str) -> SysResult {
    let n = kernel_name(name);
    // SAFETY: see above.
    check(unsafe { syscall1(nr::MQ_UNLINK, n.as_ptr() as usize) })
}

/// `mq_timedsend`; `abs` is an absolute `CLOCK_REALTIME` time.
pub fn timedsend(fd: i32, msg: &[u8], prio: u32, abs: Option<&Timespec>) -> SysResult {
    let t = abs.map_or(0, |t| t as *const Timespec as usize);
    // SAFETY: see above.
    check(unsafe {
        syscall5(
            nr::MQ_TIMEDSEND,
            fd as usize,
            msg.as_ptr() as usize,
            msg.len(),
            prio as usize,
            t,
        )
    })
}

pub fn send(fd: i32, msg: &[u8], prio: u32) -> SysResult {
    timedsend(fd, msg, prio, None)
}

/// `mq_timedreceive`: `(length, priority)`.
pub fn timedreceive(fd: i32, buf: &mut [u8], abs: Option<&Timespec>) -> SysResult<(usize, u32)> {
    let mut prio = u32::MAX;
    let t = abs.map_or(0, |t| t as *const Timespec as usize);
    // SAFETY: see above.
    let n = check(unsafe {
        syscall5(
            nr::MQ_TIMEDRECEIVE,
            fd as usize,
            buf.as_mut_ptr() as usize,
            buf.len(),
            &mut prio as *mut u32 as usize,
            t,
        )
    })?;
    Ok((n, prio))
}

pub fn receive(fd: i32, buf: &mut [u8]) -> SysResult<(usize, u32)> {
    timedreceive(fd, buf, None)
}

/// Receives one message into a buffer of `cap` bytes: `(message, priority)`.
pub fn receive_vec(fd: i32, cap: usize) -> SysResult<(Vec<u8>, u32)> {
    let mut buf = alloc::vec![0u8; cap];
    let (n, p) = receive(fd, &mut buf)?;
    buf.truncate(n);
    Ok((buf, p))
}

/// `mq_notify(fd, ev)`; `None` removes the caller's registration.
pub fn notify(fd: i32, ev: Option<&SigEvent>) -> SysResult {
    let e = ev.map_or(0, |e| e as *const SigEvent as usize);
    // SAFETY: see above.
    check(unsafe { syscall3(nr::MQ_NOTIFY, fd as usize, e, 0) })
}

/// `mq_getsetattr(fd, new, old)`.
pub fn getsetattr(fd: i32, new: Option<&MqAttr>, old: Option<&mut MqAttr>) -> SysResult {
    let n = new.map_or(0, |a| a as *const MqAttr as usize);
    let o = old.map_or(0, |a| a as *mut MqAttr as usize);
    // SAFETY: see above.
    check(unsafe { syscall3(nr::MQ_GETSETATTR, fd as usize, n, o) })
}

pub fn getattr(fd: i32) -> SysResult<MqAttr> {
    let mut a = MqAttr::default();
    getsetattr(fd, None, Some(&mut a))?;
    Ok(a)
}

/// `mq_setattr` of `mq_flags` (only `O_NONBLOCK` counts).
pub fn set_flags(fd: i32, flags: i64) -> SysResult {
    let a = MqAttr {
        flags,
        ..Default::default()
    };
    getsetattr(fd, Some(&a), None)
}

/// `poll` on one descriptor for `events` with a timeout in ms: the returned events.
pub fn poll_one(fd: i32, events: i16, timeout_ms: i32) -> SysResult<i16> {
    #[repr(C)]
    struct PollFd {
        fd: i32,
        events: i16,
        revents: i16,
    }
    let mut p = PollFd {
        fd,
        events,
        revents: 0,
    };
    // SAFETY: see above.
    check(unsafe {
        syscall3(
            nr::POLL,
            &mut p as *mut PollFd as usize,
            1,
            timeout_ms as isize as usize,
        )
    })?;
    Ok(p.revents)
}

/// An absolute `CLOCK_REALTIME` time `ms` milliseconds from now.
pub fn realtime_in(ms: u64) -> Timespec {
    let now = sys::clock_gettime(sys::CLOCK_REALTIME).unwrap_or_default();
    Timespec::from_nanos(now.as_nanos() + ms * 1_000_000)
}
