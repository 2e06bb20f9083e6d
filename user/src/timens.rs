//! TIME containers: `/proc/[pid]/time_offsets` and `timens_offsets` helpers, the clocks a
//! TIME container shifts, `clock_nanosleep`, timerfds, `sysinfo`'s uptime, `/proc/uptime`,
//! and `clone3` (the only clone that creates a TIME container).

use crate::container::{read_text, write_text};
use crate::sys::{self, CloneArgs, SysResult, Timespec, check, syscall2, syscall3, syscall4};
use alloc::format;
use alloc::string::String;

/// Besides `sys::CLOCK_MONOTONIC` and `sys::CLOCK_BOOTTIME`.
pub const CLOCK_MONOTONIC_RAW: usize = 4;
pub const CLOCK_MONOTONIC_COARSE: usize = 6;
pub const TIMER_ABSTIME: usize = 1;
pub const NSEC: i64 = 1_000_000_000;

/// `setns` into a TIME container by a multithreaded caller (beyond `sys::errno`).
pub const EUSERS: i32 = 87;

pub const TFD_TIMER_ABSTIME: usize = 1;
pub const TFD_NONBLOCK: usize = 0o4000;
pub const TFD_CLOEXEC: usize = 0o2000000;
pub const POLLIN: u16 = 1;

const CLOCK_NANOSLEEP: usize = 230;
const POLL: usize = 7;
const TIMERFD_CREATE: usize = 283;
const TIMERFD_SETTIME: usize = 286;
const TIMERFD_GETTIME: usize = 287;
const SYSINFO: usize = 99;

/// A clock's value in nanoseconds (-1 when it cannot be read).
pub fn clock_ns(clock: usize) -> i64 {
    sys::clock_gettime(clock).map_or(-1, |t| t.tv_sec * NSEC + t.tv_nsec)
}

/// `clock_nanosleep(clock, flags, ns)` without a remainder.
pub fn clock_nanosleep(clock: usize, flags: usize, ns: i64) -> SysResult {
    let ts = Timespec {
        tv_sec: ns / NSEC,
        tv_nsec: ns % NSEC,
    };
    // SAFETY: `ts` is live for the call; no remainder pointer.
    check(unsafe { syscall4(CLOCK_NANOSLEEP, clock, flags, &ts as *const _ as usize, 0) })
}

/// `sysinfo().uptime` in seconds.
pub fn sysinfo_uptime() -> SysResult<i64> {
    let mut b = [0u8; 112];
    // SAFETY: the kernel writes at most `struct sysinfo` (112 bytes) into `b`.
    check(unsafe { syscall2(SYSINFO, b.as_mut_ptr() as usize, 0) })?;
    Ok(i64::from_le_bytes(b[0..8].try_into().unwrap_or([0; 8])))
}

/// The first field of `/proc/uptime` in whole seconds.
pub fn proc_uptime_secs() -> SysResult<i64> {
    let t = read_text("/proc/uptime")?;
    t.split('.')
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or(sys::errno::EINVAL)
}

/// `/proc/<pid>/<file>` (`pid` may be "self").
pub fn offsets_path(pid: &str, file: &str) -> String {
    format!("/proc/{}/{}", pid, file)
}

pub fn read_offsets(pid: &str, file: &str) -> SysResult<String> {
    read_text(&offsets_path(pid, file))
}

/// One `write` of `text` (what it returned).
pub fn write_offsets(pid: &str, file: &str, text: &str) -> SysResult {
    write_text(&offsets_path(pid, file), text.as_bytes())
}

/// A `clone3` child that runs `f`, then exits 0 if none of its checks failed, else 1.
/// Fork-like: no stack, no CLONE_VM.
pub fn clone3_run(flags: usize, exit_signal: usize, f: impl FnOnce()) -> SysResult<i32> {
    let args = CloneArgs {
        flags: flags as u64,
        exit_signal: exit_signal as u64,
        ..Default::default()
    };
    match sys::clone3(&args, core::mem::size_of::<CloneArgs>())? {
        0 => {
            f();
            sys::exit(if crate::test::case_failed() { 1 } else { 0 })
        }
        pid => Ok(pid),
    }
}

/// `struct itimerspec` as `(value, interval)` nanoseconds.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Itimerspec {
    interval: Timespec,
    value: Timespec,
}

fn ts(ns: i64) -> Timespec {
    Timespec {
        tv_sec: ns / NSEC,
        tv_nsec: ns % NSEC,
    }
}

pub fn timerfd_create(clock: usize, flags: usize) -> SysResult<i32> {
    // SAFETY: no pointer.
    check(unsafe { syscall2(TIMERFD_CREATE, clock, flags) }).map(|f| f as i32)
}

/// `timerfd_settime(fd, flags, {value, interval})`; returns the old `(value, interval)`.
pub fn timerfd_settime(fd: i32, flags: usize, value: i64, interval: i64) -> SysResult<(i64, i64)> {
    let new = Itimerspec {
        interval: ts(interval),
        value: ts(value),
    };
    let mut old = Itimerspec::default();
    // SAFETY: both structures are live for the call; the kernel writes `old`.
    check(unsafe {
        syscall4(
            TIMERFD_SETTIME,
            fd as isize as usize,
            flags,
            &new as *const _ as usize,
            &mut old as *mut _ as usize,
        )
    })?;
    Ok((old.value.as_nanos() as i64, old.interval.as_nanos() as i64))
}

/// `timerfd_gettime`: `(value, interval)` in nanoseconds.
pub fn timerfd_gettime(fd: i32) -> SysResult<(i64, i64)> {
    let mut cur = Itimerspec::default();
    // SAFETY: the kernel writes `cur`.
    check(unsafe {
        syscall2(
            TIMERFD_GETTIME,
            fd as isize as usize,
            &mut cur as *mut _ as usize,
        )
    })?;
    Ok((cur.value.as_nanos() as i64, cur.interval.as_nanos() as i64))
}

/// One `read` of a timerfd: the expiration count.
pub fn timerfd_read(fd: i32) -> SysResult<u64> {
    let mut b = [0u8; 8];
    let n = sys::read(fd, &mut b)?;
    if n != 8 {
        return Err(sys::errno::EINVAL);
    }
    Ok(u64::from_ne_bytes(b))
}

/// `poll` of one fd for `events`: the revents (0 on timeout).
pub fn poll_one(fd: i32, events: u16, timeout_ms: i32) -> SysResult<u16> {
    let mut rec = [0u8; 8];
    rec[0..4].copy_from_slice(&fd.to_ne_bytes());
    rec[4..6].copy_from_slice(&events.to_ne_bytes());
    // SAFETY: one `struct pollfd` the kernel reads and writes.
    check(unsafe {
        syscall3(
            POLL,
            rec.as_mut_ptr() as usize,
            1,
            timeout_ms as isize as usize,
        )
    })?;
    Ok(u16::from_ne_bytes([rec[6], rec[7]]))
}
